import HLSCore
import XCTest

final class FNV1aTests: XCTestCase {
    /// Reference values of the FNV-1a specification's test suite.
    func testKnownValues() {
        XCTAssertEqual(FNV1a.hex64(""), "cbf29ce484222325")
        XCTAssertEqual(FNV1a.hex64("a"), "af63dc4c8601ec8c")
        XCTAssertEqual(FNV1a.hex64("foobar"), "85944171f73967e8")
        XCTAssertEqual(FNV1a.hex32(""), "811c9dc5")
        XCTAssertEqual(FNV1a.hex32("a"), "e40c292c")
        XCTAssertEqual(FNV1a.hex32("foobar"), "bf9cf968")
    }
}
