import Foundation

/// The one writer of an output's playlists, fed segment values (`SegmentListener`): while a
/// progressive transcode runs, each finished segment is listed in its rendition's EVENT playlist
/// (rewritten atomically) and the master appears once every rendition has a segment; at the end,
/// `publishFinal` writes the VOD playlists, the I-frame playlists and the master from the records
/// the streams ended with. Both masters are made by `master(...)`, from the same values.
///
/// Segments are listed only after their files are closed, so a player never fetches a
/// half-written one. The progressive master carries provisional bandwidths and no
/// EXT-X-I-FRAME-STREAM-INF (I-frame playlists are parsed from finished segments at the end).
final class HLSPublisher: SegmentListener, @unchecked Sendable {  // all state is read and written under `lock`
    struct Stats {
        var playlist: String
        var segments: Int
        var bytes: Int
        var bandwidth: BandwidthStats
        var codecs: String
    }

    struct Published {
        var video: [Stats]
        /// The audio group's renditions, the default first (empty without audio or for an audio-only source).
        var audio: [Stats]
        /// Per audio-only variant, in the order given.
        var audioOnly: [Stats]
        /// Per video rendition, its I-frame playlist; nil where it could not be made (see `warnings`).
        var iFrames: [IFramePlaylistWriter.Written?]
        var warnings: [String]
        /// Rungs found redundant (`RedundantRungs`), dropped or kept; a dropped rung's folder is
        /// gone and the master does not list it (its entries in `video` and `iFrames` stay, the
        /// latter nil, so they line up with the renditions given).
        var redundant: [TranscodeReport.RedundantRung] = []

        /// Folders of the video renditions dropped as redundant.
        var droppedFolders: Set<String> {
            Set(redundant.filter(\.dropped).map(\.name))
        }
    }

    /// What to do with a rung its lower neighbour makes redundant.
    enum RedundantRungPolicy {
        /// Remove its folder and leave it out of the master.
        case drop
        /// Keep it; the report says why.
        case keep(because: String)
    }

    /// CODECS of a video rendition whose stream has not shown its SPS yet.
    static let fallbackVideoCodecs = "avc1.640028"

    private let lock = NSLockLite()
    private let directory: URL
    private let format: SegmentFormat
    private let progressiveTarget: Int
    private let frameRate: Double
    private let videos: [RenditionSummary]
    private let audio: [RenditionSummary]
    private let audioOnly: [RenditionSummary]
    /// Written segment by segment beside the timing rendition (progressive only).
    private let progressiveSubtitles: ProgressiveSubtitles?
    /// EXT-X-SESSION-DATA entries of the master (the chapters).
    private let sessionData: [SessionData]
    private let progressive: Bool
    private var segments: [String: [SegmentRecord]] = [:]
    private var codecs: [String: String] = [:]
    private var ended: [String: [SegmentRecord]] = [:]
    private var masterWritten = false
    private var progressiveFailure: Error?

    /// - Parameters:
    ///   - videos, audio, audioOnly: the renditions, in the order the report lists them (`audio`:
    ///     the audio group, its default first).
    ///   - progressive: publish EVENT playlists as segments finish (with `subtitles` beside them).
    ///   - sessionData: EXT-X-SESSION-DATA of the final master (files written at the end, so the
    ///     progressive master leaves them out).
    init(directory: URL, format: SegmentFormat, segmentDuration: Double, frameRate: Double, videos: [RenditionSummary],
         audio: [RenditionSummary], audioOnly: [RenditionSummary], progressive: Bool, subtitles: ProgressiveSubtitles? = nil,
         sessionData: [SessionData] = []) {
        self.directory = directory
        self.format = format
        self.progressiveTarget = max(1, Int(segmentDuration.rounded(.up)))
        self.frameRate = frameRate
        self.videos = videos
        self.audio = audio
        self.audioOnly = audioOnly
        self.progressive = progressive
        self.progressiveSubtitles = subtitles
        self.sessionData = sessionData
        for rendition in videos + audio + audioOnly {
            if let known = rendition.codecs { codecs[rendition.folder] = known }
        }
    }

