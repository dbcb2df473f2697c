import Foundation
import HLSCore
import XCTest
@testable import HLSKit

/// The one publisher, fed segment values by hand: no encoder, no pipeline.
final class HLSPublisherTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("hls-publisher-\(UUID().uuidString)")
        for rendition in ["360p", "audio", "audio-es-ad"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(rendition), withIntermediateDirectories: true)
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private let video = RenditionSummary(folder: "360p", role: .video(width: 640, height: 360, videoRange: .sdr),
                                         provisional: BandwidthStats(peak: 880_000, average: 800_000), codecs: nil)
    private let audio = RenditionSummary(folder: "audio", role: .audioGroup(AudioTrackLabel(language: "en", name: "English", isDefault: true, describesVideo: false, folder: "audio")),
                                         provisional: BandwidthStats(peak: 140_800, average: 128_000), codecs: CodecString.aacLC)

    private func record(_ index: Int, bytes: Int) -> SegmentRecord {
        SegmentRecord(index: index, uri: String(format: "segment-%05d.ts", index), duration: 2, byteSize: bytes, startTime: Double(index) * 2)
    }

    private func text(_ path: String) -> String? {
        try? String(contentsOf: folder.appendingPathComponent(path), encoding: .utf8)
    }

    func testProgressivePlaylistsGrowSegmentBySegmentAndTheMasterWaitsForEveryRendition() throws {
        let publisher = HLSPublisher(directory: folder, format: .ts, segmentDuration: 2, frameRate: 25, videos: [video], audio: [audio],
                                     audioOnly: [], progressive: true)
        publisher.segmentFinished(FinishedSegment(rendition: "360p", record: record(0, bytes: 200_000), codecs: "avc1.64001e", sha256: "", firstPTS: 0, lastPTS: 0, frames: 1, isLast: false))
        let media = try XCTUnwrap(text("360p/index.m3u8"))
        XCTAssertTrue(media.contains("#EXT-X-PLAYLIST-TYPE:EVENT") && media.contains("segment-00000.ts"), media)
        XCTAssertFalse(media.contains("#EXT-X-ENDLIST"))
        XCTAssertNil(text("master.m3u8"), "the audio has no segment yet")
        publisher.segmentFinished(FinishedSegment(rendition: "audio", record: record(0, bytes: 32_000), codecs: CodecString.aacLC, sha256: "", firstPTS: 0, lastPTS: 0, frames: 1, isLast: false))
        let master = try XCTUnwrap(text("master.m3u8"))
        XCTAssertTrue(master.contains("CODECS=\"avc1.64001e,mp4a.40.2\""), master)
        XCTAssertTrue(master.contains("BANDWIDTH=1020800"), "provisional: maxrates added up\n\(master)")
        XCTAssertFalse(master.contains("I-FRAME"))
        XCTAssertNil(publisher.failure)
    }

    func testTheFinalSetIsWrittenFromTheRecordsTheStreamsEndedWith() throws {
        let publisher = HLSPublisher(directory: folder, format: .ts, segmentDuration: 2, frameRate: 25, videos: [video], audio: [audio],
                                     audioOnly: [], progressive: false)
        publisher.segmentFinished(FinishedSegment(rendition: "360p", record: record(0, bytes: 200_000), codecs: nil, sha256: "", firstPTS: 0, lastPTS: 0, frames: 1, isLast: false))
        XCTAssertNil(text("360p/index.m3u8"), "nothing is published before the end unless progressive")
        publisher.streamEnded(rendition: "360p", records: [record(0, bytes: 200_000), record(1, bytes: 100_000)], codecs: "avc1.64001e")
        publisher.streamEnded(rendition: "audio", records: [record(0, bytes: 32_000), record(1, bytes: 32_000)], codecs: CodecString.aacLC)
        XCTAssertEqual(publisher.targetDuration, 2)
        let published = try publisher.publishFinal()
        XCTAssertEqual(published.video.map(\.segments), [2])
        XCTAssertEqual(published.video.first?.bytes, 300_000)
        XCTAssertEqual(published.video.first?.bandwidth.peak, 800_000, "the largest segment over its duration")
        XCTAssertEqual(published.audio.first?.bytes, 64_000)
        XCTAssertEqual(published.iFrames.count, 1)
        XCTAssertNil(published.iFrames[0], "no segment files to parse here")
        XCTAssertEqual(published.warnings.count, 1)
        let media = try XCTUnwrap(text("360p/index.m3u8"))
        XCTAssertTrue(media.contains("#EXT-X-PLAYLIST-TYPE:VOD") && media.contains("#EXT-X-ENDLIST"), media)
        let master = try XCTUnwrap(text("master.m3u8"))
        XCTAssertTrue(master.contains("CODECS=\"avc1.64001e,mp4a.40.2\"") && master.contains("RESOLUTION=640x360"), master)
        XCTAssertTrue(master.contains("TYPE=AUDIO") && master.contains("LANGUAGE=\"en\""), master)
    }

    func testEveryAudioRenditionIsListedAndTheVariantCountsTheLargest() throws {
        let described = RenditionSummary(
            folder: "audio-es-ad", role: .audioGroup(AudioTrackLabel(language: "es", name: "Español (audiodescripción)", isDefault: false,
                                                                     describesVideo: true, folder: "audio-es-ad")),
            provisional: BandwidthStats(peak: 140_800, average: 128_000), codecs: CodecString.aacLC)
        let publisher = HLSPublisher(directory: folder, format: .ts, segmentDuration: 2, frameRate: 25, videos: [video],
                                     audio: [audio, described], audioOnly: [], progressive: false)
        publisher.streamEnded(rendition: "360p", records: [record(0, bytes: 200_000)], codecs: "avc1.64001e")
        publisher.streamEnded(rendition: "audio", records: [record(0, bytes: 30_000)], codecs: CodecString.aacLC)
        publisher.streamEnded(rendition: "audio-es-ad", records: [record(0, bytes: 40_000)], codecs: CodecString.aacLC)
        let published = try publisher.publishFinal()
        XCTAssertEqual(published.audio.map(\.playlist), ["audio/index.m3u8", "audio-es-ad/index.m3u8"])
        let master = try PlaylistParser.parseMaster(XCTUnwrap(text("master.m3u8")))
        XCTAssertEqual(master.media.map(\.name), ["English", "Español (audiodescripción)"])
        XCTAssertEqual(master.media.map(\.isDefault), [true, false])
        XCTAssertEqual(master.media.map(\.characteristics), [[], [MediaRendition.describesVideo]])
        XCTAssertEqual(master.variants.first?.bandwidth, (200_000 + 40_000) * 8 / 2, "video plus the larger audio rendition")
    }
}
