import NIOConcurrencyHelpers
import NIOCore

/// The preview server's open connections, shared by every connection's `ConnectionGate`: the
/// `ConnectionTable` that admits at most `capacity` of them (a newcomer at the cap takes the place
/// of the kept-alive connection idle the longest), and each admitted one's channel, to close an
/// evicted one.
final class ConnectionRegistry: Sendable {
    private struct State {
        var table: ConnectionTable
        var channels: [Int: any Channel] = [:]
    }

    private let state: NIOLockedValueBox<State>
    /// Receives a line when an idle connection is closed for a newcomer.
    private let log: (@Sendable (String) -> Void)?

    init(capacity: Int, log: (@Sendable (String) -> Void)?) {
        state = NIOLockedValueBox(State(table: ConnectionTable(capacity: capacity)))
        self.log = log
    }

    /// Admits `channel`: its id, or nil at the cap with no idle connection to close. An evicted
    /// idle connection is closed here (its client resends on a new connection, RFC 9112 §9.3).
    func admit(_ channel: any Channel) -> Int? {
        let (admission, victim) = state.withLockedValue { state -> (ConnectionTable.Admission, (any Channel)?) in
            let admission = state.table.admit()
            if let id = admission.admittedID { state.channels[id] = channel }
            var victim: (any Channel)?
            if case .admittedEvicting(_, let evicted) = admission { victim = state.channels.removeValue(forKey: evicted) }
            return (admission, victim)
        }
        if let victim {
            victim.close(promise: nil)
            log?("hlsify preview: closed the longest-idle keep-alive connection to make room (\(capacityDescription) connections)")
        }
        return admission.admittedID
    }

    private var capacityDescription: Int { state.withLockedValue { $0.table.capacity } }

    /// `id` answered its requests and waits for the next one.
    func becameIdle(_ id: Int) {
        let now = Double(NIODeadline.now().uptimeNanoseconds) / 1e9
        state.withLockedValue { $0.table.becameIdle(id, at: now) }
    }

    /// `id` received the first byte of a request; false when it was evicted meanwhile.
    func becameActive(_ id: Int) -> Bool {
        state.withLockedValue { $0.table.becameActive(id) }
    }

    /// `id` closed.
    func remove(_ id: Int) {
        state.withLockedValue { state in
            state.table.remove(id)
            state.channels[id] = nil
        }
    }
}
