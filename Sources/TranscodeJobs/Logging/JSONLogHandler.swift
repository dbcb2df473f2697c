import Foundation
import Logging

/// A `LogHandler` that writes one JSON object per line to standard error, for log shippers:
/// `{"timestamp":"2026-12-03T07:12:45.123Z","level":"info","message":"job completed","workerId":"w1","jobId":"lecture-42","attempt":"1",…}`.
/// `timestamp` (UTC, ISO 8601 with milliseconds), `level`, `message`, `label` and the fixed
/// fields come first (a metadata value of the same key replaces a fixed one); the record's
/// metadata follows, keys sorted (a key that would overwrite one of the first four is written as
/// `metadata.KEY`). Control characters are escaped as JSON requires,
/// so a job id or path carrying a newline cannot forge a record.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let fixed: [(String, String)]
    private let write: @Sendable (String) -> Void

    /// - Parameters:
    ///   - fixed: fields every record carries (e.g. `workerId`), after `label`.
    ///   - write: where a line goes (standard error by default).
    public init(label: String, fixed: [(String, String)] = [], write: (@Sendable (String) -> Void)? = nil) {
        self.label = label
        self.fixed = fixed
        self.write = write ?? { line in FileHandle.standardError.write(Data(line.utf8)) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        if let error = event.error {
            merged["error.message"] = .string("\(error)")
            merged["error.type"] = .string(String(reflecting: type(of: error)))
        }
        write(Self.line(timestamp: Date(), level: event.level, message: event.message.description, label: label,
                        fixed: fixed, metadata: merged))
    }

    /// One record as a line of JSON (ending in a newline).
    static func line(timestamp: Date, level: Logger.Level, message: String, label: String, fixed: [(String, String)],
                     metadata: Logger.Metadata) -> String {
        var fields: [(String, String)] = [("timestamp", quoted(timestampText(timestamp))), ("level", quoted(level.rawValue)),
                                          ("message", quoted(message)), ("label", quoted(label))]
        let core = Set(fields.map(\.0))
        let fixedNames = Set(fixed.map(\.0)).subtracting(core)
        fields += fixed.filter { fixedNames.contains($0.0) }.map { name, value in (name, metadata[name].map(json) ?? quoted(value)) }
        for key in metadata.keys.sorted() where !fixedNames.contains(key) {
            fields.append((core.contains(key) ? "metadata.\(key)" : key, json(metadata[key]!)))
        }
        return "{" + fields.map { quoted($0.0) + ":" + $0.1 }.joined(separator: ",") + "}\n"
    }

    private static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return quoted(text)
        case .stringConvertible(let convertible): return quoted(convertible.description)
        case .array(let values): return "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            return "{" + dictionary.keys.sorted().map { quoted($0) + ":" + json(dictionary[$0]!) }.joined(separator: ",") + "}"
        @unknown default: return quoted("\(value)")
        }
    }

    /// A JSON string literal: quotes, backslashes and every control character (C0, DEL, C1,
    /// U+2028, U+2029) escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func timestampText(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
