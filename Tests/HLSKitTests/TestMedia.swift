import Foundation
import TestSupport
import XCTest

/// Test clips made with the ffmpeg command line (an independent tool), cached per test run.
enum TestMedia {
    static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hlsify-kit-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// A clip of `seconds` at `size` and `rate`, with a sine tone unless `audio` is false.
    static func clip(_ name: String, size: String = "1280x720", rate: Int = 25, seconds: Double = 6,
                     audio: Bool = true, extra: [String] = []) throws -> String {
        let path = directory.appendingPathComponent(name).path
        if FileManager.default.fileExists(atPath: path) { return path }
        var arguments = ["-hide_banner", "-loglevel", "error", "-y",
                         "-f", "lavfi", "-i", "testsrc2=s=\(size):r=\(rate):d=\(seconds)"]
        if audio { arguments += ["-f", "lavfi", "-i", "sine=f=440:r=44100:d=\(seconds)"] }
        arguments += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        if audio { arguments += ["-c:a", "aac", "-metadata:s:a", "language=fre"] }
        arguments += extra + [path]
        try ExternalTool.run("ffmpeg", arguments)
        return path
    }

    static func file(_ name: String, contents: Data) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try contents.write(to: URL(fileURLWithPath: path))
        return path
    }

    static func outputURL(_ name: String) -> URL {
        let url = directory.appendingPathComponent("out-\(name)-\(UUID().uuidString.prefix(8))")
        return url
    }
}
