/// An alternative rendition shared by variants: one EXT-X-MEDIA line (RFC 8216 §4.3.4.1).
public struct MediaRendition: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case audio = "AUDIO", subtitles = "SUBTITLES"
    }

    public var kind: Kind
    /// GROUP-ID that variants name in AUDIO="…" or SUBTITLES="…".
    public var groupID: String
    /// RFC 5646 language tag ("en"); omitted when nil.
    public var language: String?
    /// Human-readable name ("English").
    public var name: String
    /// DEFAULT=YES: play this one unless the user chooses otherwise.
    public var isDefault: Bool
    /// AUTOSELECT=YES: a player may choose it by the user's language. Written as YES when
    /// `isDefault` is set, as RFC 8216 requires.
    public var autoselect: Bool
    /// CHANNELS="2" for audio; omitted when nil.
    public var channels: Int?
    /// The rendition's media playlist, relative to the master playlist. Empty omits URI (audio
    /// carried inside the variant streams); SUBTITLES always need one.
    public var uri: String
    /// CHARACTERISTICS: Uniform Type Identifiers such as `public.accessibility.describes-video`
    /// (an audio description); omitted when empty.
    public var characteristics: [String]

    /// CHARACTERISTICS of a rendition that describes the video for viewers who cannot see it.
    public static let describesVideo = "public.accessibility.describes-video"

    public init(kind: Kind, groupID: String, language: String? = nil, name: String, isDefault: Bool = false,
                autoselect: Bool = true, channels: Int? = nil, uri: String, characteristics: [String] = []) {
        self.characteristics = characteristics
        self.kind = kind
        self.groupID = groupID
        self.language = language
        self.name = name
        self.isDefault = isDefault
        self.autoselect = autoselect
        self.channels = channels
        self.uri = uri
    }

    /// The attribute list after "#EXT-X-MEDIA:".
    var attributeList: String {
        var attributes = [
            "TYPE=\(kind.rawValue)",
            "GROUP-ID=\(PlaylistText.quoted(groupID))",
        ]
        if let language { attributes.append("LANGUAGE=\(PlaylistText.quoted(language))") }
        attributes.append("NAME=\(PlaylistText.quoted(name))")
        attributes.append("DEFAULT=\(isDefault ? "YES" : "NO")")
        attributes.append("AUTOSELECT=\(isDefault || autoselect ? "YES" : "NO")")
        if !characteristics.isEmpty {
            attributes.append("CHARACTERISTICS=\(PlaylistText.quoted(characteristics.joined(separator: ",")))")
        }
        if let channels { attributes.append("CHANNELS=\(PlaylistText.quoted(String(channels)))") }
        if !uri.isEmpty { attributes.append("URI=\(PlaylistText.quoted(uri))") }
        return attributes.joined(separator: ",")
    }
}
