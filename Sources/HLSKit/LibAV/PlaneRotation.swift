import CFFmpeg

/// Turns yuv420p pictures by multiples of 90° (libswscale only scales; it cannot rotate).
enum PlaneRotation {
    /// Rotates `source` clockwise by `degrees` into `destination`, whose size must already be the rotated size.
    static func rotate(from source: Frame, to destination: Frame, degrees: Int) {
        for plane in 0..<3 {
            let shift = plane == 0 ? 0 : 1
            let srcWidth = (source.width + shift) >> shift
            let srcHeight = (source.height + shift) >> shift
            let (srcBase, srcStride) = source.plane(plane)
            let (dstBase, dstStride) = destination.plane(plane)
            rotatePlane(src: srcBase, srcStride: srcStride, width: srcWidth, height: srcHeight,
                        dst: dstBase, dstStride: dstStride, degrees: degrees)
        }
    }

    /// Rotates one 8-bit plane of `width`×`height` clockwise by `degrees`.
    static func rotatePlane(src: UnsafePointer<UInt8>, srcStride: Int, width: Int, height: Int,
                            dst: UnsafeMutablePointer<UInt8>, dstStride: Int, degrees: Int) {
        switch degrees {
        case 90:
            // dst(x', y') with x' = height-1-y, y' = x
            for y in 0..<height {
                let row = src + y * srcStride
                let dx = height - 1 - y
                for x in 0..<width { dst[x * dstStride + dx] = row[x] }
            }
        case 270:
            for y in 0..<height {
                let row = src + y * srcStride
                for x in 0..<width { dst[(width - 1 - x) * dstStride + y] = row[x] }
            }
        case 180:
            for y in 0..<height {
                let row = src + y * srcStride
                let out = dst + (height - 1 - y) * dstStride
                for x in 0..<width { out[width - 1 - x] = row[x] }
            }
        default:
            for y in 0..<height {
                (dst + y * dstStride).update(from: src + y * srcStride, count: width)
            }
        }
    }
}
