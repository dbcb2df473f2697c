import CFFmpeg
import Foundation

/// An opened source container (`AVFormatContext`), read packet by packet; `deinit` closes it.
///
/// Only the `file` protocol is allowed: a source can never make libavformat open a URL.
final class InputFile {
    private var context: UnsafeMutablePointer<AVFormatContext>?
    let path: String
    /// Kept for as long as the context: libavformat holds it unretained as the interrupt callback's opaque.
    private let interrupt: InterruptFlag?

    /// What the container header declares, before streams are probed.
    struct Header {
        var streams: Int
        var pictureSizes: [(Int, Int)]
    }

    /// Opens `path` as a local file (never as a URL or protocol name) and probes its streams.
    /// - Parameters:
    ///   - interrupt: polled during libavformat's blocking calls, which stop once it counts as raised.
    ///   - containers: demuxers allowed (libavformat names); empty allows any.
    ///   - maxStreams, probeBytes, analyzeMicroseconds: probing limits.
    ///   - maxPixels: passed to every decoder libavformat opens while probing.
    ///   - checkHeader: called after the header is read and before probing; throw to stop.
    /// - Throws: `LibAVError` from `avformat_open_input` / `avformat_find_stream_info`, or what
    ///   `checkHeader` throws.
    init(path: String, interrupt: InterruptFlag? = nil, containers: [String] = [], maxStreams: Int = 1000,
         probeBytes: Int = 5_000_000, analyzeMicroseconds: Int = 5_000_000, maxPixels: Int? = nil,
         checkHeader: ((Header) throws -> Void)? = nil) throws {
        self.path = path
        self.interrupt = interrupt
        guard let allocated = avformat_alloc_context() else {
            throw LibAVError.allocation("avformat_alloc_context")
        }
        if let interrupt {
            allocated.pointee.interrupt_callback.callback = interruptCallback
            allocated.pointee.interrupt_callback.opaque = Unmanaged.passUnretained(interrupt).toOpaque()
        }
        var options: OpaquePointer?
        defer { av_dict_free(&options) }
        av_dict_set(&options, "protocol_whitelist", "file", 0)
        if !containers.isEmpty { av_dict_set(&options, "format_whitelist", containers.joined(separator: ","), 0) }
        av_dict_set(&options, "max_streams", String(maxStreams), 0)
        av_dict_set(&options, "probesize", String(probeBytes), 0)
        av_dict_set(&options, "analyzeduration", String(analyzeMicroseconds), 0)
        av_dict_set(&options, "enable_drefs", "0", 0)
        var context: UnsafeMutablePointer<AVFormatContext>? = allocated
        // "file:" + absolute path: a name like "concat:a|b" or "http://…" is only ever a local file name.
        let url = "file:" + InputFile.absolute(path)
        // On failure avformat_open_input frees the context and sets it to NULL.
        try check(avformat_open_input(&context, url, nil, &options), "avformat_open_input")
        self.context = context
        let count = Int(context!.pointee.nb_streams)
        if let checkHeader {
            var sizes: [(Int, Int)] = []
            for index in 0..<count {
                let parameters = context!.pointee.streams[index]!.pointee.codecpar!.pointee
                if parameters.codec_type == AVMEDIA_TYPE_VIDEO, parameters.width > 0, parameters.height > 0 {
                    sizes.append((Int(parameters.width), Int(parameters.height)))
                }
            }
            try checkHeader(Header(streams: count, pictureSizes: sizes))
        }
        if checkHeader != nil { discardAllButFirstStreams(count: count) }
        // Probing decoders: one thread each and the picture-size cap, so a header that lies cannot
        // make them allocate huge frames.
        var streamOptions = [OpaquePointer?](repeating: nil, count: max(count, 1))
        defer { for index in streamOptions.indices { av_dict_free(&streamOptions[index]) } }
        for index in 0..<count {
            av_dict_set(&streamOptions[index], "threads", "1", 0)
            if let maxPixels { av_dict_set(&streamOptions[index], "max_pixels", String(maxPixels), 0) }
        }
        let found = streamOptions.withUnsafeMutableBufferPointer { buffer in
            avformat_find_stream_info(context, count > 0 ? buffer.baseAddress : nil)
        }
        try check(found, "avformat_find_stream_info")
    }

    /// Audio streams kept for probing (each may become an audio rendition).
    static let maxAudioStreams = 8

