import Foundation
import HLSKit
import ObjectStorage

/// The worker's roots that are buckets (`s3://BUCKET/PREFIX`) and the client for them.
///
/// A job's paths are confined as keys under the bucket root by the same rules as paths under a
/// folder (`JobNames.relativeComponents`, applied to a local stand-in folder in the work root);
/// the worker's locks, claims and work folders live in that local work root, and the engine
/// reads a spooled copy of the input and writes a local folder that is then published.
struct StorageRoots: Sendable {
    let client: S3Client
    let input: S3Address?
    let output: S3Address?
    /// Local scratch: `inputs/` (empty stand-in root), `outputs/` (locks, work folders), `spool/`.
    let workRoot: URL

    /// Nil when neither root is a bucket.
    /// - Throws: `WorkerSetupError` for a malformed address, missing settings, or a work root
    ///   that cannot be made.
    static func make(configuration: WorkerConfiguration) throws(WorkerSetupError) -> StorageRoots? {
        let inputIsBucket = S3Address.isAddress(configuration.inputRoot), outputIsBucket = S3Address.isAddress(configuration.outputRoot)
        guard inputIsBucket || outputIsBucket else { return nil }
        guard let storage = configuration.storage else {
            throw WorkerSetupError(description: "a bucket root needs the S3 settings (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL)")
        }
        do {
            let input = inputIsBucket ? try S3Address(parsing: configuration.inputRoot) : nil
            let output = outputIsBucket ? try S3Address(parsing: configuration.outputRoot) : nil
            let workRoot = URL(fileURLWithPath: configuration.workRoot)
            for folder in ["inputs", "outputs", "spool"] {
                try FileManager.default.createDirectory(at: workRoot.appendingPathComponent(folder), withIntermediateDirectories: true)
            }
            return StorageRoots(client: S3Client(configuration: storage), input: input, output: output, workRoot: workRoot)
        } catch let error as StorageError {
            throw WorkerSetupError(description: "\(error)")
        } catch {
            throw WorkerSetupError(description: "work root \(configuration.workRoot): \(error.localizedDescription)")
        }
    }

    /// The local folders the job resolver confines paths under in place of the buckets.
    var localInputRoot: String { workRoot.appendingPathComponent("inputs").path }
    var localOutputRoot: String { workRoot.appendingPathComponent("outputs").path }

    /// Checks that each bucket root answers to these credentials, so a misconfigured worker stops
    /// at start instead of failing every job.
    /// - Throws: `WorkerSetupError` naming the root and the server's refusal.
    func check() throws(WorkerSetupError) {
        for (name, address) in [("input root", input), ("output root", output)] {
            guard let address else { continue }
            do { try client.checkBucket(address) } catch {
                throw WorkerSetupError(description: "\(name) \(address): \(error)")
            }
        }
    }

    /// A failure reading a job's input objects as the engine's error, so the worker's failure
    /// policy applies: a missing or refused object is final, a server that keeps failing is
    /// worth a retry.
    static func inputError(_ error: StorageError) -> TranscodeError {
        switch error {
        case .notFound(let message), .accessDenied(let message): return .inputMissing(message)
        case .tooLarge(let message), .invalidAddress(let message), .rejected(let message), .preconditionFailed(let message):
            return .invalidInput(message)
        case .cannotPublish(let message): return .cannotCreateOutput(message)
        case .unavailable(let message), .local(let message), .configuration(let message): return .io(message)
        case .cancelled: return .cancelled
        }
    }

    /// A failure writing or reading the output side (the set, its marker, the shared work beside
    /// it) as the engine's error: never the input's fault, always retried (until the attempts run
    /// out): a refusal there is the deployment's, or a passing state of the server.
    static func outputError(_ error: StorageError) -> TranscodeError {
        switch error {
        case .unavailable(let message), .local(let message): return .io(message)
        case .cancelled: return .cancelled
        default: return .cannotCreateOutput(error.description)
        }
    }
}
