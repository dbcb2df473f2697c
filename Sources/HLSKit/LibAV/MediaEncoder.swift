import CFFmpeg

/// An opened encoder (`AVCodecContext`); `deinit` frees it. Configured by the caller before opening.
final class MediaEncoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let codecName: String

    /// Finds the encoder, lets `configure` set the context fields, then opens it with `options`
    /// (private options such as x264's `preset`).
    /// - Throws: `LibAVError` from `avcodec_find_encoder_by_name`, `avcodec_open2`, or an option libav did not take.
    init(name: String, options: [(String, String)] = [], configure: (UnsafeMutablePointer<AVCodecContext>) throws -> Void) throws {
        guard let codec = avcodec_find_encoder_by_name(name) else {
            throw LibAVError(call: "avcodec_find_encoder_by_name", reason: "encoder '\(name)' is not available in this libavcodec")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw LibAVError.allocation("avcodec_alloc_context3")
        }
        self.context = context
        self.codecName = name
        try configure(context)
        var dictionary: OpaquePointer?
        defer { av_dict_free(&dictionary) }
        for (key, value) in options {
            try check(av_dict_set(&dictionary, key, value, 0), "av_dict_set(\(key))")
        }
        try check(avcodec_open2(context, codec, &dictionary), "avcodec_open2(\(name))")
        if let left = av_dict_get(dictionary, "", nil, AV_DICT_IGNORE_SUFFIX) {
            throw LibAVError(call: "avcodec_open2(\(name))", reason: "option '\(String(cString: left.pointee.key))' not recognised")
        }
    }

    deinit {
        var context: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&context)
    }

    /// Sends a frame, or nil to flush.
    func send(_ frame: Frame?) throws {
        let result = avcodec_send_frame(context, frame?.pointer)
        if result == averrorEOF && frame == nil { return }
        try check(result, "avcodec_send_frame(\(codecName))")
    }

    /// Receives the next packet into `packet`; false when the encoder needs more input or is drained.
    func receive(into packet: Packet) throws -> Bool {
        packet.unref()
        let result = avcodec_receive_packet(context, packet.pointer)
        if result == averrorEAGAIN || result == averrorEOF { return false }
        try check(result, "avcodec_receive_packet(\(codecName))")
        return true
    }

    var timeBase: AVRational { context.pointee.time_base }

    /// Codec-specific global header (avcC for H.264, AudioSpecificConfig for AAC).
    var extradata: [UInt8] {
        guard let data = context.pointee.extradata, context.pointee.extradata_size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(context.pointee.extradata_size)))
    }
}
