extension PlaylistParser {
    /// Reads a master (multivariant) playlist into the model `MasterPlaylist.render()` writes.
    ///
    /// - EXT-X-STREAM-INF needs BANDWIDTH and is followed by its URI line; CODECS is split at
    ///   commas, RESOLUTION read as `WxH`, CLOSED-CAPTIONS as NONE or a group id.
    /// - EXT-X-MEDIA of TYPE AUDIO or SUBTITLES needs GROUP-ID and NAME; CHANNELS keeps its
    ///   leading count ("6/JOC" reads as 6). Renditions of other types (VIDEO, CLOSED-CAPTIONS)
    ///   have no place in the model and are skipped.
    /// - EXT-X-I-FRAME-STREAM-INF needs BANDWIDTH and URI.
    /// - EXT-X-SESSION-DATA needs DATA-ID; one with a URI is kept, one with a VALUE instead is
    ///   skipped (the model holds no VALUE).
    /// - Attributes the model does not hold, unknown tags and comments are skipped; CRLF line
    ///   ends are accepted. `independentSegments` is true only when the tag is present.
    ///
    /// Throws `PlaylistParseError` for a missing #EXTM3U, a media playlist (EXTINF, TARGETDURATION),
    /// a malformed attribute list or value, a missing required attribute, an EXT-X-STREAM-INF
    /// without a URI line after it, or a URI line without an EXT-X-STREAM-INF before it.
    public static func parseMaster(_ text: String) throws -> MasterPlaylist {
        var master = MasterPlaylist(variants: [], media: [], iFrameVariants: [], independentSegments: false)
        var sawHeader = false
        var pendingVariant: (variant: Variant, line: Int)?

        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for (offset, rawLine) in lines.enumerated() {
            let number = offset + 1
            func fail(_ message: String) -> PlaylistParseError { PlaylistParseError(line: number, message: message) }
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty { continue }
            guard sawHeader else {
                guard line == "#EXTM3U" else { throw fail("a playlist starts with #EXTM3U") }
                sawHeader = true
                continue
            }
            if !line.hasPrefix("#") {
                guard var pending = pendingVariant else {
                    throw fail("URI \"\(line)\" without #EXT-X-STREAM-INF before it")
                }
                pending.variant.uri = String(line)
                master.variants.append(pending.variant)
                pendingVariant = nil
                continue
            }
            let (tag, value) = split(masterTag: line[...])
            if let pending = pendingVariant, tag.hasPrefix("#EXT") {
                throw PlaylistParseError(line: pending.line, message: "#EXT-X-STREAM-INF must be followed by a URI line")
            }
            func attributes() throws -> [String: String] {
                guard let list = value, let parsed = PlaylistText.attributes(list) else {
                    throw fail("malformed attribute list after \(tag)")
                }
                return parsed
            }
            switch tag {
            case "#EXTM3U":
                throw fail("#EXTM3U appears twice")
            case "#EXTINF", "#EXT-X-TARGETDURATION", "#EXT-X-MEDIA-SEQUENCE", "#EXT-X-ENDLIST":
                throw fail("\(tag) belongs in a media playlist, not a master playlist")
            case "#EXT-X-VERSION":
                guard let v = value.flatMap({ Int($0) }), v > 0 else { throw fail("bad EXT-X-VERSION") }
            case "#EXT-X-INDEPENDENT-SEGMENTS":
                master.independentSegments = true
            case "#EXT-X-STREAM-INF":
                let list = try attributes()
                let (width, height) = try resolution(list, fail)
                let variant = Variant(
                    uri: "",
                    bandwidth: try integer(list, "BANDWIDTH", required: true, fail) ?? 0,
                    averageBandwidth: try integer(list, "AVERAGE-BANDWIDTH", required: false, fail) ?? 0,
                    codecs: codecs(list["CODECS"]), width: width, height: height,
                    frameRate: try decimal(list, "FRAME-RATE", fail),
                    audioGroup: list["AUDIO"], subtitlesGroup: list["SUBTITLES"],
                    videoRange: try videoRange(list, fail),
                    closedCaptions: closedCaptions(list["CLOSED-CAPTIONS"]))
                pendingVariant = (variant, number)
            case "#EXT-X-MEDIA":
                let list = try attributes()
                guard let type = list["TYPE"] else { throw fail("EXT-X-MEDIA without TYPE") }
                guard let kind = MediaRendition.Kind(rawValue: type) else { continue }  // VIDEO, CLOSED-CAPTIONS
                guard let group = list["GROUP-ID"], let name = list["NAME"] else {
                    throw fail("EXT-X-MEDIA needs GROUP-ID and NAME")
                }
                var channels: Int?
                if let text = list["CHANNELS"] {
                    guard let count = Int(text.prefix { $0 != "/" }), count > 0 else { throw fail("bad CHANNELS \"\(text)\"") }
                    channels = count
                }
                let uri = list["URI"] ?? ""
                if kind == .subtitles, uri.isEmpty { throw fail("a SUBTITLES rendition needs a URI") }
                master.media.append(MediaRendition(
                    kind: kind, groupID: group, language: list["LANGUAGE"], name: name,
                    isDefault: try yesNo(list, "DEFAULT", fail), autoselect: try yesNo(list, "AUTOSELECT", fail),
                    channels: channels, uri: uri,
                    characteristics: list["CHARACTERISTICS"].map { $0.split(separator: ",").map(String.init) } ?? []))
            case "#EXT-X-I-FRAME-STREAM-INF":
                let list = try attributes()
                guard let uri = list["URI"], !uri.isEmpty else { throw fail("EXT-X-I-FRAME-STREAM-INF needs a URI") }
                let (width, height) = try resolution(list, fail)
                master.iFrameVariants.append(IFrameVariant(
                    uri: uri,
                    bandwidth: try integer(list, "BANDWIDTH", required: true, fail) ?? 0,
                    averageBandwidth: try integer(list, "AVERAGE-BANDWIDTH", required: false, fail) ?? 0,
                    codecs: codecs(list["CODECS"]), width: width, height: height,
                    videoRange: try videoRange(list, fail)))
            case "#EXT-X-SESSION-DATA":
                let list = try attributes()
                guard let dataID = list["DATA-ID"] else { throw fail("EXT-X-SESSION-DATA needs DATA-ID") }
                guard let uri = list["URI"] else { continue }  // VALUE="…"
                master.sessionData.append(SessionData(dataID: dataID, uri: uri))
            default:
                continue  // other tags and comments
            }
        }
        guard sawHeader else { throw PlaylistParseError(line: 0, message: "empty playlist: no #EXTM3U") }
        if let pending = pendingVariant {
            throw PlaylistParseError(line: pending.line, message: "#EXT-X-STREAM-INF at the end without a URI")
        }
        return master
    }

