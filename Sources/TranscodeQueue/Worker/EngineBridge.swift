import Foundation
import HLSKit

/// What the worker does after a transcode failed.
enum FailureKind: Equatable {
    /// It will never succeed: dead-letter at once with this reason.
    case final(DeadLetterReason)
    /// It may succeed later (disk full, I/O, an engine hiccup): retry until --max-attempts.
    case transient
    /// The worker is stopping: give the job back, unfinished.
    case interrupted
}

enum FailurePolicy {
    /// Bad media and missing inputs are final; cancellation is an interruption; everything
    /// else (output folder, I/O, libav errors that are not the input's fault, unknown errors) is
    /// treated as passing.
    static func classify(_ error: Error) -> FailureKind {
        if error is CancellationError { return .interrupted }
        if let error = error as? ChunkError {
            switch error {
            case .mismatch: return .final(.badMedia)
            case .jobFailed: return .final(.jobFailed)
            case .noPlan, .planExists, .unknownChunk, .notReady: return .transient
            }
        }
        guard let error = error as? TranscodeError else { return .transient }
        switch error {
        case .invalidInput: return .final(.badMedia)
        case .inputMissing: return .final(.inputMissing)
        case .cancelled: return .interrupted
        case .outputExists, .cannotCreateOutput, .io, .engine: return .transient
        // A stalling input and an overloaded machine look the same: retry, then dead-letter.
        case .timeLimit: return .transient
        }
    }
}

extension JobPlan {
    /// The engine's options for this plan, reading the subtitles, chapters and added audio through
    /// `inputs` (the worker's opened and checked files) or, without them, at the plan's paths.
    func transcodeOptions(inputs: OpenedInputs? = nil) -> TranscodeOptions {
        var options = TranscodeOptions()
        options.ladder = ladder
        options.rateControl = rateControl
        options.crf = crf
        options.measureQuality = measureQuality
        options.keepRedundantRungs = keepRedundantRungs
        options.storyboard = storyboard
        options.loudness = loudness
        options.poster = poster
        options.chapters = inputs?.chapters?.descriptorPath ?? chaptersPath
        options.segmentDuration = segmentDuration
        options.segmentFormat = segmentFormat
        options.preset = preset
        options.subtitles = subtitles.enumerated().map { index, subtitle in
            SubtitleTrack(language: subtitle.language, name: subtitle.name, path: inputs?.subtitles[index].descriptorPath ?? subtitle.path)
        }
        options.overwrite = false
        options.progressive = progressive
        options.collapseGaps = collapseGaps
        options.audioOnlyVariantBitrate = job.audioOnlyVariant
        options.audioFiles = audioFiles.enumerated().map { index, file in
            AudioTrackFile(language: file.language, path: inputs?.audioFiles[index].descriptorPath ?? file.path,
                           describesVideo: file.describesVideo)
        }
        return options
    }
}

extension JobEvent.Completion {
    /// The `job.completed` payload for a finished transcode whose files are in `folder`.
    init(report: TranscodeReport, output: String, folder: URL) {
        let renditions = report.renditions.map {
            Rendition(name: $0.name, width: $0.width, height: $0.height, codecs: $0.codecs, playlist: $0.playlist,
                      bandwidth: $0.peakBandwidth, averageBandwidth: $0.averageBandwidth, segments: $0.segments,
                      bytes: $0.bytes, encodedFrames: $0.encodedFrames, rateControl: $0.encoder.rateControl, crf: $0.encoder.crf,
                      quality: $0.quality)
        }
        func audio(_ reported: TranscodeReport.Audio) -> Audio {
            var audio = Audio(codec: reported.codec, bitrate: reported.bitrate, channels: reported.channels,
                              sampleRate: reported.sampleRate, segments: reported.segments, bytes: reported.bytes)
            audio.loudness = reported.loudness?.output
            return audio
        }
        let tracks = report.audioTracks.map { reported in
            var track = audio(reported)
            track.language = reported.language
            track.name = reported.name
            track.isDefault = reported.isDefault
            track.describesVideo = reported.describesVideo
            track.playlist = output + "/" + reported.playlist
            return track
        }
        let audioSegments = report.audioTracks.isEmpty ? report.audio?.segments ?? 0 : report.audioTracks.reduce(0) { $0 + $1.segments }
        let segments = report.renditions.reduce(0) { $0 + $1.segments } + audioSegments + (report.audioOnlyVariant?.segments ?? 0)
        let speed = report.elapsedSeconds > 0 ? report.durationSeconds / report.elapsedSeconds : 0
        self.init(output: output, master: output + "/" + CompletionMarker.masterPlaylist, segmentFormat: report.segmentFormat,
                  segmentDuration: report.segmentDuration, renditions: renditions, audio: report.audio.map(audio),
                  subtitles: report.subtitles.map { Subtitles(language: $0.language, cues: $0.cues) },
                  durationSeconds: report.durationSeconds, elapsedSeconds: report.elapsedSeconds,
                  bytes: Self.folderBytes(folder), segments: segments, speed: speed)
        redundantRungs = report.redundantRungs
        audioTracks = tracks.isEmpty ? nil : tracks
        storyboard = report.storyboard.map { output + "/" + $0.vtt }
        poster = report.poster.map { output + "/" + $0.file }
        chapters = report.chapters.map { output + "/" + $0.vtt }
    }

    /// Bytes of the regular files under `folder`.
    static func folderBytes(_ folder: URL) -> Int {
        guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) else {
            return 0
        }
        var total = 0
        for case let url as URL in enumerator {
            guard let values = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]), values.isRegularFile == true else { continue }
            total += values.fileSize ?? 0
        }
        return total
    }
}

extension JobEvent.Progress {
    init(_ progress: TranscodeProgress) {
        self.init(fraction: progress.fraction, mediaSeconds: progress.mediaSeconds, elapsedSeconds: progress.elapsedSeconds,
                  fps: progress.framesPerSecond, speed: progress.speed, etaSeconds: progress.etaSeconds)
    }
}

extension JobEvent.Segment {
    init(_ segment: SegmentEvent) {
        self.init(rendition: segment.rendition, index: segment.index, path: segment.path, bytes: segment.bytes,
                  startTime: segment.startTime)
    }
}
