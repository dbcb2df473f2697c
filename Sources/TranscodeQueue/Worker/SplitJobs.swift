import Foundation
import HLSKit
import Logging

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
extension TranscodeWorker {
    /// The job's split folder: beside its work folder's engine output, kept across deliveries.
    func splitFolder(_ plan: JobPlan) -> URL {
        layout.workFolder(for: plan.outputKey).appendingPathComponent(Self.splitName)
    }

    /// Plans `job` as a split one when its source is long enough; nil when it is not (it is then
    /// transcoded whole). Publishes every chunk's message and the delayed check.
    func planSplit(delivery: AMQPDelivery, job: TranscodeJob, plan: JobPlan, inputs: OpenedInputs, log: Logger) async -> DeliveryOutcome? {
        let split = splitFolder(plan)
        if let failed = try? ChunkedTranscode.status(work: split), failed.failure != nil {
            // A job submitted again after it failed starts afresh; a redelivery of the job that
            // failed (its job.failed went out) has nothing left to do.
            guard delivery.attempt == 1, !delivery.redelivered else { return .chunkSkipped("the split job failed already") }
            do {
                try FileManager.default.removeItem(at: split)
            } catch {
                return .failed(error)
            }
            log.info("job submitted again after it failed: its split folder is removed and it is planned afresh")
        }
        let planned: ChunkedTranscode.Plan
        do {
            guard let made = try await ChunkedTranscode.planIfSplit(input: inputs.video.descriptorPath, work: split,
                                                                   options: plan.transcodeOptions(inputs: inputs),
                                                                   chunkDuration: plan.chunkDuration) else { return nil }
            planned = made
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
        let split = splitFolder(plan)
        let status: ChunkedTranscode.Status
        do {
            status = try ChunkedTranscode.status(work: split)
        } catch {
            // No plan: the job is complete (its folder went with it) or its folder was removed.
            return .chunkSkipped("chunk \(name.argument): the job has no split folder (it completed, or was removed)")
        }
        if let failure = status.failure { return .chunkDropped("the job failed: \(failure)") }
        if status.committed.contains(name) {
            // Its worker may have died before telling: the job's progress, then the fan-in.
            sendProgress(status, job: job, attempt: delivery.attempt)
            if plan.progressive { await publishProgress(split: split, plan: plan, delivery: delivery, log: log) }
            await fanIn(split: split, delivery: delivery, job: job, log: log)
            return .chunkSkipped("chunk \(name.argument) was committed already")
        }
        if policy.isExhausted(attempt: delivery.attempt) {
            return failJob(split: split, chunk: name, message: "delivered \(delivery.attempt) times", outcome: .exhausted)
        }
        let inputs: OpenedInputs
        do {
            inputs = try OpenedInputs(plan: plan, root: resolver.inputRoot)
        } catch let error as JobRejection {
            return failJob(split: split, chunk: name, message: error.message, outcome: .rejected(error))
        } catch {
            return failed(error, split: split, chunk: name, attempt: delivery.attempt)
        }
        defer { withExtendedLifetime(inputs) {} }
        log.info("chunk started", metadata: ["chunk": "\(name.folder)"])
        let chunk: ChunkedTranscode.Chunk
        do {
            chunk = try await ChunkedTranscode.encode(input: inputs.video.descriptorPath, work: split, chunk: name,
                                                      worker: configuration.workerId)
        } catch ChunkError.jobFailed(let message) {
            return .chunkDropped(message)
        } catch let error as TranscodeError {
            return failed(Self.naming(error, plan: plan, inputs: inputs), split: split, chunk: name, attempt: delivery.attempt)
        } catch {
            return failed(error, split: split, chunk: name, attempt: delivery.attempt)
        }
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
        await fanIn(split: split, delivery: delivery, job: job, log: log)
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
    private func failed(_ error: Error, split: URL, chunk: ChunkName, attempt: Int) -> DeliveryOutcome {
        guard let status = try? ChunkedTranscode.status(work: split) else {
            return .chunkSkipped("chunk \(chunk.argument): the job has no split folder any more (it completed)")
        }
        if let failure = status.failure { return .chunkDropped("the job failed: \(failure)") }
        guard case .deadLetter = policy.disposition(for: .failed(error), attempt: attempt) else { return .failed(error) }
        return failJob(split: split, chunk: chunk, message: "\(error)", outcome: .failed(error))
    }

    /// Leaves the job's failed marker: the chunk that leaves it ends as `outcome` (dead-lettered,
    /// with the job's one `job.failed`); any other is dropped without an event.
    private func failJob(split: URL, chunk: ChunkName, message: String, outcome: DeliveryOutcome) -> DeliveryOutcome {
        do {
            guard try ChunkedTranscode.markFailed(work: split, chunk: chunk.folder, error: message) else {
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
    private func fanIn(split: URL, delivery: AMQPDelivery, job: TranscodeJob, log: Logger) async {
        guard let status = try? ChunkedTranscode.status(work: split), status.missing.isEmpty, status.failure == nil else { return }
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
        let split = splitFolder(plan)
        guard let status = try? ChunkedTranscode.status(work: split) else {
            return .chunkSkipped("stitch: the job has no split folder")
        }
        if status.failure != nil { return .chunkSkipped("stitch: the job failed") }
        guard status.missing.isEmpty else {
            if task == .check {
                do {
                    try await client.publish(SplitTask.check.message(jobId: job.jobId, body: delivery.body, topology: configuration.topology,
                                                                     checkDelay: configuration.chunkCheckInterval), policy: .once)
                } catch {
                    return .failed(TranscodeError.io("cannot re-arm the fan-in check: \(error)"))
                }
            }
            return .chunkSkipped("stitch: waiting for \(status.missing.map(\.folder).joined(separator: ", "))")
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
                _ = try? ChunkedTranscode.markFailed(work: split, chunk: "stitch", error: "\(error)")
            }
            return .failed(error)
        }
        log.info("job stitched", metadata: ["videoChunks": "\(report.chunks?.videoChunks ?? 0)"])
        return await finishJob(job: job, plan: plan, report: report, target: target, work: work, output: output,
                               attempt: delivery.attempt, log: log, scrap: target)
    }
}
