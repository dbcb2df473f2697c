import XCTest
@testable import HLSCore

/// Nothing in a subtitle file may crash or hang the parser, and whatever it accepts must come
/// out as valid WebVTT.
final class SRTParserRobustnessTests: XCTestCase {
    private static let seedFile = Array("""
        1
        00:00:01,000 --> 00:00:02,500
        {\\an8}<i>Hello</i> & <font color="red">world</font>

        2
        00:00:03.000 --> 00:00:04,000
        a --> b <b>bold

        3
        100:00:05,000 --> 100:00:06,000
        Tom &amp; Jerry <3
        """.utf8)

    private static let interesting: [[UInt8]] = [
        [0x0D], [0x0A], [0x0D, 0x0A], [0x00], [0xFF, 0xFE], [0xFE, 0xFF], [0xEF, 0xBB, 0xBF], [0x93], [0xC3],
        Array("-->".utf8), Array("<i>".utf8), Array("</b>".utf8), Array("<".utf8), Array("{\\an8}".utf8),
        Array("{\\".utf8), Array("99999999999:".utf8), Array(":".utf8), Array(",".utf8), Array("\n\n".utf8),
        Array("00:00:00,000 --> 00:00:00,000\n".utf8), Array("<font color=\"".utf8),
    ]

    func testThousandsOfRandomAndMutatedInputsNeverCrash() {
        var rng = SeededGenerator(seed: 0xF022)
        var accepted = 0
        for round in 0..<4_000 {
            let input: [UInt8]
            switch round % 4 {
            case 0:
                input = (0..<Int.random(in: 0...400, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 1:
                input = (0..<Int.random(in: 0...40, using: &rng)).flatMap { _ in
                    Self.interesting.randomElement(using: &rng)! + (Bool.random(using: &rng) ? Array("x 1".utf8) : [])
                }
            default:
                input = mutate(Self.seedFile, &rng)
            }
            do {
                let result = try SRTParser().parse(input)
                accepted += 1
                check(result, input: input, round: round)
            } catch {
                XCTAssertFalse(String(describing: error).isEmpty)
            }
        }
        // The mutated files mostly still hold a readable cue; make sure that path was exercised.
        XCTAssertGreaterThan(accepted, 1_000)
    }

    /// The invariants every accepted input must keep.
    private func check(_ result: SRTParseResult, input: [UInt8], round: Int) {
        for cue in result.cues {
            XCTAssertLessThanOrEqual(cue.start, cue.end, "round \(round)")
            XCTAssertGreaterThanOrEqual(cue.start, 0, "round \(round)")
            XCTAssertFalse(cue.text.contains("-->"), "round \(round)")
            XCTAssertFalse(SubtitleLines.split(cue.text).contains(where: SubtitleLines.isBlank) && !cue.text.isEmpty,
                           "round \(round): blank line in \(cue.text.debugDescription)")
        }
        let lineCount = input.count + 1
        for warning in result.warnings {
            if let line = warning.line { XCTAssert((1...lineCount).contains(line), "round \(round)") }
        }
        let webVTT = WebVTTWriter().render(result.cues)
        do {
            let reread = try WebVTTParser().parse(text: webVTT)
            let sorted = result.cues.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
            XCTAssertEqual(reread.cues, sorted, "round \(round)")
            XCTAssertEqual(reread.warnings, [], "round \(round)")
        } catch {
            XCTFail("round \(round): our WebVTT did not parse: \(error)")
        }
    }

    private func mutate(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var out = bytes
        for _ in 0..<Int.random(in: 1...8, using: &rng) {
            let position = Int.random(in: 0...out.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where position < out.count: out[position] = UInt8.random(in: 0...255, using: &rng)
            case 1 where position < out.count: out.remove(at: position)
            case 2: out.insert(contentsOf: Self.interesting.randomElement(using: &rng)!, at: position)
            case 3:
                let length = Int.random(in: 0...min(30, out.count - position), using: &rng)
                out.insert(contentsOf: out[position..<(position + length)], at: position)
            default:
                out.insert(UInt8.random(in: 0...127, using: &rng), at: position)
            }
        }
        return out
    }

    /// Inputs built to make a careless scanner quadratic; each must finish quickly.
    func testPathologicalInputsFinishQuickly() throws {
        let cue = "1\n00:00:01,000 --> 00:00:02,000\n"
        let bodies = [
            String(repeating: "<a ", count: 50_000),
            String(repeating: "<b x=\"", count: 30_000),
            String(repeating: "{\\", count: 50_000),
            String(repeating: "<i>", count: 30_000) + String(repeating: "</b>", count: 30_000),
            String(repeating: "-->", count: 50_000),
            String(repeating: "\u{301}", count: 50_000),  // one enormous grapheme
        ]
        for body in bodies {
            let start = ContinuousClock.now
            let result = try SRTParser().parse(Array((cue + body).utf8))
            XCTAssertEqual(result.cues.count, 1)
            XCTAssertLessThan(ContinuousClock.now - start, .seconds(10), String(body.prefix(6)))
        }
        // Many cues, many blank lines.
        let many = (0..<20_000).map { "\($0)\n00:00:01,000 --> 00:00:02,000\nx\n\n\n" }.joined()
        let start = ContinuousClock.now
        XCTAssertEqual(try SRTParser().parse(Array(many.utf8)).cues.count, 20_000)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(10))
    }
}
