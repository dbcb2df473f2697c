import XCTest
@testable import HLSCore

final class SRTParserTests: XCTestCase {
    private let parser = SRTParser()

    private func parse(_ text: String) throws -> SRTParseResult {
        try parser.parse(Array(text.utf8))
    }

    private func cue(_ start: Int, _ end: Int, _ text: String, _ settings: String? = nil) -> SubtitleCue {
        SubtitleCue(start: start, end: end, text: text, settings: settings)
    }

    private let twoCues = [
        SubtitleCue(start: 1_000, end: 2_500, text: "Hello\nworld"),
        SubtitleCue(start: 3_000, end: 4_000, text: "Second"),
    ]

    func testPlainFile() throws {
        let result = try parse("1\n00:00:01,000 --> 00:00:02,500\nHello\nworld\n\n2\n00:00:03,000 --> 00:00:04,000\nSecond\n")
        XCTAssertEqual(result.cues, twoCues)
        XCTAssertEqual(result.warnings, [])
        XCTAssertEqual(result.encoding, .utf8)
    }

    func testLineEndings() throws {
        let lf = "1\n00:00:01,000 --> 00:00:02,500\nHello\nworld\n\n2\n00:00:03,000 --> 00:00:04,000\nSecond\n"
        for ending in ["\r\n", "\r"] {
            let result = try parse(lf.replacingOccurrences(of: "\n", with: ending))
            XCTAssertEqual(result.cues, twoCues, "line ending \(ending.debugDescription)")
        }
        // Doubled CR before LF, as bad conversions leave.
        XCTAssertEqual(try parse(lf.replacingOccurrences(of: "\n", with: "\r\r\n")).cues, twoCues)
    }

