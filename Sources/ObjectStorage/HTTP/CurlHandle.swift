import CCurl
import Foundation

/// One libcurl easy handle, which keeps its connection to the server alive from one request to the
/// next; `deinit` frees it. Not for two threads at once (the client keeps a pool of them).
final class CurlHandle {
    private let handle: UnsafeMutableRawPointer

    /// - Throws: `TransportFailure.local` when libcurl cannot make a handle.
    init() throws(TransportFailure) {
        _ = CurlHandle.globalInit
        guard let handle = curl_easy_init() else { throw .local("curl_easy_init failed") }
        self.handle = handle
    }

    deinit { curl_easy_cleanup(handle) }

    /// curl_global_init, once per process, before the first handle.
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// Sends `request` and waits for the whole response.
    /// - Parameters:
    ///   - stallSeconds: the transfer is cut when it moves no byte for this long.
    ///   - isCancelled: polled while the transfer runs; true stops it.
    /// - Throws: `TransportFailure` when no complete response arrived.
    /// - Cost: blocks the calling thread for the transfer.
    func perform(_ request: HTTPRequest, sink: ResponseSink, stallSeconds: Int,
                 isCancelled: @escaping () -> Bool) throws(TransportFailure) -> HTTPResponse {
        curl_easy_reset(handle)
        let exchange = Exchange(body: request.body, sink: sink, isCancelled: isCancelled, handle: handle)
        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        // No "Expect: 100-continue" round trip before bodies.
        for line in request.headers.map({ "\($0.0): \($0.1)" }) + ["Expect:"] {
            guard let appended = curl_slist_append(list, line) else { throw .local("curl_slist_append failed") }
            list = appended
        }
        let context = Unmanaged.passUnretained(exchange).toOpaque()
        var codes: [CURLcode] = [
            hlsify_curl_set_string(handle, CURLOPT_URL, request.url),
            hlsify_curl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"),
            hlsify_curl_set_long(handle, CURLOPT_NOSIGNAL, 1),
            hlsify_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT, 15),
            hlsify_curl_set_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1),
            hlsify_curl_set_long(handle, CURLOPT_LOW_SPEED_TIME, stallSeconds),
            hlsify_curl_set_list(handle, CURLOPT_HTTPHEADER, list),
            hlsify_curl_set_data_callback(handle, CURLOPT_WRITEFUNCTION, writeCallback),
            hlsify_curl_set_pointer(handle, CURLOPT_WRITEDATA, context),
            hlsify_curl_set_data_callback(handle, CURLOPT_HEADERFUNCTION, headerCallback),
            hlsify_curl_set_pointer(handle, CURLOPT_HEADERDATA, context),
            hlsify_curl_set_progress_callback(handle, progressCallback),
            hlsify_curl_set_pointer(handle, CURLOPT_XFERINFODATA, context),
            hlsify_curl_set_long(handle, CURLOPT_NOPROGRESS, 0),
        ]
        switch request.method {
        case "GET": break
        case "HEAD": codes.append(hlsify_curl_set_long(handle, CURLOPT_NOBODY, 1))
        case "DELETE" where request.body.length == 0:
            codes.append(hlsify_curl_set_string(handle, CURLOPT_CUSTOMREQUEST, "DELETE"))
        default:
            // A body (possibly empty) with its length known: sent with Content-Length.
            codes.append(hlsify_curl_set_long(handle, CURLOPT_UPLOAD, 1))
            codes.append(hlsify_curl_set_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.length)))
            codes.append(hlsify_curl_set_data_callback(handle, CURLOPT_READFUNCTION, readCallback))
            codes.append(hlsify_curl_set_pointer(handle, CURLOPT_READDATA, context))
            if request.method != "PUT" { codes.append(hlsify_curl_set_string(handle, CURLOPT_CUSTOMREQUEST, request.method)) }
        }
        if let failed = codes.first(where: { $0 != CURLE_OK }) {
            throw .local("curl_easy_setopt failed: \(String(cString: curl_easy_strerror(failed)))")
        }
        let result = withExtendedLifetime(exchange) { curl_easy_perform(handle) }
        if let failure = exchange.failure { throw failure }
        guard result == CURLE_OK else { throw .connection(String(cString: curl_easy_strerror(result))) }
        var status = 0
        _ = hlsify_curl_response_code(handle, &status)
        return HTTPResponse(status: status, headers: exchange.headers, body: exchange.received, errorBody: exchange.errorBody,
                            bytesWritten: exchange.written)
    }

    /// The state of one transfer, which libcurl's callbacks reach through their user pointer.
    fileprivate final class Exchange {
        let upload: RequestBody
        let sink: ResponseSink
        let isCancelled: () -> Bool
        let handle: UnsafeMutableRawPointer
        var sent: Int64 = 0
        var headers: [String: String] = [:]
        var received: [UInt8] = []
        var errorBody: [UInt8] = []
        var written: Int64 = 0
        var status: Int?
        var failure: TransportFailure?

        init(body: RequestBody, sink: ResponseSink, isCancelled: @escaping () -> Bool, handle: UnsafeMutableRawPointer) {
            self.upload = body
            self.sink = sink
            self.isCancelled = isCancelled
            self.handle = handle
        }

        /// The final response's status, asked of libcurl at the first body byte.
        func responseStatus() -> Int {
            if let status { return status }
            var code = 0
            _ = hlsify_curl_response_code(handle, &code)
            status = code
            return code
        }
    }
}

