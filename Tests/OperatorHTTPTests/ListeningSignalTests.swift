import Glibc
import NIOCore
import XCTest
@testable import OperatorHTTP

final class ListeningSignalTests: XCTestCase {
    func testWaitersGoOnOnceTheServerListens() async throws {
        let signal = ListeningSignal()
        let waiter = Task { try await signal.wait() }
        signal.listened()
        try await waiter.value
        try await signal.wait()  // and later ones at once
        XCTAssertNil(signal.failure)
        signal.failed(IOError(errnoCode: EADDRINUSE, reason: "bind"))
        XCTAssertNil(signal.failure, "a server that listened does not fail to start afterwards")
    }

    func testAFailureToListenReachesEveryWaiterWithItsReason() async throws {
        let signal = ListeningSignal()
        let waiter = Task { try await signal.wait() }
        signal.failed(IOError(errnoCode: EADDRINUSE, reason: "bind"))
        do {
            try await waiter.value
            XCTFail("the waiter went on")
        } catch let error as IOError {
            XCTAssertEqual(error.errnoCode, EADDRINUSE)
        }
        XCTAssertEqual(signal.failure, "Address already in use")
        do {
            try await signal.wait()
            XCTFail("a later waiter went on")
        } catch {}
    }

    func testAWaiterCancelledStopsWaiting() async throws {
        let signal = ListeningSignal()
        let waiter = Task { try await signal.wait() }
        waiter.cancel()
        do {
            try await waiter.value
            XCTFail("the cancelled waiter went on")
        } catch is CancellationError {}
    }
}
