import Foundation
import XCTest
@testable import TranscodeJobs
@testable import TranscodeQueue

final class DeadLetterCopyTests: XCTestCase {
    private func delivery(headers: AMQPTable?) -> AMQPDelivery {
        AMQPDelivery(channelGeneration: 3, deliveryTag: 9, redelivered: false, exchange: "", routingKey: "jobs", consumerTag: "c",
                     properties: AMQPProperties(contentType: "application/json", headers: headers, deliveryMode: 1,
                                                expiration: "60000", messageId: "m-1"),
                     body: Array("not json".utf8))
    }

    private let copy = DeadLetterCopy(reason: .notJSON, message: String(repeating: "e", count: 5000), jobId: nil, workerId: "w-1",
                                      attempt: 2, originalQueue: "jobs", at: Date(timeIntervalSince1970: 0))

    func testAFullCopyKeepsTheOriginalHeadersAndAddsTheReason() {
        let message = copy.message(for: delivery(headers: ["x-test": .string("t"), "x-hlsify-reason": .string("forged")]),
                                   exchange: "dead", compact: false)
        let headers = message.properties.headers ?? AMQPTable()
        XCTAssertEqual(headers["x-test"], .string("t"))
        XCTAssertEqual(headers["x-hlsify-reason"], .string("not-json"), "the worker's reason wins over a header of the same name")
        XCTAssertEqual(headers["x-hlsify-error"]?.stringValue?.count, DeadLetterCopy.errorLength)
        XCTAssertEqual(headers["x-hlsify-attempt"], .int(2))
        XCTAssertNil(headers["x-hlsify-job-id"])
        XCTAssertNil(headers["x-hlsify-headers-dropped"])
        XCTAssertEqual(message.exchange, "dead")
        XCTAssertEqual(message.routingKey, "jobs")
        XCTAssertEqual(message.body, Array("not json".utf8))
        XCTAssertEqual(message.properties.deliveryMode, 2, "dead letters are persistent")
        XCTAssertNil(message.properties.expiration, "a dead letter does not expire")
        XCTAssertEqual(message.properties.messageId, "m-1")
    }

    func testACompactCopyDropsTheOriginalHeadersAndSaysHowMany() {
        let padded: AMQPTable = ["x-pad": .string(String(repeating: "p", count: 130_000)), "x-test": .string("t")]
        let message = copy.message(for: delivery(headers: padded), exchange: "dead", compact: true)
        let headers = message.properties.headers ?? AMQPTable()
        XCTAssertNil(headers["x-pad"])
        XCTAssertNil(headers["x-test"])
        XCTAssertEqual(headers["x-hlsify-headers-dropped"], .int(2))
        XCTAssertEqual(headers["x-hlsify-error"]?.stringValue?.count, DeadLetterCopy.compactErrorLength)
        XCTAssertEqual(headers["x-hlsify-reason"], .string("not-json"))
        XCTAssertNil(AMQPConnection.contentHeaderProblem(message, frameMax: 4096), "a compact copy fits even a small frame")
        XCTAssertNotNil(AMQPConnection.contentHeaderProblem(copy.message(for: delivery(headers: padded), exchange: "dead", compact: false),
                                                            frameMax: 131_072))
        let none = copy.message(for: delivery(headers: nil), exchange: "dead", compact: true)
        XCTAssertNil(none.properties.headers?["x-hlsify-headers-dropped"])
    }
}
