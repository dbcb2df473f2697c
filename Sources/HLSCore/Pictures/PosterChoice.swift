/// How the poster frame is chosen: among the pictures sampled for the storyboard, the one with
/// the most detail inside the window that skips the first 2% (titles fading in, black leaders)
/// and the last 10% (credits, fades to black, "thank you" slides) of the source; a flat picture
/// (black, or without contrast: a blank slide of any colour) scores nothing.
public enum PosterChoice {
    /// The part of a `duration`-second timeline poster candidates come from, microseconds.
    public static func window(durationSeconds duration: Double) -> ClosedRange<Int64> {
        let d = max(0, duration)
        return Int64(d * 0.02 * 1_000_000)...Int64(d * 0.90 * 1_000_000)
    }

    /// Detail of an 8-bit luma plane: the mean absolute difference between horizontal and
    /// vertical neighbours, 0 for a flat picture (mean luma under 16 on the full range, or a
    /// standard deviation under 6; a white slide with black text is not flat). Linear in the pixels.
    /// - Parameters:
    ///   - stride: bytes from one row to the next (≥ width).
    public static func detail(luma: UnsafeBufferPointer<UInt8>, width: Int, height: Int, stride: Int) -> Double {
        guard width > 1, height > 1, stride >= width, luma.count >= (height - 1) * stride + width else { return 0 }
        var sum = 0, sumSquares = 0, gradient = 0
        for y in 0..<height {
            let row = y * stride
            for x in 0..<width {
                let v = Int(luma[row + x])
                sum += v
                sumSquares += v * v
                if x + 1 < width { gradient += abs(Int(luma[row + x + 1]) - v) }
                if y + 1 < height { gradient += abs(Int(luma[row + stride + x]) - v) }
            }
        }
        let n = Double(width * height)
        let mean = Double(sum) / n
        let variance = max(0, Double(sumSquares) / n - mean * mean)
        guard mean >= 16, variance >= 36 else { return 0 }
        return Double(gradient) / Double((width - 1) * height + width * (height - 1))
    }
}
