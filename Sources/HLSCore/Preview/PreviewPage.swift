/// The HTML page `hlsify preview` serves at `/`: a `<video>` that plays `master.m3u8` with the
/// browser's native HLS support, and tables of what the master playlist lists.
///
/// The page is self-contained (inline CSS and script, nothing fetched from elsewhere) and
/// everything taken from the playlist is HTML-escaped. Chromium does not expose HLS subtitle
/// renditions as text tracks, so each subtitle rendition whose sidecar WebVTT file exists gets a
/// `<track>` of its own (see `sidecarPath(forSubtitlePlaylist:)`).
///
/// When the output has them (`extraFiles`), the page also shows the poster (`poster.jpg`), a
/// timeline under the video that previews the storyboard's thumbnail under the pointer
/// (`storyboard/storyboard.vtt`) and seeks on a click, the chapter list (`chapters.vtt`, each
/// entry seeking to its start), and a menu of the audio renditions where the browser exposes
/// `audioTracks` (the audio table lists them where it does not).
///
/// The inline script keeps `window.hlsifyPreview` up to date for tests and curious people:
/// `errors` (one entry per media or track error: `source`, `code`, `message`, `time`),
/// `sizes` (every distinct `WxH` the video reported), `maxTime` (the furthest `currentTime`
/// seen), `events` (counts per media event name), `storyboard` (the thumbnail cues read),
/// `thumbnail` (the last one shown: `time`, `url`, `x`, `y`, `w`, `h`), `chapters` (`start`,
/// `end`, `title`) and `audioMenu` (whether the browser could switch audio renditions).
public struct PreviewPage: Sendable, Equatable {
    /// A `<track>` element of the page: a sidecar WebVTT file for one subtitle rendition.
    public struct TextTrack: Sendable, Equatable {
        /// The sidecar file, relative to the master playlist (`subtitles/en.vtt`).
        public var src: String
        /// The rendition's LANGUAGE (`srclang`); nil when the playlist gives none.
        public var language: String?
        /// The rendition's NAME (`label`).
        public var label: String
        /// Whether the track carries `default`.
        public var isDefault: Bool

        public init(src: String, language: String?, label: String, isDefault: Bool) {
            self.src = src
            self.language = language
            self.label = label
            self.isDefault = isDefault
        }
    }

    /// What the page describes.
    public var master: MasterPlaylist
    /// The page title, e.g. the output folder's name.
    public var title: String
    /// The master playlist's URI relative to the page; the video's `src`.
    public var masterURI: String
    /// The sidecar files that exist (paths as `sidecarPath(forSubtitlePlaylist:)` gives them);
    /// only these become `<track>` elements.
    public var sidecars: Set<String>

    /// Of `extraCandidates`, the files the output holds (relative to the master playlist).
    public var extraFiles: Set<String>

    /// The poster, storyboard and chapters files hlsify writes beside the master.
    public static let posterPath = "poster.jpg"
    public static let storyboardPath = "storyboard/storyboard.vtt"
    public static let chaptersPath = "chapters.vtt"
    /// What the server looks for besides the subtitle sidecars.
    public static let extraCandidates = [posterPath, storyboardPath, chaptersPath]

    public init(master: MasterPlaylist, title: String, masterURI: String = "master.m3u8", sidecars: Set<String> = [],
                extraFiles: Set<String> = []) {
        self.master = master
        self.title = title
        self.masterURI = masterURI
        self.sidecars = sidecars
        self.extraFiles = extraFiles
    }

    /// The full-length WebVTT file hlsify writes beside a subtitle rendition: the playlist's
    /// folder with `.vtt` appended (`subtitles/en/index.m3u8` → `subtitles/en.vtt`). nil when the
    /// URI is not a plain relative path inside the output (a scheme, a query, an absolute path,
    /// `.` or `..` segments) or has no folder.
    public static func sidecarPath(forSubtitlePlaylist uri: String) -> String? {
        guard isPlainRelativePath(uri) else { return nil }
        var parts = uri.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2 else { return nil }
        parts.removeLast()
        return parts.joined(separator: "/") + ".vtt"
    }

