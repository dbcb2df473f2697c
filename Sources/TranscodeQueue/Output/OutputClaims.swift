import Foundation

/// Keeps outputs apart: no job writes an output that contains, or lies inside, the output of
/// another job, whether that output is complete or still being written, here or on another
/// worker sharing the output root.
///
/// ```
/// OUTPUT_ROOT/.hlsify-work/claims.lock   flock(2) held while claims are checked and made
/// OUTPUT_ROOT/.hlsify-work/<name>.lock   an output's lock (`OutputLayout.lockFile`); its text is
///                                        the output's key once a job claimed it
/// ```
///
/// An output is being handled while its lock is held, so a claim needs no clean-up: the lock
/// of a worker that died is free, and its text no longer counts. On disk, a folder holding
/// `master.m3u8` or a completion marker is an output (complete, or a progressive one being
/// written or left behind).
public struct OutputClaims: Sendable {
    public let layout: OutputLayout

    public init(layout: OutputLayout) {
        self.layout = layout
    }

    static let registryName = "claims.lock"
    var registryLock: URL { layout.workRoot.appendingPathComponent(Self.registryName) }

    /// Another output nests with the one asked for.
    public struct Conflict: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// True when `a` and `b` are the same folder or one lies inside the other (whole components).
    public static func nest(_ a: String, _ b: String) -> Bool {
        a == b || a.hasPrefix(b + "/") || b.hasPrefix(a + "/")
    }

    /// Checks that no other output nests with `key` and records the claim in `lock` (`key`'s
    /// output lock, held by the caller for as long as it handles the output), under the
    /// root-wide claims lock. Costs a listing of the work folder and a walk of `key`'s
    /// ancestors and of what is at `key`.
    /// - Throws: `Conflict`; `DirectoryHandle.Problem` when a folder on the way is a symbolic
    ///   link; `CancellationError` while waiting for the claims lock; file errors.
    public func claim(_ key: String, holding lock: JobLock) async throws {
        let registry = try await JobLock.acquire(registryLock, pollInterval: 0.05)
        defer { registry.release() }
        try checkClaims(against: key)
        try checkDisk(against: key)
        try lock.record(key)
    }

    /// Outputs that nest with `key` and whose lock someone holds.
    private func checkClaims(against key: String) throws {
        let own = OutputLayout.workName(for: key) + ".lock"
        for name in try FileManager.default.contentsOfDirectory(atPath: layout.workRoot.path)
        where name.hasSuffix(".lock") && name != own && name != Self.registryName {
            let file = layout.workRoot.appendingPathComponent(name)
            guard let data = SmallFile.read(file.path, maxBytes: JobNames.maximumPathLength), !data.isEmpty else { continue }
            let other = String(decoding: data, as: UTF8.self)
            guard Self.nest(other, key) else { continue }
            if let free = try JobLock.tryAcquire(file) {
                free.release()  // Nobody handles that output now (its worker finished or died).
                continue
            }
            let relation = other.hasPrefix(key + "/") ? "contains" : "lies inside"
            throw Conflict(message: "output \"\(key)\" \(relation) the output \"\(other)\", which another job is writing")
        }
    }

    /// Outputs on disk above `key` (a folder on the way that is an output) or below it.
    private func checkDisk(against key: String) throws {
        let components = key.split(separator: "/").map(String.init)
        var folder = try DirectoryHandle.open(layout.root.path)
        for (index, component) in components.enumerated() {
            if index == components.count - 1 {
                if try folder.holds(Self.outputNames, below: component) {
                    throw Conflict(message: "output \"\(key)\" contains the output of another job")
                }
                return
            }
            do { folder = try folder.child(component, create: false) } catch {
                if case .symbolicLink = error { throw error }
                return  // Missing (nothing can be above it) or not a folder (the job fails later).
            }
            if let owner = Self.outputOwner(folder) {
                let prefix = components[...index].joined(separator: "/")
                throw Conflict(message: "output \"\(key)\" lies inside the output \"\(prefix)\"\(owner.isEmpty ? "" : " of job \"\(owner)\"")")
            }
        }
    }

    /// The names that make a folder an output.
    static let outputNames: Set<String> = [CompletionMarker.masterPlaylist, CompletionMarker.fileName]

    /// The job id of the output in `folder` (empty when it has no readable marker), or nil when
    /// the folder is no output.
    static func outputOwner(_ folder: DirectoryHandle) -> String? {
        guard outputNames.contains(where: { folder.kind(of: $0) != nil }) else { return nil }
        return CompletionMarker.read(in: URL(fileURLWithPath: folder.descriptorPath()))?.jobId ?? ""
    }
}
