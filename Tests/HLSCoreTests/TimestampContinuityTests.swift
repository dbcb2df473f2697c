import HLSCore
import XCTest

final class TimestampContinuityTests: XCTestCase {
    func testSteadyTimestampsAreLeftAlone() {
        var continuity = TimestampContinuity(threshold: 90_000)
        for decode in stride(from: Int64(0), to: 900_000, by: 3_600) {
            let (offset, jump) = continuity.adjust(decode: decode, duration: 3_600)
            XCTAssertEqual(offset, 0)
            XCTAssertNil(jump)
        }
    }

    func testAResetMakesTheNextPacketFollowTheLastOne() {
        var continuity = TimestampContinuity(threshold: 90_000)
        var last: Int64 = 0
        for decode in stride(from: Int64(0), through: 900_000, by: 3_600) { last = decode; _ = continuity.adjust(decode: decode, duration: 3_600) }
        // The second recording starts again at 0.2 s.
        let (offset, jump) = continuity.adjust(decode: 18_000, duration: 3_600)
        XCTAssertEqual(18_000 + offset, last + 3_600, "the first packet after the jump follows the last one")
        XCTAssertEqual(jump, 18_000 - (last + 3_600))
        // And the stream goes on from there with the same offset.
        let next = continuity.adjust(decode: 21_600, duration: 3_600)
        XCTAssertEqual(next.offset, offset)
        XCTAssertNil(next.jump)
        // A second reset adds up.
        _ = continuity.adjust(decode: 500_000, duration: 3_600)
        let again = continuity.adjust(decode: 0, duration: 3_600)
        XCTAssertEqual(0 + again.offset, 500_000 + offset + 3_600)
    }

    func testSmallStepsBackAndUnknownTimestampsAreNotJumps() {
        var continuity = TimestampContinuity(threshold: 90_000)
        _ = continuity.adjust(decode: 900_000, duration: 3_600)
        XCTAssertNil(continuity.adjust(decode: 880_000, duration: 3_600).jump, "within the threshold")
        XCTAssertEqual(continuity.adjust(decode: nil, duration: 0).offset, 0)
        XCTAssertNotNil(continuity.adjust(decode: 700_000, duration: 3_600).jump)
    }
}
