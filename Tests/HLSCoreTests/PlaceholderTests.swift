import XCTest
@testable import HLSCore
final class PlaceholderTests: XCTestCase { func testModuleLoads() { XCTAssertNotNil(HLSCore.self) } }
