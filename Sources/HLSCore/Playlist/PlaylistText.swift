// Text forms shared by the playlist writers and the parser (RFC 8216 §4.2).

enum PlaylistText {
    /// `value` with exactly `decimals` digits after the point, rounded half away from zero:
    /// fixed(4.0, 6) = "4.000000", fixed(29.97003, 3) = "29.970". Not-a-number prints as 0;
    /// magnitudes beyond 9e12 are clamped. For at most 6 decimals.
    static func fixed(_ value: Double, decimals: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let finite = value.isNaN ? 0 : min(max(value, -9e12), 9e12)
        let scaled = UInt64((abs(finite) * Double(scale)).rounded())
        let whole = scaled / scale, fraction = scaled % scale
        let sign = finite < 0 && scaled != 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(whole) }
        let digits = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: decimals - digits.count) + digits
    }

    /// The attributes EXT-X-STREAM-INF and EXT-X-I-FRAME-STREAM-INF share, in this order:
    /// BANDWIDTH, AVERAGE-BANDWIDTH (when positive), CODECS (when any), RESOLUTION (when both
    /// sides are positive).
    static func streamAttributes(bandwidth: Int, averageBandwidth: Int, codecs: [String], width: Int, height: Int) -> [String] {
        var attributes = ["BANDWIDTH=\(max(bandwidth, 0))"]
        if averageBandwidth > 0 { attributes.append("AVERAGE-BANDWIDTH=\(averageBandwidth)") }
        if !codecs.isEmpty { attributes.append("CODECS=\(quoted(codecs.joined(separator: ",")))") }
        if width > 0, height > 0 { attributes.append("RESOLUTION=\(width)x\(height)") }
        return attributes
    }

    /// A quoted-string attribute value: `"…"` without the characters a quoted-string may not hold
    /// (double quote, CR, LF).
    static func quoted(_ text: String) -> String {
        "\"" + text.filter { $0 != "\"" && $0 != "\r" && $0 != "\n" && $0 != "\r\n" } + "\""
    }

    /// A URI line: CR and LF removed so that one URI stays one line.
    static func uriLine(_ uri: String) -> String {
        uri.filter { $0 != "\r" && $0 != "\n" && $0 != "\r\n" }
    }

    /// Splits an attribute-list (`A=1,B="x,y"`) into names and raw values; quoted values lose their quotes.
    /// nil when the list is malformed.
    static func attributes(_ list: Substring) -> [String: String]? {
        var result: [String: String] = [:]
        var rest = list[...]
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "=") else { return nil }
            let name = String(rest[..<equals])
            guard !name.isEmpty else { return nil }
            rest = rest[rest.index(after: equals)...]
            let value: Substring
            if rest.first == "\"" {
                let body = rest.dropFirst()
                guard let close = body.firstIndex(of: "\"") else { return nil }
                value = body[..<close]
                rest = body[body.index(after: close)...]
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end]
                rest = rest[end...]
            }
            result[name] = String(value)
            if rest.first == "," {
                rest = rest.dropFirst()
                guard !rest.isEmpty else { return nil }
            } else if !rest.isEmpty {
                return nil
            }
        }
        return result
    }
}
