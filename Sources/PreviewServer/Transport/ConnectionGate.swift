import NIOCore

/// The first handler of every preview connection, on its raw bytes, before the HTTP/1 decoder.
///
/// - **Admission**: at most `ConnectionRegistry`'s capacity of connections; a newcomer at the cap
///   takes the place of the kept-alive connection idle the longest, and only when none is idle is
///   it answered 503 at once.
/// - **Deadlines**: every request head must arrive whole within `headTimeout` of its first byte
///   (the first one of the connection): a head begun and not finished gets 408, a connection
///   that sent nothing is closed. A kept-alive connection may stay idle `idleTimeout` between a
///   response and the next request's first byte.
/// - **Stalls**: a response that cannot be sent for `sendTimeout` (the client stopped reading)
///   ends the connection.
/// - **Size**: a request head (request line included, which the decoder does not bound) larger
///   than `maxHeadSize` bytes gets 431 as soon as the bytes are in, without waiting for its end.
///
/// Refusals (its own and `RequestGate`'s) are written here as whole responses with
/// `Connection: close`, once no response is in progress; then the connection's output is closed
/// and the rest of the input read and dropped for a moment, so that the client reads the answer
/// rather than a reset.
final class ConnectionGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    struct Limits {
        var headTimeout: TimeAmount
        var idleTimeout: TimeAmount
        var maxHeadSize: Int
        /// How long a response may wait for a client that does not read it before the connection is closed.
        var sendTimeout: TimeAmount = .seconds(30)
        /// How long a refused connection's input is still read after the answer, before closing.
        var linger: TimeAmount = .milliseconds(500)
    }

    private let registry: ConnectionRegistry
    private let limits: Limits
    private var context: ChannelHandlerContext?
    private var id: Int?
    private var started = false
    private var timer: Scheduled<Void>?
    /// Armed while the socket's send buffer is full (the client does not read).
    private var stallTimer: Scheduled<Void>?

    /// Every request passed on was read to its end: bytes read now belong to the next head.
    private var awaitingHead: Bool { openRequests == 0 }
    /// Awaiting a head and no byte of it read yet, after a response (counted idle by the registry).
    private var idle = false
    /// Bytes read toward the awaited head, and whether any was more than an empty line.
    private var headBytes = 0
    private var headBegun = false
    /// The awaited head's first bytes, up to its request line's end (for `requestLineEndsInVersion`).
    private var requestLine: [UInt8] = []
    private var requestLineDone = false
    /// Heads passed on whose responses have not been sent whole (pipelined requests).
    private var inFlight = 0
    /// Heads passed on whose request (body included) has not been read to its end.
    private var openRequests = 0
    /// The response being answered is the connection's last (`Connection: close`).
    private var closeAfterResponses = false
    /// A refusal to send once the responses in flight have ended.
    private var pendingRefusal: [UInt8]?
    /// Refused: nothing more is passed on.
    private var refused = false
    /// A refusal was written.
    private var answered = false

    init(registry: ConnectionRegistry, limits: Limits) {
        self.registry = registry
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stallTimer?.cancel()
            stallTimer = nil
        } else if stallTimer == nil {
            let channel = context.channel
            stallTimer = context.eventLoop.scheduleTask(in: limits.sendTimeout) { channel.close(promise: nil) }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        stallTimer?.cancel()
        stallTimer = nil
        if let id { registry.remove(id) }
        id = nil
        context.fireChannelInactive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        guard let admitted = registry.admit(context.channel) else {
            refuse(Self.reply(.error(.serviceUnavailable, "too many connections", close: true), withBody: true))
            return
        }
        id = admitted
        arm(limits.headTimeout)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let bytes = unwrapInboundIn(data)
        if awaitingHead {
            if idle {
                idle = false
                guard let id, registry.becameActive(id) else {
                    // Evicted while idle: the client asks again on a new connection.
                    refused = true
                    context.close(promise: nil)
                    return
                }
                arm(limits.headTimeout)
            }
            headBytes += bytes.readableBytes
            if !headBegun { headBegun = bytes.readableBytesView.contains { $0 != 0x0D && $0 != 0x0A } }
            keepRequestLine(bytes.readableBytesView)
            if headBytes > limits.maxHeadSize {
                refuse(Self.reply(.error(.headerFieldsTooLarge, "request head over \(limits.maxHeadSize) bytes", close: true), withBody: true))
                return
            }
        }
        context.fireChannelRead(data)
    }

    // MARK: called by RequestGate, on the channel's event loop

    /// Whether the awaited head's request line ends in an HTTP version (`HTTP/3.0`), as opposed
    /// to no version or something else: 505 or 400 for a version the decoder refused.
    var requestLineEndsInVersion: Bool {
        let line = requestLine.last == 0x0D ? requestLine.dropLast() : requestLine[...]
        guard let last = line.split(separator: 0x20).last else { return false }
        let token = Array(last)
        let isDigit = { (byte: UInt8) in (0x30...0x39).contains(byte) }
        return token.count == 8 && token.starts(with: Array("HTTP/".utf8)) && isDigit(token[5]) && token[6] == 0x2E && isDigit(token[7])
    }

    /// A request head was decoded and passed on to be answered.
    func headArrived() {
        requestLine = []
        requestLineDone = false
        inFlight += 1
        openRequests += 1
        idle = false
        headBytes = 0
        headBegun = false
        timer?.cancel()
        timer = nil
    }

    /// The request passed on last was read to its end (its body too): what follows is the next head.
    func requestEnded() {
        openRequests = max(0, openRequests - 1)
        guard openRequests == 0 else { return }
        settleIfDone()
    }

    /// The request passed on last is the connection's last: close once its response is sent.
    func closeAfterResponse() {
        closeAfterResponses = true
    }

    /// A response was sent to its end (its last bytes handed to the socket).
    func responseEnded() {
        inFlight = max(0, inFlight - 1)
        guard inFlight == 0 else { return }
        if let refusal = pendingRefusal {
            pendingRefusal = nil
            refuse(refusal)
            return
        }
        if closeAfterResponses, let context {
            refused = true
            answered = true
            timer?.cancel()
            timer = nil
            Self.closeLingering(context.channel, linger: limits.linger)
            return
        }
        settleIfDone()
    }

    /// With no request open and no response under way: the head deadline when the next head has
    /// begun, else idle (evictable, closed after `idleTimeout`).
    private func settleIfDone() {
        guard inFlight == 0, openRequests == 0, !refused else { return }
        if headBegun {
            arm(limits.headTimeout)
            return
        }
        idle = true
        if let id { registry.becameIdle(id) }
        arm(limits.idleTimeout)
    }

    /// Answers `response` with `Connection: close` and closes, after the responses in flight.
    func refuse(_ response: HTTPResponse, withBody: Bool) {
        refuse(Self.reply(response, withBody: withBody))
    }

    // MARK: private

    /// Keeps the awaited head's request line (past leading empty lines), without its line end.
    private func keepRequestLine(_ bytes: ByteBufferView) {
        guard !requestLineDone else { return }
        for byte in bytes {
            guard requestLine.count < limits.maxHeadSize else {
                requestLineDone = true
                return
            }
            if byte == 0x0A {
                if requestLine.contains(where: { $0 != 0x0D }) {
                    requestLineDone = true
                    return
                }
                requestLine.removeAll()  // an empty line before the request line
                continue
            }
            requestLine.append(byte)
        }
    }

    private func refuse(_ reply: [UInt8]) {
        guard let context, !answered else { return }
        refused = true
        if inFlight > 0 {
            if pendingRefusal == nil { pendingRefusal = reply }
            return
        }
        answered = true
        timer?.cancel()
        timer = nil
        let channel = context.channel
        let linger = limits.linger
        context.writeAndFlush(NIOAny(ByteBuffer(bytes: reply))).whenComplete { _ in
            Self.closeLingering(channel, linger: linger)
        }
    }

    /// Closes the output (the client reads what was sent, then EOF) and the rest after `linger`,
    /// reading and dropping the input meanwhile, so the client meets no reset before the answer.
    private static func closeLingering(_ channel: any Channel, linger: TimeAmount) {
        channel.close(mode: .output, promise: nil)
        channel.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
    }

    /// Closes the connection when a deadline passes: 408 for a head begun, quietly otherwise.
    private func arm(_ timeout: TimeAmount) {
        timer?.cancel()
        guard let context else { return }
        let gate = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) { gate.value.deadlinePassed() }
    }

    private func deadlinePassed() {
        timer = nil
        guard !answered else { return }
        if awaitingHead, !idle, headBegun {
            refuse(Self.reply(.error(.requestTimeout, "the request head did not arrive in time", close: true), withBody: true))
        } else {
            refused = true
            context?.close(promise: nil)
        }
    }

    /// A whole response as bytes: status line, fields with `Connection: close`, body.
    static func reply(_ response: HTTPResponse, withBody: Bool) -> [UInt8] {
        var bytes = response.head(keepAlive: false, date: HTTPDate.now())
        if withBody, case .bytes(let body) = response.body { bytes += body }
        return bytes
    }
}
