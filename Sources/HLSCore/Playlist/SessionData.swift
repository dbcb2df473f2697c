/// Data a player may load with the master playlist: one EXT-X-SESSION-DATA line
/// (RFC 8216 §4.3.4.4) that names a JSON document by URI, such as Apple's HLS chapters.
public struct SessionData: Sendable, Equatable {
    /// The DATA-ID of Apple's HLS JSON chapters (`ChapterList.appleJSON`).
    public static let chaptersDataID = "com.apple.hls.chapters"

    /// DATA-ID: what the data is, in reverse-DNS form ("com.apple.hls.chapters").
    public var dataID: String
    /// URI of the JSON document, relative to the master playlist.
    public var uri: String

    public init(dataID: String, uri: String) {
        self.dataID = dataID
        self.uri = uri
    }

    /// The attribute list after "#EXT-X-SESSION-DATA:", `DATA-ID="…",URI="…"`; the quoted strings
    /// lose any double quote, CR or LF. No LANGUAGE (the chapter titles carry their languages) and
    /// no VALUE (RFC 8216 allows URI or VALUE, not both).
    public var attributeList: String {
        "DATA-ID=\(PlaylistText.quoted(dataID)),URI=\(PlaylistText.quoted(uri))"
    }
}
