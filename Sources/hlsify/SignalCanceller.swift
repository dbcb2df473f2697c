import Foundation

/// Cancels a task on SIGINT or SIGTERM, so the engine stops and removes its staging folder.
final class SignalCanceller {
    private var sources: [DispatchSourceSignal] = []

    init<T>(task: Task<T, Error>) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            sources.append(source)
        }
    }

    func stop() {
        for source in sources { source.cancel() }
        sources.removeAll()
    }
}
