import CFFmpeg
import Foundation

/// The single pass over the source: reads packets, decodes video once and fans each frame out to
/// every rendition's queue, decodes audio and feeds the audio renditions. Renditions are created at
/// the first decoded video frame, whose timestamp anchors the segment boundaries; for an
/// audio-only source, at the first decoded audio frame, and the audio leads the timeline.
final class DecodeLoop {
    struct Outcome {
        var videos: [VideoRendition]
        var audio: AudioRendition?
        /// The audio group's other renditions (source streams, then files), in master order.
        var alternates: [AlternateAudio]
        /// The low-bandwidth audio-only variant's rendition, when asked for.
        var lowBandwidthAudio: AudioRendition?
        var decodedFrames: Int
        var durationSeconds: Double
        var warnings: [String]
        /// Source time of the first video frame from the container's start (what a player of the
        /// source shows as 00:00, and where SRT times count from).
        var videoStartInSource: Double
        /// Holds every rendition's segment values; writes the final playlists.
        var publisher: HLSPublisher
        /// Resumed: seconds and frames (most of any rendition) encoded before the resume point and dropped.
        var preRollSeconds: Double
        var preRollFrames: Int
        /// Video packets read while the video was skipped (the audio part: every one of the source's).
        var skippedVideoPackets: Int
        /// The storyboard's tiles and the poster candidate, to be written (`PictureSampler.finish`).
        var pictures: PictureSampler?
        /// Holes and jumps back in the video's timestamps.
        var timeline: SourceTimeline
        /// Pictures shown again in the written segments to fill holes.
        var heldFrames: Int
    }

    private unowned let pipeline: TranscodePipeline
    private let input: InputFile
    private let source: SourceInfo
    private let plans: [RenditionPlan]
    private let videoDecoder: MediaDecoder?
    private let audioDecoder: MediaDecoder?
    private let packet: Packet
    private let frame: Frame
    /// The timeline's time base: the video stream's, or the audio's for an audio-only source.
    private let videoTimeBase: AVRational
    private let audioTimeBase: AVRational

    private var timeline: MediaTimeline?
    private var videos: [VideoRendition] = []
    private var audio: AudioRendition?
    private var lowBandwidthAudio: AudioRendition?
    /// The renditions fed by the main audio stream's decoder.
    private var mainAudioRenditions: [AudioRendition] { [audio, lowBandwidthAudio].compactMap { $0 } }
    /// Every audio rendition: the main stream's, then the alternates'.
    private var audioRenditions: [AudioRendition] { mainAudioRenditions + alternates.compactMap(\.rendition) }
    /// The audio group's other tracks, each with its own decoder or file.
    private let alternates: [AlternateAudio]
    private let alternateByStream: [Int: AlternateAudio]
    /// How the main audio is listed in the audio group.
    private let mainLabel: AudioTrackLabel
    private var pendingAudio: [Frame] = []
    private var decodedFrames = 0
    private var decodeErrors = 0
    private var lastTimestamp: Int64?
    private var lastDuration: Int64 = 0
    private var lastSegment = -1
    /// For an interlaced source: the filter, and the frame its pictures come out in.
    private var deinterlacer: Deinterlacer?
    private var deinterlaced: Frame?
    /// With a source over 60 fps, the 1/60 s slot of the last frame kept.
    private var lastKeptSlot: Int64?
    /// Where the output ends, microseconds from the first frame: the video's end (the audio's for an audio-only source).
    private var timelineEnd: Int64 = 0
    private var lastProgress = Date.distantPast
    private var warnings: [String] = []
    private var warnedNonMonotonic = false
    /// Per stream index: the offset that keeps its timestamps going forward (`keepContinuous`).
    private var continuity: [Int: TimestampContinuity] = [:]
    /// The last picture handed to the rungs: what a hole in the video shows (`fillGap`).
    private var lastPicture: Frame?
    /// Holes and backward jumps met in the video's timestamps.
    private var timelineReport = SourceTimeline()
    /// Pictures shown again in the written segments (a chunk's pre-roll not counted).
    private var heldFrames = 0
    /// The holes cut out of the timeline (`TranscodeOptions.collapseGaps`), in the video stream's
    /// ticks after `TimestampContinuity`; nil: holes are filled.
    private let collapse: GapCollapse?

    private let subtitles: [LoadedSubtitles]
    private var publisher: HLSPublisher?
    /// The staging folder's plan and journal (nil: nothing is journaled).
    private let session: ResumeSession?
    /// Resuming: holds back the video before the pre-roll.
    private var skipper: PreRollSkipper?
    /// Timeline position of the first video frame decoded, microseconds.
    private var firstDecoded: Int64?
    /// What this pass makes (the whole set, or a part of a split transcode).
    private let part: TranscodePart
    /// Timeline position where a video chunk ends, microseconds (frames from there on are not encoded).
    private var endMicroseconds: Int64?
    /// Reading stops early: the chunk's end is reached, or (planning) the first frame is decoded.
    private var stopped = false
    /// Planning: the first decoded video frame's timestamp.
    private var plannedFirstTimestamp: Int64?
    private var skippedVideoPackets = 0
    /// Storyboard tiles and the poster, from the decoded pictures (a whole transcode of a video).
    private var pictures: PictureSampler?
    /// Loudness normalisation of the audio renditions (measured before this pass); nil: none.
    private let loudness: LoudnessPlan?

