import CFFmpeg
import HLSCore

extension TimestampContinuity {
    /// A stream's keeper for `timeBase`: a decode timestamp more than a second back is a jump.
    init(timeBase: AVRational) {
        self.init(threshold: av_rescale_q(1_000_000, MediaTimeline.microseconds, timeBase))
    }

    /// Moves `packet`'s timestamps past the stream's jumps back. Returns the packet's decode
    /// timestamp as it was read (nil: none), and how far the source jumped when this packet
    /// starts a jump (negative ticks), else nil.
    mutating func keep(_ packet: Packet) -> (decode: Int64?, jump: Int64?) {
        let decode = packet.dts != noPTS ? packet.dts : packet.pts != noPTS ? packet.pts : nil
        let (offset, jump) = adjust(decode: decode, duration: packet.duration)
        if offset != 0 {
            if packet.pts != noPTS { packet.pointer.pointee.pts += offset }
            if packet.dts != noPTS { packet.pointer.pointee.dts += offset }
        }
        return (decode, jump)
    }
}
