import Glibc

/// The statuses the preview server answers with.
public enum HTTPStatus: Int, Sendable, Equatable {
    case ok = 200
    case partialContent = 206
    case badRequest = 400
    case forbidden = 403
    case notFound = 404
    case methodNotAllowed = 405
    case requestTimeout = 408
    case rangeNotSatisfiable = 416
    case misdirectedRequest = 421
    case headerFieldsTooLarge = 431
    case internalServerError = 500
    case notImplemented = 501
    case serviceUnavailable = 503
    case httpVersionNotSupported = 505

    public var code: Int { rawValue }

    public var reason: String {
        switch self {
        case .ok: return "OK"
        case .partialContent: return "Partial Content"
        case .badRequest: return "Bad Request"
        case .forbidden: return "Forbidden"
        case .notFound: return "Not Found"
        case .methodNotAllowed: return "Method Not Allowed"
        case .requestTimeout: return "Request Timeout"
        case .rangeNotSatisfiable: return "Range Not Satisfiable"
        case .misdirectedRequest: return "Misdirected Request"
        case .headerFieldsTooLarge: return "Request Header Fields Too Large"
        case .internalServerError: return "Internal Server Error"
        case .notImplemented: return "Not Implemented"
        case .serviceUnavailable: return "Service Unavailable"
        case .httpVersionNotSupported: return "HTTP Version Not Supported"
        }
    }
}

/// A response: status, header fields, and a body held in memory or read from an open file.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case none
        case bytes([UInt8])
        /// `length` bytes of `file` from `offset`, streamed in chunks.
        case file(OpenFile, offset: Int, length: Int)

        public var length: Int {
            switch self {
            case .none: return 0
            case .bytes(let bytes): return bytes.count
            case .file(_, _, let length): return length
            }
        }
    }

    public var status: HTTPStatus
    /// Fields besides Content-Length, Connection, Date and Server, which the writer adds.
    public var headers: HTTPHeaders
    public var body: Body
    /// Close the connection after this response whatever the client asked.
    public var closeConnection: Bool

    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: Body = .none, closeConnection: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.closeConnection = closeConnection
    }

    /// A short text/plain response (`404 Not Found` and a line saying why).
    public static func error(_ status: HTTPStatus, _ detail: String? = nil, close: Bool = false) -> HTTPResponse {
        var text = "\(status.code) \(status.reason)\n"
        if let detail { text += detail + "\n" }
        var headers = HTTPHeaders([("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-cache")])
        if status == .methodNotAllowed { headers.add("Allow", "GET, HEAD") }
        return HTTPResponse(status: status, headers: headers, body: .bytes(Array(text.utf8)), closeConnection: close)
    }

    /// The status line and header fields, ending with the empty line. Content-Length is the
    /// body's length (also for HEAD, which then sends no body).
    public func head(keepAlive: Bool, date: String) -> [UInt8] {
        var text = "HTTP/1.1 \(status.code) \(status.reason)\r\n"
        text += "Date: \(date)\r\nServer: hlsify\r\n"
        for field in headers.fields { text += "\(field.name): \(field.value)\r\n" }
        text += "Content-Length: \(body.length)\r\n"
        text += "Connection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n"
        return Array(text.utf8)
    }
}

/// HTTP dates (RFC 9110 §5.6.7, IMF-fixdate): `Sun, 06 Nov 1994 08:49:37 GMT`.
public enum HTTPDate {
    /// The current time.
    public static func now() -> String {
        format(secondsSince1970: Int(time(nil)))
    }

    public static func format(secondsSince1970 seconds: Int) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let weekday = ((days % 7) + 7 + 4) % 7  // 1970-01-01 was a Thursday
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(names[weekday]), \(two(day)) \(months[month - 1]) \(year) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }
}
