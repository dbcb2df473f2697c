import Foundation

/// An exclusive `flock(2)` on a lock file: held by whoever handles a job's output, released by
/// the kernel when the holder dies (so a SIGKILLed worker never leaves it held).
///
/// flock locks belong to the open file description, so two deliveries of the same job inside one
/// process exclude each other too (after a reconnect, a redelivered copy waits for the first).
/// On a shared output root this needs a file system whose flock is cluster-wide (local disks,
/// NFSv4 on Linux, CephFS); see README.
public final class JobLock: @unchecked Sendable {  // used by the one task that holds it; release() only runs there or in deinit
    private var descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { release() }

    /// Tries once; nil when someone else holds it.
    /// - Throws: when the lock file cannot be created.
    public static func tryAcquire(_ file: URL) throws -> JobLock? {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let descriptor = open(file.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path,
                                                           NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
            return JobLock(descriptor: descriptor)
        }
        close(descriptor)
        return nil
    }

    /// The wait was given up because `giveUp` said so.
    public struct Abandoned: Error {}

    /// Waits (polling, so the wait can be cancelled) until the lock is ours.
    /// - Parameters:
    ///   - onWait: called once, when the lock turns out to be held by someone else.
    ///   - giveUp: asked between polls; true stops waiting (the delivery waiting for the lock is gone).
    /// - Throws: `CancellationError` when the task is cancelled while waiting, `Abandoned`, file errors.
    public static func acquire(_ file: URL, pollInterval: Double = 0.5, onWait: () -> Void = {},
                               giveUp: () -> Bool = { false }) async throws -> JobLock {
        var told = false
        while true {
            if let lock = try tryAcquire(file) { return lock }
            if !told { onWait(); told = true }
            if giveUp() { throw Abandoned() }
            try await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9))
        }
    }

    /// Replaces the lock file's text with `text` (what the holder is doing, for others to read).
    /// - Throws: when the write fails or the lock was released.
    public func record(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard descriptor >= 0, ftruncate(descriptor, 0) == 0,
              bytes.withUnsafeBytes({ pwrite(descriptor, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot write the lock file: \(String(cString: strerror(errno)))"])
        }
    }

    /// Clears what `record` wrote, then unlocks and closes.
    public func release() {
        guard descriptor >= 0 else { return }
        _ = ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }
}
