import XCTest
import PreviewServer

final class HTTPRequestTests: XCTestCase {
    private func parse(_ text: String) throws -> HTTPRequest {
        try HTTPRequest.parse(head: Array(text.utf8))
    }

    private func assertRejected(_ text: String, _ status: HTTPStatus, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text), file: file, line: line) { error in
            XCTAssertEqual((error as? HTTPRequestError)?.status, status, "\(error)", file: file, line: line)
        }
    }

    func testHeadLengthFindsTheEmptyLine() {
        XCTAssertNil(HTTPRequest.headLength(in: Array("GET / HTTP/1.1\r\nHost: a\r\n".utf8)))
        XCTAssertNil(HTTPRequest.headLength(in: Array("".utf8)))
        XCTAssertNil(HTTPRequest.headLength(in: Array("\r\n\r\n".utf8)))
        XCTAssertEqual(HTTPRequest.headLength(in: Array("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next".utf8)), 27)
        XCTAssertEqual(HTTPRequest.headLength(in: Array("GET / HTTP/1.0\n\nrest".utf8)), 16)
        // Leading empty lines belong to the head.
        XCTAssertEqual(HTTPRequest.headLength(in: Array("\r\nGET / HTTP/1.0\r\n\r\n".utf8)), 20)
        // Works on a slice that does not start at 0.
        let bytes = Array("xxGET / HTTP/1.0\r\n\r\n".utf8)
        XCTAssertEqual(HTTPRequest.headLength(in: bytes[2...]), 18)
    }

    func testParsesAGetWithHeaders() throws {
        let request = try parse("GET /720p/index.m3u8?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nRange:  bytes=0-99 \r\n"
                                + "Accept: */*\r\nX-Empty:\r\n\r\n")
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.target, "/720p/index.m3u8?x=1")
        XCTAssertEqual(request.minorVersion, 1)
        XCTAssertEqual(request.headers["range"], "bytes=0-99")
        XCTAssertEqual(request.headers["HOST"], "127.0.0.1:8080")
        XCTAssertEqual(request.headers["X-Empty"], "")
        XCTAssertNil(request.headers["Cookie"])
        XCTAssertEqual(request.bodyLength, 0)
        XCTAssertFalse(request.hasChunkedBody)
        XCTAssertTrue(request.keepAlive)
    }

    func testConnectionHandling() throws {
        XCTAssertFalse(try parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n").keepAlive)
        XCTAssertFalse(try parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n").keepAlive)
        XCTAssertFalse(try parse("GET / HTTP/1.0\r\n\r\n").keepAlive)
        XCTAssertTrue(try parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive)
        XCTAssertTrue(try parse("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n").keepAlive)
    }

    func testBareLineFeedsAndLeadingEmptyLinesAreAccepted() throws {
        let request = try parse("\r\n\nGET /a HTTP/1.0\nUser-Agent: x\n\n")
        XCTAssertEqual(request.target, "/a")
        XCTAssertEqual(request.headers["User-Agent"], "x")
    }

    func testBodiesAreMeasured() throws {
        XCTAssertEqual(try parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n").bodyLength, 12)
        XCTAssertEqual(try parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n").bodyLength, 5)
        XCTAssertTrue(try parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n").hasChunkedBody)
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .badRequest)
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", .badRequest)
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n", .badRequest)
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", .badRequest)
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", .badRequest)
    }

    func testMalformedRequestsAreRejected() {
        assertRejected("", .badRequest)
        assertRejected("\r\n\r\n", .badRequest)
        assertRejected("GET /\r\n\r\n", .badRequest)
        assertRejected("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest)
        assertRejected("GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n", .badRequest)
        assertRejected("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest)
        assertRejected("GET / HTTP/1.1\r\n\r\n", .badRequest)  // no Host
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .badRequest)
        assertRejected("GET / HTTX/1.1\r\nHost: a\r\n\r\n", .badRequest)
        assertRejected("GET / http/1.1\r\nHost: a\r\n\r\n", .badRequest)
        assertRejected("GET / HTTP/2.0\r\nHost: a\r\n\r\n", .httpVersionNotSupported)
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", .badRequest)
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", .badRequest)
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\n : x\r\n\r\n", .badRequest)
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded\r\n\r\n", .badRequest)
        assertRejected("GET /a\u{0}b HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest)
        assertRejected("GET / HTTP/1.1\r\nHost: a\u{1}\r\n\r\n", .badRequest)
        assertRejected("GET / HTTP/1.1\rHost: a\r\n\r\n", .badRequest)  // a lone CR
        assertRejected("GET /\u{E9} HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest)  // raw non-ASCII target
    }

    func testLimits() {
        let many = (0...HTTPRequest.maxFieldCount).map { "X-\($0): y\r\n" }.joined()
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\n" + many + "\r\n", .headerFieldsTooLarge)
        let huge = String(repeating: "a", count: HTTPRequest.maxHeadSize)
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nX: \(huge)\r\n\r\n", .headerFieldsTooLarge)
    }

    func testResponseHead() {
        var response = HTTPResponse.error(.notFound, "gone")
        XCTAssertEqual(String(decoding: response.head(keepAlive: true, date: "Thu, 01 Jan 1970 00:00:00 GMT"), as: UTF8.self),
                       "HTTP/1.1 404 Not Found\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nServer: hlsify\r\n"
                       + "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-cache\r\n"
                       + "Content-Length: 19\r\nConnection: keep-alive\r\n\r\n")
        response = .error(.methodNotAllowed)
        XCTAssertTrue(String(decoding: response.head(keepAlive: false, date: "x"), as: UTF8.self)
            .contains("\r\nAllow: GET, HEAD\r\n"))
    }

    func testHTTPDates() {
        XCTAssertEqual(HTTPDate.format(secondsSince1970: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(secondsSince1970: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDate.format(secondsSince1970: 951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(secondsSince1970: 4_102_444_799), "Thu, 31 Dec 2099 23:59:59 GMT")
    }

    func testLoopbackAddresses() {
        XCTAssertEqual(LoopbackAddress.parse("127.0.0.1"), "127.0.0.1")
        XCTAssertEqual(LoopbackAddress.parse("127.1.2.3"), "127.1.2.3")
        XCTAssertEqual(LoopbackAddress.parse("localhost"), "127.0.0.1")
        for host in ["0.0.0.0", "192.168.1.10", "10.0.0.1", "::1", "127.1", "0127.0.0.1", "127.0.0.256",
                     "127.0.0.1 ", "127..0.1", "", "example.com", "127.0.0.1.5", "١٢٧.0.0.1"] {
            XCTAssertNil(LoopbackAddress.parse(host), host)
        }
    }
}
