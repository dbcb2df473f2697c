import Foundation
import HLSKit

/// Progress on stderr: a redrawn bar with percent, fps, speed and ETA on a terminal, or a plain
/// line every few seconds when stderr is a file or pipe.
final class ProgressReporter: @unchecked Sendable {  // every mutable field is under `lock`
    private let enabled: Bool
    private let terminal = Console.stderrIsTerminal
    private let lock = NSLock()
    private var lastLine = Date()  // first plain line after a few seconds: short runs stay quiet
    private var drewBar = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ progress: TranscodeProgress) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        latest = progress
        let percent = Int((progress.fraction * 100).rounded(.down))
        let eta = progress.etaSeconds.map(Self.clock) ?? "--:--"
        if terminal {
            let width = 30
            let filled = Int(Double(width) * progress.fraction)
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let line = String(format: "\r[%@] %3d%%  %6.1f fps  %5.2fx  ETA %@ ", bar, percent,
                              progress.framesPerSecond, progress.speed, eta)
            FileHandle.standardError.write(Data(line.utf8))
            drewBar = true
        } else if Date().timeIntervalSince(lastLine) >= 2 {
            lastLine = Date()
            Console.error(String(format: "hlsify: progress %d%% %.1f fps %.2fx eta %@", percent,
                                 progress.framesPerSecond, progress.speed, eta))
        }
    }

    /// Ends the bar's line; on success without a terminal, prints the final 100% line so even a
    /// run shorter than the line interval shows its progress.
    func finish(succeeded: Bool = false, last: TranscodeProgress? = nil) {
        lock.lock(); defer { lock.unlock() }
        if drewBar { FileHandle.standardError.write(Data("\n".utf8)); drewBar = false }
        if enabled, !terminal, succeeded, let last {
            Console.error(String(format: "hlsify: progress 100%% %.1f fps %.2fx eta 0:00", last.framesPerSecond, last.speed))
        }
    }

    /// The latest update seen.
    private(set) var latest: TranscodeProgress?

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
                             : String(format: "%d:%02d", total / 60, total % 60)
    }
}
