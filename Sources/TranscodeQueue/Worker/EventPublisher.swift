import Foundation
import Logging

/// Publishes job events on the events exchange through the worker's connection (persistent
/// messages, publisher confirms). Progress events are transient: dropped while disconnected.
struct EventPublisher: Sendable {
    let client: AMQPClient
    let exchange: String
    let logger: Logger

    static func message(for event: JobEvent, exchange: String) -> AMQPOutgoingMessage {
        var headers: AMQPTable = ["x-hlsify-state": .string(event.state.rawValue), "x-hlsify-worker-id": .string(event.workerId)]
        if let jobId = event.jobId { headers["x-hlsify-job-id"] = .string(jobId) }
        let properties = AMQPProperties(contentType: "application/json", headers: headers, deliveryMode: 2,
                                        messageId: event.eventId, timestamp: UInt64(max(0, event.timestamp.timeIntervalSince1970)),
                                        type: event.routingKey, appId: "hlsify-transcode-worker")
        return AMQPOutgoingMessage(exchange: exchange, routingKey: event.routingKey, properties: properties,
                                   body: Array(event.jsonBody()))
    }

    /// Queues the event and returns at once (a failure is logged).
    func send(_ event: JobEvent) {
        let policy: AMQPClient.PublishPolicy = event.state == .progress ? .transient : .persistent
        let logger = self.logger
        client.send(Self.message(for: event, exchange: exchange), policy: policy) { result in
            if case .failure(let error) = result, error != .dropped {
                logger.warning("event not confirmed", metadata: ["event": "\(event.routingKey)", "jobId": "\(event.jobId ?? "null")",
                                                                "error": "\(error)"])
            }
        }
    }

    /// Publishes the event and waits for the broker's confirm (kept across reconnects).
    func publish(_ event: JobEvent) async throws(AMQPPublishError) {
        try await client.publish(Self.message(for: event, exchange: exchange), policy: .persistent)
    }
}

/// Lets one progress event through per interval (the first at once).
final class ProgressThrottle: @unchecked Sendable {  // `last` is read and written under `lock`
    private let interval: Double
    private let lock = NSLock()
    private var last: Double = -.infinity

    init(interval: Double) {
        self.interval = interval
    }

    func isDue() -> Bool {
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        lock.lock()
        defer { lock.unlock() }
        guard now - last >= interval else { return false }
        last = now
        return true
    }
}

/// True for the first `claim()` only: an event sent once from whichever path gets there first.
final class OnceFlag: @unchecked Sendable {  // `claimed` is read and written under `lock`
    private let lock = NSLock()
    private var claimed = false

    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if claimed { return false }
        claimed = true
        return true
    }
}
