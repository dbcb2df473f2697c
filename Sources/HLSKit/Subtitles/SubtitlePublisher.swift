import Foundation

/// Writes the subtitle renditions: one WebVTT file per video segment (same boundaries, each with
/// X-TIMESTAMP-MAP), a VOD media playlist, and a full sidecar `.vtt` for plain `<track>` use.
struct SubtitlePublisher {
    static let group = "subs"
    static let folder = "subtitles"

    struct Published {
        var rendition: MediaRendition
        var cues: Int
        var sidecar: String
        var warnings: [String]
    }

    let directory: URL
    let targetDuration: Int
    /// VOD; EVENT (with ENDLIST) to finish what a progressive run published.
    var kind: MediaPlaylist.Kind = .vod

    /// - Parameters:
    ///   - spans: the video's segments (start and duration on the timeline from the first frame).
    ///   - firstVideoPTS90k: presentation timestamp of the first video frame in the written segments, at 90 kHz.
    ///   - sourceOffset: source time of that frame from the container's start, where SRT times
    ///     count from; it becomes the map's LOCAL time and shifts the segment windows.
    func publish(_ subtitles: [LoadedSubtitles], spans: [SubtitleSegmentSpan], totalDuration: Double,
                 firstVideoPTS90k: Int64, sourceOffset: Double) throws -> [Published] {
        let layout = SubtitleLayout(subtitles.map(\.track))
        var published: [Published] = []
        for (position, subtitle) in subtitles.enumerated() {
            let name = layout.folders[position]
            let folder = directory.appendingPathComponent(Self.folder).appendingPathComponent(name)
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw TranscodeError.io("cannot create \(folder.path): \(error.localizedDescription)")
            }
            let cut: SubtitleCut
            do {
                cut = try SubtitleCut(subtitle.cues, videoSpans: spans, totalDuration: totalDuration,
                                      firstVideoPTS90k: firstVideoPTS90k, sourceOffset: sourceOffset)
            } catch {
                throw TranscodeError.invalidInput("\(subtitle.track.path): \(error)")
            }
            for (record, text) in zip(cut.records, cut.texts) {
                try PlaylistPublisher.writeAtomically(text, to: folder.appendingPathComponent(record.uri))
            }
            try PlaylistPublisher.writeMediaPlaylist(cut.records, to: layout.playlistPath(position), in: directory,
                                                     target: targetDuration, kind: kind, complete: true, mapURI: nil)

            let kept = subtitle.cues.filter { $0.start < Int(((totalDuration + sourceOffset) * 1000).rounded()) }
            let sidecar = "\(Self.folder)/\(name).vtt"
            try PlaylistPublisher.writeAtomically(WebVTTWriter().render(kept), to: directory.appendingPathComponent(sidecar))

            let warnings = subtitle.warnings + cut.warnings.map { "\(subtitle.track.path): \($0)" }
            published.append(Published(rendition: layout.renditions[position], cues: subtitle.cues.count,
                                       sidecar: sidecar, warnings: warnings))
        }
        return published
    }

    /// NAMEs for a group, unique as RFC 8216 requires: a repeated name gets its language tag
    /// (`Chinese (zh-Hans)`, `Chinese (zh-Hant)`), then a number if still repeated.
    static func uniqueNames(_ tracks: [SubtitleTrack]) -> [String] {
        let plain = tracks.map(\.displayName)
        var seen: Set<String> = []
        return tracks.indices.map { index in
            var name = plain[index]
            if plain.filter({ $0 == name }).count > 1 { name += " (\(tracks[index].language))" }
            var candidate = name
            var counter = 2
            while seen.contains(candidate) { candidate = "\(name) \(counter)"; counter += 1 }
            seen.insert(candidate)
            return candidate
        }
    }

    /// A safe folder name for a language tag, unique within the set (`en`, `en-2`, …).
    static func folderName(for language: String, taken: inout Set<String>) -> String {
        let cleaned = String(language.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(35))
        let base = cleaned.isEmpty ? "und" : cleaned
        var name = base
        var counter = 2
        while taken.contains(name) { name = "\(base)-\(counter)"; counter += 1 }
        taken.insert(name)
        return name
    }
}

/// Where each subtitle track is written and how the master lists it: unique folder names and
/// NAMEs, the first track the default. Shared by the final and the progressive publisher.
struct SubtitleLayout {
    let folders: [String]
    let renditions: [MediaRendition]

    init(_ tracks: [SubtitleTrack]) {
        var used: Set<String> = []
        let folders = tracks.map { SubtitlePublisher.folderName(for: $0.language, taken: &used) }
        let names = SubtitlePublisher.uniqueNames(tracks)
        self.folders = folders
        renditions = tracks.indices.map { position in
            MediaRendition(kind: .subtitles, groupID: SubtitlePublisher.group, language: tracks[position].language,
                           name: names[position], isDefault: position == 0, autoselect: true, channels: nil,
                           uri: "\(SubtitlePublisher.folder)/\(folders[position])/\(PlaylistPublisher.mediaName)")
        }
    }

    /// The media playlist of track `position`, relative to the output folder.
    func playlistPath(_ position: Int) -> String { renditions[position].uri }
}

/// One track's cues cut on the video's segments: a WebVTT text and a segment record per segment.
struct SubtitleCut {
    let records: [SegmentRecord]
    let texts: [String]
    let warnings: [SubtitleWarning]

    /// - Parameters:
    ///   - videoSpans: the video's segments on its own timeline (0 = first frame).
    ///   - sourceOffset: the first frame's time from the source's start, where SRT times count from.
    init(_ cues: [SubtitleCue], videoSpans: [SubtitleSegmentSpan], totalDuration: Double, firstVideoPTS90k: Int64,
         sourceOffset: Double) throws(SubtitleError) {
        let spans = videoSpans.map { SubtitleSegmentSpan(start: $0.start + sourceOffset, duration: $0.duration) }
        let map = WebVTTTimestampMap(mpegts: firstVideoPTS90k, local: Int((sourceOffset * 1000).rounded()))
        let segmentation = try WebVTTSegmenter().segment(cues, spans: spans, totalDuration: totalDuration + sourceOffset,
                                                         timestampMap: map)
        records = segmentation.segments.map { segment in
            SegmentRecord(index: segment.index, uri: String(format: "segment-%05d.vtt", segment.index),
                          duration: segment.duration, byteSize: segment.text.utf8.count,
                          startTime: segment.start - sourceOffset)
        }
        texts = segmentation.segments.map(\.text)
        warnings = segmentation.warnings
    }
}
