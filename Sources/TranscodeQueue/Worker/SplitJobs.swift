import Foundation
import HLSKit
import Logging
import ObjectStorage

/// Jobs split by time (`ChunkedTranscode`), on the jobs queue:
///
/// 1. **Plan** (the job message, output lock held): a source at least two chunks long is planned
///    into the job's split folder (`WORK/split` beside the output); one message per chunk is
///    published (confirmed), then the delayed fan-in check; then the job message is acknowledged.
///    A redelivered job finds the same plan and publishes again: duplicates are harmless.
/// 2. **Chunk** (no lock: chunks commit by renaming their own folder): encode it unless it is
///    committed; report `job.chunk` and the job's progress from what is committed; then fan in:
///    read the split folder, and if every chunk is there publish the stitch message. A duplicate
///    (a chunk committed already) fans in too: the worker that committed it may have died first.
///    A chunk that will not succeed (bad media, or passing failures past `--max-attempts`) fails
///    the job: the first one leaves the failed marker and reports `job.failed`; every other chunk
///    message of the job is then dead-lettered without an event, and running ones stop.
/// 3. **Stitch** (the stitch message or the delayed check, output lock held, like a job): if the
///    output is complete, nothing to do; if a chunk is missing, a check re-arms itself; otherwise
///    stitch into the work folder, put the output in place and report `job.completed` once.
///
/// Fan-in reads the storage, never counts messages: the broker carries work, not state.
///
/// With a bucket output root the split folder lives in the bucket (`SplitMirror`): each delivery
/// fills a local folder of its own from it and sends back what it made.
extension TranscodeWorker {
    /// The job's split folder: beside its work folder's engine output, kept across deliveries.
    func splitFolder(_ plan: JobPlan) -> URL {
        layout.workFolder(for: plan.outputKey).appendingPathComponent(Self.splitName)
    }

    /// Where one delivery of a split job works.
    struct SplitPlace {
        let folder: URL
        let mirror: SplitMirror?
        /// False when the bucket holds no plan (never planned, or completed and cleared).
        let planned: Bool

        /// A shared split folder without its plan (the job completed and its work folder went while
        /// this delivery encoded, which made folders there again): removed, with the job's work
        /// folder when that leaves it empty.
        func dropIfFinished() {
            guard mirror == nil, !FileManager.default.fileExists(atPath: folder.appendingPathComponent("plan.json").path) else { return }
            try? FileManager.default.removeItem(at: folder)
            rmdir(folder.deletingLastPathComponent().path)
        }

        /// Removes a delivery's own folder (a shared one stays), and the job's work folder on
        /// this machine when that leaves it empty (a machine that only encoded chunks).
        func close() {
            guard mirror != nil else { return }
            try? FileManager.default.removeItem(at: folder)
            rmdir(folder.deletingLastPathComponent().path)
        }
    }

    /// The job's split folder, or with a bucket output root a fresh local folder filled from the
    /// bucket (with `files`, the committed chunks' files too).
    /// - Throws: `TranscodeError` (`io` when the bucket cannot be read).
    func openSplit(_ plan: JobPlan, files: Bool) throws -> SplitPlace {
        guard let bucket = bucketOutput(plan) else { return SplitPlace(folder: splitFolder(plan), mirror: nil, planned: true) }
        let local = layout.workFolder(for: plan.outputKey).appendingPathComponent(Self.splitName + "-" + UUID().uuidString.lowercased())
        do {
            let mirror = try SplitMirror(output: bucket, local: local)
            return SplitPlace(folder: local, mirror: mirror, planned: try mirror.pull(files: files))
        } catch {
            try? FileManager.default.removeItem(at: local)
            throw StorageRoots.outputError(error)
        }
    }

    /// The job's output in the bucket, when the output root is one.
    func bucketOutput(_ plan: JobPlan) -> BucketOutput? {
        guard let storage, let root = storage.output else { return nil }
        return try? BucketOutput(plan: plan, roots: storage, bucket: root)
    }

