import HLSCore

/// What `hlsify preview` serves, to requests naming loopback only: the `PreviewPage` of the
/// set's master playlist at `/` and `/index.html` (made afresh for each request, so a
/// progressive transcode shows its latest state), and the set's files with ranges, for GET and
/// HEAD. The set is a folder or any other `PreviewContent` (a bucket prefix).
public struct PreviewSite: Sendable {
    public let content: any PreviewContent
    /// The page title (the folder's name).
    public let title: String
    /// The master playlist's name inside the folder.
    public static let masterName = "master.m3u8"
    /// Playlists larger than this are refused as the page's source (they are still served).
    static let maxMasterSize = 4 * 1024 * 1024

    public init(content: any PreviewContent, title: String) {
        self.content = content
        self.title = title
    }

    public init(files: StaticFiles, title: String) {
        self.init(content: files, title: title)
    }

    /// The response to `request` (the server leaves out the body for HEAD). The server has
    /// already refused requests not naming loopback (see `LoopbackHost`).
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return .error(.methodNotAllowed, "only GET and HEAD")
        }
        let path: RequestPath
        do {
            path = try RequestPath.parse(target: request.target)
        } catch let error as HTTPRequestError {
            return .error(error.status, error.message)
        } catch {
            return .error(.badRequest)
        }
        if path.components.isEmpty || path.components == ["index.html"] {
            return page()
        }
        switch content.fetch(path) {
        case .notFound: return .error(.notFound)
        case .forbidden: return .error(.forbidden)
        case .unavailable(let reason): return .error(.serviceUnavailable, reason)
        case .file(let file):
            return serve(size: file.size, name: path.relative, request: request) { .file(file, offset: $0, length: $1) }
        case .bytes(let bytes):
            return serve(size: bytes.count, name: path.relative, request: request) { .bytes(Array(bytes[$0..<$0 + $1])) }
        }
    }

    /// A file of `size` bytes, whole or the range asked for; `body` makes the body of a range
    /// (offset, length).
    func serve(size: Int, name: String, request: HTTPRequest, body: (Int, Int) -> HTTPResponse.Body) -> HTTPResponse {
        var headers = HTTPHeaders([("Content-Type", ContentType.forFile(name)), ("Accept-Ranges", "bytes"),
                                   ("X-Content-Type-Options", "nosniff")])
        if let cache = ContentType.cacheControl(forFile: name) { headers.add("Cache-Control", cache) }
        // No validators are sent, so an If-Range can never match: then the whole file (RFC 9110 §13.1.5).
        let rangeField = request.headers["If-Range"] == nil ? request.headers["Range"] : nil
        switch ByteRangeSelection.select(rangeField, size: size) {
        case .whole:
            return HTTPResponse(status: .ok, headers: headers, body: body(0, size))
        case .partial(let offset, let length):
            headers.add("Content-Range", "bytes \(offset)-\(offset + length - 1)/\(size)")
            return HTTPResponse(status: .partialContent, headers: headers, body: body(offset, length))
        case .unsatisfiable:
            var response = HTTPResponse.error(.rangeNotSatisfiable)
            response.headers.add("Content-Range", "bytes */\(size)")
            return response
        }
    }

    /// Of `candidates` (paths relative to the folder), those it holds.
    private func existing(_ candidates: [String]) -> Set<String> {
        Set(candidates.filter { candidate in
            guard let path = try? RequestPath.parse(target: "/" + candidate) else { return false }
            switch content.fetch(path) {
            case .file, .bytes: return true
            default: return false
            }
        })
    }

    /// The HTML page for the folder's current master playlist.
    func page() -> HTTPResponse {
        let master: MasterPlaylist
        let bytes: [UInt8]?
        switch content.fetch(RequestPath(components: [Self.masterName])) {
        case .notFound, .forbidden:
            return .error(.notFound, "no \(Self.masterName) in this folder")
        case .unavailable(let reason):
            return .error(.serviceUnavailable, reason)
        case .bytes(let fetched):
            bytes = fetched.count <= Self.maxMasterSize ? fetched : nil
        case .file(let file):
            do { bytes = try file.readAll(limit: Self.maxMasterSize) } catch {
                return .error(.internalServerError, "\(Self.masterName): \(error)")
            }
        }
        guard let bytes else {
            return .error(.internalServerError, "\(Self.masterName) is larger than \(Self.maxMasterSize) bytes")
        }
        do { master = try PlaylistParser.parseMaster(String(decoding: bytes, as: UTF8.self)) } catch {
            return .error(.internalServerError, "\(Self.masterName): \(error)")
        }
        let html = PreviewPage(master: master, title: title, masterURI: Self.masterName,
                               sidecars: existing(PreviewPage.sidecarCandidates(master)),
                               extraFiles: existing(PreviewPage.extraCandidates)).render()
        let headers = HTTPHeaders([("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-cache"),
                                   ("X-Content-Type-Options", "nosniff")])
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(Array(html.utf8)))
    }
}
