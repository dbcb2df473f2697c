import CFFmpeg

/// An opened source container (`AVFormatContext`), read packet by packet; `deinit` closes it.
///
/// Only the `file` protocol is allowed: a source can never make libavformat open a URL.
final class InputFile {
    private var context: UnsafeMutablePointer<AVFormatContext>?
    let path: String

    /// Opens `path` and probes its streams.
    /// - Throws: `LibAVError` from `avformat_open_input` / `avformat_find_stream_info`.
    init(path: String, interrupt: InterruptFlag? = nil) throws {
        self.path = path
        guard let allocated = avformat_alloc_context() else {
            throw LibAVError.allocation("avformat_alloc_context")
        }
        if let interrupt {
            allocated.pointee.interrupt_callback.callback = interruptCallback
            allocated.pointee.interrupt_callback.opaque = Unmanaged.passUnretained(interrupt).toOpaque()
        }
        var options: OpaquePointer?
        av_dict_set(&options, "protocol_whitelist", "file", 0)
        defer { av_dict_free(&options) }
        var context: UnsafeMutablePointer<AVFormatContext>? = allocated
        // On failure avformat_open_input frees the context and sets it to NULL.
        try check(avformat_open_input(&context, path, nil, &options), "avformat_open_input")
        self.context = context
        try check(avformat_find_stream_info(context, nil), "avformat_find_stream_info")
    }

    deinit { avformat_close_input(&context) }

    private var formatContext: UnsafeMutablePointer<AVFormatContext> { context! }

    var streamCount: Int { Int(formatContext.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> {
        formatContext.pointee.streams[index]!
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
        if stream(Int(index)).pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0 {
            for candidate in 0..<streamCount {
                let st = stream(candidate)
                if st.pointee.codecpar.pointee.codec_type == type,
                   st.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0 {
                    return candidate
                }
            }
            return nil
        }
        return Int(index)
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

/// A cancellation flag libav polls during blocking calls (`AVIOInterruptCB`).
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLockLite()
    private var raised = false

    func raise() { lock.withLock { raised = true } }
    var isRaised: Bool { lock.withLock { raised } }
}

private let interruptCallback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { opaque in
    guard let opaque else { return 0 }
    return Unmanaged<InterruptFlag>.fromOpaque(opaque).takeUnretainedValue().isRaised ? 1 : 0
}
