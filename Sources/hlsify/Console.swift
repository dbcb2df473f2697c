import Foundation
import HLSKit

enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}

enum Summary {
    static func line(_ report: TranscodeReport) -> String {
        let names = report.renditions.map { "\($0.name) \($0.width)x\($0.height)" }.joined(separator: ", ")
        let segments = report.renditions.first?.segments ?? 0
        let speed = report.elapsedSeconds > 0 ? report.durationSeconds / report.elapsedSeconds : 0
        return String(format: "hlsify: wrote %@/%@: %@%@, %d segments, %.1f s of video in %.1f s (%.2fx)",
                      report.output, report.master, names, report.audio == nil ? "" : " + audio",
                      segments, report.durationSeconds, report.elapsedSeconds, speed)
    }
}
