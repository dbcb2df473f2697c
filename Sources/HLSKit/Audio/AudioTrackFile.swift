/// An audio file joined to the set as a rendition of its own: a dubbed track (`--audio LANG=FILE`)
/// or a narrated description of what is on screen (`--audio-description LANG=FILE`). It is laid
/// on the video's timeline from its first sample, padded or cut to the video's length.
public struct AudioTrackFile: Sendable, Equatable {
    /// BCP 47 tag (`es`, `pt-BR`); a tag that is not well-formed fails the transcode (exit 65).
    public var language: String
    /// Path of a media file with an audio stream (its best audio stream is taken).
    public var path: String
    /// The track describes the video (CHARACTERISTICS="public.accessibility.describes-video").
    public var describesVideo: Bool

    /// An added track of `language` from the media file at `path`; with `describesVideo`, an
    /// audio description. Nothing is opened or checked until a transcode starts.
    public init(language: String, path: String, describesVideo: Bool = false) {
        self.language = language
        self.path = path
        self.describesVideo = describesVideo
    }
}