    /// Leaves the job's failed marker (in the bucket too); true when this call left it.
    func markSplitFailed(_ place: SplitPlace, chunk: String, error: String) throws -> Bool {
        do {
            if try place.mirror?.isFailed() == true { return false }
            guard try ChunkedTranscode.markFailed(work: place.folder, chunk: chunk, error: error) else { return false }
            try place.mirror?.pushFailed()
            return true
        } catch let error as StorageError {
            throw StorageRoots.outputError(error)
        }
    }

    /// Plans `job` as a split one when its source is long enough; nil when it is not (it is then
    /// transcoded whole). Publishes every chunk's message and the delayed check.
    func planSplit(delivery: AMQPDelivery, job: TranscodeJob, plan: JobPlan, inputs: OpenedInputs, log: Logger) async -> DeliveryOutcome? {
        let place: SplitPlace
        do { place = try openSplit(plan, files: false) } catch { return .failed(error) }
        defer { place.close() }
        let split = place.folder
        if let failed = try? ChunkedTranscode.status(work: split), failed.failure != nil {
            // A job submitted again after it failed starts afresh; a redelivery of the job that
            // failed (its job.failed went out) has nothing left to do.
            guard delivery.attempt == 1, !delivery.redelivered else { return .chunkSkipped("the split job failed already") }
            do {
                try FileManager.default.removeItem(at: split)
                try place.mirror?.removeRemote()
            } catch {
                return .failed((error as? StorageError).map(StorageRoots.outputError) ?? error)
            }
            log.info("job submitted again after it failed: its split folder is removed and it is planned afresh")
        }
        let planned: ChunkedTranscode.Plan
        do {
            guard let made = try await ChunkedTranscode.planIfSplit(input: inputs.video.descriptorPath, work: split,
                                                                   options: plan.transcodeOptions(inputs: inputs),
                                                                   chunkDuration: plan.chunkDuration) else { return nil }
            planned = made
            do throws(StorageError) { try place.mirror?.pushPlan() } catch { throw StorageRoots.outputError(error) }
        } catch {
            // A job that will never succeed takes its work folder along, as a failed transcode does.
            if case .final = FailurePolicy.classify(error) { try? FileManager.default.removeItem(at: layout.workFolder(for: plan.outputKey)) }
            if let error = error as? TranscodeError { return .failed(Self.naming(error, plan: plan, inputs: inputs)) }
            return .failed(error)
        }
        events.send(.started(jobId: job.jobId, input: job.input, output: job.output, workerId: configuration.workerId,
                             attempt: delivery.attempt))
        log.info("job split by time", metadata: ["videoChunks": "\(planned.videoChunks)", "chunkSegments": "\(planned.chunkSegments)",
                                                 "planId": "\(planned.planId)", "reused": "\(planned.reused)"])
        // Longest first; a progressive job's audio first, so that its master can appear early.
        var chunks = planned.chunks.compactMap(ChunkName.init)
        if plan.progressive { chunks = [.audio] + chunks.filter { $0 != .audio } }
        let tasks = chunks.map(SplitTask.chunk) + [.check]
        for task in tasks {
            do {
                try await client.publish(task.message(jobId: job.jobId, body: delivery.body, topology: configuration.topology,
                                                      checkDelay: configuration.chunkCheckInterval), policy: .once)
            } catch {
                return .failed(TranscodeError.io("cannot publish the chunks of the split job: \(error)"))
            }
            if case .chunk = task { TestFaults.chunkPublished() }
        }
        return .planned(chunks: planned.chunks.count)
    }

