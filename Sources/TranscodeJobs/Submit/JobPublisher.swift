import Foundation
import Logging

/// Why a job was not submitted.
public enum SubmitError: Error, CustomStringConvertible {
    /// The job breaks the contract (checked before anything is sent).
    case invalidJob(JobRejection)
    /// The broker did not confirm the message (refused, unroutable, connection lost or never made).
    case notConfirmed(AMQPPublishError)
    /// No confirm within the time limit.
    case timedOut(Double)

    public var description: String {
        switch self {
        case .invalidJob(let rejection): return "invalid job: \(rejection)"
        case .notConfirmed(let error): return "not confirmed: \(error)"
        case .timedOut(let seconds): return "no confirm from the broker within \(seconds) s"
        }
    }
}

/// Enqueues jobs for the workers, for Swift services (an upload API) and `transcode-worker submit`.
///
/// It declares the same topology as the workers (so a job submitted before any worker started
/// is kept), publishes each job as a persistent, mandatory message to the jobs queue and returns
/// only when the broker has confirmed it. A job that comes back unconfirmed may or may not have
/// been enqueued: submitting it again is safe, the workers handle a job id idempotently.
public final class JobPublisher: Sendable {
    private let client: AMQPClient
    private let topology: Topology

    /// - Parameter reconnect: nil for a one-shot publisher that fails at once when the broker is
    ///   unreachable; a backoff for a long-lived service.
    public init(endpoint: AMQPEndpoint, fallbacks: [AMQPEndpoint] = [], topology: Topology = Topology(),
                connectionName: String = "hlsify job publisher", reconnect: Backoff? = Backoff(), logger: Logger) {
        self.topology = topology
        var configuration = AMQPClient.Configuration(endpoint: endpoint, connectionName: connectionName,
                                                     topology: topology, consumer: nil, reconnect: reconnect)
        configuration.fallbacks = fallbacks
        client = AMQPClient(configuration: configuration, logger: logger)
        client.start()
    }

    /// Checks and submits a job.
    public func submit(_ job: TranscodeJob, timeout: Double = 30) async throws(SubmitError) {
        do { try JobDecoder().validate(job) } catch { throw .invalidJob(error) }
        try await submit(body: job.jsonBody(), jobId: job.jobId, timeout: timeout)
    }

    /// Submits a body as it is (no checks): for tools and tests that send what they like.
    public func submit(body: Data, jobId: String?, timeout: Double = 30) async throws(SubmitError) {
        var headers = AMQPTable()
        if let jobId { headers["x-hlsify-job-id"] = .string(jobId) }
        let properties = AMQPProperties(contentType: "application/json", headers: headers, deliveryMode: 2,
                                        correlationId: jobId, messageId: UUID().uuidString.lowercased(),
                                        timestamp: UInt64(Date().timeIntervalSince1970), type: "hlsify.job", appId: "hlsify")
        let message = AMQPOutgoingMessage(exchange: "", routingKey: topology.jobsQueue, mandatory: true,
                                          properties: properties, body: Array(body))
        let client = self.client
        let outcome: Result<Void, SubmitError> = await withTaskGroup(of: Result<Void, SubmitError>?.self) { group in
            group.addTask {
                do throws(AMQPPublishError) {
                    try await client.publish(message, policy: .once)
                    return .success(())
                } catch {
                    return .failure(.notConfirmed(error))
                }
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(max(0, timeout) * 1e9))
                return Task.isCancelled ? nil : .failure(.timedOut(timeout))
            }
            var first: Result<Void, SubmitError>?
            while let result = await group.next() {
                if first == nil, let result {
                    first = result
                    group.cancelAll()
                    // Unblock a publication still waiting for its confirm.
                    if case .failure(.timedOut) = result { await client.close(drainTimeout: 0) }
                }
            }
            return first ?? .failure(.timedOut(timeout))
        }
        try outcome.get()
    }

    /// Closes the connection (waits up to `drainTimeout` for publications in flight).
    public func close(drainTimeout: Double = 5) async {
        await client.close(drainTimeout: drainTimeout)
    }
}
