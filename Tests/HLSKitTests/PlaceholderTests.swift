import XCTest
@testable import HLSKit
final class HLSKitPlaceholderTests: XCTestCase { func testModuleLoads() { XCTAssertNotNil(HLSCore.self) } }
