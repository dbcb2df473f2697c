import XCTest
@testable import PreviewServer

final class LoopbackHostTests: XCTestCase {
    func testLoopbackNamesWithOrWithoutAPort() {
        for authority in ["localhost", "LOCALHOST", "localhost:8080", "127.0.0.1", "127.0.0.1:8080", "127.1.2.3:1",
                          "[::1]", "[::1]:8080", "localhost:65535", "127.0.0.1:00080"] {
            XCTAssertTrue(LoopbackHost.accepts(authority), authority)
        }
    }

    func testEverythingElseIsRefused() {
        for authority in ["evil.example", "evil.example:8080", "", ":8080", "localhost:", "localhost:65536", "localhost:123456",
                          "localhost:80a", "localhost:-1", "localhost.", "localhost.:8080", "sub.localhost", "localhost.evil.example",
                          "127.0.0.1.evil.example", "127.1", "0127.0.0.1", "2130706433", "0x7f.0.0.1", "10.0.0.1:8080",
                          "0.0.0.0", "[::]", "::1", "[::1", "::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]",
                          "user@localhost", "localhost:8080@evil.example", "evil.example#@localhost", "localhost 8080",
                          " localhost", "local%68ost", "[::1]:", "[::1]x"] {
            XCTAssertFalse(LoopbackHost.accepts(authority), authority)
        }
    }

    func testRequestsAreCheckedOnHostAndAbsoluteTarget() throws {
        XCTAssertNoThrow(try LoopbackHost.check(request("GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n")))
        XCTAssertNoThrow(try LoopbackHost.check(request("GET http://127.0.0.1:8080/a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")))
        // HTTP/1.0 may leave Host out (no browser does), but one that is sent is checked.
        XCTAssertNoThrow(try LoopbackHost.check(request("GET / HTTP/1.0\r\n\r\n")))
        for text in ["GET / HTTP/1.1\r\nHost: evil.example:8080\r\n\r\n",
                     "GET / HTTP/1.0\r\nHost: evil.example\r\n\r\n",
                     "GET http://evil.example/a HTTP/1.1\r\nHost: localhost\r\n\r\n",
                     "GET HTTP://evil.example:8080?x HTTP/1.0\r\n\r\n",
                     "GET http://127.0.0.1:8080/a HTTP/1.1\r\nHost: evil.example\r\n\r\n"] {
            XCTAssertThrowsError(try LoopbackHost.check(request(text)), text) { error in
                XCTAssertEqual((error as? HTTPRequestError)?.status, .misdirectedRequest, text)
            }
        }
        // HTTP/1.1 needs exactly one Host.
        for text in ["GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n"] {
            XCTAssertThrowsError(try LoopbackHost.check(request(text)), text) { error in
                XCTAssertEqual((error as? HTTPRequestError)?.status, .badRequest, text)
            }
        }
    }

    func testAbsoluteFormAuthority() {
        XCTAssertNil(LoopbackHost.absoluteFormAuthority("/a/b"))
        XCTAssertEqual(LoopbackHost.absoluteFormAuthority("http://localhost:8080/a"), "localhost:8080")
        XCTAssertEqual(LoopbackHost.absoluteFormAuthority("HTTPS://h?x"), "h")
        XCTAssertEqual(LoopbackHost.absoluteFormAuthority("http://"), "")
    }
}