    init(pipeline: TranscodePipeline, input: InputFile, source: SourceInfo, plans: [RenditionPlan],
         videoDecoder: MediaDecoder?, audioDecoder: MediaDecoder?, subtitles: [LoadedSubtitles] = [],
         session: ResumeSession? = nil, part: TranscodePart = .whole, loudness: LoudnessPlan? = nil,
         mainLabel: AudioTrackLabel, alternates: [AlternateAudio] = [], collapse: GapCollapse? = nil) throws {
        self.loudness = loudness
        self.collapse = collapse
        self.mainLabel = mainLabel
        self.alternates = alternates
        var byStream: [Int: AlternateAudio] = [:]
        for alternate in alternates { if let index = alternate.streamIndex { byStream[index] = alternate } }
        alternateByStream = byStream
        self.subtitles = subtitles
        self.part = part
        self.session = session
        self.pipeline = pipeline
        self.input = input
        self.source = source
        self.plans = plans
        self.videoDecoder = videoDecoder
        self.audioDecoder = audioDecoder
        packet = try Packet()
        frame = try Frame()
        audioTimeBase = source.audioStream.map { input.stream($0).pointee.time_base } ?? AVRational(num: 1, den: 1)
        videoTimeBase = source.videoStream.map { input.stream($0).pointee.time_base } ?? audioTimeBase
    }

    /// Runs the pass to the end. On any failure every rendition thread is stopped before rethrowing.
    func execute() throws -> Outcome {
        do {
            try startResumed()
            try startPart()
            try readAll()
            return try complete()
        } catch {
            throw stopAll(after: error)
        }
    }

    /// What planning a split learns from the source's first decoded video frame.
    struct PlannedTimeline {
        /// The timeline's origin (the first frame's timestamp) in the video stream's time base.
        var firstTimestamp: Int64
        var timeBase: AVRational
        /// The threading each rung would encode with on this machine.
        var renditions: [ResumePlan.Rendition]
        /// Source time of the origin from the container's start, seconds (never negative).
        var sourceOffset: Double
        var videoRange: VideoRange
    }

    /// Planning a split: reads up to the first decoded video frame.
    func planTimeline() throws -> PlannedTimeline {
        do {
            try readAll()
        } catch {
            throw stopAll(after: error)
        }
        guard let first = plannedFirstTimestamp, let videoStream = source.videoStream else {
            throw TranscodeError.invalidInput("\(input.path): no video frame could be decoded")
        }
        let shares = coreShares()
        let renditions = plans.enumerated().map { index, plan in
            ResumePlan.Rendition(folder: plan.name, threads: shares.encoderThreads[index], slicedThreads: shares.slicedThreads[index])
        }
        return PlannedTimeline(firstTimestamp: first, timeBase: videoTimeBase, renditions: renditions,
                               sourceOffset: sourceOffset(ofFirstTimestamp: first),
                               videoRange: ColorProperties(from: input.stream(videoStream).pointee.codecpar).videoRange)
    }

    /// Stops every rendition thread and returns the error to throw for `error`.
    private func stopAll(after error: Error) -> Error {
        for video in videos { video.queue.abort() }
        // Before the rung threads end: the watch must not renice a thread id the kernel reuses.
        pipeline.weights.end()
        for video in videos { video.join() }
        if pipeline.cancel.isExpired { return TranscodeError.timeLimit(InterruptFlag.timeLimitMessage(input.path)) }
        if pipeline.cancel.isRaised { return TranscodeError.cancelled }
        if let failure = videos.compactMap(\.failure).first { return DecodeLoop.classify(failure) }
        return DecodeLoop.classify(error)
    }

    private func readAll() throws {
        while !stopped {
            try checkCancelled()
            let more: Bool
            do {
                more = try input.read(into: packet)
            } catch let error as LibAVError {
                try checkCancelled()
                if error.code == hlsify_averror(EIO) { throw TranscodeError.io("reading \(input.path): \(error.reason)") }
                warnings.append("input ends early (\(error.reason)); output holds what could be read")
                break
            }
            guard more else { break }
            guard placeOnTimeline(packet) else { continue }
            if packet.streamIndex == source.videoStream, videoDecoder != nil {
                if let skipper, !skipper.isDone {
                    for held in try skip(packet, with: skipper) { try decodeVideo(held) }
                    continue
                }
                try decodeVideo(packet)
            } else if packet.streamIndex == source.audioStream, audioDecoder != nil {
                try decodeAudio(packet)
            } else if let alternate = alternateByStream[packet.streamIndex] {
                try decodeAlternate(packet, alternate)
            }
        }
        if stopped { return }
        if let skipper {
            for held in skipper.finishAtEnd() { try decodeVideo(held) }
        }
        if videoDecoder != nil { try decodeVideo(nil) }
        if audioDecoder != nil { try decodeAudio(nil) }
        for alternate in alternateByStream.values { try decodeAlternate(nil, alternate) }
    }

    /// Moves the timestamps of a packet of a stream the transcode uses past any jump back in the
    /// source's clock (joined recordings, a reset), so that every stream stays continuous (a
    /// jump in the video is reported), then, collapsing gaps, back by the holes cut before it.
    /// Returns false for a packet to leave out: one inside a cut hole.
    private func placeOnTimeline(_ packet: Packet) -> Bool {
        let index = packet.streamIndex
        guard index == source.videoStream || index == source.audioStream || alternateByStream[index] != nil else { return true }
        keepContinuous(packet, timeBase: input.stream(index).pointee.time_base)
        return collapse.map { moveOut(packet, of: $0, timeBase: input.stream(index).pointee.time_base) } ?? true
    }

