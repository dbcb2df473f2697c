/// Reads a chapters file: a WebVTT chapters track or a JSON list of chapters.
///
/// The format is told by the text itself: after an optional UTF-8 byte order mark and white
/// space, `WEBVTT` (then a space, tab, line end or the end of the file) starts a WebVTT file and
/// `[` a JSON list.
///
/// **WebVTT**: blocks are separated by blank lines; the header block and NOTE, STYLE and REGION
/// blocks are skipped. Each other block is one chapter: an optional identifier line, then
/// `start --> end` (strict WebVTT timestamps; cue settings after it are ignored), then the title,
/// its lines joined by a space, tags (`<b>`, `<v Name>`…) removed and `&amp;` `&lt;` `&gt;`
/// `&nbsp;` `&lrm;` `&rlm;` decoded (other references are left as they are). CRLF, LF and CR
/// line ends are accepted.
///
/// **JSON**: a list of objects such as `{"start": 0, "end": 95.5, "title": "Welcome"}`. Times
/// are seconds (a JSON number) or strings `HH:MM:SS.mmm`, `MM:SS.mmm`, `HH:MM:SS` or `MM:SS`
/// (the leading field may have one digit). `end` is optional. Apple's chapter JSON reads too:
/// `start-time` for `start`, `duration` for `end` minus `start`, and the first of
/// `"titles": [{"language": …, "title": …}]`. Other keys are ignored; `null` for `end` or
/// `duration` means no end.
///
/// Titles are trimmed, white space runs become one space and control characters are removed.
public enum ChapterFile {
    /// The largest file read: 1 MiB.
    public static let maximumBytes = 1 << 20
    /// The most chapters a file may hold.
    public static let maximumChapters = 1000

    /// The chapters of a WebVTT or JSON chapters file, in file order, with `end` only where the
    /// file gives one. Order and overlaps are not checked here (`ChapterList` does that), but
    /// every given end is after its start.
    ///
    /// - Parameter name: how error messages name the file (e.g. "chapters.json").
    /// - Throws: `ChapterError` when the file is larger than `maximumBytes`, not UTF-8, neither
    ///   format, malformed, has no chapter or more than `maximumChapters`, or a chapter has a bad
    ///   time, an end not after its start, or an empty or too long title. The message names the
    ///   chapter (JSON) or cue (WebVTT) by its 1-based number.
    /// - Complexity: linear in the size of the file.
    public static func parse(_ bytes: [UInt8], name: String) throws(ChapterError) -> [Chapter] {
        guard bytes.count <= maximumBytes else {
            throw ChapterError(file: name, "the file is \(bytes.count) bytes long, more than the "
                + "\(maximumBytes) bytes (1 MiB) a chapters file may have")
        }
        if let offset = firstInvalidUTF8(bytes) {
            throw ChapterError(file: name, "not UTF-8 text (invalid byte sequence at byte offset \(offset))")
        }
        var body = Substring(String(decoding: bytes, as: UTF8.self))
        if body.unicodeScalars.first == "\u{FEFF}" { body = Substring(body.unicodeScalars.dropFirst()) }
        let text = body.trimmingPrefix(while: \.isWhitespace)

        let chapters: [Chapter]
        if isWebVTTSignature(text) {
            chapters = try ChapterWebVTTReader.read(body, file: name)
        } else if text.first == "[" {
            chapters = try ChapterJSONReader.read(body, file: name)
        } else {
            var detail = "not a WebVTT chapters file or a JSON list of chapters"
            if text.isEmpty {
                detail += body.isEmpty ? " (the file is empty)" : " (the file holds only white space)"
            } else if text.first == "{" {
                detail += " (a JSON object; the chapters must be a list: [{\"start\": 0, \"title\": \"…\"}, …])"
            }
            throw ChapterError(file: name, detail)
        }
        guard !chapters.isEmpty else { throw ChapterError(file: name, "no chapters") }
        return chapters
    }

    /// The error for the chapter or cue after the `maximumChapters`th.
    static func tooManyChapters(file name: String) -> ChapterError {
        ChapterError(file: name, "more than \(maximumChapters) chapters")
    }

    /// `WEBVTT` followed by a space, tab, line end or nothing.
    private static func isWebVTTSignature(_ text: Substring) -> Bool {
        guard text.hasPrefix("WEBVTT") else { return false }
        guard let next = text.unicodeScalars.dropFirst(6).first else { return true }
        return next == " " || next == "\t" || next == "\n" || next == "\r"
    }

    /// The offset of the first byte that does not start a well-formed UTF-8 sequence, or nil.
    private static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
