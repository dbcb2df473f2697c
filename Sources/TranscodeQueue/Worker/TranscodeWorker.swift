import Foundation
import HLSKit
import Logging
import ObjectStorage
import ServiceLifecycle
import Synchronization

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
/// Each delivery is handled by a child task of `run()` (how many run at once is bounded by the
/// consumer's prefetch) and ends in one settlement, as `DeliveryPolicy` decides from its
/// `DeliveryOutcome`.
///
/// Graceful shutdown (SIGTERM/SIGINT through swift-service-lifecycle, or `shutdown()`): stop
/// consuming, let running jobs finish for `shutdownGrace` seconds, then cancel them (the engine
/// removes its staging folder) and requeue their deliveries; `run()` then returns. Cancelling
/// `run()` cancels the running jobs at once.
public final class TranscodeWorker: Service, @unchecked Sendable {  // immutable but for Atomic fields; AMQPClient serialises the rest
    public let configuration: WorkerConfiguration
    let logger: Logger
    let client: AMQPClient
    let resolver: JobResolver
    let layout: OutputLayout
    private let decoder: JobDecoder
    let events: EventPublisher
    private let claims: OutputClaims
    let policy: DeliveryPolicy
    /// The bucket roots, when a root is a bucket.
    let storage: StorageRoots?
    /// Jobs being handled, for the log.
    private let runningJobs = Atomic<Int>(0)
    private let shuttingDown = Atomic<Bool>(false)
    /// When the observer loop last turned (milliseconds since 1970).
    private let lastObserved = Atomic<Int>(TranscodeWorker.nowMilliseconds())

    private static func nowMilliseconds() -> Int { Int(Date().timeIntervalSince1970 * 1000) }
    /// Finished by `shutdown()`: the grace period starts.
    private let shutdownRequested: AsyncStream<Never>
    private let shutdownContinuation: AsyncStream<Never>.Continuation

    public init(configuration: WorkerConfiguration, logger: Logger) throws(WorkerSetupError) {
        self.configuration = configuration
        self.logger = logger
        let storage = try StorageRoots.make(configuration: configuration)
        try storage?.check()
        self.storage = storage
        let inputRoot: ConfinedRoot, outputRoot: ConfinedRoot
        do { inputRoot = try ConfinedRoot(storage?.input != nil ? storage!.localInputRoot : configuration.inputRoot) } catch {
            throw WorkerSetupError(description: "input root \(error.message)")
        }
        do { outputRoot = try ConfinedRoot(storage?.output != nil ? storage!.localOutputRoot : configuration.outputRoot) } catch {
            throw WorkerSetupError(description: "output root \(error.message)")
        }
        do { try configuration.topology.validate() } catch { throw WorkerSetupError(description: "\(error)") }
        guard configuration.maxAttempts >= 1 else { throw WorkerSetupError(description: "max attempts must be at least 1") }
        guard (1...1000).contains(configuration.prefetch) else { throw WorkerSetupError(description: "prefetch must be between 1 and 1000") }
        resolver = JobResolver(inputRoot: inputRoot, outputRoot: outputRoot, defaults: configuration.defaults)
        layout = OutputLayout(root: outputRoot)
        claims = OutputClaims(layout: layout)
        decoder = JobDecoder(maximumBodySize: configuration.maximumBodySize)
        policy = DeliveryPolicy(maxAttempts: configuration.maxAttempts, retryDelay: configuration.retryDelay)
        var clientConfiguration = AMQPClient.Configuration(
            endpoint: configuration.endpoint, connectionName: "hlsify transcode-worker \(configuration.workerId)",
            topology: configuration.topology,
            consumer: AMQPClient.Consumer(queue: configuration.topology.jobsQueue, prefetch: configuration.prefetch,
                                          tag: "hlsify-\(configuration.workerId)"),
            reconnect: Backoff(initial: configuration.reconnectInitialDelay, maximum: configuration.reconnectMaxDelay))
        clientConfiguration.heartbeat = configuration.heartbeat
        clientConfiguration.fallbacks = configuration.fallbackEndpoints
        client = AMQPClient(configuration: clientConfiguration, logger: logger)
        events = EventPublisher(client: client, exchange: configuration.topology.eventsExchange, logger: logger)
        (shutdownRequested, shutdownContinuation) = AsyncStream.makeStream()
    }

