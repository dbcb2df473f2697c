/// The rule that drops a rung its lower neighbour makes redundant, decided on measured bytes after
/// encoding: when the next lower rung kept came out at 90% or more of a rung's bytes (a still slide
/// deck at capped CRF), the higher rung costs a student about as much and so buys nothing over
/// the lower one in delivery.
public enum RedundantRungs {
    /// A rung is redundant when the next lower kept rung has at least this share of its bytes.
    public static let closeness = 0.9

    /// A video rendition as measured: its name and total bytes (init section and segments).
    public struct Measured: Sendable, Equatable {
        public var name: String
        public var bytes: Int

        public init(name: String, bytes: Int) {
            self.name = name
            self.bytes = bytes
        }
    }

    /// Video renditions a set keeps whatever their bytes (Apple's HLS authoring spec 9.9:
    /// multiple bit rates of video), when it has that many.
    public static let minimumKept = 2

    /// A rung found redundant: which lower rung made it so, both sizes in bytes, and whether it
    /// must stay so that the set keeps `minimumKept` video renditions.
    public struct Finding: Sendable, Equatable {
        public var name: String
        public var bytes: Int
        public var lower: String
        public var lowerBytes: Int
        public var neededForMinimum: Bool

        public init(name: String, bytes: Int, lower: String, lowerBytes: Int, neededForMinimum: Bool = false) {
            self.name = name
            self.bytes = bytes
            self.lower = lower
            self.lowerBytes = lowerBytes
            self.neededForMinimum = neededForMinimum
        }
    }

    /// The redundant rungs of a ladder given largest first, smallest last. Walks up from the
    /// smallest rung (never redundant), comparing each rung with the nearest lower rung not found
    /// redundant itself. When dropping every finding would leave fewer than `minimumKept`
    /// renditions, the largest findings are marked `neededForMinimum` (the highest picture stays).
    /// Costs O(n).
    public static func find(_ renditions: [Measured]) -> [Finding] {
        var findings: [Finding] = []
        var lower: Measured?
        for rendition in renditions.reversed() {
            if let kept = lower, rendition.bytes > 0, Double(kept.bytes) >= closeness * Double(rendition.bytes) {
                findings.append(Finding(name: rendition.name, bytes: rendition.bytes, lower: kept.name, lowerBytes: kept.bytes))
            } else {
                lower = rendition
            }
        }
        var largestFirst = Array(findings.reversed())
        var kept = renditions.count - largestFirst.count
        for index in largestFirst.indices where kept < min(minimumKept, renditions.count) {
            largestFirst[index].neededForMinimum = true
            kept += 1
        }
        return largestFirst
    }
}

/// A rung found redundant, as reports and events carry it: dropped, or kept and why.
public struct RedundantRungOutcome: Codable, Sendable, Equatable {
    public var name: String
    public var bytes: Int
    /// The lower rung that came out within 10% of its bytes.
    public var lowerRung: String
    public var lowerBytes: Int
    public var dropped: Bool
    /// Why it was kept; absent when dropped.
    public var keptBecause: String?

    public init(name: String, bytes: Int, lowerRung: String, lowerBytes: Int, dropped: Bool, keptBecause: String?) {
        self.name = name
        self.bytes = bytes
        self.lowerRung = lowerRung
        self.lowerBytes = lowerBytes
        self.dropped = dropped
        self.keptBecause = keptBecause
    }
}