    /// The first error progressive publishing met (the transcode fails with it).
    var failure: Error? { lock.withLock { progressiveFailure } }

    private var all: [RenditionSummary] { videos + audio + audioOnly }

    /// The rendition whose segments the subtitle segments follow: the first video, else the first
    /// audio-only variant (an audio-only source).
    private var timingFolder: String? { videos.first?.folder ?? audioOnly.first?.folder }

    private var mapURI: String? { format == .fmp4 ? SegmentWriter.initName : nil }

    // MARK: - SegmentListener

    func segmentFinished(_ segment: FinishedSegment) {
        lock.withLock {
            if let known = segment.codecs { codecs[segment.rendition] = known }
            // The last segment is listed with ENDLIST by `publishFinal`.
            guard progressive, progressiveFailure == nil, !segment.isLast else { return }
            do {
                segments[segment.rendition, default: []].append(segment.record)
                let records = segments[segment.rendition] ?? []
                try PlaylistPublisher.writeMediaPlaylist(records, to: segment.rendition + "/" + PlaylistPublisher.mediaName,
                                                         in: directory, target: progressiveTarget, kind: .event, mapURI: mapURI)
                if segment.rendition == timingFolder, let progressiveSubtitles {
                    try progressiveSubtitles.publish(spansUpTo: records, targetDuration: progressiveTarget)
                }
                try writeProgressiveMasterIfReady()
            } catch {
                progressiveFailure = error
            }
        }
    }

    func streamEnded(rendition: String, records: [SegmentRecord], codecs: String?) {
        lock.withLock {
            if let codecs { self.codecs[rendition] = codecs }
            ended[rendition] = records
        }
    }

    /// A progressive set whose segments someone else wrote (a split job's committed prefix): each
    /// rendition's EVENT playlist from `records`, then the master once every rendition has a segment.
    /// - Throws: `TranscodeError.io` when a playlist cannot be written.
    func publishProgressive(_ records: [String: [SegmentRecord]]) throws {
        try lock.withLock {
            segments = records
            for rendition in all {
                guard let listed = records[rendition.folder], !listed.isEmpty else { continue }
                try PlaylistPublisher.writeMediaPlaylist(listed, to: rendition.playlist, in: directory, target: progressiveTarget,
                                                         kind: .event, mapURI: mapURI)
            }
            try writeProgressiveMasterIfReady()
        }
    }

    // MARK: - Playlists

    /// One EXT-X-TARGETDURATION for every rendition (Apple's rule): the longest final segment,
    /// rounded; for a progressive set, the one its EVENT playlists were published with (larger
    /// only if a segment outgrew it, which the playlists then cannot hide).
    var targetDuration: Int {
        let longest = lock.withLock { max(1, ended.values.flatMap { $0 }.map { Int($0.duration.rounded()) }.max() ?? 1) }
        return progressive ? max(progressiveTarget, longest) : longest
    }

    /// The final media playlists' type: VOD; a progressive set's stay EVENT and only gain their
    /// last segments and EXT-X-ENDLIST (RFC 8216 §6.2.1: an EVENT playlist is only appended to).
    var finalKind: MediaPlaylist.Kind { progressive ? .event : .vod }

    private func writeProgressiveMasterIfReady() throws {
        guard !masterWritten, all.allSatisfy({ !(segments[$0.folder] ?? []).isEmpty }) else { return }
        let subtitles = progressiveSubtitles?.renditions ?? []
        let master = master(
            videos: videos.map { ($0, codecs[$0.folder] ?? Self.fallbackVideoCodecs, $0.provisional) },
            audio: audio.map { ($0, CodecString.aacLC, $0.provisional) },
            audioOnly: audioOnly.map { ($0, $0.provisional) }, subtitles: subtitles, iFrames: [], sessionData: [])
        try PlaylistPublisher.writeAtomically(master.render(), to: directory.appendingPathComponent(PlaylistPublisher.masterName))
        masterWritten = true
    }

