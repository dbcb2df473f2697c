import Foundation
import TestSupport
import XCTest
@testable import HLSKit
import CFFmpeg

/// The I-frame playlists of a transcode, read back independently: each entry's byte range is cut
/// out of the segment file and demuxed and decoded with libav on its own.
final class IFrameOutputTests: XCTestCase {
    func testEveryIFrameEntryDecodesToItsOneKeyframeInBothFormats() async throws {
        let input = try TestMedia.sceneCutClip("scene-cuts.mp4")
        for format in SegmentFormat.allCases {
            var options = TranscodeOptions()
            options.preset = "superfast"
            options.segmentFormat = format
            options.segmentDuration = 2
            options.ladder = try Ladder(parsing: "360p,240p")
            let output = TestMedia.outputURL("iframes-\(format)")
            let report = try await Transcoder.transcode(input: input, output: output, options: options)
            XCTAssertEqual(report.warnings.filter { $0.contains("I-frame") }, [])

            let master = try String(contentsOf: output.appendingPathComponent("master.m3u8"), encoding: .utf8)
            let (variants, iFrameStreams) = masterLines(master)
            XCTAssertTrue(master.contains("#EXT-X-VERSION:4\n"), master)
            XCTAssertEqual(variants.count, 2)
            XCTAssertEqual(iFrameStreams.count, variants.count, master)
            for variant in variants {
                XCTAssertEqual(variant["VIDEO-RANGE"], "SDR", master)
                XCTAssertEqual(variant["CLOSED-CAPTIONS"], "NONE", master)
                let folder = String(variant["URI"]!.prefix { $0 != "/" })
                let stream = try XCTUnwrap(iFrameStreams.first { $0["URI"] == "\(folder)/iframes.m3u8" }, master)
                XCTAssertEqual(stream["RESOLUTION"], variant["RESOLUTION"])
                XCTAssertEqual(stream["CODECS"], variant["CODECS"]?.split(separator: ",").first.map(String.init))
                XCTAssertEqual(stream["VIDEO-RANGE"], "SDR")
                XCTAssertNil(stream["CLOSED-CAPTIONS"])
            }

            var midSegmentIFrames = 0
            for rendition in report.renditions {
                let folder = output.appendingPathComponent(rendition.name)
                let media = try PlaylistParser.parseMedia(String(contentsOf: folder.appendingPathComponent("index.m3u8"), encoding: .utf8))
                let text = try String(contentsOf: folder.appendingPathComponent("iframes.m3u8"), encoding: .utf8)
                let iFrames = try PlaylistParser.parseMedia(text)
                XCTAssertTrue(iFrames.iFramesOnly)
                XCTAssertTrue(iFrames.isComplete)
                XCTAssertEqual(iFrames.kind, .vod)
                XCTAssertEqual(iFrames.mapURI, format == .fmp4 ? "init.mp4" : nil)
                XCTAssertTrue(text.contains("#EXT-X-VERSION:\(format == .fmp4 ? 5 : 4)\n"), text)
                XCTAssertEqual(iFrames.totalDuration, media.totalDuration, accuracy: 0.000_01)
                XCTAssertEqual(rendition.iFrames?.iFrames, iFrames.segments.count)
                XCTAssertEqual(rendition.iFrames?.playlist, "\(rendition.name)/iframes.m3u8")
                let stats = Bandwidth.measure(iFrames.segments, targetDuration: iFrames.targetDuration)
                XCTAssertEqual(rendition.iFrames?.peakBandwidth, stats.peak)
                XCTAssertEqual(rendition.iFrames?.averageBandwidth, stats.average)

                // Every keyframe libav finds in the segments is listed, in order.
                var keyframeTimes: [Double] = []
                for segment in media.segments {
                    keyframeTimes += try SegmentReader.videoPackets(folder: folder, segment: segment.uri, format: format)
                        .filter(\.key).map(\.pts).sorted()
                }
                XCTAssertEqual(iFrames.segments.count, keyframeTimes.count, text)

                let initData = format == .fmp4 ? try Data(contentsOf: folder.appendingPathComponent("init.mp4")) : Data()
                var firstPTS: Double?
                for (number, entry) in iFrames.segments.enumerated() {
                    let range = try XCTUnwrap(entry.byteRange, "entry \(number) has a byte range")
                    let file = try Data(contentsOf: folder.appendingPathComponent(entry.uri))
                    XCTAssertLessThanOrEqual(range.end, file.count)
                    if format == .fmp4 { XCTAssertEqual(String(decoding: file[range.offset + 4..<range.offset + 8], as: UTF8.self), "moof") }
                    let read = try SegmentReader.decode(initData + file[range.offset..<range.end], format: format)
                    let where_ = "\(rendition.name) \(format) entry \(number) (\(entry.uri) \(range.attributeValue))"
                    XCTAssertEqual(read.packets.count, 1, "\(where_): \(read.packets)")
                    XCTAssertEqual(read.packets.first?.key, true, where_)
                    XCTAssertEqual(read.decodedFrames, 1, where_)
                    guard let pts = read.packets.first?.pts else { continue }
                    let first = firstPTS ?? pts
                    firstPTS = first
                    XCTAssertEqual(pts - first, entry.startTime, accuracy: 0.001, "\(where_): at the time the EXTINFs before it add up to")
                    if number < keyframeTimes.count { XCTAssertEqual(pts, keyframeTimes[number], accuracy: 0.001, where_) }
                    if !media.segments.contains(where: { abs($0.startTime - entry.startTime) < 0.001 }) { midSegmentIFrames += 1 }
                }
                XCTAssertEqual(firstPTS ?? -1, keyframeTimes.first ?? -2, accuracy: 0.001)
            }
            XCTAssertGreaterThan(midSegmentIFrames, 0, "the scene cuts put I-frames inside segments")
            if format == .fmp4 {
                // Fragments: one per keyframe in video, one per segment in audio (where every frame is a keyframe).
                let audio = output.appendingPathComponent("audio")
                for segment in try PlaylistParser.parseMedia(String(contentsOf: audio.appendingPathComponent("index.m3u8"), encoding: .utf8)).segments {
                    let bytes = [UInt8](try Data(contentsOf: audio.appendingPathComponent(segment.uri)))
                    XCTAssertEqual(try MP4BoxReader.boxes(in: bytes).filter { $0.type == "moof" }.count, 1, "audio/\(segment.uri)")
                }
                for rendition in report.renditions {
                    let folder = output.appendingPathComponent(rendition.name)
                    let iFrames = try PlaylistParser.parseMedia(String(contentsOf: folder.appendingPathComponent("iframes.m3u8"), encoding: .utf8))
                    for segment in try PlaylistParser.parseMedia(String(contentsOf: folder.appendingPathComponent("index.m3u8"), encoding: .utf8)).segments {
                        let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(segment.uri)))
                        XCTAssertEqual(try MP4BoxReader.boxes(in: bytes).filter { $0.type == "moof" }.count,
                                       iFrames.segments.filter { $0.uri == segment.uri }.count, "\(rendition.name)/\(segment.uri)")
                    }
                }
            }
        }
    }

    /// Attribute lists of the EXT-X-STREAM-INF (with "URI" from the next line) and
    /// EXT-X-I-FRAME-STREAM-INF lines; quotes removed.
    private func masterLines(_ text: String) -> (variants: [[String: String]], iFrames: [[String: String]]) {
        let lines = text.split(separator: "\n").map(String.init)
        var variants: [[String: String]] = [], iFrames: [[String: String]] = []
        for (i, line) in lines.enumerated() {
            if line.hasPrefix("#EXT-X-STREAM-INF:") {
                var attributes = Self.attributes(String(line.dropFirst("#EXT-X-STREAM-INF:".count)))
                attributes["URI"] = i + 1 < lines.count ? lines[i + 1] : nil
                variants.append(attributes)
            } else if line.hasPrefix("#EXT-X-I-FRAME-STREAM-INF:") {
                iFrames.append(Self.attributes(String(line.dropFirst("#EXT-X-I-FRAME-STREAM-INF:".count))))
            }
        }
        return (variants, iFrames)
    }

    private static func attributes(_ list: String) -> [String: String] {
        var result: [String: String] = [:]
        var name = "", value = "", inName = true, quoted = false
        for character in list + "," {
            if inName {
                if character == "=" { inName = false } else { name.append(character) }
            } else if character == "\"" {
                quoted.toggle()
            } else if character == ",", !quoted {
                result[name] = value
                name = ""; value = ""; inName = true
            } else {
                value.append(character)
            }
        }
        return result
    }
}