    private func keepContinuous(_ packet: Packet, timeBase: AVRational) {
        let index = packet.streamIndex
        var keeper = continuity[index] ?? TimestampContinuity(timeBase: timeBase)
        let (decode, jump) = keeper.keep(packet)
        continuity[index] = keeper
        if let jump, index == source.videoStream, let decode {
            let placed = collapse?.clampedMap(decode + keeper.offset) ?? decode + keeper.offset
            let at = timeline.map { Double($0.relativeMicroseconds(placed, timeBase: videoTimeBase)) / 1e6 } ?? 0
            timelineReport.recordJump(atSeconds: at, seconds: Double(av_rescale_q(jump, videoTimeBase, MediaTimeline.microseconds)) / 1e6)
        }
    }

    /// Moves a packet (of a stream in `timeBase`) back by the cut holes before it; false when it
    /// lies in one (an audio packet by its middle, so that a cut's edge is within half a frame).
    private func moveOut(_ packet: Packet, of collapse: GapCollapse, timeBase: AVRational) -> Bool {
        guard let stamp = packet.presentationOrDecodeTime else { return true }
        let middle = packet.streamIndex == source.videoStream ? stamp : stamp + max(0, packet.duration) / 2
        guard let shift = collapse.shift(at: av_rescale_q(middle, timeBase, videoTimeBase)) else { return false }
        guard shift > 0 else { return true }
        let ticks = av_rescale_q(shift, videoTimeBase, timeBase)
        if packet.pts != noPTS { packet.pointer.pointee.pts -= ticks }
        if packet.dts != noPTS { packet.pointer.pointee.dts -= ticks }
        return true
    }

    /// A packet (nil drains) of another audio stream of the source. Its corrupt packets are
    /// counted apart: a damaged secondary track is left (silent), not the transcode.
    private func decodeAlternate(_ packet: Packet?, _ alternate: AlternateAudio) throws {
        guard case .stream(_, let decoder, _) = alternate.source, !alternate.abandoned else { return }
        let limit = pipeline.options.limits.maxCorruptPackets
        try decode(packet, with: decoder, stream: "audio", onCorrupt: { alternate.noteCorrupt($0, limit: limit) }) {
            try alternate.take(frame)
        }
    }

    /// Lets the alternate tracks lay their audio up to a little past `position` (microseconds on
    /// the timeline; a file is read as far as that), so their renditions can encode up to it.
    private func feedAlternates(upTo position: Int64) throws {
        for alternate in alternates { try alternate.feed(upTo: position) }
    }

    /// How far ahead of the video an alternate track's audio is laid (covers the limiter's
    /// lookahead and a frame).
    static let fileReadAhead: Int64 = 500_000

    private func checkCancelled() throws { try pipeline.cancel.check(reading: input.path) }

    private func noteDecodeError(_ error: Error, stream: String) throws {
        decodeErrors += 1
        if decodeErrors == 1 { warnings.append("corrupt \(stream) data skipped: \(error)") }
        let limit = pipeline.options.limits.maxCorruptPackets
        if decodeErrors > limit {
            throw TranscodeError.invalidInput("\(input.path): rejected: more than \(limit) corrupt packets (\(error))")
        }
    }

    /// Sends one packet (nil drains) and hands every decoded frame to `handle`. Corrupt data is
    /// counted and skipped, up to the limit.
    private func decode(_ packet: Packet?, with decoder: MediaDecoder, stream: String, onCorrupt: ((Error) throws -> Void)? = nil,
                        handle: () throws -> Void) throws {
        try decoder.decode(packet, into: frame, corrupt: onCorrupt ?? { try self.noteDecodeError($0, stream: stream) }, handle: handle)
    }

    private func decodeVideo(_ packet: Packet?) throws {
        guard let videoDecoder else { return }
        try decode(packet, with: videoDecoder, stream: "video") {
            guard source.isInterlaced else { return try handleVideoFrame(frame) }
            try deinterlacer(for: frame).push(frame)
            try drainDeinterlacer()
        }
        if packet == nil, let deinterlacer {
            try deinterlacer.push(nil)
            try drainDeinterlacer()
        }
    }

    /// The deinterlacer, made for the first decoded picture's size and format.
    private func deinterlacer(for picture: Frame) throws -> Deinterlacer {
        if let deinterlacer { return deinterlacer }
        let made = try Deinterlacer(width: picture.width, height: picture.height, pixelFormat: picture.format,
                                    timeBase: videoTimeBase, sampleAspect: picture.pointer.pointee.sample_aspect_ratio)
        warnings.append("the source is interlaced; its pictures are deinterlaced (bwdif)")
        deinterlacer = made
        deinterlaced = try Frame()
        return made
    }

    private func drainDeinterlacer() throws {
        guard let deinterlacer, let deinterlaced else { return }
        while try deinterlacer.pull(into: deinterlaced) { try handleVideoFrame(deinterlaced) }
    }

    private func decodeAudio(_ packet: Packet?) throws {
        guard let audioDecoder else { return }
        try decode(packet, with: audioDecoder, stream: "audio") {
            if source.isAudioOnly {
                try handleLeadingAudioFrame()
            } else if !mainAudioRenditions.isEmpty {
                for rendition in mainAudioRenditions { try rendition.push(frame, timeBase: audioTimeBase) }
            } else if timeline == nil, pendingAudio.count < 20_000 {
                pendingAudio.append(try Frame(referencing: frame))
            }
        }
    }

