import Foundation

/// Progressive publishing: as each segment of every rendition is complete, its media playlist
/// (EVENT, no ENDLIST) is rewritten atomically, and once every rendition has a segment the
/// master is written too, so a player can start after the first segment. Segments are listed
/// only after their files are closed, so a player never fetches a half-written one. Called from
/// several encoder threads; everything is serialised by one lock.
///
/// The master written here has the final master's variant attributes (VIDEO-RANGE,
/// CLOSED-CAPTIONS=NONE) with provisional bandwidths, but no EXT-X-I-FRAME-STREAM-INF: I-frame
/// playlists are final-only. `PlaylistPublisher.publishFinal` writes them, parsed from the
/// finished segments, and rewrites the master with them when the transcode ends.
final class ProgressivePublisher: @unchecked Sendable {
    struct Track {
        let folder: String
        let codecs: () -> String?
        /// Bits/s for the provisional BANDWIDTH (encoder maxrate), AVERAGE-BANDWIDTH (target).
        let peak: Int
        let average: Int
        let width: Int
        let height: Int
        /// Audio only: the LANGUAGE of the rendition.
        var language: String? = nil
        /// Video only: VIDEO-RANGE.
        var videoRange: VideoRange? = nil
    }

    private let lock = NSLockLite()
    private let directory: URL
    private let format: SegmentFormat
    private let targetDuration: Int
    private let frameRate: Double
    private let videos: [Track]
    private let audio: Track?
    private let subtitles: ProgressiveSubtitles?
    private var records: [String: [SegmentRecord]] = [:]
    private var masterWritten = false
    private(set) var failure: Error?

    init(directory: URL, format: SegmentFormat, segmentDuration: Double, frameRate: Double,
         videos: [Track], audio: Track?, subtitles: ProgressiveSubtitles?) {
        self.directory = directory
        self.format = format
        self.targetDuration = max(1, Int(segmentDuration.rounded(.up)))
        self.frameRate = frameRate
        self.videos = videos
        self.audio = audio
        self.subtitles = subtitles
    }

    /// A segment of the rendition in `folder` is complete. The first video track also drives the
    /// subtitle segments.
    func segmentClosed(folder: String, record: SegmentRecord) {
        lock.withLock {
            guard failure == nil else { return }
            do {
                records[folder, default: []].append(record)
                try writeMedia(folder: folder)
                if folder == videos.first?.folder, let subtitles {
                    try subtitles.publish(spansUpTo: records[folder] ?? [], targetDuration: targetDuration)
                }
                try writeMasterIfReady()
            } catch {
                failure = error
            }
        }
    }

    private func writeMedia(folder: String) throws {
        var playlist = MediaPlaylist(segments: records[folder] ?? [], kind: .event, isComplete: false,
                                     mediaSequence: 0, mapURI: format == .fmp4 ? SegmentWriter.initName : nil)
        playlist.targetDurationOverride = targetDuration
        try PlaylistPublisher.writeAtomically(playlist.render(),
                                              to: directory.appendingPathComponent("\(folder)/\(PlaylistPublisher.mediaName)"))
    }

    private func writeMasterIfReady() throws {
        guard !masterWritten else { return }
        let tracks = videos + (audio.map { [$0] } ?? [])
        guard tracks.allSatisfy({ !(records[$0.folder] ?? []).isEmpty }) else { return }
        var variants: [Variant] = []
        for video in videos {
            var codecs = [video.codecs() ?? "avc1.640028"]
            var peak = video.peak, average = video.average
            if let audio {
                codecs.append(CodecString.aacLC)
                peak += audio.peak
                average += audio.average
            }
            variants.append(Variant(uri: "\(video.folder)/\(PlaylistPublisher.mediaName)", bandwidth: peak,
                                    averageBandwidth: average, codecs: codecs, width: video.width, height: video.height,
                                    frameRate: frameRate > 0 ? frameRate : nil,
                                    audioGroup: audio == nil ? nil : PlaylistPublisher.audioGroup,
                                    subtitlesGroup: subtitles?.renditions.first?.groupID,
                                    videoRange: video.videoRange, closedCaptions: .none))
        }
        var media: [MediaRendition] = []
        if let audio {
            let language = audio.language ?? "und"
            media.append(MediaRendition(kind: .audio, groupID: PlaylistPublisher.audioGroup, language: language,
                                        name: language == "und" ? "Main" : LanguageTag.displayName(language),
                                        isDefault: true, autoselect: true, channels: 2,
                                        uri: "\(audio.folder)/\(PlaylistPublisher.mediaName)"))
        }
        media += subtitles?.renditions ?? []
        let master = MasterPlaylist(variants: PlaylistPublisher.startOrder(variants), media: media)
        try PlaylistPublisher.writeAtomically(master.render(), to: directory.appendingPathComponent(PlaylistPublisher.masterName))
        masterWritten = true
    }
}

