import Foundation

/// The worker's rules for settling deliveries, as pure functions of the attempt and the
/// outcome: unit-tested without a broker.
struct DeliveryPolicy: Sendable, Equatable {
    /// Deliveries a job gets (`--max-attempts`).
    var maxAttempts: Int
    /// Seconds before a failed job is requeued, times the attempt (`--retry-delay`).
    var retryDelay: Double
    /// The longest pause before a requeue, seconds.
    static let maximumRetryDelay: Double = 60

    /// True when a delivery is past `maxAttempts` (its attempt is `x-delivery-count` + 1) and
    /// must be dead-lettered without work.
    func isExhausted(attempt: Int) -> Bool {
        attempt > maxAttempts
    }

    /// The disposition of a delivery on its `attempt` that came to `outcome`.
    func disposition(for outcome: DeliveryOutcome, attempt: Int) -> DeliveryDisposition {
        switch outcome {
        case .completed, .alreadyComplete, .planned, .chunkCommitted, .chunkSkipped:
            return .ack
        case .chunkDropped(let message):
            return .deadLetter(reason: .jobFailed, message: message)
        case .completionNotConfirmed:
            return .requeue(after: 0, cause: .completionNotConfirmed)
        case .rejected(let rejection):
            return .deadLetter(reason: rejection.reason, message: rejection.message)
        case .exhausted:
            return .deadLetter(reason: .attemptsExhausted,
                               message: "delivered \(attempt) times (the worker may have died each time); --max-attempts is \(maxAttempts)")
        case .stopped:
            return .requeue(after: 0, cause: .stopped)
        case .abandoned:
            return .leaveForRedelivery
        case .failed(let error):
            switch FailurePolicy.classify(error) {
            case .interrupted:
                return .requeue(after: 0, cause: .interrupted)
            case .final(let reason):
                return .deadLetter(reason: reason, message: "\(error)")
            case .transient where attempt >= maxAttempts:
                return .deadLetter(reason: .attemptsExhausted, message: "attempt \(attempt) of \(maxAttempts) failed: \(error)")
            case .transient:
                return .requeue(after: min(Self.maximumRetryDelay, retryDelay * Double(attempt)), cause: .retry(error: "\(error)"))
            }
        }
    }

    /// How to settle a delivery once its dead-letter copy was published (`copyError` nil) or
    /// not: acknowledge it; when the broker refused the copy (nack, return, too large for a
    /// frame), reject it without requeue so that the queue's own dead-lettering moves it; when
    /// the copy was lost with the channel, settle nothing (nil: the broker redelivers it).
    static func settlement(afterCopy copyError: AMQPPublishError?) -> AMQPClient.Settlement? {
        switch copyError {
        case nil: return .ack
        case .nacked, .returned, .tooLarge: return .reject(requeue: false)
        case .connectionLost, .dropped, .stale, .closed: return nil
        }
    }
}
