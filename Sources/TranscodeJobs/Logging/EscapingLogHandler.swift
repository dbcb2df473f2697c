import Logging

/// A `LogHandler` that escapes control characters (`LogText.escaped`) in the message, every
/// metadata key and value, and the error text, then hands the record to another handler (the
/// worker's is swift-log's `StreamLogHandler` on stderr). A job id or path carrying a newline or
/// a NUL therefore shows as `\n` or `\u{0}` inside its own record, never as a forged one.
public struct EscapingLogHandler: LogHandler {
    private var inner: any LogHandler

    /// - Parameter inner: the handler that writes the escaped records.
    public init(_ inner: any LogHandler) {
        self.inner = inner
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = Self.escaped(newValue) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: LogText.escaped(key)] }
        set { inner[metadataKey: LogText.escaped(key)] = newValue.map(Self.escaped) }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = Logger.Message(stringLiteral: LogText.escaped(event.message.description))
        var metadata = event.metadata.map(Self.escaped)
        if let error = event.error {
            // StreamLogHandler would print the error's text as it is.
            metadata = metadata ?? [:]
            metadata?["error.message"] = .string(LogText.escaped("\(error)"))
            metadata?["error.type"] = .string(LogText.escaped(String(reflecting: type(of: error))))
            event.error = nil
        }
        event.metadata = metadata
        inner.log(event: event)
    }

    static func escaped(_ metadata: Logger.Metadata) -> Logger.Metadata {
        var result: Logger.Metadata = [:]
        for (key, value) in metadata { result[LogText.escaped(key)] = escaped(value) }
        return result
    }

    static func escaped(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): return .string(LogText.escaped(text))
        case .stringConvertible(let convertible): return .string(LogText.escaped(convertible.description))
        case .array(let values): return .array(values.map(escaped))
        case .dictionary(let dictionary): return .dictionary(escaped(dictionary))
        @unknown default: return .string(LogText.escaped("\(value)"))
        }
    }
}
