import CPosix
import Foundation

/// Runs a pass of the pipeline on a thread of its own (libav calls block: they stay off Swift's
/// cooperative pool); cancelling the calling task raises `cancel`, which the pass polls.
enum DecodeThread {
    /// The value `body` returns or the error it throws, once the thread is done.
    /// - Throws: `TranscodeError.cancelled` when the task was cancelled, whatever `body` returned.
    static func run<T>(cancel: InterruptFlag, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let value = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                let thread = Thread {
                    hlsify_set_thread_name("hlsify-decode")
                    do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
                }
                thread.name = "hlsify-decode"
                thread.stackSize = 8 << 20
                thread.start()
            }
        } onCancel: {
            cancel.raise()
        }
        if cancel.isRaised { throw TranscodeError.cancelled }
        return value
    }
}
