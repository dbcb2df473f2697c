import Foundation

/// A small, strict client for S3-compatible servers: every request signed with SigV4 (the payload
/// by its SHA-256), retried on 5xx answers and connection failures (never on other 4xx), and
/// turned into a `StorageError` that names the address and the server's error code, never a
/// credential.
///
/// Calls block the calling thread (libcurl's easy interface); many threads may call at once
/// (each takes a connection of its own from a pool, kept alive between calls).
public final class S3Client: @unchecked Sendable {  // the pool is under its lock; the rest is immutable
    public let configuration: S3Configuration
    private let signer: SigV4Signer
    private let isCancelled: @Sendable () -> Bool
    private let poolLock = NSLock()
    private var pool: [CurlHandle] = []

    /// - Parameter isCancelled: polled during transfers and retry waits; true stops them with
    ///   `StorageError.cancelled`.
    public init(configuration: S3Configuration, isCancelled: @escaping @Sendable () -> Bool = { false }) {
        self.configuration = configuration
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        self.isCancelled = isCancelled
    }

    // MARK: Objects

    /// The object's size, ETag and date; nil when there is no such key.
    /// - Throws: `StorageError` (`notFound` for a missing bucket).
    public func head(_ address: S3Address) throws(StorageError) -> ObjectInfo? {
        let response = try send("HEAD", address, missingIsNil: true)
        guard let response else { return nil }
        return ObjectInfo(key: address.key, size: Int64(response.headers["content-length"] ?? "") ?? 0,
                          etag: ObjectInfo.unquoted(response.headers["etag"]),
                          lastModified: ObjectInfo.date(response.headers["last-modified"]))
    }

    /// The object's bytes (or `range` of them, both ends inclusive), at most `limit`.
    /// - Throws: `StorageError` (`notFound`, `tooLarge` past `limit`).
    public func get(_ address: S3Address, range: ClosedRange<Int64>? = nil, limit: Int = 64 << 20) throws(StorageError) -> [UInt8] {
        let headers = range.map { [("range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []
        return try send("GET", address, headers: headers, sink: .memory(limit: limit))!.body
    }

    /// Writes the whole object into `descriptor` (an empty file open for writing), at most
    /// `limit` bytes; a retry starts the file again.
    /// - Throws: `StorageError` (`tooLarge` past `limit`, `local` for a write error).
    /// - Cost: one GET, streamed; memory independent of the object's size.
    public func download(_ address: S3Address, into descriptor: Int32, limit: Int64) throws(StorageError) -> ObjectInfo {
        let response = try send("GET", address, sink: .file(descriptor: descriptor, limit: limit))!
        return ObjectInfo(key: address.key, size: response.bytesWritten, etag: ObjectInfo.unquoted(response.headers["etag"]),
                          lastModified: ObjectInfo.date(response.headers["last-modified"]))
    }

    /// Stores `bytes` at `address`. Returns the ETag.
    public func put(_ address: S3Address, bytes: [UInt8], contentType: String, cacheControl: String? = nil) throws(StorageError) -> String {
        try put(address, body: .bytes(bytes), sha256: SigV4Signer.sha256Hex(bytes), contentType: contentType, cacheControl: cacheControl)
    }

    /// Stores a body whose SHA-256 the caller computed. Returns the ETag.
    func put(_ address: S3Address, body: RequestBody, sha256: String, contentType: String, cacheControl: String?) throws(StorageError) -> String {
        var headers = [("content-type", contentType)]
        if let cacheControl { headers.append(("cache-control", cacheControl)) }
        let response = try send("PUT", address, headers: headers, body: body, payloadHash: sha256)!
        return ObjectInfo.unquoted(response.headers["etag"])
    }

    /// Stores `bytes` at `address` unless an object is there already; true when this call made it.
    ///
    /// Sends `If-None-Match: *` (AWS, SeaweedFS and MinIO refuse with 412 when the key exists),
    /// then reads the object back: a server that ignores the condition (rclone) is caught unless
    /// two writers race within one round trip.
    public func createOnce(_ address: S3Address, bytes: [UInt8], contentType: String = "application/json") throws(StorageError) -> Bool {
        do {
            _ = try send("PUT", address, headers: [("content-type", contentType), ("if-none-match", "*")], body: .bytes(bytes),
                         payloadHash: SigV4Signer.sha256Hex(bytes))
        } catch .preconditionFailed {
            // There already, perhaps by this very call (a retry after its answer was lost): read it.
        }
        return try get(address, limit: max(1 << 20, bytes.count)) == bytes
    }

    /// Removes the object; a missing key is not an error.
    public func delete(_ address: S3Address) throws(StorageError) {
        _ = try send("DELETE", address, missingIsNil: true)
    }

    /// Copies `source` to `target` on the server (objects up to 5 GiB).
    public func copy(_ source: S3Address, to target: S3Address) throws(StorageError) {
        let sourcePath = "/" + source.bucket + "/" + URIEncoding.encode(source.key, keepingSlash: true)
        let response = try send("PUT", target, headers: [("x-amz-copy-source", sourcePath)])!
        try Self.checkNoError(in: response, shown: target.description)
    }

    /// Every object under `prefix` (its `listingPrefix`), in key order, all pages.
    /// - Throws: `StorageError` (`notFound` for a missing bucket).
    public func list(_ prefix: S3Address, limit: Int = 1_000_000) throws(StorageError) -> [ObjectInfo] {
        var objects: [ObjectInfo] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix.listingPrefix)]
            if let token { query.append(("continuation-token", token)) }
            let text = String(decoding: try send("GET", bucketOf: prefix, query: query)!.body, as: UTF8.self)
            for entry in XMLScan.elements("Contents", in: text) {
                guard let key = XMLScan.value("Key", in: entry) else { continue }
                objects.append(ObjectInfo(key: key, size: Int64(XMLScan.value("Size", in: entry) ?? "") ?? 0,
                                          etag: ObjectInfo.unquoted(XMLScan.value("ETag", in: entry)),
                                          lastModified: ObjectInfo.date(XMLScan.value("LastModified", in: entry))))
            }
            token = XMLScan.value("IsTruncated", in: text) == "true" ? XMLScan.value("NextContinuationToken", in: text) : nil
            if objects.count > limit { throw .tooLarge("\(prefix): more than \(limit) objects") }
        } while token != nil
        return objects
    }