/// Subtitle renditions written segment by segment alongside the first video rendition.
final class ProgressiveSubtitles {
    let renditions: [MediaRendition]
    private let tracks: [LoadedSubtitles]
    private let folders: [String]
    private let directory: URL
    private let firstVideoPTS: () -> Int64?

    private let sourceOffset: Double

    init(tracks: [LoadedSubtitles], directory: URL, sourceOffset: Double, firstVideoPTS: @escaping () -> Int64?) throws {
        self.tracks = tracks
        self.sourceOffset = sourceOffset
        self.directory = directory
        self.firstVideoPTS = firstVideoPTS
        var used: Set<String> = []
        var folders: [String] = []
        var renditions: [MediaRendition] = []
        let names = SubtitlePublisher.uniqueNames(tracks.map(\.track))
        for (position, track) in tracks.enumerated() {
            let name = SubtitlePublisher.folderName(for: track.track.language, taken: &used)
            folders.append(name)
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("\(SubtitlePublisher.folder)/\(name)"), withIntermediateDirectories: true)
            renditions.append(MediaRendition(kind: .subtitles, groupID: SubtitlePublisher.group, language: track.track.language,
                                             name: names[position], isDefault: position == 0, autoselect: true,
                                             channels: nil, uri: "\(SubtitlePublisher.folder)/\(name)/\(PlaylistPublisher.mediaName)"))
        }
        self.folders = folders
        self.renditions = renditions
    }

    /// Writes the newest subtitle segment of every track and its EVENT playlist.
    func publish(spansUpTo video: [SegmentRecord], targetDuration: Int) throws {
        guard let last = video.last, let pts = firstVideoPTS() else { return }
        let spans = video.map { SubtitleSegmentSpan(start: $0.startTime + sourceOffset, duration: $0.duration) }
        let map = WebVTTTimestampMap(mpegts: pts, local: Int((sourceOffset * 1000).rounded()))
        for (track, folder) in zip(tracks, folders) {
            let segmentation = try WebVTTSegmenter().segment(track.cues, spans: spans,
                                                             totalDuration: last.startTime + last.duration + sourceOffset,
                                                             timestampMap: map)
            var records: [SegmentRecord] = []
            for segment in segmentation.segments {
                let uri = String(format: "segment-%05d.vtt", segment.index)
                let url = directory.appendingPathComponent("\(SubtitlePublisher.folder)/\(folder)/\(uri)")
                if segment.index == last.index || !FileManager.default.fileExists(atPath: url.path) {
                    try PlaylistPublisher.writeAtomically(segment.text, to: url)
                }
                records.append(SegmentRecord(index: segment.index, uri: uri, duration: segment.duration,
                                             byteSize: segment.text.utf8.count, startTime: segment.start - sourceOffset))
            }
            var playlist = MediaPlaylist(segments: records, kind: .event, isComplete: false, mediaSequence: 0, mapURI: nil)
            playlist.targetDurationOverride = targetDuration
            try PlaylistPublisher.writeAtomically(
                playlist.render(), to: directory.appendingPathComponent("\(SubtitlePublisher.folder)/\(folder)/\(PlaylistPublisher.mediaName)"))
        }
    }
}
