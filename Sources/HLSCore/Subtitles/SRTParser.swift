/// Reads SubRip (`.srt`) subtitles as people really write them.
///
/// - Bytes: a byte order mark picks UTF-8/16/32; otherwise UTF-8, or Windows-1252 when the
///   bytes are not valid UTF-8 (with a warning). CRLF, LF and CR line ends.
/// - Structure: cue numbers may be missing or wrong (they are ignored); blank lines may be
///   missing between cues or repeated; a blank line inside a cue's text does not end it (text
///   runs to the next cue); trailing white space and a missing final newline are fine.
/// - Times: `H:MM:SS,mmm` with `,` `.` or `:` before the fraction, hours of any width (up to 9
///   digits) or none, the fraction read as decimals (`,5` is 500 ms), arrows `-->` or `->`.
/// - Broken cues: one that ends before it starts, or whose timing line cannot be read, is
///   skipped with a warning naming its line. Overlapping cues are kept. Cues stay in file order.
/// - Text becomes WebVTT payload: line breaks kept; `<i> <b> <u>` kept (balanced); `<br>` is a
///   line break; `<font>` and other tags dropped, their text kept; `{\an7}`–`{\an9}` set
///   `settings` to `line:0`, other `{\…}` codes are dropped; `&` `<` `>` escaped (so `-->` in
///   text reads `--&gt;`); blank lines removed.
///
/// Cost: linear in the input size.
public struct SRTParser: Sendable {
    public init() {}

    /// Decodes and parses SRT file bytes.
    /// - Throws: `SubtitleError.emptyInput` for an empty (or all white space) file,
    ///   `SubtitleError.noReadableCues` when no cue could be read.
    public func parse<Bytes: Sequence>(_ bytes: Bytes) throws(SubtitleError) -> SRTParseResult
    where Bytes.Element == UInt8 {
        let decoded = SubtitleTextDecoder.decode(Array(bytes))
        var result = try parse(text: decoded.text)
        result.encoding = decoded.encoding
        if decoded.encoding == .windows1252 {
            result.warnings.insert(
                SubtitleWarning(line: nil, message: "the file is not valid UTF-8; read it as Windows-1252"),
                at: 0)
        }
        return result
    }

    /// Parses SRT text that is already decoded (a leading U+FEFF is ignored).
    /// - Throws: as `parse(_:)`.
    public func parse(text: String) throws(SubtitleError) -> SRTParseResult {
        let body = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
        let lines = SubtitleLines.split(body).map(SubtitleLines.trimmingTrailingWhitespace)
        var reader = Reader(lines: lines)
        reader.run()
        guard !reader.cues.isEmpty else {
            if lines.allSatisfy(SubtitleLines.isBlank) { throw .emptyInput }
            throw .noReadableCues(warnings: reader.warnings)
        }
        return SRTParseResult(cues: reader.cues, warnings: reader.warnings)
    }
}

/// The line-by-line state machine behind `SRTParser`.
private struct Reader {
    let lines: [Substring]
    var cues: [SubtitleCue] = []
    var warnings: [SubtitleWarning] = []

    /// The cue whose text is being collected.
    private var pending: (times: SRTTiming.Times, text: [Substring])?
    /// True while collecting the text of a skipped cue (dropped silently).
    private var skipping = false
    /// The previous line was blank, or this is the first line.
    private var atCueStart = true
    /// The previous line was a cue number.
    private var afterNumber = false
    /// Text outside any cue was already reported.
    private var reportedStrayText = false

    init(lines: [Substring]) { self.lines = lines }

    mutating func run() {
        for (index, line) in lines.enumerated() {
            read(line, number: index + 1, next: index + 1 < lines.count ? lines[index + 1] : nil)
        }
        finishPending()
    }

    private mutating func read(_ line: Substring, number: Int, next: Substring?) {
        if SubtitleLines.isBlank(line) {
            atCueStart = true
            afterNumber = false
            return
        }
        // Inside a cue's text, only a full HH:MM:SS timing line starts a new cue: "10:00 --> 11:00
        // lecture" there is text (and `-->` in text must never break a cue).
        let insideText = pending != nil && !atCueStart && !afterNumber
        if let times = SRTTiming.parse(line), !insideText || SRTTiming.hasHours(line) {
            finishPending()
            if times.end < times.start {
                warn(number, "cue ends (\(WebVTTTimestamp.format(times.end))) before it starts "
                     + "(\(WebVTTTimestamp.format(times.start))); cue skipped")
                skipping = true
            } else {
                pending = (times, [])
                skipping = false
            }
        } else if SRTTiming.isCueNumber(line), let next, startsCue(next) {
            // A cue number: ignored, whatever its value.
            atCueStart = false
            afterNumber = true
            return
        } else if !insideText, SRTTiming.looksLikeBrokenTiming(line, atCueStart: atCueStart, afterNumber: afterNumber) {
            finishPending()
            skipping = true
            warn(number, "cannot read the cue times in \(SubtitleLines.excerpt(line)); cue skipped")
        } else if pending != nil {
            pending!.text.append(line)
        } else if !skipping && !reportedStrayText {
            reportedStrayText = true
            warn(number, "text outside any cue ignored: \(SubtitleLines.excerpt(line))")
        }
        atCueStart = false
        afterNumber = false
    }

    /// True when a cue number followed by this line is really a cue's first line.
    private func startsCue(_ next: Substring) -> Bool {
        SRTTiming.parse(next) != nil
            || SRTTiming.looksLikeBrokenTiming(next, atCueStart: false, afterNumber: true)
    }

    private mutating func finishPending() {
        guard let (times, text) = pending else { return }
        pending = nil
        let converted = SRTCueText.convert(text)
        cues.append(SubtitleCue(start: times.start, end: times.end,
                                text: converted.text, settings: converted.settings))
    }

    private mutating func warn(_ line: Int, _ message: String) {
        warnings.append(SubtitleWarning(line: line, message: message))
    }
}