private let errorBodyLimit = 64 << 10

private let writeCallback: hlsify_curl_data_callback = { buffer, size, count, user in
    let exchange = Unmanaged<CurlHandle.Exchange>.fromOpaque(user!).takeUnretainedValue()
    let length = size * count
    guard length > 0, let buffer else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
    if exchange.responseStatus() >= 300 {
        exchange.errorBody.append(contentsOf: bytes.prefix(max(0, errorBodyLimit - exchange.errorBody.count)))
        return length
    }
    switch exchange.sink {
    case .memory(let limit):
        guard exchange.received.count + length <= limit else {
            exchange.failure = .tooLarge(Int64(limit))
            return 0
        }
        exchange.received.append(contentsOf: bytes)
    case .file(let descriptor, let limit):
        guard exchange.written + Int64(length) <= limit else {
            exchange.failure = .tooLarge(limit)
            return 0
        }
        var done = 0
        while done < length {
            let wrote = write(descriptor, buffer + done, length - done)
            if wrote < 0 {
                if errno == EINTR { continue }
                exchange.failure = .local("write: \(String(cString: strerror(errno)))")
                return 0
            }
            done += wrote
        }
        exchange.written += Int64(length)
    }
    return length
}

private let headerCallback: hlsify_curl_data_callback = { buffer, size, count, user in
    let exchange = Unmanaged<CurlHandle.Exchange>.fromOpaque(user!).takeUnretainedValue()
    let length = size * count
    guard let buffer else { return length }
    let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        // A new response (after a 100 Continue): its headers replace the earlier ones.
        exchange.headers = [:]
        exchange.status = nil
    } else if let colon = line.firstIndex(of: ":") {
        exchange.headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingSpaces
    }
    return length
}

private let readCallback: hlsify_curl_data_callback = { buffer, size, count, user in
    let exchange = Unmanaged<CurlHandle.Exchange>.fromOpaque(user!).takeUnretainedValue()
    guard let buffer else { return 0 }
    let wanted = min(Int64(size * count), exchange.upload.length - exchange.sent)
    guard wanted > 0 else { return 0 }
    switch exchange.upload {
    case .empty: return 0
    case .bytes(let bytes):
        let start = Int(exchange.sent)
        bytes[start..<start + Int(wanted)].withUnsafeBytes { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress!, byteCount: Int(wanted))
        }
        exchange.sent += wanted
        return Int(wanted)
    case .file(let descriptor, let offset, _):
        while true {
            let read = pread(descriptor, buffer, Int(wanted), off_t(offset + exchange.sent))
            if read < 0 && errno == EINTR { continue }
            if read <= 0 {
                exchange.failure = .local(read < 0 ? "read: \(String(cString: strerror(errno)))" : "read: the file is shorter than its upload")
                return Int(CURL_READFUNC_ABORT)
            }
            exchange.sent += Int64(read)
            return read
        }
    }
}

private let progressCallback: hlsify_curl_progress_callback = { user, _, _, _, _ in
    let exchange = Unmanaged<CurlHandle.Exchange>.fromOpaque(user!).takeUnretainedValue()
    if exchange.isCancelled() {
        exchange.failure = .cancelled
        return 1
    }
    return 0
}