    /// Sidecar paths worth looking for: one per subtitle rendition that can have one, in order,
    /// without repeats.
    public static func sidecarCandidates(_ master: MasterPlaylist) -> [String] {
        var seen: Set<String> = []
        return master.media.compactMap { rendition -> String? in
            guard rendition.kind == .subtitles, let path = sidecarPath(forSubtitlePlaylist: rendition.uri),
                  seen.insert(path).inserted else { return nil }
            return path
        }
    }

    /// The `<track>` elements: one per subtitle rendition whose sidecar exists, in playlist order
    /// without repeated files. The first rendition marked DEFAULT=YES gets `default`, or the
    /// first track when none is.
    public var textTracks: [TextTrack] {
        var seen: Set<String> = []
        var tracks: [TextTrack] = []
        var defaultIndex: Int?
        for rendition in master.media where rendition.kind == .subtitles {
            guard let path = Self.sidecarPath(forSubtitlePlaylist: rendition.uri), sidecars.contains(path),
                  seen.insert(path).inserted else { continue }
            if rendition.isDefault, defaultIndex == nil { defaultIndex = tracks.count }
            tracks.append(TextTrack(src: path, language: rendition.language, label: rendition.name, isDefault: false))
        }
        if !tracks.isEmpty { tracks[defaultIndex ?? 0].isDefault = true }
        return tracks
    }

    /// The page's HTML (UTF-8, LF line ends).
    public func render() -> String {
        let e = HTMLText.escape
        var html: [String] = []
        html.append("""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <link rel="icon" href="data:,">
            <title>hlsify preview: \(e(title))</title>
            <style>
            body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
            video { width: 100%; max-width: 960px; background: #000; display: block; }
            table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
            th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
            th { background: #f3f3f3; }
            td.number { text-align: right; font-variant-numeric: tabular-nums; }
            #status { font-family: ui-monospace, monospace; }
            #errors { color: #b00; font-family: ui-monospace, monospace; white-space: pre-wrap; }
            .none { color: #777; }
            #timeline { position: relative; width: 100%; max-width: 960px; height: 14px; margin-top: 4px;
                        background: #ddd; cursor: pointer; }
            #timeline-played { position: absolute; left: 0; top: 0; bottom: 0; width: 0; background: #4a7fd0; }
            .chapter-mark { position: absolute; top: 0; bottom: 0; width: 2px; background: #222; }
            #thumbnail { position: absolute; bottom: 18px; display: none; border: 1px solid #000;
                         background-repeat: no-repeat; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.5); }
            #chapters button { font: inherit; background: none; border: none; color: #1a4fa0; cursor: pointer;
                               padding: 0; text-align: left; }
            </style>
            </head>
            <body>
            <h1>hlsify preview: \(e(title))</h1>
            """)
        let poster = extraFiles.contains(Self.posterPath) ? " poster=\"\(e(Self.posterPath))\"" : ""
        html.append("<video id=\"player\" src=\"\(e(masterURI))\"\(poster) controls muted autoplay playsinline>")
        for track in textTracks {
            var attributes = "kind=\"subtitles\" src=\"\(e(track.src))\""
            if let language = track.language { attributes += " srclang=\"\(e(language))\"" }
            attributes += " label=\"\(e(track.label))\""
            if track.isDefault { attributes += " default" }
            html.append("<track \(attributes)>")
        }
        html.append("</video>")
        let storyboard = extraFiles.contains(Self.storyboardPath) ? " data-storyboard=\"\(e(Self.storyboardPath))\"" : ""
        let chapters = extraFiles.contains(Self.chaptersPath) ? " data-chapters=\"\(e(Self.chaptersPath))\"" : ""
        html.append("<div id=\"timeline\"\(storyboard)\(chapters)><div id=\"timeline-played\"></div><div id=\"thumbnail\"></div></div>")
        html.append("<p id=\"audio-menu\" class=\"none\"></p>")
        html.append("<p id=\"status\">loading \(link(masterURI))…</p>")
        html.append("<div id=\"errors\"></div>")

        html.append(contentsOf: chapterSection())
        html.append(contentsOf: variantTable())
        html.append(contentsOf: audioTable())
        html.append(contentsOf: subtitleTable())
        html.append(contentsOf: iFrameTable())
        html.append(contentsOf: textTrackTable())
        html.append("<script>\n\(Self.script)</script>")
        html.append("</body>\n</html>")
        return html.joined(separator: "\n") + "\n"
    }

