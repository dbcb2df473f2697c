import CRabbitMQ
import Foundation

/// Something the broker sent that is not the reply to a call we made.
enum AMQPInbound {
    /// A message for one of our consumers (its `channelGeneration` is filled in by `AMQPClient`).
    case delivery(channel: UInt16, AMQPDelivery)
    /// basic.ack (`ack` true) or basic.nack for publisher confirms.
    case confirm(channel: UInt16, deliveryTag: UInt64, multiple: Bool, ack: Bool)
    /// basic.return of a mandatory message nobody could take; its confirm follows.
    case returned(channel: UInt16, code: Int, text: String, properties: AMQPProperties)
    /// The broker closed a channel (close-ok already sent).
    case channelClosed(channel: UInt16, AMQPError)
    /// The broker cancelled our consumer (its queue was deleted).
    case consumerCancelled(channel: UInt16, consumerTag: String)
    /// connection.blocked / unblocked (the broker's memory or disk alarm).
    case blocked(String)
    case unblocked
    /// Anything else, by name, for logs.
    case other(String)
}

/// One AMQP connection over librabbitmq, used by exactly one thread (librabbitmq is not
/// thread-safe): `AMQPClient` owns it on its connection thread; the tests use it directly.
///
/// Every call blocks; RPCs give up after the RPC timeout (librabbitmq then closes the socket).
/// Heartbeats are sent and checked inside `nextInbound`, so the owner must call it at least
/// every few seconds. After a library error or a connection-level broker exception the
/// connection is `isBroken` and only good for `close()`.
final class AMQPConnection {
    private var state: amqp_connection_state_t?
    let endpoint: AMQPEndpoint
    /// Negotiated heartbeat, seconds (0: none).
    private(set) var heartbeat: Int = 0
    /// True once the socket or the protocol failed, or the broker closed the connection.
    private(set) var isBroken = false

    /// Connects, authenticates (PLAIN) and opens the AMQP connection.
    /// - Parameters:
    ///   - heartbeat: seconds asked for (the broker may lower it); 0 disables heartbeats.
    ///   - clientProperties: shown in the broker's management UI (e.g. `connection_name`).
    init(endpoint: AMQPEndpoint, heartbeat: Int, connectTimeout: Double, rpcTimeout: Double,
         clientProperties: AMQPTable = AMQPTable()) throws(AMQPError) {
        self.endpoint = endpoint
        guard let connection = amqp_new_connection() else {
            throw AMQPError.library(operation: "amqp_new_connection", status: AMQP_STATUS_NO_MEMORY.rawValue, message: "out of memory")
        }
        state = connection
        guard let socket = amqp_tcp_socket_new(connection) else {
            destroy()
            throw AMQPError.library(operation: "amqp_tcp_socket_new", status: AMQP_STATUS_NO_MEMORY.rawValue, message: "cannot create a socket")
        }
        var connectTimeval = Self.timeval(seconds: connectTimeout)
        let opened = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &connectTimeval)
        guard opened == AMQP_STATUS_OK.rawValue else {
            destroy()
            throw Self.libraryError("connect to \(endpoint.host):\(endpoint.port)", opened)
        }
        var rpcTimeval = Self.timeval(seconds: rpcTimeout)
        _ = amqp_set_rpc_timeout(connection, &rpcTimeval)
        var handshakeTimeval = Self.timeval(seconds: connectTimeout)
        _ = amqp_set_handshake_timeout(connection, &handshakeTimeval)

