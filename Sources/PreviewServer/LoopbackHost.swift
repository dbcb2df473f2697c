/// The names a request may give this server by: the defence against DNS rebinding.
///
/// A web page on `evil.example` whose name is then made to resolve to 127.0.0.1 can have the
/// browser send requests to this port, and read the answers as its own origin; but the browser
/// says `Host: evil.example[:port]`. So only requests naming loopback are served: `localhost`
/// (any case), a canonical IPv4 loopback literal (127.0.0.0/8, as `LoopbackAddress` reads it) or
/// `[::1]`, each with an optional port.
///
/// The port is not compared with the listening one: a forwarded port (`ssh -L 9000:127.0.0.1:8080`)
/// arrives as `localhost:9000`, and a rebinding page cannot choose a loopback name, whatever the
/// port, so the comparison would refuse real uses and stop no attack.
///
/// HTTP/1.0 without Host is served (browsers always send Host, so a rebinding page cannot
/// leave it out; `curl -0` and small scripts can); HTTP/1.1 without exactly one Host is a 400. An absolute-form target (`GET http://host/path`) must name
/// loopback too, since RFC 9112 §3.2.2 makes its authority override Host.
public enum LoopbackHost {
    /// Whether `authority` (a Host field value, or the authority of an absolute-form target) is
    /// a loopback name with an optional port (1–5 digits, at most 65535). No user info, no
    /// trailing dot, no other IPv6 spelling than `[::1]`.
    public static func accepts(_ authority: String) -> Bool {
        var name = Substring(authority)
        if let colon = name.lastIndex(of: ":"), !name[colon...].contains("]") {
            let port = name[name.index(after: colon)...]
            guard (1...5).contains(port.count), port.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = Int(port), value <= 65_535 else { return false }
            name = name[..<colon]
        }
        return name == "[::1]" || LoopbackAddress.parse(String(name)) != nil
    }

    /// Throws a 421 (Misdirected Request) when `request` names anything but loopback in its
    /// Host field or its absolute-form target, and a 400 for an HTTP/1.1 request without exactly one Host.
    public static func check(_ request: HTTPRequest) throws {
        let hosts = request.headers.values("Host")
        if hosts.count != 1, request.minorVersion >= 1 {
            throw HTTPRequestError(.badRequest, "an HTTP/1.1 request needs exactly one Host field")
        }
        for host in hosts where !accepts(host) {
            throw HTTPRequestError(.misdirectedRequest, "this server answers only to localhost and loopback addresses, not to Host '\(host)'")
        }
        if let authority = absoluteFormAuthority(request.target), !accepts(authority) {
            throw HTTPRequestError(.misdirectedRequest, "this server answers only to localhost and loopback addresses, not to '\(authority)'")
        }
    }

    /// The authority of an absolute-form target (`127.0.0.1:8080` in `http://127.0.0.1:8080/a`);
    /// nil for the origin form (`/a`).
    static func absoluteFormAuthority(_ target: String) -> String? {
        for scheme in ["http://", "https://"] where target.lowercased().hasPrefix(scheme) {
            let rest = target.dropFirst(scheme.count)
            return String(rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" })
        }
        return nil
    }
}
