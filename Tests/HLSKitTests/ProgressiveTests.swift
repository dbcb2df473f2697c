import Foundation
import XCTest
@testable import HLSKit

final class ProgressiveTests: XCTestCase {
    /// What a player polling the folder would have seen at one instant.
    private struct Snapshot {
        var master: String?
        var playlists: [String: String] = [:]
        var sizes: [String: Int] = [:]   // listed segment path -> size at that instant
    }

    func testPlaylistsGrowAsSegmentsCompleteAndNeverListAHalfWrittenSegment() async throws {
        let input = try TestMedia.clip("progressive.mp4", size: "1280x720", seconds: 12)
        let output = TestMedia.outputURL("progressive")
        var options = TranscodeOptions()
        options.preset = "superfast"
        options.segmentDuration = 2
        options.progressive = true
        options.ladder = try Ladder(parsing: "720p,360p")
        let task = Task { try await Transcoder.transcode(input: input, output: output, options: options) }
        var snapshots: [Snapshot] = []
        while !Task.isCancelled {
            snapshots.append(snapshot(output))
            if snapshots.last?.playlists.values.contains(where: { $0.contains("#EXT-X-ENDLIST") }) == true { break }
            try await Task.sleep(nanoseconds: 30_000_000)
        }
        let report = try await task.value
        XCTAssertEqual(report.renditions.count, 2)

        let early = snapshots.filter { $0.master != nil && $0.playlists.values.allSatisfy { !$0.contains("ENDLIST") } }
        XCTAssertFalse(early.isEmpty, "the master was published before the end")
        for snap in early {
            for (path, text) in snap.playlists {
                XCTAssertTrue(text.contains("#EXT-X-PLAYLIST-TYPE:EVENT"), path)
                XCTAssertNoThrow(try PlaylistParser.parseMedia(text), path)
            }
            // Every playlist the master names already exists with at least one segment.
            for line in snap.master!.split(separator: "\n") where !line.hasPrefix("#") {
                XCTAssertNotNil(snap.playlists[String(line)], "master names \(line) before it exists")
            }
        }
        // A listed segment is already complete: its size never changes afterwards.
        for snap in snapshots {
            for (path, size) in snap.sizes {
                let final = try FileManager.default.attributesOfItem(atPath: output.appendingPathComponent(path).path)[.size] as? Int
                XCTAssertEqual(size, final, "\(path) was listed before it was complete")
            }
        }
        // Finished by appending (RFC 8216 §6.2.1): still EVENT, every earlier version a prefix of it.
        let final = try String(contentsOf: output.appendingPathComponent("720p/index.m3u8"), encoding: .utf8)
        XCTAssertTrue(final.contains("#EXT-X-PLAYLIST-TYPE:EVENT"))
        XCTAssertTrue(final.hasSuffix("#EXT-X-ENDLIST\n"))
        for snap in snapshots {
            if let seen = snap.playlists["720p/index.m3u8"] { XCTAssertTrue(final.hasPrefix(seen), "rewritten, not appended to:\n\(seen)") }
        }
        XCTAssertEqual(try PlaylistParser.parseMedia(final).segments.count, 6)
    }

    func testProgressiveRefusesAnExistingOutputWithoutForce() async throws {
        let input = try TestMedia.clip("short.mp4", size: "320x240", seconds: 1)
        let output = TestMedia.outputURL("progressive-exists")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        var options = TranscodeOptions()
        options.progressive = true
        do {
            _ = try await Transcoder.transcode(input: input, output: output, options: options)
            XCTFail("expected outputExists")
        } catch TranscodeError.outputExists {}
    }

    private func snapshot(_ output: URL) -> Snapshot {
        var snap = Snapshot()
        snap.master = try? String(contentsOf: output.appendingPathComponent("master.m3u8"), encoding: .utf8)
        for folder in ["720p", "360p", "audio"] {
            let path = "\(folder)/index.m3u8"
            guard let text = try? String(contentsOf: output.appendingPathComponent(path), encoding: .utf8) else { continue }
            snap.playlists[path] = text
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let segment = "\(folder)/\(line)"
                snap.sizes[segment] = (try? FileManager.default.attributesOfItem(
                    atPath: output.appendingPathComponent(segment).path)[.size]) as? Int
            }
        }
        return snap
    }
}
