import Foundation

/// Runs a handler on SIGINT or SIGTERM instead of dying: cancels a transcode (so the engine
/// stops and removes its staging folder) or stops the preview server.
final class SignalCanceller {
    private var sources: [DispatchSourceSignal] = []

    init(handler: @escaping @Sendable () -> Void) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
    }

    convenience init<T>(task: Task<T, Error>) {
        self.init { task.cancel() }
    }

    func stop() {
        for source in sources { source.cancel() }
        sources.removeAll()
    }
}