    /// Runs until shut down; returns normally after a graceful shutdown.
    public func run() async throws {
        client.start()
        logger.info("worker started", metadata: [
            "workerId": "\(configuration.workerId)", "broker": "\(configuration.endpoint)",
            "queue": "\(configuration.topology.jobsQueue)", "inputRoot": "\(storage?.input?.description ?? resolver.inputRoot.path)",
            "outputRoot": "\(storage?.output?.description ?? resolver.outputRoot.path)", "prefetch": "\(configuration.prefetch)",
            "maxAttempts": "\(configuration.maxAttempts)"])
        WorkerMetrics.prime()
        let observer = configuration.observeInterval.map { interval in Task { [self] in await observe(every: interval) } }
        defer { observer?.cancel() }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await runJobs()
            } onCancel: {
                shutdown()
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
        await client.close(drainTimeout: 10)
        logger.info("worker stopped", metadata: ["workerId": "\(configuration.workerId)"])
    }

    /// Why the worker is not alive (`/healthz`): its broker thread or its observer loop stopped
    /// turning for more than 30 s; nil while both turn.
    public func livenessProblem() -> String? {
        guard let turned = client.secondsSinceLastTurn else { return "the broker connection thread has not started" }
        if turned > Self.stalledAfter { return String(format: "the broker connection thread has not turned for %.0f s", turned) }
        if let interval = configuration.observeInterval {
            let observed = Double(Self.nowMilliseconds() - lastObserved.load(ordering: .relaxed)) / 1000
            if observed > max(Self.stalledAfter, interval * 3) {
                return String(format: "the observer loop has not turned for %.0f s", observed)
            }
        }
        return nil
    }

    /// Why the worker should not be given work (`/readyz`): not connected to the broker, or
    /// draining after SIGTERM; nil when ready.
    public func readinessProblem() -> String? {
        if shuttingDown.load(ordering: .relaxed) { return "draining: shutting down" }
        if !client.isConnected { return "not connected to the broker" }
        return nil
    }

    /// Seconds a loop may go without turning before the worker is not alive.
    static let stalledAfter: Double = 30

    /// Every `interval` seconds until cancelled: the broker's connection and reconnects, and the
    /// jobs queue's depth and consumers, into the metrics.
    private func observe(every interval: Double) async {
        var connections = 0
        while !Task.isCancelled {
            lastObserved.store(Self.nowMilliseconds(), ordering: .relaxed)
            let made = client.connections
            WorkerMetrics.broker(connected: client.isConnected, reconnectsSinceLast: max(0, made - max(1, connections)))
            connections = max(connections, made)
            if client.isConnected, let counts = await client.inspectQueue(configuration.topology.jobsQueue) {
                WorkerMetrics.queue(messages: counts.messages, consumers: counts.consumers)
            }
            WorkerMetrics.jobsInFlight(runningJobs.load(ordering: .relaxed))
            try? await Task.sleep(nanoseconds: UInt64(max(0.1, interval) * 1e9))
        }
    }

    /// Stops taking jobs; `run()` returns once the running ones are done (or the grace period is over).
    public func shutdown() {
        guard !shuttingDown.exchange(true, ordering: .relaxed) else { return }
        logger.info("shutting down: taking no new jobs", metadata: ["runningJobs": "\(runningJobs.load(ordering: .relaxed))"])
        client.stopConsuming()
        shutdownContinuation.finish()
    }

    /// What ended the wait in `runJobs`.
    private enum Ended: Sendable {
        case jobsFinished, graceOver, cancelled
    }

