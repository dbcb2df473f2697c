import Foundation
import HLSKit

/// A job's video and subtitle files, opened and checked through their descriptors
/// (`ConfinedFile`) once the job holds its output lock, right before the engine reads them: a
/// folder or file swapped for a link to outside the input root while the job waited is refused,
/// and the engine reads the very files checked (through `/proc/self/fd/N`).
final class OpenedInputs: Sendable {
    let video: ConfinedFile
    /// In the order of the plan's subtitles.
    let subtitles: [ConfinedFile]
    /// The plan's chapters file, when it names one.
    let chapters: ConfinedFile?
    /// In the order of the plan's `audioFiles` (the job's `audio`, then `audioDescription`).
    let audioFiles: [ConfinedFile]

    /// - Throws: `JobRejection` (`unsafe-path`) for a file that now lies outside the root or is
    ///   not a regular file; `TranscodeError.inputMissing` for a file that is gone;
    ///   `TranscodeError.io` for other failures.
    init(plan: JobPlan, root: ConfinedRoot) throws {
        let job = plan.job
        video = try Self.open(plan.inputPath, field: "input", shown: job.input, root: root, jobId: job.jobId)
        subtitles = try zip(plan.subtitles, job.subtitles).enumerated().map { index, pair in
            try Self.open(pair.0.path, field: "subtitles[\(index)].path", shown: pair.1.path, root: root, jobId: job.jobId)
        }
        chapters = try plan.chaptersPath.map { try Self.open($0, field: "chapters", shown: job.chapters ?? $0, root: root, jobId: job.jobId) }
        audioFiles = try zip(plan.audioFiles, Self.audioFields(job)).map { file, named in
            try Self.open(file.path, field: named.field, shown: named.path, root: root, jobId: job.jobId)
        }
    }

    /// The job's added audio files as it names them, in the plan's order: field and path.
    static func audioFields(_ job: TranscodeJob) -> [(field: String, path: String)] {
        job.audio.enumerated().map { ("audio[\($0)].path", $1.path) }
            + job.audioDescription.enumerated().map { ("audioDescription[\($0)].path", $1.path) }
    }

    private static func open(_ path: String, field: String, shown: String, root: ConfinedRoot, jobId: String) throws -> ConfinedFile {
        do {
            return try ConfinedFile.open(path, under: root)
        } catch {
            switch error {
            case .missing: throw TranscodeError.inputMissing("\(field) \(JobDecoder.quoted(shown)) does not exist")
            case .unreadable: throw TranscodeError.inputMissing("\(field) \(JobDecoder.quoted(shown)): permission denied")
            case .outside, .notRegular:
                throw JobRejection(.unsafePath, "\(field) \(JobDecoder.quoted(shown)) \(error)", jobId: jobId)
            case .system: throw TranscodeError.io("\(field) \(JobDecoder.quoted(shown)): \(error)")
            }
        }
    }
}
