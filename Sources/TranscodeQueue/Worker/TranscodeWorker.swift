import Foundation
import HLSKit
import Logging
import ServiceLifecycle

/// Why a worker cannot start.
public struct WorkerSetupError: Error, CustomStringConvertible {
    public var description: String
}

/// The daemon: takes jobs from the jobs queue, transcodes them with the engine, reports events,
/// and acknowledges a delivery only once its output is complete and in place.
///
/// For each delivery, in order:
/// 1. decode strictly and confine the paths; a bad message is dead-lettered with its reason
///    (`job.rejected`) and acknowledged;
/// 2. take the output's lock (another delivery of the same output, here or on another worker
///    sharing the output root, is waited for), then open the output's folders again without
///    following links (`OutputPlace`): a parent swapped for a link meanwhile is rejected;
/// 3. a complete output of this job: acknowledge without work (reporting `job.completed` only
///    if its first report was never confirmed, with the eventId its marker kept); a complete
///    output of another job, or an output nesting with another (`OutputClaims`): reject;
/// 4. past `maxAttempts` deliveries: dead-letter (`job.failed`, `max-attempts`);
/// 5. open the input and subtitles and check the open files (`OpenedInputs`); `job.accepted`,
///    remove leftovers, `job.started`, transcode into the private work folder
///    (`job.progress` at most once per `progressInterval`, `job.segment` per finished segment),
///    write the completion marker, rename the folder into place, `job.completed` (confirmed),
///    acknowledge; a progressive job is written in place instead, and is complete once its
///    marker is written;
/// 6. on failure: bad media or a missing input is dead-lettered at once; anything else is
///    requeued after a delay (`job.failed`, `willRetry: true`) until the last attempt.
///
/// Graceful shutdown (SIGTERM/SIGINT through swift-service-lifecycle, or `shutdown()`): stop
/// consuming, let running jobs finish for `shutdownGrace` seconds, then cancel them (the engine
/// removes its staging folder) and requeue their deliveries; `run()` then returns.
public final class TranscodeWorker: Service, @unchecked Sendable {
    public let configuration: WorkerConfiguration
    private let logger: Logger
    private let client: AMQPClient
    private let resolver: JobResolver
    private let layout: OutputLayout
    private let decoder: JobDecoder
    private let events: EventPublisher
    private let claims: OutputClaims
    private let jobs = JobRegistry()
    private let stateLock = NSLock()
    private var shuttingDown = false

    public init(configuration: WorkerConfiguration, logger: Logger) throws(WorkerSetupError) {
        self.configuration = configuration
        self.logger = logger
        let inputRoot: ConfinedRoot, outputRoot: ConfinedRoot
        do { inputRoot = try ConfinedRoot(configuration.inputRoot) } catch {
            throw WorkerSetupError(description: "input root \(error.message)")
        }
        do { outputRoot = try ConfinedRoot(configuration.outputRoot) } catch {
            throw WorkerSetupError(description: "output root \(error.message)")
        }
        do { try configuration.topology.validate() } catch { throw WorkerSetupError(description: "\(error)") }
        guard configuration.maxAttempts >= 1 else { throw WorkerSetupError(description: "max attempts must be at least 1") }
        guard (1...1000).contains(configuration.prefetch) else { throw WorkerSetupError(description: "prefetch must be between 1 and 1000") }
        resolver = JobResolver(inputRoot: inputRoot, outputRoot: outputRoot, defaults: configuration.defaults)
        layout = OutputLayout(root: outputRoot)
        claims = OutputClaims(layout: layout)
        decoder = JobDecoder(maximumBodySize: configuration.maximumBodySize)
        var clientConfiguration = AMQPClient.Configuration(
            endpoint: configuration.endpoint, connectionName: "hlsify transcode-worker \(configuration.workerId)",
            topology: configuration.topology,
            consumer: AMQPClient.Consumer(queue: configuration.topology.jobsQueue, prefetch: configuration.prefetch,
                                          tag: "hlsify-\(configuration.workerId)"),
            reconnect: Backoff(initial: configuration.reconnectInitialDelay, maximum: configuration.reconnectMaxDelay))
        clientConfiguration.heartbeat = configuration.heartbeat
        client = AMQPClient(configuration: clientConfiguration, logger: logger)
        events = EventPublisher(client: client, exchange: configuration.topology.eventsExchange, logger: logger)
    }

