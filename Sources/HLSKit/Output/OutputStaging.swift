import CPosix
import Foundation

/// The output appears all at once: work happens in a hidden staging folder beside the target,
/// which is flushed to disk and then renamed into place only when complete (an existing output is
/// swapped atomically). A crash at any moment leaves either no output or the complete previous
/// one at the target; staging folders left by crashed runs are removed on the next start.
/// The folder names (`StagingName`) fit in NAME_MAX whatever the target's name.
struct OutputStaging {
    /// The output folder (standardized).
    let target: URL
    /// Where the work is written: a hidden folder beside the target, or the target itself when `inPlace`.
    let staging: URL

    /// True when writing straight into the target (progressive publishing).
    let inPlace: Bool
    /// The staging folder is one a run that died left, taken over to resume (`ResumeSession`).
    let adopted: Bool

    /// Checks the target, clears stale staging folders, and creates a new staging folder next to it;
    /// with `inPlace`, moves an existing target aside (deleting it) and creates the target instead.
    /// - Throws: `TranscodeError.outputExists` when the target exists and `overwrite` is false,
    ///   `.cannotCreateOutput` when the folder cannot be made or the target's name is longer than
    ///   the file system allows (refused here, before any work, rather than at the final rename).
    ///
    /// With `resume` (never in place), a staging folder a dead run left with a resume plan in it
    /// (the newest, when there are several) is renamed to this run's and used (`adopted`).
    /// With `exclusive`, the caller guarantees no other process writes beside the target (it holds
    /// a lock for it): every staging folder there counts as left by a dead run, whatever its PID.
    init(target: URL, overwrite: Bool, inPlace: Bool = false, resume: Bool = false, exclusive: Bool = false) throws {
        self.inPlace = inPlace
        let fileManager = FileManager.default
        self.target = target.standardizedFileURL
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: self.target.path, isDirectory: &isDirectory) {
            if !overwrite {
                throw TranscodeError.outputExists("\(self.target.path) already exists (use --force to replace it)")
            }
            if !isDirectory.boolValue {
                throw TranscodeError.cannotCreateOutput("\(self.target.path) exists and is not a folder")
            }
        }
        let parent = self.target.deletingLastPathComponent()
        do {
            try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw TranscodeError.cannotCreateOutput("cannot create \(parent.path): \(Self.reason(error))")
        }
        let nameMax = Self.nameMax(in: parent)
        let outputName = self.target.lastPathComponent
        if outputName.utf8.count > nameMax {
            throw TranscodeError.cannotCreateOutput(
                "cannot create \(self.target.path): its name is \(outputName.utf8.count) bytes, over the file system's limit of \(nameMax)")
        }
        let name = StagingName.staging(forOutputName: outputName, pid: getpid(), random: UInt32.random(in: 0...UInt32.max),
                                       nameMax: nameMax)
        let adoptable = resume && !inPlace
            ? Self.adoptable(beside: self.target, nameMax: nameMax, exclusive: exclusive) : nil
        if let adoptable, rename(adoptable.path, parent.appendingPathComponent(name).path) == 0 {
            adopted = true
        } else {
            adopted = false
        }
        Self.removeStale(beside: self.target, nameMax: nameMax, exclusive: exclusive)
        if inPlace {
            staging = self.target
            do {
                if fileManager.fileExists(atPath: self.target.path) {
                    // Move the old output aside first: the folder is rebuilt from nothing.
                    let old = parent.appendingPathComponent(StagingName.old(forOutputName: outputName, pid: getpid(), nameMax: nameMax))
                    try fileManager.moveItem(at: self.target, to: old)
                    try? fileManager.removeItem(at: old)
                }
                try fileManager.createDirectory(at: staging, withIntermediateDirectories: false)
            } catch {
                throw TranscodeError.cannotCreateOutput("cannot create \(staging.path): \(Self.reason(error))")
            }
            return
        }
        staging = parent.appendingPathComponent(name)
        if adopted { return }
        do {
            try fileManager.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw TranscodeError.cannotCreateOutput("cannot create \(staging.path): \(Self.reason(error))")
        }
    }

    /// NAME_MAX of the file system holding `folder` (pathconf), 255 when it cannot be asked.
    private static func nameMax(in folder: URL) -> Int {
        let value = pathconf(folder.path, Int32(_PC_NAME_MAX))
        return value > 0 ? value : StagingName.defaultNameMax
    }

    /// Removes the target's `.NAME.hlsify-staging-PID-…` folders (`StagingName`) whose process no
    /// longer runs (with `exclusive`, every one not of this process).
    static func removeStale(beside target: URL, nameMax: Int, exclusive: Bool = false) {
        let parent = target.deletingLastPathComponent()
        for name in staleNames(beside: target, nameMax: nameMax, exclusive: exclusive) {
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
        }
    }

    /// Names of the target's staging folders left by processes that no longer run (with
    /// `exclusive`, by any other process).
    private static func staleNames(beside target: URL, nameMax: Int, exclusive: Bool) -> [String] {
        let parent = target.deletingLastPathComponent()
        let prefix = StagingName.prefix(forOutputName: target.lastPathComponent, nameMax: nameMax)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return [] }
        return names.filter { name in
            guard name.hasPrefix(prefix) else { return false }
            let pid = StagingName.pid(in: name, prefix: prefix)
            if pid == getpid() { return false }
            if exclusive { return true }
            if let pid, kill(pid, 0) == 0 || errno != ESRCH { return false }
            return true
        }
    }

    /// The stale staging folder holding a resume plan whose journal changed last.
    private static func adoptable(beside target: URL, nameMax: Int, exclusive: Bool) -> URL? {
        let parent = target.deletingLastPathComponent()
        var best: (url: URL, modified: Date)?
        for name in staleNames(beside: target, nameMax: nameMax, exclusive: exclusive) {
            let folder = parent.appendingPathComponent(name)
            guard ResumeSession.holdsPlan(folder) else { continue }
            let modified = ResumeSession.lastChange(folder)
            if best == nil || modified > best!.modified { best = (folder, modified) }
        }
        return best?.url
    }

    /// Flushes the staging folder to disk and moves it to the target, swapping out an old output
    /// atomically if there is one (then deleting it).
    func commit() throws {
        if inPlace {
            try? DiskSync.syncTree(staging)
            return
        }
        do {
            try DiskSync.syncTree(staging)
        } catch {
            throw TranscodeError.io("cannot flush \(staging.path) to disk: \(error)")
        }
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: target.path) {
            if hlsify_rename_exchange(staging.path, target.path) != 0 {
                throw TranscodeError.cannotCreateOutput("cannot replace \(target.path): \(String(cString: strerror(errno)))")
            }
            // The staging path now holds the previous output.
            try? fileManager.removeItem(at: staging)
        } else if rename(staging.path, target.path) != 0 {
            throw TranscodeError.cannotCreateOutput("cannot move output into \(target.path): \(String(cString: strerror(errno)))")
        }
        try? DiskSync.sync(path: target.deletingLastPathComponent().path)
    }

    /// Removes the staging folder and everything in it.
    func discard() {
        try? FileManager.default.removeItem(at: staging)
    }

    private static func reason(_ error: Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}

/// fsync(2) for files and folders.
enum DiskSync {
    struct Failure: Error, CustomStringConvertible {
        let path: String
        let code: Int32
        var description: String { "fsync \(path): \(String(cString: strerror(code)))" }
    }

    /// Flushes every file and folder below `root`, folders after their contents.
    static func syncTree(_ root: URL) throws {
        let fileManager = FileManager.default
        if let enumerator = fileManager.enumerator(atPath: root.path) {
            var folders: [String] = []
            while let relative = enumerator.nextObject() as? String {
                let path = root.appendingPathComponent(relative).path
                var isDirectory: ObjCBool = false
                guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue { folders.append(path) } else { try sync(path: path) }
            }
            for folder in folders.reversed() { try sync(path: folder) }
        }
        try sync(path: root.path)
    }

    /// Flushes the folder holding `path` (after a rename into it), failing as a `SinkError`.
    static func syncFolder(of path: String) throws {
        do {
            try sync(path: URL(fileURLWithPath: path).deletingLastPathComponent().path)
        } catch let failure as Failure {
            throw SinkError(errno: failure.code, operation: "fsync", path: failure.path)
        }
    }

    static func sync(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(path: path, code: errno) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw Failure(path: path, code: errno) }
    }
}
