import HLSCore
import XCTest

final class ResumeJournalTests: XCTestCase {
    private func entry(_ rendition: String, _ index: Int, sha: String = "aa") -> JournalEntry {
        JournalEntry(rendition: rendition, index: index, file: "segment-\(index).m4s", bytes: 100 + index, sha256: sha,
                     firstPTS: Int64(index) * 360_000, frames: 120, start: Double(index) * 4, duration: 4)
    }

    /// A line is the entry's JSON, a space and its own checksum.
    private func text(_ entries: [JournalEntry]) throws -> String {
        try entries.map { ResumeJournal.line(String(decoding: try JSONEncoder().encode($0), as: UTF8.self)) }.joined()
    }

    private func parse(_ text: String) -> (entries: [JournalEntry], damaged: Bool) {
        ResumeJournal.parse(text) { try? JSONDecoder().decode(JournalEntry.self, from: Data($0.utf8)) }
    }

    func testWholeJournalReadsBack() throws {
        let entries = [entry("720p", 0), entry("audio", 0), entry("720p", 1)]
        let parsed = parse(try text(entries))
        XCTAssertEqual(parsed.entries, entries)
        XCTAssertFalse(parsed.damaged)
        XCTAssertEqual(parse("").entries, [])
        XCTAssertFalse(parse("").damaged)
    }

    func testTornLastLineIsDropped() throws {
        let whole = try text([entry("720p", 0), entry("720p", 1)])
        // Every cut inside the last line (not at its end) loses that line only.
        let lastStart = whole.dropLast().lastIndex(of: "\n").map { whole.index(after: $0) }!
        var cut = lastStart
        while cut < whole.index(before: whole.endIndex) {
            let parsed = parse(String(whole[..<cut]))
            XCTAssertEqual(parsed.entries, [entry("720p", 0)], "cut at \(whole.distance(from: whole.startIndex, to: cut))")
            XCTAssertEqual(parsed.damaged, cut != lastStart)
            cut = whole.index(after: cut)
        }
    }

    func testDamagedLineEndsWhatIsTrusted() throws {
        var lines = try text([entry("720p", 0), entry("720p", 1), entry("720p", 2)]).split(separator: "\n").map(String.init)
        // A changed byte inside the JSON no longer matches the checksum.
        lines[1] = lines[1].replacingOccurrences(of: "\"b\":101", with: "\"b\":109")
        let parsed = parse(lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(parsed.entries, [entry("720p", 0)])
        XCTAssertTrue(parsed.damaged)
        // A line without a checksum, or JSON that is not an entry, is damage too.
        XCTAssertTrue(parse("{\"r\":\"720p\"}\n").damaged)
        let notEntry = "{}"
        XCTAssertTrue(parse(ResumeJournal.line(notEntry)).damaged)
    }

    func testEntryCodingKeysAreShort() throws {
        let json = String(decoding: try JSONEncoder().encode(entry("480p", 3)), as: UTF8.self)
        for key in ["\"r\"", "\"i\"", "\"f\"", "\"b\"", "\"sha256\"", "\"pts\"", "\"n\"", "\"t\"", "\"d\""] {
            XCTAssertTrue(json.contains(key), "\(key) in \(json)")
        }
        XCTAssertEqual(entry("480p", 3).record, SegmentRecord(index: 3, uri: "segment-3.m4s", duration: 4, byteSize: 103, startTime: 12))
    }
}
