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

/// A parsed HTTP/1.x request head (RFC 9112 §2–5). The server reads no request bodies:
/// `bodyLength` says how many bytes to skip, `hasChunkedBody` that the connection must close.
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

    /// Most bytes a request head may take, request line and fields with their line ends.
    public static let maxHeadSize = 16 * 1024
    /// Most header fields in one request.
    public static let maxFieldCount = 100

    /// Where the head in `buffer` ends: the count of bytes up to and including the empty line
    /// (CRLF CRLF, or bare LFs), or nil when no complete head is there yet. Empty lines before
    /// the request line (RFC 9112 §2.2) count as part of the head.
    public static func headLength<C: Collection>(in buffer: C) -> Int? where C.Element == UInt8, C.Index == Int {
        var index = buffer.startIndex
        // Skip leading CRLFs.
        while index < buffer.endIndex, buffer[index] == 0x0D || buffer[index] == 0x0A { index += 1 }
        var lineStart = index
        while index < buffer.endIndex {
            if buffer[index] == 0x0A {
                let lineLength = index - lineStart
                if lineLength == 0 || (lineLength == 1 && buffer[lineStart] == 0x0D) {
                    return index + 1 - buffer.startIndex
                }
                lineStart = index + 1
            }
            index += 1
        }
        return nil
    }

    /// Parses a request head (what `headLength(in:)` delimits).
    ///
    /// Rejects, with the status to answer: a malformed request line or field line (400), control
    /// characters (400), obsolete line folding (400), a version other than 1.0 or 1.1 (505, or 400
    /// when not an HTTP version), an HTTP/1.1 request without exactly one Host (400), a bad or
    /// conflicting Content-Length or one beside Transfer-Encoding (400), more than
    /// `maxFieldCount` fields or a head over `maxHeadSize` bytes (431).
    public static func parse<C: Collection>(head: C) throws -> HTTPRequest where C.Element == UInt8 {
        guard head.count <= maxHeadSize else { throw HTTPRequestError(.headerFieldsTooLarge, "request head over \(maxHeadSize) bytes") }
        // Lines split on bytes (in a Swift String "\r\n" is one Character), each decoded as
        // ISO-8859-1: every byte one Unicode scalar, so nothing fails to decode.
        var lines = Array(head).split(separator: 0x0A, omittingEmptySubsequences: false).map { bytes -> Substring in
            let line = bytes.last == 0x0D ? bytes.dropLast() : bytes[...]
            var scalars = String.UnicodeScalarView()
            scalars.append(contentsOf: line.map { Unicode.Scalar($0) })
            return Substring(String(scalars))
        }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let requestLine = lines.first else { throw HTTPRequestError(.badRequest, "empty request") }

        for line in lines where line.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            throw HTTPRequestError(.badRequest, "control character in the request head")
        }

        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw HTTPRequestError(.badRequest, "request line is not METHOD TARGET VERSION") }
        let method = String(parts[0]), target = String(parts[1]), version = parts[2]
        guard !method.isEmpty, method.unicodeScalars.allSatisfy(isTokenCharacter) else {
            throw HTTPRequestError(.badRequest, "bad method")
        }
        guard !target.isEmpty, !target.unicodeScalars.contains(where: { $0 == "\t" || $0.value > 0x7E }) else {
            throw HTTPRequestError(.badRequest, "bad request target")
        }
        let minor: Int
        switch version {
        case "HTTP/1.1": minor = 1
        case "HTTP/1.0": minor = 0
        default:
            let digits = version.dropFirst(5)
            if version.hasPrefix("HTTP/"), digits.count == 3, digits.dropFirst().first == ".",
               digits.first?.isASCII == true, digits.first?.isNumber == true,
               digits.last?.isASCII == true, digits.last?.isNumber == true {
                throw HTTPRequestError(.httpVersionNotSupported, "HTTP version \(digits) not supported")
            }
            throw HTTPRequestError(.badRequest, "bad HTTP version")
        }

        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard line.first != " ", line.first != "\t" else {
                throw HTTPRequestError(.badRequest, "obsolete line folding in a header field")
            }
            guard let colon = line.firstIndex(of: ":") else { throw HTTPRequestError(.badRequest, "header line without a colon") }
            let name = line[..<colon]
            guard !name.isEmpty, name.unicodeScalars.allSatisfy(isTokenCharacter) else {
                throw HTTPRequestError(.badRequest, "bad header field name")
            }
            headers.add(String(name), line[line.index(after: colon)...].trimming(" \t"))
            guard headers.fields.count <= maxFieldCount else {
                throw HTTPRequestError(.headerFieldsTooLarge, "more than \(maxFieldCount) header fields")
            }
        }

        if minor == 1, headers.values("Host").count != 1 {
            throw HTTPRequestError(.badRequest, "an HTTP/1.1 request needs exactly one Host field")
        }
        let chunked = !headers.values("Transfer-Encoding").isEmpty
        var bodyLength = 0
        let lengths = headers.values("Content-Length").flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimming(" \t") }
        if !lengths.isEmpty {
            guard !chunked else { throw HTTPRequestError(.badRequest, "both Content-Length and Transfer-Encoding") }
            guard let first = lengths.first, !first.isEmpty, first.count <= 18,
                  first.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }),
                  lengths.allSatisfy({ $0 == first }), let value = Int(first) else {
                throw HTTPRequestError(.badRequest, "bad Content-Length")
            }
            bodyLength = value
        }
        return HTTPRequest(method: method, target: target, minorVersion: minor, headers: headers,
                           bodyLength: bodyLength, hasChunkedBody: chunked)
    }

    /// tchar of RFC 9110 §5.6.2.
    static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": return true
        default: return "!#$%&'*+-.^_`|~".unicodeScalars.contains(scalar)
        }
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
