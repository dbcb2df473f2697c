import Foundation
import TestSupport
import XCTest
@testable import HLSKit

final class TranscoderTests: XCTestCase {
    private func options(_ format: SegmentFormat = .fmp4, ladder: String = "720p,480p") throws -> TranscodeOptions {
        var options = TranscodeOptions()
        options.preset = "superfast"
        options.segmentFormat = format
        options.ladder = try Ladder(parsing: ladder)
        options.segmentDuration = 2
        return options
    }

    func testEveryRenditionEncodesEveryDecodedFrameAndCutsAtTheSameInstants() async throws {
        for format in SegmentFormat.allCases {
            let input = try TestMedia.clip("ladder.mp4", seconds: 5)
            let output = TestMedia.outputURL("ladder-\(format)")
            let report = try await Transcoder.transcode(input: input, output: output, options: options(format))
            XCTAssertEqual(report.decodedVideoFrames, 125)
            XCTAssertEqual(report.renditions.map(\.name), ["720p", "480p"])
            XCTAssertEqual(report.renditions.map(\.encodedFrames), [125, 125])
            XCTAssertEqual(report.renditions.map(\.segments), [3, 3])
            XCTAssertEqual(report.audio?.segments, 3)
            XCTAssertEqual(report.audio?.language, "fr")
            XCTAssertEqual(report.durationSeconds, 5, accuracy: 0.001)

            // Read what was written with libav itself, not with our report.
            for rendition in report.renditions {
                let folder = output.appendingPathComponent(rendition.name)
                let playlist = try PlaylistParser.parseMedia(String(contentsOf: folder.appendingPathComponent("index.m3u8"), encoding: .utf8))
                XCTAssertEqual(playlist.segments.map(\.duration), [2, 2, 1], accuracy: 0.0001)
                var frames = 0
                for segment in playlist.segments {
                    let packets = try SegmentReader.videoPackets(folder: folder, segment: segment.uri, format: format)
                    XCTAssertTrue(packets.first?.key ?? false, "\(rendition.name)/\(segment.uri) starts with a keyframe")
                    XCTAssertEqual(packets.map(\.pts).min() ?? -1, 10 + segment.startTime, accuracy: 0.001)
                    frames += packets.count
                }
                XCTAssertEqual(frames, 125)
            }
            let master = try String(contentsOf: output.appendingPathComponent("master.m3u8"), encoding: .utf8)
            XCTAssertTrue(master.contains("LANGUAGE=\"fr\""), master)
            XCTAssertTrue(master.contains("RESOLUTION=1280x720"))
        }
    }

    func testSourceWithoutAudioGivesVariantsWithoutAudio() async throws {
        let input = try TestMedia.clip("silent.mp4", size: "640x360", seconds: 3, audio: false)
        let output = TestMedia.outputURL("silent")
        let report = try await Transcoder.transcode(input: input, output: output, options: options())
        XCTAssertNil(report.audio)
        XCTAssertEqual(report.renditions.map(\.name), ["360p"])
        let master = try String(contentsOf: output.appendingPathComponent("master.m3u8"), encoding: .utf8)
        XCTAssertFalse(master.contains("AUDIO"))
        XCTAssertFalse(master.contains("mp4a"))
    }