    /// Seconds of holes cut out of the timeline (the output is shorter than the source by as much).
    private var removedSeconds: Double {
        collapse.map { Double(av_rescale_q($0.removed, videoTimeBase, MediaTimeline.microseconds)) / 1e6 } ?? 0
    }

    private var defaultDuration: Int64 { Self.frameDuration(of: source, timeBase: videoTimeBase) }

    /// One frame of `source`'s nominal rate in `timeBase` ticks (at least one).
    static func frameDuration(of source: SourceInfo, timeBase: AVRational) -> Int64 {
        let rate = source.frameRate
        return max(1, av_rescale_q(1, AVRational(num: rate.den, den: rate.num), timeBase))
    }

    private func handleVideoFrame(_ frame: Frame) throws {
        // Packets handed over together (the pre-roll skipper's) may hold frames past a chunk's end.
        guard !stopped else { return }
        var timestamp = frame.timestamp
        if timestamp == noPTS { timestamp = (lastTimestamp ?? 0) + (lastTimestamp == nil ? 0 : lastDuration) }
        if let last = lastTimestamp, timestamp <= last {
            if !warnedNonMonotonic {
                warnings.append("video timestamps go backwards or repeat; renumbered to keep them increasing")
                warnedNonMonotonic = true
            }
            timestamp = last + max(1, lastDuration)
        }
        if case .plan = part {
            plannedFirstTimestamp = timestamp
            stopped = true
            return
        }
        let timeline = try timelineStarting(at: timestamp)
        var duration = frame.pointer.pointee.pkt_duration > 0 ? frame.pointer.pointee.pkt_duration : defaultDuration
        let relative = timeline.relativeMicroseconds(timestamp, timeBase: videoTimeBase)
        if let endMicroseconds, relative >= endMicroseconds {
            // A hole across the chunk's end: the picture before it fills the chunk to its end.
            if let last = lastTimestamp {
                let end = timeline.firstVideoTimestamp + av_rescale_q(endMicroseconds, MediaTimeline.microseconds, videoTimeBase)
                _ = try fillGap(after: last, before: timestamp, until: end, timeline: timeline)
            }
            stopped = true
            return
        }
        try checkDuration(relative, stream: "video")
        // The picture after a hole is a keyframe: x264 counts its interval in frames, which the hole spaced out.
        let filled = try lastTimestamp.map { try fillGap(after: $0, before: timestamp, timeline: timeline) } ?? false
        lastTimestamp = timestamp
        lastDuration = duration

        decodedFrames += 1
        if firstDecoded == nil { firstDecoded = relative }
        if source.needsDecimation {
            // Keep the first frame of each 1/60 s slot, lasting at least the slot. The 1 ms of slack
            // absorbs timestamps rounded down (a 120 fps frame at 16 666 µs belongs to slot 1).
            let slot = (relative + 1_000) * Int64(SourceInfo.maxOutputFrameRate) / 1_000_000
            if let last = lastKeptSlot, slot <= last { return }
            if lastKeptSlot == nil {
                warnings.append(String(format: "the source runs at up to %.0f fps; frames are dropped to at most %d fps",
                                       source.peakFrameRate, SourceInfo.maxOutputFrameRate))
            }
            lastKeptSlot = slot
            duration = max(duration, av_rescale_q(1, AVRational(num: 1, den: Int32(SourceInfo.maxOutputFrameRate)), videoTimeBase))
        }
        try present(frame, at: timestamp, duration: duration, timeline: timeline, keyframe: filled)
        lastPicture = try Frame(referencing: frame)
    }

    /// Hands one picture to every rung and to the picture sampler, then lets the audio follow it.
    private func present(_ frame: Frame, at timestamp: Int64, duration: Int64, timeline: MediaTimeline, keyframe: Bool = false) throws {
        let relative = timeline.relativeMicroseconds(timestamp, timeBase: videoTimeBase)
        let segment = timeline.segments.index(atMicroseconds: relative)
        let startsSegment = segment != lastSegment
        lastSegment = segment
        let output = timeline.outputVideoTimestamp(timestamp)
        for video in videos {
            var item = VideoWorkItem(frame: try Frame(referencing: frame), outputTimestamp: output,
                                     duration: duration, startsSegment: startsSegment)
            item.keyframe = keyframe
            if !video.queue.put(item) {
                throw video.failure ?? TranscodeError.cancelled
            }
        }
        try pictures?.offer(frame, atMicroseconds: relative)
        let end = relative + av_rescale_q(duration, videoTimeBase, MediaTimeline.microseconds)
        timelineEnd = max(timelineEnd, end)
        try feedAlternates(upTo: relative)
        for rendition in audioRenditions { try rendition.advance(toVideoMicroseconds: relative, videoSegment: segment) }
        reportProgress(atMicroseconds: relative)
    }

    /// Microseconds between the repeats of a held picture in a hole.
    static let heldPictureInterval: Int64 = 1_000_000
    /// Holes at least this long (microseconds) are held and reported; shorter ones are a jittery
    /// clock's (a phone alternating 33 and 67 ms frames), left as they are.
    static let reportedHole: Int64 = 250_000

