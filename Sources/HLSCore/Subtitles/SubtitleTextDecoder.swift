/// Turns subtitle file bytes into text, choosing the encoding the way real files need.
///
/// A byte order mark decides first (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE). Without one the
/// bytes are read as UTF-8 when valid, else as Windows-1252. A UTF-8 file cut inside its
/// last character stays UTF-8 (the broken tail becomes U+FFFD). Invalid UTF-16/32 units
/// become U+FFFD. Never fails; linear in the byte count.
public enum SubtitleTextDecoder {
    /// Decodes `bytes` and reports the encoding used. The byte order mark is not part of the text.
    public static func decode(_ bytes: [UInt8]) -> (text: String, encoding: SubtitleTextEncoding) {
        let b = bytes[...]
        if b.starts(with: [0xEF, 0xBB, 0xBF]) {
            return (String(decoding: b.dropFirst(3), as: UTF8.self), .utf8)
        }
        if b.starts(with: [0xFF, 0xFE, 0x00, 0x00]) {
            return (decodeUTF32(b.dropFirst(4), bigEndian: false), .utf32LittleEndian)
        }
        if b.starts(with: [0x00, 0x00, 0xFE, 0xFF]) {
            return (decodeUTF32(b.dropFirst(4), bigEndian: true), .utf32BigEndian)
        }
        if b.starts(with: [0xFF, 0xFE]) {
            return (decodeUTF16(b.dropFirst(2), bigEndian: false), .utf16LittleEndian)
        }
        if b.starts(with: [0xFE, 0xFF]) {
            return (decodeUTF16(b.dropFirst(2), bigEndian: true), .utf16BigEndian)
        }
        if let text = String(validating: b, as: UTF8.self) {
            return (text, .utf8)
        }
        if isUTF8CutInLastCharacter(b) {
            return (String(decoding: b, as: UTF8.self), .utf8)
        }
        return (Windows1252.decode(b), .windows1252)
    }

    private static func decodeUTF16(_ bytes: ArraySlice<UInt8>, bigEndian: Bool) -> String {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2 + 1)
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            let first = UInt16(bytes[i]), second = UInt16(bytes[i + 1])
            units.append(bigEndian ? first << 8 | second : second << 8 | first)
            i += 2
        }
        if i < bytes.endIndex { units.append(0xFFFD) }  // odd trailing byte
        return String(decoding: units, as: UTF16.self)
    }

    private static func decodeUTF32(_ bytes: ArraySlice<UInt8>, bigEndian: Bool) -> String {
        var units: [UInt32] = []
        units.reserveCapacity(bytes.count / 4 + 1)
        var i = bytes.startIndex
        while i + 3 < bytes.endIndex {
            var value: UInt32 = 0
            for k in 0..<4 {
                let byte = UInt32(bytes[bigEndian ? i + k : i + 3 - k])
                value = value << 8 | byte
            }
            units.append(value)
            i += 4
        }
        if i < bytes.endIndex { units.append(0xFFFD) }  // 1–3 trailing bytes
        return String(decoding: units, as: UTF32.self)
    }

    /// True when the bytes are valid UTF-8 except for an incomplete last character.
    private static func isUTF8CutInLastCharacter(_ bytes: ArraySlice<UInt8>) -> Bool {
        // Find the lead byte of the last character (at most 3 bytes back).
        var lead = bytes.endIndex
        for back in 1...3 {
            let i = bytes.endIndex - back
            guard i >= bytes.startIndex else { return false }
            let byte = bytes[i]
            if byte & 0xC0 == 0x80 { continue }  // continuation byte
            lead = i
            break
        }
        guard lead < bytes.endIndex else { return false }
        let byte = bytes[lead]
        let expected = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
        guard byte >= 0xC2, byte <= 0xF4, bytes.endIndex - lead < expected else { return false }
        return String(validating: bytes[..<lead], as: UTF8.self) != nil
    }
}
