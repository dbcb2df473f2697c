import CFFmpeg

/// Applies `InputLimits` to what the container and stream headers say, before any work starts.
/// Each rejection names the rule, for a one-line error.
struct InputPolicy {
    let limits: InputLimits
    let path: String

    struct Rejection: Error { let message: String }

    /// What the container header says before probing: stream count and picture sizes.
    func checkHeader(_ header: InputFile.Header) throws {
        if header.streams > limits.maxStreams {
            throw Rejection(message: "\(path): rejected: \(header.streams) streams, more than the limit of \(limits.maxStreams)")
        }
        for (width, height) in header.pictureSizes {
            if width > limits.maxDimension || height > limits.maxDimension || width * height > limits.maxPixels {
                throw Rejection(message: "\(path): rejected: frame size \(width)x\(height) is over the limit of \(limits.maxDimension) a side and \(limits.maxPixels) pixels")
            }
        }
    }

    func check(input: InputFile, source: SourceInfo) throws {
        if input.streamCount > limits.maxStreams {
            throw reject("\(input.streamCount) streams, more than the limit of \(limits.maxStreams)")
        }
        let width = source.geometry.width, height = source.geometry.height
        if width > limits.maxDimension || height > limits.maxDimension {
            throw reject("frame size \(width)x\(height) is over the limit of \(limits.maxDimension) pixels a side")
        }
        if width * height > limits.maxPixels {
            throw reject("frame size \(width)x\(height) is over the limit of \(limits.maxPixels) pixels")
        }
        if let duration = source.durationSeconds, duration > limits.maxDuration {
            throw reject(String(format: "duration %.0f s is over the limit of %.0f s", duration, limits.maxDuration))
        }
    }

    private func reject(_ rule: String) -> TranscodeError {
        .invalidInput("\(path): rejected: \(rule)")
    }
}
