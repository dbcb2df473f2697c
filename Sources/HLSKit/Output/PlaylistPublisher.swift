import Foundation

/// Writes the media playlists and the master playlist from what the segmenters reported, using
/// the pure playlist model. Every file is replaced atomically (temporary file, then rename).
struct PlaylistPublisher {
    static let masterName = "master.m3u8"
    static let mediaName = "index.m3u8"
    static let audioGroup = "audio"

    struct Stats {
        var playlist: String
        var segments: Int
        var bytes: Int
        var bandwidth: BandwidthStats
        var codecs: String
    }

    struct Published {
        var video: [Stats]
        var audio: Stats?
        /// Per audio-only variant, in the order given.
        var audioOnly: [Stats]
        /// Per video rendition, its I-frame playlist; nil where it could not be made (see `warnings`).
        var iFrames: [IFramePlaylistWriter.Written?]
        var warnings: [String]
    }

    let directory: URL
    let format: SegmentFormat
    let segmentDuration: Double

    /// One EXT-X-TARGETDURATION for every rendition (Apple's rule): the longest segment, rounded.
    static func targetDuration(videos: [VideoRendition], audio: [AudioRendition]) -> Int {
        let all = videos.map { $0.log.records() } + audio.map { $0.log.records() }
        return max(1, all.flatMap { $0 }.map { Int($0.duration.rounded()) }.max() ?? 1)
    }

    /// Writes the final VOD playlists (ENDLIST), each video rendition's I-frame playlist (parsed
    /// from its segment files) and the master. Returns the measured figures.
    /// `subtitles` are EXT-X-MEDIA entries of subtitle renditions already written. `audio` is the
    /// audio group every video variant plays with; each of `audioOnly` is a variant of its own (an
    /// audio-only source's rendition, or the low-bandwidth audio-only variant of a video ladder).
    ///
    /// The master lists the variants with VIDEO-RANGE (from the colour transfer copied from the
    /// source) and CLOSED-CAPTIONS=NONE (no CEA-608/708 captions are muxed), then one
    /// EXT-X-I-FRAME-STREAM-INF per variant whose I-frame playlist could be made: a segment that
    /// cannot be parsed costs that line and a warning, not the transcode.
    func publishFinal(videos: [VideoRendition], audio: AudioRendition?, audioOnly: [AudioRendition] = [],
                      frameRate: Double, subtitles: [MediaRendition] = []) throws -> Published {
        let videoRecords = videos.map { $0.log.records() }
        let audioRecords = audio?.log.records()
        let target = Self.targetDuration(videos: videos, audio: (audio.map { [$0] } ?? []) + audioOnly)

        var videoStats: [Stats] = []
        for (rendition, records) in zip(videos, videoRecords) {
            let stats = try writeMedia(records: records, folder: rendition.directoryName, target: target,
                                       codecs: rendition.codecString ?? "avc1.640028")
            videoStats.append(stats)
        }
        var audioStats: Stats?
        if let audio, let audioRecords {
            audioStats = try writeMedia(records: audioRecords, folder: audio.directoryName, target: target,
                                        codecs: CodecString.aacLC)
        }
        let audioOnlyStats = try audioOnly.map {
            try writeMedia(records: $0.log.records(), folder: $0.directoryName, target: target, codecs: CodecString.aacLC)
        }

        let iFrameWriter = IFramePlaylistWriter(directory: directory, format: format)
        var iFrames: [IFramePlaylistWriter.Written?] = []
        var warnings: [String] = []
        for (rendition, records) in zip(videos, videoRecords) {
            do {
                let total = records.reduce(0) { $0 + $1.duration }
                iFrames.append(try iFrameWriter.write(folder: rendition.directoryName, records: records, totalDuration: total))
            } catch {
                iFrames.append(nil)
                warnings.append("\(rendition.directoryName): no I-frame playlist, its segments could not be parsed: \(error)")
            }
        }

        var variants: [Variant] = []
        var iFrameVariants: [IFrameVariant] = []
        for (rendition, (stats, iFrame)) in zip(videos, zip(videoStats, iFrames)) {
            if let iFrame {
                iFrameVariants.append(IFrameVariant(uri: iFrame.playlist, bandwidth: iFrame.bandwidth.peak,
                                                    averageBandwidth: iFrame.bandwidth.average, codecs: [stats.codecs],
                                                    width: rendition.plan.width, height: rendition.plan.height,
                                                    videoRange: rendition.videoRange))
            }
            variants.append(Self.variant(uri: stats.playlist, videoCodecs: stats.codecs, video: stats.bandwidth,
                                         audio: audioStats.map { ($0.codecs, $0.bandwidth) },
                                         width: rendition.plan.width, height: rendition.plan.height, frameRate: frameRate,
                                         subtitlesGroup: subtitles.first?.groupID, videoRange: rendition.videoRange))
        }
        variants += audioOnlyStats.map {
            Self.audioOnlyVariant(uri: $0.playlist, bandwidth: $0.bandwidth, subtitlesGroup: subtitles.first?.groupID)
        }
        var media: [MediaRendition] = []
        if let audio, let audioStats {
            media.append(Self.audioRendition(language: audio.language, uri: audioStats.playlist))
        }
        media += subtitles
        let master = MasterPlaylist(variants: Self.startOrder(variants), media: media,
                                    iFrameVariants: Self.startOrder(iFrameVariants))
        try Self.writeAtomically(master.render(), to: directory.appendingPathComponent(Self.masterName))
        return Published(video: videoStats, audio: audioStats, audioOnly: audioOnlyStats, iFrames: iFrames, warnings: warnings)
    }

