import CFFmpeg
import Foundation

/// An incremental SHA-256 (libavutil's `AVSHA`, owned and freed in `deinit`).
final class SHA256 {
    private let context: OpaquePointer

    /// - Throws: `LibAVError` when the context cannot be allocated or initialised.
    init() throws {
        guard let context = av_sha_alloc() else { throw LibAVError.allocation("av_sha_alloc") }
        self.context = context
        try check(av_sha_init(context, 256), "av_sha_init")
    }

    deinit { av_free(UnsafeMutableRawPointer(context)) }

    func update(_ bytes: UnsafePointer<UInt8>, count: Int) {
        var offset = 0
        while offset < count {
            let part = min(count - offset, Int(UInt32.max))
            av_sha_update(context, bytes + offset, part)
            offset += part
        }
    }

    /// The digest as lowercase hex; the context starts afresh after it.
    func finalize() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        av_sha_final(context, &digest)
        _ = av_sha_init(context, 256)
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 of `count` bytes of the file at `descriptor`, read from `offset` (fewer when the file ends).
    static func of(descriptor: Int32, offset: Int64, count: Int) throws -> String {
        let hash = try SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var position = offset
        var remaining = count
        while remaining > 0 {
            let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, min(remaining, $0.count), off_t(position)) }
            if got < 0 {
                if errno == EINTR { continue }
                throw SinkError(errno: errno, operation: "read", path: "(fd \(descriptor))")
            }
            if got == 0 { break }
            buffer.withUnsafeBufferPointer { hash.update($0.baseAddress!, count: got) }
            position += Int64(got)
            remaining -= got
        }
        return hash.finalize()
    }

    /// SHA-256 of `bytes`.
    static func of(bytes: [UInt8]) throws -> String {
        let hash = try SHA256()
        bytes.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { hash.update(base, count: buffer.count) }
        }
        return hash.finalize()
    }

    /// SHA-256 of the whole file at `path`.
    static func of(path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SinkError(errno: errno, operation: "open", path: path) }
        defer { close(fd) }
        return try of(descriptor: fd, offset: 0, count: Int.max)
    }
}
