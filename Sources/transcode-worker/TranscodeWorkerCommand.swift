import ArgumentParser
import Foundation
import HLSKit
import Logging
import Metrics
import ObjectStorage
import OperatorHTTP
import ServiceLifecycle
import TranscodeQueue

@main
struct TranscodeWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcode-worker",
        abstract: "Take transcode jobs from RabbitMQ and turn each into an HLS set; or submit a job.",
        discussion: """
        Every option also reads an environment variable, named in its help (the option wins).
        Exit codes: 0 done (also after SIGTERM/SIGINT), 64 usage, 65 invalid job, 66 job file missing,
        69 broker unavailable or no confirm, 75 confirm timed out, 78 bad configuration (also: a bucket root that
        does not answer to the S3 settings).
        """,
        subcommands: [RunCommand.self, SubmitCommand.self],
        defaultSubcommand: RunCommand.self)
}

/// Sets up swift-log on stderr once, at the given level: human-readable lines, or one JSON
/// object per line (`--log-format json`, each with `workerId` when given).
enum Logs {
    enum Format: String, CaseIterable, ExpressibleByArgument {
        case text, json
    }

    static func bootstrap(level text: String?, format: Format = .text, workerId: String? = nil) throws -> Logger.Level {
        let name = Environment.resolve(text, "HLSIFY_LOG_LEVEL", default: "info")
        guard let level = Logger.Level(rawValue: name.lowercased()) else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                // Job ids, paths and error texts come from messages: escaped, so they cannot forge a line.
                var handler = EscapingLogHandler(StreamLogHandler.standardError(label: label))
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label, fixed: workerId.map { [("workerId", $0)] } ?? [])
                handler.logLevel = level
                return handler
            }
        }
        return level
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker until SIGTERM or SIGINT (the default subcommand).")

    @OptionGroup var broker: BrokerOptions

    @Option(name: .long, help: ArgumentHelp("Folder or bucket prefix (s3://BUCKET/PREFIX) the jobs' input and subtitle paths are relative to (env HLSIFY_INPUT_ROOT; required).", valueName: "dir|s3-url"))
    var inputRoot: String?

    @Option(name: .long, help: ArgumentHelp("Folder or bucket prefix (s3://BUCKET/PREFIX) the jobs' output paths are relative to (env HLSIFY_OUTPUT_ROOT; required).", valueName: "dir|s3-url"))
    var outputRoot: String?

    @Option(name: .long, help: ArgumentHelp("Local scratch when a root is a bucket: locks, work folders, spooled inputs (env HLSIFY_WORK_ROOT; default $TMPDIR/hlsify-worker).", valueName: "dir"))
    var workRoot: String?

    @Option(name: .customLong("s3-endpoint"), help: ArgumentHelp("S3 server of the bucket roots, http(s)://host[:port] (default: AWS_ENDPOINT_URL, else AWS's); credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.", valueName: "url"))
    var s3Endpoint: String?

    @Option(name: .customLong("s3-region"), help: ArgumentHelp("S3 region (default: AWS_REGION, else us-east-1).", valueName: "region"))
    var s3Region: String?

    @Option(name: .customLong("s3-addressing"), help: ArgumentHelp("Bucket in the path or in the host name (default: HLSIFY_S3_ADDRESSING, else path).", valueName: "path|virtual"))
    var s3Addressing: S3Configuration.Addressing?

    @Option(name: .long, help: ArgumentHelp("Deliveries of a job worked on before it is dead-lettered (env HLSIFY_MAX_ATTEMPTS; default 3).", valueName: "n"))
    var maxAttempts: Int?

    @Option(name: .long, help: ArgumentHelp("Unacknowledged jobs at once, so jobs transcoded at once (env HLSIFY_PREFETCH; default 1).", valueName: "n"))
    var prefetch: Int?

    @Option(name: .long, help: ArgumentHelp("Names this worker in events and logs (env HLSIFY_WORKER_ID; default HOST-PID).", valueName: "name"))
    var workerId: String?

    @Option(name: .long, help: ArgumentHelp("x264 preset for jobs that name none (env HLSIFY_PRESET; default \(EncodingDefaults.preset.rawValue)).", valueName: "preset"))
    var preset: X264Preset?

    @Option(name: .long, help: ArgumentHelp("Ladder for jobs that name none (env HLSIFY_LADDER; default \(EncodingDefaults.ladder)).", valueName: "rungs"),
            transform: Ladder.init(parsing:))
    var ladder: Ladder?

    @Option(name: .long, help: ArgumentHelp("Rate control for jobs that name none: capped-crf or abr (env HLSIFY_RATE_CONTROL; default \(EncodingDefaults.rateControl.rawValue)).", valueName: "mode"))
    var rateControl: RateControl?

    @Option(name: .long, help: ArgumentHelp("Segment duration for jobs that name none, seconds (env HLSIFY_SEGMENT_DURATION; default \(String(format: "%g", EncodingDefaults.segmentDuration))).", valueName: "seconds"))
    var segmentDuration: Double?

    @Option(name: .long, help: ArgumentHelp("Segment format for jobs that name none (env HLSIFY_SEGMENT_FORMAT; default \(EncodingDefaults.segmentFormat.rawValue)).", valueName: "format"))
    var segmentFormat: SegmentFormat?

    @Option(name: .long, help: ArgumentHelp("Split jobs whose source is at least two chunks long into time chunks of this many seconds of media, encoded by any worker and stitched; 0 never splits; a job's chunkDuration wins (env HLSIFY_CHUNK_DURATION; default 240).", valueName: "seconds"))
    var chunkDuration: Double?

    @Option(name: .long, help: ArgumentHelp("Seconds between two fan-in checks of a split job, the safety net that stitches it if no worker did (env HLSIFY_CHUNK_CHECK_INTERVAL; default 60).", valueName: "seconds"))
    var chunkCheckInterval: Double?

    @Option(name: .long, help: ArgumentHelp("On SIGTERM, seconds a running job may take to finish before it is stopped and requeued (env HLSIFY_SHUTDOWN_GRACE; default 30).", valueName: "seconds"))
    var shutdownGrace: Double?

    @Option(name: .long, help: ArgumentHelp("Wait before requeueing a job that failed for a passing reason, seconds × attempt (env HLSIFY_RETRY_DELAY; default 5).", valueName: "seconds"))
    var retryDelay: Double?

    @Option(name: .long, help: ArgumentHelp("Longest wait between reconnection attempts, seconds (env HLSIFY_RECONNECT_MAX_DELAY; default 30).", valueName: "seconds"))
    var reconnectMaxDelay: Double?

    @Option(name: .long, help: ArgumentHelp("Seconds between two job.progress events of a job (env HLSIFY_PROGRESS_INTERVAL; default 1).", valueName: "seconds"))
    var progressInterval: Double?

    @Option(name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (env HLSIFY_LOG_LEVEL; default info).", valueName: "level"))
    var logLevel: String?

    @Option(name: .long, help: ArgumentHelp("text (human-readable lines) or json (one JSON object per line: timestamp, level, message, workerId, jobId, attempt, …) (env HLSIFY_LOG_FORMAT; default text).", valueName: "format"))
    var logFormat: Logs.Format?

    @Option(name: .long, help: ArgumentHelp("Serve Prometheus metrics (/metrics) and health checks (/healthz, /readyz) on this port; 0 takes a free one, logged at start (env HLSIFY_METRICS_PORT; default: not served).", valueName: "port"))
    var metricsPort: Int?

    @Option(name: .long, help: ArgumentHelp("Address the metrics port listens on (env HLSIFY_METRICS_HOST; default 127.0.0.1: exposing it beyond the machine is a decision).", valueName: "host"))
    var metricsHost: String?

    @Option(name: .long, help: ArgumentHelp("Seconds between two readings of the jobs queue's depth for the metrics (env HLSIFY_METRICS_INTERVAL; default 5).", valueName: "seconds"))
    var metricsInterval: Double?

    func validate() throws {
        _ = try workerConfiguration()
        _ = try operatorEndpoint()
    }

    /// Where the metrics and health endpoints listen, when asked for.
    func operatorEndpoint() throws -> (host: String, port: Int)? {
        let given = try metricsPort ?? Environment.string("HLSIFY_METRICS_PORT").map { text in
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("HLSIFY_METRICS_PORT=\(text): --metrics-port takes a whole number")
            }
            return value
        }
        guard let port = given else {
            if metricsHost != nil { throw ValidationError("--metrics-host needs --metrics-port") }
            return nil
        }
        guard (0...65_535).contains(port) else { throw ValidationError("--metrics-port must be between 0 and 65535") }
        let host = Environment.resolve(metricsHost, "HLSIFY_METRICS_HOST", default: "127.0.0.1")
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:".contains($0)) }) else {
            throw ValidationError("--metrics-host must be a host name or an IP address")
        }
        return (host, port)
    }

    func workerConfiguration() throws -> WorkerConfiguration {
        guard let input = Environment.resolve(inputRoot, "HLSIFY_INPUT_ROOT") else {
            throw ValidationError("--input-root (or HLSIFY_INPUT_ROOT) is required")
        }
        guard let output = Environment.resolve(outputRoot, "HLSIFY_OUTPUT_ROOT") else {
            throw ValidationError("--output-root (or HLSIFY_OUTPUT_ROOT) is required")
        }
        let nodes = try broker.endpoints()
        var configuration = WorkerConfiguration(endpoint: nodes[0], inputRoot: input, outputRoot: output,
                                                workerId: Environment.resolve(workerId, "HLSIFY_WORKER_ID",
                                                                              default: WorkerConfiguration.defaultWorkerId()))
        configuration.fallbackEndpoints = Array(nodes.dropFirst())
        configuration.workRoot = Environment.resolve(workRoot, "HLSIFY_WORK_ROOT", default: configuration.workRoot)
        if S3Address.isAddress(input) || S3Address.isAddress(output) {
            do {
                configuration.storage = try S3Configuration.fromEnvironment(ProcessInfo.processInfo.environment, endpoint: s3Endpoint,
                                                                            region: s3Region, addressing: s3Addressing)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        configuration.topology = try broker.topology()
        configuration.heartbeat = try broker.heartbeatSeconds()
        configuration.maxAttempts = try Environment.resolve(maxAttempts, "HLSIFY_MAX_ATTEMPTS", default: 3, option: "--max-attempts")
        guard (1...1000).contains(configuration.maxAttempts) else { throw ValidationError("--max-attempts must be between 1 and 1000") }
        configuration.prefetch = try Environment.resolve(prefetch, "HLSIFY_PREFETCH", default: 1, option: "--prefetch")
        guard (1...1000).contains(configuration.prefetch) else { throw ValidationError("--prefetch must be between 1 and 1000") }
        guard JobNames.isSafeJobId(configuration.workerId) else {
            throw ValidationError("--worker-id must be 1–128 characters of A-Z a-z 0-9 . _ -")
        }
        var defaults = JobDefaults()
        defaults.preset = try Environment.resolve(preset, "HLSIFY_PRESET", default: defaults.preset, option: "--preset")
        defaults.ladder = try Environment.resolve(ladder, "HLSIFY_LADDER", default: defaults.ladder) { text in
            do { return try Ladder(parsing: text) } catch { throw ValidationError("--ladder: \(error)") }
        }
        defaults.rateControl = try Environment.resolve(rateControl, "HLSIFY_RATE_CONTROL", default: defaults.rateControl,
                                                       option: "--rate-control")
        defaults.segmentDuration = try Environment.resolve(segmentDuration, "HLSIFY_SEGMENT_DURATION", default: defaults.segmentDuration,
                                                           option: "--segment-duration")
        guard EncodingDefaults.segmentDurations.contains(defaults.segmentDuration) else {
            throw ValidationError("--segment-duration must be \(EncodingDefaults.segmentDurationsText)")
        }
        defaults.segmentFormat = try Environment.resolve(segmentFormat, "HLSIFY_SEGMENT_FORMAT", default: defaults.segmentFormat,
                                                         option: "--segment-format")
        defaults.chunkDuration = try Environment.resolve(chunkDuration, "HLSIFY_CHUNK_DURATION", default: defaults.chunkDuration,
                                                         option: "--chunk-duration")
        guard (0...86_400).contains(defaults.chunkDuration) else { throw ValidationError("--chunk-duration must be between 0 and 86400") }
        configuration.chunkCheckInterval = try Environment.resolve(chunkCheckInterval, "HLSIFY_CHUNK_CHECK_INTERVAL",
                                                                   default: configuration.chunkCheckInterval, option: "--chunk-check-interval")
        guard (0.1...86_400).contains(configuration.chunkCheckInterval) else {
            throw ValidationError("--chunk-check-interval must be between 0.1 and 86400")
        }
        configuration.defaults = defaults
        configuration.shutdownGrace = try Environment.resolve(shutdownGrace, "HLSIFY_SHUTDOWN_GRACE", default: 30, option: "--shutdown-grace")
        configuration.retryDelay = try Environment.resolve(retryDelay, "HLSIFY_RETRY_DELAY", default: 5, option: "--retry-delay")
        configuration.reconnectMaxDelay = try Environment.resolve(reconnectMaxDelay, "HLSIFY_RECONNECT_MAX_DELAY", default: 30,
                                                                  option: "--reconnect-max-delay")
        configuration.progressInterval = try Environment.resolve(progressInterval, "HLSIFY_PROGRESS_INTERVAL", default: 1,
                                                                 option: "--progress-interval")
        guard configuration.shutdownGrace >= 0, configuration.retryDelay >= 0, configuration.reconnectMaxDelay > 0,
              configuration.progressInterval >= 0 else {
            throw ValidationError("--shutdown-grace, --retry-delay and --progress-interval must be 0 or more, --reconnect-max-delay more than 0")
        }
        configuration.reconnectInitialDelay = min(0.5, configuration.reconnectMaxDelay)
        if try operatorEndpoint() != nil {
            configuration.observeInterval = try Environment.resolve(metricsInterval, "HLSIFY_METRICS_INTERVAL", default: 5,
                                                                    option: "--metrics-interval")
            guard (0.1...3600).contains(configuration.observeInterval!) else {
                throw ValidationError("--metrics-interval must be between 0.1 and 3600")
            }
        }
        return configuration
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let configuration = try workerConfiguration()
        let format = try Environment.resolve(logFormat, "HLSIFY_LOG_FORMAT", default: .text, option: "--log-format")
        _ = try Logs.bootstrap(level: logLevel, format: format, workerId: configuration.workerId)
        LibAVLog.setLevel(.quiet)
        let logger = Logger(label: "hlsify.worker")
        let endpoint = try operatorEndpoint()
        let metrics = endpoint.map { _ in
            PrometheusMetrics(catalogue: WorkerMetrics.catalogue.map { .init(name: $0.name, help: $0.help, buckets: $0.buckets) })
        }
        if let metrics { MetricsSystem.bootstrap(metrics) }
        let worker: TranscodeWorker
        do {
            worker = try TranscodeWorker(configuration: configuration, logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(78)
        }
        // Shut down in reverse order: the worker drains first while /readyz says so, then the
        // metrics server stops. The worker ending, for any reason, ends the group. With a metrics
        // port, the worker starts only once the server listens: a port in use stops it before it
        // connects to the broker or takes a job.
        let workerService: any Service
        var server: OperatorServer?
        if let endpoint, let metrics {
            server = OperatorServer(host: endpoint.host, port: endpoint.port, metrics: metrics, health: WorkerHealth(worker: worker),
                                    logger: Logger(label: "hlsify.metrics")) { host, port in
                logger.info("metrics and health checks listening",
                            metadata: ["url": "http://\(host.contains(":") ? "[\(host)]" : host):\(port)/metrics"])
            }
            workerService = AfterListening(server!.listening, worker)
        } else {
            workerService = worker
        }
        var services = [ServiceGroupConfiguration.ServiceConfiguration(service: workerService, successTerminationBehavior: .gracefullyShutdownGroup,
                                                                        failureTerminationBehavior: .gracefullyShutdownGroup)]
        if let server { services.insert(.init(service: server), at: 0) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            if let endpoint, let problem = server?.listening.failure {
                logger.critical("cannot start: the metrics address \(endpoint.host):\(endpoint.port) cannot be listened on: \(problem)")
                throw ExitCode(78)
            }
            logger.critical("stopped: \(error)")
            throw error
        }
    }
}

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Publish one job (with publisher confirms); exit 0 only when the broker confirmed it.",
        discussion: """
        The job comes from JOB.json, from standard input (-), or from the flags (--job-id, --input, --output, …).
        It is checked against the contract first (exit 65 when invalid) unless --raw is given; on success the job id is printed.
        """)

    @OptionGroup var broker: BrokerOptions

    @Argument(help: ArgumentHelp("A job file, or - for standard input; leave out to build the job from the flags.", valueName: "JOB.json"))
    var file: String?

    @Option(name: .long, help: "Job id (a safe name).")
    var jobId: String?

    @Option(name: .long, help: "Input path, relative to the worker's input root.")
    var input: String?

    @Option(name: .long, help: "Output folder, relative to the worker's output root (default: the job id).")
    var output: String?

    @Option(name: .long, help: "Rungs, e.g. 1080p,720p,480p, or auto.")
    var ladder: String?

    @Option(name: .long, help: ArgumentHelp("capped-crf or abr.", valueName: "mode"))
    var rateControl: RateControl?

    @Option(name: .long, help: ArgumentHelp("One x264 CRF for every rung (capped-crf).", valueName: "N"))
    var crf: Double?

    @Flag(name: .long, help: "Ask for each rendition's SSIM and PSNR in the report.")
    var measureQuality = false

    @Flag(name: .long, help: "Keep rungs their lower neighbour makes redundant.")
    var keepRedundantRungs = false

    @Flag(name: .customLong("no-storyboard"), help: "Ask for no seek-bar thumbnails.")
    var noStoryboard = false

    @Flag(name: .customLong("no-poster"), help: "Ask for no poster.jpg.")
    var noPoster = false

    @Option(name: .long, help: ArgumentHelp("A chapters file under the input root (WebVTT chapters or a JSON list).", valueName: "PATH"))
    var chapters: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Integrated loudness in LUFS, or off.", valueName: "LUFS|off"))
    var loudness: String?

    @Option(name: .long, help: "Segment duration, seconds.")
    var segmentDuration: Double?

    @Option(name: .long, help: "Segment container.")
    var segmentFormat: SegmentFormat?

    @Option(name: .long, help: "x264 preset.")
    var preset: String?

    @Option(name: .long, help: ArgumentHelp("A subtitle track, LANG=PATH (repeatable).", valueName: "LANG=PATH"))
    var subtitles: [String] = []

    @Option(name: .long, help: ArgumentHelp("An alternate audio track (a dubbed file), LANG=PATH under the input root (repeatable).", valueName: "LANG=PATH"))
    var audio: [String] = []

    @Option(name: .long, help: ArgumentHelp("An audio description, LANG=PATH under the input root (repeatable).", valueName: "LANG=PATH"))
    var audioDescription: [String] = []

    @Flag(name: .long, help: "Mark the job progressive: written in place, playlists published as segments complete.")
    var progressive = false

    @Flag(name: .long, help: "Cut the holes in the video's timestamps out of the timeline instead of showing the picture before each (the job is transcoded whole).")
    var collapseGaps = false

    @Flag(name: .long, help: "Send the file's bytes as they are, without checking them (for tests of bad messages).")
    var raw = false

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for the broker's confirm (env HLSIFY_SUBMIT_TIMEOUT; default 30).", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .long, help: ArgumentHelp("Log level (env HLSIFY_LOG_LEVEL; default warning).", valueName: "level"))
    var logLevel: String?

    func validate() throws {
        if file != nil, jobId != nil || input != nil || output != nil || ladder != nil || segmentDuration != nil
            || segmentFormat != nil || preset != nil || !subtitles.isEmpty || !audio.isEmpty || !audioDescription.isEmpty || progressive || collapseGaps
            || rateControl != nil || crf != nil || measureQuality || keepRedundantRungs || noStoryboard || noPoster || chapters != nil || loudness != nil {
            throw ValidationError("give either JOB.json (or -) or the job flags, not both")
        }
        if file == nil {
            guard jobId != nil, input != nil else { throw ValidationError("without JOB.json, --job-id and --input are required") }
            guard !raw else { throw ValidationError("--raw needs JOB.json (or -)") }
        }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        _ = try Logs.bootstrap(level: logLevel ?? Environment.string("HLSIFY_LOG_LEVEL") ?? "warning")
        let logger = Logger(label: "hlsify.submit")
        let seconds = try Environment.resolve(timeout, "HLSIFY_SUBMIT_TIMEOUT", default: 30, option: "--timeout")

        var body: Data
        var jobId: String?
        if let file {
            if file == "-" {
                body = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("transcode-worker submit: cannot read \(file)\n".utf8))
                    throw ExitCode(66)
                }
                body = data
            }
            if raw {
                jobId = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["jobId"] as? String
            } else {
                do {
                    jobId = try JobDecoder().decode(body).job.jobId
                } catch {
                    FileHandle.standardError.write(Data("transcode-worker submit: invalid job: \(error)\n".utf8))
                    throw ExitCode(65)
                }
            }
        } else {
            let job = try jobFromFlags()
            do { try JobDecoder().validate(job) } catch {
                FileHandle.standardError.write(Data("transcode-worker submit: invalid job: \(error)\n".utf8))
                throw ExitCode(65)
            }
            body = job.jsonBody()
            jobId = job.jobId
        }

        // Naming several nodes, a node that is down is passed over (within the timeout).
        let nodes = try broker.endpoints()
        let publisher = JobPublisher(endpoint: nodes[0], fallbacks: Array(nodes.dropFirst()), topology: try broker.topology(),
                                     connectionName: "hlsify submit",
                                     reconnect: nodes.count > 1 ? Backoff(initial: 0.2, maximum: 1) : nil, logger: logger)
        do {
            try await publisher.submit(body: body, jobId: jobId, timeout: seconds)
        } catch {
            await publisher.close(drainTimeout: 0)
            FileHandle.standardError.write(Data("transcode-worker submit: \(error)\n".utf8))
            if case .timedOut = error { throw ExitCode(75) }
            throw ExitCode(69)
        }
        await publisher.close()
        print(jobId ?? "")
    }

    /// `--loudness`: `off` or a number (its range is checked with the job).
    private static func loudnessSetting(_ text: String) throws -> TranscodeJob.Loudness {
        if text == "off" { return .off }
        guard let value = Double(text) else { throw ValidationError("--loudness takes a number of LUFS or off, got '\(text)'") }
        return .target(value)
    }

    private func jobFromFlags() throws -> TranscodeJob {
        guard let jobId, let input else { throw ValidationError("--job-id and --input are required") }
        let tracks = try subtitles.map { entry -> TranscodeJob.Subtitle in
            let (language, path) = try Self.languageAndPath(entry, option: "--subtitles")
            return TranscodeJob.Subtitle(language: language, path: path)
        }
        func audioFiles(_ entries: [String], option: String) throws -> [TranscodeJob.AudioFile] {
            try entries.map { entry in
                let (language, path) = try Self.languageAndPath(entry, option: option)
                return TranscodeJob.AudioFile(language: language, path: path)
            }
        }
        return TranscodeJob(jobId: jobId, input: input, output: output ?? jobId, subtitles: tracks,
                            ladder: ladder.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
                            segmentDuration: segmentDuration, segmentFormat: segmentFormat, preset: preset,
                            progressive: progressive ? true : nil, rateControl: rateControl, crf: crf,
                            measureQuality: measureQuality ? true : nil, keepRedundantRungs: keepRedundantRungs ? true : nil,
                            storyboard: noStoryboard ? false : nil, poster: noPoster ? false : nil, chapters: chapters,
                            loudness: try loudness.map(Self.loudnessSetting),
                            audio: try audioFiles(audio, option: "--audio"),
                            audioDescription: try audioFiles(audioDescription, option: "--audio-description"),
                            collapseGaps: collapseGaps ? true : nil)
    }

    /// Splits `LANG=PATH` (the job's checks judge both).
    private static func languageAndPath(_ entry: String, option: String) throws -> (String, String) {
        guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex, entry.index(after: equals) != entry.endIndex else {
            throw ValidationError("\(option) takes LANG=PATH, got '\(entry)'")
        }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }
}
