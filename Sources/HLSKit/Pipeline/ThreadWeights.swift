import CPosix

/// Scheduling weights for the threads the engine owns (see `CoreShares`).
enum ThreadPriority {
    /// Lowers the calling thread's priority by `increment` nice steps (no-op for 0). Only threads
    /// that end with the transcode may call this: an unprivileged thread cannot raise it back.
    /// - Returns: false when the kernel refused (a sandbox, say); that only costs speed.
    @discardableResult
    static func lowerCurrentThread(by increment: Int) -> Bool {
        increment <= 0 || hlsify_lower_thread_priority(Int32(min(increment, 19))) == 0
    }
}
