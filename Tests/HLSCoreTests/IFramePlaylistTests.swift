import XCTest
import HLSCore

final class IFramePlaylistTests: XCTestCase {
    private func entry(_ index: Int, _ uri: String, _ duration: Double, _ start: Double, _ length: Int, _ offset: Int) -> SegmentRecord {
        SegmentRecord(index: index, uri: uri, duration: duration, byteSize: length, startTime: start,
                      byteRange: ByteRange(length: length, offset: offset))
    }

    func testFragmentedMP4IFramePlaylist() {
        let playlist = MediaPlaylist(segments: [
            entry(0, "segment-00000.m4s", 2, 0, 41_230, 0),
            entry(1, "segment-00000.m4s", 1.24, 2, 20_125, 91_000),
            entry(2, "segment-00001.m4s", 0.76, 3.24, 39_002, 0),
        ], mapURI: "init.mp4", iFramesOnly: true)
        XCTAssertEqual(playlist.version, 5, "EXT-X-MAP in an I-frames-only playlist needs 5, not 6")
        XCTAssertEqual(playlist.render(), """
            #EXTM3U
            #EXT-X-VERSION:5
            #EXT-X-TARGETDURATION:2
            #EXT-X-MEDIA-SEQUENCE:0
            #EXT-X-PLAYLIST-TYPE:VOD
            #EXT-X-INDEPENDENT-SEGMENTS
            #EXT-X-I-FRAMES-ONLY
            #EXT-X-MAP:URI="init.mp4"
            #EXTINF:2.000000,
            #EXT-X-BYTERANGE:41230@0
            segment-00000.m4s
            #EXTINF:1.240000,
            #EXT-X-BYTERANGE:20125@91000
            segment-00000.m4s
            #EXTINF:0.760000,
            #EXT-X-BYTERANGE:39002@0
            segment-00001.m4s
            #EXT-X-ENDLIST

            """)
    }

    func testVersionRules() {
        let ranged = entry(0, "a.ts", 1, 0, 10, 0)
        XCTAssertEqual(MediaPlaylist(segments: [ranged]).version, 4, "EXT-X-BYTERANGE needs 4")
        XCTAssertEqual(MediaPlaylist(iFramesOnly: true).version, 4, "EXT-X-I-FRAMES-ONLY needs 4")
        XCTAssertEqual(MediaPlaylist(mapURI: "init.mp4", iFramesOnly: true).version, 5)
        XCTAssertEqual(MediaPlaylist(segments: [ranged], mapURI: "init.mp4").version, 6)
        XCTAssertEqual(MediaPlaylist().version, 3)
    }

