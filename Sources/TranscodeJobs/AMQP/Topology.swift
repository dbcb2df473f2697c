/// The exchanges and queues the worker and the publisher declare (idempotently) on every
/// connection:
///
/// - `jobsQueue` (`hlsify.jobs`): durable quorum queue, `x-dead-letter-exchange` = `deadLetterExchange`
///   (a message the broker dead-letters itself, e.g. rejected without requeue, still lands in the
///   dead-letter queue);
/// - `deadLetterExchange` (`hlsify.dead`): durable fanout exchange, bound to
/// - `deadLetterQueue` (`hlsify.jobs.dead`): durable quorum queue that keeps what could not be done;
/// - `eventsExchange` (`hlsify.events`): durable topic exchange, routing keys `job.<state>`;
/// - `checkQueue` (`hlsify.jobs.check`): durable quorum queue nobody consumes: a message put there
///   with a per-message TTL (`expiration`) is dead-lettered, when it expires, to the jobs queue (the
///   default exchange, routing key `jobsQueue`). A job split by time arms its delayed fan-in check
///   this way.
///
/// Exchanges and queues that exist already are used as they are (looked up passively); only
/// missing ones are declared, with these arguments. No `x-delivery-limit` is set: attempts are
/// counted by the worker from `x-delivery-count`, so that `--max-attempts` can differ between
/// deployments without redeclaring the queue.
public struct Topology: Sendable, Equatable {
    public var jobsQueue: String
    public var deadLetterExchange: String
    public var deadLetterQueue: String
    public var eventsExchange: String
    public var checkQueue: String

    public init(jobsQueue: String = "hlsify.jobs", deadLetterExchange: String = "hlsify.dead",
                deadLetterQueue: String = "hlsify.jobs.dead", eventsExchange: String = "hlsify.events",
                checkQueue: String? = nil) {
        self.jobsQueue = jobsQueue
        self.deadLetterExchange = deadLetterExchange
        self.deadLetterQueue = deadLetterQueue
        self.eventsExchange = eventsExchange
        self.checkQueue = checkQueue ?? jobsQueue + ".check"
    }

    public struct ExchangeDeclaration: Sendable, Equatable {
        public var name: String
        public var type: String
    }

    public struct QueueDeclaration: Sendable, Equatable {
        public var name: String
        public var arguments: AMQPTable
    }

    public struct Binding: Sendable, Equatable {
        public var queue: String
        public var exchange: String
        public var routingKey: String
    }

    public var exchanges: [ExchangeDeclaration] {
        [ExchangeDeclaration(name: deadLetterExchange, type: "fanout"),
         ExchangeDeclaration(name: eventsExchange, type: "topic")]
    }

    public var queues: [QueueDeclaration] {
        [QueueDeclaration(name: deadLetterQueue, arguments: ["x-queue-type": .string("quorum")]),
         QueueDeclaration(name: jobsQueue, arguments: ["x-queue-type": .string("quorum"),
                                                       "x-dead-letter-exchange": .string(deadLetterExchange)]),
         QueueDeclaration(name: checkQueue, arguments: ["x-queue-type": .string("quorum"),
                                                        "x-dead-letter-exchange": .string(""),
                                                        "x-dead-letter-routing-key": .string(jobsQueue)])]
    }

    public var bindings: [Binding] {
        // The jobs queue's name is the routing key of its dead letters (the broker's and the
        // worker's copies alike), so the binding also works on a direct or topic exchange that a
        // deployment declared under this name.
        [Binding(queue: deadLetterQueue, exchange: deadLetterExchange, routingKey: jobsQueue)]
    }

    /// Names must be 1–255 bytes (AMQP short strings) and not start with `amq.` (reserved).
    public func validate() throws(AMQPError) {
        for name in [jobsQueue, deadLetterExchange, deadLetterQueue, eventsExchange, checkQueue] {
            guard (1...255).contains(name.utf8.count) else {
                throw AMQPError.invalidConfiguration("exchange and queue names must be 1–255 bytes: \"\(name)\"")
            }
            guard !name.hasPrefix("amq.") else {
                throw AMQPError.invalidConfiguration("names starting with amq. are reserved by the broker: \"\(name)\"")
            }
        }
    }
}
