import CPosix
import Foundation

/// The shared folder a split transcode works in:
///
/// ```
/// WORK/plan.json                 the plan (written once, atomically)
/// WORK/subtitles/N.srt           subtitle files, copied when planned
/// WORK/chunks/video-003/         a committed chunk: manifest.json + one folder per rendition
/// WORK/chunks/.video-003.HOST.PID.RANDOM/   a chunk being encoded (renamed when complete)
/// WORK/failed.json               the job failed: every part stops
/// ```
///
/// Everything is committed by atomic renames of complete files or folders, so any number of
/// processes on any number of machines can share it; what is committed is read from it, never
/// counted from messages.
struct ChunkWork {
    static let chunksFolder = "chunks"
    static let subtitlesFolder = "subtitles"
    static let failedName = "failed.json"

    let root: URL

    init(_ root: URL) {
        self.root = root.standardizedFileURL
    }

    var planURL: URL { root.appendingPathComponent(ChunkPlanFile.fileName) }
    var chunksURL: URL { root.appendingPathComponent(Self.chunksFolder) }
    var failedURL: URL { root.appendingPathComponent(Self.failedName) }

    func folder(of chunk: ChunkName) -> URL { chunksURL.appendingPathComponent(chunk.folder) }

    /// The plan, or nil when there is none.
    /// - Throws: `ChunkError.mismatch` when plan.json cannot be read as a plan of this version.
    func readPlan() throws -> ChunkPlanFile? {
        guard let data = try? Data(contentsOf: planURL) else { return nil }
        let plan: ChunkPlanFile
        do {
            plan = try JSONDecoder().decode(ChunkPlanFile.self, from: data)
        } catch {
            throw ChunkError.mismatch("\(planURL.path) is not a plan this engine can read")
        }
        guard plan.formatVersion == ChunkPlanFile.formatVersion else {
            throw ChunkError.mismatch("\(planURL.path) was written by another engine version")
        }
        return plan
    }

    /// The plan, which must be there.
    func plan() throws -> ChunkPlanFile {
        guard let plan = try readPlan() else { throw ChunkError.noPlan("\(root.path) holds no plan (run hlsify plan first)") }
        return plan
    }

    /// The manifest of a committed chunk; nil when the chunk is not committed.
    /// - Throws: `ChunkError.mismatch` when a committed manifest cannot be read.
    func manifest(of chunk: ChunkName) throws -> ChunkManifest? {
        let url = folder(of: chunk).appendingPathComponent(ChunkManifest.fileName)
        guard let data = try? Data(contentsOf: url) else { return nil }
        do {
            return try JSONDecoder().decode(ChunkManifest.self, from: data)
        } catch {
            throw ChunkError.mismatch("\(url.path) is not a chunk manifest")
        }
    }

    /// Why the job failed, when its failed marker is there.
    var failure: String? {
        guard let data = try? Data(contentsOf: failedURL) else { return nil }
        let marker = try? JSONDecoder().decode(FailedMarker.self, from: data)
        return marker.map { "chunk \($0.chunk) failed: \($0.error)" } ?? "the job failed"
    }

    /// Throws `ChunkError.jobFailed` when the failed marker is there.
    func checkNotFailed() throws {
        if let failure { throw ChunkError.jobFailed("\(root.path): the job failed (\(failure))") }
    }

    /// Leaves the failed marker unless one is there (the first one stays): true when this call
    /// left it. A work folder that is gone (its job completed) gets none.
    func markFailed(chunk: String, error: String) throws -> Bool {
        guard failure == nil, FileManager.default.fileExists(atPath: planURL.path) else { return false }
        return (try? createOnce(try Self.encoder.encode(FailedMarker(chunk: chunk, error: error)), at: failedURL)) ?? false
    }

    struct FailedMarker: Codable {
        var chunk: String
        var error: String
    }

    /// A fresh hidden folder to encode `chunk` into, named for this host and process; hidden
    /// folders of the same chunk whose process (on this host) is gone are removed first.
    func makeScratch(for chunk: ChunkName) throws -> URL {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: chunksURL, withIntermediateDirectories: true)
        let host = Self.hostName
        let prefix = ".\(chunk.folder).\(host)."
        for name in (try? fileManager.contentsOfDirectory(atPath: chunksURL.path)) ?? [] where name.hasPrefix(prefix) {
            let fields = name.dropFirst(prefix.count).split(separator: ".")
            guard let pid = fields.first.flatMap({ Int32($0) }), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? fileManager.removeItem(at: chunksURL.appendingPathComponent(name)) }
        }
        let scratch = chunksURL.appendingPathComponent(prefix + "\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
        try fileManager.createDirectory(at: scratch, withIntermediateDirectories: false)
        return scratch
    }

    /// Commits a complete scratch folder as `chunk` by one rename. Returns false (and removes the
    /// scratch folder) when the chunk was committed already, by another run.
    func commit(_ scratch: URL, as chunk: ChunkName) throws -> Bool {
        let target = folder(of: chunk)
        if rename(scratch.path, target.path) != 0 {
            let code = errno
            if code == EEXIST || code == ENOTEMPTY {
                try? FileManager.default.removeItem(at: scratch)
                return false
            }
            throw TranscodeError.io("cannot commit \(target.path): \(String(cString: strerror(code)))")
        }
        do {
            try DiskSync.sync(path: chunksURL.path)
        } catch {
            throw TranscodeError.io("cannot flush \(chunksURL.path): \(error)")
        }
        return true
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Temporary name, fsync, rename, fsync of the folder.
    static func writeDurably(_ data: Data, to url: URL) throws {
        do {
            try FileSink.writeDurably(data, to: url.path)
        } catch {
            throw TranscodeError.io("cannot write \(url.path): \(error)")
        }
    }

    /// gethostname(2), characters other than letters, digits and '-' replaced.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        let name = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "host"
        return String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "-" })
    }
}

extension ChunkWork {
    /// Writes `plan` unless a plan is there already (another planner won): the plan in force.
    /// A hard link of a complete, flushed file onto the name commits it only when the name is free.
    func writeOnce(_ plan: ChunkPlanFile) throws -> ChunkPlanFile {
        if try createOnce(try Self.encoder.encode(plan), at: planURL) { return plan }
        guard let existing = try readPlan() else { throw TranscodeError.io("cannot read \(planURL.path)") }
        return existing
    }

    /// Creates the file at `url` holding `data` unless the name is taken: a hard link of a
    /// complete, flushed file onto the name commits it only when the name is free (the first
    /// writer wins). Returns false when the name was taken.
    /// - Throws: `TranscodeError.io` when the file cannot be written, linked or flushed.
    func createOnce(_ data: Data, at url: URL) throws -> Bool {
        let scratch = root.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
        try Self.writeDurably(data, to: scratch)
        defer { unlink(scratch.path) }
        if link(scratch.path, url.path) != 0 {
            let code = errno
            guard code == EEXIST else { throw TranscodeError.io("cannot write \(url.path): \(String(cString: strerror(code)))") }
            return false
        }
        do {
            try DiskSync.sync(path: root.path)
        } catch {
            throw TranscodeError.io("cannot flush \(root.path): \(error)")
        }
        return true
    }
}