    /// One chunk of a split job: encoded and committed, reported, then the fan-in check.
    func processChunk(_ name: ChunkName, delivery: AMQPDelivery, job: TranscodeJob, plan: JobPlan, log: Logger) async -> DeliveryOutcome {
        let place: SplitPlace
        do { place = try openSplit(plan, files: false) } catch { return .failed(error) }
        defer { place.close() }
        let split = place.folder
        let status: ChunkedTranscode.Status
        do {
            guard place.planned else { throw ChunkError.noPlan("the bucket holds no plan") }
            status = try ChunkedTranscode.status(work: split)
        } catch let error as ChunkError {
            // A plan this engine cannot read (another engine version wrote it) fails the job loudly.
            if case .mismatch = error { return .failed(error) }
            return .chunkSkipped("chunk \(name.argument): the job has no split folder (it completed, or was removed)")
        } catch {
            // No plan: the job is complete (its folder went with it) or its folder was removed.
            return .chunkSkipped("chunk \(name.argument): the job has no split folder (it completed, or was removed)")
        }
        if let failure = status.failure { return .chunkDropped("the job failed: \(failure)") }
        if status.committed.contains(name) {
            // Its worker may have died before telling: the job's progress, then the fan-in.
            sendProgress(status, job: job, attempt: delivery.attempt)
            if plan.progressive { await publishProgress(split: split, plan: plan, delivery: delivery, log: log) }
            await fanIn(place, delivery: delivery, job: job, log: log)
            return .chunkSkipped("chunk \(name.argument) was committed already")
        }
        if policy.isExhausted(attempt: delivery.attempt) {
            return failJob(place, chunk: name, message: "delivered \(delivery.attempt) times", outcome: .exhausted)
        }
        let inputs: OpenedInputs
        let spooled: BucketInputs?
        do {
            (inputs, spooled) = try openInputs(plan)
        } catch let error as JobRejection {
            return failJob(place, chunk: name, message: error.message, outcome: .rejected(error))
        } catch {
            return failed(error, place: place, chunk: name, attempt: delivery.attempt)
        }
        defer { withExtendedLifetime(inputs) {}; spooled?.remove() }
        log.info("chunk started", metadata: ["chunk": "\(name.folder)"])
        let chunk: ChunkedTranscode.Chunk
        do {
            chunk = try await ChunkedTranscode.encode(input: inputs.video.descriptorPath, work: split, chunk: name,
                                                      worker: configuration.workerId)
        } catch ChunkError.jobFailed(let message) {
            return .chunkDropped(message)
        } catch let error as TranscodeError {
            return failed(Self.naming(error, plan: plan, inputs: inputs), place: place, chunk: name, attempt: delivery.attempt)
        } catch {
            return failed(error, place: place, chunk: name, attempt: delivery.attempt)
        }
        if !chunk.alreadyCommitted, let mirror = place.mirror {
            // Committed in the bucket once its manifest is there; what the others committed since.
            do throws(StorageError) {
                // A duplicate never overwrites a chunk another worker committed meanwhile.
                if try !mirror.isCommitted(name) { try mirror.pushChunk(name) }
                try mirror.pull(files: false)
            } catch {
                return failed(StorageRoots.outputError(error), place: place, chunk: name, attempt: delivery.attempt)
            }
        }
        // A duplicate that encoded while the job was stitched and its folder removed may have made
        // folders again: they go.
        place.dropIfFinished()
        if let now = try? ChunkedTranscode.status(work: split) {
            events.send(.chunk(jobId: job.jobId, .init(name: name.folder, committed: now.committed.count,
                                                       of: now.committed.count + now.missing.count,
                                                       encodeSeconds: chunk.manifest.encodeSeconds),
                               workerId: configuration.workerId, attempt: delivery.attempt))
            sendProgress(now, job: job, attempt: delivery.attempt)
        }
        log.info("chunk committed", metadata: ["chunk": "\(name.folder)", "duplicate": "\(chunk.alreadyCommitted)",
                                               "encodeSeconds": "\(String(format: "%.1f", chunk.manifest.encodeSeconds))"])
        if plan.progressive { await publishProgress(split: split, plan: plan, delivery: delivery, log: log) }
        await fanIn(place, delivery: delivery, job: job, log: log)
        return .chunkCommitted
    }

    /// The job's progress: the committed share of its chunks.
    private func sendProgress(_ status: ChunkedTranscode.Status, job: TranscodeJob, attempt: Int) {
        events.send(.progress(jobId: job.jobId, .init(fraction: status.fraction, mediaSeconds: 0, elapsedSeconds: 0, fps: 0, speed: 0,
                                                      etaSeconds: nil),
                              workerId: configuration.workerId, attempt: attempt))
    }

