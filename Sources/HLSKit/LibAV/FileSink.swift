import CFFmpeg
import Foundation

/// The destination of a custom `AVIOContext`: one file at a time, switched at segment boundaries.
/// Each file is written under a temporary name beside its own, hashed (SHA-256) as it is
/// written, and then either committed (flushed, renamed to its name, the folder flushed) or,
/// when the file is already committed by an earlier run, compared with it and dropped.
final class FileSink {
    private var descriptor: Int32 = -1
    /// The file's name when committed, and the temporary name it is written under.
    private var path: String?
    private var temporary: String?
    private(set) var bytesWritten = 0
    private let hash: SHA256
    /// The first write error, as errno and the file it hit.
    private(set) var failure: (errno: Int32, path: String)?
    /// MPEG-TS: counters rewritten to continue a resumed stream's kept segments.
    var continuity: TSContinuity?

    /// A closed file: its size and SHA-256 (lowercase hex).
    struct Written: Equatable {
        var bytes: Int
        var sha256: String
    }

    init() throws {
        hash = try SHA256()
    }

    deinit {
        if descriptor >= 0 { Foundation.close(descriptor) }
        if let temporary { unlink(temporary) }
    }

    /// The temporary name of `path`: hidden, beside it. Recovery deletes every file the journal
    /// does not name, these included.
    static func temporaryPath(of path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).part").path
    }

    /// Starts the file that will be `path` (written under its temporary name, replacing a leftover there).
    func open(_ path: String) throws {
        precondition(descriptor < 0, "FileSink.open while a file is open")
        let temporary = Self.temporaryPath(of: path)
        let fd = Foundation.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw SinkError(errno: errno, operation: "open", path: temporary) }
        descriptor = fd
        self.path = path
        self.temporary = temporary
        bytesWritten = 0
        _ = hash.finalize()
    }

    /// Gives the open file another name to be committed under (its bytes so far stay).
    func rename(to newPath: String) throws {
        guard let temporary else { throw SinkError(errno: EBADF, operation: "rename", path: newPath) }
        let newTemporary = Self.temporaryPath(of: newPath)
        if Foundation.rename(temporary, newTemporary) != 0 { throw SinkError(errno: errno, operation: "rename", path: newTemporary) }
        self.temporary = newTemporary
        path = newPath
    }

    /// Makes the open file durable under its name: fsync, rename, fsync of the folder (with
    /// `segment`, the `FaultPoint`s between the steps).
    func commit(segment: Bool = true) throws -> Written {
        guard descriptor >= 0, let path, let temporary else { throw SinkError(errno: EBADF, operation: "commit", path: path ?? "") }
        if segment { FaultPoint.reach(.segmentWritten) }
        let written = try closeFile(sync: true)
        if segment { FaultPoint.reach(.segmentSynced) }
        if Foundation.rename(temporary, path) != 0 { throw SinkError(errno: errno, operation: "rename", path: path) }
        self.temporary = nil
        if segment { FaultPoint.reach(.segmentRenamed) }
        try DiskSync.syncFolder(of: path)
        return written
    }

    /// Closes the open file, deletes it and returns what it held: for a file an earlier run
    /// committed, which the caller compares with the journal.
    func discard() throws -> Written {
        let written = try closeFile(sync: false)
        if let temporary { unlink(temporary) }
        temporary = nil
        return written
    }

    private func closeFile(sync: Bool) throws -> Written {
        let shown = path ?? ""
        defer { descriptor = -1; path = nil }
        if sync && fsync(descriptor) != 0 {
            let code = errno
            Foundation.close(descriptor)
            throw SinkError(errno: code, operation: "fsync", path: shown)
        }
        if Foundation.close(descriptor) != 0 { throw SinkError(errno: errno, operation: "close", path: shown) }
        if let failure { throw SinkError(errno: failure.errno, operation: "write", path: failure.path) }
        return Written(bytes: bytesWritten, sha256: hash.finalize())
    }

    /// Writes `data` to `path` durably (temporary name, fsync, rename, fsync of the folder);
    /// returns its size and SHA-256.
    @discardableResult
    static func writeDurably(_ data: Data, to path: String) throws -> Written {
        let sink = try FileSink()
        try sink.open(path)
        var bytes = [UInt8](data)
        let result = bytes.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { sink.write($0, count: buffer.count) } ?? 0 }
        if result < 0, let failure = sink.failure { throw SinkError(errno: failure.errno, operation: "write", path: failure.path) }
        return try sink.commit(segment: false)
    }

    /// Writes all of `bytes`; returns 0 or a negative AVERROR for libavformat.
    func write(_ bytes: UnsafeMutablePointer<UInt8>, count: Int) -> Int32 {
        continuity?.rewrite(UnsafeMutableBufferPointer(start: bytes, count: count))
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
        hash.update(bytes, count: count)
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