    /// Runs until shut down; returns normally after a graceful shutdown.
    public func run() async throws {
        client.start()
        logger.info("worker started", metadata: [
            "workerId": "\(configuration.workerId)", "broker": "\(configuration.endpoint)",
            "queue": "\(configuration.topology.jobsQueue)", "inputRoot": "\(resolver.inputRoot.path)",
            "outputRoot": "\(resolver.outputRoot.path)", "prefetch": "\(configuration.prefetch)",
            "maxAttempts": "\(configuration.maxAttempts)"])
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                for await delivery in client.deliveries {
                    jobs.start { [self] in await handle(delivery) }
                }
                if jobs.count > 0 {
                    logger.info("waiting for running jobs", metadata: ["jobs": "\(jobs.count)",
                                                                       "graceSeconds": "\(configuration.shutdownGrace)"])
                }
                if !(await jobs.drain(grace: configuration.shutdownGrace)) {
                    logger.warning("grace period over: running jobs were stopped and returned to the queue")
                }
            } onCancel: {
                shutdown()
                jobs.cancelAll()
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
        await client.close(drainTimeout: 10)
        logger.info("worker stopped", metadata: ["workerId": "\(configuration.workerId)"])
    }

    /// Stops taking jobs; `run()` returns once the running ones are done (or the grace period is over).
    public func shutdown() {
        stateLock.lock()
        let first = !shuttingDown
        shuttingDown = true
        stateLock.unlock()
        guard first else { return }
        logger.info("shutting down: taking no new jobs", metadata: ["runningJobs": "\(jobs.count)"])
        let client = self.client
        Task { await client.stopConsuming() }
    }

    // MARK: - One delivery

