import Foundation
import XCTest
import HLSCore

final class QualitySumsTests: XCTestCase {
    func testNothingMeasured() {
        let sums = QualitySums()
        XCTAssertEqual(sums.frames, 0)
        XCTAssertEqual(sums.meanSSIM, 0)
        XCTAssertEqual(sums.meanSSIMY, 0)
        XCTAssertEqual(sums.psnr, 0)
        XCTAssertFalse(sums.meanSSIM.isNaN)
    }

    func testAddSumsFramesAndMeans() {
        var sums = QualitySums()
        sums.add(ssim: 0.90, ssimY: 0.80, squaredError: 10, samples: 100)
        sums.add(ssim: 0.96, ssimY: 0.90, squaredError: 30, samples: 100)
        XCTAssertEqual(sums.frames, 2)
        XCTAssertEqual(sums.ssim, 1.86, accuracy: 1e-12)
        XCTAssertEqual(sums.ssimY, 1.70, accuracy: 1e-12)
        XCTAssertEqual(sums.squaredError, 40)
        XCTAssertEqual(sums.samples, 200)
        XCTAssertEqual(sums.meanSSIM, 0.93, accuracy: 1e-12)
        XCTAssertEqual(sums.meanSSIMY, 0.85, accuracy: 1e-12)
    }

    func testNoErrorIsTheMaximumPSNR() {
        var sums = QualitySums()
        sums.add(ssim: 1, ssimY: 1, squaredError: 0, samples: 3_110_400)
        XCTAssertEqual(sums.psnr, QualitySums.maximumPSNR)
        XCTAssertEqual(QualitySums.maximumPSNR, 100)
        XCTAssertEqual(sums.meanSSIM, 1)
    }

    func testPSNRIsCappedAtTheMaximum() {
        var sums = QualitySums()
        // MSE 1e-20: 10·log10(65025 / 1e-20) ≈ 248 dB.
        sums.add(ssim: 1, ssimY: 1, squaredError: 1e-14, samples: 1e6)
        XCTAssertEqual(sums.psnr, 100)
        // MSE 65025e-10: exactly 100 dB, not capped.
        var edge = QualitySums()
        edge.add(ssim: 1, ssimY: 1, squaredError: 65025e-10 * 1000, samples: 1000)
        XCTAssertEqual(edge.psnr, 100, accuracy: 1e-9)
        // MSE 65025e-9: 90 dB.
        var high = QualitySums()
        high.add(ssim: 1, ssimY: 1, squaredError: 65025e-9 * 1000, samples: 1000)
        XCTAssertEqual(high.psnr, 90, accuracy: 1e-9)
    }

    func testKnownMSEGivesKnownDecibels() {
        let cases: [(mse: Double, db: Double)] = [(65025, 0), (6502.5, 10), (650.25, 20), (65.025, 30), (6.5025, 40), (1, 48.130803608679)]
        for (mse, db) in cases {
            var sums = QualitySums()
            sums.add(ssim: 0.9, ssimY: 0.9, squaredError: mse * 500, samples: 500)
            XCTAssertEqual(sums.psnr, db, accuracy: 1e-9, "MSE \(mse)")
        }
    }

    func testPSNRIsOverAllSamplesNotAMeanOfFrames() {
        var sums = QualitySums()
        sums.add(ssim: 1, ssimY: 1, squaredError: 0, samples: 100)          // a perfect frame (100 dB alone)
        sums.add(ssim: 0.9, ssimY: 0.9, squaredError: 65025, samples: 100)  // MSE 650.25 (20 dB alone)
        // MSE over both: 65025 / 200 = 325.125 → 10·log10(200) ≈ 23.01 dB, not the frames' mean of 60 dB.
        XCTAssertEqual(sums.psnr, 10 * log10(200.0), accuracy: 1e-9)
    }

    func testMergeEqualsAddingEveryFrameInOnePart() {
        let frames: [(Double, Double, Double, Double)] = [(0.91, 0.88, 120, 1000), (0.95, 0.93, 60, 1000), (0.99, 0.98, 5, 1000),
                                                          (0.97, 0.96, 20, 1000), (0.93, 0.90, 90, 1000)]
        var whole = QualitySums()
        for f in frames { whole.add(ssim: f.0, ssimY: f.1, squaredError: f.2, samples: f.3) }
        var first = QualitySums(), second = QualitySums()
        for f in frames.prefix(2) { first.add(ssim: f.0, ssimY: f.1, squaredError: f.2, samples: f.3) }
        for f in frames.dropFirst(2) { second.add(ssim: f.0, ssimY: f.1, squaredError: f.2, samples: f.3) }
        var merged = first
        merged.merge(second)
        XCTAssertEqual(merged.frames, 5)
        XCTAssertEqual(merged.ssim, whole.ssim, accuracy: 1e-12)
        XCTAssertEqual(merged.ssimY, whole.ssimY, accuracy: 1e-12)
        XCTAssertEqual(merged.squaredError, whole.squaredError)
        XCTAssertEqual(merged.samples, whole.samples)
        XCTAssertEqual(merged.meanSSIM, whole.meanSSIM, accuracy: 1e-12)
        XCTAssertEqual(merged.psnr, whole.psnr, accuracy: 1e-12)
        XCTAssertEqual(merged.meanSSIM, 0.95, accuracy: 1e-12)
    }

    func testMergingNothingChangesNothing() {
        var sums = QualitySums()
        sums.add(ssim: 0.9, ssimY: 0.8, squaredError: 4, samples: 10)
        var merged = sums
        merged.merge(QualitySums())
        XCTAssertEqual(merged, sums)
        var empty = QualitySums()
        empty.merge(sums)
        XCTAssertEqual(empty, sums)
    }

    func testRoundTripsThroughJSON() throws {
        var sums = QualitySums()
        sums.add(ssim: 0.987654321, ssimY: 0.98, squaredError: 12345.678, samples: 3_110_400)
        XCTAssertEqual(try JSONDecoder().decode(QualitySums.self, from: try JSONEncoder().encode(sums)), sums)
    }
}
