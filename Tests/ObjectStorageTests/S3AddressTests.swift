import XCTest
@testable import ObjectStorage

final class S3AddressTests: XCTestCase {
    /// The message of the `invalidAddress` error `body` throws; fails when it throws nothing or something else.
    private func invalid(_ body: () throws -> S3Address, file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            let address = try body()
            XCTFail("accepted as \(address)", file: file, line: line)
            return nil
        } catch {
            guard case .invalidAddress(let message)? = error as? StorageError else {
                XCTFail("threw \(error), not invalidAddress", file: file, line: line)
                return nil
            }
            return message
        }
    }

    private func refused(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        _ = invalid({ try S3Address(parsing: text) }, file: file, line: line)
    }

    // MARK: Parsing

    func testParsesBucketAndKey() throws {
        let address = try S3Address(parsing: "s3://my-bucket/videos/2024/clip.mp4")
        XCTAssertEqual(address.bucket, "my-bucket")
        XCTAssertEqual(address.key, "videos/2024/clip.mp4")
        XCTAssertEqual(address.lastComponent, "clip.mp4")
    }

    func testBucketOnly() throws {
        XCTAssertEqual(try S3Address(parsing: "s3://my-bucket").key, "")
        XCTAssertEqual(try S3Address(parsing: "s3://my-bucket/").key, "")
        XCTAssertEqual(try S3Address(parsing: "s3://my-bucket").lastComponent, "")
    }

    func testOneTrailingSlashIsAPrefix() throws {
        let address = try S3Address(parsing: "s3://my-bucket/out/set/")
        XCTAssertEqual(address.key, "out/set")
        XCTAssertEqual(address, try S3Address(parsing: "s3://my-bucket/out/set"))
    }

    func testTwoTrailingSlashesAreRefused() {
        refused("s3://my-bucket/out//")
    }

    func testOnlyS3SchemeIsAnAddress() {
        XCTAssertTrue(S3Address.isAddress("s3://b/k"))
        XCTAssertFalse(S3Address.isAddress("/tmp/s3://x"))
        XCTAssertFalse(S3Address.isAddress("S3://bucket/k"))
        refused("https://bucket/key")
        refused("S3://bucket/key")
        refused("bucket/key")
        refused("")
    }

    func testBucketNamingRules() throws {
        for good in ["abc", "my-bucket", "my.bucket.name", "123", "a-1.b-2", String(repeating: "a", count: 63)] {
            XCTAssertEqual(try S3Address(parsing: "s3://\(good)/k").bucket, good)
        }
        for bad in ["", "ab", String(repeating: "a", count: 64), "My-Bucket", "my_bucket", "-bucket", "bucket-", ".bucket",
                    "bucket.", "my..bucket", "buck et", "bück"] {
            refused("s3://\(bad)/k")
        }
    }

    func testBucketErrorNamesTheBucket() {
        let message = invalid { try S3Address(parsing: "s3://Bad_Bucket/k") }
        XCTAssertTrue(message?.contains("Bad_Bucket") ?? false, message ?? "")
    }

    func testKeysWithDotComponentsAreRefused() {
        refused("s3://bucket/..")
        refused("s3://bucket/a/../b")
        refused("s3://bucket/a/..")
        refused("s3://bucket/.")
        refused("s3://bucket/./a")
        refused("s3://bucket/a/./b")
    }

    func testDotsInsideANameAreFine() throws {
        XCTAssertEqual(try S3Address(parsing: "s3://bucket/a..b/.hidden/...").key, "a..b/.hidden/...")
    }

    func testEmptyComponentsAreRefused() {
        refused("s3://bucket/a//b")
        refused("s3://bucket//a")
    }

    func testBackslashAndControlCharactersAreRefused() {
        refused("s3://bucket/a\\b")
        refused("s3://bucket/..\\x")
        refused("s3://bucket/a\nb")
        refused("s3://bucket/a\tb")
        refused("s3://bucket/a\u{0}b")
        refused("s3://bucket/a\u{7F}b")
    }

    func testSpacesAndUnicodeAreFine() throws {
        XCTAssertEqual(try S3Address(parsing: "s3://bucket/my clip/été.mp4").key, "my clip/été.mp4")
    }

    func testKeyLengthLimitIsInBytes() throws {
        XCTAssertEqual(try S3Address(parsing: "s3://bucket/" + String(repeating: "a", count: 1024)).key.utf8.count, 1024)
        refused("s3://bucket/" + String(repeating: "a", count: 1025))
        XCTAssertEqual(try S3Address(parsing: "s3://bucket/" + String(repeating: "é", count: 512)).key.utf8.count, 1024)
        refused("s3://bucket/" + String(repeating: "é", count: 513))  // 513 characters, 1026 bytes
    }

    func testInitFromBucketAndKeyChecksToo() throws {
        XCTAssertEqual(try S3Address(bucket: "bucket", key: "a/b").description, "s3://bucket/a/b")
        XCTAssertEqual(try S3Address(bucket: "bucket", key: "").description, "s3://bucket")
        _ = invalid { try S3Address(bucket: "bucket", key: "a/../b") }
        _ = invalid { try S3Address(bucket: "BUCKET", key: "a") }
    }

    // MARK: Appending

    func testAppendingStaysUnderThePrefix() throws {
        let base = try S3Address(parsing: "s3://bucket/out/set")
        let child = try base.appending("v0/seg_00001.m4s")
        XCTAssertEqual(child.bucket, "bucket")
        XCTAssertEqual(child.key, "out/set/v0/seg_00001.m4s")
        XCTAssertEqual(try S3Address(parsing: "s3://bucket").appending("master.m3u8").key, "master.m3u8")
    }

    func testAppendingRefusesAbsolutePaths() throws {
        let base = try S3Address(parsing: "s3://bucket/out")
        let message = invalid { try base.appending("/etc/passwd") }
        XCTAssertTrue(message?.contains("/etc/passwd") ?? false, message ?? "")
    }

    func testAppendingRefusesOtherPlaces() throws {
        let base = try S3Address(parsing: "s3://bucket/out")
        _ = invalid { try base.appending("s3://other/x") }
        _ = invalid { try base.appending("https://example.com/x") }
    }

    func testAppendingRefusesClimbingAndEmptyComponents() throws {
        let base = try S3Address(parsing: "s3://bucket/out")
        for relative in ["..", "../x", "a/../../x", "a/..", ".", "./a", "", "a//b", "a/", "a\\b", "a\nb"] {
            _ = invalid { try base.appending(relative) }
        }
    }

    func testAppendingRefusesTooLongRelativeKeys() throws {
        let base = try S3Address(parsing: "s3://bucket/out")
        _ = invalid { try base.appending(String(repeating: "a", count: 1025)) }
    }

    // MARK: Listing and printing

    func testListingPrefix() throws {
        XCTAssertEqual(try S3Address(parsing: "s3://bucket/out/set").listingPrefix, "out/set/")
        XCTAssertEqual(try S3Address(parsing: "s3://bucket/out/set/").listingPrefix, "out/set/")
        XCTAssertEqual(try S3Address(parsing: "s3://bucket").listingPrefix, "")
    }

    func testDescriptionRoundTrips() throws {
        for text in ["s3://bucket", "s3://bucket/a", "s3://my.bucket/a b/c.m3u8", "s3://bucket/été/x"] {
            let address = try S3Address(parsing: text)
            XCTAssertEqual(address.description, text)
            XCTAssertEqual(try S3Address(parsing: address.description), address)
        }
        XCTAssertEqual(try S3Address(parsing: "s3://bucket/prefix/").description, "s3://bucket/prefix")
    }

    func testChildJoinsWithoutChecks() throws {
        XCTAssertEqual(try S3Address(parsing: "s3://bucket/out").child("x.ts").key, "out/x.ts")
        XCTAssertEqual(try S3Address(parsing: "s3://bucket").child("x.ts").key, "x.ts")
    }
}
