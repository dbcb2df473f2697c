import Foundation
import Logging

/// A long-lived AMQP client: one connection owned by one thread, reconnecting by itself.
///
/// librabbitmq is not thread-safe, so a single thread (`hlsify-amqp`) owns the connection and
/// does everything on it: it waits for frames with a short timeout (which also sends and checks
/// heartbeats, so a 30-minute transcode elsewhere never starves the connection), and between
/// waits it runs the commands other threads queue for it: publish, acknowledge, reject, stop
/// consuming, close. Callers use `async` methods and never touch the C library.
///
/// - Publisher confirms: the channel is in confirm mode; each publication gets the channel's
///   next sequence number and completes when basic.ack / basic.nack for it arrives
///   (librabbitmq 0.11 has no confirm helper, so the frames are read here).
/// - Reconnects: after a lost connection the thread waits (capped exponential backoff with
///   jitter), connects again, declares the topology again, and consumes again. A channel closed
///   by the broker (a consumer timeout, say) is replaced on the same connection.
/// - Deliveries carry the generation of the channel that received them: an acknowledgement for
///   an older channel is not sent (the broker has already requeued that delivery).
public final class AMQPClient: @unchecked Sendable {  // shared state under `lock`; the connection is owned by its one thread
    public struct Consumer: Sendable, Equatable {
        public var queue: String
        public var prefetch: Int
        public var tag: String

        public init(queue: String, prefetch: Int, tag: String) {
            self.queue = queue
            self.prefetch = prefetch
            self.tag = tag
        }
    }

    public struct Configuration: Sendable {
        public var endpoint: AMQPEndpoint
        /// Other nodes of the same cluster: a connection that fails or is lost is tried again on
        /// the next node in turn (`endpoint` first).
        public var fallbacks: [AMQPEndpoint] = []
        /// Shown by the broker (`rabbitmqctl list_connections name`).
        public var connectionName: String
        public var topology: Topology
        /// Consume from a queue (the worker) or not (a publisher).
        public var consumer: Consumer?
        /// nil: the first lost or failed connection is final (a one-shot publisher).
        public var reconnect: Backoff?
        /// Heartbeat asked of the broker, seconds (0 disables).
        public var heartbeat: Int = 30
        public var connectTimeout: Double = 10
        public var rpcTimeout: Double = 30
        /// How long the connection thread waits for a frame before looking at its commands again.
        public var pollInterval: Double = 0.02

        public init(endpoint: AMQPEndpoint, connectionName: String, topology: Topology, consumer: Consumer? = nil,
                    reconnect: Backoff? = Backoff()) {
            self.endpoint = endpoint
            self.connectionName = connectionName
            self.topology = topology
            self.consumer = consumer
            self.reconnect = reconnect
        }
    }

    /// What happens to a publication when the connection is not there.
    public enum PublishPolicy: Sendable, Equatable {
        /// Kept while disconnected and sent again after a reconnect until confirmed (events).
        case persistent
        /// Dropped when not connected, never sent again (progress events).
        case transient
        /// Waits for a connection, sent once; fails if the connection is lost before the confirm (job submission).
        case once
        /// Only on the channel that received a delivery; `.stale` otherwise (dead-letter copies).
        case boundTo(channelGeneration: Int)
    }

    public enum Settlement: Sendable, Equatable {
        case ack
        case reject(requeue: Bool)
    }

    /// Messages for the consumer; ends when consuming stops or the client closes.
    public let deliveries: AsyncStream<AMQPDelivery>

    private let configuration: Configuration
    private let logger: Logger
    private let deliveryContinuation: AsyncStream<AMQPDelivery>.Continuation

    // Shared between callers and the connection thread (under `lock`).
    private let lock = NSLock()
    private var inbox: [Command] = []
    private var started = false
    private var finished = false
    private var connectedFlag = false
    private var connectionsMade = 0
    private var lastTurnTime: Double = 0

