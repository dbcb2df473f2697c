import Foundation

/// A chapters file read and parsed up front (`TranscodeOptions.chapters`), checked against the
/// source's duration once it is opened, and written beside the master at the end: `chapters.vtt`
/// (a WebVTT chapters track) and `chapters.json` (Apple's `com.apple.hls.chapters` session data,
/// which the master names with EXT-X-SESSION-DATA).
struct LoadedChapters {
    let path: String
    let chapters: [Chapter]

    static let vttName = "chapters.vtt"
    static let jsonName = "chapters.json"

    /// The master's EXT-X-SESSION-DATA entry for the JSON file.
    static let sessionData = SessionData(dataID: SessionData.chaptersDataID, uri: jsonName)

    /// Reads (at most `ChapterFile.maximumBytes`) and parses `path`; nil without a path.
    /// - Throws: `TranscodeError.inputMissing` for a missing or unopenable file, `.invalidInput`
    ///   for one that is not a chapters file (one line naming the file and the chapter), `.io`.
    static func load(_ path: String?) throws -> LoadedChapters? {
        guard let path else { return nil }
        let bytes = try SubtitleFile.read(path, maxBytes: ChapterFile.maximumBytes, kind: "chapters")
        do {
            return LoadedChapters(path: path, chapters: try ChapterFile.parse(Array(bytes), name: path))
        } catch {
            throw TranscodeError.invalidInput(error.description)
        }
    }

    /// Checks the chapters against a timeline of `durationSeconds`.
    /// - Throws: `TranscodeError.invalidInput` with the `ChapterError`'s line.
    func resolved(durationSeconds: Double) throws -> ChapterList {
        do {
            return try ChapterList(chapters, durationSeconds: durationSeconds, name: path)
        } catch {
            throw TranscodeError.invalidInput(error.description)
        }
    }

    /// Writes `chapters.vtt` and `chapters.json` into `directory` for the output's timeline of
    /// `durationSeconds` (a little shorter than the container's: chapters starting after its end
    /// are left out, with a warning). Titles are tagged with `language`.
    /// - Throws: `TranscodeError.invalidInput` when no chapter is left, `.io` when writing fails.
    func write(into directory: URL, durationSeconds: Double, language: String) throws -> (list: ChapterList, warnings: [String]) {
        // Ends past the output's end (the container may say a little more) stop at it.
        let endMilliseconds = (durationSeconds * 1000).rounded()
        let kept = chapters.filter { ($0.start * 1000).rounded() < endMilliseconds }
            .map { Chapter(start: $0.start, end: $0.end.map { min($0, durationSeconds) }, title: $0.title) }
        var warnings: [String] = []
        if kept.count < chapters.count {
            warnings.append("\(path): \(chapters.count - kept.count) chapter(s) start after the output's end (\(WebVTTTimestamp.format(Int(durationSeconds * 1000)))) and are left out")
        }
        let list = try LoadedChapters(path: path, chapters: kept).resolved(durationSeconds: durationSeconds)
        do {
            try FileSink.writeDurably(Data(list.webVTT().utf8), to: directory.appendingPathComponent(Self.vttName).path)
            try FileSink.writeDurably(Data(list.appleJSON(language: language).utf8), to: directory.appendingPathComponent(Self.jsonName).path)
        } catch {
            throw TranscodeError.io("\(directory.path): cannot write the chapters: \(error)")
        }
        return (list, warnings)
    }
}
