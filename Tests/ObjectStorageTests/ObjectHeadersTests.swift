import XCTest
@testable import ObjectStorage

final class ObjectHeadersTests: XCTestCase {
    private let immutable = "public, max-age=31536000, immutable"

    func testPlaylists() {
        XCTAssertEqual(ObjectHeaders.forPath("master.m3u8"),
                       ObjectHeaders(contentType: "application/vnd.apple.mpegurl", cacheControl: "max-age=60"))
        XCTAssertEqual(ObjectHeaders.forPath("v0/index.m3u8").contentType, "application/vnd.apple.mpegurl")
        XCTAssertEqual(ObjectHeaders.forPath("v0/index.m3u8").cacheControl, "max-age=60")
    }

    func testLivePlaylistsAreBarelyCached() {
        XCTAssertEqual(ObjectHeaders.forPath("v0/index.m3u8", live: true).cacheControl, "max-age=2")
        XCTAssertEqual(ObjectHeaders.forPath("v0/seg_00001.m4s", live: true).cacheControl, immutable, "media stays immutable")
    }

    func testMediaTypes() {
        let expected: [(String, String)] = [
            ("v0/seg_00001.m4s", "video/mp4"), ("v0/init.mp4", "video/mp4"), ("audio/en/seg_1.m4a", "audio/mp4"),
            ("audio/seg.aac", "audio/aac"), ("v0/seg_00001.ts", "video/mp2t"), ("subs/en/seg_1.vtt", "text/vtt"),
            ("subs/en.webvtt", "text/vtt"), ("poster.jpg", "image/jpeg"), ("thumbs/t.jpeg", "image/jpeg"),
        ]
        for (path, type) in expected {
            XCTAssertEqual(ObjectHeaders.forPath(path), ObjectHeaders(contentType: type, cacheControl: immutable), path)
        }
    }

    func testJSONIsNotCached() {
        XCTAssertEqual(ObjectHeaders.forPath("manifest.json"), ObjectHeaders(contentType: "application/json", cacheControl: "no-cache"))
    }

    func testExtensionsAreCaseInsensitive() {
        XCTAssertEqual(ObjectHeaders.forPath("V0/SEG.TS").contentType, "video/mp2t")
        XCTAssertEqual(ObjectHeaders.forPath("Master.M3U8").contentType, "application/vnd.apple.mpegurl")
    }

    func testUnknownOrMissingExtensionIsOctetStream() {
        for path in ["README", "data.bin", "v0.m3u8/segment", ".hlsify-state", "archive.tar.gz"] {
            XCTAssertEqual(ObjectHeaders.forPath(path).contentType, "application/octet-stream", path)
        }
    }

    func testTheExtensionIsTheLastComponents() {
        XCTAssertEqual(ObjectHeaders.forPath("dir.ts/readme").contentType, "application/octet-stream")
        XCTAssertEqual(ObjectHeaders.forPath("a.m3u8.ts").contentType, "video/mp2t")
    }

    // MARK: Stages

    func testStageOfEachKind() {
        XCTAssertEqual(ObjectHeaders.stage(of: "master.m3u8"), .master)
        XCTAssertEqual(ObjectHeaders.stage(of: "v0/index.m3u8"), .mediaPlaylist)
        XCTAssertEqual(ObjectHeaders.stage(of: "audio/en/index.m3u8"), .mediaPlaylist)
        XCTAssertEqual(ObjectHeaders.stage(of: "v0/seg_00001.m4s"), .media)
        XCTAssertEqual(ObjectHeaders.stage(of: "v0/init.mp4"), .media)
        XCTAssertEqual(ObjectHeaders.stage(of: "subs/en/seg_1.vtt"), .media)
        XCTAssertEqual(ObjectHeaders.stage(of: ".hlsify-state.json"), .record)
    }

    func testOnlyTheTopLevelMasterIsTheMaster() {
        XCTAssertEqual(ObjectHeaders.stage(of: "v0/master.m3u8"), .mediaPlaylist)
    }

    func testStageOrdering() {
        XCTAssertLessThan(ObjectHeaders.Stage.media, .mediaPlaylist)
        XCTAssertLessThan(ObjectHeaders.Stage.mediaPlaylist, .master)
        XCTAssertLessThan(ObjectHeaders.Stage.media, .master)
        XCTAssertFalse(ObjectHeaders.Stage.master < .media)
        XCTAssertFalse(ObjectHeaders.Stage.master < .master)
    }

    func testSortingByStagePutsTheMasterLast() {
        let paths = ["master.m3u8", "v0/index.m3u8", "v0/seg_1.m4s", "v0/init.mp4", "v1/index.m3u8"]
        let sorted = paths.sorted { ObjectHeaders.stage(of: $0) < ObjectHeaders.stage(of: $1) }
        XCTAssertEqual(sorted.last, "master.m3u8")
        XCTAssertEqual(Set(sorted.prefix(2)), ["v0/seg_1.m4s", "v0/init.mp4"])
        XCTAssertEqual(Set(sorted[2..<4]), ["v0/index.m3u8", "v1/index.m3u8"])
    }
}
