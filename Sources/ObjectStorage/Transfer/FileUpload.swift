import Crypto
import Foundation

/// Uploads one local file: a single PUT, or a multipart upload in parts of
/// `configuration.multipartBytes` when the file is at least that large (aborted on failure, so no
/// upload is left open). The body is signed by its SHA-256, which the server checks.
enum FileUpload {
    /// What was stored.
    struct Stored {
        var bytes: Int64
        var sha256: String
    }

    /// - Throws: `StorageError` (`local` when the file cannot be read).
    /// - Cost: reads the file twice (hash, then send); memory: one 1 MiB buffer.
    /// - Parameter unlessSHA256: nothing is sent when the file's hash is this one (already stored).
    static func upload(_ path: String, to address: S3Address, client: S3Client, contentType: String,
                       cacheControl: String?, unlessSHA256: String? = nil) throws(StorageError) -> Stored {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .local("\(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .local("\(path): \(String(cString: strerror(errno)))") }
        let size = Int64(info.st_size)
        let whole = try sha256(descriptor, offset: 0, length: size, path: path)
        if whole == unlessSHA256 { return Stored(bytes: size, sha256: whole) }
        let partBytes = Int64(max(client.configuration.multipartBytes, 64 << 10))
        guard size >= partBytes, size > 0 else {
            _ = try client.put(address, body: .file(descriptor: descriptor, offset: 0, length: size), sha256: whole,
                               contentType: contentType, cacheControl: cacheControl)
            return Stored(bytes: size, sha256: whole)
        }
        let id = try client.createUpload(address, contentType: contentType, cacheControl: cacheControl)
        do {
            var parts: [(Int, String)] = []
            var offset: Int64 = 0
            while offset < size {
                let length = min(partBytes, size - offset)
                let hash = try sha256(descriptor, offset: offset, length: length, path: path)
                let etag = try client.uploadPart(address, id: id, number: parts.count + 1,
                                                 body: .file(descriptor: descriptor, offset: offset, length: length), sha256: hash)
                parts.append((parts.count + 1, etag))
                offset += length
            }
            try client.completeUpload(address, id: id, parts: parts)
        } catch {
            try? client.abortUpload(address, id: id)
            throw error
        }
        return Stored(bytes: size, sha256: whole)
    }

    /// Lower-case hex SHA-256 of `length` bytes of the file from `offset`.
    static func sha256(_ descriptor: Int32, offset: Int64, length: Int64, path: String) throws(StorageError) -> String {
        var hash = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var done: Int64 = 0
        while done < length {
            let wanted = Int(min(Int64(buffer.count), length - done))
            let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, wanted, off_t(offset + done)) }
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { throw .local("\(path): \(read < 0 ? String(cString: strerror(errno)) : "shorter than expected")") }
            hash.update(data: buffer[0..<read])
            done += Int64(read)
        }
        return Hex.string(hash.finalize())
    }
}