    /// A hole in the video between the frame at `last` and the next at `next` (a recorder paused,
    /// frames dropped): the picture before it stays on screen, repeated every
    /// `heldPictureInterval` and at every segment boundary inside it (where it is an IDR), so no
    /// segment outgrows the target duration and the audio, laid by its own timestamps, stays in
    /// sync. Only holes of `reportedHole` or more are held and reported. Returns whether the
    /// picture was shown again.
    ///
    /// A video chunk that ends inside the hole (`until`, in ticks) shows it only that far; one
    /// that starts inside it (resuming too) shows it from its pre-roll on.
    private func fillGap(after last: Int64, before next: Int64, until: Int64? = nil, timeline: MediaTimeline) throws -> Bool {
        let nominal = min(lastDuration, defaultDuration)
        guard next - last > 2 * nominal, let picture = lastPicture else { return false }
        let lastMicroseconds = timeline.relativeMicroseconds(last, timeBase: videoTimeBase)
        let nextMicroseconds = timeline.relativeMicroseconds(next, timeBase: videoTimeBase)
        let holeStart = lastMicroseconds + av_rescale_q(nominal, videoTimeBase, MediaTimeline.microseconds)
        // A hole across a chunk's edge (its end, or the segment it starts with) is filled however
        // short it is: the chunk must reach that edge, or its join shows a gap.
        let acrossEdge = until != nil || skipper.map { $0.resumePoint > lastMicroseconds && $0.resumePoint < nextMicroseconds } ?? false
        let reported = nextMicroseconds - holeStart >= Self.reportedHole
        guard reported || acrossEdge else { return false }
        if reported {
            timelineReport.recordGap(atSeconds: Double(holeStart) / 1e6, seconds: Double(nextMicroseconds - holeStart) / 1e6)
        }
        // The held picture is shown again each second (a frame that repeats the one before costs
        // a few bytes; players expect pictures more often than once a segment) and at every
        // segment boundary, where it is an IDR.
        let step = Self.heldPictureInterval
        var times = Set<Int64>()
        var time = (lastMicroseconds / step + 1) * step
        while time < nextMicroseconds {
            times.insert(time)
            time += step
        }
        var segment = timeline.segments.index(atMicroseconds: lastMicroseconds) + 1
        while timeline.segments.startMicroseconds(ofSegment: segment) < nextMicroseconds {
            times.insert(timeline.segments.startMicroseconds(ofSegment: segment))
            segment += 1
        }
        let ticks = { (us: Int64) in timeline.firstVideoTimestamp + av_rescale_q(us, MediaTimeline.microseconds, self.videoTimeBase) }
        let from = skipper?.preRollStart ?? .min
        let end = min(next, until ?? next)
        var held = times.filter { ticks($0) > last && ticks($0) < end && $0 >= from }.sorted()
        // A chunk ending before the next whole second or boundary still shows the picture up to its end.
        if until != nil, held.isEmpty, ticks(holeStart) > last, ticks(holeStart) < end { held = [holeStart] }
        for (index, start) in held.enumerated() {
            let shownUntil = index + 1 < held.count ? ticks(held[index + 1]) : end
            // A keyframe every interval (x264 counts its own interval in frames, which a hole spaces out).
            let keyframe = start % Int64(VideoRendition.keyframeInterval * 1_000_000) == 0
            try present(picture, at: ticks(start), duration: max(1, shownUntil - ticks(start)), timeline: timeline, keyframe: keyframe)
            if start >= firstWrittenSegment.map(timeline.segments.startMicroseconds(ofSegment:)) ?? 0 { heldFrames += 1 }
        }
        return !held.isEmpty
    }

    /// An audio-only source: the audio frame anchors the timeline (the first one) and is encoded
    /// at once; the duration limit is checked before a frame can open a long gap of silence.
    private func handleLeadingAudioFrame() throws {
        let timestamp = frame.timestamp
        let timeline = try timelineStarting(at: timestamp == noPTS ? 0 : timestamp)
        if timestamp != noPTS {
            let relative = timeline.relativeMicroseconds(timestamp, timeBase: audioTimeBase)
            try checkDuration(relative, stream: "audio")
        }
        for rendition in mainAudioRenditions {
            try rendition.push(frame, timeBase: audioTimeBase)
            try rendition.advanceAlone()
        }
        reportProgress(atMicroseconds: audio?.placedMicroseconds ?? 0)
    }

    private func checkDuration(_ relativeMicroseconds: Int64, stream: String) throws {
        let maxDuration = pipeline.options.limits.maxDuration
        if Double(relativeMicroseconds) / 1_000_000 > maxDuration {
            throw TranscodeError.invalidInput(String(format: "%@: rejected: %@ runs past the duration limit of %.0f s",
                                                     input.path, stream, maxDuration))
        }
    }

    private func reportProgress(atMicroseconds position: Int64) {
        let now = Date()
        if now.timeIntervalSince(lastProgress) >= 0.25 {
            lastProgress = now
            pipeline.reportProgress(mediaSeconds: Double(position) / 1_000_000, frames: decodedFrames,
                                    duration: source.durationSeconds.map { $0 - removedSeconds })
        }
    }

