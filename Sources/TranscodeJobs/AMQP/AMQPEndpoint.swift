import Foundation

/// Where the broker is: `amqp://user:password@host:port/vhost`.
///
/// User and password default to `guest`, the port to 5672, the vhost to `/` (an empty path or a
/// lone `/`; `/%2F` also means `/`, any other path is the vhost name, percent-decoded).
/// `amqps` is refused: the worker links librabbitmq without TLS.
public struct AMQPEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var vhost: String
    public var user: String
    public var password: String

    public init(host: String = "127.0.0.1", port: Int = 5672, vhost: String = "/", user: String = "guest", password: String = "guest") {
        self.host = host
        self.port = port
        self.vhost = vhost
        self.user = user
        self.password = password
    }

    /// - Throws: `AMQPError.invalidURL` saying what is wrong (the password is never repeated).
    public init(url text: String) throws(AMQPError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased() else {
            throw AMQPError.invalidURL("not a URL; write amqp://user:password@host:port/vhost")
        }
        guard scheme == "amqp" else {
            throw AMQPError.invalidURL(scheme == "amqps" ? "amqps (TLS) is not supported; use amqp://" : "the scheme must be amqp://, not \(scheme)://")
        }
        guard let host = components.host, !host.isEmpty else {
            throw AMQPError.invalidURL("no host; write amqp://user:password@host:port/vhost")
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let port = components.port {
            guard (1...65535).contains(port) else { throw AMQPError.invalidURL("port \(port) is out of range") }
            self.port = port
        } else {
            self.port = 5672
        }
        self.user = components.user ?? "guest"
        self.password = components.password ?? "guest"
        let path = components.percentEncodedPath
        if path.isEmpty || path == "/" {
            vhost = "/"
        } else {
            let name = String(path.dropFirst())
            guard !name.contains("/") else {
                throw AMQPError.invalidURL("the vhost must be one path segment (encode / as %2F)")
            }
            guard let decoded = name.removingPercentEncoding, !decoded.isEmpty else {
                throw AMQPError.invalidURL("the vhost is not valid percent-encoding")
            }
            vhost = decoded
        }
        if components.query != nil {
            throw AMQPError.invalidURL("query parameters are not supported; use the worker's options (--heartbeat, …)")
        }
    }

    /// The nodes of one cluster, from URLs separated by commas (`amqp://h:5672/,amqp://h:5673/`),
    /// the first tried first.
    /// - Throws: `AMQPError.invalidURL` for the first URL that is not valid (or none at all).
    public static func cluster(_ text: String) throws(AMQPError) -> [AMQPEndpoint] {
        let urls = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !urls.isEmpty else { throw AMQPError.invalidURL("no URL; write amqp://user:password@host:port/vhost") }
        var nodes: [AMQPEndpoint] = []
        for url in urls { nodes.append(try AMQPEndpoint(url: url)) }
        return nodes
    }

    /// The URL with the password hidden, for logs.
    public var description: String {
        let vhostPart = vhost == "/" ? "" : (vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? vhost)
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "amqp://\(user):***@\(hostPart):\(port)/\(vhostPart)"
    }
}
