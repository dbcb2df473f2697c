/// Where a resumed transcode starts, from the journal's entries: each rendition keeps the
/// segments it committed without a hole from the first; every video rendition restarts at the
/// smallest such count among them (the renditions that were ahead keep their later segments and
/// encode through them as pre-roll); audio is encoded again from the start and checked against
/// what it committed.
public struct ResumePoint: Sendable, Equatable {
    /// First segment index the video encoders write again.
    public var fromSegment: Int
    /// Per rendition folder: the committed segments it keeps, in order.
    public var kept: [String: [JournalEntry]]
    /// Per rendition folder: its committed init section.
    public var initSections: [String: JournalEntry]

    /// - Parameters:
    ///   - entries: the journal's entries, in order (later duplicates of an index replace earlier ones).
    ///   - videos: the video renditions' folders.
    public init(entries: [JournalEntry], videos: [String]) {
        var byRendition: [String: [Int: JournalEntry]] = [:]
        var initSections: [String: JournalEntry] = [:]
        for entry in entries {
            if entry.index == JournalEntry.initIndex { initSections[entry.rendition] = entry } else {
                byRendition[entry.rendition, default: [:]][entry.index] = entry
            }
        }
        var kept: [String: [JournalEntry]] = [:]
        for (rendition, segments) in byRendition {
            var prefix: [JournalEntry] = []
            while let next = segments[prefix.count] { prefix.append(next) }
            kept[rendition] = prefix
        }
        self.kept = kept
        self.initSections = initSections
        fromSegment = videos.map { kept[$0]?.count ?? 0 }.min() ?? 0
    }

    /// Segments kept across every rendition (the storyboard's tiles, journaled beside them, are
    /// not segments).
    public var segmentsKept: Int { kept.filter { $0.key != StoryboardLayout.folder }.values.reduce(0) { $0 + $1.count } }
}
