/// The percent-encoding SigV4 asks for: every byte but the RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) as `%XX` with upper-case hex; `/` kept only in paths.
enum URIEncoding {
    static func encode(_ text: String, keepingSlash: Bool) -> String {
        var encoded = ""
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            let unreserved = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if unreserved || (keepingSlash && byte == 0x2F) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + Hex.byte(byte, upper: true)
            }
        }
        return encoded
    }

    /// `name=value&…` with both encoded, sorted by name then value: SigV4's canonical query,
    /// and the query string sent (so what is signed is what goes on the wire).
    static func query(_ items: [(String, String)]) -> String {
        items.map { (encode($0.0, keepingSlash: false), encode($0.1, keepingSlash: false)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }
}

/// Lower- or upper-case hexadecimal text of bytes.
enum Hex {
    private static let lower = Array("0123456789abcdef".utf8), upper = Array("0123456789ABCDEF".utf8)

    static func byte(_ byte: UInt8, upper useUpper: Bool = false) -> String {
        let digits = useUpper ? upper : lower
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }

    static func string<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(lower[Int(byte >> 4)])
            out.append(lower[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
