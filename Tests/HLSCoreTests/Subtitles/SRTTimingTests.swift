import XCTest
@testable import HLSCore

final class SRTTimingTests: XCTestCase {
    private func times(_ line: String) -> [Int]? {
        SRTTiming.parse(Substring(line)).map { [$0.start, $0.end] }
    }

    func testStandardLine() {
        XCTAssertEqual(times("00:01:02,345 --> 01:00:00,001"), [62_345, 3_600_001])
    }

    func testDotBeforeMilliseconds() {
        XCTAssertEqual(times("00:00:01.500 --> 00:00:02.250"), [1_500, 2_250])
    }

    func testColonBeforeMilliseconds() {
        XCTAssertEqual(times("00:00:01:500 --> 00:00:02:250"), [1_500, 2_250])
    }

    func testHoursAbove99() {
        XCTAssertEqual(times("123:00:00,000 --> 1000:00:00,007"), [442_800_000, 3_600_000_007])
    }

    func testShortFieldsAndFractions() {
        XCTAssertEqual(times("0:0:1,5 --> 0:0:2,25"), [1_500, 2_250])
        XCTAssertEqual(times("00:00:01,1234 --> 00:00:02"), [1_123, 2_000])
        XCTAssertEqual(times("01:02,003 --> 01:03,000"), [62_003, 63_000])
    }

    func testSpacingArrowsAndCoordinates() {
        XCTAssertEqual(times("  00:00:01,000-->00:00:02,000  "), [1_000, 2_000])
        XCTAssertEqual(times("00:00:01,000 -> 00:00:02,000"), [1_000, 2_000])
        XCTAssertEqual(times("00:00:01,000 \u{2014}> 00:00:02,000"), [1_000, 2_000])
        XCTAssertEqual(times("00:00:01,000 --> 00:00:02,000 X1:40 X2:600 Y1:20 Y2:50"), [1_000, 2_000])
    }

    func testRejectsWhatIsNotATimingLine() {
        XCTAssertNil(times("Hello --> world"))
        XCTAssertNil(times("00:00:0x,000 --> 00:00:02,000"))
        XCTAssertNil(times("00:00:01,000 00:00:02,000"))
        XCTAssertNil(times("00:00:01,000 --> 00:00:02,000abc"))
        XCTAssertNil(times("-00:00:01,000 --> 00:00:02,000"))
        XCTAssertNil(times("1234567890:00:00,000 --> 00:00:02,000"))  // too many hour digits
        XCTAssertNil(times("00:000:01,000 --> 00:00:02,000"))
        XCTAssertNil(times("123:45,000 --> 00:00:02,000"))  // MM:SS with 3 minute digits
        XCTAssertNil(times(""))
    }

    func testBrokenTimingHeuristic() {
        XCTAssertTrue(SRTTiming.looksLikeBrokenTiming("00:00:0x,000 --> 00:00:02,000", atCueStart: false, afterNumber: false))
        XCTAssertTrue(SRTTiming.looksLikeBrokenTiming("1 --> 2", atCueStart: true, afterNumber: false))
        XCTAssertFalse(SRTTiming.looksLikeBrokenTiming("1 --> 2", atCueStart: false, afterNumber: false))
        XCTAssertTrue(SRTTiming.looksLikeBrokenTiming("00:00:01,000 - 00:00:02,000", atCueStart: false, afterNumber: true))
        XCTAssertFalse(SRTTiming.looksLikeBrokenTiming("10:30 is the time", atCueStart: true, afterNumber: false))
        XCTAssertFalse(SRTTiming.looksLikeBrokenTiming("He said --> go", atCueStart: true, afterNumber: true))
    }

    func testCueNumbers() {
        XCTAssertTrue(SRTTiming.isCueNumber("12"))
        XCTAssertTrue(SRTTiming.isCueNumber(" 7 "))
        XCTAssertFalse(SRTTiming.isCueNumber("1 2"))
        XCTAssertFalse(SRTTiming.isCueNumber("12a"))
        XCTAssertFalse(SRTTiming.isCueNumber("٣"))  // Arabic-Indic digit is not a cue number
        XCTAssertFalse(SRTTiming.isCueNumber(""))
    }
}
