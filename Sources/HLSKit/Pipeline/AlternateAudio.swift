import CFFmpeg
import Foundation

/// A rendition of the audio group beside the main audio: another audio stream of the source,
/// decoded as the demuxer hands over its packets, or an added file read in lockstep with the
/// video (`AudioFileReader`). Its `AudioRendition` is made with the timeline; lives on the
/// decoding thread.
///
/// A source stream's frames are laid on the rendition as they are decoded, as the main audio's
/// are (the rendition holds what runs ahead of the video's segment, encoded); only those decoded
/// before the timeline starts are held. A file's frame is laid only once the video is near its
/// start (`feed`): a frame that starts further ahead is held and the file is not read on, so a
/// jump in its timestamps becomes silence as the video reaches it. At most `maximumHeld` frames
/// are held; past that the track's newest frames are dropped, with a warning.
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
    private(set) var warnings: [String] = []
    /// The track's own timeline (a file's origin is its first sample); set with the rendition.
    private var timeline: MediaTimeline?
    /// Frames decoded and not yet laid on the rendition: before the timeline starts, or starting
    /// past the video's position.
    private var held: [Frame] = []
    /// Timeline position the video has reached, plus the read-ahead (microseconds).
    private var horizon: Int64 = 0
    /// Corrupt packets of a source stream; past the limit the stream is left (silence from there).
    private var corrupt = 0
    private(set) var abandoned = false
    /// A file's frames are moved out of the source's cut holes (microseconds from the video's
    /// first frame, `TranscodeOptions.collapseGaps`) as the source's own streams are.
    private var collapse: GapCollapse?

    /// Frames held at most (about a minute of 48 kHz AAC).
    static let maximumHeld = 2_500

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

    private var timeBase: AVRational {
        switch source {
        case .stream(_, _, let timeBase): return timeBase
        case .file(let reader): return reader.timeBase
        }
    }

    /// Makes the rendition on the video's timeline (a file's own origin at the video's first
    /// frame); `collapse`: the holes cut from that timeline, microseconds from its origin.
    func start(directory: URL, timeline: MediaTimeline, options: TranscodeOptions, kept: KeptSegments, collapse: GapCollapse? = nil) throws {
        self.collapse = collapse
        let own: MediaTimeline
        switch source {
        case .stream: own = timeline
        case .file(let reader):
            own = MediaTimeline(videoTimeBase: reader.timeBase, firstVideoTimestamp: reader.firstTimestamp, segments: timeline.segments)
        }
        self.timeline = own
        rendition = try AudioRendition(directory: directory.appendingPathComponent(label.folder), timeline: own,
                                       sourceSampleRate: sampleRate, bitrate: options.audioBitrate, label: label,
                                       format: options.segmentFormat, notify: options.onSegment, kept: kept, loudness: loudness)
    }

    /// A decoded frame of the source stream: laid on the rendition, or held until it is made.
    func take(_ frame: Frame) throws {
        guard case .stream = source, !abandoned else { return }
        if let rendition, held.isEmpty { return try rendition.push(frame, timeBase: timeBase) }
        try hold(frame)
        try release()
    }

    /// A corrupt packet of the source stream: counted; past `limit` the stream is left, with a
    /// warning (the rendition is padded with silence to the video's end).
    func noteCorrupt(_ error: Error, limit: Int) {
        corrupt += 1
        guard !abandoned, corrupt > limit else { return }
        abandoned = true
        held.removeAll()
        warnings.append("\(from): more than \(limit) corrupt packets; the track is silent from here (\(error))")
    }

    /// The video has reached `position` (microseconds on the timeline): lays on the rendition the
    /// frames that start before `position` plus the read-ahead, reading a file as far as that.
    func feed(upTo position: Int64) throws {
        guard rendition != nil else { return }
        horizon = max(horizon, position)
        try release()
        guard case .file(let reader) = source, held.isEmpty else { return }
        while !reader.ended, held.isEmpty, let frame = try reader.next() {
            try hold(frame)
            try release()
        }
    }

    /// Reads past the video's end (`videoEnd` microseconds) far enough to tell whether the track
    /// runs more than `lengthTolerance` longer; what starts later is dropped (the end is cut).
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
        if reader.ended, held.isEmpty, videoEnd - placed > Self.lengthTolerance {
            return String(format: "%@: the audio file lasts %.1f s, the video %.1f s: its end is padded with silence",
                          reader.path, Double(placed) / 1e6, Double(videoEnd) / 1e6)
        }
        if !reader.ended || !held.isEmpty || placed - videoEnd > Self.lengthTolerance {
            return String(format: "%@: the audio file runs past the video's end (%.1f s) by more than a second: it is cut there",
                          reader.path, Double(videoEnd) / 1e6)
        }
        return nil
    }

    private func hold(_ frame: Frame) throws {
        guard held.count < Self.maximumHeld else {
            if !warnings.contains(where: { $0.hasSuffix(Self.aheadWarning) }) { warnings.append("\(from): \(Self.aheadWarning)") }
            return
        }
        let kept = try Frame(referencing: frame)
        if case .file = source, let collapse, let timeline, frame.timestamp != noPTS {
            // By the frame's middle, so that a cut's edge is within half a frame.
            let start = timeline.relativeMicroseconds(frame.timestamp, timeBase: timeBase)
            let middle = start + Int64(frame.sampleCount) * 500_000 / Int64(max(1, sampleRate))
            guard let shift = collapse.shift(at: middle) else { return }
            kept.moveTimestamps(back: av_rescale_q(shift, MediaTimeline.microseconds, timeBase))
        }
        held.append(kept)
    }

    static let aheadWarning = "audio timestamped far ahead of the video was dropped"

    /// Lays the held frames on the rendition, in order: a file's only those that start before the horizon.
    private func release() throws {
        guard let rendition, let timeline else { return }
        var laid = 0
        for frame in held {
            let stamp = frame.timestamp
            if case .file = source, stamp != noPTS,
               timeline.relativeMicroseconds(stamp, timeBase: timeBase) > horizon + DecodeLoop.fileReadAhead { break }
            try rendition.push(frame, timeBase: timeBase)
            laid += 1
        }
        held.removeFirst(laid)
    }
}
