/// The file a request target names, as path components below the served folder.
///
/// The target's path is percent-decoded first and split at `/` after, so `%2e%2e` and `%2F`
/// are judged like the characters they stand for. Empty components (`//`) are dropped, so an
/// absolute-looking `//etc/passwd` stays below the folder. Refused: `.` and `..` components,
/// any component starting with `.` (hidden files), backslashes (403); NUL and other control
/// characters, bad percent escapes, non-UTF-8 names, targets not starting with `/` (400).
/// Symbolic links are the file system's business: `StaticFiles` resolves them and checks that
/// the result is still inside the folder.
public struct RequestPath: Equatable, Sendable {
    /// Decoded components (`["720p", "index.m3u8"]`); empty for `/`.
    public var components: [String]

    public init(components: [String]) {
        self.components = components
    }

    /// The relative path (`720p/index.m3u8`); empty for `/`.
    public var relative: String { components.joined(separator: "/") }

    /// Reads the path of a request target: origin form (`/a/b?q`) or absolute form
    /// (`http://host/a/b`); the query and any fragment are ignored.
    public static func parse(target: String) throws -> RequestPath {
        var path = Substring(target)
        for scheme in ["http://", "https://"] where path.lowercased().hasPrefix(scheme) {
            let afterScheme = path.dropFirst(scheme.count)
            path = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
        }
        if let end = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<end] }
        guard path.first == "/" else { throw HTTPRequestError(.badRequest, "request target is not an absolute path") }

        let decoded = try percentDecoded(path)
        let text = String(decoding: decoded, as: UTF8.self)
        guard Array(text.utf8) == decoded else {
            throw HTTPRequestError(.badRequest, "path is not UTF-8")
        }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw HTTPRequestError(.badRequest, "control character (NUL, …) in the path")
        }
        let components = text.split(separator: "/").map(String.init)
        for component in components {
            if component == "." || component == ".." {
                throw HTTPRequestError(.forbidden, "'\(component)' in the path")
            }
            // Bytes, not Characters: ".\u{301}x" is one Character that is not "." but a name
            // starting with a dot all the same.
            if component.utf8.first == UInt8(ascii: ".") { throw HTTPRequestError(.forbidden, "hidden file in the path") }
            if component.utf8.contains(UInt8(ascii: "\\")) { throw HTTPRequestError(.forbidden, "backslash in the path") }
        }
        return RequestPath(components: components)
    }

    /// `%XX` escapes turned into bytes; a `%` not followed by two hex digits is an error.
    static func percentDecoded(_ text: Substring) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < utf8.count, let high = hex(utf8[index + 1]), let low = hex(utf8[index + 2]) else {
                    throw HTTPRequestError(.badRequest, "bad percent escape in the path")
                }
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(byte)
                index += 1
            }
        }
        return bytes
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