    private func handle(_ delivery: AMQPDelivery) async {
        let attempt = delivery.attempt
        let decoded: JobDecoder.Decoded
        do {
            decoded = try decoder.decode(Data(delivery.body))
        } catch {
            await reject(delivery, error, attempt: attempt)
            return
        }
        let job = decoded.job
        var log = logger
        log[metadataKey: "jobId"] = "\(job.jobId)"
        log[metadataKey: "attempt"] = "\(attempt)"
        let plan: JobPlan
        do {
            plan = try resolver.plan(job)
        } catch {
            await reject(delivery, error, attempt: attempt)
            return
        }

        let lock: JobLock
        do {
            let client = self.client
            lock = try await JobLock.acquire(layout.lockFile(for: plan.outputKey), onWait: {
                log.info("job waiting: another delivery of this output is being handled")
            }, giveUp: {
                // The channel that brought this delivery is gone: the broker has requeued it already.
                client.currentGeneration != delivery.channelGeneration
            })
        } catch is JobLock.Abandoned {
            log.info("job delivery dropped while waiting (its channel closed; the broker redelivers it)")
            return
        } catch is CancellationError {
            await returnToQueue(delivery, log: log)
            return
        } catch {
            await failed(delivery, job: job, plan: plan, attempt: attempt, error: error, log: log)
            return
        }
        defer { lock.release() }

        // Everything below went through checks that the file system may have changed while this
        // delivery waited: the output's folders are opened again without following links (every
        // later delete and write goes through them), and the inputs are opened and checked.
        let output: OutputPlace
        do {
            output = try OutputPlace(plan: plan, layout: layout)
        } catch .symbolicLink(let path) {
            await reject(delivery, Self.unsafeOutput(job, .symbolicLink(path)), attempt: attempt)
            return
        } catch {
            await failed(delivery, job: job, plan: plan, attempt: attempt, error: error, log: log)
            return
        }
        // The descriptor paths handed out below (/proc/self/fd/N) are valid while `output` lives.
        defer { withExtendedLifetime(output) {} }

        switch output.inspect(jobId: job.jobId) {
        case .complete(let marker):
            await acknowledgeComplete(delivery, marker: marker, output: output, attempt: attempt, log: log)
            return
        case .otherJob(let other):
            await reject(delivery, JobRejection(.outputConflict, "output \"\(job.output)\" holds the complete output of job \"\(other)\"",
                                                jobId: job.jobId), attempt: attempt)
            return
        case .absent, .incomplete:
            break
        }

        do {
            try await claims.claim(plan.outputKey, holding: lock)
        } catch let conflict as OutputClaims.Conflict {
            await reject(delivery, JobRejection(.outputConflict, conflict.message, jobId: job.jobId), attempt: attempt)
            return
        } catch DirectoryHandle.Problem.symbolicLink(let path) {
            await reject(delivery, Self.unsafeOutput(job, .symbolicLink(path)), attempt: attempt)
            return
        } catch is CancellationError {
            await returnToQueue(delivery, log: log)
            return
        } catch {
            await failed(delivery, job: job, plan: plan, attempt: attempt, error: error, log: log)
            return
        }

        if attempt > configuration.maxAttempts {
            // Whatever the attempts that died left behind goes with the job.
            try? removeLeftovers(work: layout.workFolder(for: plan.outputKey), output: output, log: log)
            await deadLetter(delivery, jobId: job.jobId, reason: .attemptsExhausted,
                             message: "delivered \(attempt) times (the worker may have died each time); --max-attempts is \(configuration.maxAttempts)",
                             attempt: attempt, log: log)
            return
        }

        let inputs: OpenedInputs
        do {
            inputs = try OpenedInputs(plan: plan, root: resolver.inputRoot)
        } catch let error as JobRejection {
            await reject(delivery, error, attempt: attempt)
            return
        } catch {
            await failed(delivery, job: job, plan: plan, attempt: attempt, error: error, log: log)
            return
        }
        defer { withExtendedLifetime(inputs) {} }

        events.send(.accepted(job, workerId: configuration.workerId, attempt: attempt, redelivered: delivery.redelivered,
                              warnings: decoded.warnings))
        log.info("job accepted", metadata: ["input": "\(job.input)", "output": "\(job.output)",
                                            "ladder": "\(plan.ladder.map(\.description).joined(separator: ","))",
                                            "redelivered": "\(delivery.redelivered)"])
        for warning in decoded.warnings { log.warning("job message: \(warning)") }

        // A staged job is made in its private work folder and renamed into place when complete;
        // a progressive one is written in place (players follow it as segments appear) and is
        // complete once its marker is there.
        let work = layout.workFolder(for: plan.outputKey)
        let target: URL
        do {
            try removeLeftovers(work: work, output: output, log: log)
            if plan.progressive {
                target = try output.inPlace()
            } else {
                try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
                target = work.appendingPathComponent("output")
            }
        } catch {
            await failed(delivery, job: job, plan: plan, attempt: attempt, error: error, log: log)
            return
        }

        events.send(.started(jobId: job.jobId, input: job.input, output: job.output, workerId: configuration.workerId, attempt: attempt))
        log.info("job started", metadata: ["progressive": "\(plan.progressive)"])
        let report: TranscodeReport
        do {
            report = try await transcode(plan, inputs: inputs, into: target, attempt: attempt)
        } catch {
            try? FileManager.default.removeItem(at: work)
            await failed(delivery, job: job, plan: plan, attempt: attempt, error: error, log: log)
            return
        }

        let completion = JobEvent.Completion(report: report, output: job.output, folder: target)
        // The completion's eventId is kept in the marker before the event is first published.
        let completed = JobEvent.completed(jobId: job.jobId, completion, workerId: configuration.workerId, attempt: attempt)
        var marker = CompletionMarker(jobId: job.jobId, workerId: configuration.workerId, attempt: attempt,
                                      eventPublished: false, eventId: completed.eventId, completion: completion)
        let placed: URL
        do {
            try marker.write(in: target)
            placed = plan.progressive ? target : try output.moveIntoPlace(target, jobId: job.jobId)
            try? FileManager.default.removeItem(at: work)
        } catch {
            try? FileManager.default.removeItem(at: work)
            if plan.progressive { _ = try? output.remove() }
            await failed(delivery, job: job, plan: plan, attempt: attempt, error: TranscodeError.io("cannot put the output in place: \(error)"), log: log)
            return
        }
        log.info("job output in place", metadata: ["output": "\(plan.outputPath)", "bytes": "\(completion.bytes)",
                                                   "elapsedSeconds": "\(String(format: "%.1f", completion.elapsedSeconds))"])

        do {
            try await events.publish(completed)
        } catch {
            // Without a confirmed job.completed the delivery stays unacknowledged: its redelivery
            // finds the output complete and reports the completion then.
            log.warning("job.completed not confirmed; returning the delivery so that a redelivery reports it",
                        metadata: ["error": "\(error)"])
            await client.settle(delivery, .reject(requeue: true))
            return
        }
        marker.eventPublished = true
        do { try marker.write(in: placed) } catch {
            log.warning("cannot update the completion marker", metadata: ["error": "\(error)"])
        }
        if await client.settle(delivery, .ack) {
            log.info("job completed", metadata: ["output": "\(job.output)", "speed": "\(String(format: "%.2f", completion.speed))"])
        } else {
            log.info("job completed; its delivery belonged to a channel that is gone, so the broker redelivers it and it is acknowledged without work")
        }
    }

