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
    }

    let directory: URL
    let format: SegmentFormat
    let segmentDuration: Double

    /// One EXT-X-TARGETDURATION for every rendition (Apple's rule): the longest segment, rounded.
    static func targetDuration(videos: [VideoRendition], audio: AudioRendition?) -> Int {
        let all = videos.map { $0.log.records() } + (audio.map { [$0.log.records()] } ?? [])
        return max(1, all.flatMap { $0 }.map { Int($0.duration.rounded()) }.max() ?? 1)
    }

    /// Writes the final VOD playlists (ENDLIST) and the master. Returns the measured figures.
    /// `subtitles` are EXT-X-MEDIA entries of subtitle renditions already written.
    func publishFinal(videos: [VideoRendition], audio: AudioRendition?, frameRate: Double,
                      subtitles: [MediaRendition] = []) throws -> Published {
        let videoRecords = videos.map { $0.log.records() }
        let audioRecords = audio?.log.records()
        let target = Self.targetDuration(videos: videos, audio: audio)

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

        var variants: [Variant] = []
        for (rendition, stats) in zip(videos, videoStats) {
            var codecs = [stats.codecs]
            var peak = stats.bandwidth.peak
            var average = stats.bandwidth.average
            if let audioStats {
                codecs.append(audioStats.codecs)
                peak += audioStats.bandwidth.peak
                average += audioStats.bandwidth.average
            }
            variants.append(Variant(uri: stats.playlist, bandwidth: peak, averageBandwidth: average, codecs: codecs,
                                    width: rendition.plan.width, height: rendition.plan.height,
                                    frameRate: frameRate > 0 ? frameRate : nil,
                                    audioGroup: audioStats == nil ? nil : Self.audioGroup,
                                    subtitlesGroup: subtitles.first?.groupID))
        }
        var media: [MediaRendition] = []
        if let audio, let audioStats {
            let name = audio.language == "und" ? "Main" : LanguageTag.displayName(audio.language)
            media.append(MediaRendition(kind: .audio, groupID: Self.audioGroup, language: audio.language, name: name,
                                        isDefault: true, autoselect: true, channels: 2, uri: audioStats.playlist))
        }
        media += subtitles
        let master = MasterPlaylist(variants: Self.startOrder(variants), media: media)
        try Self.writeAtomically(master.render(), to: directory.appendingPathComponent(Self.masterName))
        return Published(video: videoStats, audio: audioStats)
    }

    private func writeMedia(records: [SegmentRecord], folder: String, target: Int, codecs: String) throws -> Stats {
        var playlist = MediaPlaylist(segments: records, kind: .vod, isComplete: true, mediaSequence: 0,
                                     mapURI: format == .fmp4 ? SegmentWriter.initName : nil)
        playlist.targetDurationOverride = target
        let path = folder + "/" + Self.mediaName
        try Self.writeAtomically(playlist.render(), to: directory.appendingPathComponent(path))
        return Stats(playlist: path, segments: records.count, bytes: records.reduce(0) { $0 + $1.byteSize },
                     bandwidth: Bandwidth.measure(records, targetDuration: playlist.targetDuration), codecs: codecs)
    }

    /// Variants from the highest bandwidth to the lowest.
    ///
    /// Apple suggests listing a mid rung (about 2 Mb/s) first so players start there, but
    /// GStreamer's hlsdemux (1.22) stalls when it switches *up* to a variant while an alternate
    /// audio rendition is playing; starting at the top avoids that switch.
    static func startOrder(_ variants: [Variant]) -> [Variant] {
        variants.sorted { $0.bandwidth > $1.bandwidth }
    }

    static func writeAtomically(_ text: String, to url: URL) throws {
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw TranscodeError.io("writing \(url.path): \(error.localizedDescription)")
        }
    }
}
