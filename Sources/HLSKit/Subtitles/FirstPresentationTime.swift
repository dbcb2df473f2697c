import CFFmpeg
import Foundation

/// Reads back, with libavformat, the presentation timestamp of the first video frame as written
/// in a rendition's first segment, at 90 kHz: the MPEGTS value WebVTT's X-TIMESTAMP-MAP needs.
enum FirstPresentationTime {
    static func read(renditionFolder: URL, firstSegment: String, format: SegmentFormat) throws -> Int64 {
        var path = renditionFolder.appendingPathComponent(firstSegment).path
        var joined: URL?
        if format == .fmp4 {
            var data = try Data(contentsOf: renditionFolder.appendingPathComponent(SegmentWriter.initName))
            data.append(try Data(contentsOf: renditionFolder.appendingPathComponent(firstSegment)))
            let url = renditionFolder.deletingLastPathComponent().appendingPathComponent(".first-segment-probe.mp4")
            try data.write(to: url)
            joined = url
            path = url.path
        }
        defer { if let joined { try? FileManager.default.removeItem(at: joined) } }
        let input = try InputFile(path: path)
        guard let video = input.bestVideoStream else {
            throw LibAVError(call: "av_find_best_stream", reason: "no video stream in \(firstSegment)")
        }
        let timeBase = input.stream(video).pointee.time_base
        let packet = try Packet()
        var earliest: Int64?
        while try input.read(into: packet) {
            guard packet.streamIndex == video, packet.pts != noPTS else { continue }
            earliest = min(earliest ?? packet.pts, packet.pts)
        }
        guard let earliest else {
            throw LibAVError(call: "av_read_frame", reason: "no timestamped video packet in \(firstSegment)")
        }
        return av_rescale_q(earliest, timeBase, AVRational(num: 1, den: 90_000))
    }
}