    /// The timeline, created (with every rendition) at the first decoded video frame (audio frame
    /// for an audio-only source).
    private func timelineStarting(at timestamp: Int64) throws -> MediaTimeline {
        if let timeline { return timeline }
        let timeline = MediaTimeline(videoTimeBase: videoTimeBase, firstVideoTimestamp: timestamp,
                                     segments: SegmentTimeline(seconds: pipeline.options.segmentDuration))
        self.timeline = timeline
        let options = pipeline.options
        let shares = coreShares()
        // Resuming or encoding a part, every encoder runs with the threading the plan recorded
        // (x264's bytes depend on it).
        let pinned = session?.plan?.renditions ?? part.plan?.renditions
        if let pinned, !plans.isEmpty, pinned.map(\.folder) != plans.map(\.name) {
            throw ResumeMismatch("the renditions differ from the plan's")
        }
        if let videoStream = source.videoStream {
            let colors = ColorProperties(from: input.stream(videoStream).pointee.codecpar)
            for (index, plan) in plans.enumerated() {
                let rendition = try VideoRendition(
                    plan: plan, directory: pipeline.directory.appendingPathComponent(plan.name), timeline: timeline,
                    frameRate: source.outputFrameRate, rotation: source.geometry.rotation, colors: colors,
                    options: options, threads: pinned?[index].threads ?? shares.encoderThreads[index],
                    sliced: pinned?[index].slicedThreads ?? shares.slicedThreads[index],
                    nice: shares.encoderNice[index], weights: pipeline.weights, kept: session?.kept(plan.name, video: true) ?? .none,
                    firstWritten: firstWrittenSegment)
                videos.append(rendition)
            }
        }
        if audioDecoder != nil {
            func rendition(_ folder: String, bitrate: Int) throws -> AudioRendition {
                try AudioRendition(directory: pipeline.directory.appendingPathComponent(folder), timeline: timeline,
                                   sourceSampleRate: source.audioSampleRate, bitrate: bitrate,
                                   label: mainLabel, format: options.segmentFormat,
                                   notify: options.onSegment, kept: session?.kept(folder, video: false) ?? .none,
                                   loudness: loudness)
            }
            audio = try rendition(mainLabel.folder, bitrate: options.audioBitrate)
            if let bitrate = options.audioOnlyVariantBitrate {
                lowBandwidthAudio = try rendition(Self.lowBandwidthAudioFolder(bitrate: bitrate), bitrate: bitrate)
            }
        }
        let relativeCollapse = collapse?.converted { timeline.relativeMicroseconds($0, timeBase: self.videoTimeBase) }
        for alternate in alternates {
            try alternate.start(directory: pipeline.directory, timeline: timeline, options: options,
                                kept: session?.kept(alternate.label.folder, video: false) ?? .none, collapse: relativeCollapse)
        }
        try startJournal(timeline: timeline)
        try startPictures()
        try startPublisher()
        if audioDecoder != nil {
            for pending in pendingAudio {
                for rendition in mainAudioRenditions { try rendition.push(pending, timeBase: audioTimeBase) }
            }
            pendingAudio.removeAll()
        }
        for video in videos { video.start() }
        // After every codec is open: threads libavcodec and x264 start inherit their opener's nice.
        pipeline.weights.registerCurrentThread(increment: shares.decoderNice)
        pipeline.weights.begin(planned: shares.decoderNice > 0 || shares.encoderNice.contains { $0 > 0 })
        return timeline
    }

    /// Source time of the first video frame from the container's start, in seconds (never negative).
    private var videoStartInSource: Double {
        timeline.map { sourceOffset(ofFirstTimestamp: $0.firstVideoTimestamp) } ?? 0
    }

    private func sourceOffset(ofFirstTimestamp first: Int64) -> Double {
        let seconds = Double(av_rescale_q(first, videoTimeBase, MediaTimeline.microseconds)) / 1_000_000
        return max(0, seconds - input.startSeconds)
    }

    /// Makes the publisher every rendition reports its segments to (publishing them as they come
    /// when the transcode is progressive, with the subtitle segments beside the timing rendition).
    private func startPublisher() throws {
        let directory = pipeline.directory
        let options = pipeline.options
        let format = options.segmentFormat
        let reference = videos.first
        var firstPTS: Int64? = source.isAudioOnly ? Self.audioOnlyFirstPTS90k : nil
        let subtitleWriter = !options.progressive || subtitles.isEmpty ? nil
            : try ProgressiveSubtitles(tracks: subtitles, directory: directory, sourceOffset: videoStartInSource) {
                if firstPTS == nil, let reference {
                    let folder = directory.appendingPathComponent(reference.directoryName)
                    firstPTS = try? FirstPresentationTime.read(renditionFolder: folder,
                                                               firstSegment: reference.log.closedRecord(0)?.uri ?? "", format: format)
                }
                return firstPTS
            }
        let audioOnly = Self.audioOnlyVariants(main: audio, lowBandwidth: lowBandwidthAudio, audioOnlySource: source.isAudioOnly)
        let publisher = HLSPublisher(
            directory: directory, format: format, segmentDuration: options.segmentDuration,
            frameRate: source.outputPeakFrameRate, videos: videos.map(\.summary),
            audio: source.isAudioOnly ? [] : ([audio].compactMap { $0 } + alternates.compactMap(\.rendition)).map { $0.summary(variant: false) },
            audioOnly: audioOnly.map { $0.summary(variant: true) }, progressive: options.progressive, subtitles: subtitleWriter,
            sessionData: pipeline.chapters == nil ? [] : [LoadedChapters.sessionData])
        // The journal first: a segment is durable before a playlist lists it. A part's segments go
        // to the chunk's collector too.
        let listeners: [SegmentListener] = [session?.journal, pipeline.collector].compactMap { $0 } + [publisher]
        let listener: SegmentListener = listeners.count == 1 ? publisher : SegmentListeners(listeners)
        for video in videos { video.listener = listener }
        for audio in audioRenditions { audio.listener = listener }
        self.publisher = publisher
    }

