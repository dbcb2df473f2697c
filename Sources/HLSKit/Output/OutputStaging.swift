import Foundation

/// The output appears all at once: work happens in a hidden staging folder beside the target,
/// which is renamed into place only when complete. On failure the staging folder is removed.
struct OutputStaging {
    let target: URL
    let staging: URL

    /// Checks the target and creates the staging folder next to it.
    /// - Throws: `TranscodeError.outputExists` when the target exists and `overwrite` is false,
    ///   `.cannotCreateOutput` when the folder cannot be made.
    init(target: URL, overwrite: Bool) throws {
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
        let name = ".\(self.target.lastPathComponent).hlsify-staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        staging = parent.appendingPathComponent(name)
        do {
            try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
            try fileManager.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw TranscodeError.cannotCreateOutput("cannot create \(staging.path): \(Self.reason(error))")
        }
    }

    /// Moves the finished staging folder to the target, replacing an old output if there is one.
    func commit() throws {
        let fileManager = FileManager.default
        let old = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).hlsify-old-\(getpid())")
        var movedOld = false
        if fileManager.fileExists(atPath: target.path) {
            try? fileManager.removeItem(at: old)
            do { try fileManager.moveItem(at: target, to: old) } catch {
                throw TranscodeError.cannotCreateOutput("cannot replace \(target.path): \(Self.reason(error))")
            }
            movedOld = true
        }
        if rename(staging.path, target.path) != 0 {
            let message = String(cString: strerror(errno))
            if movedOld { _ = rename(old.path, target.path) }
            throw TranscodeError.cannotCreateOutput("cannot move output into \(target.path): \(message)")
        }
        if movedOld { try? fileManager.removeItem(at: old) }
    }

    /// Removes the staging folder and everything in it.
    func discard() {
        try? FileManager.default.removeItem(at: staging)
    }

    private static func reason(_ error: Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}
