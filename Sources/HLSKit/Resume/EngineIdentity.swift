import CFFmpeg
import Foundation

/// What identifies the code that decides a segment's bytes: this engine's resume format, the
/// libav* versions and the libx264 library loaded (its file and size), as one line for `ResumePlan.engine`.
enum EngineIdentity {
    /// Bumped when the engine changes what it encodes for the same settings.
    /// 2: capped CRF and the auto ladder by default (a plan of revision 1 meant ABR and 1080p/720p/480p).
    /// 3: loudness normalisation. 4: audio renditions carry their language (and every audio stream of the source is a rendition).
    static let engineRevision = 4

    static let current: String = {
        func version(_ number: UInt32) -> String { "\(number >> 16).\((number >> 8) & 0xff).\(number & 0xff)" }
        return "hlsify-engine \(engineRevision); libavcodec \(version(avcodec_version())); "
            + "libavformat \(version(avformat_version())); libavfilter \(version(avfilter_version())); "
            + "libswscale \(version(swscale_version())); libswresample \(version(swresample_version())); "
            + "libavutil \(version(avutil_version())); "
            + "libx264 \(loadedLibrary("libx264") ?? "unknown")"
    }()

    /// The first mapped file of this process whose name starts with `prefix`, with its size.
    private static func loadedLibrary(_ prefix: String) -> String? {
        // procfs files report size 0: read to the end, not by size.
        guard let data = try? FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/maps")).readToEnd() else { return nil }
        let maps = String(decoding: data, as: UTF8.self)
        for line in maps.split(separator: "\n") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            let path = String(line[slash...])
            guard URL(fileURLWithPath: path).lastPathComponent.hasPrefix(prefix) else { continue }
            var info = stat()
            let size = stat(path, &info) == 0 ? Int64(info.st_size) : -1
            return "\(path) \(size) bytes"
        }
        return nil
    }
}
