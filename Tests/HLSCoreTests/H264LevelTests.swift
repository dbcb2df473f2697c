import XCTest
import HLSCore

final class H264LevelTests: XCTestCase {
    func testCommonRenditions() {
        XCTAssertEqual(H264Level.minimumLevel(width: 1920, height: 1080, frameRate: 30, maxBitrate: 5_500_000), 40)
        XCTAssertEqual(H264Level.minimumLevel(width: 1280, height: 720, frameRate: 30, maxBitrate: 3_080_000), 31)
        XCTAssertEqual(H264Level.minimumLevel(width: 854, height: 480, frameRate: 30, maxBitrate: 1_540_000), 31)
        XCTAssertEqual(H264Level.minimumLevel(width: 1920, height: 1080, frameRate: 60, maxBitrate: 8_250_000), 42)
        XCTAssertEqual(H264Level.minimumLevel(width: 1920, height: 1080, frameRate: 30_000.0 / 1001, maxBitrate: 5_500_000), 40)
        XCTAssertEqual(H264Level.minimumLevel(width: 1280, height: 720, frameRate: 60, maxBitrate: 4_620_000), 32)
    }

    func testFrameSizeAndRateBoundaries() {
        // 640x480: 1200 MBs, 36000 MB/s at 30 fps fits level 3.0 (MaxMBPS 40500).
        XCTAssertEqual(H264Level.minimumLevel(width: 640, height: 480, frameRate: 30, maxBitrate: 1_000_000), 30)
        // 854x480 is 54x30 = 1620 MBs: fits 2.2/3.0 by size, but 48600 MB/s at 30 fps needs 3.1.
        XCTAssertEqual(H264Level.minimumLevel(width: 854, height: 480, frameRate: 25, maxBitrate: 1_000_000), 30)
        // QCIF at 15 fps is exactly level 1 (99 MBs, 1485 MB/s, 64 kb/s × 1.25).
        XCTAssertEqual(H264Level.minimumLevel(width: 176, height: 144, frameRate: 15, maxBitrate: 80_000), 10)
        XCTAssertEqual(H264Level.minimumLevel(width: 176, height: 144, frameRate: 15, maxBitrate: 80_001), 11)
        XCTAssertEqual(H264Level.minimumLevel(width: 176, height: 144, frameRate: 15.5, maxBitrate: 64_000), 11)
        // 720p at exactly 30 fps is exactly level 3.1's 108000 MB/s.
        XCTAssertEqual(H264Level.minimumLevel(width: 1280, height: 720, frameRate: 30.01, maxBitrate: 1_000_000), 32)
        // 4K60 needs 5.2; 8K30 needs 6.0.
        XCTAssertEqual(H264Level.minimumLevel(width: 3840, height: 2160, frameRate: 60, maxBitrate: 30_000_000), 52)
        XCTAssertEqual(H264Level.minimumLevel(width: 7680, height: 4320, frameRate: 30, maxBitrate: 60_000_000), 60)
        XCTAssertEqual(H264Level.minimumLevel(width: 16384, height: 16384, frameRate: 120, maxBitrate: 1), 62)
    }

    func testBitrateRaisesLevel() {
        // Level 3.1 allows 14000 × 1.25 = 17.5 Mb/s in High profile, 3.2 and 4.0 allow 25 Mb/s, 4.1 62.5 Mb/s.
        XCTAssertEqual(H264Level.minimumLevel(width: 1280, height: 720, frameRate: 30, maxBitrate: 17_500_000), 31)
        XCTAssertEqual(H264Level.minimumLevel(width: 1280, height: 720, frameRate: 30, maxBitrate: 17_500_001), 32)
        XCTAssertEqual(H264Level.minimumLevel(width: 1920, height: 1080, frameRate: 30, maxBitrate: 30_000_000), 41)
    }

    func testLongThinPicturesNeedSideLimit() {
        // 1920x16 is only 120 MBs, but a side of 120 MBs needs √(8 × MaxFS) ≥ 120: MaxFS 3600 (3.1).
        XCTAssertEqual(H264Level.minimumLevel(width: 1920, height: 16, frameRate: 30, maxBitrate: 500_000), 31)
        XCTAssertEqual(H264Level.minimumLevel(width: 16, height: 1920, frameRate: 30, maxBitrate: 500_000), 31)
    }

    func testBufferSizeCanRaiseLevel() {
        // Level 3.0 MaxCPB is 10000 kbit × 1.25 = 12.5 Mbit.
        XCTAssertEqual(H264Level.minimumLevel(width: 640, height: 360, frameRate: 30, maxBitrate: 1_000_000, bufferSize: 12_500_000), 30)
        XCTAssertEqual(H264Level.minimumLevel(width: 640, height: 360, frameRate: 30, maxBitrate: 1_000_000, bufferSize: 12_600_000), 31)
    }

    func testTableIsOrdered() {
        let idcs = H264Level.table.map(\.idc)
        XCTAssertEqual(idcs, [10, 11, 12, 13, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 52, 60, 61, 62])
        for (a, b) in zip(H264Level.table, H264Level.table.dropFirst()) {
            XCTAssertLessThanOrEqual(a.maxMacroblocksPerSecond, b.maxMacroblocksPerSecond)
            XCTAssertLessThanOrEqual(a.maxFrameSize, b.maxFrameSize)
            XCTAssertLessThanOrEqual(a.maxBitrate, b.maxBitrate)
        }
    }
}
