import Foundation

/// Reads an uploaded subtitle file with a size bound, the one place both the transcoder
/// (`--subtitles LANG=FILE`, the worker's jobs) and `hlsify subtitles` read SRT bytes.
public enum SubtitleFile {
    /// Reads the whole of the regular file at `path`, refusing one larger than `maxBytes`.
    ///
    /// The file is opened once (non-blocking, so a FIFO without a writer cannot hang the
    /// open), checked with `fstat` on that descriptor (only regular files: a FIFO, a device such
    /// as `/dev/zero`, a socket or a folder is refused), and read at most `maxBytes + 1` bytes
    /// deep, so a file that grows after the check is refused too and memory never exceeds the bound.
    ///
    /// - Parameters:
    ///   - path: the file's path.
    ///   - maxBytes: the largest size accepted, in bytes (by default
    ///     ``InputLimits/defaultMaxSubtitleBytes``, 10 MiB).
    ///   - what: the `kind:` argument, what the messages call the file ("subtitle", "chapters").
    /// - Returns: the file's bytes, at most `maxBytes` of them.
    /// - Throws: `TranscodeError.inputMissing` when the file does not exist or cannot be opened;
    ///   `.invalidInput` (exit 65, final for the worker) when it is not a regular file or is over
    ///   `maxBytes`; `.io` when reading fails. Each message names the file and the reason.
    /// - Cost: one `open`, one `fstat` and reads of at most `maxBytes + 1` bytes; memory about the
    ///   file's size.
    public static func read(_ path: String, maxBytes: Int = InputLimits.defaultMaxSubtitleBytes, kind what: String = "subtitle") throws -> Data {
        precondition(maxBytes >= 0, "maxBytes must not be negative")
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard descriptor >= 0 else {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR:
                throw TranscodeError.inputMissing("\(path): no such \(what) file")
            case EACCES, EPERM:
                throw TranscodeError.inputMissing("\(path): \(what) file not readable (permission denied)")
            default:
                throw TranscodeError.inputMissing("\(path): cannot open \(what) file: open: \(String(cString: strerror(code)))")
            }
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw TranscodeError.io("\(path): cannot read \(what) file: fstat: \(String(cString: strerror(errno)))")
        }
        if let kind = FileKind.nonRegular(info.st_mode) {
            throw TranscodeError.invalidInput("\(path): rejected: \(kind), not a regular \(what) file")
        }
        if Int64(info.st_size) > Int64(maxBytes) {
            throw tooLarge(path, what: what, bytes: "\(info.st_size) bytes", maxBytes: maxBytes)
        }
        var data = Data()
        data.reserveCapacity(Int(info.st_size) + 1)
        let chunk = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: chunk)
        let bound = maxBytes == Int.max ? maxBytes : maxBytes + 1
        while data.count < bound {
            let wanted = min(chunk, bound - data.count)
            let got = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, wanted) }
            if got < 0 {
                if errno == EINTR { continue }
                throw TranscodeError.io("\(path): cannot read \(what) file: read: \(String(cString: strerror(errno)))")
            }
            if got == 0 { return data }
            data.append(contentsOf: buffer[0..<got])
        }
        if data.count <= maxBytes { return data }
        // More than maxBytes arrived: the file grew after fstat.
        throw tooLarge(path, what: what, bytes: "more than \(maxBytes) bytes", maxBytes: maxBytes)
    }

    private static func tooLarge(_ path: String, what: String, bytes: String, maxBytes: Int) -> TranscodeError {
        .invalidInput("\(path): rejected: \(what) file is \(bytes), over the limit of \(maxBytes) bytes (\(sizeText(maxBytes)))")
    }

    /// `10 MiB`, `512 KiB`, or bytes when not a whole number of either.
    static func sizeText(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) B"
    }
}