    /// Whether the bucket of `address` exists and these credentials may list it.
    /// - Throws: `StorageError` (`notFound` names a missing bucket, `accessDenied`).
    public func checkBucket(_ address: S3Address) throws(StorageError) {
        _ = try send("GET", bucketOf: address, query: [("list-type", "2"), ("max-keys", "1"), ("prefix", address.listingPrefix)])
    }

    // MARK: Multipart uploads

    /// Starts a multipart upload; returns its id.
    public func createUpload(_ address: S3Address, contentType: String, cacheControl: String? = nil) throws(StorageError) -> String {
        var headers = [("content-type", contentType)]
        if let cacheControl { headers.append(("cache-control", cacheControl)) }
        let response = try send("POST", address, query: [("uploads", "")], headers: headers, body: .empty)!
        guard let id = XMLScan.value("UploadId", in: String(decoding: response.body, as: UTF8.self)), !id.isEmpty else {
            throw .rejected("\(address): the server started a multipart upload without an UploadId")
        }
        return id
    }

    /// Sends part `number` (1-based) of upload `id`; returns its ETag.
    func uploadPart(_ address: S3Address, id: String, number: Int, body: RequestBody, sha256: String) throws(StorageError) -> String {
        let response = try send("PUT", address, query: [("partNumber", String(number)), ("uploadId", id)], body: body, payloadHash: sha256)!
        let etag = ObjectInfo.unquoted(response.headers["etag"])
        guard !etag.isEmpty else { throw .rejected("\(address): part \(number) was stored without an ETag") }
        return etag
    }

    /// Joins the parts (number, ETag) of upload `id` into the object.
    public func completeUpload(_ address: S3Address, id: String, parts: [(Int, String)]) throws(StorageError) {
        let items = parts.map { "<Part><PartNumber>\($0.0)</PartNumber><ETag>\"\(XMLScan.escape($0.1))\"</ETag></Part>" }.joined()
        let body = Array("<CompleteMultipartUpload>\(items)</CompleteMultipartUpload>".utf8)
        let response = try send("POST", address, query: [("uploadId", id)], headers: [("content-type", "application/xml")],
                                body: .bytes(body), payloadHash: SigV4Signer.sha256Hex(body))!
        // The server may answer 200 and still fail, with an <Error> body.
        try Self.checkNoError(in: response, shown: address.description)
    }

    /// Drops upload `id` and its parts; one already gone is not an error.
    public func abortUpload(_ address: S3Address, id: String) throws(StorageError) {
        _ = try send("DELETE", address, query: [("uploadId", id)], missingIsNil: true)
    }

