import Foundation
import HLSCore

/// One event on the events exchange, routing key `job.<state>`, JSON body.
///
/// Every event carries `eventId` (a UUID, also the AMQP `message-id`, for consumers that
/// de-duplicate), `jobId` (null when the message had none), `workerId`, `attempt` (the delivery
/// number, 1 on the first), `state` and `timestamp` (ISO 8601, UTC, milliseconds), plus what its
/// state carries:
///
/// | state | fields |
/// |---|---|
/// | accepted | `job` (the job as decoded), `redelivered`, `warnings` |
/// | started | `input`, `output`, `resumedFromSegment` (0 unless an earlier attempt's segments are kept), `segmentsReused` |
/// | progress | `progress`: `fraction`, `mediaSeconds`, `elapsedSeconds`, `fps`, `speed`, `etaSeconds` |
/// | segment | `segment`: `rendition`, `index`, `path` (relative to the output folder), `bytes`, `startTime` |
/// | chunk | `chunk`: `name` (`video-003`, `audio`), `committed` and `of` (chunks of the job), `encodeSeconds`, `duplicate` |
/// | completed | `output`, `master`, `renditions`, `audio`, `subtitles`, `durationSeconds`, `elapsedSeconds`, `bytes`, `segments`, `speed` |
/// | failed | `error` (`reason`, `message`), `willRetry`, `deadLettered` |
/// | rejected | `error` (`reason`, `message`), `deadLettered` |
///
/// Pure Swift: encoding needs no broker.
public struct JobEvent: Sendable, Equatable, Encodable {
    public enum State: String, Sendable, Equatable, Codable, CaseIterable {
        case accepted, started, progress, segment, chunk, completed, failed, rejected
    }

    public var eventId: String
    public var jobId: String?
    public var workerId: String
    public var attempt: Int
    public var state: State
    public var timestamp: Date

    // accepted
    public var job: TranscodeJob?
    public var redelivered: Bool?
    public var warnings: [String]?
    // started
    public var input: String?
    public var output: String?
    public var resumedFromSegment: Int?
    public var segmentsReused: Int?
    // progress
    public var progress: Progress?
    // segment
    public var segment: Segment?
    // chunk
    public var chunk: Chunk?
    // completed (its fields are written at the top level)
    public var completion: Completion?
    // failed, rejected
    public var error: ErrorInfo?
    public var willRetry: Bool?
    public var deadLettered: Bool?

    public init(state: State, jobId: String?, workerId: String, attempt: Int,
                eventId: String = UUID().uuidString.lowercased(), timestamp: Date = Date()) {
        self.eventId = eventId
        self.jobId = jobId
        self.workerId = workerId
        self.attempt = attempt
        self.state = state
        self.timestamp = timestamp
    }

    /// `job.accepted`, `job.progress`, …
    public var routingKey: String { "job.\(state.rawValue)" }

    public struct Progress: Sendable, Equatable, Codable {
        public var fraction: Double
        public var mediaSeconds: Double
        public var elapsedSeconds: Double
        public var fps: Double
        public var speed: Double
        public var etaSeconds: Double?

        public init(fraction: Double, mediaSeconds: Double, elapsedSeconds: Double, fps: Double, speed: Double, etaSeconds: Double?) {
            self.fraction = fraction
            self.mediaSeconds = mediaSeconds
            self.elapsedSeconds = elapsedSeconds
            self.fps = fps
            self.speed = speed
            self.etaSeconds = etaSeconds
        }
    }

    public struct Segment: Sendable, Equatable, Codable {
        public var rendition: String
        public var index: Int
        public var path: String
        public var bytes: Int
        public var startTime: Double

        public init(rendition: String, index: Int, path: String, bytes: Int, startTime: Double) {
            self.rendition = rendition
            self.index = index
            self.path = path
            self.bytes = bytes
            self.startTime = startTime
        }
    }

    /// A time chunk of a split job committed (by `workerId`).
    public struct Chunk: Sendable, Equatable, Codable {
        public var name: String
        /// Chunks of the job committed so far (this one included), and how many it has.
        public var committed: Int
        public var of: Int
        public var encodeSeconds: Double

        public init(name: String, committed: Int, of: Int, encodeSeconds: Double) {
            self.name = name
            self.committed = committed
            self.of = of
            self.encodeSeconds = encodeSeconds
        }
    }

    public struct ErrorInfo: Sendable, Equatable, Codable {
        /// A `DeadLetterReason` raw value, or `transient` / `interrupted` for failures that are retried.
        public var reason: String
        public var message: String

        public init(reason: String, message: String) {
            self.reason = reason
            self.message = message
        }
    }

    /// What `job.completed` reports (and what the completion marker keeps, to report it again).
    public struct Completion: Sendable, Equatable, Codable {
        public struct Rendition: Sendable, Equatable, Codable {
            public var name: String
            public var width: Int
            public var height: Int
            public var codecs: String
            public var playlist: String
            public var bandwidth: Int
            public var averageBandwidth: Int
            public var segments: Int
            public var bytes: Int
            public var encodedFrames: Int
            /// "capped-crf" or "abr", and the CRF with capped-crf (absent in markers of older workers).
            public var rateControl: String?
            public var crf: Double?
            /// SSIM and PSNR of the rendition when the job asked for `measureQuality`.
            public var quality: Quality?

