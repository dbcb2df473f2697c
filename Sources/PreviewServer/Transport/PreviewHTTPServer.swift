import Glibc
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `hlsify preview`'s HTTP/1.1 server on Hummingbird: GET and HEAD with keep-alive and
/// pipelining, answered by a handler (a `PreviewSite`) on one event loop.
///
/// Kept from the server it replaces, where it does better than the library's defaults: at most
/// `maxConnections` at once, a newcomer at the cap taking the place of the kept-alive connection
/// idle the longest (503 only when none is idle); every request head within `headTimeout`
/// seconds of its first byte (408), an idle kept-alive connection closed after `idleTimeout`;
/// heads over `maxHeadSize` bytes refused as they arrive (431); HTTP/1.0 and 1.1 only (505);
/// requests naming anything but loopback refused (421, see `LoopbackHost`); a client that stops
/// reading a response for `sendTimeout` seconds is disconnected. Files are streamed in
/// `chunkSize` pieces, each read when the previous one has been handed to the socket.
public struct PreviewHTTPServer: Service {
    public struct Configuration: Sendable {
        /// An IPv4 loopback address (see `LoopbackAddress`).
        public var host: String
        /// 0 lets the kernel pick a free port (`onListening` is told the one bound).
        public var port: Int
        public var maxConnections = 64
        public var headTimeout: Int64 = 10
        public var idleTimeout: Int64 = 15
        /// Seconds a response may wait for a client that stopped reading it.
        public var sendTimeout: Int64 = 30
        public var maxHeadSize = 16 * 1024
        public var chunkSize = 64 * 1024
        /// Request bodies up to this size are read and dropped (the connection stays usable); a
        /// larger one, or a chunked one, closes the connection after the response.
        public var maxDiscardedBody = 1024 * 1024
        /// Threads the handler runs on (requests answered at once, a slow bucket holding some).
        public var handlerThreads = 8

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse
    /// Receives one line per request (`GET /720p/index.m3u8 200 1234`) and per connection problem.
    public typealias Log = @Sendable (String) -> Void

    /// One event loop: connections are admitted in the order they were accepted, and a preview's
    /// traffic (one browser) needs no more. It lives as long as the process, like NIO's own
    /// singletons: shut down when `run` returned, it refused the timers a connection still
    /// closing sets (NIO logs that, and will crash on it).
    private static let eventLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    public let configuration: Configuration
    private let handler: Handler
    private let log: Log?
    private let onListening: @Sendable (Int) -> Void

    public init(configuration: Configuration, log: Log?, onListening: @escaping @Sendable (Int) -> Void,
                handler: @escaping Handler) {
        self.configuration = configuration
        self.handler = handler
        self.log = log
        self.onListening = onListening
    }

    /// Serves until graceful shutdown (busy connections finish their response) or cancellation.
    /// - Throws: `NIOCore.IOError` when the address cannot be bound (`errnoCode` EADDRINUSE, …).
    public func run() async throws {
        let configuration = self.configuration, handler = self.handler, log = self.log
        // The handler may block (a bucket's object fetched over HTTP, retried): it runs on threads
        // of its own, never on the task pool the server's connections share.
        let pool = NIOThreadPool(numberOfThreads: configuration.handlerThreads)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let limits = ConnectionGate.Limits(headTimeout: .seconds(configuration.headTimeout),
                                           idleTimeout: .seconds(configuration.idleTimeout),
                                           maxHeadSize: configuration.maxHeadSize, sendTimeout: .seconds(configuration.sendTimeout))
        let channel = PreviewChannel(
            responder: { request, writer, _ in
                try await Self.respond(to: request, writer: writer, chunkSize: configuration.chunkSize, log: log) { ours in
                    try await pool.runIfActive { handler(ours) }
                }
            },
            registry: ConnectionRegistry(capacity: configuration.maxConnections, log: log),
            limits: limits, maxDiscardedBody: configuration.maxDiscardedBody, log: log)
        let group = Self.eventLoop
        var quiet = Logger(label: "hlsify.preview", factory: { _ in SwiftLogNoOpLogHandler() })
        quiet.logLevel = .critical
        let onListening = self.onListening
        let server = channel.server(
            configuration: ServerConfiguration(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { onListening($0.localAddress?.port ?? 0) },
            eventLoopGroup: group, logger: quiet)
        try await server.run()
    }

    /// Answers one request: `handler`'s response, with `Connection` as the request asked
    /// (`RequestGate` made it `close` or `keep-alive`), the body left out for HEAD.
    static func respond(to request: Request, writer: consuming ResponseWriter, chunkSize: Int, log: Log?,
                        handler: (HTTPRequest) async throws -> HTTPResponse) async throws {
        let ours = HTTPRequest(request)
        let response = try await handler(ours)
        let keepAlive = request.headers[.connection] != "close"
        var fields = HTTPFields()
        fields[.date] = HTTPDate.now()
        fields[.server] = "hlsify"
        for field in response.headers.fields {
            if let name = HTTPField.Name(field.name) { fields.append(HTTPField(name: name, value: field.value)) }
        }
        fields[.contentLength] = String(response.body.length)
        fields[.connection] = keepAlive ? "keep-alive" : "close"
        let head = HTTPTypes.HTTPResponse(status: .init(code: response.status.code, reasonPhrase: response.status.reason),
                                          headerFields: fields)
        log?("\(ours.method) \(ours.target) \(response.status.code) \(response.body.length)")
        switch request.method == .head ? .none : response.body {
        case .none:
            try await writer.writeResponse(head)
        case .bytes(let bytes):
            try await writer.write(response: head, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        case .file(let file, let offset, let length):
            var body = try await writer.writeHead(head)
            var position = offset, remaining = length
            while remaining > 0 {
                var buffer = ByteBufferAllocator().buffer(capacity: min(chunkSize, remaining))
                let count = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: min(chunkSize, remaining)) { space in
                    try file.read(at: position, into: UnsafeMutableRawBufferPointer(rebasing: space[0..<min(space.count, remaining)]))
                }
                // The file shrank after its size was sent: the response cannot be completed.
                guard count > 0 else { throw SystemCallError("pread(\(file.path)) (file shrank)", code: EIO) }
                try await body.write(buffer)
                position += count
                remaining -= count
            }
            try await body.finish(nil)
        }
    }
}

extension HTTPRequest {
    /// The request Hummingbird decoded, as `PreviewSite` reads it (HTTP/1.1: `RequestGate` has
    /// already judged the version and the Host).
    init(_ request: Request) {
        var headers = HTTPHeaders()
        if let authority = request.head.authority { headers.add("Host", authority) }
        for field in request.headers { headers.add(field.name.canonicalName, field.value) }
        self.init(method: request.method.rawValue, target: request.head.path ?? "/", minorVersion: 1, headers: headers,
                  bodyLength: 0, hasChunkedBody: false)
    }
}
