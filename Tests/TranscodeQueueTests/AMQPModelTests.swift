import Foundation
import HLSKit
import XCTest
@testable import TranscodeJobs
@testable import TranscodeQueue

/// The pure parts of the AMQP layer: URLs, backoff, delivery attempts, topology.
final class AMQPModelTests: XCTestCase {
    func testURLWithEverything() throws {
        let endpoint = try AMQPEndpoint(url: "amqp://user:p%40ss@broker.example:5673/prod")
        XCTAssertEqual(endpoint, AMQPEndpoint(host: "broker.example", port: 5673, vhost: "prod", user: "user", password: "p@ss"))
    }

    func testURLDefaults() throws {
        XCTAssertEqual(try AMQPEndpoint(url: "amqp://localhost"), AMQPEndpoint(host: "localhost"))
        XCTAssertEqual(try AMQPEndpoint(url: "amqp://guest:guest@127.0.0.1:5672/"), AMQPEndpoint())
        XCTAssertEqual(try AMQPEndpoint(url: "amqp://h/%2F").vhost, "/")
        XCTAssertEqual(try AMQPEndpoint(url: "amqp://h/my%2Fvhost").vhost, "my/vhost")
        XCTAssertEqual(try AMQPEndpoint(url: "amqp://[::1]:5999/").host, "::1")
    }

    func testBadURLs() {
        for url in ["", "localhost:5672", "http://h/", "amqps://h/", "amqp:///vhost", "amqp://h:70000/", "amqp://h/a/b", "amqp://h/?heartbeat=5"] {
            XCTAssertThrowsError(try AMQPEndpoint(url: url), url) { error in
                guard case .invalidURL = error as? AMQPError else { return XCTFail("\(url): \(error)") }
            }
        }
    }

    func testTheNodesOfACluster() throws {
        let nodes = try AMQPEndpoint.cluster("amqp://a:5701/, amqp://b:5702/,amqp://c/")
        XCTAssertEqual(nodes.map(\.host), ["a", "b", "c"])
        XCTAssertEqual(nodes.map(\.port), [5701, 5702, 5672])
        XCTAssertEqual(try AMQPEndpoint.cluster("amqp://h/"), [AMQPEndpoint(host: "h")])
        XCTAssertThrowsError(try AMQPEndpoint.cluster(""))
        XCTAssertThrowsError(try AMQPEndpoint.cluster("amqp://a/,http://b/"))
    }

    func testDescriptionHidesThePassword() throws {
        let endpoint = try AMQPEndpoint(url: "amqp://user:secret@h:5672/v")
        XCTAssertFalse("\(endpoint)".contains("secret"))
        XCTAssertEqual("\(endpoint)", "amqp://user:***@h:5672/v")
        XCTAssertFalse("\(AMQPError.invalidURL("x"))".contains("secret"))
    }

    func testBackoffGrowsToItsCapAndResets() {
        var backoff = Backoff(initial: 0.5, maximum: 4, multiplier: 2, jitter: 0)
        XCTAssertEqual((0..<6).map { _ in backoff.next(random: 0.5) }, [0.5, 1, 2, 4, 4, 4])
        backoff.reset()
        XCTAssertEqual(backoff.next(random: 0.5), 0.5)
    }

    func testBackoffJitterStaysWithinBounds() {
        var backoff = Backoff(initial: 1, maximum: 30, multiplier: 2, jitter: 0.2)
        XCTAssertEqual(backoff.next(random: 0), 0.8, accuracy: 1e-9)
        XCTAssertEqual(backoff.next(random: 1), 2.4, accuracy: 1e-9)
        var capped = Backoff(initial: 30, maximum: 30, jitter: 0.5)
        for _ in 0..<20 { XCTAssertLessThanOrEqual(capped.next(), 30) }
    }

    private func delivery(headers: AMQPTable?, redelivered: Bool) -> AMQPDelivery {
        AMQPDelivery(channelGeneration: 1, deliveryTag: 1, redelivered: redelivered, exchange: "", routingKey: "q", consumerTag: "c",
                     properties: AMQPProperties(headers: headers), body: [])
    }

