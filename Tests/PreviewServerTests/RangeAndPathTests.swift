import XCTest
import PreviewServer

final class ByteRangeSelectionTests: XCTestCase {
    func testRanges() {
        let size = 1000
        func select(_ field: String?) -> ByteRangeSelection { ByteRangeSelection.select(field, size: size) }
        XCTAssertEqual(select(nil), .whole)
        XCTAssertEqual(select("bytes=0-99"), .partial(offset: 0, length: 100))
        XCTAssertEqual(select("bytes=0-0"), .partial(offset: 0, length: 1))
        XCTAssertEqual(select("bytes=500-"), .partial(offset: 500, length: 500))
        XCTAssertEqual(select("bytes=999-"), .partial(offset: 999, length: 1))
        XCTAssertEqual(select("bytes=990-5000"), .partial(offset: 990, length: 10))
        XCTAssertEqual(select("bytes=-100"), .partial(offset: 900, length: 100))
        XCTAssertEqual(select("bytes=-5000"), .partial(offset: 0, length: 1000))
        XCTAssertEqual(select(" Bytes=10-19 "), .partial(offset: 10, length: 10))
        XCTAssertEqual(select("bytes=0-99999999999999999999999"), .partial(offset: 0, length: 1000))
        // Unsatisfiable: starts at or past the end, or an empty suffix.
        XCTAssertEqual(select("bytes=1000-"), .unsatisfiable)
        XCTAssertEqual(select("bytes=1000-2000"), .unsatisfiable)
        XCTAssertEqual(select("bytes=99999999999999999999999-"), .unsatisfiable)
        XCTAssertEqual(select("bytes=-0"), .unsatisfiable)
        XCTAssertEqual(ByteRangeSelection.select("bytes=0-", size: 0), .unsatisfiable)
        XCTAssertEqual(ByteRangeSelection.select("bytes=-10", size: 0), .unsatisfiable)
        // Malformed, other units, several ranges: ignored, the whole file.
        for field in ["bytes=", "bytes=-", "bytes=a-b", "bytes=5-1", "bytes=1-2-3", "bytes=+1-2", "items=0-1",
                      "bytes 0-1", "bytes = 0-1", "bytes=0-1,5-6", "bytes=0x10-", "", "bytes=１-2"] {
            XCTAssertEqual(select(field), .whole, field)
        }
    }
}

final class RequestPathTests: XCTestCase {
    private func components(_ target: String) throws -> [String] {
        try RequestPath.parse(target: target).components
    }

    private func assertRefused(_ target: String, _ status: HTTPStatus, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try RequestPath.parse(target: target), target, file: file, line: line) { error in
            XCTAssertEqual((error as? HTTPRequestError)?.status, status, "\(target): \(error)", file: file, line: line)
        }
    }

    func testPlainPaths() throws {
        XCTAssertEqual(try components("/"), [])
        XCTAssertEqual(try components("/master.m3u8"), ["master.m3u8"])
        XCTAssertEqual(try components("/720p/segment-00001.m4s?cache=1#x"), ["720p", "segment-00001.m4s"])
        XCTAssertEqual(try components("/subtitles/pt%2DBR.vtt"), ["subtitles", "pt-BR.vtt"])
        XCTAssertEqual(try components("/a%20b/c%C3%A9"), ["a b", "cé"])
        XCTAssertEqual(try components("http://127.0.0.1:8080/720p/index.m3u8"), ["720p", "index.m3u8"])
        XCTAssertEqual(try components("HTTP://127.0.0.1:8080"), [])
        XCTAssertEqual(try RequestPath.parse(target: "/a/b.ts").relative, "a/b.ts")
        // Doubled and encoded slashes never reach above the folder: empty components are dropped.
        XCTAssertEqual(try components("//etc/passwd"), ["etc", "passwd"])
        XCTAssertEqual(try components("/%2Fetc%2Fpasswd"), ["etc", "passwd"])
    }

    func testTraversalIsRefused() {
        for target in ["/..", "/../etc/passwd", "/720p/../../x", "/%2e%2e/etc/passwd", "/%2E%2E%2Fetc%2Fpasswd",
                       "/.%2e/x", "/720p/%2e%2e/%2e%2e/x", "/./master.m3u8", "/.hidden", "/a/.git/config",
                       "/..%5c..%5cetc", "/a\\b", "http://h/../x"] {
            assertRefused(target, .forbidden)
        }
        // A dot and a combining mark are one Character, not ".", but the name still starts with a dot.
        for target in ["/.%CC%81git/config", "/a/.%E2%80%8Dx", "/a%5C%CC%81b"] {
            assertRefused(target, .forbidden)
        }
    }

    func testMalformedPathsAreBadRequests() {
        for target in ["master.m3u8", "*", "/a%00b", "/a%0ab", "/a%", "/a%2", "/a%zz", "/%C3", "/%FF%FE", "/a%7f"] {
            assertRefused(target, .badRequest)
        }
    }
}

final class ContentTypeTests: XCTestCase {
    func testTypesOfAnOutputFolder() {
        XCTAssertEqual(ContentType.forFile("master.m3u8"), "application/vnd.apple.mpegurl")
        XCTAssertEqual(ContentType.forFile("720p/index.M3U8"), "application/vnd.apple.mpegurl")
        XCTAssertEqual(ContentType.forFile("720p/init.mp4"), "video/mp4")
        XCTAssertEqual(ContentType.forFile("720p/segment-00000.m4s"), "video/mp4")
        XCTAssertEqual(ContentType.forFile("720p/segment-00000.ts"), "video/mp2t")
        XCTAssertEqual(ContentType.forFile("audio/init.m4a"), "audio/mp4")
        XCTAssertEqual(ContentType.forFile("subtitles/en.vtt"), "text/vtt; charset=utf-8")
        XCTAssertEqual(ContentType.forFile("index.html"), "text/html; charset=utf-8")
        XCTAssertEqual(ContentType.forFile("report.json"), "application/json")
        XCTAssertEqual(ContentType.forFile("README"), "application/octet-stream")
        XCTAssertEqual(ContentType.forFile("a.b/noext"), "application/octet-stream")
        XCTAssertEqual(ContentType.forFile(".m3u8"), "application/octet-stream")
        XCTAssertEqual(ContentType.cacheControl(forFile: "720p/index.m3u8"), "no-cache")
        XCTAssertNil(ContentType.cacheControl(forFile: "720p/segment-00000.m4s"))
    }
}
