/// How the worker settles one delivery: the pure decision between handling a delivery and
/// talking to the broker (`DeliveryPolicy` makes it, the worker carries it out in one place).
enum DeliveryDisposition: Equatable {
    /// Done with: acknowledge.
    case ack
    /// Give it back to the queue after `after` seconds, for `cause`.
    case requeue(after: Double, cause: RequeueCause)
    /// Copy it to the dead-letter exchange with `reason` and `message` in its headers, report
    /// `job.rejected` or `job.failed`, then acknowledge (`DeliveryPolicy.settlement(afterCopy:)`
    /// says what to do when the copy was not taken).
    case deadLetter(reason: DeadLetterReason, message: String)
    /// Settle nothing: the channel that brought it is gone and the broker redelivers it.
    case leaveForRedelivery

    /// Why a delivery goes back to the queue.
    enum RequeueCause: Equatable {
        /// A passing failure (`job.failed` with `willRetry: true`, reason `transient`).
        case retry(error: String)
        /// The running job was stopped for a shutdown (`job.failed`, reason `interrupted`).
        case interrupted
        /// Shutting down before the job started: nothing to report.
        case stopped
        /// `job.completed` was not confirmed: the redelivery reports it.
        case completionNotConfirmed

        /// The `job.failed` event's reason and message, when there is one to publish.
        var failure: (reason: String, message: String)? {
            switch self {
            case .retry(let error): return ("transient", error)
            case .interrupted: return ("interrupted", "the worker is shutting down; the job goes back to the queue")
            case .stopped, .completionNotConfirmed: return nil
            }
        }
    }
}
