/// A sub-range of a resource: `length` bytes starting `offset` bytes in (EXT-X-BYTERANGE, RFC 8216 §4.3.2.2).
public struct ByteRange: Sendable, Equatable, Hashable, Codable {
    public var length: Int
    public var offset: Int

    public init(length: Int, offset: Int) {
        self.length = length
        self.offset = offset
    }

    /// The range covering `range` (offset = lower bound).
    public init(_ range: Range<Int>) {
        self.init(length: range.count, offset: range.lowerBound)
    }

    /// One past the last byte.
    public var end: Int { offset + length }

    /// The tag value: `length@offset`. The offset is always written, so an entry never depends on
    /// the one before it.
    public var attributeValue: String { "\(max(length, 0))@\(max(offset, 0))" }
}
