import CPosix
import Foundation
import HLSKit

/// An input file opened under its root and checked through its descriptor: the real path of the
/// open file lies under the root and the file is a regular file. Whatever is renamed or swapped
/// for a link afterwards, `descriptorPath` (`/proc/self/fd/N`) names the very file checked, so
/// the engine reads what was confined. The descriptor is closed when the value is freed.
public final class ConfinedFile: @unchecked Sendable {  // immutable; the descriptor is only read through its path
    /// Why an input could not be opened under its root.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case missing(String)
        /// Permission denied.
        case unreadable(String)
        /// Its real path leaves the root (a folder or the file was swapped for a link).
        case outside(String)
        /// A folder, FIFO, device or socket.
        case notRegular(String)
        case system(call: String, path: String, errno: Int32)

        public var description: String {
            switch self {
            case .missing(let path): return "\(path) does not exist"
            case .unreadable(let path): return "\(path) cannot be read: permission denied"
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

    /// Opens `path` (absolute, normally a path `ConfinedRoot.resolve` returned) and checks the
    /// file it reaches before reading anything: under `root`, a regular file. The check is made
    /// on an `O_PATH` descriptor (which opens no device and never blocks on a FIFO); the file is
    /// then opened for reading through that descriptor, so it is the file checked. Costs two
    /// opens, a readlink and an fstat.
    /// - Throws: `Problem`.
    public static func open(_ path: String, under root: ConfinedRoot) throws(Problem) -> ConfinedFile {
        let located = hlsify_open_path(path)
        guard located >= 0 else { throw openProblem(errno, path) }
        defer { close(located) }
        var info = stat()
        guard fstat(located, &info) == 0 else { throw .system(call: "fstat", path: path, errno: errno) }
        guard let real = realPath(of: located), root.contains(real) else {
            throw .outside(realPath(of: located) ?? "an unknown place")
        }
        if let kind = FileKind.nonRegular(info.st_mode) { throw .notRegular(kind) }
        let descriptor = Glibc.open("/proc/self/fd/\(located)", O_RDONLY | O_NOCTTY | O_CLOEXEC)
        guard descriptor >= 0 else { throw openProblem(errno, path) }
        return ConfinedFile(descriptor: descriptor, realPath: real)
    }

    private static func openProblem(_ code: Int32, _ path: String) -> Problem {
        switch code {
        case ENOENT, ENOTDIR: return .missing(path)
        case EACCES, EPERM: return .unreadable(path)
        case ELOOP: return .outside("a loop of symbolic links")
        case ENXIO: return .notRegular("a socket or device")
        default: return .system(call: "open", path: path, errno: code)
        }
    }

    /// The path the kernel has for an open descriptor (`/proc/self/fd/N`'s target).
    static func realPath(of descriptor: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count - 1)
        guard length > 0, buffer[0] == 0x2F /* "/" */ else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