    // MARK: tables

    private func variantTable() -> [String] {
        let rows = master.variants.map { v -> [String] in
            [link(v.uri), resolution(v.width, v.height), rate(v.bandwidth), rate(v.averageBandwidth),
             HTMLText.escape(v.codecs.joined(separator: ", ")), v.frameRate.map { number($0) } ?? "",
             HTMLText.escape(v.videoRange?.rawValue ?? ""), HTMLText.escape(v.audioGroup ?? ""),
             HTMLText.escape(v.subtitlesGroup ?? "")]
        }
        return table(id: "variants", caption: "Variants (\(master.variants.count))",
                     headers: ["Playlist", "Resolution", "Bandwidth", "Average bandwidth", "Codecs", "Frame rate",
                               "Video range", "Audio", "Subtitles"],
                     numeric: [2, 3, 5], rows: rows, rowData: master.variants.map { ["uri": $0.uri, "resolution": resolutionText($0.width, $0.height)] })
    }

    private func audioTable() -> [String] {
        let audio = master.media.filter { $0.kind == .audio }
        let rows = audio.map { a -> [String] in
            [a.uri.isEmpty ? "<span class=\"none\">in the variant streams</span>" : link(a.uri),
             HTMLText.escape(a.groupID), HTMLText.escape(a.language ?? ""), HTMLText.escape(a.name),
             a.channels.map(String.init) ?? "", a.isDefault ? "yes" : "no",
             HTMLText.escape(a.characteristics.joined(separator: ","))]
        }
        return table(id: "audio", caption: "Audio renditions (\(audio.count))",
                     headers: ["Playlist", "Group", "Language", "Name", "Channels", "Default", "Characteristics"],
                     numeric: [4], rows: rows, rowData: audio.map { ["uri": $0.uri] })
    }

    private func subtitleTable() -> [String] {
        let subtitles = master.media.filter { $0.kind == .subtitles }
        let rows = subtitles.map { s -> [String] in
            let sidecar = Self.sidecarPath(forSubtitlePlaylist: s.uri).flatMap { sidecars.contains($0) ? $0 : nil }
            return [link(s.uri), HTMLText.escape(s.groupID), HTMLText.escape(s.language ?? ""), HTMLText.escape(s.name),
                    s.isDefault ? "yes" : "no", sidecar.map { link($0) } ?? "<span class=\"none\">none</span>"]
        }
        return table(id: "subtitles", caption: "Subtitle renditions (\(subtitles.count))",
                     headers: ["Playlist", "Group", "Language", "Name", "Default", "Sidecar WebVTT"],
                     numeric: [], rows: rows, rowData: subtitles.map { ["uri": $0.uri] })
    }

    private func iFrameTable() -> [String] {
        let rows = master.iFrameVariants.map { i -> [String] in
            [link(i.uri), resolution(i.width, i.height), rate(i.bandwidth), rate(i.averageBandwidth),
             HTMLText.escape(i.codecs.joined(separator: ", "))]
        }
        return table(id: "iframes", caption: "I-frame playlists (\(master.iFrameVariants.count))",
                     headers: ["Playlist", "Resolution", "Bandwidth", "Average bandwidth", "Codecs"],
                     numeric: [2, 3], rows: rows, rowData: master.iFrameVariants.map { ["uri": $0.uri] })
    }

    /// The chapter list, filled by the script from `chapters.vtt`.
    private func chapterSection() -> [String] {
        guard extraFiles.contains(Self.chaptersPath) else { return [] }
        return ["<h2>Chapters</h2>", "<ol id=\"chapters\"></ol>"]
    }

