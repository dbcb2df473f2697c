import NIOCore
import NIOHTTP1

/// The preview server's HTTP/1 policy, between the decoder and the conversion to HTTP types
/// (which loses the HTTP version and turns Host into an authority, both needed here):
///
/// - versions other than 1.0 and 1.1 get 505; a request not naming loopback 421, an HTTP/1.1
///   one without exactly one Host 400 (`LoopbackHost`); a malformed head 400, one with too many
///   or too large fields 431; each answered with `Connection: close`, after which nothing more
///   from the connection is read;
/// - `Connection` is set to what HTTP/1.x means (`close` for HTTP/1.0 without `keep-alive`, and
///   for bodies the server would have to read whole: chunked or over `maxDiscardedBody`), so the
///   responder and the server loop need look at nothing else;
/// - an absolute-form target (`GET http://127.0.0.1:8080/a`), once its authority is checked, is
///   passed on in origin form (`/a`).
///
/// It tells `ConnectionGate` when a head is passed on, when its request has been read to its end,
/// when it is the connection's last, and when its response has been sent.
final class RequestGate: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let connection: ConnectionGate
    private let log: (@Sendable (String) -> Void)?
    private let maxDiscardedBody: Int
    /// A request was refused: nothing more is passed on.
    private var refused = false
    /// The request passed on last closes the connection: nothing after it is passed on.
    private var lastRequest = false
    private var lastRequestEnded = false

    init(connection: ConnectionGate, maxDiscardedBody: Int, log: (@Sendable (String) -> Void)?) {
        self.connection = connection
        self.maxDiscardedBody = maxDiscardedBody
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused, !lastRequestEnded else { return }
        guard case .head(var head) = unwrapInboundIn(data) else {
            if case .end = unwrapInboundIn(data) {
                lastRequestEnded = lastRequest
                connection.requestEnded()
            }
            context.fireChannelRead(data)
            return
        }
        let request = Self.request(head)
        if let refusal = Self.refusal(of: request, version: head.version) {
            refused = true
            log?("\(head.method.rawValue) \(head.uri) \(refusal.status.code) \(refusal.body.length)")
            connection.refuse(refusal, withBody: head.method != .HEAD)
            return
        }
        // An Upgrade request makes NIO's decoder stop reading the connection after it.
        let keepAlive = request.keepAlive && !request.hasChunkedBody && request.bodyLength <= maxDiscardedBody
            && request.headers["Upgrade"] == nil
        head.headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        if let origin = Self.originForm(head.uri) { head.uri = origin }
        connection.headArrived()
        if !keepAlive {
            lastRequest = true
            connection.closeAfterResponse()
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !refused else { return }
        refused = true
        let status: HTTPStatus
        switch parserError {
        case .invalidVersion: status = connection.requestLineEndsInVersion ? .httpVersionNotSupported : .badRequest
        case .headerOverflow: status = .headerFieldsTooLarge
        default: status = .badRequest
        }
        log?("- - \(status.code) (\(parserError))")
        connection.refuse(.error(status, "malformed request (\(parserError))", close: true), withBody: true)
    }

    /// A response's end counts once its bytes are handed to the socket (or the write failed),
    /// not when it is queued: until then the connection is busy, neither idle nor evictable.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        let gate = NIOLoopBound(connection, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { result in
            gate.value.responseEnded()
            promise?.completeWith(result)
        }
        context.write(data, promise: written)
    }

    /// The request as `PreviewSite` and `LoopbackHost` read it.
    static func request(_ head: HTTPRequestHead) -> HTTPRequest {
        let headers = HTTPHeaders(head.headers.map { (name: $0.name, value: $0.value) })
        let chunked = !headers.values("Transfer-Encoding").isEmpty
        let length = headers["Content-Length"].flatMap { Int($0.trimming(" \t")) } ?? 0
        return HTTPRequest(method: head.method.rawValue, target: head.uri, minorVersion: head.version.minor == 0 ? 0 : 1,
                           headers: headers, bodyLength: length, hasChunkedBody: chunked)
    }

    /// The answer to a request the server must not serve, or nil.
    static func refusal(of request: HTTPRequest, version: HTTPVersion) -> HTTPResponse? {
        guard version.major == 1, version.minor <= 1 else {
            // HTTP/0.9 is what the decoder makes of a request line without a version.
            guard version.major == 0 else {
                return .error(.httpVersionNotSupported, "HTTP version \(version.major).\(version.minor) not supported", close: true)
            }
            return .error(.badRequest, "request line is not METHOD TARGET VERSION", close: true)
        }
        do {
            try LoopbackHost.check(request)
        } catch let error as HTTPRequestError {
            return .error(error.status, error.message, close: true)
        } catch {
            return .error(.badRequest, nil, close: true)
        }
        return nil
    }

    /// `/a?q` for `http://host/a?q` (and `/` for `http://host`); nil for a target in origin form.
    static func originForm(_ target: String) -> String? {
        guard LoopbackHost.absoluteFormAuthority(target) != nil else { return nil }
        let afterScheme = target.drop { $0 != ":" }.dropFirst(3)
        guard let start = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) else { return "/" }
        let rest = afterScheme[start...]
        return rest.first == "/" ? String(rest) : "/" + rest
    }
}
