import Foundation

/// A local folder and a bucket prefix kept alike file by file, for work that several machines
/// share through a bucket (the parts of a job split by time). Files are uploaded whole and
/// overwrite; downloads go to a temporary name and are renamed into place, so a local reader
/// sees a file complete or not at all.
public struct PrefixMirror: Sendable {
    public let client: S3Client
    public let remote: S3Address
    public let local: URL

    public init(client: S3Client, remote: S3Address, local: URL) {
        self.client = client
        self.remote = remote
        self.local = local
    }

    /// Uploads the files at `paths` (relative to both sides), in that order.
    /// - Throws: `StorageError` (`local` for a file that cannot be read).
    public func push(_ paths: [String]) throws(StorageError) {
        for path in paths {
            let headers = ObjectHeaders.forPath(path)
            _ = try FileUpload.upload(local.appendingPathComponent(path).path, to: try remote.appending(path), client: client,
                                      contentType: headers.contentType, cacheControl: "no-cache")
        }
    }

    /// The regular files below the local `folder` (relative to the mirror), hidden ones left out.
    public func localFiles(under folder: String) -> [String] {
        let base = local.appendingPathComponent(folder).standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(at: URL(fileURLWithPath: base), includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else { return [] }
        var paths: [String] = []
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(base + "/") else { continue }
            paths.append(folder + "/" + path.dropFirst(base.count + 1))
        }
        return paths.sorted()
    }

    /// The relative paths of every object under the prefix.
    public func remoteFiles() throws(StorageError) -> [String] {
        let prefix = remote.listingPrefix
        return try client.list(remote).map { String($0.key.dropFirst(prefix.count)) }
    }

    /// Downloads the objects at `paths` that are missing locally or of another size, in that
    /// order. Paths the address rules refuse are skipped.
    /// - Returns: how many were downloaded.
    @discardableResult
    public func pull(_ paths: [String], sizes: [String: Int64] = [:]) throws(StorageError) -> Int {
        var fetched = 0
        for path in paths {
            guard let address = try? remote.appending(path) else { continue }
            let target = local.appendingPathComponent(path)
            if let size = sizes[path], let attributes = try? FileManager.default.attributesOfItem(atPath: target.path),
               (attributes[.size] as? NSNumber)?.int64Value == size { continue }
            let folder = target.deletingLastPathComponent()
            do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
                throw .local("\(folder.path): \(error.localizedDescription)")
            }
            let partial = folder.appendingPathComponent(".\(target.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).part").path
            let descriptor = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw .local("\(partial): \(String(cString: strerror(errno)))") }
            do throws(StorageError) {
                defer { close(descriptor) }
                _ = try client.download(address, into: descriptor, limit: 5 << 30)
            } catch .notFound {
                unlink(partial)
                continue  // gone since it was listed
            } catch {
                unlink(partial)
                throw error
            }
            guard rename(partial, target.path) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(partial)
                throw .local("\(target.path): \(reason)")
            }
            fetched += 1
        }
        return fetched
    }

    /// The sizes of the objects under the prefix, by relative path.
    public func remoteSizes() throws(StorageError) -> [String: Int64] {
        let prefix = remote.listingPrefix
        var sizes: [String: Int64] = [:]
        for object in try client.list(remote) { sizes[String(object.key.dropFirst(prefix.count))] = object.size }
        return sizes
    }

    /// Deletes every object under the prefix.
    public func removeRemote() throws(StorageError) {
        for path in try remoteFiles() { try client.delete(remote.child(path)) }
    }
}