    /// Handles each delivery in a child task until consuming stops, then waits for the running
    /// jobs; once `shutdown()` was called they get `shutdownGrace` seconds, then are cancelled.
    private func runJobs() async {
        await withTaskGroup(of: Ended.self) { group in
            group.addTask { [self] in
                await withDiscardingTaskGroup { jobs in
                    for await delivery in client.deliveries {
                        WorkerMetrics.jobsInFlight(runningJobs.add(1, ordering: .relaxed).newValue)
                        WorkerMetrics.deliveryReceived(delivery)
                        jobs.addTask { [self] in
                            await handle(delivery)
                            WorkerMetrics.jobsInFlight(runningJobs.subtract(1, ordering: .relaxed).newValue)
                        }
                    }
                    let running = runningJobs.load(ordering: .relaxed)
                    if running > 0 {
                        logger.info("waiting for running jobs", metadata: ["jobs": "\(running)",
                                                                           "graceSeconds": "\(configuration.shutdownGrace)"])
                    }
                }
                return .jobsFinished
            }
            group.addTask { [self] in
                for await _ in shutdownRequested {}
                // Clamped to a billion seconds: any longer grace is waiting for the jobs to end anyway.
                let grace = min(max(0, configuration.shutdownGrace), 1e9)
                do { try await Task.sleep(nanoseconds: UInt64(grace * 1e9)) } catch { return .cancelled }
                return .graceOver
            }
            let first = await group.next()
            group.cancelAll()
            await group.waitForAll()
            if first == .graceOver {
                logger.warning("grace period over: running jobs were stopped and returned to the queue")
            }
        }
    }

    // MARK: - One delivery

    /// Who a delivery is about, as far as it is known: its job id once decoded (or the one a
    /// rejection names), and a logger that says so.
    struct Subject {
        var log: Logger
        var jobId: String? {
            didSet { log[metadataKey: "jobId"] = "\(jobId ?? "null")" }
        }
        /// The output's lock, held until the delivery is settled.
        var lock: JobLock?

        init(logger: Logger, attempt: Int) {
            log = logger
            log[metadataKey: "jobId"] = "null"
            log[metadataKey: "attempt"] = "\(attempt)"
        }
    }

    /// Handles a delivery, then settles it once, as `DeliveryPolicy` decides from the outcome.
    private func handle(_ delivery: AMQPDelivery) async {
        var subject = Subject(logger: logger, attempt: delivery.attempt)
        let outcome = await process(delivery, subject: &subject)
        if case .rejected(let rejection) = outcome { subject.jobId = rejection.jobId }
        await settle(delivery, policy.disposition(for: outcome, attempt: delivery.attempt), after: outcome, subject: subject)
        subject.lock?.release()
    }

