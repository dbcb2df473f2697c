/// One committed file of a transcode in progress: a line of the staging folder's append-only
/// journal, written after the file is flushed and renamed into place. A rendition's init section
/// is entry `index` -1.
public struct JournalEntry: Codable, Sendable, Equatable {
    /// The rendition's folder: `720p`, `audio`.
    public var rendition: String
    /// Segment index; `JournalEntry.initIndex` for the init section.
    public var index: Int
    /// File name in the rendition's folder.
    public var file: String
    public var bytes: Int
    /// Lowercase hex SHA-256 of the file.
    public var sha256: String
    /// First packet's presentation timestamp in the stream's time base (0 for an init section).
    public var firstPTS: Int64
    /// Packets (frames) in the segment.
    public var frames: Int
    /// Start and duration on the presentation timeline, seconds (the playlist's values).
    public var start: Double
    public var duration: Double

    public static let initIndex = -1

    public init(rendition: String, index: Int, file: String, bytes: Int, sha256: String, firstPTS: Int64,
                frames: Int, start: Double, duration: Double) {
        self.rendition = rendition
        self.index = index
        self.file = file
        self.bytes = bytes
        self.sha256 = sha256
        self.firstPTS = firstPTS
        self.frames = frames
        self.start = start
        self.duration = duration
    }

    private enum CodingKeys: String, CodingKey {
        case rendition = "r", index = "i", file = "f", bytes = "b", sha256 = "sha256", firstPTS = "pts",
             frames = "n", start = "t", duration = "d"
    }

    /// The segment's playlist values.
    public var record: SegmentRecord {
        SegmentRecord(index: index, uri: file, duration: duration, byteSize: bytes, startTime: start)
    }
}

/// The journal's text: one JSON object a line, each followed by a space and the FNV-1a 64 of the
/// JSON, so a torn or damaged line is known for what it is.
public enum ResumeJournal {
    /// The line (with its newline) for `entry`.
    public static func line(_ json: String) -> String { "\(json) \(FNV1a.hex64(json))\n" }

    /// The entries of `text` up to the first line that is not whole and intact (a torn tail, or
    /// damage: nothing after it is trusted), and whether such a line was met.
    public static func parse(_ text: String, decode: (String) -> JournalEntry?) -> (entries: [JournalEntry], damaged: Bool) {
        var entries: [JournalEntry] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // The text after the last newline is a line only if it is empty (a complete journal ends with one).
        let tail = lines.removeLast()
        for line in lines {
            guard let space = line.lastIndex(of: " ") else { return (entries, true) }
            let json = String(line[..<space])
            guard FNV1a.hex64(json) == line[line.index(after: space)...], let entry = decode(json) else {
                return (entries, true)
            }
            entries.append(entry)
        }
        return (entries, !tail.isEmpty)
    }
}
