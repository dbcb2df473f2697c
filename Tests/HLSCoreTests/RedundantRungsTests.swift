import XCTest
import HLSCore

final class RedundantRungsTests: XCTestCase {
    /// Renditions largest first from (name, bytes) pairs.
    private func find(_ renditions: [(String, Int)]) -> [String] {
        RedundantRungs.find(renditions.map { RedundantRungs.Measured(name: $0.0, bytes: $0.1) })
            .map { "\($0.name) \($0.bytes) < \($0.lower) \($0.lowerBytes)" }
    }

    func testNothingToCompare() {
        XCTAssertEqual(find([]), [])
        XCTAssertEqual(find([("1080p", 1000)]), [])
        XCTAssertEqual(RedundantRungs.closeness, 0.9)
    }

    func testALowerRungAtNinetyPercentDropsTheHigher() {
        XCTAssertEqual(find([("1080p", 1000), ("720p", 900)]), ["1080p 1000 < 720p 900"])
        XCTAssertEqual(find([("1080p", 10), ("720p", 9)]), ["1080p 10 < 720p 9"])
        XCTAssertEqual(find([("1080p", 1_000_000_000_000), ("720p", 900_000_000_000)]),
                       ["1080p 1000000000000 < 720p 900000000000"])
        // A lower rung that came out larger makes the higher one redundant too.
        XCTAssertEqual(find([("1080p", 1000), ("720p", 1200)]), ["1080p 1000 < 720p 1200"])
        XCTAssertEqual(find([("1080p", 1000), ("720p", 1000)]), ["1080p 1000 < 720p 1000"])
    }

    func testExactlyNinetyPercentCountsForEveryMultipleOfTen() {
        // 0.9 is not exact in binary; the product must never round above the lower rung's bytes.
        for tenth in 1...20_000 {
            let found = RedundantRungs.find([.init(name: "high", bytes: tenth * 10), .init(name: "low", bytes: tenth * 9)])
            XCTAssertEqual(found.map(\.name), ["high"], "\(tenth * 9) of \(tenth * 10) bytes")
        }
    }

    func testJustBelowNinetyPercentKeepsBoth() {
        XCTAssertEqual(find([("1080p", 1000), ("720p", 899)]), [])
        XCTAssertEqual(find([("1080p", 10_000), ("720p", 8_999)]), [])
        XCTAssertEqual(find([("1080p", 5_000_000), ("720p", 2_800_000), ("480p", 1_400_000)]), [])
    }

    func testChainsCompareWithTheNearestKeptLowerRung() {
        // 720p (95) goes against 480p (92); then 1080p (100) is compared with 480p, not 720p: 92 ≥ 90.
        XCTAssertEqual(find([("1080p", 100), ("720p", 95), ("480p", 92)]),
                       ["1080p 100 < 480p 92", "720p 95 < 480p 92"])
    }

    func testAfterADropTheComparisonSkipsTheDroppedRung() {
        // 720p (95) goes against 480p (89). 1080p would be redundant against 720p (95 ≥ 90) but is
        // compared with 480p: 89 < 90, so it stays.
        XCTAssertEqual(find([("1080p", 100), ("720p", 95), ("480p", 89)]), ["720p 95 < 480p 89"])
    }

    func testAKeptRungBecomesTheNextComparison() {
        // 480p (500) goes against 360p (480); 720p (950) is kept against 360p; 1080p (1000) then
        // goes against 720p.
        XCTAssertEqual(find([("1080p", 1000), ("720p", 950), ("480p", 500), ("360p", 480)]),
                       ["1080p 1000 < 720p 950", "480p 500 < 360p 480"])
    }

    func testAllButTheSmallestCanGo() {
        XCTAssertEqual(find([("1080p", 100), ("720p", 100), ("480p", 100), ("360p", 100), ("240p", 100)]),
                       ["1080p 100 < 240p 100", "720p 100 < 240p 100", "480p 100 < 240p 100", "360p 100 < 240p 100"])
    }

    func testZeroBytes() {
        // A rendition of no bytes is never found redundant (no share of nothing).
        XCTAssertEqual(find([("1080p", 0), ("720p", 0)]), [])
        XCTAssertEqual(find([("1080p", 0), ("720p", 500)]), [])
        // A lower rendition of no bytes makes nothing redundant.
        XCTAssertEqual(find([("1080p", 1000), ("720p", 0)]), [])
        // A zero-byte rung kept in the middle is what the rung above is compared with.
        XCTAssertEqual(find([("1080p", 1000), ("720p", 0), ("480p", 950)]), [])
    }

    func testFindingsComeLargestFirst() {
        let findings = RedundantRungs.find([
            .init(name: "1080p", bytes: 1000), .init(name: "720p", bytes: 950), .init(name: "480p", bytes: 500),
            .init(name: "360p", bytes: 480), .init(name: "240p", bytes: 100),
        ])
        XCTAssertEqual(findings.map(\.name), ["1080p", "480p"])
        XCTAssertEqual(findings.map(\.lower), ["720p", "360p"])
        XCTAssertEqual(findings.map(\.lowerBytes), [950, 480])
        XCTAssertEqual(findings.map(\.bytes), [1000, 500])
    }

    /// Names of the findings that must stay so that the set keeps two video bit rates.
    private func needed(_ renditions: [(String, Int)]) -> [String] {
        RedundantRungs.find(renditions.map { RedundantRungs.Measured(name: $0.0, bytes: $0.1) })
            .filter(\.neededForMinimum).map(\.name)
    }

    func testTwoVideoBitRatesStayWhateverTheBytes() {
        XCTAssertEqual(RedundantRungs.minimumKept, 2)
        // Two rungs: the redundant one stays.
        XCTAssertEqual(needed([("1080p", 1000), ("720p", 950)]), ["1080p"])
        // A blank slide: everything above 240p is redundant; the largest stays beside 240p.
        let blank = [("1080p", 121_448), ("720p", 119_192), ("480p", 119_192), ("360p", 118_252), ("240p", 118_064)]
        XCTAssertEqual(find(blank).count, 4)
        XCTAssertEqual(needed(blank), ["1080p"])
        // Enough rungs left: nothing is needed.
        XCTAssertEqual(needed([("1080p", 1000), ("720p", 950), ("480p", 500)]), [])
        XCTAssertEqual(needed([("1080p", 1000)]), [])
    }
}
