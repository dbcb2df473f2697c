/// A bitrate ladder: rungs from the largest to the smallest, written as the comma-separated
/// text `Rung.parseLadder` reads ("1080p,720p@2800k,480p").
public struct Ladder: Hashable, Sendable, CustomStringConvertible {
    /// Largest first, no two of the same size.
    public var rungs: [Rung]

    /// The rungs as given (`Rung.parseLadder` sorts and checks them; this does not).
    public init(_ rungs: [Rung]) {
        self.rungs = rungs
    }

    /// Parses "1080p, 720p@2500k, 480p" with `Rung.parseLadder`.
    /// - Throws: `LadderError` saying what is wrong and what to write instead.
    public init(parsing text: String) throws(LadderError) {
        self.rungs = try Rung.parseLadder(text)
    }

    /// "1080p,720p@2800k,480p": the text `init(parsing:)` reads back.
    public var description: String { rungs.map(\.description).joined(separator: ",") }
}
