/// The character encoding subtitle bytes were read in.
public enum SubtitleTextEncoding: String, Sendable, Equatable, Hashable, CaseIterable {
    /// UTF-8, with or without a byte order mark.
    case utf8
    /// UTF-16 little-endian (byte order mark FF FE).
    case utf16LittleEndian
    /// UTF-16 big-endian (byte order mark FE FF).
    case utf16BigEndian
    /// UTF-32 little-endian (byte order mark FF FE 00 00).
    case utf32LittleEndian
    /// UTF-32 big-endian (byte order mark 00 00 FE FF).
    case utf32BigEndian
    /// Windows-1252, the fallback for bytes that are not valid UTF-8.
    case windows1252
}
