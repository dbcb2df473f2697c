import Foundation

/// An input file opened under its root and checked through its descriptor: the real path of the
/// open file lies under the root and the file is a regular file. Whatever is renamed or swapped
/// for a link afterwards, `descriptorPath` (`/proc/self/fd/N`) names the very file checked, so
/// the engine reads what was confined. The descriptor is closed when the value is freed.
public final class ConfinedFile: @unchecked Sendable {  // immutable; the descriptor is only read through its path
    /// Why an input could not be opened under its root.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case missing(String)
        /// Its real path leaves the root (a folder or the file was swapped for a link).
        case outside(String)
        /// A folder, FIFO, device or socket.
        case notRegular(String)
        case system(call: String, path: String, errno: Int32)

        public var description: String {
            switch self {
            case .missing(let path): return "\(path) does not exist"
            case .outside(let real): return "leads outside the worker's root through a symbolic link (to \(real))"
            case .notRegular(let kind): return "is not a regular file (\(kind))"
            case .system(let call, let path, let code): return "\(call) \(path): \(String(cString: strerror(code)))"
            }
        }
    }

    public let descriptor: Int32
    /// The real path of the open file when it was checked.
    public let realPath: String

    private init(descriptor: Int32, realPath: String) {
        self.descriptor = descriptor
        self.realPath = realPath
    }

    deinit { close(descriptor) }

    /// A path that opens this same file again (valid while the value lives).
    public var descriptorPath: String { "/proc/self/fd/\(descriptor)" }

    /// Opens `path` (absolute, normally a path `ConfinedRoot.resolve` returned) read-only and
    /// checks the open file: under `root`, a regular file. Never blocks on a FIFO (opened
    /// non-blocking, then refused). Costs an open, a readlink and an fstat.
    /// - Throws: `Problem`.
    public static func open(_ path: String, under root: ConfinedRoot) throws(Problem) -> ConfinedFile {
        let descriptor = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard descriptor >= 0 else {
            switch errno {
            case ENOENT, ENOTDIR: throw .missing(path)
            case ELOOP: throw .outside("a loop of symbolic links")
            default: throw .system(call: "open", path: path, errno: errno)
            }
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let code = errno
            close(descriptor)
            throw .system(call: "fstat", path: path, errno: code)
        }
        guard let real = realPath(of: descriptor), root.contains(real) else {
            let real = realPath(of: descriptor) ?? "an unknown place"
            close(descriptor)
            throw .outside(real)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw .notRegular(kind(info.st_mode))
        }
        // Reads of a regular file never block; clear the flag for whoever reads it next.
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        return ConfinedFile(descriptor: descriptor, realPath: real)
    }

    /// The path the kernel has for an open descriptor (`/proc/self/fd/N`'s target).
    static func realPath(of descriptor: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count - 1)
        guard length > 0, buffer[0] == 0x2F /* "/" */ else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR, S_IFBLK: return "a device"
        case S_IFSOCK: return "a socket"
        default: return "not a file"
        }
    }
}
