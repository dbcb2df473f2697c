/// What went wrong talking to the broker. Library errors (the socket, the protocol, a timeout:
/// librabbitmq said so) are kept apart from broker exceptions (the broker closed the channel or
/// the connection, with an AMQP reply code), so callers can tell "reconnect" from "fix the
/// configuration", and never need to import the C module.
public enum AMQPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// librabbitmq reported a failure (`status` is its `amqp_status_enum`, `message` its text).
    case library(operation: String, status: Int32, message: String)
    /// The broker closed the channel (a channel exception, e.g. 406 PRECONDITION_FAILED for a
    /// consumer timeout or a queue declared with other arguments, 404 NOT_FOUND).
    case channelClosed(operation: String, code: Int, text: String)
    /// The broker closed the connection (320 CONNECTION_FORCED on shutdown, 403 ACCESS_REFUSED, …).
    case connectionClosed(operation: String, code: Int, text: String)
    /// The broker URL cannot be used.
    case invalidURL(String)
    /// Not connected (and the client does not reconnect, or was closed).
    case notConnected(String)
    /// A name or setting that cannot work (an exchange name too long, a reserved prefix).
    case invalidConfiguration(String)
    /// One message that cannot be sent as it is (its headers do not fit one frame); nothing was
    /// sent and the connection is fine.
    case messageTooLarge(operation: String, reason: String)

    /// True for broker exceptions (the broker said no), false for library and local errors.
    public var isBrokerException: Bool {
        switch self {
        case .channelClosed, .connectionClosed: return true
        default: return false
        }
    }

    /// True when only the channel is gone and the connection can open another.
    public var isChannelOnly: Bool {
        if case .channelClosed = self { return true }
        return false
    }

    /// The AMQP reply code of a broker exception.
    public var replyCode: Int? {
        switch self {
        case .channelClosed(_, let code, _), .connectionClosed(_, let code, _): return code
        default: return nil
        }
    }

    /// A channel closed because a delivery stayed unacknowledged past the broker's `consumer_timeout`.
    public var isConsumerTimeout: Bool {
        if case .channelClosed(_, 406, let text) = self {
            return text.contains("delivery acknowledgement") || text.contains("timed out") || text.contains("consumer_timeout")
        }
        return false
    }

    public var description: String {
        switch self {
        case .library(let operation, let status, let message):
            return "\(operation): \(message) (librabbitmq status \(status))"
        case .channelClosed(let operation, let code, let text):
            return "\(operation): the broker closed the channel: \(code) \(text)"
        case .connectionClosed(let operation, let code, let text):
            return "\(operation): the broker closed the connection: \(code) \(text)"
        case .invalidURL(let message):
            return "invalid broker URL: \(message)"
        case .notConnected(let message):
            return "not connected: \(message)"
        case .invalidConfiguration(let message):
            return "invalid configuration: \(message)"
        case .messageTooLarge(let operation, let reason):
            return "\(operation): the message cannot be sent: \(reason)"
        }
    }
}

/// Why a publication was not confirmed.
public enum AMQPPublishError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broker answered basic.nack.
    case nacked
    /// A mandatory message could not be routed to any queue (basic.return).
    case returned(code: Int, text: String)
    /// The connection or channel went away before the confirmation (the message may or may not have arrived).
    case connectionLost(String)
    /// A transient message was dropped because the client was not connected.
    case dropped
    /// The publication was bound to a channel that has since been replaced (e.g. a dead-letter copy of a delivery).
    case stale
    /// The client was closed, or could not connect at all.
    case closed(String)
    /// This message cannot be sent as it is (its headers do not fit one frame); nothing was sent
    /// and the connection carries on. Shorten it and publish again.
    case tooLarge(String)

    public var description: String {
        switch self {
        case .nacked: return "the broker refused the message (basic.nack)"
        case .returned(let code, let text): return "the broker could not route the message: \(code) \(text)"
        case .connectionLost(let why): return "the connection was lost before the broker confirmed: \(why)"
        case .dropped: return "dropped while disconnected"
        case .stale: return "the channel it belonged to was replaced"
        case .closed(let why): return "the client is closed: \(why)"
        case .tooLarge(let why): return "not sent: \(why)"
        }
    }
}