    /// Gives a delivery back unfinished because the worker is shutting down.
    private func returnToQueue(_ delivery: AMQPDelivery, log: Logger) async {
        await client.settle(delivery, .reject(requeue: true))
        log.info("job returned to the queue (shutting down)")
    }

    /// The rejection of a job whose output folders turned into links after it was planned.
    private static func unsafeOutput(_ job: TranscodeJob, _ problem: DirectoryHandle.Problem) -> JobRejection {
        JobRejection(.unsafePath, "output \(JobDecoder.quoted(job.output)): \(problem)", jobId: job.jobId)
    }

    /// Removes what earlier attempts left: the work folder (engine staging included) and an
    /// incomplete output (the caller has checked that it is not complete), the latter through
    /// the output's opened parent folder.
    private func removeLeftovers(work: URL, output: OutputPlace, log: Logger) throws {
        var info = stat()
        if lstat(work.path, &info) == 0 {
            try FileManager.default.removeItem(at: work)
            log.info("job leftovers of an earlier attempt removed", metadata: ["folder": "\(work.path)"])
        }
        if try output.remove() {
            log.info("job partial output of an earlier attempt removed", metadata: ["output": "\(output.path)"])
        }
    }

    private func transcode(_ plan: JobPlan, inputs: OpenedInputs, into folder: URL, attempt: Int) async throws -> TranscodeReport {
        var options = plan.transcodeOptions(inputs: inputs)
        let events = self.events
        let jobId = plan.job.jobId
        let workerId = configuration.workerId
        options.onSegment = { segment in
            events.send(.segment(jobId: jobId, JobEvent.Segment(segment), workerId: workerId, attempt: attempt))
        }
        let throttle = ProgressThrottle(interval: configuration.progressInterval)
        do {
            return try await Transcoder.transcode(input: inputs.video.descriptorPath, output: folder, options: options) { progress in
                guard throttle.isDue() else { return }
                events.send(.progress(jobId: jobId, JobEvent.Progress(progress), workerId: workerId, attempt: attempt))
            }
        } catch let error as TranscodeError {
            // Longest descriptor path first, so /proc/self/fd/3 does not rewrite /proc/self/fd/30.
            let names = [(inputs.video.descriptorPath, plan.job.input)]
                + zip(inputs.subtitles, plan.job.subtitles).map { ($0.descriptorPath, $1.path) }
            throw names.sorted { $0.0.count > $1.0.count }.reduce(error) { $0.naming($1.0, as: $1.1) }
        }
    }

    /// A redelivery whose output is already complete: report the completion if it was never
    /// confirmed (with the eventId its marker kept), then acknowledge.
    private func acknowledgeComplete(_ delivery: AMQPDelivery, marker: CompletionMarker, output: OutputPlace, attempt: Int,
                                     log: Logger) async {
        if !marker.eventPublished {
            var updated = marker
            do {
                try await events.publish(.completed(jobId: marker.jobId, marker.completion, workerId: configuration.workerId,
                                                    attempt: attempt, eventId: marker.eventId ?? UUID().uuidString.lowercased()))
            } catch {
                log.warning("job.completed not confirmed; returning the delivery", metadata: ["error": "\(error)"])
                await client.settle(delivery, .reject(requeue: true))
                return
            }
            updated.eventPublished = true
            try? updated.write(in: output.url)
            log.info("job was complete but its completion had not been reported: reported now")
        }
        if await client.settle(delivery, .ack) {
            log.info("job already complete; acknowledged without work")
        } else {
            log.info("job already complete; acknowledgement skipped (channel gone, the broker redelivers it)")
        }
    }

    // MARK: - Failures

