/// Lexical rules for job ids and the relative paths inside a job (no file system access).
public enum JobNames {
    /// Longest accepted job id.
    public static let maximumJobIdLength = 128
    /// Longest accepted relative path, in UTF-8 bytes.
    public static let maximumPathLength = 1024
    /// Longest accepted path component, in UTF-8 bytes (NAME_MAX).
    public static let maximumComponentLength = 255

    /// A job id is 1–128 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit, so
    /// that it can name files, log lines and routing keys without escaping.
    public static func isSafeJobId(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (1...maximumJobIdLength).contains(bytes.count), isAlphanumeric(bytes[0]) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// Checks a path that must stay under a root: relative, no empty, `.` or `..` component,
    /// no control character (`isControl`), within the length limits.
    /// `hiddenAllowed: false` also refuses components starting with `.` (the output side keeps
    /// hidden names for its work folders and markers).
    /// - Returns: the components, or a message saying what is wrong.
    public static func relativeComponents(_ path: String, hiddenAllowed: Bool) -> Result<[String], PathProblem> {
        if path.isEmpty { return .failure(PathProblem("is empty")) }
        if path.utf8.count > maximumPathLength { return .failure(PathProblem("is longer than \(maximumPathLength) bytes")) }
        if path.hasPrefix("/") { return .failure(PathProblem("is absolute; paths are relative to the worker's root")) }
        if path.hasPrefix("~") { return .failure(PathProblem("starts with ~; paths are relative to the worker's root")) }
        if path.unicodeScalars.contains(where: isControl) {
            return .failure(PathProblem("contains a control character"))
        }
        if path.contains("\\") { return .failure(PathProblem("contains a backslash")) }
        if path.contains("://") { return .failure(PathProblem("names another place (a URL); paths are relative to the worker's root")) }
        let components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for component in components {
            switch component {
            case "": return .failure(PathProblem("has an empty component (// or a trailing /)"))
            case ".": return .failure(PathProblem("has a . component"))
            case "..": return .failure(PathProblem("has a .. component; paths may not leave the worker's root"))
            default: break
            }
            if component.utf8.count > maximumComponentLength {
                return .failure(PathProblem("has a component longer than \(maximumComponentLength) bytes"))
            }
            if !hiddenAllowed && component.hasPrefix(".") {
                return .failure(PathProblem("has a component starting with . (reserved for the worker's own files)"))
            }
        }
        return .success(components)
    }

    /// C0 and C1 controls and DEL (Unicode's `Cc`), and the line and paragraph separators
    /// U+2028/U+2029: characters that end or rewrite a line in a log or a terminal.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: return true
        default: return false
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

/// What is wrong with a path, completed by the caller with the field name.
public struct PathProblem: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
