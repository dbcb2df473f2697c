import Foundation
import HLSKit

enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}

enum Summary {
    /// "hlsify: wrote out/master.m3u8: 720p 1280x720 412 kb/s, … + audio, 3 segments, …", then
    /// the rungs dropped as redundant and what the others measure, when there is any.
    static func line(_ report: TranscodeReport) -> String {
        let names = report.renditions.map { rendition in
            let quality = rendition.quality.map { String(format: " SSIM %.4f", $0.ssim) } ?? ""
            return "\(rendition.name) \(rendition.width)x\(rendition.height) \(rendition.averageBandwidth / 1000) kb/s\(quality)"
        }.joined(separator: ", ")
        let segments = report.renditions.first?.segments ?? 0
        let speed = report.elapsedSeconds > 0 ? report.durationSeconds / report.elapsedSeconds : 0
        var line = String(format: "hlsify: wrote %@/%@: %@%@, %d segments, %.1f s of video in %.1f s (%.2fx)",
                          report.output, report.master, names, report.audio == nil ? "" : " + audio",
                          segments, report.durationSeconds, report.elapsedSeconds, speed)
        let dropped = report.redundantRungs.filter(\.dropped)
        if !dropped.isEmpty {
            line += "; dropped " + dropped.map { "\($0.name) (\($0.lowerRung) within 10% of its bytes)" }.joined(separator: ", ")
        }
        return line
    }
}
