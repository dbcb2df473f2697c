import XCTest
@testable import HLSCore

final class WebVTTWriterTests: XCTestCase {
    func testTimestampFormatting() {
        XCTAssertEqual(WebVTTTimestamp.format(0), "00:00:00.000")
        XCTAssertEqual(WebVTTTimestamp.format(3_723_004), "01:02:03.004")
        XCTAssertEqual(WebVTTTimestamp.format(100 * 3_600_000 + 59_999), "100:00:59.999")
        XCTAssertEqual(WebVTTTimestamp.format(-5), "00:00:00.000")
    }

    func testEmptyFileIsJustTheSignature() {
        XCTAssertEqual(WebVTTWriter().render([]), "WEBVTT\n\n")
    }

    func testFullFileSortedStably() {
        let cues = [
            SubtitleCue(start: 5_000, end: 6_000, text: "late"),
            SubtitleCue(start: 1_000, end: 2_000, text: "first <i>of</i> two", settings: "line:0"),
            SubtitleCue(start: 1_000, end: 1_500, text: "second\nof two"),
        ]
        let expected = """
            WEBVTT

            00:00:01.000 --> 00:00:02.000 line:0
            first <i>of</i> two

            00:00:01.000 --> 00:00:01.500
            second
            of two

            00:00:05.000 --> 00:00:06.000
            late


            """
        XCTAssertEqual(WebVTTWriter().render(cues), expected)
    }

    func testHeaderLines() {
        let map = WebVTTTimestampMap(mpegts: 900_000)
        let text = WebVTTWriter(headerLines: [map.headerLine, "", "bad --> line"]).render([])
        XCTAssertEqual(text, "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n")
    }

    func testWriterKeepsFileValidWhateverTheCueHolds() {
        let cue = SubtitleCue(start: -10, end: 2_000, text: "a -->\n\n  \nb\0", settings: " line:0 \n --> align:start ")
        XCTAssertEqual(WebVTTWriter().render([cue]),
                       "WEBVTT\n\n00:00:00.000 --> 00:00:02.000 line:0 align:start\na --&gt;\nb\u{FFFD}\n\n")
    }
}
