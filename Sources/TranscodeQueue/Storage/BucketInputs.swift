import Foundation
import HLSKit
import ObjectStorage
import TranscodeJobs

/// A job's input, subtitle, chapters and added audio objects, spooled into a folder of this delivery's own under the
/// work root's `spool/` (two jobs of one upload never share a copy), removed with `remove()`.
///
/// The folder holds `.lock`, locked (flock) while the delivery lives: the kernel lets go of it
/// when the process dies, so the folders of killed workers are found and removed by the next
/// delivery on the machine (`reapAbandoned`).
final class BucketInputs: Sendable {
    /// The plan with its input and subtitle paths pointing at the spooled copies.
    let plan: JobPlan
    /// The folder the copies are confined to (for `OpenedInputs`).
    let root: ConfinedRoot
    private let folder: URL
    private let lockDescriptor: Int32

    static let lockName = ".lock"

    /// - Throws: `TranscodeError` (`inputMissing` for a missing or refused key, `invalidInput` for
    ///   one over the size limit, `io` for a server that keeps failing), `JobRejection` for a key
    ///   the address rules refuse.
    init(plan: JobPlan, bucket: S3Address, roots: StorageRoots, maxBytes: Int64) throws {
        let spool = roots.workRoot.appendingPathComponent("spool")
        Self.reapAbandoned(in: spool)
        let folder = spool.appendingPathComponent(UUID().uuidString.lowercased())
        self.folder = folder
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw TranscodeError.io("\(folder.path): \(error.localizedDescription)")
        }
        lockDescriptor = open(folder.appendingPathComponent(Self.lockName).path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockDescriptor >= 0, flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = String(cString: strerror(errno))
            if lockDescriptor >= 0 { close(lockDescriptor) }
            try? FileManager.default.removeItem(at: folder)
            throw TranscodeError.io("\(folder.path): cannot lock the spool folder: \(reason)")
        }
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
            if let chapters = job.chapters {
                let address = try Self.address(chapters, field: "chapters", under: bucket, jobId: job.jobId)
                spooled.chaptersPath = try Self.fetch(address, shown: "chapters", client: roots.client,
                                                      into: folder.appendingPathComponent("chapters"), maxBytes: Int64(ChapterFile.maximumBytes))
            }
            for (index, named) in OpenedInputs.audioFields(job).enumerated() {
                let address = try Self.address(named.path, field: named.field, under: bucket, jobId: job.jobId)
                spooled.audioFiles[index].path = try Self.fetch(address, shown: named.field, client: roots.client,
                                                                into: folder.appendingPathComponent("audio-\(index)"), maxBytes: maxBytes)
            }
            root = try ConfinedRoot(folder.path)
        } catch {
            try? FileManager.default.removeItem(at: folder)
            close(lockDescriptor)
            throw error
        }
        self.plan = spooled
    }

    deinit { close(lockDescriptor) }

    /// Removes the spooled copies (an engine that still has one open keeps reading it).
    func remove() {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Removes the spool folders no live delivery holds (their `.lock` can be taken), and
    /// folders without a lock older than an hour (a process killed between making and locking).
    static func reapAbandoned(in spool: URL) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? [] {
            let folder = spool.appendingPathComponent(name)
            let descriptor = open(folder.appendingPathComponent(lockName).path, O_RDWR | O_CLOEXEC)
            if descriptor >= 0 {
                defer { close(descriptor) }
                guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { continue }
                try? FileManager.default.removeItem(at: folder)
            } else if let made = (try? FileManager.default.attributesOfItem(atPath: folder.path))?[.modificationDate] as? Date,
                      Date().timeIntervalSince(made) > 3600 {
                try? FileManager.default.removeItem(at: folder)
            }
        }
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
            throw StorageRoots.inputError(error)
        }
    }
}
