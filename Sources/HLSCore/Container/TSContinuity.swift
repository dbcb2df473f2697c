/// MPEG-TS continuity counters (ISO/IEC 13818-1 §2.4.3.3: 4 bits per PID, +1 on every packet
/// that carries payload). A resumed stream's muxer starts its counters at 0; rewriting them to
/// continue the kept segments' makes the stream read as one, without "continuity check failed".
public struct TSContinuity: Sendable, Equatable {
    public static let packetSize = 188

    /// Per PID, the counter the next payload-carrying packet takes.
    public private(set) var next: [UInt16: UInt8]
    /// Position in the current packet, and its PID's bytes as they pass.
    private var offset = 0
    private var pidHigh: UInt8 = 0
    private var pidLow: UInt8 = 0

    public init(next: [UInt16: UInt8]) {
        self.next = next
    }

    /// The counters that follow `bytes` (whole packets): per PID, one after its last payload packet's.
    public static func counters(after bytes: [UInt8]) -> [UInt16: UInt8] {
        var next: [UInt16: UInt8] = [:]
        var start = 0
        while start + packetSize <= bytes.count {
            if bytes[start] == 0x47 {
                let pid = (UInt16(bytes[start + 1] & 0x1f) << 8) | UInt16(bytes[start + 2])
                let flags = bytes[start + 3]
                if (flags >> 4) & 1 == 1 { next[pid] = ((flags & 0x0f) + 1) & 0x0f }
            }
            start += packetSize
        }
        return next
    }

    /// Rewrites the counters of the packets in `buffer`, the next part of a stream of whole packets
    /// (split anywhere), to continue `next`. PIDs `next` does not know keep their own counters.
    public mutating func rewrite(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        for position in buffer.indices {
            switch offset {
            case 1: pidHigh = buffer[position]
            case 2: pidLow = buffer[position]
            case 3:
                let pid = (UInt16(pidHigh & 0x1f) << 8) | UInt16(pidLow)
                let flags = buffer[position]
                let hasPayload = (flags >> 4) & 1 == 1
                if let counter = next[pid] {
                    // A packet without payload repeats the previous counter.
                    let value = hasPayload ? counter : (counter &+ 15) & 0x0f
                    buffer[position] = (flags & 0xf0) | value
                    if hasPayload { next[pid] = (counter + 1) & 0x0f }
                }
            default: break
            }
            offset = (offset + 1) % Self.packetSize
        }
    }
}