    /// A chunk failed: retried while the policy says so; otherwise the job fails (once). A job
    /// stitched meanwhile (its split folder gone with its work folder: a duplicate was still
    /// encoding) or failed meanwhile has nothing left for this chunk to do.
    private func failed(_ error: Error, place: SplitPlace, chunk: ChunkName, attempt: Int) -> DeliveryOutcome {
        guard let status = try? ChunkedTranscode.status(work: place.folder) else {
            place.dropIfFinished()
            return .chunkSkipped("chunk \(chunk.argument): the job has no split folder any more (it completed)")
        }
        if let failure = status.failure { return .chunkDropped("the job failed: \(failure)") }
        guard case .deadLetter = policy.disposition(for: .failed(error), attempt: attempt) else { return .failed(error) }
        return failJob(place, chunk: chunk, message: "\(error)", outcome: .failed(error))
    }

    /// Leaves the job's failed marker: the chunk that leaves it ends as `outcome` (dead-lettered,
    /// with the job's one `job.failed`); any other is dropped without an event.
    private func failJob(_ place: SplitPlace, chunk: ChunkName, message: String, outcome: DeliveryOutcome) -> DeliveryOutcome {
        do {
            guard try markSplitFailed(place, chunk: chunk.folder, error: message) else {
                return .chunkDropped("the job failed already")
            }
        } catch {
            return .failed(error)  // cannot write the marker: retried
        }
        return outcome
    }

    /// A progressive split job: publishes, under the output's lock, what is committed from the
    /// start of the plan (EVENT playlists that grow chunk by chunk). Best effort: the stitch writes
    /// everything again in any case.
    private func publishProgress(split: URL, plan: JobPlan, delivery: AMQPDelivery, log: Logger) async {
        // A bucket output is published by the stitch only.
        guard storage?.output == nil else { return }
        let client = self.client
        let lock: JobLock
        do {
            lock = try await JobLock.acquire(layout.lockFile(for: plan.outputKey), onWait: {}, giveUp: {
                client.currentGeneration != delivery.channelGeneration
            })
        } catch {
            return
        }
        defer { lock.release() }
        do {
            let output = try OutputPlace(plan: plan, layout: layout)
            switch output.inspect(jobId: plan.job.jobId) {
            case .absent, .incomplete: break
            case .complete, .otherJob: return  // stitched already, or not this job's to write
            }
            let chunks = try ChunkedTranscode.publishProgress(work: split, output: try output.inPlace())
            log.info("progressive split job: published", metadata: ["videoChunks": "\(chunks)"])
        } catch {
            log.warning("progressive split job: cannot publish what is committed", metadata: ["error": "\(error)"])
        }
    }

    /// Publishes the stitch message when every chunk is committed (a lost one is covered by the
    /// delayed check).
    private func fanIn(_ place: SplitPlace, delivery: AMQPDelivery, job: TranscodeJob, log: Logger) async {
        guard let status = try? ChunkedTranscode.status(work: place.folder), status.missing.isEmpty, status.failure == nil else { return }
        do {
            try await client.publish(SplitTask.stitch.message(jobId: job.jobId, body: delivery.body, topology: configuration.topology,
                                                              checkDelay: 0), policy: .once)
            log.info("every chunk committed: stitch requested")
        } catch {
            log.warning("stitch message not confirmed; the delayed check will stitch", metadata: ["error": "\(error)"])
        }
    }

