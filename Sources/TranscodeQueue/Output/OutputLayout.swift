import Foundation
import HLSCore

/// Where a job's output goes and where it is made.
///
/// ```
/// OUTPUT_ROOT/lecture-42/                    the output, complete or absent
///            lecture-42/.hlsify-complete.json   written before the folder is moved into place
/// OUTPUT_ROOT/.hlsify-work/<key>/            the job's private work folder (engine staging inside)
/// OUTPUT_ROOT/.hlsify-work/<key>.lock        flock(2) held while one worker handles the job; its text
///                                            is the output's key once claimed (OutputClaims)
/// OUTPUT_ROOT/.hlsify-work/claims.lock       flock(2) held while outputs are checked for nesting
/// ```
///
/// The engine writes into `<work>/output` (staging beside it, renamed when complete); the worker
/// adds the marker and renames the finished folder to the output path. Leftovers of a killed
/// worker are in its work folder, which the next holder of the lock empties.
public struct OutputLayout: Sendable {
    public static let workFolderName = ".hlsify-work"

    public let root: ConfinedRoot

    public init(root: ConfinedRoot) {
        self.root = root
    }

    public var workRoot: URL { URL(fileURLWithPath: root.path).appendingPathComponent(Self.workFolderName) }

    /// A file name for `outputKey` (a relative path): readable, unique, short enough for NAME_MAX.
    public static func workName(for outputKey: String) -> String {
        var readable = ""
        for scalar in outputKey.unicodeScalars {
            let isPlain = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_" || scalar == ".")
            readable.unicodeScalars.append(isPlain ? scalar : "_")
            if readable.count >= 80 { break }
        }
        return "\(readable)-\(FNV1a.hex64(outputKey))"
    }

    public func workFolder(for outputKey: String) -> URL {
        workRoot.appendingPathComponent(Self.workName(for: outputKey))
    }

    public func lockFile(for outputKey: String) -> URL {
        workRoot.appendingPathComponent(Self.workName(for: outputKey) + ".lock")
    }

    /// What is at an output path.
    public enum State: Sendable, Equatable {
        /// Nothing there.
        case absent
        /// A folder with `master.m3u8` and a marker naming this job.
        case complete(CompletionMarker)
        /// A complete output of another job: never touched.
        case otherJob(String)
        /// Something else (a partial or foreign leftover): removed before the job runs.
        case incomplete
    }

    public func inspect(outputPath: String, jobId: String) -> State {
        var info = stat()
        guard lstat(outputPath, &info) == 0 else { return .absent }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return .incomplete }
        let folder = URL(fileURLWithPath: outputPath)
        var master = stat()
        guard lstat(folder.appendingPathComponent(CompletionMarker.masterPlaylist).path, &master) == 0,
              (master.st_mode & S_IFMT) == S_IFREG,
              let marker = CompletionMarker.read(in: folder) else { return .incomplete }
        return marker.jobId == jobId ? .complete(marker) : .otherJob(marker.jobId)
    }
}
