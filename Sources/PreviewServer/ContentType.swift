/// Media types and caching of the files an hlsify output holds.
public enum ContentType {
    /// The Content-Type for a file name, by its extension (case-insensitive);
    /// `application/octet-stream` for unknown ones.
    public static func forFile(_ name: String) -> String {
        switch fileExtension(name) {
        case "m3u8", "m3u": return "application/vnd.apple.mpegurl"
        case "mp4", "m4s", "m4v", "cmfv": return "video/mp4"
        case "m4a", "cmfa": return "audio/mp4"
        case "ts": return "video/mp2t"
        case "aac": return "audio/aac"
        case "vtt", "webvtt": return "text/vtt; charset=utf-8"
        case "html", "htm": return "text/html; charset=utf-8"
        case "json": return "application/json"
        case "txt", "srt": return "text/plain; charset=utf-8"
        case "jpg", "jpeg": return "image/jpeg"
        case "png": return "image/png"
        default: return "application/octet-stream"
        }
    }

    /// Playlists change while a progressive transcode publishes: `no-cache` makes a browser ask
    /// again every time. nil (no Cache-Control) for media files, which never change once written.
    public static func cacheControl(forFile name: String) -> String? {
        switch fileExtension(name) {
        case "m3u8", "m3u", "html", "htm": return "no-cache"
        default: return nil
        }
    }

    private static func fileExtension(_ name: String) -> String {
        let last = name.split(separator: "/").last ?? ""
        guard let dot = last.lastIndex(of: "."), dot != last.startIndex else { return "" }
        return last[last.index(after: dot)...].lowercased()
    }
}
