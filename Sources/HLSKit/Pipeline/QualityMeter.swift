import CFFmpeg
import CQuality

/// Measures what one video rendition delivers (`TranscodeOptions.measureQuality`): decodes each
/// written packet back with libavcodec's H.264 decoder, as a player would, and compares the
/// picture with the frame the encoder was given (the source scaled to the rendition's size):
/// SSIM per plane (x264's 8x8 windows) and the squared error.
///
/// Cost: one single-threaded H.264 decode of the rendition plus an SSIM and an error pass over
/// every sample; memory: a reference to every frame between the encoder's input and the
/// decoder's output (the encoder's lookahead and the decoder's reorder delay).
final class QualityMeter {
    private let decoder: MediaDecoder
    private let decoded: Frame
    /// Encoder input frames by presentation timestamp, waiting for their decoded picture.
    private var references: [Int64: Frame] = [:]
    private(set) var sums = QualitySums()

    /// - Throws: `LibAVError` when the decoder cannot be opened.
    init(encoder: MediaEncoder) throws {
        decoder = try MediaDecoder(decoding: encoder)
        decoded = try Frame()
    }

    /// Keeps a reference to the picture the encoder is given for `timestamp` (no pixel copy; the
    /// scaler takes new buffers for its next picture while this one is held).
    func hold(_ frame: Frame, timestamp: Int64) throws {
        references[timestamp] = try Frame(referencing: frame)
    }

    /// Forgets the picture of a packet that is not written (pre-roll).
    func discard(timestamp: Int64) {
        references[timestamp] = nil
    }

    /// Decodes a written packet and measures every picture that comes out.
    /// - Throws: `LibAVError` from the decoder.
    func measure(_ packet: Packet) throws {
        try decoder.send(packet)
        try drain()
    }

    /// Decodes what the decoder still holds and measures it; the sums are final after this.
    func finish() throws {
        try decoder.send(nil)
        try drain()
        references.removeAll()
    }

    private func drain() throws {
        while try decoder.receive(into: decoded) {
            let timestamp = decoded.pointer.pointee.pts
            guard let reference = references.removeValue(forKey: timestamp) else { continue }
            // Pictures come out in presentation order: one the decoder never returned is gone for good.
            references = references.filter { $0.key > timestamp }
            try compare(decoded, reference)
        }
    }

    private func compare(_ picture: Frame, _ reference: Frame) throws {
        guard picture.width == reference.width, picture.height == reference.height,
              picture.format == AV_PIX_FMT_YUV420P.rawValue, reference.format == AV_PIX_FMT_YUV420P.rawValue else {
            throw LibAVError(call: "QualityMeter", reason: "decoded picture \(picture.width)x\(picture.height) format \(picture.format) does not match the encoded one")
        }
        var weighted = 0.0, luma = 0.0, squaredError = 0.0, samples = 0.0
        for plane in 0..<3 {
            let width = plane == 0 ? picture.width : (picture.width + 1) / 2
            let height = plane == 0 ? picture.height : (picture.height + 1) / 2
            let (a, aStride) = picture.plane(plane), (b, bStride) = reference.plane(plane)
            var windows = 0, failed: Int32 = 0
            let ssim = hlsify_plane_ssim(a, aStride, b, bStride, Int32(width), Int32(height), &windows, &failed)
            if failed != 0 { throw LibAVError.allocation("hlsify_plane_ssim") }
            let count = Double(width * height)
            // A plane too small for an 8x8 window counts as its error says: equal or not.
            let sse = Double(hlsify_plane_sse(a, aStride, b, bStride, Int32(width), Int32(height)))
            let planeSSIM = windows > 0 ? ssim : (sse == 0 ? 1 : 0)
            if plane == 0 { luma = planeSSIM }
            weighted += planeSSIM * count
            squaredError += sse
            samples += count
        }
        sums.add(ssim: weighted / samples, ssimY: luma, squaredError: squaredError, samples: samples)
    }
}
