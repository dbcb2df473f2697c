import Foundation
import HLSKit
import Logging
import ObjectStorage
import TranscodeJobs

extension TranscodeWorker {
    /// Publishes a finished output folder to the bucket (media, playlists, the master, the
    /// inventory, then the completion marker), removes the local copy, reports `job.completed`
    /// (confirmed) and marks the completion as reported. A failed publication takes back what
    /// it uploaded; the delivery is retried.
    func publishJob(_ completed: JobEvent, marker: CompletionMarker, publisher: BucketPublisher, target: URL, work: URL, scrap: URL?,
                    output: OutputPlace, plan: JobPlan, log: Logger) async -> DeliveryOutcome {
        // Another delivery of this job (on another machine: the locks are per machine) may have
        // published it meanwhile: then that one reported it.
        if let bucket = bucketOutput(plan), case .complete = try? bucket.inspect(jobId: marker.jobId) {
            try? FileManager.default.removeItem(at: scrap ?? work)
            log.info("job output published meanwhile by another delivery: nothing to publish")
            return .alreadyComplete
        }
        do {
            try publisher.finish(records: [(CompletionMarker.fileName, try marker.encoded())])
        } catch {
            publisher.discard()
            try? FileManager.default.removeItem(at: scrap ?? work)
            if plan.progressive { _ = try? output.remove() }
            let failure = (error as? StorageError).map(StorageRoots.outputError) ?? TranscodeError.io("\(error)")
            return .failed(failure)
        }
        if plan.progressive { _ = try? output.remove() }
        try? FileManager.default.removeItem(at: work)
        log.info("job output published", metadata: ["output": "\(publisher.destination)", "objects": "\(publisher.uploadedPaths.count)"])
        return await reportCompleted(completed, marker: marker, log: log) { try publisher.putRecord(CompletionMarker.fileName, try $0.encoded()) }
    }
}

extension BucketOutput {
    /// Deletes what an incomplete set left under the prefix (`BucketPublisher.incompleteSet`: the
    /// master first, never an object beside the set or the split work with its failed marker) and
    /// aborts its open uploads: for a job given up. Best effort; logged; stops at the first error.
    func removeIncomplete(log: Logger) {
        do {
            let prefix = address.listingPrefix
            let keys = try client.list(address).map { String($0.key.dropFirst(prefix.count)) }
            for key in BucketPublisher.incompleteSet(in: keys) {
                try client.delete(try address.appending(key))
            }
            for upload in try client.openUploads(address) where !upload.key.dropFirst(prefix.count).hasPrefix(BucketPublisher.workPrefix) {
                try client.abortUpload(try S3Address(bucket: address.bucket, key: upload.key), id: upload.uploadId)
            }
            log.info("job partial output in the bucket removed", metadata: ["output": "\(address)"])
        } catch {
            log.warning("cannot remove the partial output in the bucket", metadata: ["output": "\(address)", "error": "\(error)"])
        }
    }
}
