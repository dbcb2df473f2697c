import CFFmpeg
import Foundation
import XCTest
@testable import HLSKit

/// SegmentWriter's init owns its libav objects from its first step (`OutputContext`), so an init
/// that throws frees them; the ASan run of `make test` reports a leak otherwise. (The early throws,
/// avformat_new_stream or avcodec_parameters_from_context failing before every property was set,
/// need an allocation failure and are not reached here; these are the later ones.)
final class SegmentWriterTests: XCTestCase {
    private func aacEncoder() throws -> MediaEncoder {
        try MediaEncoder(name: "aac") { context in
            context.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
            context.pointee.sample_rate = 48_000
            av_channel_layout_default(&context.pointee.ch_layout, 2)
            context.pointee.bit_rate = 128_000
            context.pointee.time_base = AVRational(num: 1, den: 48_000)
            context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
    }

    func testAnInitThatFailsAfterTheMuxerIsMadeFreesIt() throws {
        let encoder = try aacEncoder()
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-folder-\(UUID().uuidString)")
        for format in SegmentFormat.allCases {
            // The first segment file (the init section for fMP4) cannot be opened: the muxer was
            // already allocated when that fails.
            XCTAssertThrowsError(try SegmentWriter(format: format, directory: missing, encoder: encoder), "\(format)")
        }
    }

    func testTheGlobalHeaderFlagIsTheMuxers() {
        XCTAssertTrue(SegmentFormat.fmp4.muxerWantsGlobalHeader, "mp4 keeps avcC in the init section")
        XCTAssertFalse(SegmentFormat.ts.muxerWantsGlobalHeader, "MPEG-TS repeats SPS/PPS in the stream")
    }

    func testAWriterInAFolderWritesItsFirstFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segment-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try SegmentWriter(format: .fmp4, directory: folder, encoder: try aacEncoder())
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(SegmentWriter.initName).path))
    }
}
