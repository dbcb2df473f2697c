/// fMP4 fragment sequence numbers (ISO/IEC 14496-12 §8.8.5: each `moof`'s `mfhd` carries one, and
/// they increase through a track). Segments muxed apart (time chunks) each start their own count;
/// renumbering them in order makes the rendition read as one stream.
public enum FragmentSequence {
    /// Rewrites the `mfhd` sequence number of every top-level `moof` in `bytes` (a media segment)
    /// to `first`, `first + 1`, …, in order. Returns the number the next segment starts with.
    /// - Throws: `ContainerParseError` when the box structure is broken or a `moof` has no `mfhd`.
    /// - Cost: walks the top-level boxes and each `moof`'s children; the media is not read.
    @discardableResult
    public static func renumber(_ bytes: inout [UInt8], from first: UInt32) throws -> UInt32 {
        var next = first
        for box in try MP4BoxReader.boxes(in: bytes) where box.type == "moof" {
            guard let mfhd = try MP4BoxReader.boxes(in: bytes, range: box.payload).first(where: { $0.type == "mfhd" }),
                  mfhd.size >= mfhd.headerSize + 8 else {
                throw ContainerParseError(offset: box.offset, message: "'moof' without a whole 'mfhd'")
            }
            // Full box: version and flags (4 bytes), then the 32-bit sequence number.
            let at = mfhd.payloadStart + 4
            bytes[at] = UInt8(truncatingIfNeeded: next >> 24)
            bytes[at + 1] = UInt8(truncatingIfNeeded: next >> 16)
            bytes[at + 2] = UInt8(truncatingIfNeeded: next >> 8)
            bytes[at + 3] = UInt8(truncatingIfNeeded: next)
            next &+= 1
        }
        return next
    }

    /// The `mfhd` sequence numbers of the top-level `moof`s in `bytes`, in order.
    public static func numbers(in bytes: [UInt8]) throws -> [UInt32] {
        try MP4BoxReader.boxes(in: bytes).filter { $0.type == "moof" }.map { box in
            guard let mfhd = try MP4BoxReader.boxes(in: bytes, range: box.payload).first(where: { $0.type == "mfhd" }),
                  mfhd.size >= mfhd.headerSize + 8 else {
                throw ContainerParseError(offset: box.offset, message: "'moof' without a whole 'mfhd'")
            }
            let at = mfhd.payloadStart + 4
            return bytes[at..<at + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
    }
}
