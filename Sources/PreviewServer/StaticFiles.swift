import Glibc

/// A regular file opened for reading; closed when the last reference goes.
public final class OpenFile: @unchecked Sendable {  // immutable; pread moves no shared offset, so any thread may read
    let descriptor: Int32
    /// The resolved path, for messages.
    public let path: String
    /// Size when opened.
    public let size: Int

    init(descriptor: Int32, path: String, size: Int) {
        self.descriptor = descriptor
        self.path = path
        self.size = size
    }

    deinit { close(descriptor) }

    /// Reads up to `buffer.count` bytes at `offset`; the count read (0 at the end of the file).
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw SystemCallError("pread(\(path))")
        }
    }

    /// The whole file if it holds at most `limit` bytes (for playlists); nil when larger.
    func readAll(limit: Int) throws -> [UInt8]? {
        guard size <= limit else { return nil }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let count = try bytes.withUnsafeMutableBytes {
                try read(at: filled, into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]))
            }
            if count == 0 { break }
            filled += count
        }
        return Array(bytes[0..<filled])
    }
}

/// The files below one folder, and nothing else.
///
/// A request path (already free of `.`/`..` components and hidden names, see `RequestPath`) is
/// joined to the folder's real path and resolved with realpath(3), which follows every symbolic
/// link; the result is judged, not the name asked for: it must lie inside the folder and no
/// component below the folder may start with `.`, so a link to `.git/config` or to a file
/// outside is refused like the name itself would be (403). Only regular files are opened
/// (O_NONBLOCK, so a FIFO cannot block a thread; O_NOFOLLOW on the resolved path), and the
/// opened descriptor's own path (`/proc/self/fd/N`) must be the one judged, so that a directory
/// swapped for a link between the check and the open cannot lead elsewhere.
public struct StaticFiles: Sendable {
    public enum Lookup {
        case file(OpenFile)
        case notFound
        /// Outside the folder or hidden (a symbolic link leading out or to a hidden name), or not readable.
        case forbidden
    }

    /// The folder's real path (symbolic links resolved), without a trailing slash but for `/`.
    public let root: String

    /// Throws when `folder` cannot be resolved (missing, unreadable) or is not a directory, or
    /// when an opened file's path cannot be read back (no `/proc`).
    public init(folder: String) throws {
        guard let resolved = realpath(folder, nil) else { throw SystemCallError("realpath(\(folder))") }
        root = String(cString: resolved)
        free(resolved)
        var info = stat()
        guard stat(root, &info) == 0 else { throw SystemCallError("stat(\(root))") }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw SystemCallError("opendir(\(root))", code: ENOTDIR) }
        // Every lookup checks its descriptor through /proc: fail here, once, rather than refuse every file.
        let fd = Glibc.open(root, O_RDONLY | O_CLOEXEC | O_DIRECTORY)
        guard fd >= 0 else { throw SystemCallError("open(\(root))") }
        defer { close(fd) }
        guard let opened = Self.path(of: fd) else {
            throw SystemCallError("readlink(/proc/self/fd/\(fd)) (needed to check each file opened)")
        }
        guard opened == root else {
            throw SystemCallError("readlink(/proc/self/fd/\(fd)) gave \(opened), not \(root)", code: EIO)
        }
    }

    /// A root taken as it is, without resolving or checking it (for tests of `allows`).
    init(unresolvedRoot root: String) {
        self.root = root
    }

    /// Opens the regular file `path` names.
    public func open(_ path: RequestPath) -> Lookup {
        guard !path.components.isEmpty else { return .notFound }
        let joined = (root == "/" ? "" : root) + "/" + path.relative
        // A descriptor whose path is not the one judged: something on the way changed between
        // realpath and open (or a playlist was renamed over just then). Look again, a few times.
        for _ in 0..<3 {
            if let lookup = lookUp(joined) { return lookup }
        }
        return .forbidden
    }

    /// One resolve, check, open and verify; nil when the descriptor's path is not the one checked.
    private func lookUp(_ joined: String) -> Lookup? {
        guard let resolvedPointer = realpath(joined, nil) else {
            return errno == EACCES ? .forbidden : .notFound
        }
        let resolved = String(cString: resolvedPointer)
        free(resolvedPointer)
        guard allows(resolved) else { return .forbidden }
        let fd = Glibc.open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return errno == EACCES ? .forbidden : .notFound }
        guard Self.path(of: fd) == resolved else {
            close(fd)
            return nil
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return .notFound
        }
        return .file(OpenFile(descriptor: fd, path: resolved, size: Int(info.st_size)))
    }

    /// Whether a resolved absolute path may be served: it lies inside the folder (the folder
    /// itself excluded) and no component below the folder is empty or starts with `.`.
    /// Compared as bytes, as the file system does (Swift's `String` comparison would take a
    /// differently normalised `é` for the same folder).
    func allows(_ resolved: String) -> Bool {
        let prefix = Array((root == "/" ? "/" : root + "/").utf8)
        let bytes = Array(resolved.utf8)
        guard bytes.count > prefix.count, bytes.starts(with: prefix) else { return false }
        return !bytes[prefix.count...].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            .contains { $0.isEmpty || $0.first == UInt8(ascii: ".") }
    }

    /// The path the kernel gives for an open descriptor (`/proc/self/fd/N`); nil when it cannot
    /// be read. A file removed since it was opened reads as `path (deleted)`.
    static func path(of descriptor: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count)
        guard count > 0, count < buffer.count else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
