import Foundation

/// Running sums of a rendition's measured picture quality, per frame: added up by one encode,
/// merged across time chunks, turned into means at the end.
public struct QualitySums: Codable, Sendable, Equatable {
    /// Frames measured.
    public var frames = 0
    /// Sum over the frames of SSIM over all planes (each weighted by its share of the samples).
    public var ssim = 0.0
    /// Sum over the frames of the luma SSIM.
    public var ssimY = 0.0
    /// Sum of squared sample differences, every plane of every frame.
    public var squaredError = 0.0
    /// Samples compared (every plane of every frame).
    public var samples = 0.0

    /// PSNR reported for a set without any difference (the JSON report has no infinity).
    public static let maximumPSNR = 100.0

    public init() {}

    /// Adds one frame's figures.
    public mutating func add(ssim: Double, ssimY: Double, squaredError: Double, samples: Double) {
        frames += 1
        self.ssim += ssim
        self.ssimY += ssimY
        self.squaredError += squaredError
        self.samples += samples
    }

    /// Adds another part's sums (a later time chunk).
    public mutating func merge(_ other: QualitySums) {
        frames += other.frames
        ssim += other.ssim
        ssimY += other.ssimY
        squaredError += other.squaredError
        samples += other.samples
    }

    public var meanSSIM: Double { frames > 0 ? ssim / Double(frames) : 0 }
    public var meanSSIMY: Double { frames > 0 ? ssimY / Double(frames) : 0 }

    /// 10·log10(255² / MSE) over every sample, at most `maximumPSNR`; 0 when nothing was measured.
    public var psnr: Double {
        guard samples > 0 else { return 0 }
        guard squaredError > 0 else { return Self.maximumPSNR }
        return min(Self.maximumPSNR, 10 * log10(255 * 255 / (squaredError / samples)))
    }
}

/// What a video rendition delivers, measured on its decoded output against the frames it was
/// encoded from: the means of a rendition's `QualitySums`, as reports and events carry them.
public struct PictureQuality: Codable, Sendable, Equatable {
    /// Mean over the frames of SSIM (luma and both chroma planes weighted by their samples), 0…1.
    public var ssim: Double
    /// Mean over the frames of the luma SSIM alone.
    public var ssimY: Double
    /// PSNR in dB of the mean squared error over every sample of every frame (at most 100 dB).
    public var psnr: Double
    /// Frames measured (a resumed run measures the frames it encoded).
    public var frames: Int

    public init(ssim: Double, ssimY: Double, psnr: Double, frames: Int) {
        self.ssim = ssim
        self.ssimY = ssimY
        self.psnr = psnr
        self.frames = frames
    }

    /// The means of `sums`.
    public init(sums: QualitySums) {
        self.init(ssim: sums.meanSSIM, ssimY: sums.meanSSIMY, psnr: sums.psnr, frames: sums.frames)
    }
}
