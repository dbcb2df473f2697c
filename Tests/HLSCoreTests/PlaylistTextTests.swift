import XCTest
@testable import HLSCore

final class PlaylistTextTests: XCTestCase {
    func testFixedDecimals() {
        XCTAssertEqual(PlaylistText.fixed(4, decimals: 6), "4.000000")
        XCTAssertEqual(PlaylistText.fixed(4.004, decimals: 6), "4.004000")
        XCTAssertEqual(PlaylistText.fixed(3.4999996, decimals: 6), "3.500000")
        XCTAssertEqual(PlaylistText.fixed(30_000.0 / 1001, decimals: 3), "29.970")
        XCTAssertEqual(PlaylistText.fixed(23.976, decimals: 3), "23.976")
        XCTAssertEqual(PlaylistText.fixed(12345.6789, decimals: 2), "12345.68")
        XCTAssertEqual(PlaylistText.fixed(0.0405, decimals: 3), "0.041")
        XCTAssertEqual(PlaylistText.fixed(-1.5, decimals: 1), "-1.5")
        XCTAssertEqual(PlaylistText.fixed(-0.0000001, decimals: 6), "0.000000")
        XCTAssertEqual(PlaylistText.fixed(.nan, decimals: 6), "0.000000")
        XCTAssertEqual(PlaylistText.fixed(2.5, decimals: 0), "3")
    }

    func testQuotedStringsLoseForbiddenCharacters() {
        XCTAssertEqual(PlaylistText.quoted("Eng\"lish\r\n"), "\"English\"")
        XCTAssertEqual(PlaylistText.quoted("a,b"), "\"a,b\"")
        XCTAssertEqual(PlaylistText.uriLine("seg\nment\r.m4s"), "segment.m4s")
    }

    func testAttributeLists() {
        XCTAssertEqual(PlaylistText.attributes("URI=\"init.mp4\""), ["URI": "init.mp4"])
        XCTAssertEqual(PlaylistText.attributes("BANDWIDTH=1000,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720"),
                       ["BANDWIDTH": "1000", "CODECS": "avc1.64001f,mp4a.40.2", "RESOLUTION": "1280x720"])
        XCTAssertNil(PlaylistText.attributes("URI=\"init.mp4"))
        XCTAssertNil(PlaylistText.attributes("URI"))
        XCTAssertNil(PlaylistText.attributes("A=1,"))
        XCTAssertNil(PlaylistText.attributes("A=\"x\"y"))
    }
}
