/// What handling one delivery came to, before it is settled. `DeliveryPolicy` turns it into
/// a `DeliveryDisposition`; the worker settles the delivery as that says, in one place.
enum DeliveryOutcome {
    /// This delivery made the output, put it in place and had `job.completed` confirmed.
    case completed(JobEvent.Completion)
    /// The output was already complete (its completion reported now if it never was).
    case alreadyComplete
    /// The output is complete but `job.completed` was not confirmed: a redelivery reports it.
    case completionNotConfirmed
    /// Not a job this worker can take (bad message, unsafe path, output conflict).
    case rejected(JobRejection)
    /// Delivered more times than `maxAttempts` (the worker may have died each time).
    case exhausted
    /// The transcode, or something around it, failed with this error.
    case failed(any Error)
    /// The worker is shutting down and the job had not started (it was waiting for its output).
    case stopped
    /// The channel that brought the delivery closed while it waited: the broker requeued it.
    case abandoned
    /// A job split by time was planned and its chunks published.
    case planned(chunks: Int)
    /// A chunk of a split job was committed by this delivery.
    case chunkCommitted
    /// A split job's message with nothing to do (a duplicate chunk, a stitch waiting for chunks,
    /// a job gone): acknowledged.
    case chunkSkipped(String)
    /// A chunk of a split job that failed already: dead-lettered without an event.
    case chunkDropped(String)
}
