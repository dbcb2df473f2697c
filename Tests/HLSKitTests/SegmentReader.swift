import Foundation
@testable import HLSKit

/// Reads written segments back with libavformat (not with our own bookkeeping).
enum SegmentReader {
    struct VideoPacket { let pts: Double; let key: Bool }

    /// Video packets of one segment, presentation times in seconds, in file order.
    static func videoPackets(folder: URL, segment: String, format: SegmentFormat) throws -> [VideoPacket] {
        var data = Data()
        if format == .fmp4 { data.append(try Data(contentsOf: folder.appendingPathComponent("init.mp4"))) }
        data.append(try Data(contentsOf: folder.appendingPathComponent(segment)))
        let joined = FileManager.default.temporaryDirectory
            .appendingPathComponent("seg-\(UUID().uuidString).\(format == .fmp4 ? "mp4" : "ts")")
        try data.write(to: joined)
        defer { try? FileManager.default.removeItem(at: joined) }
        let input = try InputFile(path: joined.path)
        guard let video = input.bestVideoStream else { return [] }
        let timeBase = input.stream(video).pointee.time_base
        let packet = try Packet()
        var packets: [VideoPacket] = []
        while try input.read(into: packet) {
            guard packet.streamIndex == video else { continue }
            packets.append(VideoPacket(pts: Double(packet.pts) * Double(timeBase.num) / Double(timeBase.den), key: packet.isKeyframe))
        }
        return packets
    }
}
