/// A media playlist line the parser could not accept.
public struct PlaylistParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line number (0 when the problem is the playlist as a whole).
    public let line: Int
    public let message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}

/// A small reader of the playlists `MediaPlaylist.render()` writes, for tests and for resuming.
public enum PlaylistParser {
    /// Reads a media playlist. Segments get `index` = media sequence + position and `startTime`
    /// = the sum of the durations before them (starting at 0); `byteSize` is the EXT-X-BYTERANGE
    /// length, or 0 for a whole file since a playlist does not record it (stat the file). A byte
    /// range without an offset starts where the previous segment's range of the same URI ended.
    /// EXT-X-I-FRAMES-ONLY sets `iFramesOnly`. A target duration above what the segments need is
    /// kept as `targetDurationOverride`; a missing EXT-X-PLAYLIST-TYPE reads as `.vod`.
    /// Unknown tags and comments are skipped; CRLF line ends are accepted.
    /// Throws `PlaylistParseError` for a missing #EXTM3U or EXT-X-TARGETDURATION, a malformed
    /// value, an EXTINF without a URI (or the reverse), a segment after EXT-X-ENDLIST, a segment
    /// longer than the target duration allows, or a byte range without an offset whose segment
    /// does not follow a range of the same URI.
    public static func parseMedia(_ text: String) throws -> MediaPlaylist {
        var playlist = MediaPlaylist(segments: [], kind: .vod, isComplete: false, mediaSequence: 0,
                                     mapURI: nil, independentSegments: false)
        var declaredTarget: Int?
        var pendingDuration: (value: Double, line: Int)?
        var sawHeader = false
        var durations: [Double] = []
        var uris: [String] = []
        var ranges: [ByteRange?] = []
        var pendingRange: (length: Int, offset: Int?, line: Int)?

        // "\r\n" is one Character in Swift, so split on both forms.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for (offset, line) in lines.enumerated() {
            let number = offset + 1
            func fail(_ message: String) -> PlaylistParseError { PlaylistParseError(line: number, message: message) }
            if line.trimmingWhitespace().isEmpty { continue }
            guard sawHeader else {
                guard line == "#EXTM3U" else { throw fail("a playlist starts with #EXTM3U") }
                sawHeader = true
                continue
            }
            if !line.hasPrefix("#") {
                guard let duration = pendingDuration else { throw fail("URI \"\(line)\" without #EXTINF before it") }
                guard !playlist.isComplete else { throw fail("segment after #EXT-X-ENDLIST") }
                var range: ByteRange?
                if let pending = pendingRange {
                    var offset = pending.offset
                    if offset == nil, uris.last == String(line), let previous = ranges.last ?? nil {
                        offset = previous.end
                    }
                    guard let start = offset else {
                        throw PlaylistParseError(line: pending.line, message: "EXT-X-BYTERANGE without an offset needs a range of the same URI before it")
                    }
                    range = ByteRange(length: pending.length, offset: start)
                    pendingRange = nil
                }
                durations.append(duration.value)
                uris.append(String(line))
                ranges.append(range)
                pendingDuration = nil
                continue
            }
            let (tag, value) = split(tag: line)
            if let pending = pendingDuration, tag != "#EXT-X-BYTERANGE" {
                throw PlaylistParseError(line: pending.line, message: "#EXTINF must be followed by a URI line")
            }
            switch tag {
            case "#EXTM3U":
                throw fail("#EXTM3U appears twice")
            case "#EXT-X-VERSION":
                guard let v = value.flatMap({ Int($0) }), v > 0 else { throw fail("bad EXT-X-VERSION") }
            case "#EXT-X-TARGETDURATION":
                guard let v = value.flatMap({ Int($0) }), v > 0 else { throw fail("bad EXT-X-TARGETDURATION") }
                declaredTarget = v
            case "#EXT-X-MEDIA-SEQUENCE":
                guard let v = value.flatMap({ Int($0) }), v >= 0 else { throw fail("bad EXT-X-MEDIA-SEQUENCE") }
                playlist.mediaSequence = v
            case "#EXT-X-PLAYLIST-TYPE":
                guard let kind = value.flatMap({ MediaPlaylist.Kind(rawValue: String($0)) }) else {
                    throw fail("EXT-X-PLAYLIST-TYPE must be VOD or EVENT")
                }
                playlist.kind = kind
            case "#EXT-X-INDEPENDENT-SEGMENTS":
                playlist.independentSegments = true
            case "#EXT-X-MAP":
                guard let list = value, let uri = PlaylistText.attributes(list)?["URI"] else {
                    throw fail("EXT-X-MAP needs URI=\"…\"")
                }
                playlist.mapURI = uri
            case "#EXTINF":
                let durationText = value.map { $0.prefix { $0 != "," } } ?? ""
                guard value?.contains(",") == true, let duration = Double(durationText),
                      duration.isFinite, duration >= 0 else {
                    throw fail("bad EXTINF; expected #EXTINF:<seconds>,")
                }
                pendingDuration = (duration, number)
            case "#EXT-X-I-FRAMES-ONLY":
                playlist.iFramesOnly = true
            case "#EXT-X-BYTERANGE":
                let parts = value.map { $0.split(separator: "@", omittingEmptySubsequences: false) } ?? []
                guard (1...2).contains(parts.count), let length = Int(parts[0]), length >= 0,
                      parts.count == 1 || Int(parts[1]).map({ $0 >= 0 }) == true else {
                    throw fail("bad EXT-X-BYTERANGE; expected <length>[@<offset>]")
                }
                guard pendingRange == nil else { throw fail("two EXT-X-BYTERANGE tags for one segment") }
                pendingRange = (length, parts.count == 2 ? Int(parts[1]) : nil, number)
            case "#EXT-X-ENDLIST":
                playlist.isComplete = true
            default:
                continue  // other tags and comments
            }
        }
        guard sawHeader else { throw PlaylistParseError(line: 0, message: "empty playlist: no #EXTM3U") }
        if let pending = pendingDuration {
            throw PlaylistParseError(line: pending.line, message: "#EXTINF at the end without a URI")
        }
        if let pending = pendingRange {
            throw PlaylistParseError(line: pending.line, message: "EXT-X-BYTERANGE at the end without a URI")
        }
        guard let target = declaredTarget else {
            throw PlaylistParseError(line: 0, message: "missing #EXT-X-TARGETDURATION")
        }

        var start = 0.0
        for (position, (duration, uri)) in zip(durations, uris).enumerated() {
            let range = ranges[position]
            playlist.segments.append(SegmentRecord(index: playlist.mediaSequence + position, uri: uri,
                                                   duration: duration, byteSize: range?.length ?? 0, startTime: start,
                                                   byteRange: range))
            start += duration
        }
        let needed = playlist.targetDuration
        if target < needed {
            throw PlaylistParseError(line: 0, message: "a segment of \(needed) s exceeds EXT-X-TARGETDURATION:\(target)")
        }
        if target > needed { playlist.targetDurationOverride = target }
        return playlist
    }

    /// "#EXTINF:4.0," → ("#EXTINF", "4.0,"); "#EXT-X-ENDLIST" → ("#EXT-X-ENDLIST", nil).
    private static func split(tag line: Substring) -> (String, Substring?) {
        guard let colon = line.firstIndex(of: ":") else { return (String(line), nil) }
        return (String(line[..<colon]), line[line.index(after: colon)...])
    }
}