    /// Does what a delivery asks, up to (not including) its settlement.
    private func process(_ delivery: AMQPDelivery, subject: inout Subject) async -> DeliveryOutcome {
        let attempt = delivery.attempt
        let decoded: JobDecoder.Decoded
        do {
            decoded = try decoder.decode(Data(delivery.body))
        } catch {
            return .rejected(Self.rejection(error))
        }
        let job = decoded.job
        subject.jobId = job.jobId
        let log = subject.log
        let plan: JobPlan
        do {
            plan = try resolver.plan(job)
        } catch {
            return .rejected(Self.rejection(error))
        }
        // A job split by time: its chunks are encoded without the output's lock (they commit into
        // the job's split folder); its stitch and delayed check take the lock like a job.
        let task = SplitTask(delivery.properties)
        if case .chunk(let name) = task {
            return await processChunk(name, delivery: delivery, job: job, plan: plan, log: log)
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
            return .abandoned
        } catch is CancellationError {
            return .stopped
        } catch {
            return .failed(error)
        }
        subject.lock = lock

        // Everything below went through checks that the file system may have changed while this
        // delivery waited: the output's folders are opened again without following links (every
        // later delete and write goes through them), and the inputs are opened and checked.
        let output: OutputPlace
        do {
            output = try OutputPlace(plan: plan, layout: layout)
        } catch .symbolicLink(let path) {
            return .rejected(Self.unsafeOutput(job, .symbolicLink(path)))
        } catch {
            return .failed(error)
        }
        // The descriptor paths handed out below (/proc/self/fd/N) are valid while `output` lives.
        defer { withExtendedLifetime(output) {} }

        // With a bucket output root, the output is the bucket's; the local place only holds the
        // work folder.
        let bucket: BucketOutput?
        let state: OutputLayout.State
        do {
            bucket = try storage?.output.map { try BucketOutput(plan: plan, roots: storage!, bucket: $0) }
            state = try bucket?.inspect(jobId: job.jobId) ?? output.inspect(jobId: job.jobId)
        } catch let error as JobRejection {
            return .rejected(error)
        } catch {
            return .failed(error)
        }
        switch state {
        case .complete(let marker):
            return await reportCompletion(marker, output: output, bucket: bucket, attempt: attempt, log: log)
        case .otherJob(let other):
            return .rejected(JobRejection(.outputConflict, "output \"\(job.output)\" holds the complete output of job \"\(other)\"",
                                          jobId: job.jobId))
        case .absent, .incomplete:
            break
        }

        do {
            try await claims.claim(plan.outputKey, holding: lock)
        } catch let conflict as OutputClaims.Conflict {
            return .rejected(JobRejection(.outputConflict, conflict.message, jobId: job.jobId))
        } catch DirectoryHandle.Problem.symbolicLink(let path) {
            return .rejected(Self.unsafeOutput(job, .symbolicLink(path)))
        } catch is CancellationError {
            return .stopped
        } catch {
            return .failed(error)
        }

        if task.isStitch {
            return await processStitch(task, delivery: delivery, job: job, plan: plan, output: output, log: log)
        }

        if policy.isExhausted(attempt: attempt) {
            // Whatever the attempts that died left behind goes with the job; chunks of it that
            // were published already stop (they would otherwise complete a job reported failed).
            // The failed marker first: chunks still running stop instead of committing.
            if let place = try? openSplit(plan, files: false) {
                if place.planned { _ = try? markSplitFailed(place, chunk: "plan", error: "the job was delivered \(attempt) times") }
                place.close()
            }
            bucket?.removeIncomplete(log: log)
            ResumeMirror.remove(output: bucket)
            try? removeLeftovers(work: layout.workFolder(for: plan.outputKey), output: output, log: log)
            return .exhausted
        }

        // A bucket input is spooled to local disk first (its copy goes when the delivery ends).
        let inputs: OpenedInputs
        let spooled: BucketInputs?
        do {
            (inputs, spooled) = try openInputs(plan)
        } catch let error as JobRejection {
            return .rejected(error)
        } catch {
            return .failed(error)
        }
        defer { withExtendedLifetime(inputs) {}; spooled?.remove() }

        events.send(.accepted(job, workerId: configuration.workerId, attempt: attempt, redelivered: delivery.redelivered,
                              warnings: decoded.warnings))
        log.info("job accepted", metadata: ["input": "\(job.input)", "output": "\(job.output)",
                                            "ladder": "\(plan.ladder)", "rateControl": "\(plan.rateControl.rawValue)",
                                            "redelivered": "\(delivery.redelivered)"])
        for warning in decoded.warnings { log.warning("job message: \(warning)") }

        // A staged job is made in its private work folder and renamed into place when complete;
        // a progressive one is written in place (players follow it as segments appear) and is
        // complete once its marker is there.
        let work = layout.workFolder(for: plan.outputKey)
        let target: URL
        do {
            // A staged job keeps what earlier attempts committed in the work folder (the engine
            // resumes from it, or clears it when it does not match).
            try removeLeftovers(work: work, output: output, log: log, keepingResumable: !plan.progressive)
            if plan.progressive {
                target = try output.inPlace()
            } else {
                try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
                target = work.appendingPathComponent(Self.engineOutputName)
            }
        } catch {
            return .failed(error)
        }

        // A progressive job with a bucket output is published as it is written.
        let publisher = bucket?.publisher(folder: target)
        do throws(StorageError) { try publisher?.prepare(overwrite: true) } catch {
            return .failed(StorageRoots.outputError(error))
        }
        let syncer = plan.progressive ? publisher.map { ProgressiveSync(publisher: $0) } : nil
        // A staged job with a bucket output keeps its resume state in the bucket too, for a
        // successor on another machine; one that died elsewhere is taken up from there.
        let resumeMirror = plan.progressive ? nil : bucket.flatMap { try? ResumeMirror(output: $0, target: target) }
        do throws(StorageError) {
            if let fetched = try resumeMirror?.restore(), fetched > 0 {
                log.info("job resume state fetched from the bucket", metadata: ["files": "\(fetched)"])
            }
        } catch {
            log.warning("cannot fetch the resume state from the bucket: starting afresh", metadata: ["error": "\(error)"])
        }

        if plan.chunkDuration > 0 {
            switch await planSplit(delivery: delivery, job: job, plan: plan, inputs: inputs, log: log) {
            case .some(let outcome): return outcome
            case .none: break  // too short to split: transcoded whole below
            }
        }

        // job.started goes out when the engine has decided whether it resumes (or, failing
        // before that, with the failure).
        let started = OnceFlag()
        let workerId = configuration.workerId
        let events = self.events
        let sendStarted: @Sendable (ResumeStatus) -> Void = { status in
            guard started.claim() else { return }
            events.send(.started(jobId: job.jobId, input: job.input, output: job.output, workerId: workerId, attempt: attempt,
                                 resumedFromSegment: status.fromSegment, segmentsReused: status.segmentsReused))
            log.info("job started", metadata: ["progressive": "\(plan.progressive)", "resumedFromSegment": "\(status.fromSegment)",
                                               "segmentsReused": "\(status.segmentsReused)"])
        }
        let report: TranscodeReport
        do {
            var onSegment: (@Sendable () -> Void)?
            if syncer != nil || resumeMirror != nil {
                onSegment = { syncer?.request(); resumeMirror?.segmentCommitted() }
            }
            report = try await transcode(plan, inputs: inputs, into: target, attempt: attempt, onStart: sendStarted,
                                         onSegment: onSegment)
            do throws(StorageError) { try syncer?.stop() } catch { throw StorageRoots.outputError(error) }
            resumeMirror?.stop()
        } catch {
            sendStarted(ResumeStatus())
            try? syncer?.stop()
            resumeMirror?.stop()
            publisher?.discard()
            // What a retry can resume from stays; a job that will never succeed takes it along.
            if case .final = FailurePolicy.classify(error) {
                try? FileManager.default.removeItem(at: work)
                resumeMirror?.removeRemote()
            }
            return .failed(error)
        }

        let outcome = await finishJob(job: job, plan: plan, report: report, target: target, work: work, output: output,
                                      attempt: attempt, log: log, publisher: publisher)
        switch outcome {
        case .completed, .completionNotConfirmed: resumeMirror?.removeRemote()
        default: break
        }
        return outcome
    }

