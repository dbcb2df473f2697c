/// The addresses `hlsify preview` may listen on: IPv4 loopback (127.0.0.0/8), so that an output
/// folder is never published to the network by accident.
public enum LoopbackAddress {
    /// The dotted-quad form of `host` when it is an IPv4 loopback address (`localhost` reads as
    /// 127.0.0.1); nil for anything else, including non-canonical forms like `127.1` or `0127.0.0.1`.
    public static func parse(_ host: String) -> String? {
        if host.lowercased() == "localhost" { return "127.0.0.1" }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [Int] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || part.first != "0", let value = Int(part), value <= 255 else { return nil }
            octets.append(value)
        }
        guard octets[0] == 127 else { return nil }
        return octets.map(String.init).joined(separator: ".")
    }
}
