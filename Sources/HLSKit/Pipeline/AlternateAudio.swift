import CFFmpeg
import Foundation

/// A rendition of the audio group beside the main audio: another audio stream of the source,
/// decoded as the demuxer hands over its packets, or an added file read in lockstep with the
/// video (`AudioFileReader`). Its `AudioRendition` is made with the timeline; lives on the
/// decoding thread.
final class AlternateAudio {
    enum Source {
        case stream(index: Int, decoder: MediaDecoder, timeBase: AVRational)
        case file(AudioFileReader)
    }

    let label: AudioTrackLabel
    let source: Source
    /// The source's sample rate.
    let sampleRate: Int
    /// Loudness normalisation measured for this track; nil: none.
    let loudness: LoudnessPlan?
    /// Where the track comes from, for the report: "stream N" or the file's path.
    let from: String
    private(set) var rendition: AudioRendition?
    /// A source stream's frames decoded before the timeline starts.
    private var pending: [Frame] = []

    init(label: AudioTrackLabel, source: Source, sampleRate: Int, loudness: LoudnessPlan?) {
        self.label = label
        self.source = source
        self.sampleRate = sampleRate
        self.loudness = loudness
        switch source {
        case .stream(let index, _, _): from = "stream \(index)"
        case .file(let reader): from = reader.path
        }
    }

    /// The source stream's index, nil for a file.
    var streamIndex: Int? {
        if case .stream(let index, _, _) = source { return index }
        return nil
    }

    /// Makes the rendition on the video's timeline (a file's own origin at the video's first frame)
    /// and lays on it what was decoded before.
    func start(directory: URL, timeline: MediaTimeline, options: TranscodeOptions, kept: KeptSegments) throws {
        let ownTimeline: MediaTimeline
        switch source {
        case .stream: ownTimeline = timeline
        case .file(let reader):
            ownTimeline = MediaTimeline(videoTimeBase: reader.timeBase, firstVideoTimestamp: reader.firstTimestamp, segments: timeline.segments)
        }
        let rendition = try AudioRendition(directory: directory.appendingPathComponent(label.folder), timeline: ownTimeline,
                                           sourceSampleRate: sampleRate, bitrate: options.audioBitrate, label: label,
                                           format: options.segmentFormat, notify: options.onSegment, kept: kept, loudness: loudness)
        self.rendition = rendition
        if case .stream(_, _, let timeBase) = source {
            for frame in pending { try rendition.push(frame, timeBase: timeBase) }
        }
        pending.removeAll()
    }

    /// A decoded frame of the source stream: laid on the rendition, or held until it exists.
    func take(_ frame: Frame) throws {
        guard case .stream(_, _, let timeBase) = source else { return }
        if let rendition {
            try rendition.push(frame, timeBase: timeBase)
        } else if pending.count < 20_000 {
            pending.append(try Frame(referencing: frame))
        }
    }

    /// A file: reads it up to `horizon` microseconds of the timeline (a stream is fed by the demuxer).
    func feed(upTo horizon: Int64) throws {
        guard case .file(let reader) = source, let rendition else { return }
        try reader.feed(rendition, upTo: horizon)
    }

    /// Reads a file past the video's end (`videoEnd` microseconds) far enough to tell whether it
    /// runs more than a second longer.
    func feedToEnd(videoEnd: Int64) throws {
        try feed(upTo: videoEnd + Self.lengthTolerance * 3 / 2)
    }

    /// A file's length may differ from the video's by this much (microseconds) without a warning.
    static let lengthTolerance: Int64 = 1_000_000

    /// What to tell about a file (after `feedToEnd`) whose length differs from the video's by
    /// more than `lengthTolerance`: padded with silence or cut.
    func lengthWarning(videoEnd: Int64) -> String? {
        guard case .file(let reader) = source, let rendition else { return nil }
        let placed = rendition.placedMicroseconds
        if reader.ended, videoEnd - placed > Self.lengthTolerance {
            return String(format: "%@: the audio file lasts %.1f s, the video %.1f s: its end is padded with silence",
                          reader.path, Double(placed) / 1e6, Double(videoEnd) / 1e6)
        }
        if !reader.ended || placed - videoEnd > Self.lengthTolerance {
            return String(format: "%@: the audio file runs past the video's end (%.1f s) by more than a second: it is cut there",
                          reader.path, Double(videoEnd) / 1e6)
        }
        return nil
    }
}
