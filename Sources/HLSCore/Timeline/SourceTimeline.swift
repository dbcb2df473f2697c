/// Where a source's video timestamps had holes or jumped back, as the report tells it.
///
/// A hole (the next frame more than two frame durations after the last: a recorder paused, a
/// phone dropped frames) is presented as the picture before it, for as long as it lasts, or cut
/// out of the timeline when asked (`collapsed`). A jump
/// back (two recordings joined, a timestamp reset) is closed up: the frames after it follow the
/// last one. Times are seconds on the output timeline from its start (where the player's clock
/// reads them). At most `maxListed` of each are listed; the counts and the filled total cover all.
public struct SourceTimeline: Codable, Sendable, Equatable {
    /// A place on the output's clock and a length in seconds.
    public struct Mark: Codable, Sendable, Equatable {
        public var at: Double
        public var seconds: Double

        public init(at: Double, seconds: Double) {
            self.at = at
            self.seconds = seconds
        }
    }

    /// A hole: `at`, where the held picture starts being held; `seconds`, how long it is held
    /// past its own duration.
    public typealias Gap = Mark
    /// A jump back: `at`, where the source's clock jumped; `seconds`, how far (negative).
    public typealias Jump = Mark

    /// Most gaps and jumps listed.
    public static let maxListed = 100

    public var gaps: [Gap] = []
    public var gapCount = 0
    /// Seconds of the output that show a held picture, over every gap.
    public var filledSeconds: Double = 0
    public var backwardJumps: [Jump] = []
    public var backwardJumpCount = 0
    /// Whether holes were cut out of the timeline (`--collapse-gaps`) instead of filled: then each
    /// gap's `at` is where the cut is on the output's clock and `seconds` how much was removed;
    /// nil when not asked.
    public var collapsed: Bool?
    /// Seconds removed over every gap, when collapsed.
    public var removedSeconds: Double?

    public init() {}

    /// Nothing to tell: no gap and no jump.
    public var isEmpty: Bool { gapCount == 0 && backwardJumpCount == 0 }

    public mutating func recordGap(atSeconds at: Double, seconds: Double) {
        gapCount += 1
        filledSeconds = Self.milliseconds(filledSeconds + seconds)
        if gaps.count < Self.maxListed { gaps.append(Gap(at: Self.milliseconds(at), seconds: Self.milliseconds(seconds))) }
    }

    /// A hole cut out of the timeline: at `at` on the output's clock, `seconds` long.
    public mutating func recordRemoved(atSeconds at: Double, seconds: Double) {
        gapCount += 1
        removedSeconds = Self.milliseconds((removedSeconds ?? 0) + seconds)
        if gaps.count < Self.maxListed { gaps.append(Gap(at: Self.milliseconds(at), seconds: Self.milliseconds(seconds))) }
    }

    public mutating func recordJump(atSeconds at: Double, seconds: Double) {
        backwardJumpCount += 1
        if backwardJumps.count < Self.maxListed {
            backwardJumps.append(Jump(at: Self.milliseconds(at), seconds: Self.milliseconds(seconds)))
        }
    }

    /// Rounded to the millisecond, for a report that reads well.
    private static func milliseconds(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
