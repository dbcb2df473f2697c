import CPosix
import Foundation

/// A blocking first-in first-out queue of fixed capacity between two threads we own.
/// `put` blocks while the queue is full (backpressure: the decoder waits, nothing is dropped);
/// `take` blocks while it is empty. `close` wakes both sides.
///
/// The mutex and conditions live in memory of their own (allocated once): pthread objects stored
/// inline in a Swift class and passed as `&mutex` may be moved by the compiler.
final class BoundedQueue<Element>: @unchecked Sendable {  // every field is read and written under `mutex`
    private var items: [Element?]
    private var head = 0
    private var count = 0
    private var closed = false
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = .allocate(capacity: 1)
    private let notEmpty: UnsafeMutablePointer<pthread_cond_t> = .allocate(capacity: 1)
    private let notFull: UnsafeMutablePointer<pthread_cond_t> = .allocate(capacity: 1)

    init(capacity: Int) {
        items = Array(repeating: nil, count: max(1, capacity))
        mutex.initialize(to: pthread_mutex_t())
        notEmpty.initialize(to: pthread_cond_t())
        notFull.initialize(to: pthread_cond_t())
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(notEmpty, nil)
        pthread_cond_init(notFull, nil)
    }

    deinit {
        pthread_cond_destroy(notEmpty)
        pthread_cond_destroy(notFull)
        pthread_mutex_destroy(mutex)
        for pointer in [notEmpty, notFull] { pointer.deinitialize(count: 1); pointer.deallocate() }
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Adds `element`, waiting for room. Returns false (dropping it) if the queue was closed.
    func put(_ element: Element) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while count == items.count && !closed { pthread_cond_wait(notFull, mutex) }
        if closed { return false }
        items[(head + count) % items.count] = element
        count += 1
        pthread_cond_signal(notEmpty)
        return true
    }

    /// The next element, waiting for one; nil once the queue is closed and empty.
    func take() -> Element? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while count == 0 && !closed { pthread_cond_wait(notEmpty, mutex) }
        guard count > 0 else { return nil }
        let element = items[head]
        items[head] = nil
        head = (head + 1) % items.count
        count -= 1
        pthread_cond_signal(notFull)
        return element
    }

    /// No more elements will be put; takers drain what is left, then get nil.
    func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_cond_broadcast(notEmpty)
        pthread_cond_broadcast(notFull)
        pthread_mutex_unlock(mutex)
    }

    /// Closes and drops everything queued (used when aborting).
    func abort() {
        pthread_mutex_lock(mutex)
        closed = true
        items = Array(repeating: nil, count: items.count)
        count = 0
        pthread_cond_broadcast(notEmpty)
        pthread_cond_broadcast(notFull)
        pthread_mutex_unlock(mutex)
    }
}

/// Runs a closure on a dedicated thread (not Swift's cooperative pool) and lets the caller wait for it.
final class WorkerThread: @unchecked Sendable {  // start() and join() are called by the thread that made it; `done` is a semaphore
    private let thread: Thread
    private let done = DispatchSemaphore(value: 0)

    init(name: String, stackSize: Int = 8 << 20, _ body: @escaping @Sendable () -> Void) {
        let done = self.done
        thread = Thread {
            hlsify_set_thread_name(name)  // shows in top, perf and /proc
            body()
            done.signal()
        }
        thread.name = name
        thread.stackSize = stackSize
    }

    func start() { thread.start() }
    func join() { done.wait() }
}
