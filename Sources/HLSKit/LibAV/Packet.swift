import CFFmpeg

/// An owned `AVPacket`, allocated once and reused; `deinit` frees it.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() throws {
        guard let packet = av_packet_alloc() else { throw LibAVError.allocation("av_packet_alloc") }
        pointer = packet
    }

    /// A new reference to `other`'s payload (no copy of the bytes).
    convenience init(referencing other: Packet) throws {
        try self.init()
        try check(av_packet_ref(pointer, other.pointer), "av_packet_ref")
    }

    deinit {
        var packet: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&packet)
    }

    var streamIndex: Int { Int(pointer.pointee.stream_index) }
    var pts: Int64 { pointer.pointee.pts }
    var dts: Int64 { pointer.pointee.dts }
    var duration: Int64 { pointer.pointee.duration }
    /// The presentation timestamp, else the decode timestamp; nil when it has neither.
    var presentationOrDecodeTime: Int64? { pts != noPTS ? pts : dts != noPTS ? dts : nil }
    var size: Int { Int(pointer.pointee.size) }
    var isKeyframe: Bool { pointer.pointee.flags & AV_PKT_FLAG_KEY != 0 }
    var isCorrupt: Bool { pointer.pointee.flags & AV_PKT_FLAG_CORRUPT != 0 }

    /// The payload bytes (a copy).
    var bytes: [UInt8] {
        guard let data = pointer.pointee.data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    func unref() { av_packet_unref(pointer) }
}
