import Foundation

/// Publishes an HLS set written to a local folder under a bucket prefix, in the order that makes
/// the master's appearance the publish: media (segments, init sections, subtitles), then media
/// playlists, then `master.m3u8`, then `.hlsify-output.json` and the caller's records.
///
/// For a set still being written (progressive), `sync()` uploads what the playlists on disk
/// already name, each playlist after the files it names, the master after its playlists.
/// `discard()` takes back everything this publisher uploaded and aborts its open uploads.
public final class BucketPublisher: @unchecked Sendable {  // mutable state under `lock`
    public let destination: S3Address
    public let folder: URL
    private let client: S3Client
    private let lock = NSLock()
    /// Path → what was last uploaded there by this publisher, and with which Cache-Control.
    private var uploaded: [String: (stored: FileUpload.Stored, cacheControl: String?)] = [:]
    /// Keys under the prefix before this publisher started, relative to it.
    private var existing: Set<String> = []
    /// What the set being replaced held, by its inventory (empty when there was none).
    private var previous: Set<String> = []

    public init(client: S3Client, destination: S3Address, folder: URL) {
        self.client = client
        self.destination = destination
        self.folder = folder
    }

    /// Checks the bucket, refuses an existing set unless `overwrite`, and aborts the multipart
    /// uploads a killed earlier run left open under the prefix. With `overwrite`, the old master
    /// is removed first (the old set is no longer published) and the old objects the new set does
    /// not hold are deleted by `finish`.
    /// - Throws: `StorageError.cannotPublish` (a set is there; the bucket is missing), or what the
    ///   server answers.
    public func prepare(overwrite: Bool) throws(StorageError) {
        do { try client.checkBucket(destination) } catch .notFound(let message) { throw .cannotPublish(message) }
        let objects = try client.list(destination)
        let prefix = destination.listingPrefix
        existing = Set(objects.map { String($0.key.dropFirst(prefix.count)) })
        if existing.contains(ObjectHeaders.masterName) {
            guard overwrite else { throw .cannotPublish("\(destination): an HLS set is already there (use --force to replace it)") }
            if existing.contains(OutputInventory.fileName),
               let bytes = try? client.get(destination.child(OutputInventory.fileName), limit: 64 << 20),
               let inventory = try? JSONDecoder().decode(OutputInventory.self, from: Data(bytes)) {
                previous = Set(inventory.objects.map(\.path))
            }
            try client.delete(destination.child(ObjectHeaders.masterName))
        }
        try abortOwnUploads(client: client)
    }

    /// Aborts the multipart uploads open under the prefix, but for the work of others kept
    /// beside the set (`.hlsify-work/`).
    private func abortOwnUploads(client: S3Client) throws(StorageError) {
        let prefix = destination.listingPrefix
        for upload in try client.openUploads(destination) where !upload.key.dropFirst(prefix.count).hasPrefix(Self.workPrefix) {
            try client.abortUpload(try S3Address(bucket: destination.bucket, key: upload.key), id: upload.uploadId)
        }
    }

    /// Where the worker keeps shared work beside a set: never published, replaced or removed here.
    public static let workPrefix = ".hlsify-work/"

    /// The keys of an earlier set under the prefix that a new set (`files`) replaces: what the
    /// earlier set's inventory listed, and anything inside a folder the new set writes into (a
    /// killed attempt's segments); never a key outside those (an upload beside the set, another
    /// set in a sub-folder, the work beside it). Pure.
    static func stale(existing: Set<String>, previous: Set<String>, files: Set<String>) -> [String] {
        let folders = Set(files.compactMap { $0.contains("/") ? String($0.prefix { $0 != "/" }) : nil })
        return existing.filter { key in
            guard !files.contains(key), !key.hasPrefix(workPrefix) else { return false }
            if previous.contains(key) { return true }
            return key.contains("/") && folders.contains(String(key.prefix { $0 != "/" }))
        }.sorted()
    }

    /// The keys of an incomplete set under the prefix that may be removed: the master and the
    /// records first, then what lies in folders holding a playlist (rendition folders); nothing
    /// else (an upload beside the set, another set in a sub-folder, the work beside it). Pure.
    public static func incompleteSet(in keys: [String]) -> [String] {
        let top = [ObjectHeaders.masterName, OutputInventory.fileName, ".hlsify-complete.json"].filter(keys.contains)
        let playlistFolders = Set(keys.filter { $0.hasSuffix(".m3u8") && $0.split(separator: "/").count == 2 }
            .map { String($0.prefix { $0 != "/" }) })
        let inside = keys.filter { $0.contains("/") && !$0.hasPrefix(workPrefix) && playlistFolders.contains(String($0.prefix { $0 != "/" })) }
        return top + inside.sorted()
    }

    /// Uploads what the set's playlists on disk name and has not been uploaded yet, then those
    /// playlists, then the master once every playlist it names is up. For progressive sets.
    public func sync() throws(StorageError) {
        let files = Set(try localFiles())
        var playlists = files.filter { ObjectHeaders.stage(of: $0) == .mediaPlaylist }.sorted()
        var up: Set<String> = []
        for playlist in playlists {
            guard let text = try? String(contentsOf: folder.appendingPathComponent(playlist), encoding: .utf8) else { continue }
            // Read after the listing: it may name a segment committed since; every file it names
            // must be up before it.
            let named = PlaylistReferences.of(text, playlistPath: playlist)
            guard named.allSatisfy({ files.contains($0) || FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }) else {
                continue
            }
            try uploadAll(named.filter { isUploaded($0) == false }, live: true)
            try uploadOne(playlist, live: true)
            up.insert(playlist)
        }
        playlists = []
        guard files.contains(ObjectHeaders.masterName),
              let master = try? String(contentsOf: folder.appendingPathComponent(ObjectHeaders.masterName), encoding: .utf8) else { return }
        let named = PlaylistReferences.of(master, playlistPath: ObjectHeaders.masterName)
        if named.allSatisfy({ up.contains($0) }) { try uploadOne(ObjectHeaders.masterName, live: true) }
    }