    func testAttemptComesFromTheDeliveryCount() {
        XCTAssertEqual(delivery(headers: nil, redelivered: false).attempt, 1)
        XCTAssertEqual(delivery(headers: ["x-delivery-count": .int(1)], redelivered: true).attempt, 2)
        XCTAssertEqual(delivery(headers: ["x-delivery-count": .int(4)], redelivered: false).attempt, 5)
        XCTAssertEqual(delivery(headers: ["x-delivery-count": .uint(2)], redelivered: true).attempt, 3)
        // A classic queue has no count: a redelivery is at least the second attempt.
        XCTAssertEqual(delivery(headers: ["other": .string("x")], redelivered: true).attempt, 2)
        XCTAssertEqual(delivery(headers: ["x-delivery-count": .string("junk")], redelivered: false).attempt, 1)
    }

    func testTopologyDeclaresAQuorumQueueWithItsDeadLetterExchange() throws {
        let topology = Topology()
        let jobs = try XCTUnwrap(topology.queues.first { $0.name == "hlsify.jobs" })
        XCTAssertEqual(jobs.arguments["x-queue-type"], .string("quorum"))
        XCTAssertEqual(jobs.arguments["x-dead-letter-exchange"], .string("hlsify.dead"))
        XCTAssertEqual(topology.exchanges.first { $0.name == "hlsify.events" }?.type, "topic")
        XCTAssertEqual(topology.bindings, [Topology.Binding(queue: "hlsify.jobs.dead", exchange: "hlsify.dead", routingKey: "hlsify.jobs")])
        XCTAssertNoThrow(try topology.validate())
        XCTAssertThrowsError(try Topology(jobsQueue: "amq.jobs").validate())
        XCTAssertThrowsError(try Topology(eventsExchange: "").validate())
    }

    func testConsumerTimeoutIsRecognised() {
        let timeout = AMQPError.channelClosed(operation: "channel 1", code: 406,
                                              text: "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: 3000 ms.")
        XCTAssertTrue(timeout.isConsumerTimeout)
        XCTAssertTrue(timeout.isChannelOnly)
        XCTAssertTrue(timeout.isBrokerException)
        XCTAssertFalse(AMQPError.channelClosed(operation: "declare", code: 406, text: "PRECONDITION_FAILED - inequivalent arg").isConsumerTimeout)
        XCTAssertFalse(AMQPError.library(operation: "x", status: -9, message: "socket closed").isBrokerException)
        XCTAssertEqual(AMQPError.connectionClosed(operation: "x", code: 320, text: "CONNECTION_FORCED").replyCode, 320)
    }

    func testEngineErrorsAreClassified() {
        XCTAssertEqual(FailurePolicy.classify(TranscodeError.invalidInput("x")), .final(.badMedia))
        XCTAssertEqual(FailurePolicy.classify(TranscodeError.inputMissing("x")), .final(.inputMissing))
        XCTAssertEqual(FailurePolicy.classify(TranscodeError.io("disk full")), .transient)
        XCTAssertEqual(FailurePolicy.classify(TranscodeError.cannotCreateOutput("x")), .transient)
        XCTAssertEqual(FailurePolicy.classify(TranscodeError.cancelled), .interrupted)
        XCTAssertEqual(FailurePolicy.classify(CancellationError()), .interrupted)
        XCTAssertEqual(FailurePolicy.classify(CocoaError(.fileWriteOutOfSpace)), .transient)
    }

    func testTablesKeepOrderAndReplaceKeys() {
        var table: AMQPTable = ["a": .int(1), "b": .string("x")]
        table["a"] = .bool(true)
        table["c"] = .array([.int(1), .table(["n": .void])])
        XCTAssertEqual(table.keys, ["a", "b", "c"])
        XCTAssertEqual(table["a"], .bool(true))
        table["b"] = nil
        XCTAssertEqual(table.keys, ["a", "c"])
        XCTAssertEqual(AMQPValue.double(3).integerValue, 3)
        XCTAssertNil(AMQPValue.double(3.5).integerValue)
    }
}

