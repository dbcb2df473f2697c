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
    private let audioOnly: [Track]
    private let subtitles: ProgressiveSubtitles?
    private var records: [String: [SegmentRecord]] = [:]
    private var masterWritten = false
    private(set) var failure: Error?

    init(directory: URL, format: SegmentFormat, segmentDuration: Double, frameRate: Double,
         videos: [Track], audio: Track?, audioOnly: [Track] = [], subtitles: ProgressiveSubtitles?) {
        self.directory = directory
        self.format = format
        self.targetDuration = max(1, Int(segmentDuration.rounded(.up)))
        self.frameRate = frameRate
        self.videos = videos
        self.audio = audio
        self.audioOnly = audioOnly
        self.subtitles = subtitles
    }

    /// The track whose segments the subtitle segments follow: the first video, else the first
    /// audio-only variant (an audio-only source).
    private var timingFolder: String? { videos.first?.folder ?? audioOnly.first?.folder }

    /// A segment of the rendition in `folder` is complete. The timing track also drives the
    /// subtitle segments.
    func segmentClosed(folder: String, record: SegmentRecord) {
        lock.withLock {
            guard failure == nil else { return }
            do {
                records[folder, default: []].append(record)
                try writeMedia(folder: folder)
                if folder == timingFolder, let subtitles {
                    try subtitles.publish(spansUpTo: records[folder] ?? [], targetDuration: targetDuration)
                }
                try writeMasterIfReady()
            } catch {
                failure = error
            }
        }
    }

    private func writeMedia(folder: String) throws {
        try PlaylistPublisher.writeMediaPlaylist(records[folder] ?? [], to: "\(folder)/\(PlaylistPublisher.mediaName)",
                                                 in: directory, target: targetDuration, kind: .event,
                                                 mapURI: format == .fmp4 ? SegmentWriter.initName : nil)
    }

    private func writeMasterIfReady() throws {
        guard !masterWritten else { return }
        let tracks = videos + (audio.map { [$0] } ?? []) + audioOnly
        guard tracks.allSatisfy({ !(records[$0.folder] ?? []).isEmpty }) else { return }
        let audioPart = audio.map { (codecs: CodecString.aacLC, bandwidth: BandwidthStats(peak: $0.peak, average: $0.average)) }
        var variants = videos.map { video in
            PlaylistPublisher.variant(uri: "\(video.folder)/\(PlaylistPublisher.mediaName)", videoCodecs: video.codecs() ?? "avc1.640028",
                                      video: BandwidthStats(peak: video.peak, average: video.average), audio: audioPart,
                                      width: video.width, height: video.height, frameRate: frameRate,
                                      subtitlesGroup: subtitles?.renditions.first?.groupID, videoRange: video.videoRange)
        }
        variants += audioOnly.map {
            PlaylistPublisher.audioOnlyVariant(uri: "\($0.folder)/\(PlaylistPublisher.mediaName)",
                                               bandwidth: BandwidthStats(peak: $0.peak, average: $0.average),
                                               subtitlesGroup: subtitles?.renditions.first?.groupID)
        }
        var media: [MediaRendition] = []
        if let audio {
            media.append(PlaylistPublisher.audioRendition(language: audio.language ?? "und",
                                                          uri: "\(audio.folder)/\(PlaylistPublisher.mediaName)"))
        }
        media += subtitles?.renditions ?? []
        let master = MasterPlaylist(variants: PlaylistPublisher.startOrder(variants), media: media)
        try PlaylistPublisher.writeAtomically(master.render(), to: directory.appendingPathComponent(PlaylistPublisher.masterName))
        masterWritten = true
    }
}

/// Subtitle renditions written segment by segment alongside the timing rendition.
final class ProgressiveSubtitles {
    private let layout: SubtitleLayout
    private let tracks: [LoadedSubtitles]
    private let directory: URL
    private let firstVideoPTS: () -> Int64?

    private let sourceOffset: Double

    init(tracks: [LoadedSubtitles], directory: URL, sourceOffset: Double, firstVideoPTS: @escaping () -> Int64?) throws {
        self.tracks = tracks
        self.sourceOffset = sourceOffset
        self.directory = directory
        self.firstVideoPTS = firstVideoPTS
        let layout = SubtitleLayout(tracks.map(\.track))
        for folder in layout.folders {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("\(SubtitlePublisher.folder)/\(folder)"), withIntermediateDirectories: true)
        }
        self.layout = layout
    }

    var renditions: [MediaRendition] { layout.renditions }

    /// Writes the newest subtitle segment of every track and its EVENT playlist.
    func publish(spansUpTo video: [SegmentRecord], targetDuration: Int) throws {
        guard let last = video.last, let pts = firstVideoPTS() else { return }
        let spans = SubtitleSegmentSpan.spans(of: video)
        for (position, track) in tracks.enumerated() {
            let cut = try SubtitleCut(track.cues, videoSpans: spans, totalDuration: last.startTime + last.duration,
                                      firstVideoPTS90k: pts, sourceOffset: sourceOffset)
            let folder = "\(SubtitlePublisher.folder)/\(layout.folders[position])"
            for (record, text) in zip(cut.records, cut.texts) {
                let url = directory.appendingPathComponent("\(folder)/\(record.uri)")
                if record.index == last.index || !FileManager.default.fileExists(atPath: url.path) {
                    try PlaylistPublisher.writeAtomically(text, to: url)
                }
            }
            try PlaylistPublisher.writeMediaPlaylist(cut.records, to: layout.playlistPath(position), in: directory,
                                                     target: targetDuration, kind: .event, mapURI: nil)
        }
    }
}
