import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// The worker's operator endpoints on one Hummingbird HTTP/1.1 server: `GET /metrics` (the
/// Prometheus exposition), `GET /healthz` and `GET /readyz` (200, or 503 with the reason). HEAD
/// is answered like GET without a body; other methods get 405 with `Allow`, other paths 404.
/// Request heads (request line and headers together) are limited to 8 KiB (a larger one is
/// answered 400 and the connection closed while it is read); the first must arrive within 10 s
/// of connecting, the next within 30 s of the previous response (an idle connection is closed).
public struct OperatorServer: Service {
    public let host: String
    public let port: Int
    private let metrics: PrometheusMetrics
    private let health: any HealthProbe
    private let logger: Logger
    private let onListening: @Sendable (String, Int) -> Void
    /// Says when the server listens, or why it could not (a port in use): start the services
    /// that depend on it with `AfterListening`.
    public let listening = ListeningSignal()

    /// Largest request head (request line and headers) read, bytes.
    public static let maximumHeadBytes = 8 * 1024
    /// Seconds a client has to send its first request head (default).
    public static let headSeconds: Int64 = 10
    /// Seconds a kept-alive connection may stay idle between a response and the next request head.
    public static let idleSeconds: Int64 = 30
    private let headTimeout: Int64

    /// - Parameters:
    ///   - host: the address to listen on (a loopback address unless the operator chose otherwise).
    ///   - port: 0 takes a free port; `onListening` is told the one bound.
    ///   - headTimeout: seconds a client has to send a whole request head.
    public init(host: String, port: Int, metrics: PrometheusMetrics, health: any HealthProbe, logger: Logger,
                headTimeout: Int64 = OperatorServer.headSeconds, onListening: @escaping @Sendable (String, Int) -> Void) {
        self.headTimeout = headTimeout
        self.host = host
        self.port = port
        self.metrics = metrics
        self.health = health
        self.logger = logger
        self.onListening = onListening
    }

    /// Serves until the service group shuts it down.
    /// - Throws: when the address cannot be bound (`listening` says so too).
    public func run() async throws {
        let metrics = self.metrics, health = self.health, host = self.host, onListening = self.onListening
        let listening = self.listening
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            Self.respond(to: request, metrics: metrics, health: health)
        }
        var http = HTTP1Channel.Configuration(additionalChannelHandlers: [HeadDeadline(first: headTimeout, between: Self.idleSeconds)],
                                              idleTimeout: .seconds(Self.idleSeconds))
        http.httpDecoder = .init(maxHeaderFieldSize: Self.maximumHeadBytes, maxHeaderListSize: Self.maximumHeadBytes,
                                 maxHeaderFieldCount: 100)
        let application = Application(
            responder: responder, server: .http1(configuration: http),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                onListening(host, channel.localAddress?.port ?? 0)
                listening.listened()
            },
            logger: logger)
        do {
            try await application.run()
        } catch {
            listening.failed(error)
            throw error
        }
        // Stopped before it listened (a shutdown at start): nothing waits for ever.
        listening.failed(CancellationError())
    }

    static func respond(to request: Request, metrics: PrometheusMetrics, health: any HealthProbe) -> Response {
        let path = request.uri.path
        let text: (status: HTTPResponse.Status, body: [UInt8], type: String)
        switch path {
        case "/metrics":
            text = (.ok, metrics.exposition(), "text/plain; version=0.0.4; charset=utf-8")
        case "/healthz":
            text = health.livenessProblem().map { (.serviceUnavailable, Array("not alive: \($0)\n".utf8), "text/plain; charset=utf-8") }
                ?? (.ok, Array("ok\n".utf8), "text/plain; charset=utf-8")
        case "/readyz":
            text = health.readinessProblem().map { (.serviceUnavailable, Array("not ready: \($0)\n".utf8), "text/plain; charset=utf-8") }
                ?? (.ok, Array("ready\n".utf8), "text/plain; charset=utf-8")
        default:
            return plain(.notFound, "not found\n", head: request.method == .head)
        }
        guard request.method == .get || request.method == .head else {
            var response = plain(.methodNotAllowed, "method not allowed\n", head: false)
            response.headers[.allow] = "GET, HEAD"
            return response
        }
        var headers = HTTPFields()
        headers[.contentType] = text.type
        headers[.contentLength] = String(text.body.count)
        headers[.cacheControl] = "no-store"
        let body = request.method == .head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: text.body))
        return Response(status: text.status, headers: headers, body: body)
    }

    private static func plain(_ status: HTTPResponse.Status, _ text: String, head: Bool) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.contentLength] = String(text.utf8.count)
        return Response(status: status, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
