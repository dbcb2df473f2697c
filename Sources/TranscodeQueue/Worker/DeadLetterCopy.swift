import Foundation

/// The copy of a delivery the worker puts on the dead-letter exchange: the original body and
/// properties, with why it ended there in `x-hlsify-*` headers. Pure: built without a broker.
struct DeadLetterCopy {
    /// Longest `x-hlsify-error` in a full copy, and in a compact one.
    static let errorLength = 2000
    static let compactErrorLength = 200

    var reason: DeadLetterReason
    var message: String
    var jobId: String?
    var workerId: String
    var attempt: Int
    var originalQueue: String
    var at: Date

    /// The headers this worker adds.
    func hlsifyHeaders(errorLength: Int) -> AMQPTable {
        var headers = AMQPTable()
        headers["x-hlsify-reason"] = .string(reason.rawValue)
        headers["x-hlsify-error"] = .string(String(message.prefix(errorLength)))
        headers["x-hlsify-state"] = .string(reason.isRejection ? "rejected" : "failed")
        headers["x-hlsify-worker-id"] = .string(workerId)
        headers["x-hlsify-attempt"] = .int(Int64(attempt))
        headers["x-hlsify-dead-lettered-at"] = .string(JobEvent.timestampText(at))
        headers["x-hlsify-original-queue"] = .string(originalQueue)
        if let jobId { headers["x-hlsify-job-id"] = .string(String(jobId.prefix(JobNames.maximumJobIdLength + 32))) }
        return headers
    }

    /// The message to publish for `delivery`.
    /// - Parameter compact: false keeps the original headers beside ours; true (for a copy whose
    ///   headers did not fit one frame) keeps only ours, with the error cut shorter, and says in
    ///   `x-hlsify-headers-dropped` how many original headers were left out.
    func message(for delivery: AMQPDelivery, exchange: String, compact: Bool) -> AMQPOutgoingMessage {
        var headers: AMQPTable
        if compact {
            headers = hlsifyHeaders(errorLength: Self.compactErrorLength)
            let dropped = (delivery.properties.headers?.keys ?? []).filter { headers[$0] == nil }.count
            if dropped > 0 { headers["x-hlsify-headers-dropped"] = .int(Int64(dropped)) }
        } else {
            headers = delivery.properties.headers ?? AMQPTable()
            for (key, value) in hlsifyHeaders(errorLength: Self.errorLength).entries { headers[key] = value }
        }
        var properties = delivery.properties
        properties.headers = headers
        properties.deliveryMode = 2
        properties.expiration = nil
        return AMQPOutgoingMessage(exchange: exchange, routingKey: delivery.routingKey, properties: properties, body: delivery.body)
    }
}
