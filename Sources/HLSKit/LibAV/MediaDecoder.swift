import CFFmpeg

/// An opened decoder (`AVCodecContext`) for one input stream; `deinit` frees it.
final class MediaDecoder {
    let context: UnsafeMutablePointer<AVCodecContext>

    /// Opens the decoder for `stream`'s codec.
    /// - Parameter threads: decoder threads; 0 lets libavcodec choose.
    /// - Throws: `LibAVError` naming the call; a missing decoder is reported as `avcodec_find_decoder`.
    /// - Parameter maxPixels: largest picture area the decoder accepts (`max_pixels`), so a stream
    ///   that grows mid-file fails instead of allocating huge frames.
    init(stream: UnsafeMutablePointer<AVStream>, threads: Int = 0, maxPixels: Int? = nil) throws {
        let parameters = stream.pointee.codecpar!
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
            let name = String(cString: avcodec_get_name(parameters.pointee.codec_id))
            throw LibAVError(call: "avcodec_find_decoder", reason: "no decoder for codec '\(name)'")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw LibAVError.allocation("avcodec_alloc_context3")
        }
        self.context = context
        try check(avcodec_parameters_to_context(context, parameters), "avcodec_parameters_to_context")
        context.pointee.pkt_timebase = stream.pointee.time_base
        context.pointee.thread_count = Int32(threads)
        var options: OpaquePointer?
        defer { av_dict_free(&options) }
        if let maxPixels { av_dict_set(&options, "max_pixels", String(maxPixels), 0) }
        try check(avcodec_open2(context, codec, &options), "avcodec_open2(\(String(cString: codec.pointee.name)))")
    }

    /// Opens a single-threaded decoder for what `encoder` makes (its codec, size and extradata),
    /// so that an encoder's output can be decoded back as a player would.
    /// - Throws: `LibAVError` naming the call that failed.
    init(decoding encoder: MediaEncoder) throws {
        var owned = avcodec_parameters_alloc()
        defer { avcodec_parameters_free(&owned) }
        guard let parameters = owned else { throw LibAVError.allocation("avcodec_parameters_alloc") }
        try check(avcodec_parameters_from_context(parameters, encoder.context), "avcodec_parameters_from_context")
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
            throw LibAVError(call: "avcodec_find_decoder", reason: "no decoder for the encoder's codec")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw LibAVError.allocation("avcodec_alloc_context3")
        }
        self.context = context
        try check(avcodec_parameters_to_context(context, parameters), "avcodec_parameters_to_context")
        context.pointee.pkt_timebase = encoder.context.pointee.time_base
        context.pointee.thread_count = 1
        try check(avcodec_open2(context, codec, nil), "avcodec_open2(\(String(cString: codec.pointee.name)))")
    }

    deinit {
        var context: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&context)
    }

    /// Sends a packet (nil to start draining).
    /// - Throws: `LibAVError` from `avcodec_send_packet`; EAGAIN never happens because callers drain first.
    func send(_ packet: Packet?) throws {
        let result = avcodec_send_packet(context, packet?.pointer)
        if result == averrorEOF { return }
        try check(result, "avcodec_send_packet")
    }

    /// Receives the next decoded frame into `frame`; false when more input is needed or the stream ended.
    func receive(into frame: Frame) throws -> Bool {
        frame.unref()
        let result = avcodec_receive_frame(context, frame.pointer)
        if result == averrorEAGAIN || result == averrorEOF { return false }
        try check(result, "avcodec_receive_frame")
        return true
    }

    /// Sends `packet` (nil drains) and hands every frame it decodes into `frame` to `handle`.
    /// Corrupt data is not thrown: `corrupt` is told (a packet refused, or a frame that failed,
    /// after which the rest of the packet is skipped) and may throw to stop.
    func decode(_ packet: Packet?, into frame: Frame, corrupt: (LibAVError) throws -> Void,
                handle: () throws -> Void) throws {
        do { try send(packet) } catch let error as LibAVError { return try corrupt(error) }
        while true {
            let got: Bool
            do { got = try receive(into: frame) } catch let error as LibAVError { return try corrupt(error) }
            guard got else { return }
            try handle()
        }
    }
}
