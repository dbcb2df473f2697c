import Glibc

/// A failed system call: which call (with what it was called on) and the errno text.
public struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call and its subject, e.g. `bind(127.0.0.1:8080)`.
    public let call: String
    public let code: Int32

    public init(_ call: String, code: Int32 = errno) {
        self.call = call
        self.code = code
    }

    /// `bind(127.0.0.1:8080): Address already in use`.
    public var description: String { "\(call): \(Self.text(code))" }

    /// The C library's message for an errno value.
    public static func text(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        // The XSI strerror_r (Swift's Glibc module is built without _GNU_SOURCE).
        guard strerror_r(code, &buffer, buffer.count) == 0 else { return "errno \(code)" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
