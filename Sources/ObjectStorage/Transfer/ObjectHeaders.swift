/// The Content-Type and Cache-Control an object of an HLS set gets, by its name, as CDNs expect:
/// playlists barely cached (a progressive one changes every segment), media immutable.
public struct ObjectHeaders: Sendable, Equatable {
    public var contentType: String
    public var cacheControl: String?

    /// What gets uploaded when: media (segments, init sections, subtitles) first, then media
    /// playlists, then the master, whose appearance publishes the set.
    public enum Stage: Int, Sendable, Comparable {
        case media, mediaPlaylist, master, record

        public static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public static let masterName = "master.m3u8"

    /// Headers for the file at `path` (relative to the set); `live` for a set still being written.
    public static func forPath(_ path: String, live: Bool = false) -> ObjectHeaders {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let fileExtension = name.split(separator: ".").count > 1 ? String(name.split(separator: ".").last!).lowercased() : ""
        let immutable = "public, max-age=31536000, immutable"
        switch fileExtension {
        case "m3u8": return ObjectHeaders(contentType: "application/vnd.apple.mpegurl", cacheControl: live ? "max-age=2" : "max-age=60")
        case "m4s", "mp4": return ObjectHeaders(contentType: "video/mp4", cacheControl: immutable)
        case "m4a": return ObjectHeaders(contentType: "audio/mp4", cacheControl: immutable)
        case "aac": return ObjectHeaders(contentType: "audio/aac", cacheControl: immutable)
        case "ts": return ObjectHeaders(contentType: "video/mp2t", cacheControl: immutable)
        case "vtt", "webvtt": return ObjectHeaders(contentType: "text/vtt", cacheControl: immutable)
        case "json": return ObjectHeaders(contentType: "application/json", cacheControl: "no-cache")
        case "jpg", "jpeg": return ObjectHeaders(contentType: "image/jpeg", cacheControl: immutable)
        default: return ObjectHeaders(contentType: "application/octet-stream", cacheControl: immutable)
        }
    }

    /// The stage of the file at `path` (relative to the set).
    public static func stage(of path: String) -> Stage {
        if path == masterName { return .master }
        if path.hasSuffix(".m3u8") { return .mediaPlaylist }
        if path.hasPrefix(".hlsify-") { return .record }
        return .media
    }
}
