/// CPU time read at one moment: what the whole machine has spent busy over every core
/// (`/proc/stat`) and what this process has spent (`/proc/self/stat`), in seconds, and when
/// (monotonic seconds). Two readings tell how many cores other processes kept busy between them.
public struct CPUReading: Sendable, Equatable {
    public var machineBusy: Double
    public var process: Double
    public var time: Double

    public init(machineBusy: Double, process: Double, time: Double) {
        self.machineBusy = machineBusy
        self.process = process
        self.time = time
    }

    /// Cores other processes kept busy from `earlier` to this reading (never negative); nil when
    /// less than `minimumWindow` seconds passed (too few clock ticks to tell).
    public func othersCores(since earlier: CPUReading, minimumWindow: Double = 0.2) -> Double? {
        let window = time - earlier.time
        guard window >= minimumWindow else { return nil }
        return max(0, (machineBusy - earlier.machineBusy) - (process - earlier.process)) / window
    }

    /// Busy seconds of the machine in `/proc/stat`'s first line: user, nice, system, irq, softirq
    /// and steal ticks (not idle or iowait; guest time is counted in user already).
    public static func machineBusySeconds(procStat: String, ticksPerSecond: Double) -> Double? {
        guard let line = procStat.split(separator: "\n", maxSplits: 1).first, line.hasPrefix("cpu ") else { return nil }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8, ticksPerSecond > 0 else { return nil }
        return (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]) / ticksPerSecond
    }

    /// User and system seconds of a `/proc/PID/stat` text (fields 14 and 15; the name in
    /// parentheses may hold spaces, so fields are counted after its last ')').
    public static func processSeconds(stat: String, ticksPerSecond: Double) -> Double? {
        guard let close = stat.lastIndex(of: ")"), ticksPerSecond > 0 else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / ticksPerSecond
    }
}

/// Whether the engine's thread weights are on, from how busy other processes keep the machine.
///
/// The weights (`CoreShares`) lower the lighter threads' priority so the critical path keeps a
/// core; against another busy process they would lose too, so the transcode as a whole would get
/// less than that process. So they are on only while the machine is otherwise quiet: on once
/// others use less than `quietBelow` cores, off again once they use `busyFrom` or more (the gap
/// keeps a noisy reading from flipping them).
public struct AdaptiveWeighting: Sendable, Equatable {
    /// Cores other processes may keep busy for the weights to go on.
    public static let quietBelow = 0.25
    /// Cores other processes keep busy for the weights to go off.
    public static let busyFrom = 0.5

    public private(set) var weighted = false

    public init() {}

    /// The state after a reading where other processes kept `cores` busy.
    @discardableResult
    public mutating func update(othersCores cores: Double) -> Bool {
        if weighted, cores >= Self.busyFrom { weighted = false }
        if !weighted, cores < Self.quietBelow { weighted = true }
        return weighted
    }
}
