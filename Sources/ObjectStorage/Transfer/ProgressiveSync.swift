import Foundation

/// Runs `BucketPublisher.sync()` on a queue of its own each time a segment is done, one sync at a
/// time (requests that arrive during a sync fold into one more), so a progressive set plays from
/// the bucket while it is encoded without slowing the encoder.
public final class ProgressiveSync: @unchecked Sendable {  // state under `lock`
    private let publisher: BucketPublisher
    private let queue = DispatchQueue(label: "hlsify.progressive-sync")
    private let lock = NSLock()
    private var pending = false
    private var running = false
    private var failure: StorageError?

    public init(publisher: BucketPublisher) {
        self.publisher = publisher
    }

    /// Asks for a sync soon; cheap, callable from any thread.
    public func request() {
        let start: Bool = lock.withLock {
            pending = true
            guard !running, failure == nil else { return false }
            running = true
            return true
        }
        if start { queue.async { self.drain() } }
    }

    /// Waits for the sync under way; throws the first error a sync met.
    public func stop() throws(StorageError) {
        queue.sync {}
        if let failure = lock.withLock({ failure }) { throw failure }
    }

    private func drain() {
        while lock.withLock({ () -> Bool in
            guard pending, failure == nil else { running = false; return false }
            pending = false
            return true
        }) {
            do throws(StorageError) { try publisher.sync() } catch { lock.withLock { failure = error } }
        }
    }
}