    private func textTrackTable() -> [String] {
        let tracks = textTracks
        let rows = tracks.map { t -> [String] in
            [link(t.src), HTMLText.escape(t.language ?? ""), HTMLText.escape(t.label), t.isDefault ? "yes" : "no"]
        }
        var lines = table(id: "texttracks", caption: "Text tracks of the player (\(tracks.count))",
                          headers: ["Sidecar WebVTT", "Language", "Label", "Default"],
                          numeric: [], rows: rows, rowData: tracks.map { ["src": $0.src] })
        lines.append("<p class=\"none\">The browser's native HLS player may not expose the playlist's subtitle "
                     + "renditions as text tracks, so each one with a full-length sidecar file is added as a "
                     + "<code>&lt;track&gt;</code>.</p>")
        return lines
    }

    /// A table, or a line saying there is nothing to list.
    private func table(id: String, caption: String, headers: [String], numeric: Set<Int>, rows: [[String]],
                       rowData: [[String: String]]) -> [String] {
        var lines = ["<h2>\(HTMLText.escape(caption))</h2>"]
        guard !rows.isEmpty else {
            lines.append("<p id=\"\(id)\" class=\"none\">none</p>")
            return lines
        }
        lines.append("<table id=\"\(id)\">")
        lines.append("<tr>" + headers.map { "<th>\(HTMLText.escape($0))</th>" }.joined() + "</tr>")
        for (row, data) in zip(rows, rowData) {
            let attributes = data.sorted { $0.key < $1.key }
                .map { " data-\($0.key)=\"\(HTMLText.escape($0.value))\"" }.joined()
            let cells = row.enumerated().map { index, cell in
                numeric.contains(index) ? "<td class=\"number\">\(cell)</td>" : "<td>\(cell)</td>"
            }
            lines.append("<tr\(attributes)>" + cells.joined() + "</tr>")
        }
        lines.append("</table>")
        return lines
    }

    // MARK: cell text

    /// A link for a plain relative path, plain text for anything else (no `javascript:` links).
    private func link(_ uri: String) -> String {
        let text = HTMLText.escape(uri)
        return Self.isPlainRelativePath(uri) ? "<a href=\"\(text)\">\(text)</a>" : text
    }

    private func resolutionText(_ width: Int, _ height: Int) -> String {
        width > 0 && height > 0 ? "\(width)x\(height)" : ""
    }

    private func resolution(_ width: Int, _ height: Int) -> String {
        width > 0 && height > 0 ? "\(width)×\(height)" : "<span class=\"none\">audio only</span>"
    }

    /// "2.72 Mb/s" or "96 kb/s"; empty when not positive.
    private func rate(_ bitsPerSecond: Int) -> String {
        guard bitsPerSecond > 0 else { return "" }
        if bitsPerSecond >= 1_000_000 { return PlaylistText.fixed(Double(bitsPerSecond) / 1_000_000, decimals: 2) + " Mb/s" }
        return PlaylistText.fixed(Double(bitsPerSecond) / 1_000, decimals: 0) + " kb/s"
    }

