import XCTest
@testable import HLSCore

final class WebVTTParserTests: XCTestCase {
    private let parser = WebVTTParser()

    func testTimestampParsingIsStrict() {
        XCTAssertEqual(WebVTTTimestamp.parse("01:02.003"), 62_003)
        XCTAssertEqual(WebVTTTimestamp.parse("100:00:00.001"), 360_000_001)
        for bad in ["1:02.003", "01:2.003", "01:02,003", "01:02.03", "01:60.000", "0:01:02.003", "", "aa:bb.ccc", "01:02:03:04.000"] {
            XCTAssertNil(WebVTTTimestamp.parse(Substring(bad)), bad)
        }
    }

    func testParsesHeaderCuesIdentifiersNotesAndSettings() throws {
        let text = """
            WEBVTT - lecture
            X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000

            NOTE a comment
            spanning lines

            STYLE
            ::cue { color: red }

            intro
            00:00:01.000 --> 00:00:02.000 line:0   align:start
            Hello
            <i>world</i>

            00:00:03.000-->00:00:04.000
            Bye
            """
        let result = try parser.parse(text: text)
        XCTAssertEqual(result.headerLines, ["X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000"])
        XCTAssertEqual(result.cues, [
            SubtitleCue(start: 1_000, end: 2_000, text: "Hello\n<i>world</i>", settings: "line:0 align:start"),
            SubtitleCue(start: 3_000, end: 4_000, text: "Bye"),
        ])
        XCTAssertEqual(result.warnings, [])
    }

    func testCRLFAndBOMBytes() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("WEBVTT\r\n\r\n00:00.500 --> 00:01.000\r\nHi\r\n".utf8)
        XCTAssertEqual(try parser.parse(bytes).cues, [SubtitleCue(start: 500, end: 1_000, text: "Hi")])
    }

    func testArrowLineEndsCueTextAndBadTimingIsSkipped() throws {
        let text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA\n00:00:03.000 --> 00:00:04.000\nB\n\n00:00:05,000 --> 00:00:06.000\nC\n"
        let result = try parser.parse(text: text)
        XCTAssertEqual(result.cues.map(\.text), ["A", "B"])
        XCTAssertEqual(result.warnings.map(\.line), [8])
    }

    func testMissingSignatureThrows() {
        for text in ["", "WEBVTTX\n", "1\n00:00:01,000 --> 00:00:02,000\nA", "webvtt\n"] {
            XCTAssertThrowsError(try parser.parse(text: text)) { error in
                XCTAssertEqual(error as? SubtitleError, .notWebVTT)
            }
        }
    }

    func testReadsWhatTheWriterWrites() throws {
        let cues = [
            SubtitleCue(start: 0, end: 1, text: "x &amp; y --&gt; z", settings: "line:0"),
            SubtitleCue(start: 360_000_000, end: 360_000_500, text: ""),
            SubtitleCue(start: 10, end: 20, text: "a\nb"),
        ]
        let map = WebVTTTimestampMap(mpegts: 126_000)
        let result = try parser.parse(text: WebVTTWriter(headerLines: [map.headerLine]).render(cues))
        XCTAssertEqual(result.cues, [cues[0], cues[2], cues[1]])
        XCTAssertEqual(result.headerLines, [map.headerLine])
    }

    func testTimestampMapParsing() {
        XCTAssertEqual(WebVTTTimestampMap("MPEGTS:900000,LOCAL:00:00:00.000"), WebVTTTimestampMap(mpegts: 900_000))
        XCTAssertEqual(WebVTTTimestampMap("X-TIMESTAMP-MAP=LOCAL:00:00:01.000,MPEGTS:0"), WebVTTTimestampMap(mpegts: 0, local: 1_000))
        XCTAssertNil(WebVTTTimestampMap("MPEGTS:-1,LOCAL:00:00:00.000"))
        XCTAssertNil(WebVTTTimestampMap("MPEGTS:1"))
        XCTAssertNil(WebVTTTimestampMap("MPEGTS:1,LOCAL:00:00:00.000,EXTRA:1"))
        XCTAssertEqual(WebVTTTimestampMap(mpegts: 10, local: 61_000).description, "MPEGTS:10,LOCAL:00:01:01.000")
    }
}
