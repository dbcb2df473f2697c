import Foundation
import XCTest
@testable import PreviewServer

/// StaticFiles and PreviewSite on a small folder made for each test (no sockets).
final class PreviewSiteTests: XCTestCase {
    private var folder: URL!
    private var outside: URL!

    private let master = """
        #EXTM3U
        #EXT-X-VERSION:4
        #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,URI="subtitles/en/index.m3u8"
        #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="de",NAME="Deutsch",DEFAULT=NO,AUTOSELECT=YES,URI="subtitles/de/index.m3u8"
        #EXT-X-STREAM-INF:BANDWIDTH=1500000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=854x480,SUBTITLES="subs"
        480p/index.m3u8

        """

    override func setUpWithError() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("preview-site-\(UUID().uuidString)")
        folder = base.appendingPathComponent("lecture")
        outside = base.appendingPathComponent("secret.txt")
        let fm = FileManager.default
        try fm.createDirectory(at: folder.appendingPathComponent("480p"), withIntermediateDirectories: true)
        try fm.createDirectory(at: folder.appendingPathComponent("subtitles/en"), withIntermediateDirectories: true)
        try Data(master.utf8).write(to: folder.appendingPathComponent("master.m3u8"))
        try Data((0..<200).map { UInt8($0) }).write(to: folder.appendingPathComponent("480p/segment-00000.m4s"))
        try Data("WEBVTT\n".utf8).write(to: folder.appendingPathComponent("subtitles/en.vtt"))
        try Data("secret".utf8).write(to: outside)
        try fm.createSymbolicLink(atPath: folder.appendingPathComponent("escape.txt").path, withDestinationPath: outside.path)
        try fm.createSymbolicLink(atPath: folder.appendingPathComponent("up").path, withDestinationPath: base.path)
        try fm.createSymbolicLink(atPath: folder.appendingPathComponent("inside.m4s").path,
                                  withDestinationPath: "480p/segment-00000.m4s")
        XCTAssertEqual(mkfifo(folder.appendingPathComponent("fifo.ts").path, 0o644), 0)
        // Hidden files inside, and links with plain names that lead to them or out.
        try fm.createDirectory(at: folder.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try Data("[core]".utf8).write(to: folder.appendingPathComponent(".git/config"))
        try Data("token".utf8).write(to: folder.appendingPathComponent(".env"))
        try Data("hidden outside".utf8).write(to: base.appendingPathComponent(".netrc"))
        for (name, target) in [("env.txt", ".env"), ("config.txt", ".git/config"), ("repo", ".git"),
                               ("netrc.txt", base.appendingPathComponent(".netrc").path),
                               ("absolute-env.txt", folder.appendingPathComponent(".env").path)] {
            try fm.createSymbolicLink(atPath: folder.appendingPathComponent(name).path, withDestinationPath: target)
        }
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: folder.deletingLastPathComponent())
    }

    private func site() throws -> PreviewSite {
        PreviewSite(files: try StaticFiles(folder: folder.path), title: "lecture")
    }

    private func get(_ target: String, _ fields: [(String, String)] = [], method: String = "GET",
                     host: String = "127.0.0.1:8080") throws -> HTTPResponse {
        let head = "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\n" + fields.map { "\($0): \($1)\r\n" }.joined() + "\r\n"
        return try site().respond(to: request(head))
    }

    private func field(_ response: HTTPResponse, _ name: String) -> String? { response.headers[name] }

    func testServesFilesWithTypesAndRanges() throws {
        var response = try get("/480p/segment-00000.m4s")
        XCTAssertEqual(response.status, .ok)
        XCTAssertEqual(response.body.length, 200)
        XCTAssertEqual(field(response, "Content-Type"), "video/mp4")
        XCTAssertEqual(field(response, "Accept-Ranges"), "bytes")
        XCTAssertNil(field(response, "Cache-Control"))

        response = try get("/480p/segment-00000.m4s", [("Range", "bytes=10-19")])
        XCTAssertEqual(response.status, .partialContent)
        XCTAssertEqual(field(response, "Content-Range"), "bytes 10-19/200")
        guard case .file(_, let offset, let length) = response.body else { return XCTFail("\(response.body)") }
        XCTAssertEqual([offset, length], [10, 10])

        response = try get("/480p/segment-00000.m4s", [("Range", "bytes=200-")])
        XCTAssertEqual(response.status, .rangeNotSatisfiable)
        XCTAssertEqual(field(response, "Content-Range"), "bytes */200")

        response = try get("/480p/segment-00000.m4s", [("Range", "bytes=0-1"), ("If-Range", "\"abc\"")])
        XCTAssertEqual(response.status, .ok, "an If-Range never matches: no validators are sent")

        response = try get("/master.m3u8")
        XCTAssertEqual(field(response, "Content-Type"), "application/vnd.apple.mpegurl")
        XCTAssertEqual(field(response, "Cache-Control"), "no-cache")

        // A symbolic link that stays inside is followed.
        XCTAssertEqual(try get("/inside.m4s").status, .ok)
    }

    func testRefusesWhatIsNotARegularFileInside() throws {
        XCTAssertEqual(try get("/missing.ts").status, .notFound)
        XCTAssertEqual(try get("/480p").status, .notFound)
        XCTAssertEqual(try get("/480p/").status, .notFound)
        XCTAssertEqual(try get("/fifo.ts").status, .notFound)
        XCTAssertEqual(try get("/escape.txt").status, .forbidden)
        XCTAssertEqual(try get("/up/secret.txt").status, .forbidden)
        XCTAssertEqual(try get("/up/lecture/master.m3u8").status, .ok, "a link back into the folder is inside")
        XCTAssertEqual(try get("/../secret.txt").status, .forbidden)
        XCTAssertEqual(try get("/%2e%2e/secret.txt").status, .forbidden)
        XCTAssertEqual(try get("/master.m3u8%00.html").status, .badRequest)
        XCTAssertEqual(try get("/master.m3u8", method: "POST").status, .methodNotAllowed)
        XCTAssertEqual(try get("/master.m3u8", method: "DELETE").status, .methodNotAllowed)
    }

    func testJudgesTheResolvedPathNotTheNameAskedFor() throws {
        // Plain names, refused for where they lead: a hidden file or folder inside, a file outside.
        for target in ["/env.txt", "/config.txt", "/repo/config", "/absolute-env.txt", "/netrc.txt", "/escape.txt"] {
            XCTAssertEqual(try get(target).status, .forbidden, target)
        }
        // The same names asked for directly are refused by RequestPath.
        XCTAssertEqual(try get("/.env").status, .forbidden)
        XCTAssertEqual(try get("/.git/config").status, .forbidden)
        // A link to a plain name inside is still followed.
        XCTAssertEqual(try get("/inside.m4s").status, .ok)
    }

    func testAllowedResolvedPaths() throws {
        let files = try StaticFiles(folder: folder.path)
        let root = files.root
        XCTAssertTrue(files.allows(root + "/master.m3u8"))
        XCTAssertTrue(files.allows(root + "/480p/segment-00000.m4s"))
        XCTAssertTrue(files.allows(root + "/a.b/c..d"), "dots inside names are fine")
        for path in [root, root + "/", root + "/.env", root + "/.git/config", root + "/480p/.x", root + "/a//b",
                     root + "/.\u{301}x", root + "x/master.m3u8", root.dropLast() + "/master.m3u8", "/etc/passwd",
                     URL(fileURLWithPath: root).deletingLastPathComponent().path + "/secret.txt"] {
            XCTAssertFalse(files.allows(String(path)), String(path))
        }
        // Bytes, not Characters: a folder named with a precomposed é does not hold the
        // decomposed one's files, though Swift's String calls the two names equal.
        let composed = StaticFiles(unresolvedRoot: "/tmp/caf\u{E9}")
        XCTAssertTrue(composed.allows("/tmp/caf\u{E9}/a"))
        XCTAssertFalse(composed.allows("/tmp/cafe\u{301}/a"))
        // Hidden names above the folder are the user's business; only those below it count.
        let hiddenRoot = StaticFiles(unresolvedRoot: "/home/u/.cache/lecture")
        XCTAssertTrue(hiddenRoot.allows("/home/u/.cache/lecture/master.m3u8"))
        XCTAssertFalse(hiddenRoot.allows("/home/u/.cache/lecture/.env"))
        let slash = StaticFiles(unresolvedRoot: "/")
        XCTAssertTrue(slash.allows("/etc/hostname"))
        XCTAssertFalse(slash.allows("/"))
        XCTAssertFalse(slash.allows("/home/u/.ssh/id_ed25519"))
    }

    func testTheDescriptorsPathIsReadBack() throws {
        let path = folder.appendingPathComponent("master.m3u8").path
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let resolved = try StaticFiles(folder: folder.path).root + "/master.m3u8"
        XCTAssertEqual(StaticFiles.path(of: fd), resolved)
        // Renamed over or removed after the open: no longer the path that was checked.
        XCTAssertEqual(unlink(path), 0)
        XCTAssertEqual(StaticFiles.path(of: fd), resolved + " (deleted)")
        XCTAssertNil(StaticFiles.path(of: 9999))
    }

    func testPageListsTheMasterAndOnlyExistingSidecars() throws {
        for target in ["/", "/index.html", "/?autoplay=1"] {
            let response = try get(target)
            XCTAssertEqual(response.status, .ok, target)
            XCTAssertEqual(field(response, "Content-Type"), "text/html; charset=utf-8")
            XCTAssertEqual(field(response, "Cache-Control"), "no-cache")
            guard case .bytes(let bytes) = response.body else { return XCTFail("no page body") }
            let html = String(decoding: bytes, as: UTF8.self)
            XCTAssertTrue(html.contains("<title>hlsify preview: lecture</title>"))
            XCTAssertTrue(html.contains("<video id=\"player\" src=\"master.m3u8\""))
            XCTAssertTrue(html.contains("<track kind=\"subtitles\" src=\"subtitles/en.vtt\" srclang=\"en\" label=\"English\" default>"))
            XCTAssertFalse(html.contains("subtitles/de.vtt"), "no sidecar file for de")
            XCTAssertTrue(html.contains("854×480"))
        }
    }

    func testPageReportsABrokenMaster() throws {
        try Data("#EXTM3U\n#EXT-X-STREAM-INF:CODECS=\"x\"\na.m3u8\n".utf8).write(to: folder.appendingPathComponent("master.m3u8"))
        let response = try get("/")
        XCTAssertEqual(response.status, .internalServerError)
        guard case .bytes(let bytes) = response.body else { return XCTFail("no body") }
        XCTAssertTrue(String(decoding: bytes, as: UTF8.self).contains("line 2: missing BANDWIDTH"))
        try FileManager.default.removeItem(at: folder.appendingPathComponent("master.m3u8"))
        XCTAssertEqual(try get("/").status, .notFound)
    }

    func testMissingFolderIsAnError() {
        XCTAssertThrowsError(try StaticFiles(folder: folder.appendingPathComponent("nope").path))
        XCTAssertThrowsError(try StaticFiles(folder: outside.path))
    }
}
