import Foundation

/// What HEAD or a listing says of one object.
public struct ObjectInfo: Sendable, Equatable {
    public var key: String
    public var size: Int64
    /// As the server sent it, quotes removed.
    public var etag: String
    /// From `Last-Modified` (HEAD) or `LastModified` (listings), when the server sent one.
    public var lastModified: Date?

    public init(key: String, size: Int64, etag: String, lastModified: Date?) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }

    static func unquoted(_ etag: String?) -> String {
        guard var etag else { return "" }
        if etag.hasPrefix("\""), etag.hasSuffix("\""), etag.count >= 2 { etag = String(etag.dropFirst().dropLast()) }
        return etag
    }

    /// An RFC 7231 date (`Tue, 15 Nov 1994 08:12:31 GMT`) or an ISO 8601 one (listings).
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "yyyy-MM-dd'T'HH:mm:ss.SSSZ", "yyyy-MM-dd'T'HH:mm:ssZ"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}

/// A multipart upload a server still holds open.
public struct OpenUpload: Sendable, Equatable {
    public var key: String
    public var uploadId: String
}
