import XCTest
@testable import TranscodeJobs

/// The AMQP client's confirm and outbox bookkeeping, without a broker.
final class PublicationStateMachineTests: XCTestCase {
    private typealias Machine = PublicationStateMachine<String>

    private func entry(_ name: String, _ policy: AMQPClient.PublishPolicy = .persistent, mandatory: Bool = false,
                       messageId: String? = nil) -> Machine.Entry {
        Machine.Entry(item: name, policy: policy, mandatory: mandatory, messageId: messageId)
    }

    /// Sends everything queued for `generation`; returns the names sent and the stale ones.
    @discardableResult
    private func flush(_ machine: inout Machine, generation: Int = 1) -> (sent: [String], stale: [String]) {
        var sent: [String] = [], stale: [String] = []
        while let next = machine.takeNext(generation: generation) {
            switch next {
            case .send(let entry): machine.sent(entry); sent.append(entry.item)
            case .stale(let item): stale.append(item)
            }
        }
        return (sent, stale)
    }

    private func outcomes(_ finished: [Machine.Finished]) -> [String: Result<Void, AMQPPublishError>] {
        Dictionary(uniqueKeysWithValues: finished.map { ($0.item, $0.result) })
    }

    private func assertSucceeded(_ result: Result<Void, AMQPPublishError>?, file: StaticString = #filePath, line: UInt = #line) {
        guard case .success = result else { return XCTFail("not a success: \(String(describing: result))", file: file, line: line) }
    }

    private func assertFailed(_ result: Result<Void, AMQPPublishError>?, _ error: AMQPPublishError, file: StaticString = #filePath,
                              line: UInt = #line) {
        guard case .failure(let got) = result else { return XCTFail("not a failure: \(String(describing: result))", file: file, line: line) }
        XCTAssertEqual(got, error, file: file, line: line)
    }

    func testWhileDisconnectedTransientIsDroppedBoundIsStaleOthersWait() {
        var machine = Machine()
        assertFailed(machine.submit(entry("progress", .transient), connected: false)?.result, .dropped)
        assertFailed(machine.submit(entry("copy", .boundTo(channelGeneration: 1)), connected: false)?.result, .stale)
        XCTAssertNil(machine.submit(entry("event", .persistent), connected: false))
        XCTAssertNil(machine.submit(entry("job", .once), connected: false))
        XCTAssertEqual(machine.outbox.map(\.item), ["event", "job"])
        XCTAssertFalse(machine.isDrained)
    }

    func testPublicationsAreNumberedFromOneAndConfirmedSingly() {
        var machine = Machine()
        for name in ["a", "b", "c"] { XCTAssertNil(machine.submit(entry(name), connected: true)) }
        XCTAssertEqual(flush(&machine).sent, ["a", "b", "c"])
        XCTAssertEqual(machine.unconfirmed.map(\.sequence), [1, 2, 3])
        let finished = outcomes(machine.confirm(tag: 2, multiple: false, ack: true))
        XCTAssertEqual(Array(finished.keys), ["b"])
        assertSucceeded(finished["b"])
        XCTAssertEqual(machine.unconfirmed.map(\.entry.item), ["a", "c"])
    }

    func testAMultipleConfirmSettlesEveryEarlierOneAndANackFails() {
        var machine = Machine()
        for name in ["a", "b", "c"] { _ = machine.submit(entry(name), connected: true) }
        flush(&machine)
        let nacked = outcomes(machine.confirm(tag: 2, multiple: true, ack: false))
        XCTAssertEqual(Set(nacked.keys), ["a", "b"])
        assertFailed(nacked["a"], .nacked)
        assertFailed(nacked["b"], .nacked)
        assertSucceeded(outcomes(machine.confirm(tag: 3, multiple: true, ack: true))["c"])
        XCTAssertTrue(machine.isDrained)
    }

