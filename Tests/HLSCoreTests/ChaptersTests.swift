import Foundation
import XCTest
@testable import HLSCore

final class ChaptersTests: XCTestCase {
    // MARK: helpers

    private func parse(_ text: String, name: String = "chapters.vtt") throws -> [Chapter] {
        try ChapterFile.parse(Array(text.utf8), name: name)
    }

    /// The ChapterError `body` throws; fails unless it throws one whose message is one line,
    /// starts with "`name`: " and has every one of `parts`.
    @discardableResult
    private func error(_ name: String, _ parts: [String], file: StaticString = #filePath, line: UInt = #line,
                       _ body: () throws -> Void) -> String {
        do {
            try body()
            XCTFail("no error; expected one with \(parts)", file: file, line: line)
            return ""
        } catch let error as ChapterError {
            let message = error.message
            XCTAssertEqual(error.description, message, file: file, line: line)
            XCTAssertTrue(message.hasPrefix(name + ": "), message, file: file, line: line)
            XCTAssertFalse(message.unicodeScalars.contains { $0.properties.generalCategory == .control }, message,
                           file: file, line: line)
            for part in parts {
                XCTAssertTrue(message.contains(part), "\"\(part)\" not in: \(message)", file: file, line: line)
            }
            return message
        } catch {
            XCTFail("not a ChapterError: \(error)", file: file, line: line)
            return ""
        }
    }

    private func json(_ text: String) throws -> [Chapter] {
        try parse(text, name: "chapters.json")
    }

    /// The JSON error for `text`, checked like `error(_:_:_:)`.
    @discardableResult
    private func jsonError(_ text: String, _ parts: [String], file: StaticString = #filePath,
                           line: UInt = #line) -> String {
        error("chapters.json", parts, file: file, line: line) { _ = try json(text) }
    }

    private func list(_ chapters: [Chapter], duration: Double = 600) throws -> ChapterList {
        try ChapterList(chapters, durationSeconds: duration, name: "chapters.json")
    }

    // MARK: WebVTT input

    func testReadsWebVTTChapters() throws {
        let text = """

              WEBVTT - chapters of the lecture
            Kind: chapters

            NOTE made by hand
            00:00:09.000 --> 00:00:10.000 would be a cue outside a NOTE

            STYLE
            ::cue { color: red }

            REGION
            id:fred width:40%

            intro
            00:00:00.000 --> 00:01:00.000 align:start
            <v Host>Welcome</v> &amp;
              <b>introductions</b>

            01:00.000-->00:05:00.500
            Q&amp;A: &lt;b&gt; isn't a tag here&nbsp;&lrm;&rlm;, &copy; stays

            3
            00:05:00.500 --> 00:10:00.000
            Wrap-up
            """
        XCTAssertEqual(try parse(text), [
            Chapter(start: 0, end: 60, title: "Welcome & introductions"),
            Chapter(start: 60, end: 300.5, title: "Q&A: <b> isn't a tag here\u{A0}\u{200E}\u{200F}, &copy; stays"),
            Chapter(start: 300.5, end: 600, title: "Wrap-up"),
        ])
    }

    func testWebVTTWithBOMCRLFAndCRLineEnds() throws {
        let expected = [Chapter(start: 1.5, end: 2, title: "One two"), Chapter(start: 2, end: 3, title: "Three")]
        let crlf = "WEBVTT\r\n\r\n1\r\n00:01.500 --> 00:02.000\r\nOne\r\ntwo\r\n\r\n00:02.000 --> 00:03.000\r\nThree\r\n"
        XCTAssertEqual(try ChapterFile.parse([0xEF, 0xBB, 0xBF] + Array(crlf.utf8), name: "c.vtt"), expected)
        let cr = crlf.replacingOccurrences(of: "\r\n", with: "\r")
        XCTAssertEqual(try parse(cr), expected)
        XCTAssertEqual(try parse("WEBVTT\n\n00:01.500 --> 00:02.000\nOne\ntwo\n00:02.000 --> 00:03.000\nThree"), expected,
                       "a timing line ends the cue before it")
        XCTAssertEqual(try parse("WEBVTT\t\n \t \n00:01.500 --> 00:02.000\nOne two\n\t\n00:02.000 --> 00:03.000\nThree\n"),
                       expected, "white space only lines separate blocks")
        XCTAssertEqual(try parse("WEBVTT\n00:01.500 --> 00:02.000\nOne two\n\n00:02.000 --> 00:03.000\nThree"), expected,
                       "a timing line ends the header")
    }

