import Foundation

/// Resuming at a segment boundary: the video packets before the pre-roll are read but not
/// decoded. Holds the packets since the last keyframe at or before the pre-roll's start, and
/// hands them over, to be decoded from that keyframe on, at the first keyframe after it. So the
/// first decoded picture is at or before the pre-roll's start (unless the source has no keyframe
/// there, when decoding starts at its first). Bounded: past `maxHeldBytes` (a source with rare
/// keyframes) it hands over what it holds and decoding simply starts earlier.
final class PreRollSkipper {
    static let maxHeldBytes = 256 << 20

    /// Microseconds from the timeline's start where the resumed segment starts, and where the
    /// pre-roll before it starts.
    let resumePoint: Int64
    let preRollStart: Int64
    private var held: [Packet] = []
    private var heldBytes = 0
    private(set) var isDone = false

    init(resumePoint: Int64, preRoll: Int64) {
        self.resumePoint = resumePoint
        preRollStart = resumePoint - preRoll
    }

    /// Takes the next video packet, `time` its timeline position in microseconds (nil when it has
    /// no timestamp). Returns the packets to decode now, in order: none while skipping, the held
    /// ones and this one when decoding starts; just this one once it has.
    func offer(_ packet: Packet, time: Int64?) throws -> [Packet] {
        if isDone { return [packet] }
        if packet.isKeyframe, let time {
            if time <= preRollStart {
                held.removeAll()
                heldBytes = 0
            } else {
                return finish(with: packet)
            }
        }
        held.append(try Packet(referencing: packet))
        heldBytes += packet.size
        if heldBytes > Self.maxHeldBytes { return finish(with: nil) }
        return []
    }

    /// The input ended while skipping (no keyframe after the pre-roll's start): what it holds,
    /// to be decoded from its keyframe on.
    func finishAtEnd() -> [Packet] {
        isDone ? [] : finish(with: nil)
    }

    private func finish(with packet: Packet?) -> [Packet] {
        isDone = true
        let handed = held + (packet.map { [$0] } ?? [])
        held.removeAll()
        return handed
    }
}
