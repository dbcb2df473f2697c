import Foundation
import XCTest
import HLSCore

/// `RateControl`, `EncoderSettings.crf`/`rateControl` and the CRF half of `RungDefaults`.
final class RateControlTests: XCTestCase {
    func testNamesAreTheJobAndCommandLineNames() throws {
        XCTAssertEqual(RateControl.cappedCRF.rawValue, "capped-crf")
        XCTAssertEqual(RateControl.abr.rawValue, "abr")
        XCTAssertEqual(RateControl(rawValue: "capped-crf"), .cappedCRF)
        XCTAssertNil(RateControl(rawValue: "crf"))
        XCTAssertNil(RateControl(rawValue: "ABR"))
        XCTAssertEqual(RateControl.namesText, "capped-crf, abr")
        XCTAssertEqual(String(decoding: try JSONEncoder().encode([RateControl.cappedCRF, .abr]), as: UTF8.self),
                       #"["capped-crf","abr"]"#)
        XCTAssertEqual(try JSONDecoder().decode(RateControl.self, from: Data(#""capped-crf""#.utf8)), .cappedCRF)
    }

    func testEncoderSettingsRateControlFollowsCRF() {
        XCTAssertEqual(EncoderSettings(bitrate: 1, maxrate: 1, bufsize: 2).rateControl, .abr)
        XCTAssertNil(EncoderSettings(bitrate: 1, maxrate: 1, bufsize: 2).crf)
        XCTAssertEqual(EncoderSettings(bitrate: 1, maxrate: 1, bufsize: 2, crf: 22).rateControl, .cappedCRF)
        XCTAssertNotEqual(EncoderSettings(bitrate: 1, maxrate: 1, bufsize: 2, crf: 22),
                          EncoderSettings(bitrate: 1, maxrate: 1, bufsize: 2))
    }

    func testEncoderSettingsWithoutCRFDecodeFromOlderJSON() throws {
        let old = Data(#"{"bitrate": 2800000, "maxrate": 3080000, "bufsize": 5600000}"#.utf8)
        XCTAssertEqual(try JSONDecoder().decode(EncoderSettings.self, from: old),
                       EncoderSettings(bitrate: 2_800_000, maxrate: 3_080_000, bufsize: 5_600_000))
        let capped = EncoderSettings(bitrate: 2_800_000, maxrate: 3_080_000, bufsize: 5_600_000, crf: 21.5)
        XCTAssertEqual(try JSONDecoder().decode(EncoderSettings.self, from: try JSONEncoder().encode(capped)), capped)
    }

    func testDefaultCRFPerShortSide() {
        let expected: [(Int, Double)] = [
            (0, 17), (2, 17), (120, 17), (239, 17), (240, 17), (360, 17), (480, 17), (719, 17),
            (720, 16), (1079, 16), (1080, 18), (1440, 18), (2160, 18), (4320, 18),
        ]
        for (side, crf) in expected {
            XCTAssertEqual(RungDefaults.crf(shortSide: side), crf, "\(side)p")
        }
    }

    /// Every default CRF is one the options accept (the values are measured per rung, not monotonic:
    /// Benchmarks/RESULTS.md).
    func testDefaultCRFsAreAccepted() {
        for side in stride(from: 2, through: 4320, by: 2) {
            let crf = RungDefaults.crf(shortSide: side)
            XCTAssertTrue(RungDefaults.acceptedCRFs.contains(crf), "\(side)p: \(crf)")
        }
    }

    func testAcceptedCRFs() {
        XCTAssertEqual(RungDefaults.acceptedCRFs, 1...51)
        XCTAssertTrue(RungDefaults.acceptedCRFs.contains(1))
        XCTAssertTrue(RungDefaults.acceptedCRFs.contains(51))
        XCTAssertTrue(RungDefaults.acceptedCRFs.contains(23.5))
        XCTAssertFalse(RungDefaults.acceptedCRFs.contains(0), "0 is lossless, which High cannot carry")
        XCTAssertFalse(RungDefaults.acceptedCRFs.contains(0.5))
        XCTAssertFalse(RungDefaults.acceptedCRFs.contains(51.01))
        XCTAssertFalse(RungDefaults.acceptedCRFs.contains(.nan))
        XCTAssertEqual(RungDefaults.acceptedCRFsText, "between 1 and 51")
    }

    func testABRHasNoCRFEvenWhenOneIsGiven() {
        XCTAssertNil(RungDefaults.settings(shortSide: 720, frameRate: 30).crf)
        XCTAssertNil(RungDefaults.settings(shortSide: 720, frameRate: 30, rateControl: .abr).crf)
        XCTAssertEqual(RungDefaults.settings(shortSide: 720, frameRate: 30, rateControl: .abr, crf: 30),
                       EncoderSettings(bitrate: 2_800_000, maxrate: 3_080_000, bufsize: 5_600_000))
    }

    func testCappedCRFKeepsTheABRCeiling() {
        for side in [120, 240, 360, 480, 540, 720, 1080, 1440, 2160] {
            for fps in [24.0, 30, 60] {
                let abr = RungDefaults.settings(shortSide: side, frameRate: fps)
                let capped = RungDefaults.settings(shortSide: side, frameRate: fps, rateControl: .cappedCRF)
                let label = "\(side)p at \(fps) fps"
                XCTAssertEqual(capped.bitrate, abr.bitrate, label)
                XCTAssertEqual(capped.maxrate, abr.maxrate, label)
                XCTAssertEqual(capped.bufsize, abr.bufsize, label)
                XCTAssertEqual(capped.crf, RungDefaults.crf(shortSide: side), label)
                XCTAssertEqual(capped.rateControl, .cappedCRF, label)
            }
        }
        XCTAssertEqual(RungDefaults.settings(shortSide: 1080, frameRate: 30, rateControl: .cappedCRF),
                       EncoderSettings(bitrate: 5_000_000, maxrate: 5_500_000, bufsize: 10_000_000, crf: 18))
        XCTAssertEqual(RungDefaults.settings(shortSide: 480, frameRate: 25, rateControl: .cappedCRF),
                       EncoderSettings(bitrate: 1_400_000, maxrate: 1_540_000, bufsize: 2_800_000, crf: 17))
    }

    func testGivenCRFOverridesTheRungDefault() {
        XCTAssertEqual(RungDefaults.settings(shortSide: 1080, frameRate: 30, rateControl: .cappedCRF, crf: 26.5),
                       EncoderSettings(bitrate: 5_000_000, maxrate: 5_500_000, bufsize: 10_000_000, crf: 26.5))
        XCTAssertEqual(RungDefaults.settings(shortSide: 240, frameRate: 30, rateControl: .cappedCRF, crf: 18).crf, 18)
    }

    func testHighFrameRateStillScalesTheCap() {
        XCTAssertEqual(RungDefaults.settings(shortSide: 1080, frameRate: 60, rateControl: .cappedCRF),
                       EncoderSettings(bitrate: 7_500_000, maxrate: 8_250_000, bufsize: 15_000_000, crf: 18))
        XCTAssertEqual(RungDefaults.settings(shortSide: 720, frameRate: 50, rateControl: .cappedCRF, crf: 24),
                       EncoderSettings(bitrate: 4_200_000, maxrate: 4_620_000, bufsize: 8_400_000, crf: 24))
        // A rung's own bitrate is not scaled, at capped CRF as at ABR.
        XCTAssertEqual(RungDefaults.settings(shortSide: 720, frameRate: 60, bitrate: 2_000_000, rateControl: .cappedCRF),
                       EncoderSettings(bitrate: 2_000_000, maxrate: 2_200_000, bufsize: 4_000_000, crf: 16))
    }
}
