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

    /// - Parameters:
    ///   - spans: the video's segments (start and duration on the timeline from the first frame).
    ///   - firstVideoPTS90k: presentation timestamp of the first video frame in the written segments, at 90 kHz.
    ///   - sourceOffset: source time of that frame from the container's start, where SRT times
    ///     count from; it becomes the map's LOCAL time and shifts the segment windows.
    func publish(_ subtitles: [LoadedSubtitles], spans: [SubtitleSegmentSpan], totalDuration: Double,
                 firstVideoPTS90k: Int64, sourceOffset: Double) throws -> [Published] {
        var used: Set<String> = []
        var published: [Published] = []
        let names = Self.uniqueNames(subtitles.map(\.track))
        let shifted = spans.map { SubtitleSegmentSpan(start: $0.start + sourceOffset, duration: $0.duration) }
        let map = WebVTTTimestampMap(mpegts: firstVideoPTS90k, local: Int((sourceOffset * 1000).rounded()))
        for (position, subtitle) in subtitles.enumerated() {
            let name = Self.folderName(for: subtitle.track.language, taken: &used)
            let folder = directory.appendingPathComponent(Self.folder).appendingPathComponent(name)
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw TranscodeError.io("cannot create \(folder.path): \(error.localizedDescription)")
            }
            let segmentation: WebVTTSegmentation
            do {
                segmentation = try WebVTTSegmenter().segment(subtitle.cues, spans: shifted,
                                                             totalDuration: totalDuration + sourceOffset, timestampMap: map)
            } catch {
                throw TranscodeError.invalidInput("\(subtitle.track.path): \(error)")
            }
            var records: [SegmentRecord] = []
            for segment in segmentation.segments {
                let uri = String(format: "segment-%05d.vtt", segment.index)
                let bytes = Data(segment.text.utf8)
                try write(bytes, to: folder.appendingPathComponent(uri))
                records.append(SegmentRecord(index: segment.index, uri: uri, duration: segment.duration,
                                             byteSize: bytes.count, startTime: segment.start - sourceOffset))
            }
            var playlist = MediaPlaylist(segments: records, kind: .vod, isComplete: true, mediaSequence: 0, mapURI: nil)
            playlist.targetDurationOverride = targetDuration
            let playlistPath = "\(Self.folder)/\(name)/\(PlaylistPublisher.mediaName)"
            try PlaylistPublisher.writeAtomically(playlist.render(), to: directory.appendingPathComponent(playlistPath))

            let kept = subtitle.cues.filter { $0.start < Int(((totalDuration + sourceOffset) * 1000).rounded()) }
            let sidecar = "\(Self.folder)/\(name).vtt"
            try write(Data(WebVTTWriter().render(kept).utf8), to: directory.appendingPathComponent(sidecar))

            let rendition = MediaRendition(kind: .subtitles, groupID: Self.group, language: subtitle.track.language,
                                           name: names[position], isDefault: position == 0,
                                           autoselect: true, channels: nil, uri: playlistPath)
            let warnings = subtitle.warnings + segmentation.warnings.map { "\(subtitle.track.path): \($0)" }
            published.append(Published(rendition: rendition, cues: subtitle.cues.count, sidecar: sidecar, warnings: warnings))
        }
        return published
    }

    private func write(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw TranscodeError.io("writing \(url.path): \(error.localizedDescription)")
        }
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