extension TestMedia {
    /// A 640x360 clip of four different test patterns, 1.2 s each (1.4 s the last), with a tone:
    /// the cuts make x264 put keyframes inside segments.
    static func sceneCutClip(_ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        if FileManager.default.fileExists(atPath: path) { return path }
        let graph = "testsrc2=s=640x360:r=25:d=1.2[a];mandelbrot=s=640x360:r=25,trim=duration=1.2[b];"
            + "smptebars=s=640x360:r=25:d=1.2[c];cellauto=s=640x360:r=25,trim=duration=1.4[d];"
            + "[a][b][c][d]concat=n=4:v=1:a=0,format=yuv420p[v];sine=f=440:r=44100:d=5[s]"
        try ExternalTool.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-filter_complex", graph, "-map", "[v]", "-map", "[s]",
                           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", path])
        return path
    }
}

extension SegmentReader {
    /// Demuxes `data` (a standalone fMP4 or TS byte string) with libav and decodes its video:
    /// the video packets in file order (times in seconds) and how many frames they decode to.
    /// A read error after the last whole packet (a cut-short mdat or PES) ends the reading.
    static func decode(_ data: Data, format: SegmentFormat) throws -> (packets: [VideoPacket], decodedFrames: Int) {
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("range-\(UUID().uuidString).\(format == .fmp4 ? "mp4" : "ts")")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let input = try InputFile(path: file.path)
        guard let video = input.bestVideoStream else { return ([], 0) }
        let timeBase = input.stream(video).pointee.time_base
        let decoder = try MediaDecoder(stream: input.stream(video))
        let packet = try Packet(), frame = try Frame()
        var packets: [VideoPacket] = []
        var frames = 0
        while (try? input.read(into: packet)) == true {
            guard packet.streamIndex == video else { continue }
            packets.append(VideoPacket(pts: Double(packet.pts) * Double(timeBase.num) / Double(timeBase.den), key: packet.isKeyframe))
            try decoder.send(packet)
            while try decoder.receive(into: frame) { frames += 1 }
        }
        try decoder.send(nil)
        while try decoder.receive(into: frame) { frames += 1 }
        return (packets, frames)
    }
}
