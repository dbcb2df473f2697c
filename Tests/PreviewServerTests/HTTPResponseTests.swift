import XCTest
import PreviewServer

final class HTTPResponseTests: XCTestCase {
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
