/// The bookkeeping of publications between the callers and the broker's confirms: what waits to
/// be sent (the outbox), what was sent and waits for basic.ack / basic.nack (unconfirmed, by
/// sequence number), and what becomes of both when a channel goes away. A plain value with no
/// I/O: the connection thread feeds it events and runs the completions it hands back, so every
/// rule here is unit-tested without a broker.
///
/// `Item` is whatever the caller needs to finish a publication (the client's message and
/// completion; a name in the tests).
struct PublicationStateMachine<Item> {
    /// A publication with what the bookkeeping needs to know about it.
    struct Entry {
        var item: Item
        var policy: AMQPClient.PublishPolicy
        /// A mandatory message may come back (basic.return) before its confirm.
        var mandatory: Bool
        /// Matches a basic.return to its publication.
        var messageId: String?
        /// Set by a basic.return; reported when the confirm arrives.
        var returned: (code: Int, text: String)?

        init(item: Item, policy: AMQPClient.PublishPolicy, mandatory: Bool = false, messageId: String? = nil) {
            self.item = item
            self.policy = policy
            self.mandatory = mandatory
            self.messageId = messageId
        }
    }

    /// A publication that is finished, and how.
    typealias Finished = (item: Item, result: Result<Void, AMQPPublishError>)

    /// What to do with the next publication in the outbox.
    enum Next {
        /// Publish it on the channel, then call `sent` (or `putBack` if the connection failed).
        case send(Entry)
        /// Bound to a channel that is gone: finish it with `.stale`.
        case stale(Item)
    }

    private(set) var outbox: [Entry] = []
    private(set) var unconfirmed: [(sequence: UInt64, entry: Entry)] = []
    private var nextSequence: UInt64 = 1

    /// Nothing waits to be sent or confirmed.
    var isDrained: Bool { outbox.isEmpty && unconfirmed.isEmpty }

    /// A caller's publication. While disconnected a transient one is dropped and one bound to
    /// a channel is stale (returned as failed); the others wait in the outbox.
    mutating func submit(_ entry: Entry, connected: Bool) -> Finished? {
        if !connected {
            switch entry.policy {
            case .transient: return (entry.item, .failure(.dropped))
            case .boundTo: return (entry.item, .failure(.stale))
            case .persistent, .once: break
            }
        }
        outbox.append(entry)
        return nil
    }

    /// Takes the next publication from the outbox for the channel of `generation`.
    mutating func takeNext(generation: Int) -> Next? {
        guard !outbox.isEmpty else { return nil }
        let entry = outbox.removeFirst()
        if case .boundTo(let wanted) = entry.policy, wanted != generation { return .stale(entry.item) }
        return .send(entry)
    }

    /// `entry` went out on the channel: it gets the channel's next sequence number.
    mutating func sent(_ entry: Entry) {
        unconfirmed.append((nextSequence, entry))
        nextSequence += 1
    }

    /// `entry` could not be sent because the connection failed: it goes first next time.
    mutating func putBack(_ entry: Entry) {
        outbox.insert(entry, at: 0)
    }

    /// A new channel in confirm mode numbers its publications from 1.
    mutating func channelOpened() {
        nextSequence = 1
    }

    /// basic.ack or basic.nack for `tag` (and every earlier one when `multiple`).
    mutating func confirm(tag: UInt64, multiple: Bool, ack: Bool) -> [Finished] {
        var finished: [Finished] = []
        unconfirmed.removeAll { pending in
            let hit = multiple ? pending.sequence <= tag : pending.sequence == tag
            guard hit else { return false }
            let entry = pending.entry
            if !ack {
                finished.append((entry.item, .failure(.nacked)))
            } else if let returned = entry.returned {
                finished.append((entry.item, .failure(.returned(code: returned.code, text: returned.text))))
            } else {
                finished.append((entry.item, .success(())))
            }
            return true
        }
        return finished
    }

    /// basic.return (it carries no sequence number): the unconfirmed mandatory publication with
    /// the same message-id, else the oldest one not returned yet. Reported at its confirm.
    mutating func returned(code: Int, text: String, messageId: String?) {
        let index = unconfirmed.firstIndex(where: { $0.entry.mandatory && messageId != nil && $0.entry.messageId == messageId })
            ?? unconfirmed.firstIndex(where: { $0.entry.mandatory && $0.entry.returned == nil })
        if let index { unconfirmed[index].entry.returned = (code, text) }
    }

    /// The channel is gone: unconfirmed persistent publications go back to the front of the
    /// outbox (sent again on the next channel), transient ones are dropped, the others fail
    /// with `connectionLost`; queued publications bound to the old channel are stale.
    mutating func abandonUnconfirmed(because reason: String) -> [Finished] {
        var finished: [Finished] = []
        var resend: [Entry] = []
        for (_, entry) in unconfirmed {
            switch entry.policy {
            case .persistent:
                var again = entry
                again.returned = nil
                resend.append(again)
            case .transient:
                finished.append((entry.item, .failure(.dropped)))
            case .once, .boundTo:
                finished.append((entry.item, .failure(.connectionLost(reason))))
            }
        }
        unconfirmed.removeAll()
        var kept: [Entry] = []
        for entry in outbox {
            if case .boundTo = entry.policy { finished.append((entry.item, .failure(.stale))) } else { kept.append(entry) }
        }
        outbox = resend + kept
        return finished
    }

    /// Fails everything queued (not what waits for a confirm) with `error`.
    mutating func failOutbox(_ error: AMQPPublishError) -> [Finished] {
        defer { outbox.removeAll() }
        return outbox.map { ($0.item, .failure(error)) }
    }

    /// Fails everything, unconfirmed first, then queued, with `error` (the client is closing).
    mutating func failAll(_ error: AMQPPublishError) -> [Finished] {
        let waiting: [Finished] = unconfirmed.map { ($0.entry.item, .failure(error)) }
        unconfirmed.removeAll()
        return waiting + failOutbox(error)
    }
}
