import Foundation
import TestSupport
import XCTest

/// Big-endian byte building for hand-made container bytes.
extension Array where Element == UInt8 {
    mutating func u8(_ value: Int) { append(UInt8(truncatingIfNeeded: value)) }
    mutating func u16(_ value: Int) { for shift in [8, 0] { append(UInt8(truncatingIfNeeded: value >> shift)) } }
    mutating func u24(_ value: Int) { for shift in [16, 8, 0] { append(UInt8(truncatingIfNeeded: value >> shift)) } }
    mutating func u32(_ value: Int) { for shift in [24, 16, 8, 0] { append(UInt8(truncatingIfNeeded: value >> shift)) } }
    mutating func u64(_ value: Int) { for shift in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> shift)) } }
    mutating func text(_ value: String) { append(contentsOf: Array(value.utf8)) }
}

/// Media made with the ffmpeg command line and read back with ffprobe: independent tools to
/// check the container readers against.
enum ContainerMedia {
    static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hlsify-core-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// A 3 s H.264 clip (GOP of 12 frames at 25 fps, so I-frames every 0.48 s, with B-frames), in
    /// `format` ("mp4" fragmented per keyframe, or "mpegts"), made once per test run.
    static func clip(_ name: String, format: String, extra: [String] = []) throws -> URL {
        let url = directory.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: url.path) { return url }
        var arguments = ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=3",
                         "-f", "lavfi", "-i", "sine=d=3",
                         "-c:v", "libx264", "-preset", "veryfast", "-g", "12", "-keyint_min", "12", "-bf", "2",
                         "-pix_fmt", "yuv420p", "-c:a", "aac"]
        if format == "mp4" { arguments += ["-movflags", "frag_keyframe+empty_moov+default_base_moof"] }
        arguments += extra + ["-f", format, url.path]
        try ExternalTool.run("ffmpeg", arguments)
        return url
    }

    struct Packet: Equatable {
        var pts: Int64
        var pos: Int
        var size: Int
        var key: Bool
    }

    /// ffprobe's view of the first video stream's packets (pts in the stream's time base).
    static func videoPackets(_ url: URL) throws -> (packets: [Packet], timeBase: String) {
        let json = try ExternalTool.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                       "packet=pts,pos,size,flags:stream=time_base", "-of", "json", url.path])
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let packets = (object?["packets"] as? [[String: Any]] ?? []).map { packet in
            Packet(pts: (packet["pts"] as? NSNumber)?.int64Value ?? -1,
                   pos: Int(packet["pos"] as? String ?? "") ?? -1,
                   size: Int(packet["size"] as? String ?? "") ?? -1,
                   key: (packet["flags"] as? String ?? "").hasPrefix("K"))
        }
        let timeBase = ((object?["streams"] as? [[String: Any]])?.first?["time_base"] as? String) ?? ""
        return (packets, timeBase)
    }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
}
