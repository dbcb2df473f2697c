/// Bytes a container reader could not accept: cut short, or not what the format allows.
public struct ContainerParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Offset in the bytes given to the reader where the problem was found.
    public let offset: Int
    public let message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "at byte \(offset): \(message)" }
}

/// Reads big-endian integers from a byte array, within a window, throwing rather than trapping
/// when the window ends.
struct ByteCursor {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var remaining: Int { max(0, end - position) }

    private func need(_ count: Int, _ what: String) throws {
        guard count >= 0, position <= end - count else {
            throw ContainerParseError(offset: position, message: "\(what) runs past the end (\(count) bytes needed, \(remaining) left)")
        }
    }

    mutating func skip(_ count: Int, _ what: String = "data") throws {
        try need(count, what)
        position += count
    }

    mutating func u8(_ what: String = "field") throws -> UInt8 {
        try need(1, what)
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16(_ what: String = "field") throws -> UInt16 {
        try need(2, what)
        defer { position += 2 }
        return UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
    }

    mutating func u24(_ what: String = "field") throws -> UInt32 {
        try need(3, what)
        defer { position += 3 }
        return UInt32(bytes[position]) << 16 | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2])
    }

    mutating func u32(_ what: String = "field") throws -> UInt32 {
        try need(4, what)
        defer { position += 4 }
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(bytes[position + i]) }
        return value
    }

    mutating func u64(_ what: String = "field") throws -> UInt64 {
        try need(8, what)
        defer { position += 8 }
        var value: UInt64 = 0
        for i in 0..<8 { value = value << 8 | UInt64(bytes[position + i]) }
        return value
    }

    /// Four ASCII characters (a box type).
    mutating func fourCC(_ what: String = "box type") throws -> String {
        try need(4, what)
        defer { position += 4 }
        return FourCC.string(bytes[position..<position + 4])
    }
}

enum FourCC {
    /// Four bytes as text; bytes outside printable ASCII become "?".
    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
