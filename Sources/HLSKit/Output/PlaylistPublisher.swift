import Foundation

/// The playlist files' names, and the pieces every playlist writer shares (`HLSPublisher`,
/// `SubtitlePublisher`, `IFramePlaylistWriter`): atomic writes, media playlists with the set's
/// target duration, master entries. Every file is replaced atomically (temporary file, then rename).
enum PlaylistPublisher {
    static let masterName = "master.m3u8"
    static let mediaName = "index.m3u8"
    static let audioGroup = "audio"

    /// Writes one media playlist at `path` (relative to `directory`) with the set's shared target
    /// duration: VOD with ENDLIST; EVENT without it while a progressive transcode runs, and with it
    /// (`complete`) when that transcode ends.
    @discardableResult
    static func writeMediaPlaylist(_ records: [SegmentRecord], to path: String, in directory: URL, target: Int,
                                   kind: MediaPlaylist.Kind = .vod, complete: Bool? = nil, mapURI: String?) throws -> MediaPlaylist {
        var playlist = MediaPlaylist(segments: records, kind: kind, isComplete: complete ?? (kind == .vod), mediaSequence: 0, mapURI: mapURI)
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

    /// One EXT-X-MEDIA entry of the audio group, as `label` says (NAME in the track's language,
    /// DEFAULT, AUTOSELECT, CHARACTERISTICS for an audio description).
    static func audioRendition(_ label: AudioTrackLabel, uri: String) -> MediaRendition {
        MediaRendition(kind: .audio, groupID: audioGroup, language: label.language,
                       name: label.name, isDefault: label.isDefault, autoselect: label.autoselect, channels: 2, uri: uri,
                       characteristics: label.describesVideo ? [MediaRendition.describesVideo] : [])
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
