import XCTest
@testable import ObjectStorage

final class StorageErrorTests: XCTestCase {
    private let every: [StorageError] = [
        .invalidAddress("a"), .configuration("c"), .notFound("n"), .accessDenied("d"), .tooLarge("t"), .rejected("r"),
        .unavailable("u"), .local("l"), .cannotPublish("p"), .cancelled,
    ]

    func testExitCodes() {
        XCTAssertEqual(StorageError.notFound("x").exitCode, 66)
        XCTAssertEqual(StorageError.accessDenied("x").exitCode, 77)
        XCTAssertEqual(StorageError.unavailable("x").exitCode, 69)
        XCTAssertEqual(StorageError.tooLarge("x").exitCode, 65)
        XCTAssertEqual(StorageError.invalidAddress("x").exitCode, 64)
        XCTAssertEqual(StorageError.configuration("x").exitCode, 64)
        XCTAssertEqual(StorageError.local("x").exitCode, 74)
        XCTAssertEqual(StorageError.rejected("x").exitCode, 76)
        XCTAssertEqual(StorageError.cannotPublish("x").exitCode, 73)
        XCTAssertEqual(StorageError.cancelled.exitCode, 130)
    }

    func testNoErrorExitsWithSuccess() {
        for error in every { XCTAssertNotEqual(error.exitCode, 0, "\(error)") }
    }

    func testTransientErrors() {
        XCTAssertTrue(StorageError.unavailable("x").isTransient)
        XCTAssertTrue(StorageError.local("x").isTransient)
    }

    func testPermanentErrors() {
        for error in every where error != .unavailable("u") && error != .local("l") {
            XCTAssertFalse(error.isTransient, "\(error)")
        }
    }

    func testDescriptionIsTheMessage() {
        XCTAssertEqual(StorageError.notFound("s3://b/k: NoSuchKey").description, "s3://b/k: NoSuchKey")
        XCTAssertEqual(StorageError.cancelled.description, "cancelled")
        XCTAssertEqual("\(StorageError.rejected("one line"))", "one line")
    }

    func testEquality() {
        XCTAssertEqual(StorageError.local("x"), .local("x"))
        XCTAssertNotEqual(StorageError.local("x"), .local("y"))
        XCTAssertNotEqual(StorageError.local("x"), .unavailable("x"))
    }
}
