import TranscodeJobs
import XCTest
@testable import TranscodeQueue

/// The worker's metric names and the state a settled delivery counts as.
final class WorkerMetricsTests: XCTestCase {
    func testNamesFollowPrometheusConventions() {
        let names = WorkerMetrics.catalogue.map(\.name)
        XCTAssertEqual(Set(names).count, names.count)
        for metric in WorkerMetrics.catalogue {
            XCTAssertTrue(metric.name.hasPrefix("hlsify_worker_"), metric.name)
            XCTAssertTrue(metric.name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }, metric.name)
            XCTAssertEqual(metric.kind == .counter, metric.name.hasSuffix("_total"), metric.name)
            XCTAssertEqual(metric.kind == .histogram, !metric.buckets.isEmpty, metric.name)
            XCTAssertEqual(metric.buckets, metric.buckets.sorted(), metric.name)
            XCTAssertFalse(metric.help.isEmpty)
            XCTAssertFalse(metric.labels.contains("jobId"), "no unbounded label values")
        }
    }

    func testSettledDeliveriesCountAsTheirState() {
        let completion = JobEvent.Completion(output: "o", master: "o/master.m3u8", segmentFormat: "fmp4", segmentDuration: 4, renditions: [],
                                             audio: nil, subtitles: [], durationSeconds: 1, elapsedSeconds: 1, bytes: 1, segments: 1, speed: 1)
        let cases: [(DeliveryOutcome, DeliveryDisposition, String?)] = [
            (.completed(completion), .ack, "completed"),
            (.planned(chunks: 3), .ack, "planned"),
            (.chunkCommitted, .ack, "chunk"),
            (.alreadyComplete, .ack, "skipped"),
            (.failed(TestError()), .requeue(after: 5, cause: .retry(error: "x")), "retried"),
            (.failed(TestError()), .requeue(after: 0, cause: .interrupted), "returned"),
            (.stopped, .requeue(after: 0, cause: .stopped), "returned"),
            (.exhausted, .deadLetter(reason: .attemptsExhausted, message: "x"), "failed"),
            (.rejected(JobRejection(.invalidJob, "x")), .deadLetter(reason: .invalidJob, message: "x"), "rejected"),
            (.abandoned, .leaveForRedelivery, nil),
        ]
        for (outcome, disposition, state) in cases {
            XCTAssertEqual(WorkerMetrics.state(of: outcome, disposition), state, "\(outcome) \(disposition)")
            if let state { XCTAssertTrue(WorkerMetrics.states.contains(state), state) }
        }
    }

    private struct TestError: Error {}
}
