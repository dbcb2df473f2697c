import HLSCore
import XCTest

final class ResumePointTests: XCTestCase {
    private func entry(_ rendition: String, _ index: Int, sha: String = "aa") -> JournalEntry {
        JournalEntry(rendition: rendition, index: index, file: index < 0 ? "init.mp4" : "segment-\(index).m4s", bytes: 1,
                     sha256: sha, firstPTS: 0, frames: 1, start: Double(index), duration: 1)
    }

    func testResumesFromTheSmallestVideoPrefix() {
        let entries = (0..<5).map { entry("480p", $0) } + (0..<3).map { entry("720p", $0) } + (0..<7).map { entry("audio", $0) }
            + [entry("720p", JournalEntry.initIndex), entry("480p", JournalEntry.initIndex)]
        let point = ResumePoint(entries: entries, videos: ["720p", "480p"])
        XCTAssertEqual(point.fromSegment, 3)
        // The rendition that was ahead keeps its segments; audio keeps its own (checked again later).
        XCTAssertEqual(point.kept["480p"]?.count, 5)
        XCTAssertEqual(point.kept["audio"]?.count, 7)
        XCTAssertEqual(point.initSections["720p"], entry("720p", JournalEntry.initIndex))
        XCTAssertEqual(point.segmentsKept, 15)
    }

    func testAHoleEndsARenditionsPrefix() {
        let entries = [entry("720p", 0), entry("720p", 1), entry("720p", 3), entry("720p", 4)]
        let point = ResumePoint(entries: entries, videos: ["720p"])
        XCTAssertEqual(point.fromSegment, 2)
        XCTAssertEqual(point.kept["720p"]?.map(\.index), [0, 1])
    }

    func testAVideoRenditionWithNothingStartsFromZero() {
        let point = ResumePoint(entries: [entry("720p", 0)], videos: ["720p", "1080p"])
        XCTAssertEqual(point.fromSegment, 0)
        XCTAssertEqual(ResumePoint(entries: [], videos: []).fromSegment, 0)
    }

    func testALaterEntryForAnIndexReplacesTheEarlier() {
        let point = ResumePoint(entries: [entry("720p", 0, sha: "old"), entry("720p", 0, sha: "new")], videos: ["720p"])
        XCTAssertEqual(point.kept["720p"]?.map(\.sha256), ["new"])
    }
}
