/// How to reach an S3-compatible server: endpoint, region, addressing style, credentials and the
/// transfer policy. Built from the environment as AWS's own SDKs and CLI read it.
public struct S3Configuration: Sendable {
    /// Path-style (`http://host/bucket/key`, what MinIO, SeaweedFS, Ceph and rclone need) or
    /// virtual-hosted (`http://bucket.host/key`, AWS's preference).
    public enum Addressing: String, Sendable, CaseIterable {
        case path, virtual
    }

    public var endpoint: S3Endpoint
    public var region: String
    public var addressing: Addressing
    public var credentials: S3Credentials
    /// Attempts after the first on 5xx answers and connection errors (never on other 4xx).
    public var retries: Int = 4
    /// First wait before a retry, seconds; doubles each time (with jitter), at most 20 s.
    public var retryDelay: Double = 0.5
    /// A transfer that moves no byte for this long is cut (and retried), seconds.
    public var stallSeconds: Int = 30
    /// Files at least this large are uploaded in parts of this size (AWS needs at least 5 MiB).
    public var multipartBytes: Int = 16 << 20
    /// Uploads running at once when a set of files is published.
    public var parallelUploads: Int = 4

    public init(endpoint: S3Endpoint, region: String, addressing: Addressing = .path, credentials: S3Credentials) {
        self.endpoint = endpoint
        self.region = region
        self.addressing = addressing
        self.credentials = credentials
    }

    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (else
    /// `AWS_DEFAULT_REGION`, else `us-east-1`), `AWS_ENDPOINT_URL` (else AWS's regional endpoint),
    /// `HLSIFY_S3_ADDRESSING` (`path`, the default, or `virtual`) and the transfer knobs
    /// `HLSIFY_S3_RETRIES`, `HLSIFY_S3_RETRY_DELAY`, `HLSIFY_S3_STALL_SECONDS`,
    /// `HLSIFY_S3_MULTIPART_BYTES`; explicit arguments win over the environment.
    /// - Throws: `StorageError.configuration` for missing credentials or a malformed value
    ///   (the message names the variable, never its value when it is a secret).
    public static func fromEnvironment(_ environment: [String: String], endpoint: String? = nil, region: String? = nil,
                                       addressing: Addressing? = nil) throws(StorageError) -> S3Configuration {
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingSpaces, !text.isEmpty else { return nil }
            return text
        }
        guard let key = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") else {
            throw .configuration("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        let chosenRegion = region ?? value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1"
        guard !chosenRegion.isEmpty, chosenRegion.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
            throw .configuration("S3 region '\(chosenRegion)' is not a region name (a-z 0-9 -)")
        }
        let endpointText = endpoint ?? value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL") ?? "https://s3.\(chosenRegion).amazonaws.com"
        let parsedEndpoint = try S3Endpoint(parsing: endpointText)
        var chosenAddressing = Addressing.path
        if let addressing { chosenAddressing = addressing } else if let text = value("HLSIFY_S3_ADDRESSING") {
            guard let parsed = Addressing(rawValue: text) else {
                throw .configuration("HLSIFY_S3_ADDRESSING must be 'path' or 'virtual', not '\(text)'")
            }
            chosenAddressing = parsed
        }
        let credentials = S3Credentials(accessKeyId: key, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
        var configuration = S3Configuration(endpoint: parsedEndpoint, region: chosenRegion, addressing: chosenAddressing,
                                            credentials: credentials)
        func number(_ name: String, _ range: ClosedRange<Double>) throws(StorageError) -> Double? {
            guard let text = value(name) else { return nil }
            guard let parsed = Double(text), range.contains(parsed) else {
                throw .configuration("\(name) must be a number in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
            }
            return parsed
        }
        if let retries = try number("HLSIFY_S3_RETRIES", 0...20) { configuration.retries = Int(retries) }
        if let delay = try number("HLSIFY_S3_RETRY_DELAY", 0...60) { configuration.retryDelay = delay }
        if let stall = try number("HLSIFY_S3_STALL_SECONDS", 1...3600) { configuration.stallSeconds = Int(stall) }
        // Below AWS's 5 MiB minimum part only for tests against servers that allow it (AWS
        // refuses such an upload when it is completed: EntityTooSmall).
        if let bytes = try number("HLSIFY_S3_MULTIPART_BYTES", Double(64 << 10)...Double(5 << 30)) {
            configuration.multipartBytes = Int(bytes)
        }
        return configuration
    }
}

/// Fixed limits of the S3 protocol.
public enum S3Limits {
    /// Smallest part of a multipart upload but the last.
    public static let minimumPartBytes = 5 << 20
    /// Most parts in one multipart upload.
    public static let maximumParts = 10_000
}

/// An access key with its secret (and a session token for temporary credentials). Printing it
/// shows the key id only.
public struct S3Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "S3Credentials(accessKeyId: \(accessKeyId), secret: <redacted>)" }
    public var debugDescription: String { description }
    /// `dump()` and reflection show the key id only too.
    public var customMirror: Mirror { Mirror(self, children: ["accessKeyId": accessKeyId]) }
}

/// `scheme://host[:port]` of the server, without a path.
public struct S3Endpoint: Sendable, Equatable, CustomStringConvertible {
    public var secure: Bool
    public var host: String
    public var port: Int?

    /// - Throws: `StorageError.configuration` unless the text is `http(s)://host[:port][/]`.
    public init(parsing text: String) throws(StorageError) {
        // Never the text itself when it holds user information (it may be a password).
        let shown = text.contains("@") ? "(with user information)" : "'\(text)'"
        let problem = StorageError.configuration("S3 endpoint \(shown) is not http(s)://host[:port]")
        var rest: Substring
        if text.hasPrefix("https://") { secure = true; rest = text.dropFirst(8) }
        else if text.hasPrefix("http://") { secure = false; rest = text.dropFirst(7) }
        else { throw problem }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@"), !rest.contains("?"), !rest.contains("#") else { throw problem }
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let parsed = Int(rest[rest.index(after: colon)...]), (1...65535).contains(parsed) else { throw problem }
            port = parsed
            host = String(rest[..<colon])
        } else {
            port = nil
            host = String(rest)
        }
        guard !host.isEmpty, host.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 }) else { throw problem }
    }

    /// The `Host` header value for `host` (the port only when it is not the scheme's default).
    func hostHeader(_ host: String) -> String {
        guard let port, port != (secure ? 443 : 80) else { return host }
        return "\(host):\(port)"
    }

    public var description: String { (secure ? "https://" : "http://") + hostHeader(host) }
}

extension String {
    var trimmingSpaces: String {
        // Characters, not bytes: "\r\n" is one Character, which `isWhitespace` covers.
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
