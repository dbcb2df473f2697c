import XCTest
import HLSCore

final class BandwidthTests: XCTestCase {
    /// Segments of the given (seconds, bytes), back to back.
    private func segments(_ pairs: [(Double, Int)]) -> [SegmentRecord] {
        var start = 0.0
        return pairs.enumerated().map { i, pair in
            defer { start += pair.0 }
            return SegmentRecord(index: i, uri: "s\(i).m4s", duration: pair.0, byteSize: pair.1, startTime: start)
        }
    }

    func testWholeSegmentsAtTargetDuration() {
        // 2, 4 and 1 Mb/s over 4 s each: only single segments fit 2…6 s, so the peak is 4 Mb/s;
        // 28 Mbit over 12 s is 2333333.3 b/s, rounded up.
        let stats = Bandwidth.measure(segments([(4, 1_000_000), (4, 2_000_000), (4, 500_000)]), targetDuration: 4)
        XCTAssertEqual(stats, BandwidthStats(peak: 4_000_000, average: 2_333_334))
    }

    func testWindowsSmoothShortSegments() {
        // 2 s segments, target 6: windows must last 3…9 s, so 2 to 4 segments. The 7.2 Mbit segment
        // alone would be 3.6 Mb/s but every window holding it lasts at least 4 s: 8 Mbit / 4 s.
        let stats = Bandwidth.measure(segments([(2, 100_000), (2, 900_000), (2, 100_000), (2, 100_000)]), targetDuration: 6)
        XCTAssertEqual(stats, BandwidthStats(peak: 2_000_000, average: 1_200_000))
    }

    func testShortLastSegmentJoinsAWindow() {
        // [4 s, 4 Mbit] and [0.5 s, 1.6 Mbit]: the pair lasts 4.5 s ≤ 6: 5.6 Mbit / 4.5 s = 1244444.4.
        let stats = Bandwidth.measure(segments([(4, 500_000), (0.5, 200_000)]), targetDuration: 4)
        XCTAssertEqual(stats, BandwidthStats(peak: 1_244_445, average: 1_244_445))
    }

    func testSingleShortSegmentUsesItsOwnRate() {
        let stats = Bandwidth.measure(segments([(1, 1000)]), targetDuration: 4)
        XCTAssertEqual(stats, BandwidthStats(peak: 8000, average: 8000))
    }

    func testWindowBoundsAreInclusive() {
        // Target 4: a 2 s window and a 6 s window both count.
        let twoSeconds = Bandwidth.measure(segments([(2, 10_000), (6, 6_000)]), targetDuration: 4)
        XCTAssertEqual(twoSeconds.peak, 40_000)
        // Only the 6 s segment forms a window (80 kb/s); were 6 s excluded, the 96 kb/s 1 s segment would win.
        let sixSeconds = Bandwidth.measure(segments([(1, 12_000), (6, 60_000), (1, 1_000)]), targetDuration: 4)
        XCTAssertEqual(sixSeconds, BandwidthStats(peak: 80_000, average: 73_000))
    }

    func testFloatingNoiseDoesNotAddABit() {
        // Ten 0.1 s segments of 100 bytes: exactly 8000 b/s, although 0.1 × 10 sums to 0.9999999999999999.
        let stats = Bandwidth.measure(segments(Array(repeating: (0.1, 100), count: 10)), targetDuration: 1)
        XCTAssertEqual(stats, BandwidthStats(peak: 8000, average: 8000))
    }

    func testPeakNeverBelowAverage() {
        // The 10 s segment is in no 2…6 s window; the peak still may not claim less than the average.
        let stats = Bandwidth.measure(segments([(4, 1_000), (10, 100_000)]), targetDuration: 4)
        XCTAssertEqual(stats.average, 57_715)  // 808000 bits / 14 s = 57714.3
        XCTAssertEqual(stats.peak, 57_715)
    }

    func testEmptyAndDurationless() {
        XCTAssertEqual(Bandwidth.measure([], targetDuration: 4), BandwidthStats(peak: 0, average: 0))
        XCTAssertEqual(Bandwidth.measure(segments([(0, 1000)]), targetDuration: 4), BandwidthStats(peak: 0, average: 0))
        // A zero-length segment adds its bytes to windows around it.
        let stats = Bandwidth.measure(segments([(4, 1000), (0, 1000), (4, 1000)]), targetDuration: 4)
        XCTAssertEqual(stats, BandwidthStats(peak: 4000, average: 3000))
    }

    func testVideoAndAudioAddUp() {
        XCTAssertEqual(BandwidthStats(peak: 5_000_000, average: 4_000_000) + BandwidthStats(peak: 130_000, average: 128_000),
                       BandwidthStats(peak: 5_130_000, average: 4_128_000))
    }
}
