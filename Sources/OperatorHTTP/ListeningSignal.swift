import Glibc
import NIOCore
import ServiceLifecycle
import Synchronization

/// Whether a server got as far as listening: services that must not start before it (a worker
/// that would take jobs while its metrics port cannot be bound) wait on it.
public final class ListeningSignal: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Void, any Error>])
        case listening
        case failed(any Error)
    }

    private let state = Mutex<State>(.waiting([]))

    public init() {}

    /// The server listens: every waiter goes on.
    public func listened() { settle(.success(())) }

    /// The server could not listen (or stopped before it did): every waiter gets `error`.
    public func failed(_ error: any Error) { settle(.failure(error)) }

    /// Why the server never listened (the C library's text for a system call's errno); nil
    /// while waiting or once listening.
    public var failure: String? {
        state.withLock { state in
            guard case .failed(let error) = state else { return nil }
            if let error = error as? IOError {
                return String(cString: strerror(error.errnoCode))
            }
            return "\(error)"
        }
    }

    /// Returns once the server listens. Throws the server's failure, or `CancellationError`.
    public func wait() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let settled: Result<Void, any Error>? = state.withLock { state in
                    switch state {
                    case .waiting(var waiters):
                        waiters.append(continuation)
                        state = .waiting(waiters)
                        return nil
                    case .listening: return .success(())
                    case .failed(let error): return .failure(error)
                    }
                }
                if let settled { continuation.resume(with: settled) }
            }
        } onCancel: {
            settle(.failure(CancellationError()))
        }
    }

    private func settle(_ result: Result<Void, any Error>) {
        let waiters: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            guard case .waiting(let waiters) = state else { return [] }
            switch result {
            case .success: state = .listening
            case .failure(let error): state = .failed(error)
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}

/// Runs `service` once `signal` says its server listens; ends with the server's failure (the
/// service never started) otherwise.
public struct AfterListening<Wrapped: Service>: Service {
    public let signal: ListeningSignal
    public let service: Wrapped

    public init(_ signal: ListeningSignal, _ service: Wrapped) {
        self.signal = signal
        self.service = service
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await signal.wait() }
        } catch is CancellationError where Task.isShuttingDownGracefully {
            return  // asked to stop while the server was starting: never start
        }
        guard !Task.isShuttingDownGracefully else { return }
        try await service.run()
    }
}
