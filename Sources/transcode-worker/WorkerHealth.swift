import OperatorHTTP
import TranscodeQueue

/// The worker's health as `/healthz` and `/readyz` report it.
struct WorkerHealth: HealthProbe {
    let worker: TranscodeWorker

    func livenessProblem() -> String? { worker.livenessProblem() }
    func readinessProblem() -> String? { worker.readinessProblem() }
}
