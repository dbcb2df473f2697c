import XCTest
@testable import HLSKit

/// The hidden folder names beside an output fit in NAME_MAX for any output name, stay
/// recognisable by their prefix, and keep short names exactly as before.
final class StagingNameTests: XCTestCase {
    private let largestPID = Int32.max
    private let largestRandom = UInt32.max

    func testShortNamesKeepTheReadableScheme() {
        XCTAssertEqual(StagingName.staging(forOutputName: "lecture", pid: 4242, random: 7), ".lecture.hlsify-staging-4242-7")
        XCTAssertEqual(StagingName.old(forOutputName: "lecture", pid: 4242), ".lecture.hlsify-staging-4242-old")
        XCTAssertEqual(StagingName.prefix(forOutputName: "lecture"), ".lecture.hlsify-staging-")
    }

    func testEveryNameFitsNameMaxForAnyLengthOfASCIIName() {
        for length in [1, 200, 217, 218, 230, 250, 255] {
            let name = String(repeating: "l", count: length)
            let staging = StagingName.staging(forOutputName: name, pid: largestPID, random: largestRandom)
            let old = StagingName.old(forOutputName: name, pid: largestPID)
            XCTAssertLessThanOrEqual(staging.utf8.count, 255, "\(length)-byte name: \(staging.utf8.count) bytes")
            XCTAssertLessThanOrEqual(old.utf8.count, 255, "\(length)-byte name")
            XCTAssertTrue(staging.hasPrefix("."), "hidden")
            XCTAssertTrue(staging.contains(".hlsify-staging-\(largestPID)-"), staging)
        }
        // The longest name kept whole, and the first one cut: the budget is used exactly.
        XCTAssertEqual(StagingName.staging(forOutputName: String(repeating: "l", count: 217), pid: largestPID,
                                           random: largestRandom).utf8.count, 255)
        XCTAssertTrue(StagingName.prefix(forOutputName: String(repeating: "l", count: 217)).hasPrefix(".\(String(repeating: "l", count: 217)).hlsify-"))
        XCTAssertTrue(StagingName.prefix(forOutputName: String(repeating: "l", count: 218)).contains("~"))
    }

    func testLongMultiByteNamesAreCutOnACharacterBoundary() throws {
        // 2-, 3- and 4-byte characters, lined up so that a byte cut would split one.
        for unit in ["é", "講", "🎓", "a講"] {
            let name = String(repeating: unit, count: 255 / unit.utf8.count)
            let staging = StagingName.staging(forOutputName: name, pid: largestPID, random: largestRandom)
            XCTAssertLessThanOrEqual(staging.utf8.count, 255, "\(unit): \(staging.utf8.count) bytes")
            // Valid UTF-8 all through: decoding the bytes strictly gives the same text back.
            let bytes = Array(staging.utf8)
            XCTAssertEqual(String(validating: bytes, as: UTF8.self), staging)
            let tag = try XCTUnwrap(staging.dropFirst().components(separatedBy: ".hlsify-staging-").first)
            let kept = try XCTUnwrap(tag.components(separatedBy: "~").first)
            XCTAssertTrue(name.hasPrefix(kept), "\(unit): the tag does not start with the name")
            XCTAssertGreaterThan(kept.utf8.count, 200 - unit.utf8.count, "\(unit): cut more than needed")
        }
    }

    func testLongNamesWithTheSameBeginningGetDifferentPrefixes() {
        let common = String(repeating: "x", count: 240)
        let a = StagingName.prefix(forOutputName: common + "-part1")
        let b = StagingName.prefix(forOutputName: common + "-part2")
        XCTAssertNotEqual(a, b)
        XCTAssertFalse(a.hasPrefix(b) || b.hasPrefix(a), "one's clean-up would take the other's folders")
        XCTAssertEqual(a, StagingName.prefix(forOutputName: common + "-part1"), "stable across runs")
    }

    func testThePIDIsReadBackFromEveryForm() {
        for name in ["lecture", String(repeating: "講", count: 85)] {
            let prefix = StagingName.prefix(forOutputName: name)
            XCTAssertEqual(StagingName.pid(in: StagingName.staging(forOutputName: name, pid: 31337, random: 9), prefix: prefix), 31337)
            XCTAssertEqual(StagingName.pid(in: StagingName.old(forOutputName: name, pid: 31337), prefix: prefix), 31337)
            XCTAssertNil(StagingName.pid(in: ".other.hlsify-staging-1-2", prefix: prefix))
        }
    }

    func testASmallerNameMaxIsHonoured() {
        let name = String(repeating: "n", count: 140)
        let staging = StagingName.staging(forOutputName: name, pid: largestPID, random: largestRandom, nameMax: 143)
        XCTAssertLessThanOrEqual(staging.utf8.count, 143, staging)
    }
}