    /// 30 → "30", 29.97 → "29.97".
    private func number(_ value: Double) -> String {
        var text = PlaylistText.fixed(value, decimals: 3)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// A relative path of plain segments: no scheme, query, fragment, backslash, control
    /// character, empty, `.` or `..` segment, and not absolute.
    static func isPlainRelativePath(_ uri: String) -> Bool {
        guard !uri.isEmpty, !uri.hasPrefix("/") else { return false }
        guard !uri.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || ":?#\\".unicodeScalars.contains($0) })
        else { return false }
        return uri.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }

    // MARK: script

    /// Records media errors and playback state in `window.hlsifyPreview` and shows them.
    static let script = #"""
        (function () {
          "use strict";
          var video = document.getElementById("player");
          var statusLine = document.getElementById("status");
          var errorBox = document.getElementById("errors");
          var state = window.hlsifyPreview = { errors: [], sizes: [], maxTime: 0, events: {} };
          function note(entry) {
            state.errors.push(entry);
            var line = document.createElement("div");
            line.textContent = "error: " + entry.source + (entry.code !== null ? " (code " + entry.code + ")" : "") +
              (entry.message ? ": " + entry.message : "");
            errorBox.appendChild(line);
          }
          video.addEventListener("error", function () {
            var e = video.error;
            note({ source: "video", code: e ? e.code : null, message: e ? e.message : "", time: video.currentTime });
          });
          Array.prototype.forEach.call(video.querySelectorAll("track"), function (track) {
            track.addEventListener("error", function () {
              note({ source: "track " + track.getAttribute("src"), code: null, message: "the text track did not load",
                     time: video.currentTime });
            });
          });
          function show() {
            var size = video.videoWidth + "x" + video.videoHeight;
            if (video.videoWidth > 0 && state.sizes.indexOf(size) < 0) { state.sizes.push(size); }
            if (video.currentTime > state.maxTime) { state.maxTime = video.currentTime; }
            var buffered = video.buffered.length ? video.buffered.end(video.buffered.length - 1).toFixed(2) : "0.00";
            var duration = isFinite(video.duration) ? video.duration.toFixed(2) : "?";
            statusLine.textContent = "time " + video.currentTime.toFixed(2) + " / " + duration + " s, buffered to " +
              buffered + " s, picture " + size + ", " + (video.ended ? "ended" : video.paused ? "paused" : "playing") +
              ", ready state " + video.readyState + ", text tracks " + video.textTracks.length;
          }
          ["loadstart", "loadedmetadata", "loadeddata", "canplay", "playing", "pause", "waiting", "stalled",
           "seeking", "seeked", "timeupdate", "resize", "ended", "error"].forEach(function (name) {
            video.addEventListener(name, function () {
              state.events[name] = (state.events[name] || 0) + 1;
              show();
            });
          });
          show();

          // Cues of a WebVTT file: start, end (seconds) and the payload's lines joined by a space.
          function parseVTT(text) {
            function seconds(t) {
              var parts = t.trim().split(":").map(parseFloat), value = 0;
              parts.forEach(function (part) { value = value * 60 + part; });
              return value;
            }
            var cues = [];
            text.replace(/\r\n?/g, "\n").trim().split(/\n\n+/).forEach(function (block) {
              var lines = block.split("\n"), at = -1;
              for (var i = 0; i < lines.length; i++) { if (lines[i].indexOf("-->") >= 0) { at = i; break; } }
              if (at < 0) { return; }
              var times = lines[at].split("-->");
              var end = times[1].trim().split(/\s+/)[0];
              cues.push({ start: seconds(times[0]), end: seconds(end), text: lines.slice(at + 1).join(" ") });
            });
            return cues;
          }
          function load(url, handle) {
            fetch(url).then(function (r) {
              if (!r.ok) { throw new Error("HTTP " + r.status); }
              return r.text();
            }).then(handle).catch(function (error) {
              note({ source: url, code: null, message: String(error), time: video.currentTime });
            });
          }
          function decode(text) {
            var box = document.createElement("textarea");
            box.innerHTML = text;
            return box.value;
          }
          var timeline = document.getElementById("timeline");
          var played = document.getElementById("timeline-played");
          var thumbnail = document.getElementById("thumbnail");
          state.storyboard = [];
          state.chapters = [];
          state.thumbnail = null;
          function duration() {
            if (isFinite(video.duration) && video.duration > 0) { return video.duration; }
            var cues = state.storyboard.length ? state.storyboard : state.chapters;
            return cues.length ? cues[cues.length - 1].end : 0;
          }
          function timeAt(clientX) {
            var box = timeline.getBoundingClientRect();
            return Math.max(0, Math.min(1, (clientX - box.left) / box.width)) * duration();
          }
          // The thumbnail under time t: its cue's sheet (relative to the .vtt) and rectangle.
          state.showThumbnail = function (t) {
            var base = timeline.getAttribute("data-storyboard");
            var cue = state.storyboard.filter(function (c) { return c.start <= t && t < c.end; })[0];
            if (!cue || !base) { thumbnail.style.display = "none"; return null; }
            var match = /^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(cue.text);
            if (!match) { thumbnail.style.display = "none"; return null; }
            var url = new URL(match[1], new URL(base, document.baseURI)).href;
            var shown = { time: t, url: url, x: +match[2], y: +match[3], w: +match[4], h: +match[5] };
            thumbnail.style.backgroundImage = "url(\"" + url + "\")";
            thumbnail.style.backgroundPosition = -shown.x + "px " + -shown.y + "px";
            thumbnail.style.width = shown.w + "px";
            thumbnail.style.height = shown.h + "px";
            var left = (t / (duration() || 1)) * timeline.clientWidth - shown.w / 2;
            thumbnail.style.left = Math.max(0, Math.min(timeline.clientWidth - shown.w, left)) + "px";
            thumbnail.style.display = "block";
            state.thumbnail = shown;
            return shown;
          };
          timeline.addEventListener("mousemove", function (event) { state.showThumbnail(timeAt(event.clientX)); });
          timeline.addEventListener("mouseleave", function () { thumbnail.style.display = "none"; });
          timeline.addEventListener("click", function (event) { video.currentTime = timeAt(event.clientX); });
          video.addEventListener("timeupdate", function () {
            played.style.width = (100 * video.currentTime / (duration() || 1)) + "%";
          });
          if (timeline.hasAttribute("data-storyboard")) {
            load(timeline.getAttribute("data-storyboard"), function (text) { state.storyboard = parseVTT(text); });
          }
          if (timeline.hasAttribute("data-chapters")) {
            load(timeline.getAttribute("data-chapters"), function (text) {
              var list = document.getElementById("chapters");
              parseVTT(text).forEach(function (cue, index) {
                var chapter = { start: cue.start, end: cue.end, title: decode(cue.text) };
                state.chapters.push(chapter);
                var item = document.createElement("li");
                var button = document.createElement("button");
                button.type = "button";
                button.setAttribute("data-start", String(chapter.start));
                button.textContent = chapter.title;
                button.addEventListener("click", function () { video.currentTime = chapter.start; });
                item.appendChild(button);
                list.appendChild(item);
                var mark = document.createElement("div");
                mark.className = "chapter-mark";
                mark.title = chapter.title;
                mark.setAttribute("data-index", String(index));
                timeline.appendChild(mark);
              });
              function placeMarks() {
                Array.prototype.forEach.call(timeline.querySelectorAll(".chapter-mark"), function (mark) {
                  var chapter = state.chapters[+mark.getAttribute("data-index")];
                  mark.style.left = (100 * chapter.start / (duration() || 1)) + "%";
                });
              }
              placeMarks();
              video.addEventListener("durationchange", placeMarks);
            });
          }
          // Audio renditions: a menu where the browser exposes them (audioTracks), else a note.
          var menu = document.getElementById("audio-menu");
          state.audioMenu = !!video.audioTracks;
          if (video.audioTracks) {
            var select = document.createElement("select");
            select.id = "audio-select";
            function refill() {
              select.innerHTML = "";
              for (var i = 0; i < video.audioTracks.length; i++) {
                var track = video.audioTracks[i], option = document.createElement("option");
                option.value = String(i);
                option.textContent = track.label || track.language || ("audio " + (i + 1));
                option.selected = track.enabled;
                select.appendChild(option);
              }
            }
            select.addEventListener("change", function () {
              // The chosen track first, so that some track is always on.
              var chosen = video.audioTracks[Number(select.value)];
              if (chosen) { chosen.enabled = true; }
              for (var i = 0; i < video.audioTracks.length; i++) {
                if (String(i) !== select.value) { video.audioTracks[i].enabled = false; }
              }
            });
            video.audioTracks.addEventListener("addtrack", refill);
            video.audioTracks.addEventListener("removetrack", refill);
            // A track switched elsewhere (the browser's own controls): the menu follows.
            video.audioTracks.addEventListener("change", function () {
              for (var i = 0; i < select.options.length; i++) {
                var track = video.audioTracks[i];
                select.options[i].selected = !!(track && track.enabled);
              }
            });
            refill();
            menu.textContent = "Audio: ";
            menu.appendChild(select);
            var later = document.createElement("span");
            later.className = "none";
            later.textContent = " (a switch is heard once the audio already buffered has played)";
            menu.appendChild(later);
          } else {
            menu.textContent = "This browser does not switch audio renditions; the table below lists them.";
          }
        })();

        """#
}