    /// A recorded talk (.m4a, 5.5 s of 44.1 kHz audio) gives an audio-only set, in both formats and
    /// with a low-bandwidth audio-only variant beside the main one.
    func testAudioOnlySourceGivesAnAudioOnlySet() async throws {
        let input = TestMedia.directory.appendingPathComponent("talk-5s.m4a").path
        if !FileManager.default.fileExists(atPath: input) {
            _ = try ExternalTool.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=330:d=5.5:r=44100",
                                             "-c:a", "aac", "-b:a", "96k", input])
        }
        for format in SegmentFormat.allCases {
            let output = TestMedia.outputURL("talk-\(format)")
            var settings = try options(format)
            settings.audioOnlyVariantBitrate = 48_000
            let report = try await Transcoder.transcode(input: input, output: output, options: settings)
            XCTAssertEqual(report.renditions, [])
            XCTAssertEqual(report.decodedVideoFrames, 0)
            XCTAssertEqual(report.durationSeconds, 5.5, accuracy: 0.03)
            XCTAssertEqual(report.audio?.playlist, "audio/index.m3u8")
            XCTAssertEqual(report.audio?.sampleRate, 44_100)
            XCTAssertEqual(report.audio?.segments, 3)
            XCTAssertEqual(report.audioOnlyVariant?.playlist, "audio-48k/index.m3u8")
            XCTAssertEqual(report.audioOnlyVariant?.bitrate, 48_000)

            let master = try String(contentsOf: output.appendingPathComponent("master.m3u8"), encoding: .utf8).split(separator: "\n")
            let variants = master.indices.filter { master[$0].hasPrefix("#EXT-X-STREAM-INF:") }
            XCTAssertEqual(variants.map { String(master[$0 + 1]) }, ["audio/index.m3u8", "audio-48k/index.m3u8"])
            for index in variants {
                XCTAssertTrue(master[index].contains("CODECS=\"mp4a.40.2\""), String(master[index]))
                XCTAssertFalse(master[index].contains("RESOLUTION") || master[index].contains("AUDIO="), String(master[index]))
            }
            XCTAssertFalse(master.contains { $0.hasPrefix("#EXT-X-MEDIA:") || $0.hasPrefix("#EXT-X-I-FRAME") },
                           "no alternate audio group, no I-frame playlists: \(master)")
            for folder in ["audio", "audio-48k"] {
                let playlist = try PlaylistParser.parseMedia(String(contentsOf: output.appendingPathComponent("\(folder)/index.m3u8"), encoding: .utf8))
                XCTAssertEqual(playlist.segments.map(\.duration).reduce(0, +), 5.5, accuracy: 0.03, folder)
                XCTAssertEqual(playlist.segments.count, 3, folder)
            }
        }
    }

    /// A 120 fps phone clip is written at 60 fps (Apple's authoring spec 1.19): every other frame,
    /// each lasting 1/60 s, with FRAME-RATE and the H.264 level of 60 fps.
    func testSourcesOver60FpsAreDecimatedTo60() async throws {
        let input = try TestMedia.clip("fast-120.mp4", size: "640x360", rate: 120, seconds: 2, audio: false)
        let output = TestMedia.outputURL("fast-120")
        let report = try await Transcoder.transcode(input: input, output: output, options: options(ladder: "360p"))
        XCTAssertEqual(report.decodedVideoFrames, 240)
        XCTAssertEqual(report.renditions.map(\.encodedFrames), [120])
        XCTAssertEqual(report.durationSeconds, 2, accuracy: 0.001)
        XCTAssertTrue(report.warnings.contains { $0.contains("dropped to at most 60 fps") }, "\(report.warnings)")
        let master = try String(contentsOf: output.appendingPathComponent("master.m3u8"), encoding: .utf8)
        XCTAssertTrue(master.contains("FRAME-RATE=60.000"), master)
        let folder = output.appendingPathComponent("360p")
        let playlist = try PlaylistParser.parseMedia(String(contentsOf: folder.appendingPathComponent("index.m3u8"), encoding: .utf8))
        let times = try playlist.segments.flatMap { try SegmentReader.videoPackets(folder: folder, segment: $0.uri, format: .fmp4) }.map(\.pts).sorted()
        XCTAssertEqual(times.count, 120)
        for (a, b) in zip(times, times.dropFirst()) { XCTAssertEqual(b - a, 1.0 / 60, accuracy: 0.0005) }
    }

    func testExistingOutputIsRefusedUnlessOverwriting() async throws {
        let input = try TestMedia.clip("short.mp4", size: "320x240", seconds: 1)
        let output = TestMedia.outputURL("exists")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: output.appendingPathComponent("old.txt"))
        do {
            _ = try await Transcoder.transcode(input: input, output: output, options: options())
            XCTFail("expected outputExists")
        } catch TranscodeError.outputExists {}
        var overwrite = try options()
        overwrite.overwrite = true
        _ = try await Transcoder.transcode(input: input, output: output, options: overwrite)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.appendingPathComponent("old.txt").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("master.m3u8").path))
        XCTAssertEqual(try leftovers(beside: output), [])
    }

    func testBadInputsFailCleanlyWithTheirKind() async throws {
        let notMedia = try TestMedia.file("notes.mp4", contents: Data("these are lecture notes, not a video\n".utf8))
        let srt = try TestMedia.file("notes.srt", contents: Data("1\n00:00:00,000 --> 00:00:01,000\nHello\n".utf8))
        let subtitlesOnly = TestMedia.directory.appendingPathComponent("subtitles-only.mp4").path
        if !FileManager.default.fileExists(atPath: subtitlesOnly) {
            _ = try ExternalTool.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-i", srt, "-c:s", "mov_text", subtitlesOnly])
        }
        let cases: [(String, (TranscodeError) -> Bool)] = [
            (TestMedia.directory.appendingPathComponent("missing.mp4").path, { if case .inputMissing = $0 { return true }; return false }),
            (notMedia, { if case .invalidInput = $0 { return true }; return false }),
            (subtitlesOnly, { if case .invalidInput(let message) = $0 { return message.contains("no video or audio stream") }; return false }),
        ]
        for (input, matches) in cases {
            let output = TestMedia.outputURL("bad")
            do {
                _ = try await Transcoder.transcode(input: input, output: output, options: options())
                XCTFail("\(input) should fail")
            } catch let error as TranscodeError {
                XCTAssertTrue(matches(error), "\(input): \(error)")
                XCTAssertTrue([65, 66].contains(error.exitCode))
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: output.path))
            XCTAssertEqual(try leftovers(beside: output), [])
        }
    }

    func testCancellingStopsPromptlyAndLeavesNothing() async throws {
        let input = try TestMedia.clip("long.mp4", size: "1920x1080", seconds: 20)
        let output = TestMedia.outputURL("cancel")
        var slow = try options(ladder: "1080p,720p,480p")
        slow.preset = "medium"
        let task = Task { try await Transcoder.transcode(input: input, output: output, options: slow) }
        try await Task.sleep(nanoseconds: 700_000_000)
        let cancelledAt = Date()
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("expected cancellation")
        } catch TranscodeError.cancelled {}
        XCTAssertLessThan(Date().timeIntervalSince(cancelledAt), 10, "stops promptly (generous: shared machines)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path))
        XCTAssertEqual(try leftovers(beside: output), [])
    }

    func testProgressAdvancesToCompletion() async throws {
        let input = try TestMedia.clip("ladder.mp4", seconds: 5)
        let (stream, task) = Transcoder.transcodeWithProgress(input: input, output: TestMedia.outputURL("progress"),
                                                              options: try options())
        var fractions: [Double] = []
        for await update in stream { fractions.append(update.fraction) }
        _ = try await task.value
        XCTAssertFalse(fractions.isEmpty)
        XCTAssertEqual(fractions, fractions.sorted(), "never goes backwards")
        XCTAssertEqual(fractions.last ?? 0, 1, accuracy: 0.001)
    }

    /// Staging or backup folders left next to `output`.
    private func leftovers(beside output: URL) throws -> [String] {
        let name = output.lastPathComponent
        return try FileManager.default.contentsOfDirectory(atPath: output.deletingLastPathComponent().path)
            .filter { $0.hasPrefix(".\(name).hlsify-") }
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(a) vs \(b)", file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, "\(a) vs \(b)", file: file, line: line) }
}
