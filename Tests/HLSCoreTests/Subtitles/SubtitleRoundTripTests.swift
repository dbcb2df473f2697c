import XCTest
@testable import HLSCore

/// Property tests over seeded random input: the same seeds run every time.
final class SubtitleRoundTripTests: XCTestCase {
    // MARK: - WebVTT write → read

    func testWriteThenReadGivesTheSameCues() throws {
        var rng = SeededGenerator(seed: 0x5EED)
        for round in 0..<300 {
            let cues = (0..<Int.random(in: 0...20, using: &rng)).map { _ in randomCanonicalCue(&rng) }
            let text = WebVTTWriter(headerLines: ["X-TIMESTAMP-MAP=MPEGTS:\(round),LOCAL:00:00:00.000"]).render(cues)
            let parsed = try WebVTTParser().parse(text: text)
            let expected = cues.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
            XCTAssertEqual(parsed.cues, expected, "round \(round):\n\(text)")
            XCTAssertEqual(parsed.warnings, [], "round \(round)")
            if parsed.cues != expected { return }
        }
    }

    /// A cue as the writer writes it unchanged: non-blank lines without `-->`, settings as
    /// single-space separated tokens.
    private func randomCanonicalCue(_ rng: inout SeededGenerator) -> SubtitleCue {
        let pieces = ["a", "Z", " ", "é", "日本", "😀", "&amp;", "&lt;", "--&gt;", "<i>", "</i>", "<b>x</b>", "-", ">", "1", "\t", "NOTE", "WEBVTT"]
        let lineCount = Int.random(in: 0...3, using: &rng)
        let lines = (0..<lineCount).map { _ -> String in
            var line = ""
            while line.allSatisfy(\.isWhitespace) || line.contains("-->") {
                line = (0..<Int.random(in: 1...8, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            }
            return line
        }
        let start = Int.random(in: 0..<(1_000 * 3_600_000), using: &rng)
        let settings = [nil, "line:0", "line:0 align:start", "position:10% size:50%"].randomElement(using: &rng)!
        return SubtitleCue(start: start, end: start + Int.random(in: -5...20_000, using: &rng),
                           text: lines.joined(separator: "\n"), settings: settings)
    }

    // MARK: - Generated SRT → cues → WebVTT → cues

    private enum Token {
        case word(String)
        case markup(String, top: Bool?)
    }

    /// Words that stay text whatever stands next to them: no `<` before a letter (`a<b >` is a
    /// tag), no `}` but in `{laughs}` (`{\ … }` is an override block).
    private let words = ["Hello", "world", "&", "<3", "a<2", "c>d", "-->", "->", "é", "日本語", "😀", "x&amp;y", "{laughs}",
                         "<", ">", "42", "2.5", "“quoted”", "it's", "--", "<<", ">>", "-->x", "{\\", "x)"]
    private let markups: [(String, Bool?)] = [("<i>", nil), ("</i>", nil), ("<b>", nil), ("</b>", nil), ("<u>", nil),
                                               ("</U>", nil), ("<I>", nil), ("<font color=\"#ffff00\">", nil),
                                               ("</font>", nil), ("<span>", nil), ("{\\an8}", true), ("{\\an2}", false),
                                               ("{\\an7\\pos(1,2)}", true), ("{\\b1}", nil), ("<br>", nil)]

    func testGeneratedSRTReadsExactlyAndRoundTripsThroughWebVTT() throws {
        var rng = SeededGenerator(seed: 2024)
        for round in 0..<300 {
            var lines: [String] = []
            var expected: [(start: Int, end: Int, words: [String], top: Bool)] = []
            var expectedWarningLines: [Int] = []
            for number in 1...Int.random(in: 1...12, using: &rng) {
                // Separation: blank lines, a cue number, or both (first cue: maybe neither).
                let separation = Int.random(in: 0...3, using: &rng)
                if separation != 1 || number == 1 {
                    lines += Array(repeating: "", count: Int.random(in: number == 1 ? 0...2 : 1...3, using: &rng))
                }
                if separation != 0 { lines.append(String(Int.random(in: 0...99_999, using: &rng)) + (Bool.random(using: &rng) ? " " : "")) }
                let start = Int.random(in: 0..<(200 * 3_600_000), using: &rng)
                let backwards = Int.random(in: 0..<8, using: &rng) == 0
                let end = backwards ? start - Int.random(in: 1...5_000, using: &rng) : start + Int.random(in: 0...10_000, using: &rng)
                lines.append(srtTime(start, &rng) + [" --> ", "-->", " -> ", "  -->  "].randomElement(using: &rng)! + srtTime(end, &rng)
                             + (Bool.random(using: &rng) ? "" : "  "))
                if backwards { expectedWarningLines.append(lines.count) }
                var cueWords: [String] = []
                var top = false
                for _ in 0..<Int.random(in: 0...3, using: &rng) {
                    let tokens = (0..<Int.random(in: 1...6, using: &rng)).map { _ -> Token in
                        if Int.random(in: 0..<3, using: &rng) == 0 {
                            let (text, position) = markups.randomElement(using: &rng)!
                            return .markup(text, top: position)
                        }
                        return .word(words.randomElement(using: &rng)!)
                    }
                    var line = ""
                    for token in tokens {
                        switch token {
                        case .word(let word):
                            cueWords.append(word)
                            line += word + " "
                        case .markup(let text, let position):
                            if let position { top = position }
                            line += text + " "
                        }
                    }
                    lines.append(Bool.random(using: &rng) ? line : String(line.dropLast()))
                }
                if !backwards { expected.append((start, end, cueWords, top)) }
            }
            guard !expected.isEmpty else { continue }
            let newline = ["\n", "\r\n", "\r"].randomElement(using: &rng)!
            var text = lines.joined(separator: newline)
            if Bool.random(using: &rng) { text += newline }
            let bytes = encode(text, &rng)

            let result = try SRTParser().parse(bytes)
            let context = "round \(round):\n\(lines.joined(separator: "\n"))"
            XCTAssertEqual(result.cues.map { [$0.start, $0.end] }, expected.map { [$0.start, $0.end] }, context)
            XCTAssertEqual(result.cues.map { plainWords($0.text) }, expected.map(\.words), context)
            XCTAssertEqual(result.cues.map { $0.settings == "line:0" }, expected.map(\.top), context)
            XCTAssertEqual(result.warnings.compactMap(\.line), expectedWarningLines, context)

            let webVTT = WebVTTWriter().render(result.cues)
            let reread = try WebVTTParser().parse(text: webVTT)
            let sorted = result.cues.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
            XCTAssertEqual(reread.cues, sorted, context)
            if reread.cues != sorted || result.cues.count != expected.count { return }
        }
    }

    /// An SRT timestamp in one of the spellings people use.
    private func srtTime(_ ms: Int, _ rng: inout SeededGenerator) -> String {
        let hours = ms / 3_600_000, minutes = ms / 60_000 % 60, seconds = ms / 1000 % 60, millis = ms % 1000
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let h = Bool.random(using: &rng) ? two(hours) : "\(hours)"
        let separator = [",", ",", ".", ":"].randomElement(using: &rng)!
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(h):\(two(minutes)):\(two(seconds))\(separator)\(fraction)"
    }

    private func encode(_ text: String, _ rng: inout SeededGenerator) -> [UInt8] {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return Array(text.utf8)
        case 1: return [0xEF, 0xBB, 0xBF] + Array(text.utf8)
        case 2: return [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        default: return [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        }
    }

    /// The words of WebVTT payload with tags removed and entities decoded.
    private func plainWords(_ payload: String) -> [String] {
        var text = payload
        for tag in ["<i>", "</i>", "<b>", "</b>", "<u>", "</u>"] { text = text.replacing(tag, with: " ") }
        text = text.replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&amp;", with: "&")
        return text.split(whereSeparator: \.isWhitespace).map(String.init)
    }
}
