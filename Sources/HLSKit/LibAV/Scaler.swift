import CFFmpeg

/// Converts decoded frames of any size and pixel format to one size in yuv420p (or, for JPEG
/// pictures, full-range yuvj420p), turning the picture upright when the source carries rotation
/// metadata.
///
/// Owns its `SwsContext` and its output frames (allocated once, reused for every frame).
final class Scaler {
    let width: Int
    let height: Int
    let rotation: Int
    let format: AVPixelFormat
    private var context: OpaquePointer?
    private let scaled: Frame      // at the pre-rotation size
    private let rotated: Frame?    // at the final size, only when rotating

    /// - Parameters:
    ///   - width, height: the displayed (upright) output size.
    ///   - rotation: clockwise degrees to turn the decoded picture: 0, 90, 180 or 270.
    ///   - format: `AV_PIX_FMT_YUV420P` (video range, for the encoders) or `AV_PIX_FMT_YUVJ420P`.
    init(width: Int, height: Int, rotation: Int, format: AVPixelFormat = AV_PIX_FMT_YUV420P) throws {
        self.width = width
        self.height = height
        self.rotation = rotation
        self.format = format
        let swaps = rotation == 90 || rotation == 270
        scaled = try Frame(width: swaps ? height : width, height: swaps ? width : height, format: format)
        rotated = rotation == 0 ? nil : try Frame(width: width, height: height, format: format)
    }

    deinit { sws_freeContext(context) }

    /// Scales `source` and returns the reused output frame (valid until the next call).
    /// - Throws: `LibAVError` from `sws_getCachedContext` / `sws_scale_frame` / `av_frame_get_buffer`.
    func scale(_ source: Frame) throws -> Frame {
        let src = source.pointer
        context = sws_getCachedContext(
            context, src.pointee.width, src.pointee.height, AVPixelFormat(rawValue: src.pointee.format),
            scaled.pointer.pointee.width, scaled.pointer.pointee.height, format,
            SWS_BICUBIC, nil, nil, nil)
        guard let context else {
            throw LibAVError(call: "sws_getCachedContext", reason: "unsupported conversion from \(source.width)x\(source.height) pixel format \(source.format)")
        }
        try scaled.takeFreshBuffersIfShared()
        // sws_scale_frame (libswscale 6) reads the planes and strides from the frames themselves:
        // no pointer to a frame's fields escapes into Swift.
        let status = sws_scale_frame(context, scaled.pointer, source.pointer)
        if status < 0 { throw LibAVError(call: "sws_scale_frame", code: status) }
        guard let rotated else { return scaled }
        try rotated.takeFreshBuffersIfShared()
        PlaneRotation.rotate(from: scaled, to: rotated, degrees: rotation)
        return rotated
    }
}