    /// Writes the final VOD playlists (ENDLIST), each video rendition's I-frame playlist (parsed
    /// from its segment files) and the master, from the records every stream ended with. Returns
    /// the measured figures. `subtitles` are EXT-X-MEDIA entries of subtitle renditions already
    /// written.
    ///
    /// The master lists the variants with VIDEO-RANGE and CLOSED-CAPTIONS=NONE, then one
    /// EXT-X-I-FRAME-STREAM-INF per variant whose I-frame playlist could be made: a segment that
    /// cannot be parsed costs that line and a warning, not the transcode.
    /// - Throws: `TranscodeError.io` when a playlist cannot be written.
    ///
    /// Video rungs its lower neighbour makes redundant by their measured bytes (`RedundantRungs`)
    /// are dropped (`redundant` `.drop`: folder removed, not in the master) or kept as the policy says.
    func publishFinal(subtitles: [MediaRendition] = [], redundant policy: RedundantRungPolicy = .drop) throws -> Published {
        let (ended, codecs) = lock.withLock { (self.ended, self.codecs) }
        let target = targetDuration
        var warnings: [String] = []
        if progressive, target > progressiveTarget {
            warnings.append("a segment outgrew the \(progressiveTarget) s target duration the progressive playlists were published with; the final playlists say \(target) s")
        }
        let redundant = settleRedundantRungs(ended: ended, policy: policy)
        let dropped = Set(redundant.filter(\.dropped).map(\.name))
        func stats(_ rendition: RenditionSummary, codecs: String) throws -> Stats {
            let records = ended[rendition.folder] ?? []
            if !dropped.contains(rendition.folder) {
                _ = try PlaylistPublisher.writeMediaPlaylist(records, to: rendition.playlist, in: directory, target: target,
                                                             kind: finalKind, complete: true, mapURI: mapURI)
            }
            return Stats(playlist: rendition.playlist, segments: records.count, bytes: records.reduce(0) { $0 + $1.byteSize },
                         bandwidth: Bandwidth.measure(records, targetDuration: target), codecs: codecs)
        }
        let videoStats = try videos.map { try stats($0, codecs: codecs[$0.folder] ?? Self.fallbackVideoCodecs) }
        let audioStats = try audio.map { try stats($0, codecs: CodecString.aacLC) }
        let audioOnlyStats = try audioOnly.map { try stats($0, codecs: CodecString.aacLC) }

        let iFrameWriter = IFramePlaylistWriter(directory: directory, format: format)
        var iFrames: [IFramePlaylistWriter.Written?] = []
        for video in videos {
            guard !dropped.contains(video.folder) else {
                iFrames.append(nil)
                continue
            }
            let records = ended[video.folder] ?? []
            do {
                let total = records.reduce(0) { $0 + $1.duration }
                iFrames.append(try iFrameWriter.write(folder: video.folder, records: records, totalDuration: total))
            } catch {
                iFrames.append(nil)
                warnings.append("\(video.folder): no I-frame playlist, its segments could not be parsed: \(error)")
            }
        }
        var iFrameVariants: [IFrameVariant] = []
        for (video, (stats, iFrame)) in zip(videos, zip(videoStats, iFrames)) {
            guard let iFrame, case .video(let width, let height, let videoRange) = video.role else { continue }
            iFrameVariants.append(IFrameVariant(uri: iFrame.playlist, bandwidth: iFrame.bandwidth.peak,
                                                averageBandwidth: iFrame.bandwidth.average, codecs: [stats.codecs],
                                                width: width, height: height, videoRange: videoRange))
        }
        let master = master(videos: zip(videos, videoStats).filter { !dropped.contains($0.0.folder) }.map { ($0, $1.codecs, $1.bandwidth) },
                            audio: zip(audio, audioStats).map { ($0, $1.codecs, $1.bandwidth) },
                            audioOnly: zip(audioOnly, audioOnlyStats).map { ($0, $1.bandwidth) },
                            subtitles: subtitles, iFrames: iFrameVariants, sessionData: sessionData)
        try PlaylistPublisher.writeAtomically(master.render(), to: directory.appendingPathComponent(PlaylistPublisher.masterName))
        // Last, so that a failure before this point leaves every rung's files for a resume.
        for folder in dropped.sorted() {
            let url = directory.appendingPathComponent(folder)
            do {
                if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            } catch {
                throw TranscodeError.io("cannot remove the redundant rung \(url.path): \((error as NSError).localizedDescription)")
            }
        }
        return Published(video: videoStats, audio: audioStats, audioOnly: audioOnlyStats, iFrames: iFrames, warnings: warnings,
                         redundant: redundant)
    }

