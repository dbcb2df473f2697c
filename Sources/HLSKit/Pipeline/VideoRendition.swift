import CFFmpeg
import Foundation

/// One decoded frame on its way to one rendition: a reference to the shared decoder buffers
/// (no pixel copy) plus where it sits on the output timeline.
struct VideoWorkItem: @unchecked Sendable {  // hand-off of a reference-counted frame: once queued, the decoding thread no longer touches it
    let frame: Frame
    let outputTimestamp: Int64
    let duration: Int64
    let startsSegment: Bool
    /// An I frame without a cut (a held picture in a hole, every `VideoRendition.keyframeInterval`).
    var keyframe = false
}

/// One rung of the ladder: scales the shared decoded frames to its size, encodes H.264 and cuts
/// segments, on a thread of its own behind a bounded queue.
final class VideoRendition: @unchecked Sendable {  // set up before start(), then mutated only on its own thread, read after join()
    let plan: RenditionPlan
    let directoryName: String
    let queue: BoundedQueue<VideoWorkItem>
    let encoder: MediaEncoder
    let threads: Int
    /// Whether x264's threads encode slices of one frame (see `CoreShares`).
    let sliced: Bool
    /// Nice increment this rendition's thread takes when it starts.
    let nice: Int
    /// Takes this rendition's thread with its `nice` increment.
    private let weights: ThreadWeights?
    let gop: Int
    /// VIDEO-RANGE of the output: from the colour transfer copied from the source.
    let videoRange: VideoRange
    private let scaler: Scaler
    private let writer: SegmentWriter
    private let timeline: MediaTimeline
    private let rotation: Int
    private let packet: Packet
    private var durations: [Int64: Int64] = [:]
    private var currentSegment: Int?
    private(set) var log = SegmentLog()
    private(set) var encodedFrames = 0
    /// Segments below this index are kept from an earlier run: packets for them are dropped.
    private let firstWritten: Int
    /// Packets the encoder made before `firstWritten` (the pre-roll), dropped.
    private(set) var preRollPackets = 0
    private(set) var codecString: String?
    /// Decodes the written packets back and measures them, with `TranscodeOptions.measureQuality`.
    private let meter: QualityMeter?
    private(set) var failure: Error?
    private var thread: WorkerThread?
    /// Told of each finished segment and of the stream's end, on this rendition's thread. Set
    /// before `start()`.
    var listener: SegmentListener?

