import CFFmpeg

/// An output `AVFormatContext` writing through a custom `AVIOContext` (with its buffer): the one
/// owner of the three, freed in `deinit`. Made first in a muxer's init, so an init that throws
/// half-way frees them too (a class's `deinit` does not run when its init throws).
final class OutputContext {
    let pointer: UnsafeMutablePointer<AVFormatContext>

    /// Allocates a muxer context for `formatName` (`mp4`, `mpegts`) writing to `write`, which is
    /// called with `opaque` (the caller keeps `opaque` alive as long as this context).
    /// - Throws: `LibAVError` naming the allocation that failed.
    init(formatName: String, opaque: UnsafeMutableRawPointer,
         write: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int32) -> Int32,
         bufferSize: Int = 1 << 16) throws {
        var context: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&context, nil, formatName, nil), "avformat_alloc_output_context2")
        guard let context else { throw LibAVError.allocation("avformat_alloc_output_context2") }
        guard let buffer = av_malloc(bufferSize) else {
            avformat_free_context(context)
            throw LibAVError.allocation("av_malloc")
        }
        guard let io = avio_alloc_context(buffer.assumingMemoryBound(to: UInt8.self), Int32(bufferSize), 1, opaque, nil, write, nil) else {
            av_free(buffer)
            avformat_free_context(context)
            throw LibAVError.allocation("avio_alloc_context")
        }
        io.pointee.seekable = 0
        context.pointee.pb = io
        context.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
        pointer = context
    }

    deinit {
        if let io = pointer.pointee.pb {
            av_free(io.pointee.buffer)
            var owned: UnsafeMutablePointer<AVIOContext>? = io
            avio_context_free(&owned)
        }
        avformat_free_context(pointer)
    }
}
