/// One chapter: where it starts on the media timeline, where it ends (when known) and its title.
///
/// Times are seconds from the start of the media. `ChapterFile.parse` gives `end` only when the
/// file states it; `ChapterList` fills in every missing end.
public struct Chapter: Sendable, Equatable {
    /// Seconds from the start of the media.
    public var start: Double
    /// Seconds from the start of the media; nil until resolved (the next chapter's start, or the
    /// media duration for the last chapter).
    public var end: Double?
    /// The title shown to viewers: one line of plain text.
    public var title: String

    /// The longest title accepted, in Characters (grapheme clusters).
    public static let maximumTitleLength = 200

    public init(start: Double, end: Double? = nil, title: String) {
        self.start = start
        self.end = end
        self.title = title
    }
}