    /// Puts a made output in place (completion marker, rename), reports `job.completed` (confirmed)
    /// and says how the delivery ends. For a whole transcode and the stitch of a split one alike.
    /// `work` is removed once the output is in place; if that fails, `scrap` (the whole work
    /// folder unless said otherwise: a stitch keeps its chunks for the next try).
    /// With `publisher` (a bucket output), the output is published to the bucket, the marker last,
    /// instead of renamed into place.
    func finishJob(job: TranscodeJob, plan: JobPlan, report: TranscodeReport, target: URL, work: URL, output: OutputPlace,
                   attempt: Int, log: Logger, scrap: URL? = nil, publisher: BucketPublisher? = nil) async -> DeliveryOutcome {
        let completion = JobEvent.Completion(report: report, output: job.output, folder: target)
        // The completion's eventId is kept in the marker before the event is first published.
        let completed = JobEvent.completed(jobId: job.jobId, completion, workerId: configuration.workerId, attempt: attempt)
        let marker = CompletionMarker(jobId: job.jobId, workerId: configuration.workerId, attempt: attempt,
                                      eventPublished: false, eventId: completed.eventId, completion: completion)
        if let publisher {
            return await publishJob(completed, marker: marker, publisher: publisher, target: target, work: work, scrap: scrap,
                                    output: output, plan: plan, log: log)
        }
        let placed: URL
        do {
            try marker.write(in: target)
            placed = plan.progressive ? target : try output.moveIntoPlace(target, jobId: job.jobId)
            try? FileManager.default.removeItem(at: work)
        } catch {
            try? FileManager.default.removeItem(at: scrap ?? work)
            if plan.progressive { _ = try? output.remove() }
            return .failed(TranscodeError.io("cannot put the output in place: \(error)"))
        }
        log.info("job output in place", metadata: ["output": "\(plan.outputPath)", "bytes": "\(completion.bytes)",
                                                   "elapsedSeconds": "\(String(format: "%.1f", completion.elapsedSeconds))"])

        return await reportCompleted(completed, marker: marker, log: log) { try $0.write(in: placed) }
    }

