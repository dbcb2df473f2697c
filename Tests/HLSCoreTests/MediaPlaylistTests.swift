import XCTest
import HLSCore

final class MediaPlaylistTests: XCTestCase {
    private func segments(_ durations: [Double], pattern: (Int) -> String) -> [SegmentRecord] {
        var start = 0.0
        return durations.enumerated().map { i, d in
            defer { start += d }
            return SegmentRecord(index: i, uri: pattern(i), duration: d, byteSize: 1000 * (i + 1), startTime: start)
        }
    }

    func testFragmentedMP4VOD() {
        let playlist = MediaPlaylist(segments: segments([4, 4, 2.5]) { "segment-0000\($0).m4s" }, mapURI: "init.mp4")
        XCTAssertEqual(playlist.render(), """
            #EXTM3U
            #EXT-X-VERSION:6
            #EXT-X-TARGETDURATION:4
            #EXT-X-MEDIA-SEQUENCE:0
            #EXT-X-PLAYLIST-TYPE:VOD
            #EXT-X-INDEPENDENT-SEGMENTS
            #EXT-X-MAP:URI="init.mp4"
            #EXTINF:4.000000,
            segment-00000.m4s
            #EXTINF:4.000000,
            segment-00001.m4s
            #EXTINF:2.500000,
            segment-00002.m4s
            #EXT-X-ENDLIST

            """)
        XCTAssertEqual(playlist.totalDuration, 10.5)
    }

    func testTransportStreamEventInProgress() {
        var playlist = MediaPlaylist(segments: segments([4.004, 4.5]) { "seg\($0).ts" }, kind: .event,
                                     isComplete: false, mediaSequence: 7)
        playlist.independentSegments = false
        XCTAssertEqual(playlist.render(), """
            #EXTM3U
            #EXT-X-VERSION:3
            #EXT-X-TARGETDURATION:5
            #EXT-X-MEDIA-SEQUENCE:7
            #EXT-X-PLAYLIST-TYPE:EVENT
            #EXTINF:4.004000,
            seg0.ts
            #EXTINF:4.500000,
            seg1.ts

            """)
    }

    func testTargetDuration() {
        func target(_ durations: [Double], override: Int? = nil) -> Int {
            var playlist = MediaPlaylist(segments: segments(durations) { "\($0).ts" })
            playlist.targetDurationOverride = override
            return playlist.targetDuration
        }
        XCTAssertEqual(target([]), 1)
        XCTAssertEqual(target([0.2]), 1)
        XCTAssertEqual(target([4, 4, 1]), 4)
        XCTAssertEqual(target([4.49, 3]), 4)
        XCTAssertEqual(target([4.5, 3]), 5)                 // halves round up, as RFC 8216 readers may
        XCTAssertEqual(target([3.4999996]), 4)              // written as 3.500000, which rounds to 4
        XCTAssertEqual(target([3.4999994]), 3)              // written as 3.499999
        XCTAssertEqual(target([4, 4], override: 6), 6)
        XCTAssertEqual(target([4, 5.2], override: 4), 5)    // an override never hides a longer segment
    }

    func testVersion() {
        XCTAssertEqual(MediaPlaylist().version, 3)
        XCTAssertEqual(MediaPlaylist(mapURI: "init.mp4").version, 6)
    }

    func testEmptyCompletePlaylist() {
        XCTAssertEqual(MediaPlaylist(independentSegments: false).render(), """
            #EXTM3U
            #EXT-X-VERSION:3
            #EXT-X-TARGETDURATION:1
            #EXT-X-MEDIA-SEQUENCE:0
            #EXT-X-PLAYLIST-TYPE:VOD
            #EXT-X-ENDLIST

            """)
    }

    func testURIsCannotBreakLines() {
        let segment = SegmentRecord(index: 0, uri: "a\nb\r.ts", duration: 1, byteSize: 1, startTime: 0)
        let text = MediaPlaylist(segments: [segment], mapURI: "in\"it\n.mp4").render()
        XCTAssertTrue(text.contains("\n#EXT-X-MAP:URI=\"init.mp4\"\n"), text)
        XCTAssertTrue(text.contains("\n#EXTINF:1.000000,\nab.ts\n"), text)
    }

    func testOddDurationsStayWellFormed() {
        let weird = [-1, .nan, .infinity, 1e-9].enumerated().map {
            SegmentRecord(index: $0.offset, uri: "\($0.offset).ts", duration: $0.element, byteSize: 1, startTime: 0)
        }
        let text = MediaPlaylist(segments: weird).render()
        XCTAssertEqual(text.components(separatedBy: "#EXTINF:0.000000,\n").count - 1, 4, text)
    }
}
