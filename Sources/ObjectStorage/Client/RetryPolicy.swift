import Foundation

/// When and how long to wait before trying a request again: after a 5xx answer or a connection
/// failure only, `retries` times, waiting `delay × 2^n` (±25 %, at most 20 s) in slices short
/// enough to notice a cancellation.
struct RetryPolicy {
    var retries: Int
    var delay: Double

    /// True for answers worth another try: server errors (5xx), throttling (429, SlowDown) and
    /// the 4xx codes S3 uses for a request that met a passing state (RequestTimeout,
    /// OperationAborted, ConditionalRequestConflict).
    static func isRetryable(status: Int, code: String? = nil) -> Bool {
        if (500...599).contains(status) || status == 429 { return true }
        return ["RequestTimeout", "OperationAborted", "ConditionalRequestConflict", "SlowDown"].contains(code ?? "")
    }

    /// Waits before retry `attempt` (1-based); false when cancelled while waiting.
    func wait(before attempt: Int, isCancelled: () -> Bool) -> Bool {
        let base = min(delay * pow(2, Double(attempt - 1)), 20)
        var left = base * Double.random(in: 0.75...1.25)
        while left > 0 {
            if isCancelled() { return false }
            let slice = min(left, 0.1)
            usleep(useconds_t(slice * 1_000_000))
            left -= slice
        }
        return !isCancelled()
    }
}
