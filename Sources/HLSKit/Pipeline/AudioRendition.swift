import CFFmpeg
import Foundation

/// The audio rendition: resamples to stereo, lays the samples on the video's timeline (silence
/// fills gaps, overlaps are dropped, the end is cut or padded to the video's end), encodes AAC-LC
/// once and cuts segments at the same boundaries as the video. Runs on the demuxing thread.
final class AudioRendition {
    static let frameSize = 1024

    let directoryName: String
    let sampleRate: Int
    let bitrate: Int
    /// How the audio group lists it (the low-bandwidth variant carries the default track's).
    let label: AudioTrackLabel
    var language: String { label.language }
    let encoder: MediaEncoder
    private let resampler: Resampler
    private let fifo: AudioFIFO
    private let writer: SegmentWriter
    private let timeline: MediaTimeline
    private let frame: Frame
    private let packet: Packet
    /// Samples laid on the timeline so far (encoded + queued), counted from the first video frame.
    private var placed: Int64 = 0
    private var encoded: Int64 = 0
    private var pendingDrop = 0
    private var started = false
    private var currentSegment = 0
    /// Highest segment index the video has reached; audio never opens a segment the video lacks.
    private var segmentLimit = 0
    /// Encoded packets waiting for the video to reach their segment, from `heldHead` on.
    private var held: [(packet: Packet, segment: Int)] = []
    private var heldHead = 0
    private var heldBytes = 0
    private var warnedHeld = false
    /// Decoded frames after a jump forward in the audio's own timestamps that lands far ahead of
    /// the video: laid (with the silence before them) only as the video gets near, so a jump is
    /// never minutes of silence encoded at once (`push`).
    private var deferred: [Frame] = []
    private var deferredTimeBase = AVRational(num: 1, den: 1)
    /// Timeline position of the latest video frame, samples; nil until there is one (and for an
    /// audio-only source, which leads the timeline).
    private var videoHorizon: Int64?
    /// Decoded frames deferred at most (about a minute at 48 kHz); later ones are dropped.
    static let maximumDeferred = 2_500
    /// Encoded audio held at most (about 30 min at 128 kb/s); past it, audio goes into the
    /// video's current segment as it comes.
    static let maximumHeldBytes = 32 << 20
    private(set) var log = SegmentLog()
    private(set) var warnings: [String] = []
    /// Loudness normalisation: the gain and limiter, the samples they see after each frame, and
    /// the meter of what a player decodes (each AAC packet written, decoded again).
    private let loudness: LoudnessPlan?
    private let limiter: TruePeakLimiter?
    private let ahead: Frame?
    private let outputMeter: LoudnessMeter?
    private let outputDecoder: MediaDecoder?
    private let decoded: Frame
    /// Samples the FIFO holds beyond a frame before it is encoded (the limiter's lookahead).
    private var lookahead: Int { limiter?.lookahead ?? 0 }
    /// Told of each finished segment and of the stream's end (on the decoding thread).
    var listener: SegmentListener?

