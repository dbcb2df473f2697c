import Foundation
import XCTest
@testable import HLSKit

final class BoundedQueueTests: XCTestCase {
    func testAProducerAndAConsumerPassEveryItemInOrderThroughASmallQueue() {
        let queue = BoundedQueue<Int>(capacity: 2)
        let received = NSLockLite()
        nonisolated(unsafe) var items: [Int] = []
        let consumer = WorkerThread(name: "test-take") {
            while let item = queue.take() { received.withLock { items.append(item) } }
        }
        consumer.start()
        for item in 0..<20_000 { XCTAssertTrue(queue.put(item)) }
        queue.close()
        consumer.join()
        XCTAssertEqual(received.withLock { items }, Array(0..<20_000))
        XCTAssertFalse(queue.put(1), "a closed queue takes nothing more")
    }

    func testAbortWakesABlockedProducer() {
        let queue = BoundedQueue<Int>(capacity: 1)
        XCTAssertTrue(queue.put(1))
        let done = DispatchSemaphore(value: 0)
        let producer = WorkerThread(name: "test-put") {
            _ = queue.put(2)  // blocks: the queue is full
            done.signal()
        }
        producer.start()
        queue.abort()
        done.wait()
        producer.join()
        XCTAssertNil(queue.take(), "abort drops what was queued")
    }
}
