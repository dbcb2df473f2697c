/// FNV-1a hashes of a text's UTF-8 bytes, as fixed-width lowercase hex: short, stable names
/// derived from long or unsafe ones (work folders, staging folders). Not for security.
public enum FNV1a {
    /// 64-bit FNV-1a, 16 hex digits.
    public static func hex64(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return padded(String(hash, radix: 16), to: 16)
    }

    /// 32-bit FNV-1a, 8 hex digits.
    public static func hex32(_ text: String) -> String {
        var hash: UInt32 = 0x811c_9dc5
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        return padded(String(hash, radix: 16), to: 8)
    }

    private static func padded(_ hex: String, to width: Int) -> String {
        String(repeating: "0", count: width - hex.count) + hex
    }
}