    /// Publishes `job.completed` (confirmed), then marks the completion as reported with `remark`.
    /// Without a confirmed event the delivery stays unacknowledged: its redelivery finds the output
    /// complete and reports the completion then.
    func reportCompleted(_ completed: JobEvent, marker: CompletionMarker, log: Logger,
                         remark: (CompletionMarker) throws -> Void) async -> DeliveryOutcome {
        do {
            try await events.publish(completed)
        } catch {
            log.warning("job.completed not confirmed; returning the delivery so that a redelivery reports it",
                        metadata: ["error": "\(error)"])
            return .completionNotConfirmed
        }
        var marker = marker
        marker.eventPublished = true
        do { try remark(marker) } catch {
            log.warning("cannot update the completion marker", metadata: ["error": "\(error)"])
        }
        return .completed(marker.completion)
    }

    /// A rejection for a message that cannot be decoded or planned.
    private static func rejection(_ error: any Error) -> JobRejection {
        (error as? JobRejection) ?? JobRejection(.invalidJob, "\(error)")
    }

    /// The rejection of a job whose output folders turned into links after it was planned.
    private static func unsafeOutput(_ job: TranscodeJob, _ problem: DirectoryHandle.Problem) -> JobRejection {
        JobRejection(.unsafePath, "output \(JobDecoder.quoted(job.output)): \(problem)", jobId: job.jobId)
    }