        let arena = CArena()
        var properties = arena.table(clientProperties)
        let reply = hlsify_amqp_login_plain(connection, endpoint.vhost, 0, 131_072, Int32(max(0, min(heartbeat, 65535))),
                                            &properties, endpoint.user, endpoint.password)
        do {
            try check(reply, "log in to \(endpoint) as \(endpoint.user)", channel: 0)
        } catch {
            destroy()
            throw error
        }
        self.heartbeat = Int(amqp_get_heartbeat(connection))
    }

    deinit { destroy() }

    // MARK: - Channels and topology

    func openChannel(_ channel: UInt16) throws(AMQPError) {
        let connection = try live()
        _ = amqp_channel_open(connection, channel)
        try check(amqp_get_rpc_reply(connection), "open channel \(channel)", channel: channel)
    }

    /// Closes a channel politely; errors are ignored (the channel is gone either way).
    func closeChannel(_ channel: UInt16) {
        guard let connection = state, !isBroken else { return }
        let reply = amqp_channel_close(connection, channel, Int32(AMQP_REPLY_SUCCESS))
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION { isBroken = true }
    }

    /// - Parameter passive: only check that it exists (404 NOT_FOUND closes the channel otherwise).
    func declareExchange(_ channel: UInt16, name: String, type: String, durable: Bool = true, passive: Bool = false) throws(AMQPError) {
        let connection = try live()
        let arena = CArena()
        _ = amqp_exchange_declare(connection, channel, arena.bytes(name), arena.bytes(type), passive ? 1 : 0, durable ? 1 : 0, 0, 0,
                                  amqp_empty_table)
        try check(amqp_get_rpc_reply(connection), "declare exchange \(name)", channel: channel)
    }

    /// - Returns: the messages ready in the queue and its consumers, as the broker counts them.
    @discardableResult
    func declareQueue(_ channel: UInt16, name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
                      arguments: AMQPTable = AMQPTable(), passive: Bool = false) throws(AMQPError) -> (messages: Int, consumers: Int) {
        let connection = try live()
        let arena = CArena()
        let ok = amqp_queue_declare(connection, channel, arena.bytes(name), passive ? 1 : 0, durable ? 1 : 0, exclusive ? 1 : 0,
                                    autoDelete ? 1 : 0, arena.table(arguments))
        try check(amqp_get_rpc_reply(connection), "declare queue \(name)", channel: channel)
        guard let ok else { return (0, 0) }
        return (Int(ok.pointee.message_count), Int(ok.pointee.consumer_count))
    }

    func bindQueue(_ channel: UInt16, queue: String, exchange: String, routingKey: String) throws(AMQPError) {
        let connection = try live()
        let arena = CArena()
        _ = amqp_queue_bind(connection, channel, arena.bytes(queue), arena.bytes(exchange), arena.bytes(routingKey), amqp_empty_table)
        try check(amqp_get_rpc_reply(connection), "bind queue \(queue) to \(exchange)", channel: channel)
    }

    func deleteQueue(_ channel: UInt16, name: String) throws(AMQPError) {
        let connection = try live()
        let arena = CArena()
        _ = amqp_queue_delete(connection, channel, arena.bytes(name), 0, 0)
        try check(amqp_get_rpc_reply(connection), "delete queue \(name)", channel: channel)
    }

    func deleteExchange(_ channel: UInt16, name: String) throws(AMQPError) {
        let connection = try live()
        let arena = CArena()
        _ = amqp_exchange_delete(connection, channel, arena.bytes(name), 0)
        try check(amqp_get_rpc_reply(connection), "delete exchange \(name)", channel: channel)
    }

    func qos(_ channel: UInt16, prefetch: Int) throws(AMQPError) {
        let connection = try live()
        _ = amqp_basic_qos(connection, channel, 0, UInt16(max(0, min(prefetch, 65535))), 0)
        try check(amqp_get_rpc_reply(connection), "set prefetch \(prefetch)", channel: channel)
    }

    /// Puts the channel in publisher-confirm mode: every publication gets a sequence number
    /// (1, 2, … per channel) that a later basic.ack / basic.nack names.
    func confirmSelect(_ channel: UInt16) throws(AMQPError) {
        let connection = try live()
        _ = amqp_confirm_select(connection, channel)
        try check(amqp_get_rpc_reply(connection), "enable publisher confirms", channel: channel)
    }

    /// Starts a consumer (manual acknowledgements).
    /// - Returns: the consumer tag.
    func consume(_ channel: UInt16, queue: String, consumerTag: String) throws(AMQPError) -> String {
        let connection = try live()
        let arena = CArena()
        let ok = amqp_basic_consume(connection, channel, arena.bytes(queue), arena.bytes(consumerTag), 0, 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(connection), "consume from \(queue)", channel: channel)
        return ok.map { CRead.string($0.pointee.consumer_tag) } ?? consumerTag
    }

    func cancel(_ channel: UInt16, consumerTag: String) throws(AMQPError) {
        let connection = try live()
        let arena = CArena()
        _ = amqp_basic_cancel(connection, channel, arena.bytes(consumerTag))
        try check(amqp_get_rpc_reply(connection), "cancel consumer \(consumerTag)", channel: channel)
    }

    // MARK: - Messages

    /// - Throws: `AMQPError.messageTooLarge` (the connection stays usable) when the message's
    ///   properties or names do not fit; library errors (the connection is then broken).
    func publish(_ channel: UInt16, _ message: AMQPOutgoingMessage) throws(AMQPError) {
        let connection = try live()
        let arena = CArena()
        var properties = arena.properties(message.properties)
        // librabbitmq sends basic.publish before it encodes the content header: a header that
        // does not fit one frame would leave the broker a method without its content, and the
        // connection would be lost for one bad message. So the header is measured first.
        if let problem = Self.contentHeaderProblem(message, headers: &properties.headers, frameMax: frameMax) {
            throw AMQPError.messageTooLarge(operation: "publish to \(message.exchange.isEmpty ? "(default)" : message.exchange)/\(message.routingKey)",
                                            reason: problem)
        }
        let body = arena.bytes(message.body)
        let status = amqp_basic_publish(connection, channel, arena.bytes(message.exchange), arena.bytes(message.routingKey),
                                        message.mandatory ? 1 : 0, 0, &properties, body)
        guard status == AMQP_STATUS_OK.rawValue else {
            isBroken = true
            throw Self.libraryError("publish to \(message.exchange.isEmpty ? "(default)" : message.exchange)/\(message.routingKey)", status)
        }
    }

    /// The largest frame the connection negotiated, in bytes (librabbitmq asks for 131072).
    var frameMax: Int {
        guard let state else { return 0 }
        return Int(amqp_get_frame_max(state))
    }

    /// `contentHeaderProblem(_:headers:frameMax:)` for a message as it is (tests, callers that
    /// want to know before they publish).
    static func contentHeaderProblem(_ message: AMQPOutgoingMessage, frameMax: Int) -> String? {
        let arena = CArena()
        var properties = arena.properties(message.properties)
        return contentHeaderProblem(message, headers: &properties.headers, frameMax: frameMax)
    }

    /// Why `message` cannot be sent as one basic.publish (names longer than a short string, a
    /// content header larger than one frame of `frameMax` bytes), or nil when it can. The
    /// headers table is measured with librabbitmq's own encoder, so the answer is exact.
    static func contentHeaderProblem(_ message: AMQPOutgoingMessage, headers: inout amqp_table_t, frameMax: Int) -> String? {
        let p = message.properties
        let stringProperties = [p.contentType, p.contentEncoding, p.correlationId, p.replyTo, p.expiration, p.messageId, p.type,
                                p.userId, p.appId].compactMap { $0 }
        if let long = ([message.exchange, message.routingKey] + stringProperties).first(where: { $0.utf8.count > 255 }) {
            return "a name or property of \(long.utf8.count) bytes (at most 255)"
        }
        // Frame header and end (8), class id, weight, body size and property flags (14), then
        // each short-string property with its length byte.
        var used = 8 + 14 + stringProperties.reduce(0) { $0 + 1 + $1.utf8.count }
        if p.deliveryMode != nil { used += 1 }
        if p.priority != nil { used += 1 }
        if p.timestamp != nil { used += 8 }
        let room = frameMax - used
        guard p.headers != nil else { return room >= 0 ? nil : "the properties take \(used) bytes of a \(frameMax)-byte frame" }
        guard room > 4, let buffer = malloc(room) else { return "the headers do not fit a \(frameMax)-byte frame" }
        defer { free(buffer) }
        var offset = 0
        let status = amqp_encode_table(amqp_bytes_t(len: room, bytes: buffer), &headers, &offset)
        guard status == AMQP_STATUS_OK.rawValue else {
            return status == AMQP_STATUS_TABLE_TOO_BIG.rawValue
                ? "the headers do not fit one \(frameMax)-byte frame beside the other properties (\(used) bytes)"
                : "the headers cannot be encoded: \(String(cString: amqp_error_string2(status)))"
        }
        return nil
    }

    func ack(_ channel: UInt16, deliveryTag: UInt64) throws(AMQPError) {
        let connection = try live()
        let status = amqp_basic_ack(connection, channel, deliveryTag, 0)
        guard status == AMQP_STATUS_OK.rawValue else {
            isBroken = true
            throw Self.libraryError("acknowledge delivery \(deliveryTag)", status)
        }
    }

    func reject(_ channel: UInt16, deliveryTag: UInt64, requeue: Bool) throws(AMQPError) {
        let connection = try live()
        let status = amqp_basic_reject(connection, channel, deliveryTag, requeue ? 1 : 0)
        guard status == AMQP_STATUS_OK.rawValue else {
            isBroken = true
            throw Self.libraryError("reject delivery \(deliveryTag)", status)
        }
    }

    /// Waits up to `timeout` seconds for the next frame and returns what it means, or nil when
    /// nothing came. Sends a heartbeat when one is due and fails with a heartbeat timeout when
    /// the broker has been silent for two intervals.
    /// - Throws: `AMQPError.library` (socket, protocol, heartbeat timeout) or
    ///   `.connectionClosed` (the broker closed the connection; close-ok already sent).
    func nextInbound(timeout: Double) throws(AMQPError) -> AMQPInbound? {
        let connection = try live()
        defer { amqp_maybe_release_buffers(connection) }
        var frame = amqp_frame_t()
        var wait = Self.timeval(seconds: timeout)
        let status = amqp_simple_wait_frame_noblock(connection, &frame, &wait)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        guard status == AMQP_STATUS_OK.rawValue else {
            isBroken = true
            throw Self.libraryError("wait for the broker", status)
        }
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else {
            // A content header or body frame outside a message: librabbitmq reads those in read_message.
            return .other("stray frame of type \(frame.frame_type) on channel \(frame.channel)")
        }
        let channel = frame.channel
        let method = frame.payload.method
        switch method.id {
        case HLSIFY_AMQP_BASIC_DELIVER:
            let deliver = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            let tag = deliver.delivery_tag
            let redelivered = deliver.redelivered != 0
            let exchange = CRead.string(deliver.exchange)
            let routingKey = CRead.string(deliver.routing_key)
            let consumerTag = CRead.string(deliver.consumer_tag)
            let (properties, body) = try readContent(channel, "read delivery \(tag)")
            return .delivery(channel: channel, AMQPDelivery(channelGeneration: 0, deliveryTag: tag, redelivered: redelivered,
                                                             exchange: exchange, routingKey: routingKey, consumerTag: consumerTag,
                                                             properties: properties, body: body))
        case HLSIFY_AMQP_BASIC_ACK:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .confirm(channel: channel, deliveryTag: ack.delivery_tag, multiple: ack.multiple != 0, ack: true)
        case HLSIFY_AMQP_BASIC_NACK:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .confirm(channel: channel, deliveryTag: nack.delivery_tag, multiple: nack.multiple != 0, ack: false)
        case HLSIFY_AMQP_BASIC_RETURN:
            let returned = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let code = Int(returned.reply_code)
            let text = CRead.string(returned.reply_text)
            let (properties, _) = try readContent(channel, "read a returned message")
            return .returned(channel: channel, code: code, text: text, properties: properties)
        case HLSIFY_AMQP_CHANNEL_CLOSE:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let error = AMQPError.channelClosed(operation: "channel \(channel)", code: Int(close.reply_code), text: CRead.string(close.reply_text))
            var ok = amqp_channel_close_ok_t()
            if amqp_send_method(connection, channel, HLSIFY_AMQP_CHANNEL_CLOSE_OK, &ok) != AMQP_STATUS_OK.rawValue { isBroken = true }
            return .channelClosed(channel: channel, error)
        case HLSIFY_AMQP_CONNECTION_CLOSE:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let error = AMQPError.connectionClosed(operation: "connection", code: Int(close.reply_code), text: CRead.string(close.reply_text))
            var ok = amqp_connection_close_ok_t()
            _ = amqp_send_method(connection, 0, HLSIFY_AMQP_CONNECTION_CLOSE_OK, &ok)
            isBroken = true
            throw error
        case HLSIFY_AMQP_BASIC_CANCEL:
            let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            return .consumerCancelled(channel: channel, consumerTag: CRead.string(cancel.consumer_tag))
        case HLSIFY_AMQP_CONNECTION_BLOCKED:
            let blocked = method.decoded.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            return .blocked(CRead.string(blocked.reason))
        case HLSIFY_AMQP_CONNECTION_UNBLOCKED:
            return .unblocked
        default:
            return .other(String(cString: amqp_method_name(method.id)))
        }
    }

    /// Closes the connection politely when it still works, then frees it.
    func close() {
        if let connection = state, !isBroken {
            _ = amqp_connection_close(connection, Int32(AMQP_REPLY_SUCCESS))
        }
        destroy()
    }

    // MARK: - Details

    private func live() throws(AMQPError) -> amqp_connection_state_t {
        guard let state, !isBroken else { throw AMQPError.notConnected("the connection to \(endpoint) is closed") }
        return state
    }

    /// Reads the content header and body frames that follow basic.deliver / basic.return.
    private func readContent(_ channel: UInt16, _ operation: String) throws(AMQPError) -> (AMQPProperties, [UInt8]) {
        let connection = try live()
        var message = amqp_message_t()
        let reply = amqp_read_message(connection, channel, &message, 0)
        try check(reply, operation, channel: channel)
        defer { amqp_destroy_message(&message) }
        return (CRead.properties(message.properties), CRead.bytes(message.body))
    }

    /// Turns an RPC reply into a typed error; answers the broker's close with close-ok.
    private func check(_ reply: amqp_rpc_reply_t, _ operation: String, channel: UInt16) throws(AMQPError) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            isBroken = true
            throw Self.libraryError(operation, reply.library_error)
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            switch reply.reply.id {
            case HLSIFY_AMQP_CONNECTION_CLOSE:
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                let error = AMQPError.connectionClosed(operation: operation, code: Int(close.reply_code), text: CRead.string(close.reply_text))
                if let state {
                    var ok = amqp_connection_close_ok_t()
                    _ = amqp_send_method(state, 0, HLSIFY_AMQP_CONNECTION_CLOSE_OK, &ok)
                }
                isBroken = true
                throw error
            case HLSIFY_AMQP_CHANNEL_CLOSE:
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let error = AMQPError.channelClosed(operation: operation, code: Int(close.reply_code), text: CRead.string(close.reply_text))
                if let state {
                    var ok = amqp_channel_close_ok_t()
                    if amqp_send_method(state, channel, HLSIFY_AMQP_CHANNEL_CLOSE_OK, &ok) != AMQP_STATUS_OK.rawValue { isBroken = true }
                }
                throw error
            default:
                isBroken = true
                throw AMQPError.library(operation: operation, status: AMQP_STATUS_UNEXPECTED_STATE.rawValue,
                                        message: "unexpected reply \(String(cString: amqp_method_name(reply.reply.id)))")
            }
        default:
            isBroken = true
            throw AMQPError.library(operation: operation, status: 0, message: "no reply")
        }
    }

    private func destroy() {
        if let connection = state {
            amqp_destroy_connection(connection)
            state = nil
        }
        isBroken = true
    }

    static func libraryError(_ operation: String, _ status: Int32) -> AMQPError {
        .library(operation: operation, status: status, message: String(cString: amqp_error_string2(status)))
    }

    static func timeval(seconds: Double) -> Glibc.timeval {
        let clamped = max(0, seconds)
        let whole = clamped.rounded(.down)
        return Glibc.timeval(tv_sec: Int(whole), tv_usec: Int((clamped - whole) * 1_000_000))
    }
}