            public init(name: String, width: Int, height: Int, codecs: String, playlist: String, bandwidth: Int,
                        averageBandwidth: Int, segments: Int, bytes: Int, encodedFrames: Int,
                        rateControl: String? = nil, crf: Double? = nil, quality: Quality? = nil) {
                self.name = name
                self.width = width
                self.height = height
                self.codecs = codecs
                self.playlist = playlist
                self.bandwidth = bandwidth
                self.averageBandwidth = averageBandwidth
                self.segments = segments
                self.bytes = bytes
                self.encodedFrames = encodedFrames
                self.rateControl = rateControl
                self.crf = crf
                self.quality = quality
            }
        }

        /// A rendition's measured quality (the engine's report `quality`).
        public typealias Quality = PictureQuality

        /// A rung found redundant by its bytes (the report's `redundantRungs`).
        public typealias RedundantRung = RedundantRungOutcome

        public struct Audio: Sendable, Equatable, Codable {
            public var codec: String
            public var bitrate: Int
            public var channels: Int
            public var sampleRate: Int
            public var segments: Int
            public var bytes: Int
            /// The encoded audio's loudness (`integrated` LUFS, `range` LU, `truePeak` dBTP) when it
            /// was normalised; absent with loudness off and in markers of older workers.
            public var loudness: LoudnessFigures?
            /// In `audioTracks`: the rendition's language, NAME, DEFAULT, whether it describes
            /// the video, and its media playlist relative to the output root.
            public var language: String?
            public var name: String?
            public var isDefault: Bool?
            public var describesVideo: Bool?
            public var playlist: String?

            public init(codec: String, bitrate: Int, channels: Int, sampleRate: Int, segments: Int, bytes: Int) {
                self.codec = codec
                self.bitrate = bitrate
                self.channels = channels
                self.sampleRate = sampleRate
                self.segments = segments
                self.bytes = bytes
            }
        }

        public struct Subtitles: Sendable, Equatable, Codable {
            public var language: String
            public var cues: Int

            public init(language: String, cues: Int) {
                self.language = language
                self.cues = cues
            }
        }

        /// The output folder relative to the output root, as the job named it.
        public var output: String
        /// The master playlist relative to the output root: `lecture-42/master.m3u8`.
        public var master: String
        public var segmentFormat: String
        public var segmentDuration: Double
        public var renditions: [Rendition]
        public var audio: Audio?
        /// Every rendition of the audio group, the default first (absent for a source without
        /// video or audio, and in markers of older workers).
        public var audioTracks: [Audio]?
        public var subtitles: [Subtitles]
        /// Media duration of the source, seconds.
        public var durationSeconds: Double
        /// Wall time of the transcode, seconds.
        public var elapsedSeconds: Double
        /// Bytes of every segment and playlist written (the whole output folder).
        public var bytes: Int
        /// Segment files across all renditions.
        public var segments: Int
        /// Media seconds per wall second.
        public var speed: Double
        /// Rungs found redundant (absent in markers of older workers).
        public var redundantRungs: [RedundantRung]?
        /// Relative to the output root, as `master`: the seek-bar thumbnails' WebVTT track, the
        /// poster and the WebVTT chapters; absent when not made.
        public var storyboard: String?
        public var poster: String?
        public var chapters: String?

        public init(output: String, master: String, segmentFormat: String, segmentDuration: Double,
                    renditions: [Rendition], audio: Audio?, subtitles: [Subtitles], durationSeconds: Double,
                    elapsedSeconds: Double, bytes: Int, segments: Int, speed: Double) {
            self.output = output
            self.master = master
            self.segmentFormat = segmentFormat
            self.segmentDuration = segmentDuration
            self.renditions = renditions
            self.audio = audio
            self.subtitles = subtitles
            self.durationSeconds = durationSeconds
            self.elapsedSeconds = elapsedSeconds
            self.bytes = bytes
            self.segments = segments
            self.speed = speed
        }

        enum CodingKeys: String, CodingKey {
            case output, master, segmentFormat, segmentDuration, renditions, audio, audioTracks, subtitles
            case durationSeconds, elapsedSeconds, bytes, segments, speed, redundantRungs, storyboard, poster, chapters
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(output, forKey: .output)
            try container.encode(master, forKey: .master)
            try container.encode(segmentFormat, forKey: .segmentFormat)
            try container.encode(segmentDuration, forKey: .segmentDuration)
            try container.encode(renditions, forKey: .renditions)
            try container.encode(audio, forKey: .audio)  // null when the source has no audio
            try container.encodeIfPresent(audioTracks, forKey: .audioTracks)
            try container.encode(subtitles, forKey: .subtitles)
            try container.encode(durationSeconds, forKey: .durationSeconds)
            try container.encode(elapsedSeconds, forKey: .elapsedSeconds)
            try container.encode(bytes, forKey: .bytes)
            try container.encode(segments, forKey: .segments)
            try container.encode(speed, forKey: .speed)
            try container.encodeIfPresent(redundantRungs, forKey: .redundantRungs)
            try container.encodeIfPresent(storyboard, forKey: .storyboard)
            try container.encodeIfPresent(poster, forKey: .poster)
            try container.encodeIfPresent(chapters, forKey: .chapters)
        }
    }