    // Owned by the connection thread.
    private var connection: AMQPConnection?
    private var channel: UInt16 = 0
    private var generation = 0
    private var publications = PublicationStateMachine<Publication>()
    private var consumerTag: String?
    private var wantsToConsume: Bool
    private var backoff: Backoff
    private var nextAttempt: Double = 0
    /// Which node (`endpoint`, then `fallbacks`) the next connection goes to.
    private var nodeIndex = 0
    private var closing: CloseRequest?
    private var finalError: AMQPError?

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.backoff = configuration.reconnect ?? Backoff()
        self.wantsToConsume = configuration.consumer != nil
        (deliveries, deliveryContinuation) = AsyncStream<AMQPDelivery>.makeStream(bufferingPolicy: .unbounded)
    }

    /// Starts the connection thread (once).
    public func start() {
        lock.lock()
        defer { lock.unlock() }
        guard !started else { return }
        started = true
        let thread = Thread { [self] in runLoop() }
        thread.name = "hlsify-amqp"
        thread.start()
    }

    /// True while a connection with a working channel is up.
    public var isConnected: Bool {
        lock.lock()
        defer { lock.unlock() }
        return connectedFlag
    }

    /// Connections made to the broker so far (each reconnect adds one).
    public var connections: Int {
        lock.lock()
        defer { lock.unlock() }
        return connectionsMade
    }

    /// Seconds since the connection thread last went round its loop (it turns at least every
    /// `pollInterval` while connected, every 50 ms while waiting to reconnect); nil before `start()`.
    public var secondsSinceLastTurn: Double? {
        lock.lock()
        defer { lock.unlock() }
        return lastTurnTime == 0 ? nil : Self.now() - lastTurnTime
    }

    /// A queue's ready messages and consumers, read with a passive declare on a channel of its own
    /// (never the consuming one). nil when not connected, or the queue cannot be inspected.
    public func inspectQueue(_ name: String) async -> QueueCounts? {
        await withCheckedContinuation { continuation in
            enqueue(.inspect(queue: name) { continuation.resume(returning: $0) })
        }
    }

    /// The current channel generation (changes at every reconnect or channel replacement).
    public var currentGeneration: Int {
        lock.lock()
        defer { lock.unlock() }
        return publishedGeneration
    }
    private var publishedGeneration = 0

    // MARK: - Commands

    /// Publishes and waits for the broker's confirm.
    /// - Throws: `AMQPPublishError` when the broker refused or could not route it, or the
    ///   connection was lost before the confirm (as `policy` decides).
    public func publish(_ message: AMQPOutgoingMessage, policy: PublishPolicy) async throws(AMQPPublishError) {
        let result: Result<Void, AMQPPublishError> = await withCheckedContinuation { continuation in
            enqueue(.publish(Publication(message: message, completion: { continuation.resume(returning: $0) }), policy))
        }
        try result.get()
    }

    /// Publishes without waiting; `completion` (if any) runs on the connection thread.
    public func send(_ message: AMQPOutgoingMessage, policy: PublishPolicy,
                     completion: (@Sendable (Result<Void, AMQPPublishError>) -> Void)? = nil) {
        enqueue(.publish(Publication(message: message, completion: completion ?? { _ in }), policy))
    }

    /// Acknowledges or rejects a delivery.
    /// - Returns: false when it could not be sent because the channel that received the delivery
    ///   is gone (the broker has requeued it already) or the client is closed.
    @discardableResult
    public func settle(_ delivery: AMQPDelivery, _ settlement: Settlement) async -> Bool {
        await withCheckedContinuation { continuation in
            enqueue(.settle(generation: delivery.channelGeneration, tag: delivery.deliveryTag, settlement,
                            completion: { continuation.resume(returning: $0) }))
        }
    }

    /// Cancels the consumer (basic.cancel) and returns at once: no new deliveries; `deliveries`
    /// ends once the connection thread has sent it. Deliveries already received can still be
    /// settled.
    public func stopConsuming() {
        enqueue(.stopConsuming)
    }

    /// Stops consuming, waits up to `drainTimeout` seconds for queued and unconfirmed
    /// publications, then closes the channel and the connection. Unsettled deliveries go back
    /// to the queue (the broker requeues them when the channel closes).
    public func close(drainTimeout: Double = 5) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            enqueue(.close(drain: drainTimeout, completion: { continuation.resume() }))
        }
    }

    // MARK: - Internals shared with callers

    private struct Publication {
        var message: AMQPOutgoingMessage
        var completion: @Sendable (Result<Void, AMQPPublishError>) -> Void
    }

    private enum Command {
        case publish(Publication, PublishPolicy)
        case settle(generation: Int, tag: UInt64, Settlement, completion: @Sendable (Bool) -> Void)
        case stopConsuming
        case close(drain: Double, completion: @Sendable () -> Void)
        case inspect(queue: String, completion: @Sendable (QueueCounts?) -> Void)
    }

    /// A queue's ready messages and consumers, as a passive declare reports them.
    public struct QueueCounts: Sendable, Equatable {
        public var messages: Int
        public var consumers: Int
    }

    private struct CloseRequest {
        var deadline: Double
        var completions: [@Sendable () -> Void]
    }

    private func enqueue(_ command: Command) {
        lock.lock()
        if finished {
            let why = finalError.map { "\($0)" } ?? "closed"
            lock.unlock()
            Self.refuse(command, why: why)
            return
        }
        inbox.append(command)
        lock.unlock()
    }

    private static func refuse(_ command: Command, why: String) {
        switch command {
        case .publish(let publication, _): publication.completion(.failure(.closed(why)))
        case .settle(_, _, _, let completion): completion(false)
        case .stopConsuming: break
        case .close(_, let completion): completion()
        case .inspect(_, let completion): completion(nil)
        }
    }

    private func takeInbox() -> [Command] {
        lock.lock()
        defer { lock.unlock() }
        let commands = inbox
        inbox.removeAll(keepingCapacity: true)
        return commands
    }

    private func setConnected(_ connected: Bool) {
        lock.lock()
        connectedFlag = connected
        publishedGeneration = generation
        lock.unlock()
    }

    // MARK: - Connection thread

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    private func runLoop() {
        while true {
            noteTurn()
            for command in takeInbox() { execute(command) }
            if let closing {
                if publications.isDrained || Self.now() >= closing.deadline || finalError != nil {
                    finish()
                    return
                }
            }
            guard let connection else {
                if finalError != nil {
                    finish()
                    return
                }
                let wait = nextAttempt - Self.now()
                if wait > 0 {
                    Thread.sleep(forTimeInterval: min(wait, 0.05))
                } else {
                    connectAndSetUp()
                }
                continue
            }
            flushOutbox()
            guard self.connection != nil else { continue }
            do {
                if let inbound = try connection.nextInbound(timeout: configuration.pollInterval) {
                    handle(inbound)
                }
            } catch {
                connectionLost(error)
            }
        }
    }

    private func noteTurn() {
        lock.lock()
        lastTurnTime = Self.now()
        lock.unlock()
    }

    private func execute(_ command: Command) {
        switch command {
        case .inspect(let queue, let completion):
            completion(inspect(queue))
        case .publish(let publication, let policy):
            let entry = PublicationStateMachine.Entry(item: publication, policy: policy, mandatory: publication.message.mandatory,
                                                      messageId: publication.message.properties.messageId)
            if let refused = publications.submit(entry, connected: connection != nil) { Self.complete([refused]) }
        case .settle(let deliveryGeneration, let tag, let settlement, let completion):
            guard let connection, deliveryGeneration == generation else {
                completion(false)
                return
            }
            do {
                switch settlement {
                case .ack: try connection.ack(channel, deliveryTag: tag)
                case .reject(let requeue): try connection.reject(channel, deliveryTag: tag, requeue: requeue)
                }
                completion(true)
            } catch {
                completion(false)
                connectionLost(error)
            }
        case .stopConsuming:
            stopConsumer()
        case .close(let drain, let completion):
            stopConsumer()
            if closing == nil {
                closing = CloseRequest(deadline: Self.now() + max(0, drain), completions: [completion])
            } else {
                closing?.completions.append(completion)
            }
        }
    }

    /// The channel queue inspections use: above the numbers `openNextChannel` cycles through
    /// (1…2000) and within RabbitMQ's default channel_max (2047).
    static let inspectionChannel: UInt16 = 2001
    /// Whether `inspectionChannel` is open on the current connection.
    private var inspectionChannelOpen = false

    /// A passive declare of `queue` on the inspection channel (opened when needed; the broker
    /// closes it when the queue is missing, and it is opened again next time).
    private func inspect(_ queue: String) -> QueueCounts? {
        guard let connection else { return nil }
        do {
            if !inspectionChannelOpen {
                try connection.openChannel(Self.inspectionChannel)
                inspectionChannelOpen = true
            }
            let counts = try connection.declareQueue(Self.inspectionChannel, name: queue, passive: true)
            return QueueCounts(messages: counts.messages, consumers: counts.consumers)
        } catch {
            inspectionChannelOpen = false
            if !error.isChannelOnly { connectionLost(error) }
            return nil
        }
    }

    private func stopConsumer() {
        guard wantsToConsume else { return }
        wantsToConsume = false
        if let connection, let tag = consumerTag {
            do {
                try connection.cancel(channel, consumerTag: tag)
                logger.debug("consumer cancelled", metadata: ["consumerTag": "\(tag)"])
            } catch {
                if error.isChannelOnly { channelLost(error) } else { connectionLost(error) }
            }
        }
        consumerTag = nil
        deliveryContinuation.finish()
    }

    private func connectAndSetUp() {
        let nodes = [configuration.endpoint] + configuration.fallbacks
        let endpoint = nodes[nodeIndex % nodes.count]
        do {
            let capabilities: AMQPTable = ["consumer_cancel_notify": .bool(true), "connection.blocked": .bool(true),
                                           "publisher_confirms": .bool(true), "basic.nack": .bool(true),
                                           "authentication_failure_close": .bool(true)]
            let properties: AMQPTable = ["connection_name": .string(configuration.connectionName),
                                         "product": .string("hlsify"), "capabilities": .table(capabilities)]
            let connection = try AMQPConnection(endpoint: endpoint, heartbeat: configuration.heartbeat,
                                                connectTimeout: configuration.connectTimeout,
                                                rpcTimeout: configuration.rpcTimeout, clientProperties: properties)
            self.connection = connection
            inspectionChannelOpen = false
            try setUpChannel()
            lock.lock()
            connectionsMade += 1
            lock.unlock()
            backoff.reset()
            logger.info("connected to the broker", metadata: ["broker": "\(endpoint)", "heartbeat": "\(connection.heartbeat)",
                                                            "channel": "\(channel)"])
        } catch {
            connection?.close()
            connection = nil
            setConnected(false)
            nodeIndex += 1  // the next attempt goes to the next node of the cluster
            scheduleReconnect(after: error)
        }
    }

    private func scheduleReconnect(after error: AMQPError) {
        guard configuration.reconnect != nil else {
            logger.error("cannot reach the broker", metadata: ["broker": "\(configuration.endpoint)", "error": "\(error)"])
            finalError = error
            return
        }
        let delay = backoff.next()
        nextAttempt = Self.now() + delay
        logger.warning("broker unavailable; reconnecting", metadata: [
            "broker": "\(configuration.endpoint)", "error": "\(error)", "retryIn": "\(String(format: "%.1f", delay))s"])
    }

    /// Opens a fresh channel (new number), makes sure of the topology, enables confirms, consumes.
    ///
    /// Each exchange and queue is first looked up passively and used as it is when it exists (a
    /// deployment may have declared it with arguments of its own, say `x-delivery-limit`);
    /// only a missing one is declared, with the arguments of `Topology`.
    private func setUpChannel() throws(AMQPError) {
        guard let connection else { throw AMQPError.notConnected("no connection") }
        generation += 1
        publications.channelOpened()
        consumerTag = nil
        try openNextChannel(connection)
        let topology = configuration.topology
        for exchange in topology.exchanges {
            do {
                try connection.declareExchange(channel, name: exchange.name, type: exchange.type, passive: true)
            } catch where error.replyCode == 404 {
                try openNextChannel(connection)
                try connection.declareExchange(channel, name: exchange.name, type: exchange.type)
                logger.info("declared exchange", metadata: ["exchange": "\(exchange.name)", "type": "\(exchange.type)"])
            }
        }
        for queue in topology.queues {
            do {
                try connection.declareQueue(channel, name: queue.name, passive: true)
            } catch where error.replyCode == 404 {
                try openNextChannel(connection)
                try connection.declareQueue(channel, name: queue.name, arguments: queue.arguments)
                logger.info("declared queue", metadata: ["queue": "\(queue.name)", "arguments": "\(queue.arguments)"])
            }
        }
        for binding in topology.bindings {
            try connection.bindQueue(channel, queue: binding.queue, exchange: binding.exchange, routingKey: binding.routingKey)
        }
        try connection.confirmSelect(channel)
        if let consumer = configuration.consumer, wantsToConsume {
            try connection.qos(channel, prefetch: consumer.prefetch)
            consumerTag = try connection.consume(channel, queue: consumer.queue, consumerTag: consumer.tag)
        }
        setConnected(true)
    }

    /// Opens the channel with the next number (a closed channel's number is not reused at once,
    /// so that nothing late for it can be taken for the new one).
    private func openNextChannel(_ connection: AMQPConnection) throws(AMQPError) {
        channel = channel >= 2000 ? 1 : channel + 1
        try connection.openChannel(channel)
    }

    /// The broker closed our channel: the connection is fine, open another channel.
    private func channelLost(_ error: AMQPError) {
        if error.isConsumerTimeout {
            logger.warning("the broker closed the channel: a delivery stayed unacknowledged past its consumer_timeout; reopening (the job will be redelivered and handled idempotently; raise consumer_timeout for long transcodes)",
                           metadata: ["error": "\(error)"])
        } else {
            logger.warning("the broker closed the channel; reopening", metadata: ["error": "\(error)"])
        }
        setConnected(false)
        abandonUnconfirmed(because: "\(error)")
        do {
            try setUpChannel()
            logger.info("channel reopened", metadata: ["channel": "\(channel)"])
        } catch {
            // A channel that cannot be set up again (say, the topology now fails to declare):
            // start over with a new connection, after the backoff.
            connectionLost(error, channelRecovery: false)
        }
    }

    /// The connection is gone (or is given up): drop it, settle what was in flight, reconnect later.
    /// - Parameter channelRecovery: when the error only closed the channel, open another channel
    ///   on the same connection instead.
    private func connectionLost(_ error: AMQPError, channelRecovery: Bool = true) {
        if channelRecovery, error.isChannelOnly, let connection, !connection.isBroken {
            channelLost(error)
            return
        }
        connection?.close()
        connection = nil
        generation += 1
        consumerTag = nil
        setConnected(false)
        abandonUnconfirmed(because: "\(error)")
        if closing == nil || !publications.outbox.isEmpty {
            scheduleReconnect(after: error)
        }
        if finalError != nil {
            Self.complete(publications.failOutbox(.closed("\(error)")))
        }
    }

    /// Publications sent on a channel that is gone: persistent ones are sent again on the next
    /// channel, the others fail (`PublicationStateMachine.abandonUnconfirmed`).
    private func abandonUnconfirmed(because reason: String) {
        Self.complete(publications.abandonUnconfirmed(because: reason))
    }

    /// Runs the completions of finished publications.
    private static func complete(_ finished: [PublicationStateMachine<Publication>.Finished]) {
        for (publication, result) in finished { publication.completion(result) }
    }

    private func flushOutbox() {
        guard let connection else { return }
        while let next = publications.takeNext(generation: generation) {
            switch next {
            case .stale(let publication):
                publication.completion(.failure(.stale))
            case .send(let entry):
                do {
                    try connection.publish(channel, entry.item.message)
                    publications.sent(entry)
                } catch {
                    if case .messageTooLarge(_, let reason) = error {
                        // Local to this message: nothing was sent, the connection carries on.
                        logger.warning("a message was not published: it does not fit one frame", metadata: ["error": "\(error)"])
                        entry.item.completion(.failure(.tooLarge(reason)))
                        continue
                    }
                    publications.putBack(entry)
                    connectionLost(error)
                    return
                }
            }
        }
    }

    private func handle(_ inbound: AMQPInbound) {
        switch inbound {
        case .delivery(let deliveryChannel, var delivery):
            guard deliveryChannel == channel else { return }
            guard wantsToConsume, consumerTag != nil else {
                // Arrived between our basic.cancel and its cancel-ok: give it back at once.
                try? connection?.reject(channel, deliveryTag: delivery.deliveryTag, requeue: true)
                return
            }
            delivery.channelGeneration = generation
            deliveryContinuation.yield(delivery)
        case .confirm(let confirmChannel, let tag, let multiple, let ack):
            guard confirmChannel == channel else { return }
            Self.complete(publications.confirm(tag: tag, multiple: multiple, ack: ack))
        case .returned(let returnChannel, let code, let text, let properties):
            guard returnChannel == channel else { return }
            publications.returned(code: code, text: text, messageId: properties.messageId)
        case .channelClosed(let closedChannel, let error):
            guard closedChannel == channel else { return }
            channelLost(error)
        case .consumerCancelled(let cancelledChannel, let tag):
            guard cancelledChannel == channel, wantsToConsume else { return }
            logger.warning("the broker cancelled our consumer (was the queue deleted?); declaring again",
                           metadata: ["consumerTag": "\(tag)"])
            connection?.closeChannel(channel)
            channelLost(AMQPError.channelClosed(operation: "consumer \(tag)", code: 0, text: "consumer cancelled by the broker"))
        case .blocked(let reason):
            logger.warning("the broker blocked publishing (resource alarm)", metadata: ["reason": "\(reason)"])
        case .unblocked:
            logger.info("the broker unblocked publishing")
        case .other(let what):
            logger.debug("ignored frame", metadata: ["frame": "\(what)"])
        }
    }

    private func finish() {
        if let connection {
            if !connection.isBroken { connection.closeChannel(channel) }
            connection.close()
        }
        connection = nil
        let why = finalError.map { "\($0)" } ?? "the client was closed"
        Self.complete(publications.failAll(.closed(why)))
        deliveryContinuation.finish()
        lock.lock()
        finished = true
        connectedFlag = false
        let leftovers = inbox
        inbox.removeAll()
        lock.unlock()
        for command in leftovers { Self.refuse(command, why: why) }
        closing?.completions.forEach { $0() }
        closing = nil
        logger.debug("AMQP client closed")
    }
}
