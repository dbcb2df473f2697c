import Foundation
import HLSKit
import ObjectStorage

/// A staged job's resume state kept in the bucket beside its output
/// (`OUTPUT/.hlsify-work/resume/`): the engine's committed segments, then its journal and plan,
/// sent at most every `interval` seconds while it encodes; so that a job whose worker died is
/// resumed on another machine, whose work root holds nothing of it (`restore`). The journal is
/// read before the files are listed and sent after them, so every segment it names is up.
final class ResumeMirror: @unchecked Sendable {  // mutable state is touched on `queue` only
    static let workPrefix = ".hlsify-work/resume"

    private let client: S3Client
    private let remote: S3Address
    /// The folder the engine's output and its staging folders are in.
    private let work: URL
    private let stagingPrefix: String
    private let interval: Double
    private let queue = DispatchQueue(label: "hlsify.resume-mirror")
    private var sent: [String: Int64] = [:]
    private var lastSync = Date.distantPast
    private var failed = false

    /// Seconds between two syncs: 5, or `HLSIFY_S3_RESUME_INTERVAL` (0–3600; tests use 0).
    static func defaultInterval(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Double {
        guard let text = environment["HLSIFY_S3_RESUME_INTERVAL"], let value = Double(text), (0...3600).contains(value) else { return 5 }
        return value
    }

    init(output: BucketOutput, target: URL, interval: Double = ResumeMirror.defaultInterval()) throws(StorageError) {
        client = output.client
        remote = try output.address.appending(Self.workPrefix)
        work = target.deletingLastPathComponent()
        stagingPrefix = Transcoder.stagingPrefix(for: target)
        self.interval = interval
    }

    /// Puts the bucket's resume state beside the output as a dead run's staging folder, when the
    /// work folder has none of its own (one left here is newer). Returns the files fetched.
    @discardableResult
    func restore() throws(StorageError) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? []
        guard !names.contains(where: { $0.hasPrefix(stagingPrefix) }) else { return 0 }
        let prefix = remote.listingPrefix
        var sizes: [String: Int64] = [:]
        for object in try client.list(remote) { sizes[String(object.key.dropFirst(prefix.count))] = object.size }
        let journal = Transcoder.resumeFolderName + "/journal", plan = Transcoder.resumeFolderName + "/plan.json"
        guard sizes[journal] != nil, sizes[plan] != nil else { return 0 }
        // PID 0: a run that is not alive, which the engine adopts.
        let staging = work.appendingPathComponent(stagingPrefix + "0-0")
        let mirror = PrefixMirror(client: client, remote: remote, local: staging)
        let files = sizes.keys.filter { $0 != journal && $0 != plan }.sorted()
        return try mirror.pull(files + [plan, journal], sizes: [:])
    }

    /// A segment was committed: a sync soon (at most one per `interval`, never two at once).
    func segmentCommitted() {
        queue.async {
            guard !self.failed, Date().timeIntervalSince(self.lastSync) >= self.interval else { return }
            self.lastSync = Date()
            do throws(StorageError) { try self.sync() } catch {
                // Only the resume on another machine is lost; the job goes on.
                self.failed = true
            }
        }
    }

    /// Waits for a sync under way.
    func stop() {
        queue.sync {}
    }

    /// Removes the resume state of `output` from the bucket (a job given up).
    static func remove(output: BucketOutput?) {
        guard let output, let mirror = try? ResumeMirror(output: output, target: URL(fileURLWithPath: "/output")) else { return }
        mirror.removeRemote()
    }

    /// Removes the resume state from the bucket (the job is published, or given up).
    func removeRemote() {
        guard let objects = try? client.list(remote) else { return }
        for object in objects {
            if let address = try? S3Address(bucket: remote.bucket, key: object.key) { try? client.delete(address) }
        }
    }

    private func sync() throws(StorageError) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? []).filter { $0.hasPrefix(stagingPrefix) }
        guard let name = names.max(by: { modified($0) < modified($1) }) else { return }
        let staging = work.appendingPathComponent(name)
        let resume = staging.appendingPathComponent(Transcoder.resumeFolderName)
        guard let journal = try? Data(contentsOf: resume.appendingPathComponent("journal")),
              let plan = try? Data(contentsOf: resume.appendingPathComponent("plan.json")) else { return }
        let mirror = PrefixMirror(client: client, remote: remote, local: staging)
        var fresh: [String] = []
        for folder in ((try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? []).filter({ !$0.hasPrefix(".") }).sorted() {
            for path in mirror.localFiles(under: folder) {
                let size = (try? FileManager.default.attributesOfItem(atPath: staging.appendingPathComponent(path).path)[.size] as? NSNumber)?.int64Value ?? 0
                if sent[path] != size { fresh.append(path); sent[path] = size }
            }
        }
        try mirror.push(fresh)
        _ = try client.put(try remote.appending(Transcoder.resumeFolderName + "/plan.json"), bytes: Array(plan), contentType: "application/json")
        _ = try client.put(try remote.appending(Transcoder.resumeFolderName + "/journal"), bytes: Array(journal), contentType: "text/plain")
    }

    private func modified(_ name: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: work.appendingPathComponent(name).path))?[.modificationDate] as? Date) ?? .distantPast
    }
}