    /// The stitch (or the delayed check) of a split job, the output's lock held and its output not complete.
    func processStitch(_ task: SplitTask, delivery: AMQPDelivery, job: TranscodeJob, plan: JobPlan, output: OutputPlace,
                       log: Logger) async -> DeliveryOutcome {
        let place: SplitPlace
        do { place = try openSplit(plan, files: true) } catch { return .failed(error) }
        defer { place.close() }
        let split = place.folder
        let status: ChunkedTranscode.Status
        do {
            guard place.planned else { return .chunkSkipped("stitch: the job has no split folder") }
            status = try ChunkedTranscode.status(work: split)
        } catch ChunkError.mismatch(let message) {
            return .failed(ChunkError.mismatch(message))
        } catch {
            return .chunkSkipped("stitch: the job has no split folder")
        }
        if status.failure != nil { return .chunkSkipped("stitch: the job failed") }
        guard status.missing.isEmpty else {
            if task == .check, let failure = await rearmCheck(job: job, delivery: delivery) { return failure }
            return .chunkSkipped("stitch: waiting for \(status.missing.map(\.folder).joined(separator: ", "))")
        }
        if let mirror = place.mirror {
            let claimed: Bool
            do throws(StorageError) { claimed = try mirror.claimStitch(worker: configuration.workerId) } catch {
                return .failed(StorageRoots.outputError(error))
            }
            guard claimed else {
                // The delayed check keeps looking, so a claimer that died is taken over after its lease.
                if task == .check, let failure = await rearmCheck(job: job, delivery: delivery) { return failure }
                return .chunkSkipped("stitch: another worker is stitching")
            }
            // A claim won after another stitcher finished and cleared its own (this delivery read
            // the bucket before that): the output is there already.
            let done: Bool
            do { done = try bucketOutput(plan)?.isComplete(jobId: job.jobId) ?? false } catch {
                mirror.releaseStitch()
                return .failed(error)
            }
            if done {
                mirror.releaseStitch()
                return .chunkSkipped("stitch: the job completed meanwhile")
            }
        }
        let work = layout.workFolder(for: plan.outputKey)
        let report: TranscodeReport
        let target: URL
        do {
            // A progressive job is finished where its committed prefix has been published.
            try removeLeftovers(work: work, output: output, log: log, keepingResumable: true, keepingOutput: plan.progressive)
            target = plan.progressive ? try output.inPlace() : work.appendingPathComponent(Self.engineOutputName)
            report = try await ChunkedTranscode.stitch(work: split, output: target, ownsOutputSlot: true, inPlace: plan.progressive)
        } catch {
            // A stitch that is given up on fails the job: the delayed check must not stitch it later.
            if case .deadLetter = policy.disposition(for: .failed(error), attempt: delivery.attempt) {
                _ = try? markSplitFailed(place, chunk: "stitch", error: "\(error)")
            }
            place.mirror?.releaseStitch()
            return .failed(error)
        }
        log.info("job stitched", metadata: ["videoChunks": "\(report.chunks?.videoChunks ?? 0)"])
        let publisher = bucketOutput(plan)?.publisher(folder: target)
        do throws(StorageError) { try publisher?.prepare(overwrite: true) } catch {
            place.mirror?.releaseStitch()
            return .failed(StorageRoots.outputError(error))
        }
        let outcome = await finishJob(job: job, plan: plan, report: report, target: target, work: work, output: output,
                                      attempt: delivery.attempt, log: log, scrap: target, publisher: publisher)
        switch outcome {
        case .completed, .completionNotConfirmed:
            do throws(StorageError) { try place.mirror?.removeRemote() } catch {
                log.warning("cannot remove the split job's work in the bucket", metadata: ["error": "\(error)"])
            }
        default:
            place.mirror?.releaseStitch()
        }
        return outcome
    }

    /// Publishes the next delayed fan-in check; the failure outcome when it is not confirmed.
    private func rearmCheck(job: TranscodeJob, delivery: AMQPDelivery) async -> DeliveryOutcome? {
        do {
            try await client.publish(SplitTask.check.message(jobId: job.jobId, body: delivery.body, topology: configuration.topology,
                                                             checkDelay: configuration.chunkCheckInterval), policy: .once)
            return nil
        } catch {
            return .failed(TranscodeError.io("cannot re-arm the fan-in check: \(error)"))
        }
    }

    /// The job's input and subtitles opened for the engine; a bucket input root's objects are
    /// spooled first (the caller removes the copies).
    func openInputs(_ plan: JobPlan) throws -> (OpenedInputs, BucketInputs?) {
        let spooled = try storage?.input.map { try BucketInputs(plan: plan, bucket: $0, roots: storage!, maxBytes: InputLimits().maxObjectBytes) }
        do {
            return (try OpenedInputs(plan: spooled?.plan ?? plan, root: spooled?.root ?? resolver.inputRoot), spooled)
        } catch {
            spooled?.remove()
            throw error
        }
    }
}
