// Chapter titles: one tidy line of plain text.

enum ChapterTitle {
    /// `raw` with every run of white space (spaces, tabs, line ends, line separators) made one
    /// space, the other control characters removed, and white space trimmed from both ends.
    /// No-break spaces (U+00A0, U+2007, U+202F) inside the title are kept as they are. Linear in
    /// the length.
    static func normalized(_ raw: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(raw.utf8.count)
        var pendingSpace = false
        for scalar in raw.unicodeScalars {
            if isCollapsibleSpace(scalar) {
                pendingSpace = !out.isEmpty
            } else if scalar.properties.generalCategory == .control {
                continue
            } else {
                if pendingSpace { out.unicodeScalars.append(" ") }
                pendingSpace = false
                out.unicodeScalars.append(scalar)
            }
        }
        // Only no-break spaces can still be at the ends.
        var start = out.startIndex, end = out.endIndex
        while start < end, out[start].isWhitespace { start = out.index(after: start) }
        while end > start, out[out.index(before: end)].isWhitespace { end = out.index(before: end) }
        return start == out.startIndex && end == out.endIndex ? out : String(out[start..<end])
    }

    /// The normalized title.
    /// - Throws: `ChapterError` naming `label` ("chapter 3", "cue 3") when the title is empty
    ///   after normalizing or longer than `Chapter.maximumTitleLength` Characters.
    static func checked(_ raw: String, label: String, file name: String) throws(ChapterError) -> String {
        let title = normalized(raw)
        guard !title.isEmpty else { throw ChapterError(file: name, "\(label) has an empty title") }
        let length = title.count
        guard length <= Chapter.maximumTitleLength else {
            throw ChapterError(file: name, "\(label) has a title of \(length) characters, more than "
                + "\(Chapter.maximumTitleLength): \(ChapterText.quoted(title))")
        }
        return title
    }

    private static func isCollapsibleSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0xA0, 0x2007, 0x202F: return false
        default: return scalar.properties.isWhitespace
        }
    }
}
