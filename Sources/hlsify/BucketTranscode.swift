import Foundation
import HLSKit
import ObjectStorage

/// `hlsify INPUT --out OUT` when either is an `s3://` address: the input object is spooled to
/// local disk, the engine writes into a local folder, and the set is published to the bucket
/// (segments as they are written with --progressive; the master last either way).
///
/// The local folder is `$TMPDIR/hlsify-s3/<hash of OUT>`, the same for every run to one output,
/// so a run that dies is resumed by the next one as a folder output is; it is removed once the
/// set is published.
struct BucketTranscode {
    let input: String
    let output: String
    let options: TranscodeOptions
    let overwrite: Bool
    let configuration: S3Configuration

    /// - Throws: `StorageError` or `TranscodeError`; nothing this run uploaded stays in the bucket
    ///   after a failure, and no multipart upload it opened stays open.
    func run(progress: @escaping @Sendable (TranscodeProgress) -> Void) async throws -> TranscodeReport {
        let cancelled = CancelFlag()
        return try await withTaskCancellationHandler {
            try await transfer(cancelled: cancelled, progress: progress)
        } onCancel: {
            cancelled.raise()
        }
    }

    private func transfer(cancelled: CancelFlag, progress: @escaping @Sendable (TranscodeProgress) -> Void) async throws -> TranscodeReport {
        let client = S3Client(configuration: configuration, isCancelled: { cancelled.isRaised })
        let inputAddress = S3Address.isAddress(input) ? try S3Address(parsing: input) : nil
        let outputAddress = S3Address.isAddress(output) ? try S3Address(parsing: output) : nil
        let scratch = Self.scratchFolder(for: output)
        let localOutput = outputAddress == nil ? URL(fileURLWithPath: output) : scratch.appendingPathComponent("out")
        var settings = options
        let publisher = outputAddress.map { BucketPublisher(client: client, destination: $0, folder: localOutput) }
        try publisher?.prepare(overwrite: overwrite)
        var localInput = input
        var syncer: ProgressiveSync?
        do {
            if let inputAddress {
                localInput = try InputSpool.fetch(inputAddress, client: client, into: scratch.appendingPathComponent("input"),
                                                  maxBytes: options.limits.maxObjectBytes)
            }
            if outputAddress != nil {
                // The local folder is this program's own: a leftover of a run that died is replaced.
                settings.overwrite = true
            }
            syncer = settings.progressive ? publisher.map { ProgressiveSync(publisher: $0) } : nil
            if let syncer {
                let earlier = settings.onSegment
                settings.onSegment = { event in earlier?(event); syncer.request() }
            }
            var report: TranscodeReport
            do {
                report = try await Transcoder.transcode(input: localInput, output: localOutput, options: settings, progress: progress)
            } catch let error as TranscodeError {
                throw inputAddress.map { error.naming(localInput, as: $0.description) } ?? error
            }
            try syncer?.stop()
            if let publisher, let outputAddress {
                try publisher.finish()
                report.output = outputAddress.description
                try? FileManager.default.removeItem(at: localOutput)
            }
            if inputAddress != nil { report.input = inputAddress!.description }
            try? FileManager.default.removeItem(at: scratch.appendingPathComponent("input"))
            return report
        } catch {
            try? FileManager.default.removeItem(at: scratch.appendingPathComponent("input"))
            // A sync under way finishes first, so nothing goes up after the discard.
            try? syncer?.stop()
            publisher?.discard(with: S3Client(configuration: configuration))
            throw error
        }
    }

    /// `$TMPDIR/hlsify-s3/<16 hex of SHA-256(output)>`.
    static func scratchFolder(for output: String) -> URL {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let digest = SigV4Signer.sha256Hex(Array(output.utf8)).prefix(16)
        return URL(fileURLWithPath: base).appendingPathComponent("hlsify-s3").appendingPathComponent(String(digest))
    }
}

/// A flag a cancelled task raises for the blocking transfers to see.
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    func raise() { lock.withLock { raised = true } }
    var isRaised: Bool { lock.withLock { raised } }
}
