extension ChapterList {
    /// A WebVTT chapters track (`<track kind="chapters">`): `WEBVTT`, then one cue per chapter
    /// with its 1-based number as identifier, `HH:MM:SS.mmm --> HH:MM:SS.mmm` and the title on one
    /// line with `&`, `<` and `>` written as `&amp;`, `&lt;` and `&gt;`. LF line ends; gaps
    /// between chapters stay gaps. `ChapterFile.parse` reads it back to the same chapters.
    ///
    /// Complexity: linear in the number of chapters and the length of the titles.
    public func webVTT() -> String {
        var text = "WEBVTT\n"
        for (index, chapter) in chapters.enumerated() {
            let start = Self.milliseconds(chapter.start)
            let end = Self.milliseconds(chapter.end ?? chapter.start)
            text += "\n\(index + 1)\n\(WebVTTTimestamp.format(start)) --> \(WebVTTTimestamp.format(end))\n"
            text += ChapterText.webVTTEscaped(chapter.title) + "\n"
        }
        return text
    }
}
