import Foundation

/// A plain mutex (pthread) with a scoped `withLock`.
///
/// The `pthread_mutex_t` lives in memory of its own, allocated once: a mutex stored inline in a
/// Swift class and passed as `&mutex` may be moved or copied by the compiler (undefined behaviour
/// for a pthread mutex); a pointer to allocated memory is stable.
final class NSLockLite: @unchecked Sendable {  // the mutex is what makes it safe to share
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(String(cString: strerror(status)))")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
