import CFFmpeg

/// Baseline JPEG pictures from full-range yuvj420p frames (libavcodec's `mjpeg` encoder), for
/// the storyboard's sprite sheets and the poster.
enum JPEGEncoder {
    /// Quantiser scale: 2 is near-lossless and large, 31 blocky; 4 keeps slide text sharp at a
    /// few kB per 160-pixel tile.
    static let quality: Int32 = 4

    /// The JPEG file of `frame` (yuvj420p, any size).
    /// - Throws: `LibAVError` naming the libavcodec call that failed.
    /// - Cost: one encoder opened and freed per picture (well under a millisecond to set up).
    static func encode(_ frame: Frame) throws -> [UInt8] {
        let encoder = try MediaEncoder(name: "mjpeg") { context in
            context.pointee.width = frame.pointer.pointee.width
            context.pointee.height = frame.pointer.pointee.height
            context.pointee.pix_fmt = AV_PIX_FMT_YUVJ420P
            context.pointee.color_range = AVCOL_RANGE_JPEG
            context.pointee.time_base = AVRational(num: 1, den: 25)
            context.pointee.flags |= AV_CODEC_FLAG_QSCALE
            context.pointee.global_quality = FF_QP2LAMBDA * quality
        }
        frame.pointer.pointee.pts = 0
        frame.pointer.pointee.quality = FF_QP2LAMBDA * quality
        try encoder.send(frame)
        try encoder.send(nil)
        let packet = try Packet()
        guard try encoder.receive(into: packet) else {
            throw LibAVError(call: "avcodec_receive_packet(mjpeg)", reason: "the encoder gave no picture")
        }
        return packet.bytes
    }
}
