/// An object or a key prefix in a bucket, written `s3://BUCKET/KEY`.
///
/// Parsing is strict: the bucket follows S3's naming rules (3–63 of `a-z 0-9 . -`, starting and
/// ending with a letter or digit), and a key never holds an empty, `.` or `..` component, a
/// backslash or a control character, so an address cannot climb out of its prefix on a server that
/// maps keys to files.
public struct S3Address: Sendable, Hashable, CustomStringConvertible {
    public let bucket: String
    /// The key (an object) or key prefix (a set of objects), without a leading or trailing `/`;
    /// empty for the bucket's root.
    public let key: String

    public static let scheme = "s3://"

    /// True when `text` is meant as an object-storage address (starts with `s3://`).
    public static func isAddress(_ text: String) -> Bool { text.hasPrefix(scheme) }

    /// Parses `s3://bucket[/key]`; one trailing `/` is allowed (a prefix).
    /// - Throws: `StorageError.invalidAddress` naming what is wrong.
    public init(parsing text: String) throws(StorageError) {
        guard text.hasPrefix(Self.scheme) else { throw .invalidAddress("\(text): not an s3:// address") }
        let rest = text.dropFirst(Self.scheme.count)
        let bucket = String(rest.prefix { $0 != "/" })
        var key = String(rest.dropFirst(bucket.count).dropFirst())
        if key.hasSuffix("/") { key.removeLast() }
        try Self.checkBucket(bucket, in: text)
        if !key.isEmpty { try Self.checkKey(key, in: text) }
        self.bucket = bucket
        self.key = key
    }

    public init(bucket: String, key: String) throws(StorageError) {
        try self.init(parsing: Self.scheme + bucket + (key.isEmpty ? "" : "/" + key))
    }

    private init(checkedBucket bucket: String, key: String) {
        self.bucket = bucket
        self.key = key
    }

    /// The address of `relative` under this prefix.
    /// - Throws: `StorageError.invalidAddress` for an absolute path, another scheme, or an
    ///   empty, `.` or `..` component: a relative key never leaves its prefix.
    public func appending(_ relative: String) throws(StorageError) -> S3Address {
        let shown = "\(self)/\(relative)"
        if relative.contains("://") { throw .invalidAddress("\(relative): names another place (only keys under \(self) are allowed)") }
        if relative.hasPrefix("/") { throw .invalidAddress("\(relative): absolute (only keys under \(self) are allowed)") }
        try Self.checkKey(relative, in: shown)
        return S3Address(checkedBucket: bucket, key: key.isEmpty ? relative : key + "/" + relative)
    }

    /// `relative`'s key under this prefix with no checks, for names this program made itself.
    func child(_ relative: String) -> S3Address {
        S3Address(checkedBucket: bucket, key: key.isEmpty ? relative : key + "/" + relative)
    }

    /// The prefix to list this address's children with: the key and a `/`, or empty at the root.
    public var listingPrefix: String { key.isEmpty ? "" : key + "/" }

    /// The last component of the key (the object's file name).
    public var lastComponent: String { key.split(separator: "/").last.map(String.init) ?? "" }

    public var description: String { Self.scheme + bucket + (key.isEmpty ? "" : "/" + key) }

    static func checkBucket(_ bucket: String, in text: String) throws(StorageError) {
        let allowed = bucket.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }
        let ends = { (byte: UInt8?) in byte.map { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) } ?? false }
        guard (3...63).contains(bucket.utf8.count), allowed, ends(bucket.utf8.first), ends(bucket.utf8.last),
              !bucket.contains("..") else {
            throw .invalidAddress("\(text): '\(bucket)' is not a valid bucket name (3-63 of a-z 0-9 . -)")
        }
    }

    static func checkKey(_ key: String, in text: String) throws(StorageError) {
        guard key.utf8.count <= 1024 else { throw .invalidAddress("\(text): key longer than 1024 bytes") }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" }) {
            throw .invalidAddress("\(text): a control character or backslash in the key")
        }
        for component in key.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty || component == "." || component == ".." {
                throw .invalidAddress("\(text): an empty, '.' or '..' component in the key")
            }
        }
    }
}