    private func writeMedia(records: [SegmentRecord], folder: String, target: Int, codecs: String) throws -> Stats {
        let path = folder + "/" + Self.mediaName
        let playlist = try Self.writeMediaPlaylist(records, to: path, in: directory, target: target,
                                                   mapURI: format == .fmp4 ? SegmentWriter.initName : nil)
        return Stats(playlist: path, segments: records.count, bytes: records.reduce(0) { $0 + $1.byteSize },
                     bandwidth: Bandwidth.measure(records, targetDuration: playlist.targetDuration), codecs: codecs)
    }

    /// Writes one media playlist at `path` (relative to `directory`) with the set's shared target
    /// duration: VOD with ENDLIST, or EVENT without it while a progressive transcode runs.
    @discardableResult
    static func writeMediaPlaylist(_ records: [SegmentRecord], to path: String, in directory: URL, target: Int,
                                   kind: MediaPlaylist.Kind = .vod, mapURI: String?) throws -> MediaPlaylist {
        var playlist = MediaPlaylist(segments: records, kind: kind, isComplete: kind == .vod, mediaSequence: 0, mapURI: mapURI)
        playlist.targetDurationOverride = target
        try writeAtomically(playlist.render(), to: directory.appendingPathComponent(path))
        return playlist
    }

    /// A variant: a video rendition plus the audio group it plays with, whose codecs and bandwidths add up.
    static func variant(uri: String, videoCodecs: String, video: BandwidthStats, audio: (codecs: String, bandwidth: BandwidthStats)?,
                        width: Int, height: Int, frameRate: Double, subtitlesGroup: String?, videoRange: VideoRange?) -> Variant {
        let bandwidth = audio.map { video + $0.bandwidth } ?? video
        return Variant(uri: uri, bandwidth: bandwidth.peak, averageBandwidth: bandwidth.average,
                       codecs: [videoCodecs] + (audio.map { [$0.codecs] } ?? []), width: width, height: height,
                       frameRate: frameRate > 0 ? frameRate : nil, audioGroup: audio == nil ? nil : audioGroup,
                       subtitlesGroup: subtitlesGroup, videoRange: videoRange, closedCaptions: .none)
    }

    /// A variant that is one audio rendition on its own: AAC-LC, no RESOLUTION, no audio group.
    static func audioOnlyVariant(uri: String, bandwidth: BandwidthStats, subtitlesGroup: String?) -> Variant {
        Variant(uri: uri, bandwidth: bandwidth.peak, averageBandwidth: bandwidth.average, codecs: [CodecString.aacLC],
                width: 0, height: 0, subtitlesGroup: subtitlesGroup)
    }

    /// The audio group's EXT-X-MEDIA entry: named after its language ("Main" when unknown).
    static func audioRendition(language: String, uri: String) -> MediaRendition {
        MediaRendition(kind: .audio, groupID: audioGroup, language: language,
                       name: language == "und" ? "Main" : LanguageTag.displayName(language),
                       isDefault: true, autoselect: true, channels: 2, uri: uri)
    }

    /// Variants in the order players should see them: the rung nearest 2 Mb/s first (Apple's
    /// advice), then from the highest bandwidth to the lowest (see `VariantOrder`).
    static func startOrder(_ variants: [Variant]) -> [Variant] {
        VariantOrder.listing(variants)
    }

    /// I-frame streams from the largest picture to the smallest.
    static func startOrder(_ variants: [IFrameVariant]) -> [IFrameVariant] {
        variants.sorted { ($0.width * $0.height, $0.bandwidth) > ($1.width * $1.height, $1.bandwidth) }
    }

    static func writeAtomically(_ text: String, to url: URL) throws {
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw TranscodeError.io("writing \(url.path): \(error.localizedDescription)")
        }
    }
}
