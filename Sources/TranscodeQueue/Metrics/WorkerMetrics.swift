import Foundation
import Metrics
import TranscodeJobs

/// What the worker measures, through swift-metrics: no-ops until a backend is bootstrapped
/// (`transcode-worker run --metrics-port` bootstraps Prometheus). Names and labels follow
/// Prometheus conventions: base units (seconds, bytes), `_total` counters, label values from
/// small fixed sets (never a job id or a path).
public enum WorkerMetrics {
    /// One metric as an exposition shows it: its name, kind, help text and, for a histogram, its buckets.
    public struct Description: Sendable, Equatable {
        public enum Kind: String, Sendable { case counter, gauge, histogram }
        public var name: String
        public var kind: Kind
        public var help: String
        /// Label names (each with a fixed set of values).
        public var labels: [String]
        /// Upper bounds of a histogram's buckets.
        public var buckets: [Double]
    }

    public static let jobs = "hlsify_worker_jobs_total"
    public static let jobDuration = "hlsify_worker_job_duration_seconds"
    public static let realtimeFactor = "hlsify_worker_job_realtime_factor"
    public static let frames = "hlsify_worker_video_frames_total"
    public static let segments = "hlsify_worker_segments_total"
    public static let bytes = "hlsify_worker_written_bytes_total"
    public static let redelivered = "hlsify_worker_deliveries_redelivered_total"
    public static let deadLettered = "hlsify_worker_dead_lettered_total"
    public static let reconnects = "hlsify_worker_broker_reconnects_total"
    public static let inFlight = "hlsify_worker_jobs_in_flight"
    public static let queueMessages = "hlsify_worker_queue_messages"
    public static let queueConsumers = "hlsify_worker_queue_consumers"
    public static let brokerConnected = "hlsify_worker_broker_connected"

    /// Every metric the worker exposes, as the README lists them.
    public static let catalogue: [Description] = [
        .init(name: jobs, kind: .counter,
              help: "Deliveries settled, by how they ended: completed, failed (dead-lettered), rejected (bad job), retried, returned (interrupted or shutting down), planned (split), chunk (a chunk of a split job done), skipped.",
              labels: ["state"], buckets: []),
        .init(name: jobDuration, kind: .histogram, help: "Wall seconds of each completed transcode.", labels: [],
              buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200]),
        .init(name: realtimeFactor, kind: .histogram, help: "Media seconds per wall second of each completed transcode.", labels: [],
              buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64]),
        .init(name: frames, kind: .counter, help: "Video frames encoded, every rendition counted.", labels: [], buckets: []),
        .init(name: segments, kind: .counter, help: "Segment files written, every rendition counted.", labels: [], buckets: []),
        .init(name: bytes, kind: .counter,
              help: "Bytes of output written, by kind: video and audio segments, and other files (playlists, subtitles, pictures).",
              labels: ["kind"], buckets: []),
        .init(name: redelivered, kind: .counter, help: "Deliveries the broker had delivered before (redelivered flag set).",
              labels: [], buckets: []),
        .init(name: deadLettered, kind: .counter, help: "Messages sent to the dead-letter exchange, by reason.", labels: ["reason"],
              buckets: []),
        .init(name: reconnects, kind: .counter, help: "Connections to the broker made again after the first.", labels: [],
              buckets: []),
        .init(name: inFlight, kind: .gauge, help: "Deliveries being handled now.", labels: [], buckets: []),
        .init(name: queueMessages, kind: .gauge,
              help: "Messages ready in the jobs queue, read with a passive declare every few seconds.", labels: [], buckets: []),
        .init(name: queueConsumers, kind: .gauge, help: "Consumers of the jobs queue, read with the same passive declare.",
              labels: [], buckets: []),
        .init(name: brokerConnected, kind: .gauge, help: "1 while the worker is connected to the broker, else 0.", labels: [],
              buckets: []),
    ]

    /// The values of `jobs`' `state` label.
    public static let states = ["completed", "failed", "rejected", "retried", "returned", "planned", "chunk", "skipped"]
    /// The values of `bytes`' `kind` label.
    public static let kinds = ["video", "audio", "other"]

    // MARK: - Recording

    /// Every counter at 0 with each of its label values (a scrape shows that nothing happened
    /// rather than nothing), and the gauges at their starting values.
    static func prime() {
        for state in states { Counter(label: jobs, dimensions: [("state", state)]).increment(by: 0) }
        for kind in kinds { Counter(label: bytes, dimensions: [("kind", kind)]).increment(by: 0) }
        for reason in DeadLetterReason.allCases { Counter(label: deadLettered, dimensions: [("reason", reason.rawValue)]).increment(by: 0) }
        for label in [frames, segments, redelivered, reconnects] { Counter(label: label).increment(by: 0) }
        jobsInFlight(0)
    }

    /// A delivery settled as `state` (one of the `jobs` states).
    static func settled(_ state: String) {
        Counter(label: jobs, dimensions: [("state", state)]).increment()
    }

    static func deliveryReceived(_ delivery: AMQPDelivery) {
        if delivery.redelivered { Counter(label: redelivered).increment() }
    }

    static func deadLetter(_ reason: DeadLetterReason) {
        Counter(label: deadLettered, dimensions: [("reason", reason.rawValue)]).increment()
    }

    /// A completed job's figures (its `job.completed`): time, speed, frames, segments and bytes by kind.
    static func completed(_ completion: JobEvent.Completion) {
        Timer(label: jobDuration).recordSeconds(max(0, completion.elapsedSeconds))
        Recorder(label: realtimeFactor, aggregate: true).record(completion.speed)
        Counter(label: frames).increment(by: completion.renditions.reduce(0) { $0 + $1.encodedFrames })
        Counter(label: segments).increment(by: completion.segments)
        let video = completion.renditions.reduce(0) { $0 + $1.bytes }
        let audio = (completion.audioTracks ?? [completion.audio].compactMap { $0 }).reduce(0) { $0 + $1.bytes }
        Counter(label: bytes, dimensions: [("kind", "video")]).increment(by: video)
        Counter(label: bytes, dimensions: [("kind", "audio")]).increment(by: audio)
        Counter(label: bytes, dimensions: [("kind", "other")]).increment(by: max(0, completion.bytes - video - audio))
    }

    /// The `jobs` state a settled delivery counts as.
    static func state(of outcome: DeliveryOutcome, _ disposition: DeliveryDisposition) -> String? {
        switch disposition {
        case .ack:
            switch outcome {
            case .completed: return "completed"
            case .planned: return "planned"
            case .chunkCommitted: return "chunk"
            default: return "skipped"
            }
        case .requeue(_, .retry): return "retried"
        case .requeue(_, .interrupted), .requeue(_, .stopped): return "returned"
        case .requeue(_, .completionNotConfirmed): return "returned"
        case .deadLetter(let reason, _): return reason.isRejection ? "rejected" : "failed"
        case .leaveForRedelivery: return nil
        }
    }

    static func jobsInFlight(_ count: Int) {
        Gauge(label: inFlight).record(count)
    }

    static func broker(connected: Bool, reconnectsSinceLast: Int) {
        Gauge(label: brokerConnected).record(connected ? 1 : 0)
        if reconnectsSinceLast > 0 { Counter(label: reconnects).increment(by: reconnectsSinceLast) }
    }

    static func queue(messages: Int, consumers: Int) {
        Gauge(label: queueMessages).record(messages)
        Gauge(label: queueConsumers).record(consumers)
    }
}
