import Foundation
import HLSKit
import ObjectStorage
import TranscodeJobs

/// A job's output under the bucket output root: what is there (by its completion marker), and
/// the publisher that puts a finished folder there, the marker last.
struct BucketOutput: Sendable {
    let address: S3Address
    let client: S3Client

    /// - Throws: `JobRejection` (`unsafe-path`) for an output the address rules refuse.
    init(plan: JobPlan, roots: StorageRoots, bucket: S3Address) throws {
        do { address = try bucket.appending(plan.outputKey) } catch {
            throw JobRejection(.unsafePath, "output \(JobDecoder.quoted(plan.job.output)): \(error)", jobId: plan.job.jobId)
        }
        client = roots.client
    }

    /// What is at the output: complete (master and a marker of this job), another job's, or
    /// absent/incomplete (which the job replaces).
    /// - Throws: `TranscodeError` (`io` when the server cannot be asked).
    func inspect(jobId: String) throws -> OutputLayout.State {
        do throws(StorageError) {
            guard try client.head(address.appending(CompletionMarker.masterPlaylist)) != nil else { return .absent }
            let bytes: [UInt8]
            do { bytes = try client.get(address.appending(CompletionMarker.fileName), limit: CompletionMarker.maximumSize) } catch .notFound {
                return .incomplete
            }
            guard let marker = try? JSONDecoder().decode(CompletionMarker.self, from: Data(bytes)) else { return .incomplete }
            return marker.jobId == jobId ? .complete(marker) : .otherJob(marker.jobId)
        } catch {
            throw StorageRoots.outputError(error)
        }
    }

    /// True when the output holds a complete set of job `jobId` (or of another job: either way
    /// not one to write).
    func isComplete(jobId: String) throws -> Bool {
        switch try inspect(jobId: jobId) {
        case .complete, .otherJob: return true
        case .absent, .incomplete: return false
        }
    }

    /// A publisher of `folder` to this output.
    func publisher(folder: URL) -> BucketPublisher {
        BucketPublisher(client: client, destination: address, folder: folder)
    }

    /// Puts `marker` as the output's completion marker.
    func putMarker(_ marker: CompletionMarker) throws {
        let bytes = try marker.encoded()
        do throws(StorageError) {
            _ = try client.put(try address.appending(CompletionMarker.fileName), bytes: bytes, contentType: "application/json",
                               cacheControl: "no-cache")
        } catch {
            throw StorageRoots.outputError(error)
        }
    }
}