    /// Before probing, keeps only the first video stream (not cover art) and the first
    /// `maxAudioStreams` audio streams, so other streams are neither probed nor decoded.
    private func discardAllButFirstStreams(count: Int) {
        var keptVideo = false, keptAudio = 0
        for index in 0..<count {
            let stream = formatContext.pointee.streams[index]!
            let type = stream.pointee.codecpar.pointee.codec_type
            let cover = stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0
            if type == AVMEDIA_TYPE_VIDEO && !cover && !keptVideo { keptVideo = true; continue }
            if type == AVMEDIA_TYPE_AUDIO && keptAudio < Self.maxAudioStreams { keptAudio += 1; continue }
            stream.pointee.discard = AVDISCARD_ALL
        }
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self) + "/" + path
    }

    /// The container libavformat guesses for `path` from its first bytes, without opening a demuxer
    /// (so nothing the file refers to is ever read). Nil when nothing matches.
    static func probeFormatName(path: String) -> String? {
        var io: UnsafeMutablePointer<AVIOContext>?
        var options: OpaquePointer?
        av_dict_set(&options, "protocol_whitelist", "file", 0)
        defer { av_dict_free(&options) }
        guard avio_open2(&io, "file:" + absolute(path), AVIO_FLAG_READ, nil, &options) >= 0, let io else { return nil }
        defer { var pointer: UnsafeMutablePointer<AVIOContext>? = io; avio_closep(&pointer) }
        var format: UnsafePointer<AVInputFormat>?
        guard av_probe_input_buffer2(io, &format, nil, nil, 0, 1 << 20) >= 0, let name = format?.pointee.name else { return nil }
        return String(cString: name)
    }

    deinit { avformat_close_input(&context) }

    private var formatContext: UnsafeMutablePointer<AVFormatContext> { context! }

    var streamCount: Int { Int(formatContext.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> {
        formatContext.pointee.streams[index]!
    }

    /// Where the container's timeline starts (what players show as 00:00), in seconds; 0 if unknown.
    var startSeconds: Double {
        let start = formatContext.pointee.start_time
        return start == noPTS ? 0 : Double(start) / Double(AV_TIME_BASE)
    }

    /// Container duration in seconds, if known.
    var durationSeconds: Double? {
        let duration = formatContext.pointee.duration
        guard duration != noPTS, duration > 0 else { return nil }
        return Double(duration) / Double(AV_TIME_BASE)
    }

    var formatName: String {
        guard let name = formatContext.pointee.iformat?.pointee.name else { return "unknown" }
        return String(cString: name)
    }

    /// The best stream of `type`, skipping attached pictures (cover art); nil when there is none.
    func bestStream(_ type: AVMediaType) -> Int? {
        let index = av_find_best_stream(formatContext, type, -1, -1, nil, 0)
        guard index >= 0 else { return nil }
        let chosen = stream(Int(index)).pointee
        if chosen.disposition & AV_DISPOSITION_ATTACHED_PIC != 0 || chosen.discard == AVDISCARD_ALL {
            for candidate in 0..<streamCount {
                let st = stream(candidate)
                if st.pointee.codecpar.pointee.codec_type == type, st.pointee.discard != AVDISCARD_ALL,
                   st.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0 {
                    return candidate
                }
            }
            return nil
        }
        return Int(index)
    }

    /// Opens `path` within `limits` (its containers, stream count, probing and picture bounds).
    /// - Throws: as the designated initialiser.
    convenience init(path: String, limits: InputLimits, interrupt: InterruptFlag?, checkHeader: ((Header) throws -> Void)? = nil) throws {
        try self.init(path: path, interrupt: interrupt, containers: limits.containers, maxStreams: limits.maxStreams + 1,
                      probeBytes: limits.probeBytes, analyzeMicroseconds: Int(limits.analyzeSeconds * 1_000_000),
                      maxPixels: limits.maxPixels, checkHeader: checkHeader)
    }

    /// The container's duration of the file at `path`, opened and probed within `limits`; nil
    /// when it cannot be opened or does not say (the transcode then finds out on its own).
    /// Cost: opening and probing the file (milliseconds for a local file).
    static func probeDuration(_ path: String, limits: InputLimits) -> Double? {
        let interrupt = InterruptFlag()
        interrupt.expire(after: min(limits.timeLimit ?? 120, 120))  // as opening for the transcode
        let input = try? InputFile(path: path, limits: limits, interrupt: interrupt)
        return input?.durationSeconds.flatMap { $0 > 0 ? $0 : nil }
    }

    /// The best video stream (no cover art), if any.
    var bestVideoStream: Int? { bestStream(AVMEDIA_TYPE_VIDEO) }

    /// Reads the next packet into `packet`. Returns false at end of file.
    /// - Throws: `LibAVError` from `av_read_frame` for anything but end of file.
    func read(into packet: Packet) throws -> Bool {
        packet.unref()
        let result = av_read_frame(formatContext, packet.pointer)
        if result == averrorEOF { return false }
        try check(result, "av_read_frame")
        return true
    }

    /// Tells the demuxer to skip every stream but these (saves reading and parsing them).
    func discardAllBut(_ wanted: Set<Int>) {
        for index in 0..<streamCount where !wanted.contains(index) {
            stream(index).pointee.discard = AVDISCARD_ALL
        }
    }
}

/// A cancellation flag libav polls during blocking calls (`AVIOInterruptCB`), with an optional
/// wall-clock deadline after which it counts as raised.
final class InterruptFlag: @unchecked Sendable {  // its state is under `lock`
    private let lock = NSLockLite()
    private var raised = false
    private var deadline: DispatchTime?

    func raise() { lock.withLock { raised = true } }

    /// From now on the flag also counts as raised once `seconds` have passed.
    func expire(after seconds: Double) {
        lock.withLock { deadline = .now() + .milliseconds(Int(min(seconds, 1e9) * 1000)) }
    }

    /// True once `expire(after:)`'s deadline has passed.
    var isExpired: Bool { lock.withLock { deadline.map { DispatchTime.now() >= $0 } ?? false } }

    var isRaised: Bool { lock.withLock { raised || (deadline.map { DispatchTime.now() >= $0 } ?? false) } }

    /// Throws `TranscodeError.timeLimit` once the deadline has passed, `.cancelled` once raised.
    func check(reading path: String) throws {
        if isExpired { throw TranscodeError.timeLimit(Self.timeLimitMessage(path)) }
        if isRaised { throw TranscodeError.cancelled }
    }

    /// What a transcode of `path` that went over its time limit says.
    static func timeLimitMessage(_ path: String) -> String {
        "\(path): rejected: processing went over the time limit (input stalls or is far too slow to decode)"
    }
}

private let interruptCallback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { opaque in
    guard let opaque else { return 0 }
    return Unmanaged<InterruptFlag>.fromOpaque(opaque).takeUnretainedValue().isRaised ? 1 : 0
}
