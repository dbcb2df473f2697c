import XCTest
@testable import ObjectStorage

final class PlaylistReferencesTests: XCTestCase {
    func testSegmentLinesAndTheMapOfAMediaPlaylist() {
        let playlist = """
            #EXTM3U
            #EXT-X-VERSION:7
            #EXT-X-TARGETDURATION:4
            #EXT-X-MAP:URI="init.mp4"
            #EXTINF:4.000,
            seg_00000.m4s
            #EXTINF:4.000,
            seg_00001.m4s
            #EXT-X-ENDLIST
            """
        XCTAssertEqual(PlaylistReferences.of(playlist, playlistPath: "v0/index.m3u8"),
                       ["v0/init.mp4", "v0/seg_00000.m4s", "v0/seg_00001.m4s"])
    }

    func testAPlaylistAtTheRootGetsNoFolder() {
        XCTAssertEqual(PlaylistReferences.of("#EXTM3U\n#EXTINF:2,\na.ts\n", playlistPath: "index.m3u8"), ["a.ts"])
    }

    func testDeepFolders() {
        XCTAssertEqual(PlaylistReferences.of("#EXTINF:2,\nsub/a.ts\n", playlistPath: "x/y/index.m3u8"), ["x/y/sub/a.ts"])
    }

    func testMasterPlaylistReferences() {
        let master = """
            #EXTM3U
            #EXT-X-INDEPENDENT-SEGMENTS
            #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,URI="audio/en/index.m3u8"
            #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",URI="subs/en/index.m3u8"
            #EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"
            #EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aud",SUBTITLES="subs"
            v0/index.m3u8
            #EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS="avc1.640028,mp4a.40.2",AUDIO="aud",SUBTITLES="subs"
            v1/index.m3u8
            #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,CODECS="avc1.64001f",URI="v0/iframes.m3u8"
            """
        XCTAssertEqual(PlaylistReferences.of(master, playlistPath: "master.m3u8"),
                       ["audio/en/index.m3u8", "subs/en/index.m3u8", "v0/index.m3u8", "v1/index.m3u8", "v0/iframes.m3u8"])
    }

    func testEveryURIOnATagLine() {
        XCTAssertEqual(PlaylistReferences.of(#"#EXT-X-KEY:METHOD=AES-128,URI="key.bin",IV=0x1"#, playlistPath: "v0/index.m3u8"),
                       ["v0/key.bin"])
        XCTAssertEqual(PlaylistReferences.of(#"#X-TWO:URI="a.bin",OTHER-URI="b.bin""#, playlistPath: "p.m3u8"), ["a.bin", "b.bin"])
    }

    func testAnUnterminatedURIIsIgnored() {
        XCTAssertEqual(PlaylistReferences.of("#EXT-X-MAP:URI=\"init.mp4\nseg.m4s", playlistPath: "v0/index.m3u8"), ["v0/seg.m4s"])
    }

    func testCRLFAndBlankLines() {
        XCTAssertEqual(PlaylistReferences.of("#EXTM3U\r\n\r\n#EXTINF:4,\r\n  seg_1.ts \r\n   \r\n\t\r\n", playlistPath: "v0/index.m3u8"),
                       ["v0/seg_1.ts"])
    }

    func testNamesThatLeaveTheSetAreDropped() {
        let playlist = """
            #EXTM3U
            #EXT-X-MAP:URI="../init.mp4"
            #EXTINF:4,
            ../v1/seg.ts
            #EXTINF:4,
            /abs/seg.ts
            #EXTINF:4,
            https://cdn.example.com/seg.ts
            #EXTINF:4,
            seg.ts?token=abc
            #EXTINF:4,
            a//b.ts
            #EXTINF:4,
            ./seg.ts
            #EXTINF:4,
            sub/../seg.ts
            #EXTINF:4,
            sub/
            #EXTINF:4,
            kept.ts
            """
        XCTAssertEqual(PlaylistReferences.of(playlist, playlistPath: "v0/index.m3u8"), ["v0/kept.ts"])
    }

    func testAURIThatLeavesTheSetIsDropped() {
        let master = """
            #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x",URI="../../elsewhere.m3u8"
            #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="y",URI="http://evil.example/a.m3u8"
            #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="z",URI="audio/ok.m3u8"
            """
        XCTAssertEqual(PlaylistReferences.of(master, playlistPath: "master.m3u8"), ["audio/ok.m3u8"])
    }

    func testCommentsWithoutURIsAndEmptyText() {
        XCTAssertEqual(PlaylistReferences.of("#EXTM3U\n#EXTINF:4,\n# a comment\n", playlistPath: "v0/index.m3u8"), [])
        XCTAssertEqual(PlaylistReferences.of("", playlistPath: "v0/index.m3u8"), [])
    }
}