/// Output folders, markers and locks.
final class OutputLayoutTests: XCTestCase {
    private var root: URL!
    private var layout: OutputLayout!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("layout-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        layout = OutputLayout(root: try ConfinedRoot(root.path))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    private func completion() -> JobEvent.Completion {
        JobEvent.Completion(output: "a", master: "a/master.m3u8", segmentFormat: "fmp4", segmentDuration: 4, renditions: [],
                            audio: nil, subtitles: [], durationSeconds: 1, elapsedSeconds: 1, bytes: 1, segments: 1, speed: 1)
    }

    func testInspectTellsTheFourStatesApart() throws {
        let output = root.appendingPathComponent("a")
        XCTAssertEqual(layout.inspect(outputPath: output.path, jobId: "a"), .absent)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        XCTAssertEqual(layout.inspect(outputPath: output.path, jobId: "a"), .incomplete, "an empty folder is a leftover")
        FileManager.default.createFile(atPath: output.appendingPathComponent("master.m3u8").path, contents: Data("#EXTM3U\n".utf8))
        XCTAssertEqual(layout.inspect(outputPath: output.path, jobId: "a"), .incomplete, "no marker yet")
        let marker = CompletionMarker(jobId: "a", workerId: "w", attempt: 1, eventPublished: true, completion: completion())
        try marker.write(in: output)
        XCTAssertEqual(layout.inspect(outputPath: output.path, jobId: "a"), .complete(marker))
        XCTAssertEqual(layout.inspect(outputPath: output.path, jobId: "b"), .otherJob("a"))
        try FileManager.default.removeItem(at: output.appendingPathComponent("master.m3u8"))
        XCTAssertEqual(layout.inspect(outputPath: output.path, jobId: "a"), .incomplete, "a marker without a master playlist")
        let file = root.appendingPathComponent("f")
        FileManager.default.createFile(atPath: file.path, contents: Data())
        XCTAssertEqual(layout.inspect(outputPath: file.path, jobId: "f"), .incomplete)
    }

    func testWorkNamesAreDistinctAndShort() {
        let names = ["a/b", "a_b", "a.b", "courses/c1/lecture-42", String(repeating: "x/", count: 200) + "y"].map(OutputLayout.workName)
        XCTAssertEqual(Set(names).count, names.count)
        for name in names {
            XCTAssertLessThanOrEqual(name.utf8.count, 100)
            XCTAssertFalse(name.contains("/"))
        }
        XCTAssertTrue(layout.workFolder(for: "a").path.hasPrefix(layout.workRoot.path + "/"))
        XCTAssertEqual(layout.lockFile(for: "a").lastPathComponent, OutputLayout.workName(for: "a") + ".lock")
    }

    func testLockIsExclusiveEvenWithinOneProcess() async throws {
        let file = layout.lockFile(for: "a")
        let first = try XCTUnwrap(try JobLock.tryAcquire(file))
        XCTAssertNil(try JobLock.tryAcquire(file), "a second open of the same lock file must not get it")
        let waiter = Task { try await JobLock.acquire(file, pollInterval: 0.05) }
        try await Task.sleep(nanoseconds: 200_000_000)
        first.release()
        let second = try await waiter.value
        XCTAssertNil(try JobLock.tryAcquire(file))
        second.release()
        XCTAssertNotNil(try JobLock.tryAcquire(file))
    }

    func testWaitingForALockCanBeCancelled() async throws {
        let file = layout.lockFile(for: "b")
        let held = try XCTUnwrap(try JobLock.tryAcquire(file))
        defer { held.release() }
        let waiter = Task { try await JobLock.acquire(file, pollInterval: 0.05) }
        try await Task.sleep(nanoseconds: 100_000_000)
        waiter.cancel()
        do {
            _ = try await waiter.value
            XCTFail("acquired a held lock")
        } catch {
            XCTAssertTrue(error is CancellationError)
        }
    }
}
