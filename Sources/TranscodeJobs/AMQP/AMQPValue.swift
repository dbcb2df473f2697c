/// A value in an AMQP field table (message headers, declare arguments). Pure Swift.
public indirect enum AMQPValue: Sendable, Equatable, CustomStringConvertible {
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case decimal(decimals: UInt8, value: UInt32)
    case string(String)
    case bytes([UInt8])
    case timestamp(UInt64)
    case table(AMQPTable)
    case array([AMQPValue])
    case void

    /// The value as an integer when it is one (any width, or a whole double).
    public var integerValue: Int64? {
        switch self {
        case .int(let value): return value
        case .uint(let value): return value <= UInt64(Int64.max) ? Int64(value) : nil
        case .double(let value): return value.rounded() == value && abs(value) < 9e18 ? Int64(value) : nil
        default: return nil
        }
    }

    public var stringValue: String? {
        switch self {
        case .string(let value): return value
        case .bytes(let value): return String(decoding: value, as: UTF8.self)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .bool(let value): return "\(value)"
        case .int(let value): return "\(value)"
        case .uint(let value): return "\(value)"
        case .double(let value): return "\(value)"
        case .decimal(let decimals, let value): return "\(value)e-\(decimals)"
        case .string(let value): return "\"\(value)\""
        case .bytes(let value): return "<\(value.count) bytes>"
        case .timestamp(let value): return "@\(value)"
        case .table(let value): return value.description
        case .array(let values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .void: return "void"
        }
    }
}

/// An AMQP field table: names to values, in the order they were added.
public struct AMQPTable: Sendable, Equatable, CustomStringConvertible, ExpressibleByDictionaryLiteral {
    public private(set) var entries: [(key: String, value: AMQPValue)]

    public init() { entries = [] }

    public init(dictionaryLiteral elements: (String, AMQPValue)...) {
        entries = []
        for (key, value) in elements { self[key] = value }
    }

    public subscript(key: String) -> AMQPValue? {
        get { entries.first(where: { $0.key == key })?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }

    public static func == (lhs: AMQPTable, rhs: AMQPTable) -> Bool {
        lhs.entries.count == rhs.entries.count && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public var description: String {
        "{" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
    }
}

/// The basic-class properties of a message.
public struct AMQPProperties: Sendable, Equatable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: AMQPTable?
    /// 2 = persistent.
    public var deliveryMode: UInt8?
    public var priority: UInt8?
    public var correlationId: String?
    public var replyTo: String?
    public var expiration: String?
    public var messageId: String?
    /// Seconds since 1970.
    public var timestamp: UInt64?
    public var type: String?
    public var userId: String?
    public var appId: String?

    public init(contentType: String? = nil, contentEncoding: String? = nil, headers: AMQPTable? = nil, deliveryMode: UInt8? = nil,
                priority: UInt8? = nil, correlationId: String? = nil, replyTo: String? = nil, expiration: String? = nil,
                messageId: String? = nil, timestamp: UInt64? = nil, type: String? = nil, userId: String? = nil, appId: String? = nil) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationId = correlationId
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageId = messageId
        self.timestamp = timestamp
        self.type = type
        self.userId = userId
        self.appId = appId
    }
}

/// A message to publish.
public struct AMQPOutgoingMessage: Sendable, Equatable {
    public var exchange: String
    public var routingKey: String
    public var mandatory: Bool
    public var properties: AMQPProperties
    public var body: [UInt8]

    public init(exchange: String, routingKey: String, mandatory: Bool = false, properties: AMQPProperties, body: [UInt8]) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.mandatory = mandatory
        self.properties = properties
        self.body = body
    }
}

/// A message the broker delivered to our consumer.
public struct AMQPDelivery: Sendable {
    /// Which channel (and which opening of it) the delivery belongs to: an acknowledgement is only
    /// valid on the channel that received it. Set by `AMQPClient`.
    public var channelGeneration: Int
    public var deliveryTag: UInt64
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var consumerTag: String
    public var properties: AMQPProperties
    public var body: [UInt8]

    public init(channelGeneration: Int, deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String,
                consumerTag: String, properties: AMQPProperties, body: [UInt8]) {
        self.channelGeneration = channelGeneration
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.consumerTag = consumerTag
        self.properties = properties
        self.body = body
    }

    /// The delivery number, 1 on the first: quorum queues count earlier deliveries in the
    /// `x-delivery-count` header; without it (a classic queue) a redelivery counts as the second.
    public var attempt: Int {
        if let count = properties.headers?["x-delivery-count"]?.integerValue, count >= 0, count < Int64(Int32.max) {
            return Int(count) + 1
        }
        return redelivered ? 2 : 1
    }
}