    /// Removes what earlier attempts left: the work folder (engine staging included; with
    /// `keepingResumable`, only the finished folder the engine left in it, its staging folders
    /// being the engine's to resume or clear) and an incomplete output (the caller has checked
    /// that it is not complete), the latter through the output's opened parent folder.
    /// A split job's folder in the work folder (`split/`) is never removed here: its chunks may be
    /// encoding elsewhere (it goes with the work folder when the job completes). With
    /// `keepingOutput` (a progressive split job's stitch) the output being published stays.
    func removeLeftovers(work: URL, output: OutputPlace, log: Logger, keepingResumable: Bool = false,
                         keepingOutput: Bool = false) throws {
        var info = stat()
        let removed = keepingResumable ? [work.appendingPathComponent(Self.engineOutputName)]
            : ((try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? [])
                .filter { !$0.hasPrefix(Self.splitName) }.map { work.appendingPathComponent($0) }
        for folder in removed where lstat(folder.path, &info) == 0 {
            try FileManager.default.removeItem(at: folder)
            log.info("job leftovers of an earlier attempt removed", metadata: ["folder": "\(folder.path)"])
        }
        if !keepingOutput, try output.remove() {
            log.info("job partial output of an earlier attempt removed", metadata: ["output": "\(output.path)"])
        }
    }

    /// The folder in the work folder the engine makes the output in (its staging beside it).
    static let engineOutputName = "output"
    /// The folder in the work folder a split job is planned and its chunks committed in.
    static let splitName = "split"

    private func transcode(_ plan: JobPlan, inputs: OpenedInputs, into folder: URL, attempt: Int,
                           onStart: @escaping @Sendable (ResumeStatus) -> Void,
                           onSegment: (@Sendable () -> Void)? = nil) async throws -> TranscodeReport {
        var options = plan.transcodeOptions(inputs: inputs)
        // The job's lock is held: staging folders beside the output are earlier attempts', to resume.
        options.ownsOutputSlot = true
        options.onStart = onStart
        let events = self.events
        let jobId = plan.job.jobId
        let workerId = configuration.workerId
        options.onSegment = { segment in
            onSegment?()
            events.send(.segment(jobId: jobId, JobEvent.Segment(segment), workerId: workerId, attempt: attempt))
        }
        let throttle = ProgressThrottle(interval: configuration.progressInterval)
        do {
            return try await Transcoder.transcode(input: inputs.video.descriptorPath, output: folder, options: options) { progress in
                guard throttle.isDue() else { return }
                events.send(.progress(jobId: jobId, JobEvent.Progress(progress), workerId: workerId, attempt: attempt))
            }
        } catch let error as TranscodeError {
            throw Self.naming(error, plan: plan, inputs: inputs)
        }
    }

    /// The engine's error with the descriptor paths it was given (`/proc/self/fd/N`) written as
    /// the job names its files. Longest descriptor path first, so /proc/self/fd/3 does not
    /// rewrite /proc/self/fd/30.
    static func naming(_ error: TranscodeError, plan: JobPlan, inputs: OpenedInputs) -> TranscodeError {
        let names = [(inputs.video.descriptorPath, plan.job.input)]
            + zip(inputs.subtitles, plan.job.subtitles).map { ($0.descriptorPath, $1.path) }
            + [inputs.chapters.flatMap { file in plan.job.chapters.map { (file.descriptorPath, $0) } }].compactMap { $0 }
            + zip(inputs.audioFiles, OpenedInputs.audioFields(plan.job)).map { ($0.descriptorPath, $1.path) }
        return names.sorted { $0.0.count > $1.0.count }.reduce(error) { $0.naming($1.0, as: $1.1) }
    }

    /// A redelivery whose output is already complete: reports the completion if it was never
    /// confirmed (with the eventId its marker kept).
    func reportCompletion(_ marker: CompletionMarker, output: OutputPlace, bucket: BucketOutput? = nil, attempt: Int,
                          log: Logger) async -> DeliveryOutcome {
        guard !marker.eventPublished else { return .alreadyComplete }
        var updated = marker
        do {
            try await events.publish(.completed(jobId: marker.jobId, marker.completion, workerId: configuration.workerId,
                                                attempt: attempt, eventId: marker.eventId ?? UUID().uuidString.lowercased()))
        } catch {
            log.warning("job.completed not confirmed; returning the delivery", metadata: ["error": "\(error)"])
            return .completionNotConfirmed
        }
        updated.eventPublished = true
        if let bucket { try? bucket.putMarker(updated) } else { try? updated.write(in: output.url) }
        log.info("job was complete but its completion had not been reported: reported now")
        return .alreadyComplete
    }

    // MARK: - Settling

    /// Settles `delivery` as `disposition` says: the one place the worker acknowledges, rejects
    /// or leaves a delivery, with the events and log lines that go with it.
    private func settle(_ delivery: AMQPDelivery, _ disposition: DeliveryDisposition, after outcome: DeliveryOutcome,
                        subject: Subject) async {
        let log = subject.log
        let settlement: AMQPClient.Settlement?
        switch disposition {
        case .ack:
            settlement = .ack
        case .requeue(let delay, let cause):
            if let failure = cause.failure {
                events.send(.failed(jobId: subject.jobId, reason: failure.reason, message: failure.message, willRetry: true,
                                    workerId: configuration.workerId, attempt: delivery.attempt))
            }
            if case .retry(let error) = cause {
                log.warning("job failed; retrying", metadata: ["error": "\(error)", "retryInSeconds": "\(delay)"])
            }
            if delay > 0 { try? await Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
            settlement = .reject(requeue: true)
        case .deadLetter(let reason, let message):
            settlement = await deadLetter(delivery, jobId: subject.jobId, reason: reason, message: message, log: log)
        case .leaveForRedelivery:
            settlement = nil
        }
        let settled = if let settlement { await client.settle(delivery, settlement) } else { false }
        Self.logSettled(outcome, disposition, settlement: settlement, settled: settled, log: log)
        if let state = WorkerMetrics.state(of: outcome, disposition) { WorkerMetrics.settled(state) }
        if case .completed(let completion) = outcome, case .ack = disposition { WorkerMetrics.completed(completion) }
    }

    /// The log line that says how a delivery ended.
    private static func logSettled(_ outcome: DeliveryOutcome, _ disposition: DeliveryDisposition, settlement: AMQPClient.Settlement?,
                                   settled: Bool, log: Logger) {
        switch disposition {
        case .ack:
            switch (outcome, settled) {
            case (.completed(let completion), true):
                log.info("job completed", metadata: ["output": "\(completion.output)", "speed": "\(String(format: "%.2f", completion.speed))"])
            case (.completed, false):
                log.info("job completed; its delivery belonged to a channel that is gone, so the broker redelivers it and it is acknowledged without work")
            case (.planned(let chunks), _):
                log.info("job planned as a split job", metadata: ["chunks": "\(chunks)", "acknowledged": "\(settled)"])
            case (.chunkCommitted, _):
                log.info("chunk done", metadata: ["acknowledged": "\(settled)"])
            case (.chunkSkipped(let why), _):
                log.info("split job message: nothing to do", metadata: ["why": "\(why)", "acknowledged": "\(settled)"])
            case (_, true):
                log.info("job already complete; acknowledged without work")
            case (_, false):
                log.info("job already complete; acknowledgement skipped (channel gone, the broker redelivers it)")
            }
        case .requeue(_, .interrupted):
            log.info("job interrupted and returned to the queue")
        case .requeue(_, .stopped):
            log.info("job returned to the queue (shutting down)")
        case .requeue:
            break
        case .deadLetter(let reason, let message):
            switch settlement {
            case .ack?:
                if reason.isRejection {
                    log.warning("job rejected and dead-lettered", metadata: ["reason": "\(reason.rawValue)", "error": "\(message)"])
                } else {
                    log.error("job failed and dead-lettered", metadata: ["reason": "\(reason.rawValue)", "error": "\(message)"])
                }
            case .reject?:
                log.error("job dead-lettered by the broker (our copy was refused)", metadata: ["reason": "\(reason.rawValue)",
                                                                                              "error": "\(message)"])
            case nil:
                break
            }
        case .leaveForRedelivery:
            log.info("job delivery dropped while waiting (its channel closed; the broker redelivers it)")
        }
    }

    /// Publishes a copy of the delivery to the dead-letter exchange with the reason in its
    /// headers and reports `job.rejected` or `job.failed`; returns how to settle the original
    /// (`DeliveryPolicy.settlement(afterCopy:)`). The copy goes only on the delivery's own
    /// channel. A copy whose headers no longer fit one frame is sent again with the original
    /// headers dropped and the reason cut (`DeadLetterCopy`).
    private func deadLetter(_ delivery: AMQPDelivery, jobId: String?, reason: DeadLetterReason, message: String,
                            log: Logger) async -> AMQPClient.Settlement? {
        let attempt = delivery.attempt
        let facts = DeadLetterCopy(reason: reason, message: message, jobId: jobId, workerId: configuration.workerId, attempt: attempt,
                                   originalQueue: configuration.topology.jobsQueue, at: Date())
        let event: JobEvent = reason.isRejection
            ? .rejected(jobId: jobId, reason: reason, message: message, workerId: configuration.workerId, attempt: attempt)
            : .failed(jobId: jobId, reason: reason.rawValue, message: message, willRetry: false, workerId: configuration.workerId,
                      attempt: attempt)
        var copyError: AMQPPublishError?
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
            copyError = error
        }
        let settlement = DeliveryPolicy.settlement(afterCopy: copyError)
        if settlement != nil { WorkerMetrics.deadLetter(reason) }
        switch settlement {
        case .ack? where reason == .jobFailed:
            break  // the job's job.failed went out once, with the chunk that failed it
        case .ack?:
            do { try await events.publish(event) } catch {
                log.warning("event not confirmed", metadata: ["event": "\(event.routingKey)", "error": "\(error)"])
            }
        case .reject?:
            // The broker would not take the copy: it dead-letters the original itself (the
            // queue's x-dead-letter-exchange; the reason is then only in the event).
            if reason != .jobFailed { try? await events.publish(event) }
        case nil:
            log.warning("dead-letter copy not confirmed; the broker will redeliver the message",
                        metadata: ["reason": "\(reason.rawValue)", "error": "\(copyError.map { "\($0)" } ?? "")"])
        }
        return settlement
    }
}
