/// What an orchestrator asks a process: is it alive, and should it get work.
public protocol HealthProbe: Sendable {
    /// nil while the process's loops turn; else why not (`/healthz` answers 503 with it).
    func livenessProblem() -> String?
    /// nil while the process can take work; else why not (`/readyz` answers 503 with it).
    func readinessProblem() -> String?
}
