import Foundation
import XCTest
@testable import ObjectStorage

final class ObjectInfoTests: XCTestCase {
    func testRFC7231Date() {
        XCTAssertEqual(ObjectInfo.date("Tue, 15 Nov 1994 08:12:31 GMT"), Date(timeIntervalSince1970: 784_887_151))
        XCTAssertEqual(ObjectInfo.date("Fri, 24 May 2013 00:00:00 GMT"), Date(timeIntervalSince1970: 1_369_353_600))
    }

    func testISO8601WithMilliseconds() throws {
        XCTAssertEqual(ObjectInfo.date("2009-10-12T17:50:30.000Z"), Date(timeIntervalSince1970: 1_255_369_830))
        let withMillis = try XCTUnwrap(ObjectInfo.date("2009-10-12T17:50:30.250Z"))
        XCTAssertEqual(withMillis.timeIntervalSince1970, 1_255_369_830.25, accuracy: 0.0005)
    }

    func testISO8601WithoutFraction() {
        XCTAssertEqual(ObjectInfo.date("2009-10-12T17:50:30Z"), Date(timeIntervalSince1970: 1_255_369_830))
    }

    func testISO8601WithAnOffset() {
        XCTAssertEqual(ObjectInfo.date("2009-10-12T19:50:30.000+02:00"), Date(timeIntervalSince1970: 1_255_369_830))
    }

    func testNoOrBadDate() {
        XCTAssertNil(ObjectInfo.date(nil))
        XCTAssertNil(ObjectInfo.date(""))
        XCTAssertNil(ObjectInfo.date("yesterday"))
        XCTAssertNil(ObjectInfo.date("2009-10-12"))
    }

    func testUnquotedETag() {
        XCTAssertEqual(ObjectInfo.unquoted("\"fba9dede5f27731c9771645a39863328\""), "fba9dede5f27731c9771645a39863328")
        XCTAssertEqual(ObjectInfo.unquoted("\"abc-3\""), "abc-3")
        XCTAssertEqual(ObjectInfo.unquoted("abc"), "abc")
        XCTAssertEqual(ObjectInfo.unquoted("\""), "\"")
        XCTAssertEqual(ObjectInfo.unquoted("\"\""), "")
        XCTAssertEqual(ObjectInfo.unquoted(nil), "")
    }
}
