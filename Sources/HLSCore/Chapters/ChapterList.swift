/// Chapters checked against the media they describe, every end resolved: what the WebVTT and
/// Apple JSON writers take.
///
/// Times are rounded to the millisecond (the precision both outputs carry) before they are
/// checked, titles normalized as `ChapterFile` does (trimmed, white space runs made one space,
/// control characters removed).
public struct ChapterList: Sendable, Equatable {
    /// In order of start, each with its `end` set; gaps between chapters are kept.
    public private(set) var chapters: [Chapter]

    /// The longest media duration accepted: 10^9 seconds (about 31 years).
    public static let maximumDurationSeconds = 1e9
    /// How far past the end of the media an explicit end may be; such an end becomes the duration.
    public static let endTolerance = 0.5

    /// Checks `chapters` against a media of `durationSeconds` and resolves every end: a missing end
    /// becomes the next chapter's start, the last chapter's the duration; an end at most
    /// `endTolerance` past the duration becomes the duration.
    ///
    /// - Parameter name: how error messages name the chapters' file (e.g. "chapters.json").
    /// - Throws: `ChapterError` when the list is empty or longer than `ChapterFile.maximumChapters`;
    ///   the duration is not more than 0 or above `maximumDurationSeconds`; a title is empty or
    ///   too long; a start is negative, not finite, at or after the end of the media, or not after
    ///   the previous chapter's start; an explicit end is not finite, not after its start, after the
    ///   next chapter's start (overlap) or more than `endTolerance` past the end of the media.
    /// - Complexity: linear in the number of chapters.
    public init(_ chapters: [Chapter], durationSeconds: Double, name: String) throws(ChapterError) {
        guard !chapters.isEmpty else { throw ChapterError(file: name, "no chapters") }
        guard chapters.count <= ChapterFile.maximumChapters else { throw ChapterFile.tooManyChapters(file: name) }
        guard durationSeconds > 0 else {
            throw ChapterError(file: name, "the media duration (\(durationSeconds) s) is not more than 0")
        }
        guard durationSeconds <= Self.maximumDurationSeconds else {
            throw ChapterError(file: name, "the media duration (\(durationSeconds) s) is more than "
                + "\(Int(Self.maximumDurationSeconds)) s")
        }
        let duration = Self.milliseconds(durationSeconds)
        guard duration > 0 else {
            throw ChapterError(file: name, "the media duration (\(durationSeconds) s) is shorter than 1 ms")
        }
        let durationText = WebVTTTimestamp.format(duration)

        var titles: [String] = []
        var starts: [Int] = []
        titles.reserveCapacity(chapters.count)
        starts.reserveCapacity(chapters.count)
        func label(_ index: Int) -> String { "chapter \(index + 1) (\(ChapterText.quoted(titles[index])))" }
        func time(_ milliseconds: Int) -> String { WebVTTTimestamp.format(milliseconds) }

        for (index, chapter) in chapters.enumerated() {
            titles.append(try ChapterTitle.checked(chapter.title, label: "chapter \(index + 1)", file: name))
            let startText = ChapterText.time(chapter.start)
            guard chapter.start.isFinite else {
                throw ChapterError(file: name, "\(label(index)) starts at \(startText), not a finite time")
            }
            guard chapter.start >= 0 else {
                throw ChapterError(file: name, "\(label(index)) starts at \(startText), before the start of the media")
            }
            guard chapter.start < durationSeconds, Self.milliseconds(chapter.start) < duration else {
                throw ChapterError(file: name, "\(label(index)) starts at \(startText), at or after the end of the "
                    + "media (\(durationText))")
            }
            let start = Self.milliseconds(chapter.start)
            if let previous = starts.last, start <= previous {
                throw ChapterError(file: name, "\(label(index)) starts at \(time(start)), not after "
                    + "\(label(index - 1)) (\(time(previous)))")
            }
            starts.append(start)
        }

        var resolved: [Chapter] = []
        resolved.reserveCapacity(chapters.count)
        for (index, chapter) in chapters.enumerated() {
            let start = starts[index]
            let next = index + 1 < starts.count ? starts[index + 1] : nil
            var end = next ?? duration
            if let given = chapter.end {
                let endText = ChapterText.time(given)
                guard given.isFinite else {
                    throw ChapterError(file: name, "\(label(index)) ends at \(endText), not a finite time")
                }
                // Beyond twice the longest duration is too late whatever it rounds to; negative is too early.
                let givenMilliseconds = given > 2 * Self.maximumDurationSeconds ? Int.max
                    : given < 0 ? -1 : Self.milliseconds(given)
                guard givenMilliseconds > start else {
                    throw ChapterError(file: name, "\(label(index)) ends at \(endText), not after its start "
                        + "(\(time(start)))")
                }
                if let next, givenMilliseconds > next {
                    throw ChapterError(file: name, "\(label(index)) ends at \(endText), after \(label(index + 1)) "
                        + "starts (\(time(next)))")
                }
                let tolerance = Self.milliseconds(Self.endTolerance)
                guard givenMilliseconds <= duration + tolerance else {
                    throw ChapterError(file: name, "\(label(index)) ends at \(endText), more than "
                        + "\(Self.endTolerance) s after the end of the media (\(durationText))")
                }
                end = min(givenMilliseconds, duration)
            }
            resolved.append(Chapter(start: Double(start) / 1000, end: Double(end) / 1000, title: titles[index]))
        }
        self.chapters = resolved
    }

    /// Seconds rounded to whole milliseconds; for finite values of at most about 10^12 seconds.
    static func milliseconds(_ seconds: Double) -> Int {
        Int((seconds * 1000).rounded())
    }
}
