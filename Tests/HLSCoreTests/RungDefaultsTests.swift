import XCTest
import HLSCore

final class RungDefaultsTests: XCTestCase {
    func testAnchorBitrates() {
        let expected = [2160: 16_000_000, 1440: 9_000_000, 1080: 5_000_000, 720: 2_800_000,
                        480: 1_400_000, 360: 800_000, 240: 400_000]
        for (side, bitrate) in expected {
            XCTAssertEqual(RungDefaults.bitrate(shortSide: side), bitrate, "\(side)p")
            XCTAssertEqual(RungDefaults.settings(shortSide: side, frameRate: 30).bitrate, bitrate, "\(side)p")
        }
    }

    func testInterpolatesByPixelCount() {
        // 600p: 360000 px is 45% of the way from 480p (230400 px) to 720p (518400 px).
        XCTAssertEqual(RungDefaults.bitrate(shortSide: 600), 1_400_000 + 630_000)
        // 540p: (291600 - 230400) / 288000 = 21.25% of 1.4 Mb/s above 1.4 Mb/s = 1697.5k, to whole kb/s.
        XCTAssertEqual(RungDefaults.bitrate(shortSide: 540), 1_698_000)
        // Below 240p and above 2160p: same bits per pixel as the nearest anchor.
        XCTAssertEqual(RungDefaults.bitrate(shortSide: 120), 100_000)
        XCTAssertEqual(RungDefaults.bitrate(shortSide: 4320), 64_000_000)
        XCTAssertEqual(RungDefaults.bitrate(shortSide: 2), 64_000)
    }

    func testBitrateGrowsWithSize() {
        var previous = 0
        for side in stride(from: 2, through: 4320, by: 2) {
            let bitrate = RungDefaults.bitrate(shortSide: side)
            XCTAssertGreaterThanOrEqual(bitrate, previous, "\(side)p")
            previous = bitrate
        }
    }

    func testMaxrateAndBufsize() {
        XCTAssertEqual(RungDefaults.settings(shortSide: 720, frameRate: 30),
                       EncoderSettings(bitrate: 2_800_000, maxrate: 3_080_000, bufsize: 5_600_000))
        XCTAssertEqual(RungDefaults.settings(shortSide: 1080, frameRate: 25),
                       EncoderSettings(bitrate: 5_000_000, maxrate: 5_500_000, bufsize: 10_000_000))
    }

    func testHighFrameRateScalesDefaultOnly() {
        XCTAssertEqual(RungDefaults.settings(shortSide: 1080, frameRate: 60).bitrate, 7_500_000)
        XCTAssertEqual(RungDefaults.settings(shortSide: 1080, frameRate: 50).bitrate, 7_500_000)
        XCTAssertEqual(RungDefaults.settings(shortSide: 1080, frameRate: 60_000.0 / 1001).maxrate, 8_250_000)
        XCTAssertEqual(RungDefaults.settings(shortSide: 1080, frameRate: 30).bitrate, 5_000_000)
        XCTAssertEqual(RungDefaults.settings(shortSide: 1080, frameRate: 30_000.0 / 1001).bitrate, 5_000_000)
        XCTAssertEqual(RungDefaults.settings(shortSide: 1080, frameRate: .nan).bitrate, 5_000_000)
        // An explicit bitrate is what the user asked for, whatever the frame rate.
        XCTAssertEqual(RungDefaults.settings(shortSide: 720, frameRate: 60, bitrate: 2_000_000),
                       EncoderSettings(bitrate: 2_000_000, maxrate: 2_200_000, bufsize: 4_000_000))
    }
}
