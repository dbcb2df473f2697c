import Foundation
import ObjectStorage

/// Everything a `TranscodeWorker` is told (the command line's options and environment variables).
public struct WorkerConfiguration: Sendable {
    public var endpoint: AMQPEndpoint
    /// Other nodes of the broker's cluster, tried in turn when a connection fails or is lost.
    public var fallbackEndpoints: [AMQPEndpoint] = []
    /// A folder, or a bucket prefix `s3://BUCKET/PREFIX`.
    public var inputRoot: String
    /// A folder, or a bucket prefix `s3://BUCKET/PREFIX`.
    public var outputRoot: String
    /// How to reach the bucket roots (nil when neither root is a bucket).
    public var storage: S3Configuration?
    /// Local scratch when a root is a bucket: the locks and work folders, the spooled inputs,
    /// the outputs before they are published.
    public var workRoot: String = WorkerConfiguration.defaultWorkRoot()
    public var topology: Topology = Topology()
    /// Deliveries of one job that are worked on before it is dead-lettered (`x-delivery-count` + 1).
    public var maxAttempts: Int = 3
    /// Unacknowledged deliveries at once, and so jobs transcoded at once.
    public var prefetch: Int = 1
    /// Names this worker in events, logs and the broker's connection list.
    public var workerId: String
    /// What a job leaves out.
    public var defaults: JobDefaults = JobDefaults()
    /// Heartbeat asked of the broker, seconds.
    public var heartbeat: Int = 30
    /// On SIGTERM, how long the running job may take to finish before it is stopped and requeued.
    public var shutdownGrace: Double = 30
    /// Wait before requeueing a job that failed for a passing reason, seconds, × the attempt number (capped at 60 s).
    public var retryDelay: Double = 5
    /// Reconnect backoff: first and largest wait, seconds.
    public var reconnectInitialDelay: Double = 0.5
    public var reconnectMaxDelay: Double = 30
    /// Seconds between two `job.progress` events of a job.
    public var progressInterval: Double = 1
    /// Seconds between two fan-in checks of a job split by time (the delayed check's TTL).
    public var chunkCheckInterval: Double = 60
    /// Largest message body accepted, bytes.
    public var maximumBodySize: Int = 1 << 20
    /// Seconds between two readings of the jobs queue's depth and consumers (a passive declare on
    /// a channel of its own) and the broker's connection for the metrics; nil reads nothing
    /// (no metrics are served).
    public var observeInterval: Double?

    public init(endpoint: AMQPEndpoint, inputRoot: String, outputRoot: String, workerId: String) {
        self.endpoint = endpoint
        self.inputRoot = inputRoot
        self.outputRoot = outputRoot
        self.workerId = workerId
    }

    /// `$TMPDIR/hlsify-worker` (`/tmp/hlsify-worker` without TMPDIR).
    public static func defaultWorkRoot() -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return URL(fileURLWithPath: base).appendingPathComponent("hlsify-worker").path
    }

    /// `hostname-pid`, the default worker id (gethostname(2), no DNS lookup; characters a job id
    /// would not allow become `-`).
    public static func defaultWorkerId() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let name = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        let short = name.split(separator: ".").first.map(String.init) ?? ""
        let safe = String(short.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "-") ? Character(scalar) : "-"
        }).prefix(100)
        return "\(safe.isEmpty || safe.first == "-" ? "worker" : String(safe))-\(getpid())"
    }
}
