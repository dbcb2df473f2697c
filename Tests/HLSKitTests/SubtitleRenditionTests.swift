import Foundation
import XCTest
@testable import HLSKit

final class SubtitleRenditionTests: XCTestCase {
    private let srt = """
    1
    00:00:00,500 --> 00:00:01,500
    First <i>cue</i>

    2
    00:00:01,800 --> 00:00:02,300
    Crosses the 2 s boundary

    3
    00:00:04,200 --> 00:00:04,900
    Last & final

    4
    00:00:09,000 --> 00:00:10,000
    After the video ends

    """

    func testSubtitleRenditionsFollowTheVideoSegmentsInBothFormats() async throws {
        let input = try TestMedia.clip("subs.mp4", size: "640x360", seconds: 5)
        let english = try TestMedia.file("lecture.en.srt", contents: Data(srt.utf8))
        let french = try TestMedia.file("lecture.fr.srt", contents: Data(srt.replacingOccurrences(of: "cue", with: "réplique").utf8))
        for format in SegmentFormat.allCases {
            var options = TranscodeOptions()
            options.preset = "superfast"
            options.segmentFormat = format
            options.segmentDuration = 2
            options.subtitles = [SubtitleTrack(language: "en", path: english),
                                 SubtitleTrack(language: "fr-CA", name: "Français", path: french)]
            let output = TestMedia.outputURL("subs-\(format)")
            let report = try await Transcoder.transcode(input: input, output: output, options: options)
            XCTAssertEqual(report.subtitles.map(\.language), ["en", "fr-CA"])
            XCTAssertTrue(report.warnings.contains { $0.contains("dropped") }, "the cue after the end is reported: \(report.warnings)")

            let master = try String(contentsOf: output.appendingPathComponent("master.m3u8"), encoding: .utf8)
            XCTAssertTrue(master.contains(#"TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=YES"#), master)
            XCTAssertTrue(master.contains(#"LANGUAGE="fr-CA",NAME="Français",DEFAULT=NO"#), master)
            let variants = master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-STREAM-INF") }
            XCTAssertFalse(variants.isEmpty)
            XCTAssertTrue(variants.allSatisfy { $0.contains(#"SUBTITLES="subs""#) })

            let video = try PlaylistParser.parseMedia(String(contentsOf: output.appendingPathComponent("360p/index.m3u8"), encoding: .utf8))
            let subs = try PlaylistParser.parseMedia(String(contentsOf: output.appendingPathComponent("subtitles/en/index.m3u8"), encoding: .utf8))
            XCTAssertEqual(subs.segments.map(\.duration), video.segments.map(\.duration))
            XCTAssertEqual(subs.targetDuration, video.targetDuration)

            // The map's MPEGTS must be the first video frame's real timestamp in this output.
            let firstVideo = try SegmentReader.videoPackets(folder: output.appendingPathComponent("360p"),
                                                            segment: video.segments[0].uri, format: format)
            let expected = Int64(((firstVideo.map(\.pts).min() ?? -1) * 90_000).rounded())
            for segment in subs.segments {
                let text = try String(contentsOf: output.appendingPathComponent("subtitles/en/\(segment.uri)"), encoding: .utf8)
                let parsed = try WebVTTParser().parse(text: text)
                let map = parsed.headerLines.first { $0.hasPrefix("X-TIMESTAMP-MAP=") }
                XCTAssertEqual(map, "X-TIMESTAMP-MAP=MPEGTS:\(expected),LOCAL:00:00:00.000")
            }
            let segment0 = try WebVTTParser().parse(text: String(contentsOf: output.appendingPathComponent("subtitles/en/segment-00000.vtt"), encoding: .utf8))
            let segment1 = try WebVTTParser().parse(text: String(contentsOf: output.appendingPathComponent("subtitles/en/segment-00001.vtt"), encoding: .utf8))
            XCTAssertEqual(segment0.cues.map(\.start), [500, 1800])
            XCTAssertEqual(segment1.cues.map(\.start), [1800], "a crossing cue is in both segments with its own times")
            XCTAssertEqual(segment1.cues.first?.end, 2300)

            let sidecar = try WebVTTParser().parse(text: String(contentsOf: output.appendingPathComponent("subtitles/en.vtt"), encoding: .utf8))
            XCTAssertEqual(sidecar.cues.map(\.start), [500, 1800, 4200])
            XCTAssertEqual(sidecar.cues.last?.text, "Last &amp; final")
        }
    }

    func testASubtitleFileWithoutCuesFailsBeforeAnyEncoding() async throws {
        let input = try TestMedia.clip("subs.mp4", size: "640x360", seconds: 5)
        let empty = try TestMedia.file("empty.srt", contents: Data("not subtitles at all\n".utf8))
        var options = TranscodeOptions()
        options.subtitles = [SubtitleTrack(language: "en", path: empty)]
        let output = TestMedia.outputURL("badsubs")
        do {
            _ = try await Transcoder.transcode(input: input, output: output, options: options)
            XCTFail("expected invalidInput")
        } catch let error as TranscodeError {
            XCTAssertEqual(error.exitCode, 65, "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path))
    }
}