    /// The multipart uploads still open under `prefix`; none on a server that cannot list them
    /// (rclone answers 404 NoSuchUpload).
    public func openUploads(_ prefix: S3Address) throws(StorageError) -> [OpenUpload] {
        var uploads: [OpenUpload] = []
        var markers: (key: String, id: String)?
        repeat {
            var query = [("uploads", ""), ("prefix", prefix.listingPrefix)]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.id)] }
            guard let response = try send("GET", bucket: prefix.bucket, key: "", shown: Self.scheme(prefix.bucket), query: query,
                                          headers: [], body: .empty, payloadHash: nil, sink: .memory(limit: 64 << 20),
                                          missingIsNil: true) else { return uploads }
            let text = String(decoding: response.body, as: UTF8.self)
            for entry in XMLScan.elements("Upload", in: text) {
                if let key = XMLScan.value("Key", in: entry), let id = XMLScan.value("UploadId", in: entry) {
                    uploads.append(OpenUpload(key: key, uploadId: id))
                }
            }
            let truncated = XMLScan.value("IsTruncated", in: text) == "true"
            markers = truncated ? (XMLScan.value("NextKeyMarker", in: text) ?? "", XMLScan.value("NextUploadIdMarker", in: text) ?? "") : nil
            if uploads.count > 100_000 { break }
        } while markers != nil
        return uploads
    }

    // MARK: Presigning

    /// A URL anyone may GET `address` with for `expires` seconds (the query carries the signature:
    /// never log it).
    public func presignedURL(_ address: S3Address, expires: Int = 3600, now: Date = Date()) -> String {
        let place = location(address.bucket, key: address.key)
        let query = signer.presignedQuery(method: "GET", encodedPath: place.path, host: place.host, amzDate: SigV4Signer.amzDate(now),
                                          expires: expires)
        return place.base + place.path + "?" + URIEncoding.query(query)
    }

    // MARK: Requests

    private func send(_ method: String, bucketOf address: S3Address, query: [(String, String)]) throws(StorageError) -> HTTPResponse? {
        try send(method, bucket: address.bucket, key: "", shown: Self.scheme(address.bucket), query: query, headers: [], body: .empty,
                 payloadHash: nil, sink: .memory(limit: 64 << 20), missingIsNil: false)
    }

    private func send(_ method: String, _ address: S3Address, query: [(String, String)] = [], headers: [(String, String)] = [],
                      body: RequestBody = .empty, payloadHash: String? = nil, sink: ResponseSink = .memory(limit: 1 << 20),
                      missingIsNil: Bool = false) throws(StorageError) -> HTTPResponse? {
        try send(method, bucket: address.bucket, key: address.key, shown: address.description, query: query, headers: headers,
                 body: body, payloadHash: payloadHash, sink: sink, missingIsNil: missingIsNil)
    }

    private static func scheme(_ bucket: String) -> String { S3Address.scheme + bucket }

    /// Signs and sends one request, retrying as `RetryPolicy` says. Returns nil for a 404 when
    /// `missingIsNil` (a missing key; a missing bucket still throws).
    private func send(_ method: String, bucket: String, key: String, shown: String, query: [(String, String)],
                      headers extra: [(String, String)], body: RequestBody, payloadHash: String?, sink: ResponseSink,
                      missingIsNil: Bool) throws(StorageError) -> HTTPResponse? {
        let place = location(bucket, key: key)
        let queryText = URIEncoding.query(query)
        let url = place.base + place.path + (query.isEmpty ? "" : "?" + queryText)
        let hash = payloadHash ?? SigV4Signer.emptyPayloadHash
        let policy = RetryPolicy(retries: configuration.retries, delay: configuration.retryDelay)
        var attempt = 0
        while true {
            let amzDate = SigV4Signer.amzDate(Date())
            var headers = extra + [("host", place.host), ("x-amz-date", amzDate), ("x-amz-content-sha256", hash)]
            if let token = configuration.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
            let signed = SigV4Signer.Request(method: method, encodedPath: place.path, query: query, headers: headers, payloadHash: hash)
            headers.append(("authorization", signer.authorization(signed, amzDate: amzDate)))
            let request = HTTPRequest(method: method, url: url, headers: headers, body: body)
            let outcome: Result<HTTPResponse, TransportFailure>
            do {
                try Self.rewind(sink)
                let handle = try takeHandle()
                let cancelled = isCancelled
                outcome = .success(try handle.perform(request, sink: sink, stallSeconds: configuration.stallSeconds, isCancelled: { cancelled() }))
                giveBack(handle)
            } catch {
                outcome = .failure(error)
            }
            let retryCause: String
            switch outcome {
            case .failure(.cancelled): throw .cancelled
            case .failure(.local(let message)): throw .local("\(shown): \(message)")
            case .failure(.tooLarge(let limit)): throw .tooLarge("\(shown): larger than \(limit) bytes")
            case .failure(.connection(let message)): retryCause = message
            case .success(let response):
                if response.status < 300 { return response }
                if response.status == 404 && missingIsNil && Self.errorCode(response) != "NoSuchBucket" { return nil }
                guard RetryPolicy.isRetryable(status: response.status, code: Self.errorCode(response)) else {
                    throw Self.failure(response, shown: shown)
                }
                retryCause = Self.statusText(response)
                if attempt >= policy.retries { throw .unavailable("\(shown): the server kept failing (\(retryCause)) after \(attempt + 1) attempts") }
            }
            if attempt >= policy.retries { throw .unavailable("\(shown): \(retryCause) after \(attempt + 1) attempts") }
            attempt += 1
            guard policy.wait(before: attempt, isCancelled: isCancelled) else { throw .cancelled }
        }
    }

    /// Scheme, host and the encoded path of `key` in `bucket`, path-style or virtual-hosted.
    private func location(_ bucket: String, key: String) -> (base: String, host: String, path: String) {
        let endpoint = configuration.endpoint
        let scheme = endpoint.secure ? "https://" : "http://"
        let encodedKey = URIEncoding.encode(key, keepingSlash: true)
        switch configuration.addressing {
        case .path:
            let host = endpoint.hostHeader(endpoint.host)
            return (scheme + host, host, "/" + bucket + (key.isEmpty ? "/" : "/" + encodedKey))
        case .virtual:
            let host = endpoint.hostHeader(bucket + "." + endpoint.host)
            return (scheme + host, host, "/" + encodedKey)
        }
    }

    /// Before a (re)try: a file sink starts again from its beginning.
    private static func rewind(_ sink: ResponseSink) throws(TransportFailure) {
        guard case .file(let descriptor, _) = sink else { return }
        guard ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw .local("truncating the download: \(String(cString: strerror(errno)))")
        }
    }

    private static func errorCode(_ response: HTTPResponse) -> String? {
        XMLScan.value("Code", in: String(decoding: response.errorBody, as: UTF8.self))
    }

    private static func statusText(_ response: HTTPResponse) -> String {
        "\(response.status)" + (errorCode(response).map { " \($0)" } ?? "")
    }

    /// The error of a final (non-retryable) answer.
    private static func failure(_ response: HTTPResponse, shown: String) -> StorageError {
        let code = errorCode(response)
        switch (response.status, code) {
        case (_, "NoSuchBucket"): return .notFound("\(shown): no such bucket")
        case (404, "NoSuchKey"), (404, nil): return .notFound("\(shown): no such key")
        case (404, _): return .notFound("\(shown): not found (\(code!))")
        case (401, _), (403, _):
            return .accessDenied("\(shown): access denied (\(code ?? "HTTP \(response.status)")): check the S3 credentials and region")
        case (412, _): return .preconditionFailed("\(shown): the object exists already (412)")
        case (416, _): return .rejected("\(shown): the range asked for is outside the object")
        default: return .rejected("\(shown): refused by the server (\(statusText(response)))")
        }
    }

    /// A 200 answer whose body is an `<Error>` (CompleteMultipartUpload and CopyObject may do that).
    private static func checkNoError(in response: HTTPResponse, shown: String) throws(StorageError) {
        let text = String(decoding: response.body, as: UTF8.self)
        if text.contains("<Error>"), let code = XMLScan.value("Code", in: text) {
            throw code == "InternalError" || code == "SlowDown" ? .unavailable("\(shown): the server failed (\(code))")
                : .rejected("\(shown): refused by the server (\(code))")
        }
    }

    private func takeHandle() throws(TransportFailure) -> CurlHandle {
        if let handle = poolLock.withLock({ pool.popLast() }) { return handle }
        return try CurlHandle()
    }

    private func giveBack(_ handle: CurlHandle) {
        poolLock.withLock { if pool.count < 16 { pool.append(handle) } }
    }
}