    /// - Parameter kept: resuming: the files an earlier run committed; the audio is encoded again
    ///   from the start and each is compared with its committed bytes (`ResumeMismatch` when one differs).
    ///   - loudness: the gain to apply (with a true-peak limiter), measured beforehand; nil leaves the level alone.
    init(directory: URL, timeline: MediaTimeline, sourceSampleRate: Int, bitrate: Int, label: AudioTrackLabel,
         format: SegmentFormat, notify: (@Sendable (SegmentEvent) -> Void)? = nil, kept: KeptSegments = .none,
         loudness: LoudnessPlan? = nil) throws {
        self.directoryName = directory.lastPathComponent
        self.timeline = timeline
        self.bitrate = bitrate
        self.label = label
        sampleRate = Self.outputSampleRate(source: sourceSampleRate)
        let sampleRate = self.sampleRate
        resampler = try Resampler(sampleRate: sampleRate)
        fifo = try AudioFIFO()
        packet = try Packet()
        encoder = try MediaEncoder(name: "aac") { context in
            context.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
            context.pointee.sample_rate = Int32(sampleRate)
            av_channel_layout_default(&context.pointee.ch_layout, 2)
            context.pointee.bit_rate = Int64(bitrate)
            context.pointee.time_base = AVRational(num: 1, den: Int32(sampleRate))
            context.pointee.profile = FF_PROFILE_AAC_LOW
            context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        self.loudness = loudness
        if let loudness {
            let limiter = try TruePeakLimiter(sampleRate: sampleRate, gain: loudness.gain, ceiling: LoudnessNormalization.limiterCeiling)
            self.limiter = limiter
            ahead = try Self.planarFrame(sampleRate: sampleRate, samples: limiter.lookahead)
            outputMeter = try LoudnessMeter(sampleRate: sampleRate)
            outputDecoder = try MediaDecoder(decoding: encoder)
        } else {
            limiter = nil
            ahead = nil
            outputMeter = nil
            outputDecoder = nil
        }
        decoded = try Frame()
        frame = try Self.planarFrame(sampleRate: sampleRate, samples: Self.frameSize)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        writer = try SegmentWriter(format: format, directory: directory, encoder: encoder, committed: kept.committed,
                                   language: label.language, describesVideo: label.describesVideo)
        writer.onSegment = { [unowned self] written in
            guard let finished = self.log.finish(written, rendition: self.directoryName, codecs: CodecString.aacLC) else { return }
            self.listener?.segmentFinished(finished)
            if !written.isVerified {
                notify?(SegmentEvent(folder: self.directoryName, index: written.index, file: written.name, bytes: written.bytes, log: self.log))
            }
        }
    }

    /// A stereo planar float frame with buffers for `samples` samples.
    private static func planarFrame(sampleRate: Int, samples: Int) throws -> Frame {
        let frame = try Frame()
        frame.pointer.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
        frame.pointer.pointee.sample_rate = Int32(sampleRate)
        av_channel_layout_default(&frame.pointer.pointee.ch_layout, 2)
        frame.pointer.pointee.nb_samples = Int32(max(1, samples))
        try check(av_frame_get_buffer(frame.pointer, 0), "av_frame_get_buffer(audio)")
        return frame
    }

    /// What normalisation did to this rendition: the plan and the loudness of what was encoded,
    /// as a player decodes it. nil without normalisation.
    var loudnessReport: TranscodeReport.AudioLoudness? {
        guard let loudness, let outputMeter, let limiter else { return nil }
        let output = outputMeter.figures
        return TranscodeReport.AudioLoudness(
            target: loudness.target, gain: (loudness.gain * 100).rounded() / 100, input: loudness.input, output: output,
            limitedSeconds: (Double(limiter.limitedSamples) / Double(sampleRate) * 100).rounded() / 100,
            shortfall: LoudnessNormalization.shortfall(input: loudness.input, output: output, target: loudness.target, gain: loudness.gain))
    }

    /// 44.1 kHz sources stay at 44.1 kHz; everything else is resampled to 48 kHz.
    static func outputSampleRate(source: Int) -> Int { source == 44_100 ? 44_100 : 48_000 }

    /// The init section as written (fMP4), for the journal.
    var initFile: FileSink.Written? { writer.initFile }

    private var offsetSamples: Int64 { MediaTimeline.offsetSeconds * Int64(sampleRate) }

    private func samples(atMicroseconds us: Int64) -> Int64 {
        av_rescale(us, Int64(sampleRate), 1_000_000)
    }

    /// Lays one decoded frame (timestamp in `timeBase`) on the timeline; a frame after a jump
    /// forward that lands more than the backlog ahead of the video waits, with those after it.
    func push(_ decoded: Frame, timeBase: AVRational) throws {
        let timestamp = decoded.timestamp
        if deferred.isEmpty, timestamp != noPTS, let horizon = videoHorizon {
            let target = samples(atMicroseconds: timeline.relativeMicroseconds(timestamp, timeBase: timeBase))
            let jumped = target - (placed - Int64(pendingDrop)) > Int64(sampleRate / 25)
            if jumped, target > horizon + backlogCap { return try deferFrame(decoded, timeBase: timeBase) }
        }
        if !deferred.isEmpty { return try deferFrame(decoded, timeBase: timeBase) }
        try lay(decoded, timeBase: timeBase)
    }

    private func deferFrame(_ decoded: Frame, timeBase: AVRational) throws {
        guard deferred.count < Self.maximumDeferred else {
            let warning = "audio timestamped far ahead of the video was dropped"
            if !warnings.contains(warning) { warnings.append(warning) }
            return
        }
        deferredTimeBase = timeBase
        deferred.append(try Frame(referencing: decoded))
    }

    /// Lays the deferred frames the video has come near (all of them with `through` nil), in order.
    private func releaseDeferred(through limit: Int64?) throws {
        var laid = 0
        for frame in deferred {
            if let limit, frame.timestamp != noPTS,
               samples(atMicroseconds: timeline.relativeMicroseconds(frame.timestamp, timeBase: deferredTimeBase)) > limit { break }
            try lay(frame, timeBase: deferredTimeBase)
            laid += 1
        }
        deferred.removeFirst(laid)
    }

    private func lay(_ decoded: Frame, timeBase: AVRational) throws {
        let timestamp = decoded.timestamp
        if timestamp != noPTS {
            let target = samples(atMicroseconds: timeline.relativeMicroseconds(timestamp, timeBase: timeBase))
            let tolerance = Int64(sampleRate / 25)   // 40 ms: leave small jitter alone
            // Timeline position of the next sample the resampler will hand over.
            let expected = placed - Int64(pendingDrop)
            let delta = target - expected
            if delta > tolerance || (!started && delta > 0) {
                let undrop = min(Int64(pendingDrop), delta)
                pendingDrop -= Int(undrop)
                let silence = delta - undrop
                if silence > 0 {
                    if started { warnings.append(String(format: "audio gap of %.3f s filled with silence", Double(silence) / Double(sampleRate))) }
                    try appendSilence(silence)
                }
            } else if delta < -tolerance || (!started && delta < 0) {
                pendingDrop += Int(-delta)
            }
            started = true
        }
        try resampler.convert(decoded) { planes, count in try self.append(planes, count) }
        // Audio running through a hole in the video: encoded as it comes (the packets wait for
        // the video's segment in `held`), so the queue of samples stays bounded.
        while fifo.count >= Self.frameSize + lookahead, Int64(fifo.count) > backlogCap { try encodeFrame(samples: Self.frameSize) }
    }

    /// Samples queued at most before they are encoded whatever the video's position (30 s): a
    /// badly interleaved file, or audio running through a hole in the video.
    private var backlogCap: Int64 { Int64(sampleRate * 30) }

    private func append(_ planes: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ count: Int) throws {
        let skip = min(pendingDrop, count)
        pendingDrop -= skip
        let kept = count - skip
        guard kept > 0 else { return }
        if skip == 0 {
            try fifo.write(planes, count: kept)
        } else {
            let bytes = skip * MemoryLayout<Float>.size
            var shifted: [UnsafeMutableRawPointer?] = [planes[0].map { $0 + bytes }, planes[1].map { $0 + bytes }]
            try shifted.withUnsafeMutableBufferPointer { try fifo.write($0.baseAddress!, count: kept) }
        }
        placed += Int64(kept)
    }

    /// Encodes the queued audio that lies before the latest video frame (so the audio never runs
    /// into a segment the video does not have). `videoSegment` is that frame's segment.
    func advance(toVideoMicroseconds horizon: Int64, videoSegment: Int) throws {
        segmentLimit = max(segmentLimit, videoSegment)
        try releaseHeld()
        let limit = samples(atMicroseconds: horizon)
        videoHorizon = max(videoHorizon ?? limit, limit)
        if !deferred.isEmpty { try releaseDeferred(through: limit + backlogCap) }
        while fifo.count >= Self.frameSize + lookahead,
              encoded + Int64(Self.frameSize) <= limit || Int64(fifo.count) > backlogCap {
            try encodeFrame(samples: Self.frameSize)
        }
    }

    /// For an audio-only source, where the audio itself leads the timeline: encodes every whole
    /// frame queued, into whatever segment its time falls in.
    func advanceAlone() throws {
        segmentLimit = Int.max
        try releaseHeld()
        try releaseDeferred(through: nil)
        while fifo.count >= Self.frameSize + lookahead { try encodeFrame(samples: Self.frameSize) }
    }

    /// Microseconds of audio laid on the timeline so far, from its start.
    var placedMicroseconds: Int64 { av_rescale(placed, 1_000_000, Int64(sampleRate)) }

    /// Microseconds from the timeline's start to where the encoded audio ends.
    var encodedMicroseconds: Int64 { av_rescale(encoded, 1_000_000, Int64(sampleRate)) }

    /// Flushes everything: audio is cut or padded with silence to end exactly where the video ends.
    /// With `videoEndMicroseconds` nil (an audio-only source) the audio ends where it ends.
    func finish(videoEndMicroseconds: Int64?, lastVideoSegment: Int) throws {
        segmentLimit = lastVideoSegment
        try releaseHeld()
        // What was deferred past the video's end is cut with the rest of the audio there.
        try releaseDeferred(through: videoEndMicroseconds.map(samples(atMicroseconds:)))
        deferred.removeAll()
        try resampler.convert(nil) { planes, count in try self.append(planes, count) }
        let end = videoEndMicroseconds.map(samples(atMicroseconds:)) ?? placed
        if placed < end { try appendSilence(end - placed, limit: end) }
        while encoded < end, fifo.count > 0 {
            try encodeFrame(samples: Int(min(Int64(Self.frameSize), end - encoded, Int64(fifo.count))))
        }
        try encoder.send(nil)
        try drain()
        try releaseHeld()
        // Whatever is still held lies past the video's last segment: the audio ends with the video.
        held.removeAll()
        heldHead = 0
        heldBytes = 0
        try measureOutput(nil)
        try writer.finish()
        listener?.streamEnded(rendition: directoryName, records: log.records(), codecs: CodecString.aacLC)
    }

    /// This rendition as the output side sees it, as the audio group (`variant` false) or as a
    /// variant of its own (provisional bandwidths: 1.1 × and 1 × the bitrate).
    func summary(variant: Bool) -> RenditionSummary {
        RenditionSummary(folder: directoryName, role: variant ? .audioOnly : .audioGroup(label),
                         provisional: BandwidthStats(peak: bitrate * 11 / 10, average: bitrate), codecs: CodecString.aacLC)
    }

    /// Lays `count` samples of silence on the timeline in bounded chunks, encoding as it goes, so a
    /// long gap (hostile timestamps) costs time but never memory.
    private func appendSilence(_ count: Int64, limit: Int64? = nil) throws {
        var remaining = count
        let chunk = Int64(sampleRate) * 10
        while remaining > 0 {
            let part = min(remaining, chunk)
            try fifo.writeSilence(count: Int(part))
            placed += part
            remaining -= part
            while fifo.count > Int(chunk), limit.map({ encoded + Int64(Self.frameSize) <= $0 }) ?? true {
                try encodeFrame(samples: Self.frameSize)
            }
        }
    }

    private func encodeFrame(samples count: Int) throws {
        try frame.makeWritable()
        frame.pointer.pointee.nb_samples = Int32(count)
        let read = try fifo.read(into: frame, count: count)
        frame.pointer.pointee.nb_samples = Int32(read)
        if let limiter, let ahead {
            try ahead.makeWritable()
            let seen = fifo.count > 0 ? try fifo.peek(into: ahead, count: min(limiter.lookahead, fifo.count)) : 0
            try frame.withPlanes { block in
                try ahead.withPlanes { next in try limiter.process(block, count: read, next: next, ahead: seen) }
            }
        }
        frame.pointer.pointee.pts = encoded + offsetSamples
        encoded += Int64(read)
        try encoder.send(frame)
        try drain()
    }

    /// Decodes `packet` (nil: the end) as a player would and measures it.
    private func measureOutput(_ packet: Packet?) throws {
        guard let outputDecoder, let outputMeter else { return }
        try outputDecoder.send(packet)
        while try outputDecoder.receive(into: decoded) {
            try decoded.withPlanes { try outputMeter.add($0, count: decoded.sampleCount) }
        }
    }

    private func drain() throws {
        while try encoder.receive(into: packet) {
            try measureOutput(packet)
            let us = av_rescale(packet.pts - offsetSamples, 1_000_000, Int64(sampleRate))
            let index = timeline.segments.index(atMicroseconds: us)
            // Audio ahead of the video's segment (a hole in the video, a badly interleaved file)
            // waits for the video to get there, so that it lands in its own segment.
            if index > segmentLimit || heldHead < held.count {
                if heldBytes + Int(packet.pointer.pointee.size) <= Self.maximumHeldBytes {
                    held.append((try Packet(referencing: packet), index))
                    heldBytes += Int(packet.pointer.pointee.size)
                    continue
                }
                if !warnedHeld {
                    warnings.append("audio ran more than \(Self.maximumHeldBytes >> 20) MB ahead of the video; the excess went into the video's current segment")
                    warnedHeld = true
                }
                try releaseHeld(all: true)
            }
            try write(packet, segment: min(index, segmentLimit))
        }
    }

    /// Writes the held packets whose segment the video has reached (`all`: every one, into the
    /// video's current segment at most).
    private func releaseHeld(all: Bool = false) throws {
        while heldHead < held.count, all || held[heldHead].segment <= segmentLimit {
            let first = held[heldHead]
            heldHead += 1
            heldBytes -= Int(first.packet.pointer.pointee.size)
            try write(first.packet, segment: min(first.segment, segmentLimit))
        }
        if heldHead == held.count {
            held.removeAll(keepingCapacity: true)
            heldHead = 0
        } else if heldHead > 4096, heldHead * 2 > held.count {
            held.removeFirst(heldHead)
            heldHead = 0
        }
    }

    private func write(_ packet: Packet, segment index: Int) throws {
        let relative = packet.pts - offsetSamples
        currentSegment = max(currentSegment, index)
        log.addMedia(segment: currentSegment, start: Double(relative) / Double(sampleRate),
                     duration: Double(packet.duration) / Double(sampleRate))
        try writer.write(packet, segment: currentSegment)
    }
}
