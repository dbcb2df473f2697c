import XCTest
import HLSCore

final class PlaylistParserTests: XCTestCase {
    /// Segments as the parser can restore them: byte size 0 and start times summed from 0.
    private func segments(_ durations: [Double], first: Int = 0) -> [SegmentRecord] {
        var start = 0.0
        return durations.enumerated().map { i, d in
            defer { start += d }
            return SegmentRecord(index: first + i, uri: "segment-\(first + i).m4s", duration: d, byteSize: 0, startTime: start)
        }
    }

    func testRoundTrips() throws {
        let originals = [
            MediaPlaylist(segments: segments([4, 4, 4.004, 1.5]), mapURI: "init.mp4"),
            MediaPlaylist(segments: segments([2.002, 2.002], first: 12), kind: .event, isComplete: false,
                          mediaSequence: 12, independentSegments: false),
            MediaPlaylist(segments: segments([4, 3.25]), targetDurationOverride: 6),
            MediaPlaylist(),
            MediaPlaylist(kind: .event, isComplete: false),
        ]
        for original in originals {
            let text = original.render()
            let parsed = try PlaylistParser.parseMedia(text)
            XCTAssertEqual(parsed, original, text)
            XCTAssertEqual(parsed.render(), text)
        }
    }

    func testReadsHandWrittenPlaylistWithCRLFAndUnknownTags() throws {
        let text = "#EXTM3U\r\n#EXT-X-VERSION:3\r\n#EXT-X-TARGETDURATION:6\r\n# a comment\r\n"
            + "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\r\n\r\n#EXTINF:5.5,Intro\r\nintro.ts\r\n"
            + "#EXTINF:6,\r\nmain.ts\r\n#EXT-X-ENDLIST\r\n"
        let parsed = try PlaylistParser.parseMedia(text)
        XCTAssertEqual(parsed.segments, [
            SegmentRecord(index: 0, uri: "intro.ts", duration: 5.5, byteSize: 0, startTime: 0),
            SegmentRecord(index: 1, uri: "main.ts", duration: 6, byteSize: 0, startTime: 5.5),
        ])
        XCTAssertEqual(parsed.kind, .vod)
        XCTAssertTrue(parsed.isComplete)
        XCTAssertFalse(parsed.independentSegments)
        XCTAssertNil(parsed.mapURI)
        XCTAssertNil(parsed.targetDurationOverride)
        XCTAssertEqual(parsed.targetDuration, 6)
    }

    func testRejectsMalformedPlaylists() {
        assertRejected("", line: 0, mentioning: "#EXTM3U")
        assertRejected("#EXT-X-TARGETDURATION:4\n", line: 1, mentioning: "#EXTM3U")
        assertRejected("#EXTM3U\n#EXTINF:4,\nsegment.ts\n", line: 0, mentioning: "TARGETDURATION")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:four\n", line: 2, mentioning: "EXT-X-TARGETDURATION")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:abc,\na.ts\n", line: 3, mentioning: "EXTINF")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4\na.ts\n", line: 3, mentioning: "EXTINF")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:-4,\na.ts\n", line: 3, mentioning: "EXTINF")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:4\na.ts\n", line: 3, mentioning: "without #EXTINF")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n#EXT-X-ENDLIST\n", line: 3, mentioning: "followed by a URI")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n", line: 3, mentioning: "without a URI")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-ENDLIST\n#EXTINF:4,\na.ts\n", line: 5, mentioning: "after #EXT-X-ENDLIST")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.6,\na.ts\n", line: 0, mentioning: "exceeds")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:LIVE\n", line: 3, mentioning: "VOD or EVENT")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:BYTERANGE=\"1@0\"\n", line: 3, mentioning: "URI")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:-1\n", line: 3, mentioning: "MEDIA-SEQUENCE")
    }

    private func assertRejected(_ text: String, line expectedLine: Int, mentioning fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let playlist = try PlaylistParser.parseMedia(text)
            XCTFail("parsed: \(playlist)", file: file, line: line)
        } catch let error as PlaylistParseError {
            XCTAssertEqual(error.line, expectedLine, error.description, file: file, line: line)
            XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" lacks \"\(fragment)\"", file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }
}
