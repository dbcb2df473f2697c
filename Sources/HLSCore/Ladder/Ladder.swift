/// A bitrate ladder: rungs from the largest to the smallest, written as the comma-separated
/// text `Rung.parseLadder` reads ("1080p,720p@2800k,480p"), or `auto`.
public struct Ladder: Hashable, Sendable, CustomStringConvertible {
    /// Largest first, no two of the same size. Setting them makes the ladder an explicit one.
    public var rungs: [Rung] {
        didSet { isAuto = false }
    }
    /// `auto`: `Ladder.autoRungs` where the source allows, and at least `autoMinimumVariants`
    /// video bit rates for any source with a picture (`LadderPlanner`).
    public private(set) var isAuto: Bool

    /// The rungs as given (`Rung.parseLadder` sorts and checks them; this does not).
    public init(_ rungs: [Rung]) {
        self.rungs = rungs
        self.isAuto = false
    }

    /// The default ladder plus 360p and 240p, so a student on 0.5–1 Mb/s still gets video.
    public static let autoRungs = [1080, 720, 480, 360, 240].map { Rung(shortSide: $0) }
    /// Video bit rates an `auto` ladder gives any source with a picture (Apple's HLS authoring
    /// spec 9.9: multiple bit rates of video).
    public static let autoMinimumVariants = 2

    /// `auto`: see `isAuto`.
    public static var auto: Ladder { Ladder(autoRungs, isAuto: true) }

    private init(_ rungs: [Rung], isAuto: Bool) {
        self.rungs = rungs
        self.isAuto = isAuto
    }

    /// Parses "auto" or "1080p, 720p@2500k, 480p" with `Rung.parseLadder`.
    /// - Throws: `LadderError` saying what is wrong and what to write instead.
    public init(parsing text: String) throws(LadderError) {
        if text.trimmingWhitespace().lowercased() == "auto" {
            self = .auto
        } else if text.split(separator: ",").contains(where: { $0.trimmingWhitespace().lowercased() == "auto" }) {
            throw LadderError("invalid ladder \"\(text)\": auto stands alone; write auto or a list of rungs such as 1080p,720p,480p")
        } else {
            self.init(try Rung.parseLadder(text))
        }
    }

    /// "1080p,720p@2800k,480p" or "auto": the text `init(parsing:)` reads back.
    public var description: String { isAuto ? "auto" : rungs.map(\.description).joined(separator: ",") }
}