    func testAReturnIsReportedAtTheConfirmMatchedByMessageIdElseTheOldestMandatory() {
        var machine = Machine()
        _ = machine.submit(entry("plain"), connected: true)
        _ = machine.submit(entry("first", mandatory: true, messageId: "m-1"), connected: true)
        _ = machine.submit(entry("second", mandatory: true, messageId: "m-2"), connected: true)
        flush(&machine)
        machine.returned(code: 312, text: "NO_ROUTE", messageId: "m-2")
        machine.returned(code: 313, text: "NO_CONSUMERS", messageId: nil)
        let finished = outcomes(machine.confirm(tag: 3, multiple: true, ack: true))
        assertSucceeded(finished["plain"])
        assertFailed(finished["first"], .returned(code: 313, text: "NO_CONSUMERS"))
        assertFailed(finished["second"], .returned(code: 312, text: "NO_ROUTE"))
    }

    func testALostChannelResendsPersistentFirstAndFailsTheRest() {
        var machine = Machine()
        _ = machine.submit(entry("event", mandatory: true, messageId: "e"), connected: true)
        _ = machine.submit(entry("progress", .transient), connected: true)
        _ = machine.submit(entry("job", .once), connected: true)
        _ = machine.submit(entry("copy", .boundTo(channelGeneration: 1)), connected: true)
        flush(&machine)
        machine.returned(code: 312, text: "NO_ROUTE", messageId: "e")
        _ = machine.submit(entry("queued"), connected: true)
        _ = machine.submit(entry("queued copy", .boundTo(channelGeneration: 1)), connected: true)

        let finished = outcomes(machine.abandonUnconfirmed(because: "gone"))
        XCTAssertEqual(Set(finished.keys), ["progress", "job", "copy", "queued copy"])
        assertFailed(finished["progress"], .dropped)
        assertFailed(finished["job"], .connectionLost("gone"))
        assertFailed(finished["copy"], .connectionLost("gone"))
        assertFailed(finished["queued copy"], .stale)
        XCTAssertEqual(machine.outbox.map(\.item), ["event", "queued"], "unconfirmed persistent ones go first")
        XCTAssertTrue(machine.unconfirmed.isEmpty)

        // The new channel numbers from 1 again, and the earlier return is forgotten.
        machine.channelOpened()
        XCTAssertEqual(flush(&machine, generation: 2).sent, ["event", "queued"])
        XCTAssertEqual(machine.unconfirmed.map(\.sequence), [1, 2])
        assertSucceeded(outcomes(machine.confirm(tag: 1, multiple: false, ack: true))["event"])
    }

    func testAPublicationBoundToAnOlderChannelIsStaleWhenItsTurnComes() {
        var machine = Machine()
        _ = machine.submit(entry("old copy", .boundTo(channelGeneration: 1)), connected: true)
        _ = machine.submit(entry("new copy", .boundTo(channelGeneration: 2)), connected: true)
        let result = flush(&machine, generation: 2)
        XCTAssertEqual(result.stale, ["old copy"])
        XCTAssertEqual(result.sent, ["new copy"])
    }

    func testAPublicationPutBackGoesFirst() {
        var machine = Machine()
        _ = machine.submit(entry("a"), connected: true)
        _ = machine.submit(entry("b"), connected: true)
        guard case .send(let first) = machine.takeNext(generation: 1) else { return XCTFail("nothing to send") }
        machine.putBack(first)
        XCTAssertEqual(machine.outbox.map(\.item), ["a", "b"])
        XCTAssertTrue(machine.unconfirmed.isEmpty)
    }

    func testClosingFailsUnconfirmedThenQueued() {
        var machine = Machine()
        _ = machine.submit(entry("sent"), connected: true)
        flush(&machine)
        _ = machine.submit(entry("queued"), connected: true)
        let finished = machine.failAll(.closed("bye"))
        XCTAssertEqual(finished.map(\.item), ["sent", "queued"])
        for (_, result) in finished { assertFailed(result, .closed("bye")) }
        XCTAssertTrue(machine.isDrained)
    }

    func testAFinalErrorFailsOnlyTheOutbox() {
        var machine = Machine()
        _ = machine.submit(entry("sent"), connected: true)
        flush(&machine)
        _ = machine.submit(entry("queued"), connected: true)
        XCTAssertEqual(machine.failOutbox(.closed("refused")).map(\.item), ["queued"])
        XCTAssertEqual(machine.unconfirmed.map(\.entry.item), ["sent"])
    }
}
