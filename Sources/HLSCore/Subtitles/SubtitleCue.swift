/// One timed subtitle cue.
///
/// Times are integer milliseconds on the media timeline. `text` is WebVTT cue payload:
/// lines separated by `"\n"`, with `&`, `<` and `>` escaped as entities except for the
/// `<i> <b> <u>` tags it keeps. `settings` is a WebVTT cue-settings list such as `"line:0"`.
public struct SubtitleCue: Sendable, Equatable, Hashable {
    /// Start time in milliseconds.
    public var start: Int
    /// End time in milliseconds.
    public var end: Int
    /// WebVTT cue payload (escaped text and kept tags, `"\n"` between lines).
    public var text: String
    /// WebVTT cue settings written after the timing (`"line:0"`), or nil for none.
    public var settings: String?

    public init(start: Int, end: Int, text: String, settings: String? = nil) {
        self.start = start
        self.end = end
        self.text = text
        self.settings = settings
    }
}

/// Something in the input that was skipped or repaired, not fatal.
public struct SubtitleWarning: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// 1-based line number in the input the warning is about, nil when it concerns no single line.
    public var line: Int?
    /// What was wrong and what was done about it.
    public var message: String

    public init(line: Int?, message: String) {
        self.line = line
        self.message = message
    }

    /// `"line 12: message"`, or just the message when there is no line.
    public var description: String {
        if let line { return "line \(line): \(message)" }
        return message
    }
}
