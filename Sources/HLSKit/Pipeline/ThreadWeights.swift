import CPosix
import Foundation

/// The engine's thread weights (`CoreShares`' nice increments) on the threads that registered,
/// on or off all together: off, every thread runs at the priority it started with; on, each
/// at that plus its increment.
///
/// `.adaptive` turns them on only while the machine is otherwise quiet (`AdaptiveWeighting`):
/// from the machine's and the process's CPU time since this object was made (opening and
/// probing the source), then once a second on a watch thread. Turning them off raises the
/// threads' priority back, which Linux allows with CAP_SYS_NICE (root, unless a container drops
/// it) or a large enough RLIMIT_NICE only; without that, they go on only once (when the machine
/// is quiet) and stay on. Cost: two small /proc reads a second.
///
/// `end()` must come before a registered thread ends: the kernel may give its id to another.
final class ThreadWeights: @unchecked Sendable {  // state under `lock`; `stop` signals the watch
    enum Mode: String {
        case never, always, adaptive
    }

    private(set) var mode: Mode
    private let lock = NSLockLite()
    private var threads: [(id: Int32, base: Int32, increment: Int)] = []
    private var weighted = false
    private var policy = AdaptiveWeighting()
    /// The process may raise its threads' priority back (checked when the first one registers).
    private var restorable = true
    private let started: CPUReading?
    private var watch: WorkerThread?
    private let stop = DispatchSemaphore(value: 0)
    private var stopping = false
    /// How long the weights were on and off, and how often they changed.
    private var weightedSeconds = 0.0
    private var unweightedSeconds = 0.0
    private var lastChange: Double?
    private var changes = 0

    /// Seconds between readings of the machine's CPU time.
    static let interval = 1.0

    init(mode: Mode) {
        self.mode = mode
        started = mode == .adaptive ? Self.read() : nil
    }

    /// Registers the calling thread with its nice `increment`: it takes the weights' current
    /// state now, and every change from here on. Threads must stay alive until `end()`.
    func registerCurrentThread(increment: Int) {
        let id = hlsify_thread_id()
        var base: Int32 = 0
        guard hlsify_thread_nice(id, &base) == 0 else { return }
        lock.withLock {
            guard mode != .never else { return }
            if threads.isEmpty { restorable = hlsify_may_lower_nice_to(base) != 0 }
            threads.append((id, base, increment))
            if weighted { set(threads[threads.count - 1], on: true) }
        }
    }

    /// Decides the first state (`.always`: on; `.adaptive`: by the load since `init`, on once
    /// the machine is quiet) and, adaptive, starts the watch. `planned`: some thread has an
    /// increment (else nothing is done, and the mode reads `.never`).
    func begin(planned: Bool) {
        if !planned { lock.withLock { mode = .never } }
        switch lock.withLock({ mode }) {
        case .never:
            return
        case .always:
            change(to: true)
        case .adaptive:
            if let started, let now = Self.read(), let others = now.othersCores(since: started) {
                change(to: lock.withLock { policy.update(othersCores: others) })
            }
            lock.withLock { lastChange = Self.monotonic() }
            // Weak: a transcode that fails before `end()` still lets this go (deinit stops the watch).
            let stop = self.stop
            let watch = WorkerThread(name: "hlsify-load", stackSize: 256 << 10) { [weak self] in
                var previous = Self.read()
                while stop.wait(timeout: .now() + Self.interval) == .timedOut {
                    guard let self else { return }
                    previous = self.tick(after: previous)
                }
            }
            self.watch = watch
            watch.start()
        }
    }

    deinit { stop.signal() }

    /// Stops the watch; the threads keep their state (they end with the transcode).
    func end() {
        lock.withLock { stopping = true }
        stop.signal()
        watch?.join()
        watch = nil
        lock.withLock { account(until: Self.monotonic()) }
    }

    /// What the report tells: the mode, and for how long the weights were on.
    var summary: TranscodeReport.ThreadWeights {
        lock.withLock {
            TranscodeReport.ThreadWeights(mode: mode.rawValue, weightedSeconds: (weightedSeconds * 10).rounded() / 10,
                                          unweightedSeconds: (unweightedSeconds * 10).rounded() / 10, changes: changes)
        }
    }

    /// One reading of the watch: the weights follow the load since `previous`. Returns the reading.
    private func tick(after previous: CPUReading?) -> CPUReading? {
        guard let now = Self.read() else { return previous }
        guard let previous, let others = now.othersCores(since: previous) else { return now }
        let wanted = lock.withLock { stopping ? weighted : policy.update(othersCores: others) }
        change(to: wanted)
        return now
    }

    private func change(to on: Bool) {
        lock.withLock {
            guard on != weighted, on || restorable else { return }
            if lastChange != nil { changes += 1 }  // not the first decision
            account(until: Self.monotonic())
            weighted = on
            for thread in threads { set(thread, on: on) }
        }
    }

    /// Adds the time since the last change to the state that ran (under `lock`).
    private func account(until now: Double) {
        guard let last = lastChange else { lastChange = now; return }
        if weighted { weightedSeconds += now - last } else { unweightedSeconds += now - last }
        lastChange = now
    }

    /// Under `lock`. A refusal to raise a priority back (unprivileged) leaves the weights on for good.
    private func set(_ thread: (id: Int32, base: Int32, increment: Int), on: Bool) {
        let target = on ? min(19, thread.base + Int32(thread.increment)) : thread.base
        if hlsify_set_thread_nice(thread.id, target) != 0, !on { restorable = false }
    }

    private static func monotonic() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    }

    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// The machine's and this process's CPU time now; nil where /proc cannot be read.
    private static func read() -> CPUReading? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let own = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let busy = CPUReading.machineBusySeconds(procStat: stat, ticksPerSecond: ticksPerSecond),
              let process = CPUReading.processSeconds(stat: own, ticksPerSecond: ticksPerSecond) else { return nil }
        return CPUReading(machineBusy: busy, process: process, time: monotonic())
    }
}
