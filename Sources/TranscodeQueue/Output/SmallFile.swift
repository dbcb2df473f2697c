import Foundation

/// Reads small files the worker keeps beside outputs (markers, lock texts) strictly: a link is
/// not followed, a FIFO or device is not opened for reading, and at most `maxBytes` are read.
enum SmallFile {
    /// The file's bytes; nil when it is missing, not a regular file, or larger than `maxBytes`.
    /// Costs an open, an fstat and one read.
    static func read(_ path: String, maxBytes: Int) -> Data? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= maxBytes else { return nil }
        var data = Data(count: Int(info.st_size) + 1)
        let count = data.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        guard count >= 0, count <= maxBytes else { return nil }
        return data.prefix(count)
    }
}
