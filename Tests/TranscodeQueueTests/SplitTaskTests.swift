import Foundation
import HLSKit
import XCTest
@testable import TranscodeQueue

/// The messages of a job split by time, and how their deliveries are settled, without a broker.
final class SplitTaskTests: XCTestCase {
    private let topology = Topology(jobsQueue: "t.jobs")
    private let body = Array(#"{"jobId":"j1","input":"a.mp4","output":"a"}"#.utf8)

    func testAChunkMessageNamesItsChunkAndReadsBackAsIt() {
        let message = SplitTask.chunk(.video(3)).message(jobId: "j1", body: body, topology: topology, checkDelay: 60)
        XCTAssertEqual(message.routingKey, "t.jobs")
        XCTAssertEqual(message.body, body)
        XCTAssertEqual(message.properties.type, "hlsify.chunk")
        XCTAssertEqual(message.properties.messageId, "j1:chunk:3")
        XCTAssertEqual(message.properties.deliveryMode, 2)
        XCTAssertNil(message.properties.expiration)
        XCTAssertEqual(SplitTask(message.properties), .chunk(.video(3)))
        let audio = SplitTask.chunk(.audio).message(jobId: "j1", body: body, topology: topology, checkDelay: 60)
        XCTAssertEqual(SplitTask(audio.properties), .chunk(.audio))
    }

    func testTheCheckWaitsInTheCheckQueueForItsTTL() {
        let message = SplitTask.check.message(jobId: "j1", body: body, topology: topology, checkDelay: 2.5)
        XCTAssertEqual(message.routingKey, "t.jobs.check")
        XCTAssertEqual(message.properties.expiration, "2500")
        XCTAssertEqual(message.properties.messageId, "j1:check")
        XCTAssertEqual(SplitTask(message.properties), .check)
        XCTAssertTrue(SplitTask.check.isStitch)
        let stitch = SplitTask.stitch.message(jobId: "j1", body: body, topology: topology, checkDelay: 0)
        XCTAssertEqual(stitch.routingKey, "t.jobs")
        XCTAssertEqual(stitch.properties.messageId, "j1:stitch")
        XCTAssertEqual(SplitTask(stitch.properties), .stitch)
    }

    func testAnyOtherMessageIsAJob() {
        XCTAssertEqual(SplitTask(AMQPProperties()), .job)
        XCTAssertEqual(SplitTask(AMQPProperties(type: "hlsify.job")), .job)
        // A chunk message that does not say which chunk is handled as its job (which plans again).
        XCTAssertEqual(SplitTask(AMQPProperties(headers: ["x-hlsify-chunk": .string("x")], type: "hlsify.chunk")), .job)
        XCTAssertFalse(SplitTask.job.isStitch)
    }

    func testTheCheckQueueDeadLettersIntoTheJobsQueue() throws {
        let check = try XCTUnwrap(topology.queues.first { $0.name == "t.jobs.check" })
        XCTAssertEqual(check.arguments["x-dead-letter-exchange"], .string(""))
        XCTAssertEqual(check.arguments["x-dead-letter-routing-key"], .string("t.jobs"))
        XCTAssertEqual(Topology(jobsQueue: "a", checkQueue: "b").checkQueue, "b")
    }

    func testSplitJobOutcomesAreSettled() {
        let policy = DeliveryPolicy(maxAttempts: 3, retryDelay: 5)
        XCTAssertEqual(policy.disposition(for: .planned(chunks: 6), attempt: 1), .ack)
        XCTAssertEqual(policy.disposition(for: .chunkCommitted, attempt: 1), .ack)
        XCTAssertEqual(policy.disposition(for: .chunkSkipped("duplicate"), attempt: 2), .ack)
        XCTAssertEqual(policy.disposition(for: .chunkDropped("the job failed"), attempt: 1),
                       .deadLetter(reason: .jobFailed, message: "the job failed"))
        XCTAssertFalse(DeadLetterReason.jobFailed.isRejection)
    }

    func testChunkErrorsAreClassified() {
        XCTAssertEqual(FailurePolicy.classify(ChunkError.mismatch("x")), .final(.badMedia))
        XCTAssertEqual(FailurePolicy.classify(ChunkError.jobFailed("x")), .final(.jobFailed))
        XCTAssertEqual(FailurePolicy.classify(ChunkError.notReady("x")), .transient)
    }
}