    func testWebVTTErrorsNameTheCue() {
        let name = "chapters.vtt"
        let reversed = error(name, []) {
            _ = try parse("WEBVTT\n\n00:00.000 --> 00:01.000\nA\n\n2\n00:05.000 --> 00:05.000\nB\n")
        }
        XCTAssertEqual(reversed, "chapters.vtt: line 7 (cue 2): the cue ends at 00:00:05.000, not after its start (00:00:05.000)")
        let badTiming = error(name, []) { _ = try parse("WEBVTT\n\n00:00:01,000 --> 00:00:02.000\nA\n") }
        XCTAssertEqual(badTiming, #"chapters.vtt: line 3 (cue 1): cannot read the cue timing "00:00:01,000 --> 00:00:02.000"; expected "HH:MM:SS.mmm --> HH:MM:SS.mmm""#)
        let notACue = error(name, []) {
            _ = try parse("WEBVTT\n\n00:00.000 --> 00:01.000\nA\n\nstray title\n\n00:01.000 --> 00:02.000\nB\n")
        }
        XCTAssertEqual(notACue, #"chapters.vtt: line 6 (cue 2): expected a cue timing line such as "00:01:00.000 --> 00:02:00.000", found "stray title""#)
        error(name, ["cue 1 (line 3) has an empty title"]) { _ = try parse("WEBVTT\n\n00:00.000 --> 00:01.000\n") }
        error(name, ["cue 2 (line 6) has an empty title"]) {
            _ = try parse("WEBVTT\n\n00:00.000 --> 00:01.000\nA\n\n00:01.000 --> 00:02.000\n<b> </b>\u{1}\n")
        }
        error(name, ["line 3 (cue 1): cannot read the cue timing"]) { _ = try parse("WEBVTT\n\n00:00.000 --> \nA\n") }
        error(name, ["no chapters"]) { _ = try parse("WEBVTT\n\nNOTE nothing here\n") }
        error(name, ["no chapters"]) { _ = try parse("WEBVTT") }
    }

    func testTooManyChapters() throws {
        func vtt(_ count: Int) -> String {
            "WEBVTT\n" + (0..<count).map { "\n\(WebVTTTimestamp.format($0 * 1000)) --> \(WebVTTTimestamp.format($0 * 1000 + 500))\nC\($0)\n" }.joined()
        }
        func jsonList(_ count: Int) -> String {
            "[" + (0..<count).map { "{\"start\": \($0), \"title\": \"C\($0)\"}" }.joined(separator: ",") + "]"
        }
        XCTAssertEqual(try parse(vtt(1000)).count, 1000)
        XCTAssertEqual(try json(jsonList(1000)).count, 1000)
        error("chapters.vtt", ["more than 1000 chapters"]) { _ = try parse(vtt(1001)) }
        jsonError(jsonList(1001), ["more than 1000 chapters"])
        let many = (0..<1001).map { Chapter(start: Double($0), title: "C\($0)") }
        error("chapters.json", ["more than 1000 chapters"]) { _ = try list(many, duration: 2000) }
        XCTAssertEqual(try list(Array(many.prefix(1000)), duration: 2000).chapters.count, 1000)
    }

    // MARK: detection, encoding, size

    func testFormatDetection() throws {
        XCTAssertEqual(try parse(" \n\t WEBVTT\n\n00:00.000 --> 00:01.000\nA\n").count, 1)
        XCTAssertEqual(try parse("WEBVTT\t—\n\n00:00.000 --> 00:01.000\nA\n").count, 1)
        XCTAssertEqual(try ChapterFile.parse([0xEF, 0xBB, 0xBF] + Array("\r\n [{\"start\": 0, \"title\": \"A\"}]".utf8),
                                             name: "c.json"), [Chapter(start: 0, title: "A")])
        for text in ["WEBVTTX\n\n00:00.000 --> 00:01.000\nA", "webvtt\n", "1\n00:00:01,000 --> 00:00:02,000\nA\n",
                     "\"start\": 0", "\u{FEFF}\u{FEFF}WEBVTT\n"] {
            let message = error("in.txt", []) { _ = try ChapterFile.parse(Array(text.utf8), name: "in.txt") }
            XCTAssertEqual(message, "in.txt: not a WebVTT chapters file or a JSON list of chapters", text)
        }
        error("in.txt", ["not a WebVTT chapters file or a JSON list of chapters (the file is empty)"]) {
            _ = try ChapterFile.parse([0xEF, 0xBB, 0xBF], name: "in.txt")
        }
        error("in.txt", ["not a WebVTT chapters file or a JSON list of chapters (the file holds only white space)"]) {
            _ = try ChapterFile.parse(Array("\u{FEFF} \r\n\t".utf8), name: "in.txt")
        }
        error("in.json", ["not a WebVTT chapters file or a JSON list of chapters", "JSON object", "list"]) {
            _ = try ChapterFile.parse(Array(#"{"chapters": []}"#.utf8), name: "in.json")
        }
    }

    func testRejectsInvalidUTF8() {
        let cases: [([UInt8], Int)] = [
            (Array("WEBVTT\n\n".utf8) + [0xFF], 8),
            ([0xC0, 0x80], 0),                          // overlong NUL
            (Array("[{\"title\": \"".utf8) + [0xED, 0xA0, 0x80], 12),  // a surrogate
            (Array("WEBVTT\n\n00:00.000 --> 00:01.000\nCaf".utf8) + [0xC3], 35),  // cut short
        ]
        for (bytes, offset) in cases {
            let message = error("bad.vtt", []) { _ = try ChapterFile.parse(bytes, name: "bad.vtt") }
            XCTAssertEqual(message, "bad.vtt: not UTF-8 text (invalid byte sequence at byte offset \(offset))")
        }
    }

    func testSizeLimit() throws {
        let head = "WEBVTT\n\n00:00.000 --> 00:01.000\nA\n\nNOTE "
        var bytes = Array(head.utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: ChapterFile.maximumBytes - head.utf8.count)
        XCTAssertEqual(bytes.count, 1 << 20)
        XCTAssertEqual(try ChapterFile.parse(bytes, name: "big.vtt").count, 1)
        bytes.append(UInt8(ascii: "x"))
        error("big.vtt", ["1048577 bytes", "1 MiB"]) { _ = try ChapterFile.parse(bytes, name: "big.vtt") }
    }

    // MARK: JSON input

    func testReadsJSONChapters() throws {
        let text = """
            [
              {"start": 0, "title": "  Welcome\\n\\tand\\r\\n  hello  ", "notes": {"ignored": [1, 2]}},
              {"start": "01:30", "end": "02:00.250", "title": "Part one"},
              {"start": "1:02:03", "end": "01:02:04.500", "title": "Part two"},
              {"start": "2:03:04.005", "end": null, "title": "Part three"},
              {"start": 8000.25, "end": 8100, "title": "Part four"},
              {"chapter": 6, "start-time": 9000.5, "duration": 10.5,
               "titles": [{"language": "en", "title": "Apple style"}, {"language": "fr", "title": "À la Apple"}]},
              {"start-time": 9100, "titles": [{"title": "Only a title"}], "images": []}
            ]
            """
        XCTAssertEqual(try json(text), [
            Chapter(start: 0, end: nil, title: "Welcome and hello"),
            Chapter(start: 90, end: 120.25, title: "Part one"),
            Chapter(start: 3723, end: 3724.5, title: "Part two"),
            Chapter(start: 7384.005, end: nil, title: "Part three"),
            Chapter(start: 8000.25, end: 8100, title: "Part four"),
            Chapter(start: 9000.5, end: 9011, title: "Apple style"),
            Chapter(start: 9100, end: nil, title: "Only a title"),
        ])
    }

    func testJSONErrorsNameTheChapterAndField() {
        let cases: [(String, String)] = [
            (#"[{"start": -1.5, "title": "A"}]"#, #"chapter 1: "start" is negative (-1.5)"#),
            (#"[{"start": 0, "title": "A"}, {"start": 5, "end": -2, "title": "B"}]"#, #"chapter 2: "end" is negative (-2)"#),
            (#"[{"start": true, "title": "A"}]"#, #"chapter 1: "start" is true, not a time in seconds"#),
            (#"[{"start": null, "title": "A"}]"#, #"chapter 1: "start" is null, not a time"#),
            (#"[{"start": [1], "title": "A"}]"#, #"chapter 1: "start" is a list, not a time"#),
            (#"[{"start": {}, "title": "A"}]"#, #"chapter 1: "start" is an object, not a time"#),
            (#"[{"start": "1:2:3", "title": "A"}]"#, #"chapter 1: "start" is "1:2:3", not a time in seconds (such as 95.5) or "HH:MM:SS.mmm", "MM:SS.mmm", "HH:MM:SS" or "MM:SS""#),
            (#"[{"start": "00:61", "title": "A"}]"#, #"chapter 1: "start" is "00:61", not a time"#),
            (#"[{"start": "12.5", "title": "A"}]"#, #"chapter 1: "start" is "12.5", not a time"#),
            (#"[{"start": "00:01.5", "title": "A"}]"#, #"chapter 1: "start" is "00:01.5", not a time"#),
            (#"[{"start": 0, "title": "A"}, {"start-time": -0.5, "title": "B"}]"#, #"chapter 2: "start-time" is negative"#),
            (#"[{"start": 0, "end": false, "title": "A"}]"#, #"chapter 1: "end" is false, not a time"#),
            (#"[{"start": 0, "duration": 0, "title": "A"}]"#, #"chapter 1: "duration" is 0; it must be more than 0"#),
            (#"[{"start": 0, "duration": "x", "title": "A"}]"#, #"chapter 1: "duration" is "x", not a time"#),
            (#"[{"start": 5, "end": 5, "title": "A"}]"#, "chapter 1 ends at 00:00:05.000, not after its start (00:00:05.000)"),
            (#"[{"start": 5, "end": "00:04", "title": "A"}]"#, "chapter 1 ends at 00:00:04.000, not after its start"),
            (#"[{"title": "A"}]"#, #"chapter 1 has no "start""#),
            (#"[{"start": 0, "start-time": 0, "title": "A"}]"#, #"chapter 1 has both "start" and "start-time""#),
            (#"[{"start": 0, "end": 1, "duration": 1, "title": "A"}]"#, #"chapter 1 has both "end" and "duration""#),
            (#"[{"start": 0, "title": "A", "titles": [{"title": "B"}]}]"#, #"chapter 1 has both "title" and "titles""#),
            (#"[{"start": 0, "title": "A"}, {"start": 1}]"#, #"chapter 2 has no "title""#),
            (#"[{"start": 0, "title": 7}]"#, #"chapter 1: "title" is 7, not a string"#),
            (#"[{"start": 0, "titles": []}]"#, #"chapter 1: "titles" must be a list of objects"#),
            (#"[{"start": 0, "titles": [{"language": "en"}]}]"#, #"chapter 1: "titles" must be a list of objects"#),
            (#"[{"start": 0, "titles": "A"}]"#, #"chapter 1: "titles" must be a list of objects"#),
            (#"[{"start": 0, "title": " \t\n "}]"#, "chapter 1 has an empty title"),
            (#"[{"start": 0, "title": "A"}, 5]"#, #"chapter 2 is 5, not an object such as {"start": 0, "title": "…"}"#),
            (#"[{"start": 0, "title": "A"}, "B"]"#, #"chapter 2 is "B", not an object"#),
            (#"[]"#, "no chapters"),
            (#"[{"start": 0, "title": "A"}"#, "not valid JSON"),
            (#"[{"start": 0, "title": "A"}] trailing"#, "not valid JSON"),
        ]
        for (text, expected) in cases {
            jsonError(text, [expected])
        }
        // JSONSerialization refuses 1e999 on Linux; should one read it as infinity, the reader does.
        let huge = jsonError(#"[{"start": 0, "title": "A"}, {"start": 1e999, "title": "B"}]"#, [])
        XCTAssertTrue(huge.contains("not valid JSON") || huge.contains(#"chapter 2: "start" is not a finite number"#), huge)
        XCTAssertEqual(jsonError(#"[{"start": 0, "title": "A"}, {"start": -3, "title": "B"}]"#, []),
                       #"chapters.json: chapter 2: "start" is negative (-3)"#)
    }

    func testEchoedTextIsShortAndOnOneLine() {
        let long = String(repeating: "é", count: 300)
        let message = jsonError("[{\"start\": \"\(long)\", \"title\": \"A\"}]", ["chapter 1", "\"start\""])
        XCTAssertTrue(message.contains("\"" + String(repeating: "é", count: 60) + "…\""), message)
        XCTAssertFalse(message.contains(String(repeating: "é", count: 61)), message)

        let controls = jsonError(#"[{"start": "0\u0007:\n00\u2028", "title": "A"}]"#, [])
        XCTAssertTrue(controls.contains("\"0\u{FFFD}:\u{FFFD}00\u{FFFD}\""), controls)

        let vtt = error("a\u{FFFD}b.vtt", []) { _ = try ChapterFile.parse(Array("nope".utf8), name: "a\nb.vtt") }
        XCTAssertTrue(vtt.hasPrefix("a\u{FFFD}b.vtt: "), vtt)

        let longTitle = String(repeating: "t", count: 201)
        let titleMessage = jsonError("[{\"start\": 0, \"title\": \"\(longTitle)\"}]",
                                     ["chapter 1 has a title of 201 characters, more than 200"])
        XCTAssertTrue(titleMessage.hasSuffix("\"" + String(repeating: "t", count: 60) + "…\""), titleMessage)
    }

    // MARK: titles

    func testTitleNormalization() throws {
        let chapters = try json(#"""
            [{"start": 0, "title": "\u0000 Intro\u0001duction \t\u00a0 to\u2028\u2029 the \u0085 course\u001f "},
             {"start": 1, "title": "e\u0301 \u00a0"}]
            """#)
        XCTAssertEqual(chapters.map(\.title), ["Introduction \u{A0} to the course", "e\u{301}"])
        jsonError(#"[{"start": 0, "title": "\u00a0 \u202f"}]"#, ["chapter 1 has an empty title"])
        let exactly200 = String(repeating: "👍🏽", count: 200)
        XCTAssertEqual(try json("[{\"start\": 0, \"title\": \"\(exactly200)\"}]").first?.title, exactly200)
        jsonError("[{\"start\": 0, \"title\": \"\(exactly200)x\"}]", ["chapter 1 has a title of 201 characters"])
        error("chapters.json", ["chapter 2 has an empty title"]) {
            _ = try list([Chapter(start: 0, title: "A"), Chapter(start: 1, title: "\u{7} \n")])
        }
        XCTAssertEqual(try list([Chapter(start: 0, title: " A\n\tB ")]).chapters.map(\.title), ["A B"])
    }

    // MARK: ChapterList

    func testResolvesEndsAndKeepsGaps() throws {
        let resolved = try list([
            Chapter(start: 0, title: "A"),
            Chapter(start: 60, end: 100, title: "B"),      // a gap from 100 to 120
            Chapter(start: 120, end: 300, title: "C"),     // ends where D starts
            Chapter(start: 300.0004, title: "D"),          // rounded to the millisecond
        ], duration: 599.9996)
        XCTAssertEqual(resolved.chapters, [
            Chapter(start: 0, end: 60, title: "A"),
            Chapter(start: 60, end: 100, title: "B"),
            Chapter(start: 120, end: 300, title: "C"),
            Chapter(start: 300, end: 600, title: "D"),
        ])
    }

    func testEndsJustPastTheMediaAreClamped() throws {
        for end in [600.001, 600.25, 600.5] {
            let chapters = try list([Chapter(start: 0, title: "A"), Chapter(start: 500, end: end, title: "B")]).chapters
            XCTAssertEqual(chapters.last?.end, 600, "\(end)")
        }
        XCTAssertEqual(try list([Chapter(start: 0, end: 599.5, title: "A")]).chapters.last?.end, 599.5)
        let message = error("chapters.json", []) {
            _ = try list([Chapter(start: 0, title: "A"), Chapter(start: 500, end: 600.501, title: "B")])
        }
        XCTAssertEqual(message, #"chapters.json: chapter 2 ("B") ends at 00:10:00.501, more than 0.5 s after the end of the media (00:10:00.000)"#)
    }

    func testChapterListErrors() {
        func check(_ chapters: [Chapter], duration: Double = 600, _ expected: String,
                   file: StaticString = #filePath, line: UInt = #line) {
            let message = error("chapters.json", [], file: file, line: line) { _ = try list(chapters, duration: duration) }
            XCTAssertEqual(message, "chapters.json: " + expected, file: file, line: line)
        }
        let a = Chapter(start: 0, title: "Intro")
        check([], "no chapters")
        check([a], duration: 0, "the media duration (0.0 s) is not more than 0")
        check([a], duration: -5, "the media duration (-5.0 s) is not more than 0")
        check([a], duration: .nan, "the media duration (nan s) is not more than 0")
        check([a], duration: .infinity, "the media duration (inf s) is more than 1000000000 s")
        check([a], duration: 2e9, "the media duration (2000000000.0 s) is more than 1000000000 s")
        check([a], duration: 0.0004, "the media duration (0.0004 s) is shorter than 1 ms")
        check([Chapter(start: -1, title: "Intro")], #"chapter 1 ("Intro") starts at -00:00:01.000, before the start of the media"#)
        check([Chapter(start: .nan, title: "Intro")], #"chapter 1 ("Intro") starts at nan s, not a finite time"#)
        check([a, Chapter(start: 60, title: "Talk"), Chapter(start: 720, title: "Questions")],
              #"chapter 3 ("Questions") starts at 00:12:00.000, at or after the end of the media (00:10:00.000)"#)
        check([a, Chapter(start: 600, title: "Credits")],
              #"chapter 2 ("Credits") starts at 00:10:00.000, at or after the end of the media (00:10:00.000)"#)
        check([a, Chapter(start: 1e300, title: "Far")],
              #"chapter 2 ("Far") starts at 1e+300 s, at or after the end of the media (00:10:00.000)"#)
        check([a, Chapter(start: 120, title: "B"), Chapter(start: 60, title: "C")],
              #"chapter 3 ("C") starts at 00:01:00.000, not after chapter 2 ("B") (00:02:00.000)"#)
        check([a, Chapter(start: 0.0004, title: "B")],
              #"chapter 2 ("B") starts at 00:00:00.000, not after chapter 1 ("Intro") (00:00:00.000)"#)
        check([Chapter(start: 10, end: 10, title: "A")], #"chapter 1 ("A") ends at 00:00:10.000, not after its start (00:00:10.000)"#)
        check([Chapter(start: 10, end: 5, title: "A")], #"chapter 1 ("A") ends at 00:00:05.000, not after its start (00:00:10.000)"#)
        check([Chapter(start: 10, end: -1e300, title: "A")], #"chapter 1 ("A") ends at -1e+300 s, not after its start (00:00:10.000)"#)
        check([a, Chapter(start: 60, end: 130, title: "Talk"), Chapter(start: 120, title: "Questions")],
              #"chapter 2 ("Talk") ends at 00:02:10.000, after chapter 3 ("Questions") starts (00:02:00.000)"#)
        check([a, Chapter(start: 60, end: 1e300, title: "Talk"), Chapter(start: 120, title: "Questions")],
              #"chapter 2 ("Talk") ends at 1e+300 s, after chapter 3 ("Questions") starts (00:02:00.000)"#)
        check([Chapter(start: 0, end: 1e300, title: "A")],
              #"chapter 1 ("A") ends at 1e+300 s, more than 0.5 s after the end of the media (00:10:00.000)"#)
        check([Chapter(start: 0, end: .infinity, title: "A")], #"chapter 1 ("A") ends at inf s, not a finite time"#)
        check([a, Chapter(start: 1, title: "")], "chapter 2 has an empty title")
        check([Chapter(start: 0, title: String(repeating: "x", count: 201))],
              "chapter 1 has a title of 201 characters, more than 200: \"" + String(repeating: "x", count: 60) + "…\"")
    }

    // MARK: outputs

    private var sample: ChapterList {
        get throws {
            try list([
                Chapter(start: 0, title: "Welcome"),
                Chapter(start: 62.5, end: 100.004, title: "Q&A <live> --> \"quotes\" \\ back"),
                Chapter(start: 3725.123, title: "Café ☕ 日本語"),
            ], duration: 4000.5)
        }
    }

    func testWebVTTOutput() throws {
        let text = try sample.webVTT()
        XCTAssertEqual(text, """
            WEBVTT

            1
            00:00:00.000 --> 00:01:02.500
            Welcome

            2
            00:01:02.500 --> 00:01:40.004
            Q&amp;A &lt;live&gt; --&gt; "quotes" \\ back

            3
            01:02:05.123 --> 01:06:40.500
            Café ☕ 日本語

            """)
        // Read back: the same chapters.
        XCTAssertEqual(try parse(text), try sample.chapters)
        XCTAssertEqual(try ChapterList(try parse(text), durationSeconds: 4000.5, name: "x"), try sample)
    }

    func testAppleJSONOutput() throws {
        let text = try sample.appleJSON(language: "eng")
        XCTAssertEqual(text, #"""
            [
              {"chapter": 1, "start-time": 0, "duration": 62.5, "titles": [{"language": "en", "title": "Welcome"}]},
              {"chapter": 2, "start-time": 62.5, "duration": 37.504, "titles": [{"language": "en", "title": "Q&A <live> --> \"quotes\" \\ back"}]},
              {"chapter": 3, "start-time": 3725.123, "duration": 275.377, "titles": [{"language": "en", "title": "Café ☕ 日本語"}]}
            ]

            """#)
        XCTAssertEqual(try sample.appleJSON(language: "eng"), text, "deterministic")

        let document = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let entries = try XCTUnwrap(document as? [[String: Any]])
        let chapters = try sample.chapters
        XCTAssertEqual(entries.count, chapters.count)
        for (index, (entry, chapter)) in zip(entries, chapters).enumerated() {
            XCTAssertEqual(Set(entry.keys), ["chapter", "start-time", "duration", "titles"])
            XCTAssertEqual(entry["chapter"] as? Int, index + 1)
            let start = try XCTUnwrap((entry["start-time"] as? NSNumber)?.doubleValue)
            let duration = try XCTUnwrap((entry["duration"] as? NSNumber)?.doubleValue)
            XCTAssertEqual(start, chapter.start, accuracy: 1e-9)
            XCTAssertEqual(start + duration, try XCTUnwrap(chapter.end), accuracy: 1e-9)
            let titles = try XCTUnwrap(entry["titles"] as? [[String: String]])
            XCTAssertEqual(titles, [["language": "en", "title": chapter.title]])
        }
    }

    func testAppleJSONLanguageAndEscaping() throws {
        let one = try list([Chapter(start: 0.001, title: "x")], duration: 10)
        XCTAssertEqual(one.appleJSON(language: ""), """
            [
              {"chapter": 1, "start-time": 0.001, "duration": 9.999, "titles": [{"language": "und", "title": "x"}]}
            ]

            """)
        XCTAssertTrue(one.appleJSON(language: "pt_br").contains(#""language": "pt-BR""#))
        XCTAssertTrue(one.appleJSON(language: "x\"y\n").contains(#""language": "und""#))
        XCTAssertEqual(ChapterText.jsonString("a\"b\\c\u{0}\u{1F}\n\u{7F}\u{2028}é/"), #""a\"b\\c\u0000\u001f\u000a\u007f\u2028é/""#)
        XCTAssertEqual(ChapterText.seconds(milliseconds: 0), "0")
        XCTAssertEqual(ChapterText.seconds(milliseconds: 1), "0.001")
        XCTAssertEqual(ChapterText.seconds(milliseconds: 10), "0.01")
        XCTAssertEqual(ChapterText.seconds(milliseconds: 60_500), "60.5")
        XCTAssertEqual(ChapterText.seconds(milliseconds: 3_600_000), "3600")
        XCTAssertEqual(ChapterText.seconds(milliseconds: 1_000_000_000_000), "1000000000")
    }

    func testAppleJSONRoundTrip() throws {
        let original = try sample
        let text = original.appleJSON(language: "de")
        let parsed = try ChapterFile.parse(Array(text.utf8), name: "chapters.json")
        XCTAssertEqual(parsed.map(\.start), original.chapters.map(\.start))
        XCTAssertEqual(parsed.map(\.title), original.chapters.map(\.title))
        XCTAssertEqual(try ChapterList(parsed, durationSeconds: 4000.5, name: "chapters.json"), original)
    }
}
