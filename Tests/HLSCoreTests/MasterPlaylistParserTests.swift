import XCTest
import HLSCore

final class MasterPlaylistParserTests: XCTestCase {
    /// A master like the ones hlsify writes: audio, two subtitle renditions, two variants, I-frames.
    static let sample = MasterPlaylist(
        variants: [
            Variant(uri: "720p/index.m3u8", bandwidth: 2_719_572, averageBandwidth: 2_500_000,
                    codecs: ["avc1.64001f", "mp4a.40.2"], width: 1280, height: 720, frameRate: 30,
                    audioGroup: "audio", subtitlesGroup: "subs", videoRange: .sdr, closedCaptions: .none),
            Variant(uri: "480p/index.m3u8", bandwidth: 1_508_432, averageBandwidth: 0,
                    codecs: ["avc1.64001e", "mp4a.40.2"], width: 854, height: 480, frameRate: 29.97,
                    audioGroup: "audio", subtitlesGroup: "subs", videoRange: .sdr, closedCaptions: .none),
        ],
        media: [
            MediaRendition(kind: .audio, groupID: "audio", language: "und", name: "Main", isDefault: true,
                           autoselect: true, channels: 2, uri: "audio/index.m3u8"),
            MediaRendition(kind: .subtitles, groupID: "subs", language: "en", name: "English", isDefault: true,
                           autoselect: true, uri: "subtitles/en/index.m3u8"),
            MediaRendition(kind: .subtitles, groupID: "subs", language: "pt-BR", name: "Português", isDefault: false,
                           autoselect: false, uri: "subtitles/pt-BR/index.m3u8"),
        ],
        iFrameVariants: [
            IFrameVariant(uri: "720p/iframes.m3u8", bandwidth: 106_317, averageBandwidth: 90_000,
                          codecs: ["avc1.64001f"], width: 1280, height: 720, videoRange: .sdr),
            IFrameVariant(uri: "480p/iframes.m3u8", bandwidth: 59_170, averageBandwidth: 0,
                          codecs: ["avc1.64001e"], width: 854, height: 480),
        ])

    func testRoundTripsWhatTheRendererWrites() throws {
        let masters = [
            Self.sample,
            MasterPlaylist(variants: [Variant(uri: "only.m3u8", bandwidth: 500_000, averageBandwidth: 0, codecs: [],
                                              width: 0, height: 0)],
                           independentSegments: false),
            MasterPlaylist(variants: [Variant(uri: "a/index.m3u8", bandwidth: 64_000, averageBandwidth: 60_000,
                                              codecs: ["mp4a.40.2"], width: 0, height: 0, audioGroup: "audio",
                                              closedCaptions: .group("cc"))],
                           media: [MediaRendition(kind: .audio, groupID: "audio", name: "Muxed", uri: "")]),
            MasterPlaylist(variants: []),
            MasterPlaylist(variants: [Variant(uri: "only.m3u8", bandwidth: 500_000, averageBandwidth: 0, codecs: [],
                                              width: 0, height: 0)],
                           sessionData: [SessionData(dataID: SessionData.chaptersDataID, uri: "chapters.json"),
                                         SessionData(dataID: "com.example.notes", uri: "https://example.com/n.json")]),
        ]
        for original in masters {
            let text = original.render()
            let parsed = try PlaylistParser.parseMaster(text)
            XCTAssertEqual(parsed, original, text)
            XCTAssertEqual(parsed.render(), text)
        }
    }

