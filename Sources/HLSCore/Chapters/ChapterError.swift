/// Why a chapters file or a chapter list cannot be used.
///
/// `message` is one line that starts with the file name the caller gave, then says what is wrong
/// and where: `chapters.json: chapter 3 ("Questions") starts at 00:12:00.000, at or after the end
/// of the media (00:10:00.000)`. Text quoted from the input is cut to 60 Characters (ending in
/// "…") and has its control characters replaced by U+FFFD.
public struct ChapterError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String

    /// An error with exactly this message (no file name is added).
    public init(message: String) {
        self.message = message
    }

    /// "`name`: `detail`", the name made safe for one line.
    init(file name: String, _ detail: String) {
        self.message = ChapterText.oneLine(name) + ": " + detail
    }

    public var description: String { message }
}
