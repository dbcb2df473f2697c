import XCTest
@testable import HLSCore

final class CodecStringTests: XCTestCase {
    /// avcC of a 1280x720 clip made with `ffmpeg -f lavfi -i testsrc2=size=1280x720:rate=30 -t 0.2
    /// -c:v libx264 -profile:v high -level 3.1 -pix_fmt yuv420p a.mp4`: ffprobe reports High, level 31.
    let x264HighAvcC: [UInt8] = [
        0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50,
        0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83,
        0x19, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
    ]

    /// Start of a raw stream from `ffmpeg -f lavfi -i testsrc2=size=640x360:rate=30 -t 0.2 -c:v libx264
    /// -profile:v main -level 3.0 -f h264 b.h264` (SPS, PPS, start of the SEI): Main (77), constraint_set1, level 30.
    let x264MainAnnexB: [UInt8] = [
        0x00, 0x00, 0x00, 0x01, 0x67, 0x4d, 0x40, 0x1e, 0xec, 0xa0, 0x50, 0x17, 0xfc, 0xb8, 0x08, 0x80,
        0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x1e, 0x07, 0x8b, 0x16, 0xcb, 0x00, 0x00, 0x00, 0x01,
        0x68, 0xeb, 0xe3, 0xcb, 0x20, 0x00, 0x00, 0x01, 0x06, 0x05, 0xff, 0xff, 0xaa, 0xdc, 0x45, 0xe9,
    ]

    func testFormatsThreeBytesInLowercaseHex() {
        XCTAssertEqual(CodecString.avc1(profileIDC: 100, constraintFlags: 0, levelIDC: 31), "avc1.64001f")
        XCTAssertEqual(CodecString.avc1(profileIDC: 66, constraintFlags: 0xE0, levelIDC: 30), "avc1.42e01e")
        XCTAssertEqual(CodecString.avc1(profileIDC: 77, constraintFlags: 0x40, levelIDC: 40), "avc1.4d4028")
        XCTAssertEqual(CodecString.aacLC, "mp4a.40.2")
    }

    func testReadsAvcC() {
        XCTAssertEqual(CodecString.avc1(fromExtradata: x264HighAvcC), "avc1.64001f")
    }

    func testReadsAnnexB() {
        XCTAssertEqual(CodecString.avc1(fromExtradata: x264MainAnnexB), "avc1.4d401e")
    }

    func testFindsSPSAfterOtherNALUnitsWithThreeByteStartCodes() {
        // An access unit delimiter (type 9) and the PPS first, 3-byte start codes.
        let aud: [UInt8] = [0x00, 0x00, 0x01, 0x09, 0xf0]
        let pps: [UInt8] = [0x00, 0x00, 0x01, 0x68, 0xeb, 0xe3, 0xcb, 0x20]
        let sps = Array(x264MainAnnexB[1..<28])  // 00 00 01 67 4d 40 1e …
        XCTAssertEqual(CodecString.avc1(fromExtradata: aud + pps + sps), "avc1.4d401e")
    }

    func testRemovesEmulationPrevention() {
        // A made-up SPS whose profile and flags bytes are zero: the encoder must insert 03 before the level.
        let sps: [UInt8] = [0x00, 0x00, 0x00, 0x01, 0x67, 0x00, 0x00, 0x03, 0x01, 0xff]
        XCTAssertEqual(CodecString.avc1(fromExtradata: sps), "avc1.000001")
        XCTAssertEqual(CodecString.removingEmulationPrevention([0, 0, 3, 0, 0, 3, 1][...], limit: 10), [0, 0, 0, 0, 1])
    }

    func testRejectsOtherBytes() {
        XCTAssertNil(CodecString.avc1(fromExtradata: []))
        XCTAssertNil(CodecString.avc1(fromExtradata: [0x01, 0x64, 0x00]))             // avcC cut short
        XCTAssertNil(CodecString.avc1(fromExtradata: [0x02, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00]))
        XCTAssertNil(CodecString.avc1(fromExtradata: [0x00, 0x00, 0x01, 0x68, 0xeb]))  // PPS only
        XCTAssertNil(CodecString.avc1(fromExtradata: [0x00, 0x00, 0x01, 0x67, 0x64]))  // SPS cut short
        XCTAssertNil(CodecString.avc1(fromExtradata: [0x00, 0x00, 0x01, 0xe7, 0x64, 0x00, 0x1f]))  // forbidden bit set
        XCTAssertNil(CodecString.avc1(fromExtradata: [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]))
        // HEVC parameter sets (NAL type 32..34 in a two-byte header) are not an H.264 SPS.
        XCTAssertNil(CodecString.avc1(fromExtradata: [0x00, 0x00, 0x00, 0x01, 0x40, 0x01, 0x0c, 0x01, 0xff]))
    }

    func testSplitsAnnexBUnits() {
        let units = CodecString.annexBNALUnits([0, 0, 0, 1, 0x67, 0xAA, 0, 0, 0, 1, 0x68, 0xBB, 0, 0, 1, 0x06])
        XCTAssertEqual(units.map(Array.init), [[0x67, 0xAA], [0x68, 0xBB], [0x06]])
    }
}