    func testUTF8BOMNoFinalNewlineTrailingSpaces() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("1  \n00:00:01,000 --> 00:00:02,500   \nHello  \nworld\t\n  \n2\n00:00:03,000 --> 00:00:04,000\nSecond".utf8)
        XCTAssertEqual(try parser.parse(bytes).cues, twoCues)
    }

    func testUTF16LittleEndianFile() throws {
        var bytes: [UInt8] = [0xFF, 0xFE]
        for unit in "1\r\n00:00:01,000 --> 00:00:02,000\r\nCafé\r\n".utf16 {
            bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)]
        }
        let result = try parser.parse(bytes)
        XCTAssertEqual(result.cues, [cue(1_000, 2_000, "Café")])
        XCTAssertEqual(result.encoding, .utf16LittleEndian)
    }

    func testUTF16BigEndianFile() throws {
        var bytes: [UInt8] = [0xFE, 0xFF]
        for unit in "1\n00:00:01,000 --> 00:00:02,000\n日本語\n".utf16 {
            bytes += [UInt8(unit >> 8), UInt8(unit & 0xFF)]
        }
        let result = try parser.parse(bytes)
        XCTAssertEqual(result.cues, [cue(1_000, 2_000, "日本語")])
        XCTAssertEqual(result.encoding, .utf16BigEndian)
    }

    func testUTF32LittleEndianFile() throws {
        var bytes: [UInt8] = [0xFF, 0xFE, 0x00, 0x00]
        for scalar in "1\n00:00:01,000 --> 00:00:02,000\nHi 😀\n".unicodeScalars {
            let v = scalar.value
            bytes += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
        }
        let result = try parser.parse(bytes)
        XCTAssertEqual(result.cues, [cue(1_000, 2_000, "Hi 😀")])
        XCTAssertEqual(result.encoding, .utf32LittleEndian)
    }

    func testWindows1252File() throws {
        // “Café” with curly quotes (0x93 0x94) and é (0xE9).
        let bytes: [UInt8] = Array("1\r\n00:00:01,000 --> 00:00:02,000\r\n".utf8) + [0x93, 0x43, 0x61, 0x66, 0xE9, 0x94, 0x0D, 0x0A]
        let result = try parser.parse(bytes)
        XCTAssertEqual(result.cues, [cue(1_000, 2_000, "\u{201C}Café\u{201D}")])
        XCTAssertEqual(result.encoding, .windows1252)
        XCTAssertEqual(result.warnings, [SubtitleWarning(line: nil, message: "the file is not valid UTF-8; read it as Windows-1252")])
    }

    func testMissingAndWrongCueNumbers() throws {
        let result = try parse("00:00:01,000 --> 00:00:02,500\nHello\nworld\n\n7\n00:00:03,000 --> 00:00:04,000\nSecond\n")
        XCTAssertEqual(result.cues, twoCues)
        XCTAssertEqual(result.warnings, [])
    }

    func testNoBlankLineBetweenCues() throws {
        let result = try parse("1\n00:00:01,000 --> 00:00:02,500\nHello\nworld\n2\n00:00:03,000 --> 00:00:04,000\nSecond")
        XCTAssertEqual(result.cues, twoCues)
    }

    func testExtraBlankLinesEverywhere() throws {
        let result = try parse("\n\n\n1\n00:00:01,000 --> 00:00:02,500\nHello\nworld\n\n\n\n\n2\n00:00:03,000 --> 00:00:04,000\nSecond\n\n\n\n")
        XCTAssertEqual(result.cues, twoCues)
        XCTAssertEqual(result.warnings, [])
    }

    func testBlankLineInsideTextDoesNotEndTheCue() throws {
        let result = try parse("1\n00:00:01,000 --> 00:00:02,500\nHello\n\nworld\n\n2\n00:00:03,000 --> 00:00:04,000\nSecond\n")
        XCTAssertEqual(result.cues, twoCues)
    }

    func testNumberAsLastTextLineIsKept() throws {
        let result = try parse("1\n00:00:01,000 --> 00:00:02,000\nThe answer:\n42\n\n2\n00:00:03,000 --> 00:00:04,000\nok\n")
        XCTAssertEqual(result.cues.first?.text, "The answer:\n42")
    }

    func testDotMillisecondsAndLongHours() throws {
        let result = try parse("1\n100:00:01.000 --> 100:00:02.5\nLong\n")
        XCTAssertEqual(result.cues, [cue(360_001_000, 360_002_500, "Long")])
    }

    func testEndBeforeStartSkippedWithLineNumber() throws {
        let result = try parse("1\n00:00:01,000 --> 00:00:02,500\nHello\nworld\n\n2\n00:00:09,000 --> 00:00:08,000\nBackwards\n\n3\n00:00:03,000 --> 00:00:04,000\nSecond\n")
        XCTAssertEqual(result.cues, twoCues)
        XCTAssertEqual(result.warnings.count, 1)
        XCTAssertEqual(result.warnings.first?.line, 7)
        XCTAssertTrue(result.warnings.first?.message.contains("before it starts") ?? false)
    }

    func testUnreadableTimesSkippedWithLineNumber() throws {
        let result = try parse("1\n00:00:01,000 --> 00:00:02,500\nHello\nworld\n\n2\n00:00:0x,000 --> 00:00:05,000\nBroken\ntext\n\n3\n00:00:03,000 --> 00:00:04,000\nSecond\n")
        XCTAssertEqual(result.cues, twoCues)
        XCTAssertEqual(result.warnings.map(\.line), [7])
        XCTAssertTrue(result.warnings[0].message.contains("00:00:0x,000"))
    }

    func testTimingWithoutArrowAfterNumberIsBroken() throws {
        let result = try parse("1\n00:00:01,000 - 00:00:02,000\nLost\n\n2\n00:00:03,000 --> 00:00:04,000\nSecond\n")
        XCTAssertEqual(result.cues, [cue(3_000, 4_000, "Second")])
        XCTAssertEqual(result.warnings.map(\.line), [2])
    }

    func testOverlappingCuesKept() throws {
        let result = try parse("1\n00:00:01,000 --> 00:00:05,000\nA\n\n2\n00:00:02,000 --> 00:00:03,000\nB\n")
        XCTAssertEqual(result.cues, [cue(1_000, 5_000, "A"), cue(2_000, 3_000, "B")])
        XCTAssertEqual(result.warnings, [])
    }

    func testArrowInTextNeverBreaksACue() throws {
        let result = try parse("1\n00:00:01,000 --> 00:00:02,000\nx --> y\n--> z\n1 --> 2\n\n2\n00:00:03,000 --> 00:00:04,000\nok\n")
        XCTAssertEqual(result.cues, [cue(1_000, 2_000, "x --&gt; y\n--&gt; z\n1 --&gt; 2"), cue(3_000, 4_000, "ok")])
    }

    func testPositionCodeBecomesSetting() throws {
        let result = try parse("1\n00:00:01,000 --> 00:00:02,000\n{\\an8}<i>Top & <b>bold</b></i>\n")
        XCTAssertEqual(result.cues, [cue(1_000, 2_000, "<i>Top &amp; <b>bold</b></i>", "line:0")])
    }

    func testTextBeforeFirstCueIsReported() throws {
        let result = try parse("Subtitles by someone\n\n1\n00:00:01,000 --> 00:00:02,000\nHi\n")
        XCTAssertEqual(result.cues, [cue(1_000, 2_000, "Hi")])
        XCTAssertEqual(result.warnings.map(\.line), [1])
    }

    func testCueWithoutTextIsKeptEmpty() throws {
        let result = try parse("1\n00:00:01,000 --> 00:00:02,000\n\n2\n00:00:03,000 --> 00:00:04,000\nB\n")
        XCTAssertEqual(result.cues, [cue(1_000, 2_000, ""), cue(3_000, 4_000, "B")])
    }

    func testZeroLengthCueIsKept() throws {
        XCTAssertEqual(try parse("00:00:01,000 --> 00:00:01,000\nBlink\n").cues, [cue(1_000, 1_000, "Blink")])
    }

    func testEmptyFileThrows() {
        for text in ["", "\n\n", " \r\n\t"] {
            XCTAssertThrowsError(try parse(text)) { error in
                XCTAssertEqual(error as? SubtitleError, .emptyInput)
            }
        }
        XCTAssertThrowsError(try parser.parse([0xEF, 0xBB, 0xBF])) { error in
            XCTAssertEqual(error as? SubtitleError, .emptyInput)
        }
    }

    func testNoReadableCueThrowsWithClearMessage() {
        XCTAssertThrowsError(try parse("1\n00:00:05,000 --> 00:00:01,000\nBackwards\n")) { error in
            guard case .noReadableCues(let warnings)? = error as? SubtitleError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(warnings.map(\.line), [2])
            let message = String(describing: error)
            XCTAssertTrue(message.contains("no readable subtitle cue"), message)
            XCTAssertTrue(message.contains("line 2"), message)
        }
        XCTAssertThrowsError(try parse("just some text\nnothing else")) { error in
            XCTAssertTrue(String(describing: error).contains("no readable subtitle cue"))
        }
    }

    func testParseTextIgnoresLeadingBOM() throws {
        XCTAssertEqual(try parser.parse(text: "\u{FEFF}1\n00:00:01,000 --> 00:00:02,000\nA").cues, [cue(1_000, 2_000, "A")])
    }
}

final class SRTClockTextTests: XCTestCase {
    func testAShortClockArrowLineInsideTextStaysText() throws {
        let srt = "1\n00:00:01,000 --> 00:00:04,000\nToday's plan:\n10:00 --> 11:00 lecture\nthen lunch\n\n2\n00:00:05,000 --> 00:00:06,000\nSee you\n"
        let result = try SRTParser().parse(text: srt)
        XCTAssertEqual(result.cues.count, 2)
        XCTAssertEqual(result.cues[0].text, "Today's plan:\n10:00 --&gt; 11:00 lecture\nthen lunch")
        XCTAssertEqual(result.warnings, [])
    }

    func testAFullTimingLineWithoutABlankLineStillStartsACue() throws {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nOne\n00:00:03,000 --> 00:00:04,000\nTwo\n"
        let result = try SRTParser().parse(text: srt)
        XCTAssertEqual(result.cues.map(\.start), [1000, 3000])
    }
}
