/// One box of an ISO base media file (ISO/IEC 14496-12 §4.2): its type and where it lies.
public struct MP4Box: Sendable, Equatable {
    /// Four-character type ("moof", "mdat", …).
    public let type: String
    /// Offset of the box's first header byte in the bytes it was read from.
    public let offset: Int
    /// Whole box, header included.
    public let size: Int
    /// 8, 16 with a 64-bit size, 24 or 32 for a "uuid" box.
    public let headerSize: Int

    public var end: Int { offset + size }
    /// Where the box's contents begin.
    public var payloadStart: Int { offset + headerSize }
    public var payload: Range<Int> { payloadStart..<end }
}

/// Reads the box structure of ISO base media files: fMP4 init sections and fragments.
public enum MP4BoxReader {
    /// Boxes that only hold other boxes (the ones the fragment and init readers descend into).
    static let containers: Set<String> = ["moov", "trak", "mdia", "minf", "stbl", "mvex", "moof", "traf", "edts", "dinf"]

    /// The boxes laid end to end in `range` of `bytes` (the whole array when nil). A size of 0 means
    /// "to the end of the range", 1 a 64-bit size after the type; "uuid" boxes have a 16-byte
    /// extended type in their header.
    /// - Throws: `ContainerParseError` when a header is cut short, a size is smaller than its
    ///   header, or a box runs past the end of the range.
    public static func boxes(in bytes: [UInt8], range: Range<Int>? = nil) throws -> [MP4Box] {
        let range = range ?? 0..<bytes.count
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
            throw ContainerParseError(offset: range.lowerBound, message: "range \(range) is outside the \(bytes.count) bytes")
        }
        var boxes: [MP4Box] = []
        var position = range.lowerBound
        while position < range.upperBound {
            var cursor = ByteCursor(bytes, from: position, to: range.upperBound)
            let size32 = try cursor.u32("box size")
            let type = try cursor.fourCC()
            var size = Int(size32)
            if size32 == 1 {
                let large = try cursor.u64("64-bit box size")
                guard large <= UInt64(Int.max) else {
                    throw ContainerParseError(offset: position, message: "'\(type)' box size \(large) is too large")
                }
                size = Int(large)
            } else if size32 == 0 {
                size = range.upperBound - position
            }
            if type == "uuid" { try cursor.skip(16, "uuid extended type") }
            let headerSize = cursor.position - position
            guard size >= headerSize else {
                throw ContainerParseError(offset: position, message: "'\(type)' box size \(size) is smaller than its \(headerSize)-byte header")
            }
            guard size <= range.upperBound - position else {
                throw ContainerParseError(offset: position, message: "'\(type)' box of \(size) bytes runs past the end (\(range.upperBound - position) bytes left)")
            }
            boxes.append(MP4Box(type: type, offset: position, size: size, headerSize: headerSize))
            position += size
        }
        return boxes
    }

    /// The boxes inside `box` (for container boxes such as moov, trak, moof, traf).
    public static func children(of box: MP4Box, in bytes: [UInt8]) throws -> [MP4Box] {
        try boxes(in: bytes, range: box.payload)
    }

    /// The first box of `type` among `boxes`.
    static func first(_ type: String, in boxes: [MP4Box]) -> MP4Box? {
        boxes.first { $0.type == type }
    }

    /// A cursor over a full box's contents, after its version and flags.
    static func fullBox(_ box: MP4Box, in bytes: [UInt8]) throws -> (version: UInt8, flags: UInt32, cursor: ByteCursor) {
        var cursor = ByteCursor(bytes, from: box.payloadStart, to: box.end)
        let version = try cursor.u8("'\(box.type)' version")
        let flags = try cursor.u24("'\(box.type)' flags")
        return (version, flags, cursor)
    }
}