    /// A fresh run writes its plan now that the timeline and the encoders' threading are known (a
    /// video source only); the journal then takes every rendition's init section.
    private func startJournal(timeline: MediaTimeline) throws {
        guard let session, !source.isAudioOnly else { return }
        if session.plan == nil {
            let renditions = videos.map { ResumePlan.Rendition(folder: $0.directoryName, threads: $0.threads, slicedThreads: $0.sliced) }
            guard let plan = session.makePlan(firstTimestamp: timeline.firstVideoTimestamp,
                                              timeBase: (videoTimeBase.num, videoTimeBase.den), renditions: renditions) else { return }
            do { try session.begin(plan) } catch { throw DecodeLoop.classify(error) }
        }
        guard let journal = session.journal else { return }
        for video in videos { journal.commitInit(rendition: video.directoryName, video.initFile) }
        for audio in audioRenditions { journal.commitInit(rendition: audio.directoryName, audio.initFile) }
    }

    /// The storyboard and poster sampler, for a whole transcode of a video source that asks for either.
    private func startPictures() throws {
        let options = pipeline.options
        guard case .whole = part, options.storyboard || options.poster, !source.isAudioOnly,
              let top = plans.max(by: { $0.width * $0.height < $1.width * $1.height }) else { return }
        let kept = session?.kept(StoryboardLayout.folder, video: false)
        do {
            pictures = try PictureSampler(
                settings: .init(storyboard: options.storyboard, posterSize: options.poster ? (top.width, top.height) : nil),
                directory: pipeline.directory, durationSeconds: source.durationSeconds.map { $0 - removedSeconds },
                displayWidth: source.geometry.displayWidth, displayHeight: source.geometry.displayHeight,
                rotation: source.geometry.rotation, journal: session?.journal,
                kept: (kept?.entries ?? []) + [kept?.initSection].compactMap { $0 })
        } catch {
            throw DecodeLoop.classify(error)
        }
    }

    /// Resuming: the timeline starts at the plan's first timestamp (before anything is decoded),
    /// and the video before the pre-roll is skipped.
    private func startResumed() throws {
        guard let session, let plan = session.plan, let point = session.point, !source.isAudioOnly else { return }
        guard plan.timeBaseNumerator == videoTimeBase.num, plan.timeBaseDenominator == videoTimeBase.den else {
            throw ResumeMismatch("the video time base differs from the plan's")
        }
        let timeline = try timelineStarting(at: plan.firstTimestamp)
        if point.fromSegment > 0 {
            skipper = PreRollSkipper(resumePoint: timeline.segments.startMicroseconds(ofSegment: point.fromSegment),
                                     preRoll: Int64(pipeline.options.resumePreRollSeconds * 1_000_000))
        }
    }

    /// A part of a split transcode: the timeline starts at the plan's origin; a video chunk skips
    /// to its pre-roll and ends at its last segment's end; the audio part skips the whole video
    /// (holding its last pictures, decoded at the end to find where it ends).
    private func startPart() throws {
        guard let plan = part.plan else { return }
        guard plan.timeBaseNumerator == videoTimeBase.num, plan.timeBaseDenominator == videoTimeBase.den else {
            throw TranscodeError.invalidInput("\(input.path): the video time base differs from the plan's")
        }
        let timeline = try timelineStarting(at: plan.firstTimestamp)
        switch part {
        case .video(let first, let end, _):
            if first > 0 {
                skipper = PreRollSkipper(resumePoint: timeline.segments.startMicroseconds(ofSegment: first),
                                         preRoll: Int64(pipeline.options.resumePreRollSeconds * 1_000_000))
            }
            endMicroseconds = end.map { timeline.segments.startMicroseconds(ofSegment: $0) }
        case .audio:
            skipper = PreRollSkipper(resumePoint: Int64.max / 2, preRoll: 0)
        case .whole, .plan:
            break
        }
    }

    /// The first segment the video renditions write: a chunk's first, else 0 (or what resuming keeps).
    private var firstWrittenSegment: Int? {
        if case .video(let first, _, _) = part { return first }
        return nil
    }

    /// Offers a video packet to the skipper, keeping the audio moving with the video's position
    /// while the video is skipped. Returns the packets to decode now.
    private func skip(_ packet: Packet, with skipper: PreRollSkipper) throws -> [Packet] {
        guard let timeline else { return [packet] }
        skippedVideoPackets += 1
        let stamp = packet.pts != noPTS ? packet.pts : packet.dts
        let time = stamp == noPTS ? nil : timeline.relativeMicroseconds(stamp, timeBase: videoTimeBase)
        let handed = try skipper.offer(packet, time: time)
        if handed.isEmpty, let time, time >= 0 {
            let segment = timeline.segments.index(atMicroseconds: time)
            try feedAlternates(upTo: time)
            for rendition in audioRenditions { try rendition.advance(toVideoMicroseconds: time, videoSegment: segment) }
            reportProgress(atMicroseconds: time)
        }
        return handed
    }

