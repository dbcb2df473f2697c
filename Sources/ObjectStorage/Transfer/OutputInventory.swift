import Foundation

/// `.hlsify-output.json`, put beside the master of a set published to a bucket: every object the
/// set holds, so a reader (or a redelivered job) can tell a finished set from a partial one.
public struct OutputInventory: Codable, Sendable, Equatable {
    public static let fileName = ".hlsify-output.json"
    public static let formatName = "hlsify-output/1"

    public struct Object: Codable, Sendable, Equatable {
        /// Relative to the set's prefix, e.g. `720p/segment-00003.m4s`.
        public var path: String
        public var bytes: Int64
        public var sha256: String
        public var contentType: String
    }

    public var format: String = formatName
    /// ISO 8601, UTC.
    public var completedAt: String
    public var objects: [Object]

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
