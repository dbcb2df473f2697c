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
        do {
            try publisher.finish(records: [(CompletionMarker.fileName, try marker.encoded())])
        } catch {
            publisher.discard()
            try? FileManager.default.removeItem(at: scrap ?? work)
            if plan.progressive { _ = try? output.remove() }
            let failure = (error as? StorageError).map(StorageRoots.transcodeError) ?? TranscodeError.io("\(error)")
            return .failed(failure)
        }
        if plan.progressive { _ = try? output.remove() }
        try? FileManager.default.removeItem(at: work)
        log.info("job output published", metadata: ["output": "\(publisher.destination)", "objects": "\(publisher.uploadedPaths.count)"])
        return await reportCompleted(completed, marker: marker, log: log) { try publisher.putRecord(CompletionMarker.fileName, try $0.encoded()) }
    }
}

extension BucketOutput {
    /// Deletes whatever an incomplete output left under the prefix (objects and open uploads):
    /// for a job given up. Best effort; logged.
    func removeIncomplete(log: Logger) {
        do {
            let prefix = address.listingPrefix
            for object in try client.list(address) {
                try client.delete(try S3Address(bucket: address.bucket, key: object.key))
            }
            for upload in try client.openUploads(address) {
                try client.abortUpload(try S3Address(bucket: address.bucket, key: upload.key), id: upload.uploadId)
            }
            log.info("job partial output in the bucket removed", metadata: ["output": "\(address)", "prefix": "\(prefix)"])
        } catch {
            log.warning("cannot remove the partial output in the bucket", metadata: ["output": "\(address)", "error": "\(error)"])
        }
    }
}
