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
final class ProgressThrottle: @unchecked Sendable {
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

/// The running jobs of a worker, to wait for them (and cancel them) on shutdown.
final class JobRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var tasks: [Int: Task<Void, Never>] = [:]
    private var nextId = 0

    func start(_ operation: @escaping @Sendable () async -> Void) {
        lock.lock()
        let id = nextId
        nextId += 1
        let task = Task { [weak self] in
            await operation()
            self?.remove(id)
        }
        tasks[id] = task
        lock.unlock()
    }

    private func remove(_ id: Int) {
        lock.lock()
        tasks[id] = nil
        lock.unlock()
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return tasks.count
    }

    func cancelAll() {
        snapshot().forEach { $0.cancel() }
    }

    /// Waits for every running job; after `grace` seconds cancels the ones still running and
    /// waits for them to stop.
    /// - Returns: true when all finished within the grace period.
    func drain(grace: Double) async -> Bool {
        let deadline = Double(DispatchTime.now().uptimeNanoseconds) / 1e9 + grace
        while count > 0 && Double(DispatchTime.now().uptimeNanoseconds) / 1e9 < deadline {
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        guard count > 0 else { return true }
        cancelAll()
        for task in snapshot() { await task.value }
        return false
    }

    private func snapshot() -> [Task<Void, Never>] {
        lock.lock()
        defer { lock.unlock() }
        return Array(tasks.values)
    }
}
