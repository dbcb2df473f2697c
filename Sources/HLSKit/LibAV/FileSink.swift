import CFFmpeg
import Foundation

/// The destination of a custom `AVIOContext`: one file at a time, switched at segment boundaries,
/// counting the bytes written to each.
final class FileSink {
    private var descriptor: Int32 = -1
    private(set) var path: String?
    private(set) var bytesWritten = 0
    /// The first write error, as errno and the file it hit.
    private(set) var failure: (errno: Int32, path: String)?

    deinit { if descriptor >= 0 { Foundation.close(descriptor) } }

    /// Opens a new file (it must not exist yet) as the destination.
    func open(_ path: String) throws {
        precondition(descriptor < 0, "FileSink.open while a file is open")
        let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SinkError(errno: errno, operation: "open", path: path) }
        descriptor = fd
        self.path = path
        bytesWritten = 0
    }

    /// Flushes the file to disk, closes it and returns its size.
    @discardableResult
    func close(sync: Bool = false) throws -> Int {
        guard descriptor >= 0, let path else { return 0 }
        defer { descriptor = -1; self.path = nil }
        if sync && fsync(descriptor) != 0 {
            let code = errno
            Foundation.close(descriptor)
            throw SinkError(errno: code, operation: "fsync", path: path)
        }
        if Foundation.close(descriptor) != 0 { throw SinkError(errno: errno, operation: "close", path: path) }
        if let failure { throw SinkError(errno: failure.errno, operation: "write", path: failure.path) }
        return bytesWritten
    }

    /// Writes all of `bytes`; returns 0 or a negative AVERROR for libavformat.
    func write(_ bytes: UnsafePointer<UInt8>, count: Int) -> Int32 {
        guard descriptor >= 0 else {
            failure = failure ?? (EBADF, path ?? "(no file)")
            return hlsify_averror(EBADF)
        }
        var offset = 0
        while offset < count {
            let result = Foundation.write(descriptor, bytes + offset, count - offset)
            if result < 0 {
                if errno == EINTR { continue }
                let code = errno
                failure = failure ?? (code, path ?? "")
                return hlsify_averror(code)
            }
            offset += result
        }
        bytesWritten += count
        return 0
    }
}

/// A failed file operation while writing output.
struct SinkError: Error, CustomStringConvertible {
    let errno: Int32
    let operation: String
    let path: String
    var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
}

/// Write callback for `avio_alloc_context`: forwards to the `FileSink` passed as opaque.
let fileSinkWrite: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int32) -> Int32 = { opaque, buffer, size in
    guard let opaque, let buffer, size > 0 else { return 0 }
    let sink = Unmanaged<FileSink>.fromOpaque(opaque).takeUnretainedValue()
    let result = sink.write(buffer, count: Int(size))
    return result < 0 ? result : size
}
