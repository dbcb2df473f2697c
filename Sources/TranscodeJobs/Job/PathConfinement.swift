import Foundation

/// A folder that a job's relative paths are resolved under and may not leave, not even through
/// a symbolic link. The root itself is resolved once (its own symlinks are the operator's choice).
public struct ConfinedRoot: Sendable, Equatable {
    /// The root with every symbolic link resolved.
    public let path: String

    /// - Throws: `PathProblem` when `path` does not exist or is not a folder.
    public init(_ path: String) throws(PathProblem) {
        guard let resolved = Self.realPath(path) else {
            throw PathProblem("\(path) does not exist")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PathProblem("\(path) is not a folder")
        }
        self.path = resolved
    }

    /// Resolves `relative` under the root.
    ///
    /// The lexical rules of `JobNames.relativeComponents` apply first. Then the longest part of
    /// the path that exists is resolved with `realpath(3)`, links included, and must still be
    /// under the root; the rest (which does not exist yet, so holds no link) is appended.
    ///
    /// - Parameter finalLinkAllowed: false refuses a path whose last component is itself a
    ///   symbolic link (an output folder is replaced, never followed).
    /// - Returns: the absolute path, links resolved, and the same path relative to the root.
    public func resolve(_ relative: String, hiddenAllowed: Bool, finalLinkAllowed: Bool = true)
        throws(PathProblem) -> (absolute: String, relative: String) {
        let components: [String]
        switch JobNames.relativeComponents(relative, hiddenAllowed: hiddenAllowed) {
        case .success(let value): components = value
        case .failure(let problem): throw problem
        }
        if !finalLinkAllowed {
            let joined = path + "/" + components.joined(separator: "/")
            var info = stat()
            if lstat(joined, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
                throw PathProblem("is a symbolic link")
            }
        }
        // Longest existing prefix, resolved.
        var existing = components.count
        var resolvedPrefix: String?
        while existing > 0 {
            let candidate = path + "/" + components[0..<existing].joined(separator: "/")
            if let real = Self.realPath(candidate) {
                resolvedPrefix = real
                break
            }
            // A dangling link is not "missing": it points somewhere, and we cannot tell where is safe.
            var info = stat()
            if lstat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
                throw PathProblem("goes through a symbolic link that leads nowhere")
            }
            existing -= 1
        }
        let base = resolvedPrefix ?? path
        guard contains(base) else {
            throw PathProblem("leads outside the worker's root through a symbolic link")
        }
        let rest = components[existing...]
        let absolute = rest.isEmpty ? base : base + "/" + rest.joined(separator: "/")
        guard absolute != path else { throw PathProblem("is the root itself") }
        let relativeResolved = String(absolute.dropFirst(path == "/" ? 1 : path.count + 1))
        if !hiddenAllowed, relativeResolved.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
            throw PathProblem("leads through a symbolic link into a hidden folder")
        }
        return (absolute, relativeResolved)
    }

    /// True when `absolute` (already resolved) is the root or inside it.
    public func contains(_ absolute: String) -> Bool {
        if path == "/" { return absolute.hasPrefix("/") }
        return absolute == path || absolute.hasPrefix(path + "/")
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
