import Foundation
import HLSCore
import HLSKit
import ObjectStorage

/// The folder of a job split by time, shared through the bucket when the output root is one:
/// `<output>/.hlsify-work/split/` holds what a shared split folder holds (plan.json, subtitles/,
/// chunks/NAME/ with manifest.json uploaded last, failed.json). Each delivery works in a local
/// folder of its own, filled from the bucket (`pull`) and sent back (`push…`); a chunk counts
/// as committed once its manifest is in the bucket.
struct SplitMirror: Sendable {
    /// The prefix under the output, beside the set (the publisher leaves it alone).
    static let workPrefix = ".hlsify-work/split"

    let mirror: PrefixMirror

    init(output: BucketOutput, local: URL) throws(StorageError) {
        mirror = PrefixMirror(client: output.client, remote: try output.address.appending(Self.workPrefix), local: local)
    }

    var local: URL { mirror.local }

    /// Brings the plan, the failed marker, the subtitles and the manifests of committed chunks
    /// here; with `files`, the committed chunks' files too (manifests last).
    /// - Returns: false when the bucket holds no plan (never planned, or finished and cleared).
    @discardableResult
    func pull(files: Bool) throws(StorageError) -> Bool {
        let sizes = try mirror.remoteSizes()
        guard sizes["plan.json"] != nil else { return false }
        let manifest = "/" + ChunkManifest.fileName
        let committed = Set(sizes.keys.filter { Self.isManifest($0) }.map { String($0.dropLast(manifest.count)) })
        var first: [String] = [], chunkFiles: [String] = [], manifests: [String] = []
        for path in sizes.keys.sorted() {
            if path == "plan.json" || path == "failed.json" || path.hasPrefix("subtitles/") {
                first.append(path)
            } else if Self.isManifest(path), committed.contains(String(path.dropLast(manifest.count))) {
                manifests.append(path)
            } else if files, let folder = Self.chunkFolder(path), committed.contains(folder) {
                chunkFiles.append(path)
            }
        }
        try mirror.pull(first + chunkFiles + manifests, sizes: sizes)
        return true
    }

    /// Sends the plan and the subtitles it copied (the plan last).
    func pushPlan() throws(StorageError) {
        try mirror.push(mirror.localFiles(under: "subtitles") + ["plan.json"])
    }

    /// Sends a committed chunk: its files, then its manifest (the commit).
    func pushChunk(_ chunk: ChunkName) throws(StorageError) {
        let folder = "chunks/" + chunk.folder
        let files = mirror.localFiles(under: folder)
        let manifest = folder + "/" + ChunkManifest.fileName
        try mirror.push(files.filter { $0 != manifest } + [manifest])
    }

    /// True when the bucket holds `chunk`'s manifest (committed).
    func isCommitted(_ chunk: ChunkName) throws(StorageError) -> Bool {
        try mirror.client.head(try mirror.remote.appending("chunks/\(chunk.folder)/\(ChunkManifest.fileName)")) != nil
    }

    /// True when the bucket holds the job's failed marker.
    func isFailed() throws(StorageError) -> Bool {
        try mirror.client.head(try mirror.remote.appending("failed.json")) != nil
    }

    /// Sends the failed marker.
    func pushFailed() throws(StorageError) {
        try mirror.push(["failed.json"])
    }

    /// One worker's claim to stitch the job: with a bucket output root the output's lock is this
    /// machine's only, so two workers must not both stitch (two `job.completed`).
    struct StitchClaim: Codable {
        var token: String
        var worker: String
        var claimedAt: Double
    }

    static let stitchClaimName = "stitch.claim"
    /// A claim older than this is taken to belong to a worker that died, seconds.
    static let stitchLease: Double = 600

    /// Claims the stitch; false while another worker's claim younger than `stitchLease` is there.
    ///
    /// Write, wait, verify: the claim is put with `If-None-Match: *` (refused where the server
    /// honours it) and read back after `settle` seconds; of two workers that both found no claim,
    /// the later write wins and the earlier sees it on its second read (a PUT takes far less than
    /// `settle`). Costs three or four requests and `settle` seconds.
    func claimStitch(worker: String, settle: Double = 2) throws(StorageError) -> Bool {
        let address = try mirror.remote.appending(Self.stitchClaimName)
        let now = Date().timeIntervalSince1970
        if let held = try current(address) {
            guard now - held.claimedAt > Self.stitchLease else { return false }
            try mirror.client.delete(address)
        }
        let claim = StitchClaim(token: UUID().uuidString, worker: worker, claimedAt: now)
        let bytes = Array((try? JSONEncoder().encode(claim)) ?? Data())
        guard try mirror.client.createOnce(address, bytes: bytes) else { return false }
        usleep(useconds_t(settle * 1_000_000))
        return try current(address)?.token == claim.token
    }

    private func current(_ address: S3Address) throws(StorageError) -> StitchClaim? {
        let bytes: [UInt8]
        do { bytes = try mirror.client.get(address, limit: 1 << 20) } catch .notFound { return nil }
        return try? JSONDecoder().decode(StitchClaim.self, from: Data(bytes))
    }

    /// Gives the claim up (a stitch that failed), so that the next try may stitch.
    func releaseStitch() {
        if let address = try? mirror.remote.appending(Self.stitchClaimName) { try? mirror.client.delete(address) }
    }

    /// Removes the shared folder from the bucket (the job completed, or starts afresh).
    func removeRemote() throws(StorageError) {
        try mirror.removeRemote()
    }

    /// `chunks/NAME/manifest.json`.
    private static func isManifest(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0] == "chunks" && parts[2] == ChunkManifest.fileName[...]
    }

    /// `chunks/NAME` of a path below it.
    private static func chunkFolder(_ path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0] == "chunks", !parts[1].hasPrefix(".") else { return nil }
        return "chunks/" + parts[1]
    }
}