    enum CodingKeys: String, CodingKey {
        case eventId, jobId, workerId, attempt, state, timestamp
        case job, redelivered, warnings, input, output, resumedFromSegment, segmentsReused, progress, segment, chunk, error,
             willRetry, deadLettered
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventId, forKey: .eventId)
        try container.encode(jobId, forKey: .jobId)  // null, not absent, when the message had none
        try container.encode(workerId, forKey: .workerId)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(state, forKey: .state)
        try container.encode(Self.timestampText(timestamp), forKey: .timestamp)
        try container.encodeIfPresent(job, forKey: .job)
        try container.encodeIfPresent(redelivered, forKey: .redelivered)
        try container.encodeIfPresent(warnings, forKey: .warnings)
        try container.encodeIfPresent(input, forKey: .input)
        if completion == nil { try container.encodeIfPresent(output, forKey: .output) }
        try container.encodeIfPresent(resumedFromSegment, forKey: .resumedFromSegment)
        try container.encodeIfPresent(segmentsReused, forKey: .segmentsReused)
        try container.encodeIfPresent(progress, forKey: .progress)
        try container.encodeIfPresent(segment, forKey: .segment)
        try container.encodeIfPresent(chunk, forKey: .chunk)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encodeIfPresent(willRetry, forKey: .willRetry)
        try container.encodeIfPresent(deadLettered, forKey: .deadLettered)
        if let completion { try completion.encode(to: encoder) }
    }

    /// The message body: compact JSON, keys sorted.
    public func jsonBody() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return (try? encoder.encode(self)) ?? Data()
    }

    /// `2026-05-01T12:00:00.123Z`.
    public static func timestampText(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

// MARK: - Builders

extension JobEvent {
    public static func accepted(_ job: TranscodeJob, workerId: String, attempt: Int, redelivered: Bool, warnings: [String]) -> JobEvent {
        var event = JobEvent(state: .accepted, jobId: job.jobId, workerId: workerId, attempt: attempt)
        event.job = job
        event.redelivered = redelivered
        event.warnings = warnings
        return event
    }

    /// - Parameters:
    ///   - resumedFromSegment, segmentsReused: where the transcode resumed an earlier attempt's
    ///     work (0 and 0 when it starts afresh).
    public static func started(jobId: String, input: String, output: String, workerId: String, attempt: Int,
                               resumedFromSegment: Int = 0, segmentsReused: Int = 0) -> JobEvent {
        var event = JobEvent(state: .started, jobId: jobId, workerId: workerId, attempt: attempt)
        event.input = input
        event.output = output
        event.resumedFromSegment = resumedFromSegment
        event.segmentsReused = segmentsReused
        return event
    }

    public static func progress(jobId: String, _ progress: Progress, workerId: String, attempt: Int) -> JobEvent {
        var event = JobEvent(state: .progress, jobId: jobId, workerId: workerId, attempt: attempt)
        event.progress = progress
        return event
    }

    public static func segment(jobId: String, _ segment: Segment, workerId: String, attempt: Int) -> JobEvent {
        var event = JobEvent(state: .segment, jobId: jobId, workerId: workerId, attempt: attempt)
        event.segment = segment
        return event
    }

    /// - Parameter eventId: the id kept in the output's completion marker, so that publishing
    ///   the completion again (after a crash before the acknowledgement) repeats the same id.
    public static func chunk(jobId: String, _ chunk: Chunk, workerId: String, attempt: Int) -> JobEvent {
        var event = JobEvent(state: .chunk, jobId: jobId, workerId: workerId, attempt: attempt)
        event.chunk = chunk
        return event
    }

    public static func completed(jobId: String, _ completion: Completion, workerId: String, attempt: Int,
                                 eventId: String = UUID().uuidString.lowercased()) -> JobEvent {
        var event = JobEvent(state: .completed, jobId: jobId, workerId: workerId, attempt: attempt, eventId: eventId)
        event.completion = completion
        return event
    }

    public static func failed(jobId: String?, reason: String, message: String, willRetry: Bool, workerId: String, attempt: Int) -> JobEvent {
        var event = JobEvent(state: .failed, jobId: jobId, workerId: workerId, attempt: attempt)
        event.error = ErrorInfo(reason: reason, message: message)
        event.willRetry = willRetry
        event.deadLettered = !willRetry
        return event
    }

    public static func rejected(jobId: String?, reason: DeadLetterReason, message: String, workerId: String, attempt: Int) -> JobEvent {
        var event = JobEvent(state: .rejected, jobId: jobId, workerId: workerId, attempt: attempt)
        event.error = ErrorInfo(reason: reason.rawValue, message: message)
        event.deadLettered = true
        return event
    }
}
