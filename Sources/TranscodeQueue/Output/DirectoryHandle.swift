import Foundation

/// An open folder (a descriptor opened with `O_DIRECTORY | O_NOFOLLOW`) through which names are
/// inspected, removed, renamed and written, so that a folder swapped for a symbolic link after it
/// was checked is never followed: a delete or a write lands in the folder that was checked or
/// fails. `path` is only for messages; `descriptorPath` (`/proc/self/fd/N/…`) hands the same
/// folder to code that takes paths (the engine), resolved through the descriptor, not the name.
public final class DirectoryHandle: @unchecked Sendable {  // immutable after init; each call is one system call on the descriptor
    /// Why a folder could not be opened or changed.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        /// A component is a symbolic link (or was swapped for one while it was opened).
        case symbolicLink(String)
        /// A component exists and is not a folder.
        case notAFolder(String)
        /// A component does not exist (and was not to be created).
        case missing(String)
        /// A system call failed.
        case system(call: String, path: String, errno: Int32)

        public var description: String {
            switch self {
            case .symbolicLink(let path): return "\(path) is a symbolic link"
            case .notAFolder(let path): return "\(path) is not a folder"
            case .missing(let path): return "\(path) does not exist"
            case .system(let call, let path, let code): return "\(call) \(path): \(String(cString: strerror(code)))"
            }
        }
    }

    /// What a name in the folder is, without following a link.
    public enum Kind: Equatable {
        case folder, file, symbolicLink, other
    }

    public let descriptor: Int32
    /// The folder's path as it was reached (for messages only).
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// Opens `path` itself (an operator-chosen root: its own links are followed).
    /// - Throws: `Problem` when it is missing or not a folder.
    public static func open(_ path: String) throws(Problem) -> DirectoryHandle {
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            switch errno {
            case ENOENT: throw .missing(path)
            case ENOTDIR: throw .notAFolder(path)
            default: throw .system(call: "open", path: path, errno: errno)
            }
        }
        return DirectoryHandle(descriptor: descriptor, path: path)
    }

    /// Opens `root`, then each of `components` below it without following links.
    /// - Parameter create: make missing folders (mode 0755) instead of throwing `.missing`.
    /// - Throws: `Problem` naming the first component that is a link, not a folder, or missing.
    public static func open(root: String, components: some Sequence<String>, create: Bool) throws(Problem) -> DirectoryHandle {
        var handle = try open(root)
        for component in components { handle = try handle.child(component, create: create) }
        return handle
    }

    /// The folder `name` in this folder, opened without following a link.
    /// - Throws: `Problem` (`.symbolicLink` also when the name was swapped for a link meanwhile).
    public func child(_ name: String, create: Bool) throws(Problem) -> DirectoryHandle {
        let childPath = path + "/" + name
        switch kind(of: name) {
        case .symbolicLink: throw .symbolicLink(childPath)
        case .file, .other: throw .notAFolder(childPath)
        case nil:
            guard create else { throw .missing(childPath) }
            if mkdirat(descriptor, name, 0o755) != 0 && errno != EEXIST {
                throw .system(call: "mkdir", path: childPath, errno: errno)
            }
        case .folder: break
        }
        let opened = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard opened >= 0 else {
            switch errno {
            case ELOOP: throw .symbolicLink(childPath)
            case ENOTDIR: throw .notAFolder(childPath)
            case ENOENT: throw .missing(childPath)
            default: throw .system(call: "open", path: childPath, errno: errno)
            }
        }
        return DirectoryHandle(descriptor: opened, path: childPath)
    }

    /// What `name` is (a link is reported as one, not followed); nil when it does not exist.
    public func kind(of name: String) -> Kind? {
        var info = stat()
        guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .folder
        case S_IFREG: return .file
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    /// `name` in this folder as a path that resolves through the descriptor
    /// (`/proc/self/fd/N/name`): valid while this handle lives, whatever happens to `path`.
    public func descriptorPath(_ name: String? = nil) -> String {
        let folder = "/proc/self/fd/\(descriptor)"
        return name.map { folder + "/" + $0 } ?? folder
    }

    /// Names in this folder (without `.` and `..`).
    public func names() throws(Problem) -> [String] {
        let copy = dup(descriptor)
        guard copy >= 0 else { throw .system(call: "dup", path: path, errno: errno) }
        guard let stream = fdopendir(copy) else {
            let code = errno
            close(copy)
            throw .system(call: "fdopendir", path: path, errno: code)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var result: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { result.append(name) }
        }
        return result
    }

    /// Removes `name` and, for a folder, everything below it, never following a link (a link is
    /// removed as a link). Nothing there is not an error.
    /// - Throws: `Problem` for the first entry that cannot be removed.
    public func removeTree(_ name: String) throws(Problem) {
        guard let kind = kind(of: name) else { return }
        if kind == .folder {
            let folder = try child(name, create: false)
            for entry in try folder.names() { try folder.removeTree(entry) }
        }
        guard unlinkat(descriptor, name, kind == .folder ? AT_REMOVEDIR : 0) == 0 || errno == ENOENT else {
            throw .system(call: "remove", path: path + "/" + name, errno: errno)
        }
    }

    /// True when a name in `names` stands anywhere below the folder `name` (not in it: at depth
    /// one or more), found without following links.
    public func holds(_ names: Set<String>, below name: String) throws(Problem) -> Bool {
        guard kind(of: name) == .folder else { return false }
        let folder = try child(name, create: false)
        for entry in try folder.names() where folder.kind(of: entry) == .folder {
            if try folder.child(entry, create: false).holdsHereOrBelow(names) { return true }
        }
        return false
    }

    /// True when a name in `names` stands in this folder or any folder below it. Each folder is
    /// opened and listed once.
    private func holdsHereOrBelow(_ names: Set<String>) throws(Problem) -> Bool {
        let entries = try self.names()
        if entries.contains(where: names.contains) { return true }
        for entry in entries where kind(of: entry) == .folder {
            if try child(entry, create: false).holdsHereOrBelow(names) { return true }
        }
        return false
    }

    /// Moves `sourcePath` (an absolute path the worker owns) to `name` in this folder.
    /// - Throws: `Problem` with rename's errno.
    public func moveHere(from sourcePath: String, to name: String) throws(Problem) {
        guard renameat(AT_FDCWD, sourcePath, descriptor, name) == 0 else {
            throw .system(call: "rename \(sourcePath) to", path: path + "/" + name, errno: errno)
        }
    }
}
