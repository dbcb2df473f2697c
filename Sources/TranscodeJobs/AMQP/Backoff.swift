/// Capped exponential backoff with jitter, for reconnecting: initial, ×multiplier after each
/// failure, never above `maximum`, each delay spread by ±`jitter` so that many workers do not
/// reconnect in step after a broker restart. Pure.
public struct Backoff: Sendable, Equatable {
    public var initial: Double
    public var maximum: Double
    public var multiplier: Double
    /// 0…1: the fraction by which a delay may be shortened or lengthened at random.
    public var jitter: Double
    private var current: Double

    public init(initial: Double = 0.5, maximum: Double = 30, multiplier: Double = 2, jitter: Double = 0.2) {
        self.initial = max(0.001, initial)
        self.maximum = max(self.initial, maximum)
        self.multiplier = max(1, multiplier)
        self.jitter = min(max(0, jitter), 1)
        self.current = self.initial
    }

    /// The next delay in seconds (uses the given random fraction in 0…1 for the jitter).
    public mutating func next(random: Double = Double.random(in: 0...1)) -> Double {
        let base = current
        current = min(maximum, current * multiplier)
        let spread = base * jitter * (random * 2 - 1)
        return min(maximum, max(0, base + spread))
    }

    /// After a success: the next failure waits `initial` again.
    public mutating func reset() {
        current = initial
    }
}
