import XCTest
@testable import ObjectStorage

/// Which existing keys a publication may delete: never anything beside the set.
final class PublisherRulesTests: XCTestCase {
    func testStaleKeysAreTheOldInventoryAndLeftoversInTheNewSetsFolders() {
        let existing: Set = ["master.m3u8", "720p/index.m3u8", "720p/segment-00099.m4s", "480p/index.m3u8", "480p/segment-00000.m4s",
                             "lecture.mp4", "course-2/master.m3u8", "course-2/720p/segment-00000.m4s", ".hlsify-work/split/plan.json",
                             "notes/readme.txt"]
        let previous: Set = ["master.m3u8", "720p/index.m3u8", "480p/index.m3u8", "480p/segment-00000.m4s"]
        let files: Set = ["master.m3u8", "720p/index.m3u8", "720p/segment-00000.m4s", ".hlsify-output.json"]
        XCTAssertEqual(BucketPublisher.stale(existing: existing, previous: previous, files: files),
                       ["480p/index.m3u8", "480p/segment-00000.m4s", "720p/segment-00099.m4s"])
    }

    func testWithoutAnInventoryOnlyTheNewSetsFoldersAreCleaned() {
        let existing: Set = ["a.mp4", "other/x.bin", "720p/segment-00005.m4s"]
        XCTAssertEqual(BucketPublisher.stale(existing: existing, previous: [], files: ["master.m3u8", "720p/index.m3u8"]),
                       ["720p/segment-00005.m4s"])
    }

    func testAnIncompleteSetIsTheMasterFirstThenRenditionFolders() {
        let keys = ["720p/segment-00000.m4s", "720p/index.m3u8", "master.m3u8", "upload.mp4", "course-2/720p/index.m3u8",
                    ".hlsify-work/split/failed.json", ".hlsify-output.json", "audio/init.mp4"]
        XCTAssertEqual(BucketPublisher.incompleteSet(in: keys),
                       ["master.m3u8", ".hlsify-output.json", "720p/index.m3u8", "720p/segment-00000.m4s"])
    }
}
