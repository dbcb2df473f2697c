import XCTest
import HLSCore

final class MasterPlaylistTests: XCTestCase {
    func testLadderWithAudioAndSubtitles() {
        let playlist = MasterPlaylist(
            variants: [
                Variant(uri: "1080p/index.m3u8", bandwidth: 5_630_000, averageBandwidth: 5_128_000,
                        codecs: ["avc1.640028", CodecString.aacLC], width: 1920, height: 1080,
                        frameRate: 30_000.0 / 1001, audioGroup: "audio", subtitlesGroup: "subs"),
                Variant(uri: "720p/index.m3u8", bandwidth: 3_210_000, averageBandwidth: 2_928_000,
                        codecs: ["avc1.64001f", "mp4a.40.2"], width: 1280, height: 720,
                        frameRate: 25, audioGroup: "audio", subtitlesGroup: "subs"),
            ],
            media: [
                MediaRendition(kind: .audio, groupID: "audio", language: "en", name: "English", isDefault: true,
                               autoselect: true, channels: 2, uri: "audio/index.m3u8"),
                MediaRendition(kind: .subtitles, groupID: "subs", language: "de", name: "Deutsch", isDefault: false,
                               autoselect: true, channels: nil, uri: "subs/de/index.m3u8"),
                MediaRendition(kind: .subtitles, groupID: "subs", language: nil, name: "Notes", isDefault: false,
                               autoselect: false, uri: "subs/notes/index.m3u8"),
            ])
        XCTAssertEqual(playlist.version, 4)
        XCTAssertEqual(playlist.render(), """
            #EXTM3U
            #EXT-X-VERSION:4
            #EXT-X-INDEPENDENT-SEGMENTS
            #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"
            #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="de",NAME="Deutsch",DEFAULT=NO,AUTOSELECT=YES,URI="subs/de/index.m3u8"
            #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Notes",DEFAULT=NO,AUTOSELECT=NO,URI="subs/notes/index.m3u8"
            #EXT-X-STREAM-INF:BANDWIDTH=5630000,AVERAGE-BANDWIDTH=5128000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,FRAME-RATE=29.970,AUDIO="audio",SUBTITLES="subs"
            1080p/index.m3u8
            #EXT-X-STREAM-INF:BANDWIDTH=3210000,AVERAGE-BANDWIDTH=2928000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000,AUDIO="audio",SUBTITLES="subs"
            720p/index.m3u8

            """)
    }

    func testMinimalVariantOmitsOptionalAttributes() {
        var playlist = MasterPlaylist(variants: [
            Variant(uri: "v.m3u8", bandwidth: 800_000, averageBandwidth: 0, codecs: [], width: 0, height: 0),
        ])
        playlist.independentSegments = false
        XCTAssertEqual(playlist.render(), """
            #EXTM3U
            #EXT-X-VERSION:1
            #EXT-X-STREAM-INF:BANDWIDTH=800000
            v.m3u8

            """)
    }

    func testDefaultImpliesAutoselectAndEmptyURIIsOmitted() {
        let playlist = MasterPlaylist(variants: [], media: [
            MediaRendition(kind: .audio, groupID: "aac", name: "Main", isDefault: true, autoselect: false, uri: ""),
        ])
        XCTAssertEqual(playlist.render(), """
            #EXTM3U
            #EXT-X-VERSION:4
            #EXT-X-INDEPENDENT-SEGMENTS
            #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Main",DEFAULT=YES,AUTOSELECT=YES

            """)
    }

