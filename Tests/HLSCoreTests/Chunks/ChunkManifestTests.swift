import Foundation
import XCTest
import HLSCore

/// `ChunkManifest.Rendition.quality`: the measured quality a chunk carries to the stitch.
final class ChunkManifestTests: XCTestCase {
    private let segment = ChunkManifest.Segment(index: 3, file: "segment-3.m4s", bytes: 1000, sha256: "ab", firstPTS: 0,
                                                lastPTS: 90, frames: 4, start: 12, duration: 4)

    private var quality: QualitySums {
        var sums = QualitySums()
        sums.add(ssim: 0.97, ssimY: 0.96, squaredError: 50, samples: 1000)
        return sums
    }

    private func object(_ value: some Encodable) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: try JSONEncoder().encode(value)) as? [String: Any])
    }

    func testQualityIsWrittenUnderQuality() throws {
        let rendition = ChunkManifest.Rendition(folder: "720p", codecs: "avc1.64001f",
                                                initSection: .init(file: "init.mp4", bytes: 800, sha256: "cd"),
                                                segments: [segment], quality: quality)
        let json = try object(rendition)
        XCTAssertEqual(Set(json.keys), ["folder", "codecs", "init", "segments", "quality"])
        let written = try XCTUnwrap(json["quality"] as? [String: Any])
        XCTAssertEqual(written["frames"] as? Int, 1)
        XCTAssertEqual(written["ssim"] as? Double, 0.97)

        let manifest = ChunkManifest(planId: "p", chunk: "chunk-0001", firstSegment: 3, endSegment: 4, renditions: [rendition])
        let decoded = try JSONDecoder().decode(ChunkManifest.self, from: try JSONEncoder().encode(manifest))
        XCTAssertEqual(decoded, manifest)
        XCTAssertEqual(decoded.rendition("720p")?.quality, quality)
    }

    func testTheAudioChunksLoudnessTravelsToTheStitch() throws {
        var rendition = ChunkManifest.Rendition(folder: "audio", codecs: "mp4a.40.2", initSection: nil, segments: [segment])
        XCTAssertNil(try object(rendition)["loudness"])
        let outcome = LoudnessOutcome(target: -16, gain: 5.5, input: .init(integrated: -21.5, range: 2, truePeak: -9),
                                      output: .init(integrated: -16.1, range: 2, truePeak: -3.2), limitedSeconds: 0.25, shortfall: nil)
        rendition.loudness = outcome
        XCTAssertEqual(try XCTUnwrap(object(rendition)["loudness"] as? [String: Any])["gain"] as? Double, 5.5)
        let manifest = ChunkManifest(planId: "p", chunk: "audio", firstSegment: 0, endSegment: nil, renditions: [rendition])
        let decoded = try JSONDecoder().decode(ChunkManifest.self, from: try JSONEncoder().encode(manifest))
        XCTAssertEqual(decoded.rendition("audio")?.loudness, outcome)
    }

    func testNoQualityIsLeftOut() throws {
        let rendition = ChunkManifest.Rendition(folder: "audio", codecs: "mp4a.40.2", initSection: nil, segments: [segment])
        XCTAssertNil(rendition.quality)
        XCTAssertNil(try object(rendition)["quality"])
    }

    func testAManifestWithoutQualityDecodes() throws {
        let old = Data("""
        {"formatVersion": 1, "planId": "p", "chunk": "chunk-0001", "firstSegment": 3, "endSegment": 4,
         "renditions": [{"folder": "720p", "codecs": "avc1.64001f", "init": {"file": "init.mp4", "bytes": 800, "sha256": "cd"},
                         "segments": [{"index": 3, "file": "segment-3.m4s", "bytes": 1000, "sha256": "ab", "firstPTS": 0,
                                       "lastPTS": 90, "frames": 4, "start": 12, "duration": 4}]}],
         "warnings": [], "encodeSeconds": 1.5}
        """.utf8)
        let manifest = try JSONDecoder().decode(ChunkManifest.self, from: old)
        XCTAssertNil(manifest.renditions[0].quality)
        XCTAssertEqual(manifest.renditions[0].initSection?.file, "init.mp4")
        XCTAssertEqual(manifest.renditions[0].segments, [segment])
    }
}
