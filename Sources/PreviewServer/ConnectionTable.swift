/// The connections an `HTTPServer` holds and what each is doing, so that a new client is
/// admitted at the cap by closing a kept-alive connection that is waiting for its next request.
///
/// Without it, 64 clients that each made one keep-alive request and stayed connected held
/// every slot (for `idleTimeout`, and for ever by asking again just before it), and every
/// other client got 503. Now a connection counts as idle from the end of a response until
/// the first byte of the next request; when the cap is reached, the one idle the longest is
/// closed for the newcomer (nginx reuses idle keep-alive connections the same way). Closing an
/// idle keep-alive connection is allowed by RFC 9112 §9.3; clients resend an idempotent request
/// that meets a closed connection. Connections not idle (reading their first request, or a
/// request being answered) are never closed for another: when all are such, a newcomer still
/// gets 503.
///
/// The pure part of the server's admission, unit-tested; not thread-safe: the server guards it with its lock.
struct ConnectionTable {
    enum Phase: Equatable {
        /// Accepted and not yet through its first request, or between a request's first byte
        /// and the end of its response.
        case active
        /// Kept alive after a response, waiting for the next request since a monotonic time.
        case idle(since: Double)
    }

    enum Admission: Equatable {
        case admitted(id: Int)
        /// Admitted in place of `evicted`, the connection idle the longest, which the caller
        /// must shut down (it no longer counts against the cap).
        case admittedEvicting(id: Int, evicted: Int)
        /// At the cap with no idle connection: refuse.
        case full

        /// The new connection's id; nil for `.full`.
        var admittedID: Int? {
            switch self {
            case .admitted(let id), .admittedEvicting(let id, _): return id
            case .full: return nil
            }
        }
    }

    /// Most connections counted at once (evicted ones still closing are not counted).
    let capacity: Int
    /// The counted connections.
    private(set) var phases: [Int: Phase] = [:]
    /// Evicted, still to be removed by their thread.
    private(set) var evicted: Set<Int> = []
    private var nextID = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Connections counted against the cap.
    var count: Int { phases.count }

    /// Admits a new connection, making room by evicting the longest-idle one if needed.
    mutating func admit() -> Admission {
        if phases.count < capacity {
            return .admitted(id: add())
        }
        let idle = phases.compactMap { id, phase -> (id: Int, since: Double)? in
            if case .idle(let since) = phase { return (id, since) }
            return nil
        }
        // Evicted threads end at once (their socket is shut down); the bound only matters if
        // they did not, and keeps the threads at twice the cap.
        guard evicted.count < capacity,
              let victim = idle.min(by: { ($0.since, $0.id) < ($1.since, $1.id) }) else { return .full }
        phases[victim.id] = nil
        evicted.insert(victim.id)
        return .admittedEvicting(id: add(), evicted: victim.id)
    }

    /// `id` has answered a request and waits for the next one, from `now`.
    mutating func becameIdle(_ id: Int, at now: Double) {
        guard phases[id] != nil else { return }
        phases[id] = .idle(since: now)
    }

    /// `id` has received the first byte of its next request. False when it was evicted: it
    /// must close without answering (the client resends on a new connection).
    mutating func becameActive(_ id: Int) -> Bool {
        guard phases[id] != nil else { return false }
        phases[id] = .active
        return true
    }

    /// `id`'s thread has ended.
    mutating func remove(_ id: Int) {
        phases[id] = nil
        evicted.remove(id)
    }

    private mutating func add() -> Int {
        let id = nextID
        nextID += 1
        phases[id] = .active
        return id
    }
}