    // MARK: attribute values

    private typealias Fail = (String) -> PlaylistParseError

    private static func integer(_ list: [String: String], _ name: String, required: Bool, _ fail: Fail) throws -> Int? {
        guard let text = list[name] else {
            if required { throw fail("missing \(name)") }
            return nil
        }
        guard let value = Int(text), value >= 0 else { throw fail("bad \(name) \"\(text)\"") }
        return value
    }

    private static func decimal(_ list: [String: String], _ name: String, _ fail: Fail) throws -> Double? {
        guard let text = list[name] else { return nil }
        guard let value = Double(text), value.isFinite, value > 0 else { throw fail("bad \(name) \"\(text)\"") }
        return value
    }

    private static func resolution(_ list: [String: String], _ fail: Fail) throws -> (Int, Int) {
        guard let text = list["RESOLUTION"] else { return (0, 0) }
        let parts = text.split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]), width > 0, height > 0 else {
            throw fail("bad RESOLUTION \"\(text)\"; expected <width>x<height>")
        }
        return (width, height)
    }

    private static func videoRange(_ list: [String: String], _ fail: Fail) throws -> VideoRange? {
        guard let text = list["VIDEO-RANGE"] else { return nil }
        guard let range = VideoRange(rawValue: text) else { throw fail("bad VIDEO-RANGE \"\(text)\"") }
        return range
    }

    private static func yesNo(_ list: [String: String], _ name: String, _ fail: Fail) throws -> Bool {
        switch list[name] {
        case nil, "NO": return false
        case "YES": return true
        case let other?: throw fail("\(name) must be YES or NO, got \"\(other)\"")
        }
    }

    private static func codecs(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { String($0.trimmingWhitespace()) }.filter { !$0.isEmpty }
    }

    private static func closedCaptions(_ text: String?) -> ClosedCaptions {
        switch text {
        case nil: return .unspecified
        case "NONE": return .none
        case let group?: return .group(group)
        }
    }

    /// "#EXT-X-MEDIA:TYPE=AUDIO" → ("#EXT-X-MEDIA", "TYPE=AUDIO").
    private static func split(masterTag line: Substring) -> (String, Substring?) {
        guard let colon = line.firstIndex(of: ":") else { return (String(line), nil) }
        return (String(line[..<colon]), line[line.index(after: colon)...])
    }
}
