import Glibc

/// A regular file opened for reading; closed when the last reference goes.
public final class OpenFile: @unchecked Sendable {
    // Immutable after init; pread does not move a shared offset, so reads may come from any thread.
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
/// A request path (already free of `.`/`..` components, see `RequestPath`) is joined to the
/// folder's real path and resolved with realpath(3), which follows every symbolic link; the
/// result must still lie inside the folder. Only regular files are opened (O_NONBLOCK, so a
/// FIFO cannot block a thread; O_NOFOLLOW on the resolved path).
public struct StaticFiles: Sendable {
    public enum Lookup {
        case file(OpenFile)
        case notFound
        /// Outside the folder (a symbolic link leading out) or not readable.
        case forbidden
    }

    /// The folder's real path (symbolic links resolved), without a trailing slash but for `/`.
    public let root: String

    /// Throws when `folder` cannot be resolved (missing, unreadable) or is not a directory.
    public init(folder: String) throws {
        guard let resolved = realpath(folder, nil) else { throw SystemCallError("realpath(\(folder))") }
        root = String(cString: resolved)
        free(resolved)
        var info = stat()
        guard stat(root, &info) == 0 else { throw SystemCallError("stat(\(root))") }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw SystemCallError("opendir(\(root))", code: ENOTDIR) }
    }

    /// Opens the regular file `path` names.
    public func open(_ path: RequestPath) -> Lookup {
        guard !path.components.isEmpty else { return .notFound }
        let joined = (root == "/" ? "" : root) + "/" + path.relative
        guard let resolvedPointer = realpath(joined, nil) else {
            return errno == EACCES ? .forbidden : .notFound
        }
        let resolved = String(cString: resolvedPointer)
        free(resolvedPointer)
        guard contains(resolved) else { return .forbidden }
        let fd = Glibc.open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return errno == EACCES ? .forbidden : .notFound }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return .notFound
        }
        return .file(OpenFile(descriptor: fd, path: resolved, size: Int(info.st_size)))
    }

    /// Whether a resolved absolute path lies inside the folder (the folder itself excluded).
    func contains(_ resolved: String) -> Bool {
        root == "/" ? resolved.count > 1 : resolved.hasPrefix(root + "/")
    }
}