    func testReadsForeignMasterWithCRLFCommentsAndOtherRenditionTypes() throws {
        let text = "#EXTM3U\r\n# made elsewhere\r\n#EXT-X-VERSION:6\r\n"
            + "#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC1\",INSTREAM-ID=\"CC1\"\r\n"
            + "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"Atmos\",CHANNELS=\"16/JOC\",URI=\"atmos.m3u8\"\r\n"
            + "#EXT-X-SESSION-DATA:DATA-ID=\"com.example\",VALUE=\"x\"\r\n\r\n"
            + "#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS=\"avc1.4d401e, mp4a.40.2\",RESOLUTION=640x360,HDCP-LEVEL=NONE\r\n"
            + "low/playlist.m3u8\r\n"
        let parsed = try PlaylistParser.parseMaster(text)
        XCTAssertFalse(parsed.independentSegments)
        XCTAssertEqual(parsed.media, [MediaRendition(kind: .audio, groupID: "a", name: "Atmos", isDefault: false,
                                                     autoselect: false, channels: 16, uri: "atmos.m3u8")])
        XCTAssertEqual(parsed.variants, [Variant(uri: "low/playlist.m3u8", bandwidth: 800_000, averageBandwidth: 0,
                                                 codecs: ["avc1.4d401e", "mp4a.40.2"], width: 640, height: 360)])
        XCTAssertEqual(parsed.iFrameVariants, [])
        XCTAssertEqual(parsed.sessionData, [], "session data with a VALUE instead of a URI is skipped")
    }

    func testRejectsMalformedMasters() {
        assertRejected("", line: 0, mentioning: "#EXTM3U")
        assertRejected("#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n", line: 1, mentioning: "#EXTM3U")
        assertRejected("#EXTM3U\n#EXT-X-TARGETDURATION:4\n", line: 2, mentioning: "media playlist")
        assertRejected("#EXTM3U\n#EXTINF:4,\na.ts\n", line: 2, mentioning: "media playlist")
        assertRejected("#EXTM3U\na.m3u8\n", line: 2, mentioning: "without #EXT-X-STREAM-INF")
        assertRejected("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n", line: 2, mentioning: "without a URI")
        assertRejected("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n", line: 2,
                       mentioning: "followed by a URI")
        assertRejected("#EXTM3U\n#EXT-X-STREAM-INF:CODECS=\"avc1\"\na.m3u8\n", line: 2, mentioning: "BANDWIDTH")
        assertRejected("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=-5\na.m3u8\n", line: 2, mentioning: "BANDWIDTH")
        assertRejected("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=640\na.m3u8\n", line: 2, mentioning: "RESOLUTION")
        assertRejected("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,FRAME-RATE=fast\na.m3u8\n", line: 2, mentioning: "FRAME-RATE")
        assertRejected("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,VIDEO-RANGE=HDR\na.m3u8\n", line: 2, mentioning: "VIDEO-RANGE")
        assertRejected("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1\na.m3u8\n", line: 2, mentioning: "attribute list")
        assertRejected("#EXTM3U\n#EXT-X-STREAM-INF\na.m3u8\n", line: 2, mentioning: "attribute list")
        assertRejected("#EXTM3U\n#EXT-X-MEDIA:GROUP-ID=\"a\",NAME=\"x\"\n", line: 2, mentioning: "TYPE")
        assertRejected("#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,NAME=\"x\"\n", line: 2, mentioning: "GROUP-ID")
        assertRejected("#EXTM3U\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"s\",NAME=\"x\"\n", line: 2, mentioning: "URI")
        assertRejected("#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x\",DEFAULT=yes\n", line: 2, mentioning: "DEFAULT")
        assertRejected("#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x\",CHANNELS=\"two\"\n", line: 2, mentioning: "CHANNELS")
        assertRejected("#EXTM3U\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1\n", line: 2, mentioning: "URI")
        assertRejected("#EXTM3U\n#EXTM3U\n", line: 2, mentioning: "twice")
        assertRejected("#EXTM3U\n#EXT-X-SESSION-DATA:URI=\"c.json\"\n", line: 2, mentioning: "DATA-ID")
        assertRejected("#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID=\"x\n", line: 2, mentioning: "attribute list")
    }

    private func assertRejected(_ text: String, line expectedLine: Int, mentioning fragment: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        do {
            let playlist = try PlaylistParser.parseMaster(text)
            XCTFail("parsed: \(playlist)", file: file, line: line)
        } catch let error as PlaylistParseError {
            XCTAssertEqual(error.line, expectedLine, error.description, file: file, line: line)
            XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" lacks \"\(fragment)\"", file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }
}
