import Foundation
import HLSKit
import ObjectStorage
import TranscodeJobs

/// A job's input and subtitle objects, spooled into a folder of this delivery's own under the
/// work root's `spool/` (two jobs of one upload never share a copy), removed with `remove()`.
final class BucketInputs: Sendable {
    /// The plan with its input and subtitle paths pointing at the spooled copies.
    let plan: JobPlan
    /// The folder the copies are confined to (for `OpenedInputs`).
    let root: ConfinedRoot
    private let folder: URL

    /// - Throws: `TranscodeError` (`inputMissing` for a missing or refused key, `invalidInput` for
    ///   one over the size limit, `io` for a server that keeps failing), `JobRejection` for a key
    ///   the address rules refuse.
    init(plan: JobPlan, bucket: S3Address, roots: StorageRoots, maxBytes: Int64) throws {
        let folder = roots.workRoot.appendingPathComponent("spool").appendingPathComponent(UUID().uuidString.lowercased())
        self.folder = folder
        var spooled = plan
        do {
            let job = plan.job
            let video = try Self.address(job.input, field: "input", under: bucket, jobId: job.jobId)
            spooled.inputPath = try Self.fetch(video, shown: "input", client: roots.client, into: folder.appendingPathComponent("input"), maxBytes: maxBytes)
            for (index, subtitle) in job.subtitles.enumerated() {
                let field = "subtitles[\(index)].path"
                let address = try Self.address(subtitle.path, field: field, under: bucket, jobId: job.jobId)
                spooled.subtitles[index].path = try Self.fetch(address, shown: field, client: roots.client,
                                                               into: folder.appendingPathComponent("subtitle-\(index)"), maxBytes: maxBytes)
            }
            root = try ConfinedRoot(folder.path)
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
        self.plan = spooled
    }

    /// Removes the spooled copies (an engine that still has one open keeps reading it).
    func remove() {
        try? FileManager.default.removeItem(at: folder)
    }

    private static func address(_ key: String, field: String, under bucket: S3Address, jobId: String) throws -> S3Address {
        do { return try bucket.appending(key) } catch {
            throw JobRejection(.unsafePath, "\(field) \(JobDecoder.quoted(key)): \(error)", jobId: jobId)
        }
    }

    private static func fetch(_ address: S3Address, shown: String, client: S3Client, into folder: URL, maxBytes: Int64) throws -> String {
        do {
            return try InputSpool.fetch(address, client: client, into: folder, maxBytes: maxBytes)
        } catch {
            throw StorageRoots.transcodeError(error)
        }
    }
}
