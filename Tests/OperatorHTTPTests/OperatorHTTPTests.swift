import CoreMetrics
import Hummingbird
import HummingbirdCore
import NIOCore
import XCTest
@testable import OperatorHTTP

private struct Probe: HealthProbe {
    var alive: String?
    var ready: String?
    func livenessProblem() -> String? { alive }
    func readinessProblem() -> String? { ready }
}

/// The exposition `PrometheusMetrics` makes from swift-metrics handles, and the answers of the
/// operator endpoints, without a socket.
final class OperatorHTTPTests: XCTestCase {
    private func text(_ metrics: PrometheusMetrics) -> String { String(decoding: metrics.exposition(), as: UTF8.self) }

    func testCountersGaugesAndHistogramsCarryTheirHelpAndBuckets() {
        let metrics = PrometheusMetrics(catalogue: [
            .init(name: "jobs_total", help: "Jobs by state."),
            .init(name: "job_seconds", help: "Job time.", buckets: [1, 10]),
            .init(name: "speed", help: "Speed.", buckets: [0.5, 2]),
            .init(name: "in_flight", help: "Jobs now."),
        ])
        metrics.makeCounter(label: "jobs_total", dimensions: [("state", "completed")]).increment(by: 2)
        metrics.makeCounter(label: "jobs_total", dimensions: [("state", "failed")]).increment(by: 0)
        metrics.makeTimer(label: "job_seconds", dimensions: []).recordNanoseconds(1_500_000_000)
        metrics.makeRecorder(label: "speed", dimensions: [], aggregate: true).record(3.0)
        metrics.makeRecorder(label: "in_flight", dimensions: [], aggregate: false).record(Int64(4))
        metrics.makeCounter(label: "stray_total", dimensions: []).increment(by: 1)
        let exposition = text(metrics)
        for line in ["# HELP jobs_total Jobs by state.", "# TYPE jobs_total counter", #"jobs_total{state="completed"} 2"#,
                     #"jobs_total{state="failed"} 0"#, "# TYPE job_seconds histogram", #"job_seconds_bucket{le="1.0"} 0"#,
                     #"job_seconds_bucket{le="10.0"} 1"#, "job_seconds_sum 1.5", "job_seconds_count 1",
                     #"speed_bucket{le="2.0"} 0"#, #"speed_bucket{le="+Inf"} 1"#, "# TYPE in_flight gauge", "in_flight 4.0",
                     "# HELP stray_total stray_total (undocumented)"] {
            XCTAssertTrue(exposition.contains(line + "\n"), "no '\(line)' in\n\(exposition)")
        }
    }

    private func request(_ method: HTTPRequest.Method, _ path: String) -> Request {
        Request(head: HTTPRequest(method: method, scheme: "http", authority: "127.0.0.1", path: path), body: .init(buffer: ByteBuffer()))
    }

    private func answer(_ method: HTTPRequest.Method, _ path: String, probe: Probe = Probe()) -> (Response, Int?) {
        let metrics = PrometheusMetrics(catalogue: [])
        metrics.makeCounter(label: "up_total", dimensions: []).increment(by: 1)
        let response = OperatorServer.respond(to: request(method, path), metrics: metrics, health: probe)
        return (response, response.headers[.contentLength].flatMap { Int($0) })
    }

    func testEndpointsAnswerWithTheRightStatus() {
        XCTAssertEqual(answer(.get, "/metrics").0.status, .ok)
        XCTAssertEqual(answer(.get, "/metrics").0.headers[.contentType], "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertEqual(answer(.get, "/healthz").0.status, .ok)
        XCTAssertEqual(answer(.get, "/readyz").0.status, .ok)
        XCTAssertEqual(answer(.get, "/readyz", probe: Probe(ready: "draining")).0.status, .serviceUnavailable)
        XCTAssertEqual(answer(.get, "/healthz", probe: Probe(alive: "stalled")).0.status, .serviceUnavailable)
        XCTAssertEqual(answer(.get, "/healthz", probe: Probe(ready: "draining")).0.status, .ok, "liveness ignores readiness")
        XCTAssertEqual(answer(.get, "/").0.status, .notFound)
        XCTAssertEqual(answer(.get, "/metrics/x").0.status, .notFound)
        XCTAssertEqual(answer(.get, "/metrics?x=1").0.status, .ok, "a query does not change the path")
        let post = answer(.post, "/metrics").0
        XCTAssertEqual(post.status, .methodNotAllowed)
        XCTAssertEqual(post.headers[.allow], "GET, HEAD")
        XCTAssertEqual(answer(.delete, "/readyz").0.status, .methodNotAllowed)
    }

    func testHeadHasTheLengthOfGetAndNoBody() {
        let (get, getLength) = answer(.get, "/metrics")
        let (head, headLength) = answer(.head, "/metrics")
        XCTAssertEqual(get.status, head.status)
        XCTAssertEqual(getLength, headLength)
        XCTAssertGreaterThan(getLength ?? 0, 0)
        XCTAssertEqual(head.body.contentLength, 0)
    }
}