    /// The audio renditions that are variants of their own, in this order: an audio-only
    /// source's main audio, then the low-bandwidth one when asked for.
    static func audioOnlyVariants(main: AudioRendition?, lowBandwidth: AudioRendition?, audioOnlySource: Bool) -> [AudioRendition] {
        (audioOnlySource ? [main].compactMap { $0 } : []) + [lowBandwidth].compactMap { $0 }
    }

    /// Folder of the low-bandwidth audio-only variant: `audio-64k`.
    static func lowBandwidthAudioFolder(bitrate: Int) -> String { "audio-\(bitrate / 1000)k" }

    /// X-TIMESTAMP-MAP's MPEGTS for an audio-only set: its first sample is at the timeline's offset.
    static let audioOnlyFirstPTS90k = MediaTimeline.offsetSeconds * 90_000

    private func complete() throws -> Outcome {
        if source.isAudioOnly {
            guard let audio, audio.placedMicroseconds > 0 else {
                throw TranscodeError.invalidInput("\(input.path): no audio could be decoded")
            }
            for rendition in audioRenditions { try rendition.finish(videoEndMicroseconds: nil, lastVideoSegment: Int.max) }
            timelineEnd = audio.placedMicroseconds
        } else {
            guard decodedFrames > 0 else {
                throw TranscodeError.invalidInput("\(input.path): no video frame could be decoded")
            }
        }
        for video in videos { video.queue.close() }
        if !source.isAudioOnly {
            for alternate in alternates {
                try alternate.feedToEnd(videoEnd: timelineEnd)
                if let warning = alternate.lengthWarning(videoEnd: timelineEnd) { warnings.append(warning) }
                if case .file(let reader) = alternate.source { warnings += reader.warnings }
                warnings += alternate.warnings
            }
            for rendition in audioRenditions {
                try rendition.finish(videoEndMicroseconds: timelineEnd, lastVideoSegment: max(0, lastSegment))
            }
        }
        pipeline.weights.end()  // before the rung threads end (see stopAll)
        for video in videos { video.join() }
        if let failure = videos.compactMap(\.failure).first { throw failure }
        guard let publisher else { throw TranscodeError.invalidInput("\(input.path): nothing could be decoded") }
        if let failure = publisher.failure { throw failure }
        pipeline.reportProgress(mediaSeconds: Double(timelineEnd) / 1_000_000, frames: decodedFrames,
                                duration: Double(timelineEnd) / 1_000_000)
        if part.encodesAudio || source.isAudioOnly, let declared = source.durationSeconds.map({ $0 - removedSeconds }), declared > 1, Double(timelineEnd) / 1_000_000 < declared * 0.9 - 0.5 {
            warnings.append(String(format: "the %@ ends at %.2f s but the container says %.2f s: the file may be truncated",
                                   source.isAudioOnly ? "audio" : "video", Double(timelineEnd) / 1_000_000, declared))
        }
        if let failure = session?.journal?.failure { throw failure }
        if let collapse, let timeline {
            timelineReport.collapsed = true
            timelineReport.removedSeconds = 0
            for place in collapse.places where place.at >= timeline.firstVideoTimestamp {
                timelineReport.recordRemoved(atSeconds: Double(timeline.relativeMicroseconds(place.at, timeBase: videoTimeBase)) / 1e6,
                                             seconds: Double(av_rescale_q(place.length, videoTimeBase, MediaTimeline.microseconds)) / 1e6)
            }
        }
        // From the first decoded frame up to the resume point, or to the end when every segment was kept.
        let preRoll: Int64 = skipper.map { skipper in
            let end = min(skipper.resumePoint, timelineEnd)
            return max(0, end - (firstDecoded ?? end))
        } ?? 0
        return Outcome(videos: videos, audio: audio, alternates: alternates, lowBandwidthAudio: lowBandwidthAudio, decodedFrames: decodedFrames,
                       durationSeconds: Double(timelineEnd) / 1_000_000, warnings: warnings + (audio?.warnings ?? [])
                           + alternates.compactMap(\.rendition).flatMap { rendition in rendition.warnings.map { "\(rendition.directoryName): \($0)" } },
                       videoStartInSource: videoStartInSource, publisher: publisher,
                       preRollSeconds: Double(preRoll) / 1_000_000, preRollFrames: videos.map(\.preRollPackets).max() ?? 0,
                       skippedVideoPackets: skippedVideoPackets, pictures: pictures, timeline: timelineReport, heldFrames: heldFrames)
    }

    /// x264 threads and thread weights for this ladder on this machine, with the options' overrides.
    private func coreShares() -> CoreShares {
        let options = pipeline.options
        return CoreShares(rungPixels: plans.map { $0.width * $0.height },
                          cores: ProcessInfo.processInfo.activeProcessorCount,
                          decoderThreads: Int(videoDecoder?.context.pointee.thread_count ?? 1))
            .overriding(encoderThreads: options.encoderThreads, weighted: options.weightsThreads)
    }

    /// Turns low-level failures into the engine's error kinds.
    static func classify(_ error: Error) -> Error {
        switch error {
        case let error as TranscodeError: return error
        case let error as SinkError:
            return TranscodeError.io(error.description)
        case let error as LibAVError:
            if error.code == hlsify_averror(ENOSPC) || error.code == hlsify_averror(EIO) {
                return TranscodeError.io(error.description)
            }
            return TranscodeError.engine(error)
        default:
            return error
        }
    }
}