    /// Finds the redundant video rungs by their bytes (init section included) and decides, by the
    /// policy, which are dropped (their folders are removed by `publishFinal`, last). Nothing is
    /// found in a set with one video rung.
    private func settleRedundantRungs(ended: [String: [SegmentRecord]], policy: RedundantRungPolicy) -> [TranscodeReport.RedundantRung] {
        let measured = videos.map { video in
            RedundantRungs.Measured(name: video.folder, bytes: (ended[video.folder] ?? []).reduce(0) { $0 + $1.byteSize } + initBytes(of: video.folder))
        }
        let findings = RedundantRungs.find(measured)
        var settled: [TranscodeReport.RedundantRung] = []
        for finding in findings {
            var rung = TranscodeReport.RedundantRung(name: finding.name, bytes: finding.bytes, lowerRung: finding.lower,
                                                     lowerBytes: finding.lowerBytes, dropped: false, keptBecause: nil)
            switch policy {
            case .keep(let reason):
                rung.keptBecause = reason
            case .drop where finding.neededForMinimum:
                rung.keptBecause = "a set keeps \(RedundantRungs.minimumKept) video bit rates (Apple's HLS authoring spec 9.9)"
            case .drop:
                rung.dropped = true
            }
            settled.append(rung)
        }
        return settled
    }

    /// Bytes of a video rendition's init section (fMP4), 0 when there is none.
    private func initBytes(of folder: String) -> Int {
        guard format == .fmp4 else { return 0 }
        let path = directory.appendingPathComponent(folder).appendingPathComponent(SegmentWriter.initName).path
        return ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// The master playlist: every video variant with the audio group, then the audio-only
    /// variants, in start order; the audio and subtitle renditions; the I-frame streams. A
    /// variant's bandwidth counts the audio group's largest rendition (RFC 8216 4.3.4.2: the
    /// largest playable combination).
    private func master(videos: [(RenditionSummary, codecs: String, BandwidthStats)],
                        audio: [(RenditionSummary, codecs: String, BandwidthStats)],
                        audioOnly: [(RenditionSummary, BandwidthStats)], subtitles: [MediaRendition],
                        iFrames: [IFrameVariant], sessionData: [SessionData]) -> MasterPlaylist {
        let subtitlesGroup = subtitles.first?.groupID
        let largestAudio = audio.first.map { first in
            (codecs: first.codecs, bandwidth: audio.map(\.2).reduce(first.2) { BandwidthStats(peak: max($0.peak, $1.peak), average: max($0.average, $1.average)) })
        }
        var variants: [Variant] = videos.compactMap { video, codecs, bandwidth in
            guard case .video(let width, let height, let videoRange) = video.role else { return nil }
            return PlaylistPublisher.variant(uri: video.playlist, videoCodecs: codecs, video: bandwidth,
                                             audio: largestAudio, width: width, height: height,
                                             frameRate: frameRate, subtitlesGroup: subtitlesGroup, videoRange: videoRange)
        }
        variants += audioOnly.map { rendition, bandwidth in
            PlaylistPublisher.audioOnlyVariant(uri: rendition.playlist, bandwidth: bandwidth, subtitlesGroup: subtitlesGroup)
        }
        var media: [MediaRendition] = []
        for (rendition, _, _) in audio {
            guard case .audioGroup(let label) = rendition.role else { continue }
            media.append(PlaylistPublisher.audioRendition(label, uri: rendition.playlist))
        }
        media += subtitles
        return MasterPlaylist(variants: PlaylistPublisher.startOrder(variants), media: media,
                              iFrameVariants: PlaylistPublisher.startOrder(iFrames), sessionData: sessionData)
    }
}
