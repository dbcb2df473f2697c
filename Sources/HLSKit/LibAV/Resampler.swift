import CFFmpeg

/// Converts decoded audio of any layout, rate and sample format to the AAC encoder's input
/// (planar float, stereo, `sampleRate`); owns its `SwrContext`.
final class Resampler {
    private var context: OpaquePointer?
    let sampleRate: Int
    private let output: Frame

    init(sampleRate: Int) throws {
        self.sampleRate = sampleRate
        output = try Frame()
    }

    deinit { swr_free(&context) }

    private func prepare(for frame: Frame) throws {
        guard context == nil else { return }
        var inLayout = AVChannelLayout()
        if frame.pointer.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || frame.pointer.pointee.ch_layout.nb_channels == 0 {
            av_channel_layout_default(&inLayout, max(1, frame.pointer.pointee.ch_layout.nb_channels))
        } else {
            try check(av_channel_layout_copy(&inLayout, &frame.pointer.pointee.ch_layout), "av_channel_layout_copy")
        }
        defer { av_channel_layout_uninit(&inLayout) }
        var outLayout = AVChannelLayout()
        av_channel_layout_default(&outLayout, 2)
        defer { av_channel_layout_uninit(&outLayout) }
        try check(swr_alloc_set_opts2(&context, &outLayout, AV_SAMPLE_FMT_FLTP, Int32(sampleRate),
                                      &inLayout, AVSampleFormat(rawValue: frame.format), frame.pointer.pointee.sample_rate,
                                      0, nil), "swr_alloc_set_opts2")
        try check(swr_init(context), "swr_init")
    }

    /// Converts `frame` (or flushes when nil) and hands the converted samples to `sink` as
    /// planar float channel pointers with a sample count.
    func convert(_ frame: Frame?, sink: (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int) throws -> Void) throws {
        if let frame { try prepare(for: frame) }
        guard let context else { return }
        let inputSamples = frame?.sampleCount ?? 0
        let capacity = Int(swr_get_out_samples(context, Int32(inputSamples)))
        guard capacity > 0 else { return }
        output.unref()
        output.pointer.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
        output.pointer.pointee.sample_rate = Int32(sampleRate)
        av_channel_layout_default(&output.pointer.pointee.ch_layout, 2)
        output.pointer.pointee.nb_samples = Int32(capacity)
        try check(av_frame_get_buffer(output.pointer, 0), "av_frame_get_buffer(audio)")
        let converted: Int32 = try withUnsafeMutablePointer(to: &output.pointer.pointee.data) { dataTuple in
            try dataTuple.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { outData in
                if let frame {
                    let extended = frame.pointer.pointee.extended_data
                    let input = UnsafeMutableRawPointer(extended!).assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
                    return try check(swr_convert(context, outData, Int32(capacity), input, Int32(inputSamples)), "swr_convert")
                }
                return try check(swr_convert(context, outData, Int32(capacity), nil, 0), "swr_convert(flush)")
            }
        }
        guard converted > 0 else { return }
        try output.withPlanes { try sink($0, Int(converted)) }
    }
}
