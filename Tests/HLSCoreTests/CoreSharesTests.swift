import XCTest
@testable import HLSCore

/// How a transcode shares the cores: decoder threads by decoding's share of the work, x264
/// threads by each rung's share of the pixels, and thread weights when threads outnumber cores.
final class CoreSharesTests: XCTestCase {
    let ladder = [1920 * 1080, 1280 * 720, 854 * 480]

    func testDecoderGetsItsShareOfTheCoresAndAtLeastOne() {
        XCTAssertEqual([1, 2, 4, 6, 7, 8, 16, 64].map { CoreShares.decoderThreads(cores: $0) }, [1, 1, 1, 1, 2, 2, 3, 10])
    }

    func testTwoCoresSliceTheHeaviestRungAndWeightEveryThreadByItsDemand() {
        let shares = CoreShares(rungPixels: ladder, cores: 2, decoderThreads: 1)
        XCTAssertEqual(shares.encoderThreads, [2, 1, 1])
        XCTAssertEqual(shares.slicedThreads, [true, false, false])
        // 1080p needs 1.04 cores, 720p 0.46 (weight 1/2.26: 4 steps of 1.25), 480p 0.20 (7 steps),
        // decoding 0.30 (6 steps).
        XCTAssertEqual(shares.encoderNice, [0, 4, 7])
        XCTAssertEqual(shares.decoderNice, 6)
    }

    func testTheHeaviestRungIsFoundWhereverItIsListed() {
        let shares = CoreShares(rungPixels: ladder.reversed(), cores: 2, decoderThreads: 1)
        XCTAssertEqual(shares.encoderThreads, [1, 1, 2])
        XCTAssertEqual(shares.encoderNice, [7, 4, 0])
    }

    func testOneCoreRunsEveryRungOnOneThread() {
        let shares = CoreShares(rungPixels: ladder, cores: 1, decoderThreads: 1)
        XCTAssertEqual(shares.encoderThreads, [1, 1, 1])
        XCTAssertEqual(shares.slicedThreads, [false, false, false])
    }

    func testHeavierRungsNeverGetLessWeight() {
        for cores in 1...2 {
            let shares = CoreShares(rungPixels: ladder, cores: cores, decoderThreads: 1)
            XCTAssertEqual(shares.encoderNice, shares.encoderNice.sorted(), "cores \(cores)")
            XCTAssertEqual(shares.encoderNice.first, 0)
        }
    }

    func testMoreCoresSplitTheRungsIntoX264ThreadsAtEqualPriority() {
        let eight = CoreShares(rungPixels: ladder, cores: 8, decoderThreads: 2)
        XCTAssertEqual(eight.encoderThreads, [5, 3, 1])
        XCTAssertEqual(eight.slicedThreads, [false, false, false])
        XCTAssertEqual(eight.encoderNice, [0, 0, 0])
        XCTAssertEqual(eight.decoderNice, 0)
        XCTAssertEqual(CoreShares(rungPixels: ladder, cores: 3, decoderThreads: 1).encoderThreads, [2, 1, 1])
    }

    func testOneRungUsesEveryCore() {
        let shares = CoreShares(rungPixels: [1280 * 720], cores: 2, decoderThreads: 1)
        XCTAssertEqual(shares.encoderThreads, [2])
        XCTAssertEqual(shares.encoderNice, [0])
    }

    func testOverridesReplaceThreadsAndDropWeights() {
        let planned = CoreShares(rungPixels: ladder, cores: 2, decoderThreads: 1)
        XCTAssertEqual(planned.overriding(encoderThreads: nil, weighted: true), planned)
        let fixed = planned.overriding(encoderThreads: 3, weighted: true)
        XCTAssertEqual(fixed.encoderThreads, [3, 3, 3])
        XCTAssertEqual(fixed.slicedThreads, [false, false, false])
        XCTAssertEqual(fixed.encoderNice, [0, 0, 0])
        XCTAssertEqual(fixed.decoderNice, 0)
        let unweighted = planned.overriding(encoderThreads: nil, weighted: false)
        XCTAssertEqual(unweighted.encoderThreads, [2, 1, 1])
        XCTAssertEqual(unweighted.slicedThreads, [true, false, false])
        XCTAssertEqual(unweighted.encoderNice, [0, 0, 0])
        XCTAssertEqual(unweighted.decoderNice, 0)
    }

    func testDegenerateInputsStayInRange() {
        XCTAssertEqual(CoreShares(rungPixels: [0, 0], cores: 0, decoderThreads: 0).encoderThreads, [1, 1])
        XCTAssertEqual(CoreShares.nice(demand: 0, busiest: 1), 19)
        XCTAssertEqual(CoreShares.nice(demand: 1e-9, busiest: 1), 19)
        XCTAssertEqual(CoreShares.nice(demand: 1, busiest: 1), 0)
        XCTAssertEqual(CoreShares.nice(demand: 1, busiest: 1.25), 1)
    }
}