    /// Uploads the whole set in order, then `.hlsify-output.json`, then `records` (name, bytes),
    /// and deletes what an earlier set left under the prefix that this one does not hold.
    /// - Returns: the inventory written.
    /// - Cost: one upload per file not already up with the same content, `parallelUploads` at once.
    @discardableResult
    public func finish(records: [(String, [UInt8])] = []) throws(StorageError) -> OutputInventory {
        let files = try localFiles()
        for stage in [ObjectHeaders.Stage.media, .mediaPlaylist, .master] {
            try uploadAll(files.filter { ObjectHeaders.stage(of: $0) == stage }, live: false)
        }
        var objects: [OutputInventory.Object] = []
        for path in files.sorted() {
            let stored = lock.withLock { uploaded[path]?.stored }
            objects.append(OutputInventory.Object(path: path, bytes: stored?.bytes ?? 0, sha256: stored?.sha256 ?? "",
                                                  contentType: ObjectHeaders.forPath(path).contentType))
        }
        let inventory = OutputInventory(completedAt: OutputInventory.timestamp(Date()), objects: objects)
        try putRecord(OutputInventory.fileName, inventory.encoded())
        for (name, bytes) in records { try putRecord(name, bytes) }
        let kept = Set(files).union([OutputInventory.fileName]).union(records.map(\.0))
        for stale in Self.stale(existing: existing, previous: previous, files: kept) {
            try client.delete(destination.child(stale))
        }
        return inventory
    }

    /// Puts one small object of this set (a record such as a completion marker) now.
    public func putRecord(_ name: String, _ bytes: [UInt8]) throws(StorageError) {
        let headers = ObjectHeaders.forPath(name)
        _ = try client.put(destination.child(name), bytes: bytes, contentType: headers.contentType, cacheControl: headers.cacheControl)
        lock.withLock {
            uploaded[name] = (FileUpload.Stored(bytes: Int64(bytes.count), sha256: SigV4Signer.sha256Hex(bytes)), headers.cacheControl)
        }
    }

    /// Deletes every object this publisher uploaded (the master first) and aborts the multipart
    /// uploads open under the prefix. Best effort: returns the first error, after trying all.
    /// - Parameter other: the client to do it with when this publisher's was cancelled.
    @discardableResult
    public func discard(with other: S3Client? = nil) -> StorageError? {
        let client = other ?? self.client
        let paths = lock.withLock { Array(uploaded.keys) }.sorted { ObjectHeaders.stage(of: $0) > ObjectHeaders.stage(of: $1) }
        var first: StorageError?
        for path in paths {
            do throws(StorageError) { try client.delete(destination.child(path)) } catch {
                first = first ?? error
                // A master (or record) that stays must not lose its segments.
                if ObjectHeaders.stage(of: path) >= .master { return first }
            }
        }
        do throws(StorageError) { try abortOwnUploads(client: client) } catch { first = first ?? error }
        lock.withLock { uploaded = [:] }
        return first
    }

    /// Paths this publisher has put in the bucket.
    public var uploadedPaths: [String] { lock.withLock { uploaded.keys.sorted() } }

    private func isUploaded(_ path: String) -> Bool { lock.withLock { uploaded[path] != nil } }

    private func uploadOne(_ path: String, live: Bool) throws(StorageError) {
        let headers = ObjectHeaders.forPath(path, live: live)
        // Sent again when its bytes or its headers changed (a live playlist becomes final).
        let previous = lock.withLock { uploaded[path].flatMap { $0.cacheControl == headers.cacheControl ? $0.stored.sha256 : nil } }
        let stored = try FileUpload.upload(folder.appendingPathComponent(path).path, to: destination.child(path), client: client,
                                           contentType: headers.contentType, cacheControl: headers.cacheControl, unlessSHA256: previous)
        lock.withLock { uploaded[path] = (stored, headers.cacheControl) }
    }

    /// Uploads `paths` with `parallelUploads` at once; the first failure stops the rest.
    private func uploadAll(_ paths: [String], live: Bool) throws(StorageError) {
        guard !paths.isEmpty else { return }
        let width = max(1, min(client.configuration.parallelUploads, paths.count))
        let next = ManagedCounter()
        let failure = FirstError()
        DispatchQueue.concurrentPerform(iterations: width) { _ in
            while failure.error == nil, let index = next.take(below: paths.count) {
                do throws(StorageError) { try uploadOne(paths[index], live: live) } catch { failure.set(error) }
            }
        }
        if let error = failure.error { throw error }
    }

    /// The set's files, relative to `folder`; hidden files and folders are not part of it.
    private func localFiles() throws(StorageError) -> [String] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else {
            throw .local("\(folder.path): cannot be listed")
        }
        var paths: [String] = []
        let base = folder.standardizedFileURL.path
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(base + "/") else { continue }
            paths.append(String(path.dropFirst(base.count + 1)))
        }
        return paths.sorted()
    }
}

/// Hands out 0, 1, 2… to threads sharing work.
private final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func take(below limit: Int) -> Int? {
        lock.withLock {
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}

/// The first error any thread hit.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: StorageError?

    var error: StorageError? { lock.withLock { stored } }
    func set(_ error: StorageError) { lock.withLock { if stored == nil { stored = error } } }
}