    private func failed(_ delivery: AMQPDelivery, job: TranscodeJob, plan: JobPlan, attempt: Int, error: Error, log: Logger) async {
        switch FailurePolicy.classify(error) {
        case .interrupted:
            events.send(.failed(jobId: job.jobId, reason: "interrupted", message: "the worker is shutting down; the job goes back to the queue",
                                willRetry: true, workerId: configuration.workerId, attempt: attempt))
            await client.settle(delivery, .reject(requeue: true))
            log.info("job interrupted and returned to the queue")
        case .final(let reason):
            await deadLetter(delivery, jobId: job.jobId, reason: reason, message: "\(error)", attempt: attempt, log: log)
        case .transient:
            if attempt >= configuration.maxAttempts {
                await deadLetter(delivery, jobId: job.jobId, reason: .attemptsExhausted,
                                 message: "attempt \(attempt) of \(configuration.maxAttempts) failed: \(error)", attempt: attempt, log: log)
                return
            }
            events.send(.failed(jobId: job.jobId, reason: "transient", message: "\(error)", willRetry: true,
                                workerId: configuration.workerId, attempt: attempt))
            let delay = min(60, configuration.retryDelay * Double(attempt))
            log.warning("job failed; retrying", metadata: ["error": "\(error)", "retryInSeconds": "\(delay)"])
            try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            await client.settle(delivery, .reject(requeue: true))
        }
    }

    private func reject(_ delivery: AMQPDelivery, _ error: Error, attempt: Int) async {
        let rejection = (error as? JobRejection) ?? JobRejection(.invalidJob, "\(error)")
        var log = logger
        log[metadataKey: "jobId"] = "\(rejection.jobId ?? "null")"
        log[metadataKey: "attempt"] = "\(attempt)"
        await deadLetter(delivery, jobId: rejection.jobId, reason: rejection.reason, message: rejection.message, attempt: attempt, log: log)
    }

    /// Publishes a copy of the delivery to the dead-letter exchange with the reason in its
    /// headers, reports `job.rejected` or `job.failed`, then acknowledges the original. If the
    /// copy cannot be confirmed on the delivery's own channel, nothing is acknowledged and the
    /// broker's redelivery does it again. A copy whose headers no longer fit one frame is sent
    /// again with the original headers dropped and the reason cut (`DeadLetterCopy`).
    private func deadLetter(_ delivery: AMQPDelivery, jobId: String?, reason: DeadLetterReason, message: String, attempt: Int,
                            log: Logger) async {
        let facts = DeadLetterCopy(reason: reason, message: message, jobId: jobId, workerId: configuration.workerId, attempt: attempt,
                                   originalQueue: configuration.topology.jobsQueue, at: Date())
        let event: JobEvent = reason.isRejection
            ? .rejected(jobId: jobId, reason: reason, message: message, workerId: configuration.workerId, attempt: attempt)
            : .failed(jobId: jobId, reason: reason.rawValue, message: message, willRetry: false, workerId: configuration.workerId,
                      attempt: attempt)
        do {
            do {
                try await client.publish(facts.message(for: delivery, exchange: configuration.topology.deadLetterExchange, compact: false),
                                         policy: .boundTo(channelGeneration: delivery.channelGeneration))
            } catch .tooLarge(let why) {
                log.warning("dead-letter copy too large; sending it without the original headers", metadata: ["error": "\(why)"])
                try await client.publish(facts.message(for: delivery, exchange: configuration.topology.deadLetterExchange, compact: true),
                                         policy: .boundTo(channelGeneration: delivery.channelGeneration))
            }
        } catch {
            switch error {
            case .nacked, .returned, .tooLarge:
                // The broker would not take the copy: let it dead-letter the original itself
                // (the queue's x-dead-letter-exchange; the reason is then only in the event).
                try? await events.publish(event)
                await client.settle(delivery, .reject(requeue: false))
                log.error("job dead-lettered by the broker (our copy was refused)", metadata: ["reason": "\(reason.rawValue)",
                                                                                              "error": "\(message)"])
            default:
                log.warning("dead-letter copy not confirmed; the broker will redeliver the message",
                            metadata: ["reason": "\(reason.rawValue)", "error": "\(error)"])
            }
            return
        }
        do { try await events.publish(event) } catch {
            log.warning("event not confirmed", metadata: ["event": "\(event.routingKey)", "error": "\(error)"])
        }
        await client.settle(delivery, .ack)
        if reason.isRejection {
            log.warning("job rejected and dead-lettered", metadata: ["reason": "\(reason.rawValue)", "error": "\(message)"])
        } else {
            log.error("job failed and dead-lettered", metadata: ["reason": "\(reason.rawValue)", "error": "\(message)"])
        }
    }
}
