/// A request the server could not accept, with the status to answer it with.
public struct HTTPRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    public let status: HTTPStatus
    public let message: String

    public init(_ status: HTTPStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(status.reason): \(message)" }
}

/// Header fields in the order received; names compare case-insensitively.
public struct HTTPHeaders: Equatable, Sendable {
    public private(set) var fields: [(name: String, value: String)] = []

    public init(_ fields: [(name: String, value: String)] = []) {
        self.fields = fields
    }

    public mutating func add(_ name: String, _ value: String) {
        fields.append((name, value))
    }

    /// Every value of the field `name`, in order.
    public func values(_ name: String) -> [String] {
        let key = name.lowercased()
        return fields.filter { $0.name.lowercased() == key }.map(\.value)
    }

    /// The first value of the field `name`.
    public subscript(_ name: String) -> String? { values(name).first }

    /// The comma-separated tokens of every `name` field, lowercased (`Connection: keep-alive, Upgrade`).
    public func tokens(_ name: String) -> [String] {
        values(name).flatMap { $0.split(separator: ",") }.map { $0.trimming(" \t").lowercased() }
            .filter { !$0.isEmpty }
    }

    public static func == (a: HTTPHeaders, b: HTTPHeaders) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}

/// An HTTP/1.x request head as the preview server judges and answers it (NIO's decoder parsed
/// it). The server reads no request bodies: `bodyLength` says how many bytes to skip,
/// `hasChunkedBody` that the connection must close.
public struct HTTPRequest: Equatable, Sendable {
    public var method: String
    /// The request target as sent (`/720p/index.m3u8?x=1`).
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: HTTPHeaders
    /// Content-Length, 0 when absent.
    public var bodyLength: Int
    /// Transfer-Encoding was sent: the body's length is unknown to a server that does not decode it.
    public var hasChunkedBody: Bool

    /// Whether the client lets the connection stay open after the response: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool {
        let tokens = headers.tokens("Connection")
        return minorVersion >= 1 ? !tokens.contains("close") : tokens.contains("keep-alive")
    }

    /// Most header fields in one request (431 beyond).
    public static let maxFieldCount = 100

    public init(method: String, target: String, minorVersion: Int, headers: HTTPHeaders, bodyLength: Int = 0,
                hasChunkedBody: Bool = false) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        self.bodyLength = bodyLength
        self.hasChunkedBody = hasChunkedBody
    }
}

extension StringProtocol {
    /// The text without leading and trailing characters of `set` (no Foundation needed).
    func trimming(_ set: String) -> String {
        let start = firstIndex { !set.contains($0) } ?? endIndex
        let end = lastIndex { !set.contains($0) }.map(index(after:)) ?? start
        return String(self[start..<end])
    }
}