    /// - Parameters:
    ///   - kept: resuming: the segments an earlier run committed, which this one neither writes nor
    ///     logs again (what the encoder makes of them is pre-roll, dropped).
    ///   - firstWritten: a time chunk: the first segment it writes (what comes before is pre-roll).
    init(plan: RenditionPlan, directory: URL, timeline: MediaTimeline, frameRate: AVRational, rotation: Int,
         colors: ColorProperties, options: TranscodeOptions, threads: Int, sliced: Bool, nice: Int, weights: ThreadWeights? = nil,
         kept: KeptSegments = .none, firstWritten: Int? = nil) throws {
        self.plan = plan
        self.directoryName = directory.lastPathComponent
        self.timeline = timeline
        self.rotation = rotation
        self.threads = threads
        self.sliced = sliced
        self.nice = nice
        self.weights = weights
        videoRange = colors.videoRange
        queue = BoundedQueue(capacity: options.queueCapacity)
        packet = try Packet()
        scaler = try Scaler(width: plan.width, height: plan.height, rotation: rotation)
        let gop = Self.gop(frameRate: frameRate, segmentDuration: options.segmentDuration)
        self.gop = gop
        let globalHeader = options.segmentFormat.muxerWantsGlobalHeader
        encoder = try MediaEncoder(name: "libx264", options: [
            ("preset", options.preset),
            ("profile", "high"),
            ("forced-idr", "1"),
        ] + (plan.encoder.crf.map { [("crf", String(format: "%g", $0))] } ?? [])
          + (sliced ? [("x264-params", "sliced-threads=1")] : [])) { context in
            context.pointee.width = Int32(plan.width)
            context.pointee.height = Int32(plan.height)
            context.pointee.pix_fmt = AV_PIX_FMT_YUV420P
            context.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
            context.pointee.time_base = timeline.videoTimeBase
            if frameRate.num > 0 && frameRate.den > 0 { context.pointee.framerate = frameRate }
            // With a CRF the bitrate stays unset: x264 runs constant quality under the VBV ceiling.
            context.pointee.bit_rate = plan.encoder.crf == nil ? Int64(plan.encoder.bitrate) : 0
            context.pointee.rc_max_rate = Int64(plan.encoder.maxrate)
            context.pointee.rc_buffer_size = Int32(plan.encoder.bufsize)
            context.pointee.gop_size = Int32(gop)
            context.pointee.level = Int32(plan.h264Level)
            context.pointee.thread_count = Int32(threads)
            colors.apply(to: context)
            if globalHeader { context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        writer = try SegmentWriter(format: options.segmentFormat, directory: directory, encoder: encoder,
                                   committed: kept.committed, firstFragment: kept.nextFragment, continuity: kept.continuity)
        if globalHeader { codecString = CodecString.avc1(fromExtradata: encoder.extradata) }
        meter = options.measureQuality ? try QualityMeter(encoder: encoder) : nil
        self.firstWritten = firstWritten ?? kept.entries.count
        log.seed(kept.entries)
        encodedFrames = kept.entries.reduce(0) { $0 + $1.frames }
        let notify = options.onSegment
        writer.onSegment = { [unowned self] written in
            guard let finished = self.log.finish(written, rendition: self.directoryName, codecs: self.codecString) else { return }
            self.listener?.segmentFinished(finished)
            notify?(SegmentEvent(folder: self.directoryName, index: written.index, file: written.name, bytes: written.bytes, log: self.log))
        }
    }

    /// The init section as written (fMP4), for the journal.
    var initFile: FileSink.Written? { writer.initFile }

    /// This rendition as the output side sees it (provisional bandwidths: maxrate and target).
    var summary: RenditionSummary {
        RenditionSummary(folder: directoryName, role: .video(width: plan.width, height: plan.height, videoRange: videoRange),
                         provisional: BandwidthStats(peak: plan.encoder.maxrate, average: plan.encoder.bitrate), codecs: codecString)
    }

    /// What the written segments deliver, with `TranscodeOptions.measureQuality` (after `join()`).
    var qualitySums: QualitySums? { meter?.sums }

    /// The report's quality of this rendition, when measured and at least one frame was (a resumed
    /// rendition that kept every segment measures none).
    var quality: TranscodeReport.Quality? {
        qualitySums.flatMap { $0.frames > 0 ? TranscodeReport.Quality(sums: $0) : nil }
    }

    /// Longest time between two keyframes, seconds.
    static let keyframeInterval = 2.0

    /// x264's keyframe interval, frames: boundaries force IDR frames; between them x264 adds one at
    /// least every 2 s (Apple's HLS authoring spec 1.13: players seek and switch only at keyframes).
    static func gop(frameRate: AVRational, segmentDuration: Double) -> Int {
        let fps = frameRate.num > 0 && frameRate.den > 0 ? Double(frameRate.num) / Double(frameRate.den) : 25
        return max(1, Int((min(keyframeInterval, segmentDuration) * fps).rounded()))
    }

    /// Starts the encoding thread.
    func start() {
        let thread = WorkerThread(name: "hlsify-\(plan.name)") { [self] in
            weights?.registerCurrentThread(increment: nice)
            do {
                while let item = queue.take() {
                    try encode(item)
                }
                try flush()
            } catch {
                failure = error
                queue.abort()
            }
        }
        self.thread = thread
        thread.start()
    }

    /// Waits for the thread to finish (after `queue.close()` or `queue.abort()`).
    func join() {
        thread?.join()
        thread = nil  // the thread's closure holds this rendition: break the cycle
    }

    private func encode(_ item: VideoWorkItem) throws {
        let source = item.frame
        let input: Frame
        if rotation == 0, source.width == plan.width, source.height == plan.height,
           source.format == AV_PIX_FMT_YUV420P.rawValue {
            input = source  // same size and format: encode the decoder's buffers directly
        } else {
            input = try scaler.scale(source)
        }
        input.pointer.pointee.pts = item.outputTimestamp
        let keyframe = item.startsSegment || item.keyframe
        input.pointer.pointee.pict_type = keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE
        input.pointer.pointee.key_frame = keyframe ? 1 : 0
        durations[item.outputTimestamp] = item.duration
        try meter?.hold(input, timestamp: item.outputTimestamp)
        try encoder.send(input)
        try drain()
    }

    private func flush() throws {
        try encoder.send(nil)
        try drain()
        try meter?.finish()
        try writer.finish()
        listener?.streamEnded(rendition: directoryName, records: log.records(), codecs: codecString)
    }

    private func drain() throws {
        while try encoder.receive(into: packet) {
            let pts = packet.pts
            let duration = durations.removeValue(forKey: pts) ?? 0
            packet.pointer.pointee.duration = duration
            var segment = currentSegment ?? 0
            if packet.isKeyframe {
                let index = timeline.segments.index(atMicroseconds: timeline.microseconds(ofOutputVideo: pts))
                if currentSegment == nil || index > segment { segment = index }
            }
            if codecString == nil, packet.isKeyframe {
                codecString = CodecString.avc1(fromExtradata: packet.bytes)
            }
            currentSegment = segment
            if segment < firstWritten {
                meter?.discard(timestamp: pts)
                preRollPackets += 1
                packet.unref()
                continue
            }
            encodedFrames += 1
            log.addMedia(segment: segment, start: timeline.seconds(ofOutputVideo: pts), duration: timeline.seconds(ticks: duration))
            try meter?.measure(packet)
            try writer.write(packet, segment: segment)
        }
    }
}

/// Colour description copied from the source to every encoder, so players show the same colours.
struct ColorProperties {
    var primaries = AVCOL_PRI_UNSPECIFIED
    var transfer = AVCOL_TRC_UNSPECIFIED
    var space = AVCOL_SPC_UNSPECIFIED

    init(from codecParameters: UnsafeMutablePointer<AVCodecParameters>) {
        primaries = codecParameters.pointee.color_primaries
        transfer = codecParameters.pointee.color_trc
        space = codecParameters.pointee.color_space
    }

    /// PQ or HLG when the transfer says so; SDR for everything else, unspecified included.
    var videoRange: VideoRange { VideoRange(transferCharacteristics: Int(transfer.rawValue)) }

    func apply(to context: UnsafeMutablePointer<AVCodecContext>) {
        context.pointee.color_primaries = primaries
        context.pointee.color_trc = transfer
        context.pointee.colorspace = space
        context.pointee.color_range = AVCOL_RANGE_MPEG
    }
}