    func testQuotedStringsAndURIsAreSanitized() {
        let playlist = MasterPlaylist(
            variants: [Variant(uri: "720p/index.m3u8\n#EXT-X-ENDLIST", bandwidth: 1, averageBandwidth: 1,
                               codecs: ["avc1\"x"], width: 2, height: 2, audioGroup: "a\"b")],
            media: [MediaRendition(kind: .subtitles, groupID: "s", language: "e\"n", name: "He said \"hi\"\r\nbye",
                                   uri: "s\".m3u8")])
        let lines = playlist.render().split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 7, "\(lines)")  // 6 lines and the final empty one
        XCTAssertEqual(lines[3], #"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",LANGUAGE="en",NAME="He said hibye",DEFAULT=NO,AUTOSELECT=YES,URI="s.m3u8""#)
        XCTAssertEqual(lines[4], #"#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1,CODECS="avc1x",RESOLUTION=2x2,AUDIO="ab""#)
        XCTAssertEqual(lines[5], "720p/index.m3u8#EXT-X-ENDLIST")
    }

    func testIFrameStreamsVideoRangeAndClosedCaptions() {
        let playlist = MasterPlaylist(
            variants: [
                Variant(uri: "720p/index.m3u8", bandwidth: 3_000_000, averageBandwidth: 2_500_000,
                        codecs: ["avc1.64001f"], width: 1280, height: 720, frameRate: 25,
                        videoRange: .sdr, closedCaptions: .none),
                Variant(uri: "hdr/index.m3u8", bandwidth: 6_000_000, averageBandwidth: 5_000_000,
                        codecs: ["hvc1.2.4.L123.B0"], width: 1920, height: 1080,
                        videoRange: .pq, closedCaptions: .group("cc")),
            ],
            iFrameVariants: [
                IFrameVariant(uri: "720p/iframes.m3u8", bandwidth: 410_000, averageBandwidth: 120_000,
                              codecs: ["avc1.64001f"], width: 1280, height: 720, videoRange: .sdr),
                IFrameVariant(uri: "audio\n/iframes.m3u8", bandwidth: 1, averageBandwidth: 0, codecs: [], width: 0, height: 0),
            ])
        XCTAssertEqual(playlist.version, 4, "I-frame streams are a version 4 feature")
        XCTAssertEqual(playlist.render(), """
            #EXTM3U
            #EXT-X-VERSION:4
            #EXT-X-INDEPENDENT-SEGMENTS
            #EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2500000,CODECS="avc1.64001f",RESOLUTION=1280x720,FRAME-RATE=25.000,VIDEO-RANGE=SDR,CLOSED-CAPTIONS=NONE
            720p/index.m3u8
            #EXT-X-STREAM-INF:BANDWIDTH=6000000,AVERAGE-BANDWIDTH=5000000,CODECS="hvc1.2.4.L123.B0",RESOLUTION=1920x1080,VIDEO-RANGE=PQ,CLOSED-CAPTIONS="cc"
            hdr/index.m3u8
            #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=410000,AVERAGE-BANDWIDTH=120000,CODECS="avc1.64001f",RESOLUTION=1280x720,VIDEO-RANGE=SDR,URI="720p/iframes.m3u8"
            #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="audio/iframes.m3u8"

            """)
    }

    func testSessionDataComesBeforeTheRenditionsAndKeepsTheVersion() {
        let chapters = SessionData(dataID: SessionData.chaptersDataID, uri: "chapters.json")
        XCTAssertEqual(chapters.attributeList, #"DATA-ID="com.apple.hls.chapters",URI="chapters.json""#)
        let variant = Variant(uri: "v.m3u8", bandwidth: 800_000, averageBandwidth: 0, codecs: [], width: 0, height: 0,
                              subtitlesGroup: "subs")
        let playlist = MasterPlaylist(
            variants: [variant],
            media: [MediaRendition(kind: .subtitles, groupID: "subs", name: "English", uri: "subs/index.m3u8")],
            sessionData: [chapters, SessionData(dataID: "com.example.\"notes\"\r\n", uri: "notes\n.json")])
        XCTAssertEqual(playlist.render(), """
            #EXTM3U
            #EXT-X-VERSION:4
            #EXT-X-INDEPENDENT-SEGMENTS
            #EXT-X-SESSION-DATA:DATA-ID="com.apple.hls.chapters",URI="chapters.json"
            #EXT-X-SESSION-DATA:DATA-ID="com.example.notes",URI="notes.json"
            #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",DEFAULT=NO,AUTOSELECT=YES,URI="subs/index.m3u8"
            #EXT-X-STREAM-INF:BANDWIDTH=800000,SUBTITLES="subs"
            v.m3u8

            """)

        var plain = MasterPlaylist(variants: [Variant(uri: "v.m3u8", bandwidth: 1, averageBandwidth: 0, codecs: [],
                                                      width: 0, height: 0)],
                                   independentSegments: false)
        XCTAssertEqual(plain.sessionData, [])
        plain.sessionData = [chapters]
        XCTAssertEqual(plain.version, 1, "session data needs no particular version")
        XCTAssertEqual(plain.render(), """
            #EXTM3U
            #EXT-X-VERSION:1
            #EXT-X-SESSION-DATA:DATA-ID="com.apple.hls.chapters",URI="chapters.json"
            #EXT-X-STREAM-INF:BANDWIDTH=1
            v.m3u8

            """)
    }

    func testVersionFollowsTheFeaturesUsed() {
        let bare = Variant(uri: "v.m3u8", bandwidth: 1, averageBandwidth: 0, codecs: [], width: 0, height: 0,
                           videoRange: .sdr, closedCaptions: .none)
        XCTAssertEqual(MasterPlaylist(variants: [bare]).version, 1, "nothing here needs more than version 1")
        var withAudio = bare
        withAudio.audioGroup = "audio"
        XCTAssertEqual(MasterPlaylist(variants: [withAudio]).version, 4)
        var withSubtitles = bare
        withSubtitles.subtitlesGroup = "subs"
        XCTAssertEqual(MasterPlaylist(variants: [withSubtitles]).version, 4)
        XCTAssertEqual(MasterPlaylist(variants: [bare], iFrameVariants: [
            IFrameVariant(uri: "i.m3u8", bandwidth: 1, averageBandwidth: 1, codecs: [], width: 2, height: 2),
        ]).version, 4)
    }

    func testVideoRangeFromTransferCharacteristics() {
        XCTAssertEqual(VideoRange(transferCharacteristics: 1), .sdr)    // BT.709
        XCTAssertEqual(VideoRange(transferCharacteristics: 2), .sdr)    // unspecified
        XCTAssertEqual(VideoRange(transferCharacteristics: 13), .sdr)   // sRGB
        XCTAssertEqual(VideoRange(transferCharacteristics: 16), .pq)    // SMPTE ST 2084
        XCTAssertEqual(VideoRange(transferCharacteristics: 18), .hlg)   // ARIB STD-B67
    }
}
