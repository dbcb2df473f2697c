extension ChapterList {
    /// Apple's HLS JSON chapters (`SessionData.chaptersDataID`, named by the master
    /// playlist's EXT-X-SESSION-DATA): a JSON list with one object per chapter, in order,
    /// ```
    /// [
    ///   {"chapter": 1, "start-time": 0, "duration": 95.5, "titles": [{"language": "en", "title": "Welcome"}]},
    ///   …
    /// ]
    /// ```
    /// Times are seconds with at most three decimals. `language` goes through
    /// `LanguageTag.normalize` (an empty or malformed tag becomes `und`). The same text always
    /// comes out for the same list; `ChapterFile.parse` reads it back.
    ///
    /// Complexity: linear in the number of chapters and the length of the titles.
    public func appleJSON(language: String) -> String {
        let languageValue = ChapterText.jsonString(LanguageTag.normalize(language))
        var entries: [String] = []
        entries.reserveCapacity(chapters.count)
        for (index, chapter) in chapters.enumerated() {
            let start = Self.milliseconds(chapter.start)
            let end = Self.milliseconds(chapter.end ?? chapter.start)
            entries.append("  {\"chapter\": \(index + 1), "
                + "\"start-time\": \(ChapterText.seconds(milliseconds: start)), "
                + "\"duration\": \(ChapterText.seconds(milliseconds: end - start)), "
                + "\"titles\": [{\"language\": \(languageValue), \"title\": \(ChapterText.jsonString(chapter.title))}]}")
        }
        return "[\n" + entries.joined(separator: ",\n") + "\n]\n"
    }
}
