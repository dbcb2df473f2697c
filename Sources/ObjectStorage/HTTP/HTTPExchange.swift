/// One HTTP request as the client sends it: everything already signed.
struct HTTPRequest {
    var method: String
    /// Full URL (scheme, host, encoded path, query).
    var url: String
    var headers: [(String, String)]
    var body: RequestBody = .empty
}

/// Where a request's body comes from; it can be read again from its start for a retry.
enum RequestBody {
    case empty
    case bytes([UInt8])
    /// `length` bytes of the open file `descriptor` from `offset` (read with pread(2), so one
    /// descriptor serves many parts at once).
    case file(descriptor: Int32, offset: Int64, length: Int64)

    var length: Int64 {
        switch self {
        case .empty: return 0
        case .bytes(let bytes): return Int64(bytes.count)
        case .file(_, _, let length): return length
        }
    }
}

/// Where a successful response's body goes. An error response's body (at most 64 KiB) always
/// goes to `HTTPResponse.errorBody`.
enum ResponseSink {
    /// Kept in memory, at most `limit` bytes (more fails the transfer as too large).
    case memory(limit: Int)
    /// Written to the open file `descriptor` from its current offset, at most `limit` bytes.
    case file(descriptor: Int32, limit: Int64)
}

/// What came back.
struct HTTPResponse {
    var status: Int
    /// Header names lower-cased; the last value of a repeated header wins.
    var headers: [String: String]
    /// The body of a successful response with a `.memory` sink.
    var body: [UInt8]
    /// The body of a response with status 300 or more (the server's XML error).
    var errorBody: [UInt8]
    /// Bytes written to a `.file` sink.
    var bytesWritten: Int64
}

/// Why a request got no HTTP response: a connection, TLS or timeout failure (curl's code and
/// words), a local file error, a body over its limit, or a cancellation.
enum TransportFailure: Error {
    case connection(String)
    case local(String)
    case tooLarge(Int64)
    case cancelled
}