    func testParserReadsByteRangesAndIFramesOnly() throws {
        let original = MediaPlaylist(segments: [
            entry(0, "segment-00000.ts", 2, 0, 9588, 0),
            entry(1, "segment-00000.ts", 1.5, 2, 5000, 20_000),
            entry(2, "segment-00001.ts", 0.5, 3.5, 7000, 188),
        ], iFramesOnly: true)
        let parsed = try PlaylistParser.parseMedia(original.render())
        XCTAssertEqual(parsed, original)
        XCTAssertEqual(parsed.render(), original.render())

        // An offset-less range continues the previous range of the same URI; BYTERANGE may precede EXTINF.
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-VERSION:4\n#EXTINF:4,\n#EXT-X-BYTERANGE:100@50\nall.ts\n"
            + "#EXT-X-BYTERANGE:70\n#EXTINF:4,\nall.ts\n#EXTINF:4,\nother.ts\n"
        let segments = try PlaylistParser.parseMedia(text).segments
        XCTAssertEqual(segments.map(\.byteRange), [ByteRange(length: 100, offset: 50), ByteRange(length: 70, offset: 150), nil])
        XCTAssertEqual(segments.map(\.byteSize), [100, 70, 0])
        XCTAssertFalse(try PlaylistParser.parseMedia(text).iFramesOnly)

        for (bad, fragment) in [
            ("#EXT-X-BYTERANGE:70\n#EXTINF:4,\nall.ts\n", "without an offset"),
            ("#EXTINF:4,\n#EXT-X-BYTERANGE:100@50\na.ts\n#EXTINF:4,\n#EXT-X-BYTERANGE:70\nb.ts\n", "without an offset"),
            ("#EXTINF:4,\n#EXT-X-BYTERANGE:abc\na.ts\n", "bad EXT-X-BYTERANGE"),
            ("#EXTINF:4,\n#EXT-X-BYTERANGE:1@-2\na.ts\n", "bad EXT-X-BYTERANGE"),
            ("#EXTINF:4,\n#EXT-X-BYTERANGE:1@2@3\na.ts\n", "bad EXT-X-BYTERANGE"),
            ("#EXTINF:4,\n#EXT-X-BYTERANGE:1@2\n#EXT-X-BYTERANGE:1@2\na.ts\n", "two EXT-X-BYTERANGE"),
            ("#EXTINF:4,\na.ts\n#EXT-X-BYTERANGE:1@2\n", "at the end"),
        ] {
            XCTAssertThrowsError(try PlaylistParser.parseMedia("#EXTM3U\n#EXT-X-TARGETDURATION:4\n" + bad), bad) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(bad): \(error)")
            }
        }
    }

    func testBuilderTimesEntriesFromOneIFrameToTheNext() {
        var builder = IFramePlaylistBuilder()
        builder.add([IFrameLocation(presentationTime: 10 * 12800, timescale: 12800, range: ByteRange(length: 500, offset: 0)),
                     IFrameLocation(presentationTime: 11 * 12800 + 6400, timescale: 12800, range: ByteRange(length: 300, offset: 900))],
                    segmentURI: "segment-00000.m4s")
        builder.add([], segmentURI: "segment-00001.m4s")
        builder.add([IFrameLocation(presentationTime: 14 * 12800, timescale: 12800, range: ByteRange(length: 400, offset: 0))],
                    segmentURI: "segment-00002.m4s")
        XCTAssertEqual(builder.count, 3)
        XCTAssertEqual(builder.times, [0, 1.5, 4])
        let playlist = builder.playlist(totalDuration: 5.25, mapURI: "init.mp4")
        XCTAssertTrue(playlist.iFramesOnly)
        XCTAssertEqual(playlist.mapURI, "init.mp4")
        XCTAssertEqual(playlist.kind, .vod)
        XCTAssertTrue(playlist.isComplete)
        XCTAssertEqual(playlist.segments.map(\.duration), [1.5, 2.5, 1.25])
        XCTAssertEqual(playlist.segments.map(\.startTime), [0, 1.5, 4])
        XCTAssertEqual(playlist.segments.map(\.uri), ["segment-00000.m4s", "segment-00000.m4s", "segment-00002.m4s"])
        XCTAssertEqual(playlist.segments.map(\.byteSize), [500, 300, 400])
        XCTAssertEqual(playlist.segments.map(\.byteRange), [ByteRange(length: 500, offset: 0), ByteRange(length: 300, offset: 900),
                                                            ByteRange(length: 400, offset: 0)])
        XCTAssertEqual(playlist.targetDuration, 3)
        // An end before the last I-frame gives it no length rather than a negative one.
        XCTAssertEqual(builder.playlist(totalDuration: 3, mapURI: nil).segments.last?.duration, 0)
        XCTAssertEqual(IFramePlaylistBuilder().playlist(totalDuration: 4, mapURI: nil).segments, [])
    }

    func testBuilderFollowsMPEGTSTimestampsAcrossTheWrap() {
        var builder = IFramePlaylistBuilder(timestampBits: 33)
        let wrap = 1 << 33
        for (uri, pts) in [("a.ts", wrap - 180_000), ("b.ts", wrap - 90_000), ("c.ts", 0), ("d.ts", 90_000)] {
            builder.add([IFrameLocation(presentationTime: Int64(pts), timescale: 90_000, range: ByteRange(length: 1, offset: 0))],
                        segmentURI: uri)
        }
        XCTAssertEqual(builder.times, [0, 1, 2, 3])
        XCTAssertEqual(builder.playlist(totalDuration: 4, mapURI: nil).segments.map(\.duration), [1, 1, 1, 1])
    }

    func testIFrameBandwidthFromRangesOverDurations() {
        var builder = IFramePlaylistBuilder()
        builder.add([IFrameLocation(presentationTime: 0, timescale: 1, range: ByteRange(length: 50_000, offset: 0)),
                     IFrameLocation(presentationTime: 2, timescale: 1, range: ByteRange(length: 10_000, offset: 0))],
                    segmentURI: "s.m4s")
        let playlist = builder.playlist(totalDuration: 4, mapURI: nil)
        let stats = Bandwidth.measure(playlist.segments, targetDuration: playlist.targetDuration)
        XCTAssertEqual(stats, BandwidthStats(peak: 200_000, average: 120_000))
    }
}
