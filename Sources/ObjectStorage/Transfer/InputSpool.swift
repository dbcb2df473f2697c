import Foundation

/// An input object copied to local disk for the engine, which reads it as any file.
///
/// Why a spool and not reads over the network: the engine's demuxers seek (an MP4 whose index is
/// at its end, the resume fingerprint's head and tail, the pre-roll of a resumed or chunked pass),
/// each a round trip on ranged GETs; one streamed GET is as fast as the network and small next to
/// the transcode (a 30 s 1080p upload: well under a second on a LAN for about a minute of
/// encoding). The spool is bounded by `maxBytes` and removed with its folder by the caller.
public enum InputSpool {
    /// Downloads `address` into `folder` under the key's file name (what the engine reports) and
    /// gives the file the object's modification time, so a retried job sees the same source.
    /// - Throws: `StorageError` (`notFound`, `tooLarge` past `maxBytes` by HEAD or while reading,
    ///   `local` for a disk error).
    /// - Cost: one HEAD and one GET, streamed to disk (constant memory).
    public static func fetch(_ address: S3Address, client: S3Client, into folder: URL, maxBytes: Int64) throws(StorageError) -> String {
        guard let info = try client.head(address) else {
            // HEAD answers a bare 404 for a missing bucket too: ask the bucket, to say which.
            try client.checkBucket(address)
            throw .notFound("\(address): no such key")
        }
        guard info.size <= maxBytes else {
            throw .tooLarge("\(address): rejected: \(info.size) bytes, more than the limit of \(maxBytes)")
        }
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw .local("\(folder.path): \(error.localizedDescription)")
        }
        let name = address.lastComponent.isEmpty ? "input" : address.lastComponent
        let target = folder.appendingPathComponent(name).path
        let partial = folder.appendingPathComponent(".\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).part").path
        let descriptor = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .local("\(partial): \(String(cString: strerror(errno)))") }
        let fetched: ObjectInfo
        do throws(StorageError) {
            defer { close(descriptor) }
            do { fetched = try client.download(address, into: descriptor, limit: maxBytes) } catch .tooLarge {
                throw .tooLarge("\(address): rejected: more than the limit of \(maxBytes) bytes")
            }
            guard fsync(descriptor) == 0 else { throw .local("\(partial): \(String(cString: strerror(errno)))") }
        } catch {
            unlink(partial)
            throw error
        }
        if let modified = fetched.lastModified ?? info.lastModified {
            let seconds = modified.timeIntervalSince1970
            var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
            _ = utimensat(AT_FDCWD, partial, &times, 0)
        }
        guard rename(partial, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(partial)
            throw .local("\(target): \(reason)")
        }
        return target
    }
}
