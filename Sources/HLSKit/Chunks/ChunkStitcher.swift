import Foundation

/// Stitches a plan's committed chunks into one HLS set: I/O only. Checks every chunk against the
/// plan (`ChunkJoin`), copies each segment into a staging folder beside the output (checking its
/// SHA-256 on the way and renumbering its fMP4 fragment sequence numbers or MPEG-TS continuity
/// counters, so each rendition reads as one stream), writes the playlists through the same
/// publisher a transcode uses, and moves the folder into place. The chunk folders are only read,
/// so a stitch that dies can simply run again.
struct ChunkStitcher {
    let work: ChunkWork
    let plan: ChunkPlanFile

    /// One rendition's segments, in order, each with the chunk folder it comes from.
    private struct Joined {
        var folder: String
        var segments: [(segment: ChunkManifest.Segment, chunk: String)]
        var initSection: (file: ChunkManifest.File, chunk: String)?
        var codecs: String?
        /// The measured quality of every chunk merged; nil unless every chunk measured it.
        var quality: QualitySums? = nil
        /// An audio rendition's loudness normalisation, as the audio chunk measured it.
        var loudness: LoudnessOutcome? = nil
        var frames: Int { segments.reduce(0) { $0 + $1.segment.frames } }
        var records: [SegmentRecord] { segments.map(\.segment.record) }
    }

    /// The stitch. With `inPlace` (a progressive split job) the set is finished where
    /// `publishPrefix` has been publishing it: every file written again (the same bytes, renamed
    /// over), then the final playlists, which stay EVENT and gain their last segments and ENDLIST
    /// (RFC 8216 §6.2.1); otherwise it is staged beside `output` and appears at once.
    /// - Throws: `ChunkError.notReady` (a chunk is not committed), `.jobFailed`, `.mismatch` (a
    ///   chunk does not fit the plan, or a file is not what its manifest says), `TranscodeError`
    ///   for the output.
    func stitch(output: URL, overwrite: Bool, exclusive: Bool, inPlace: Bool = false) throws -> TranscodeReport {
        let started = Date()
        try work.checkNotFailed()
        var manifests: [ChunkName: ChunkManifest] = [:]
        var missing: [String] = []
        for chunk in plan.layout.chunks {
            if let manifest = try work.manifest(of: chunk) { manifests[chunk] = manifest } else { missing.append(chunk.folder) }
        }
        guard missing.isEmpty else {
            throw ChunkError.notReady("\(work.root.path): not every chunk is committed yet (missing: \(missing.joined(separator: ", ")))")
        }
        for (chunk, manifest) in manifests where manifest.planId != plan.id || manifest.chunk != chunk.folder {
            throw ChunkError.mismatch("\(work.root.path): chunk \(chunk.folder) was not encoded under this plan")
        }
        let videoManifests = (0..<plan.layout.videoChunks).map { manifests[.video($0)]! }
        let audioManifest = manifests[.audio]!
        let videos = try plan.resume.renditions.map { try joinVideo($0.folder, videoManifests) }
        try checkFrames(videos, manifests: Array(manifests.values), audio: audioManifest)
        let audios = audioManifest.renditions.map { rendition in
            Joined(folder: rendition.folder, segments: rendition.segments.map { ($0, ChunkName.audio.folder) },
                   initSection: rendition.initSection.map { ($0, ChunkName.audio.folder) }, codecs: rendition.codecs,
                   loudness: rendition.loudness)
        }

        let staging = inPlace ? nil : try OutputStaging(target: output, overwrite: overwrite, exclusive: exclusive)
        do {
            let directory = staging?.staging ?? output.standardizedFileURL
            if inPlace {
                do {
                    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                } catch {
                    throw TranscodeError.cannotCreateOutput("cannot create \(directory.path): \((error as NSError).localizedDescription)")
                }
            }
            var report = try write(videos: videos, audios: audios, into: directory, videoEnd: audioManifest.videoEnd,
                                   redundant: try plan.options().redundantRungPolicy(inPlace: inPlace), progressive: inPlace)
            if let staging {
                try staging.commit()
            } else {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(PublishedPrefix.fileName))
                do {
                    try DiskSync.syncTree(directory)
                } catch {
                    throw TranscodeError.io("cannot flush \(directory.path) to disk: \(error)")
                }
            }
            report.output = (staging?.target ?? directory).path
            // The whole split transcode's wall time, from the plan to this stitch.
            report.elapsedSeconds = max(Date().timeIntervalSince(started), Date().timeIntervalSince1970 - plan.plannedAt)
            report.decodedVideoFrames = audioManifest.videoFrames ?? videos.first?.frames ?? 0
            let ordered = plan.layout.chunks.compactMap { manifests[$0] }
            report.chunks = TranscodeReport.Chunks(videoChunks: plan.layout.videoChunks, chunkSegments: plan.layout.chunkSegments,
                                                   encodeSeconds: ordered.map(\.encodeSeconds), workers: ordered.map { $0.worker ?? "" })
            report.warnings += Array(Set(ordered.flatMap(\.warnings))).sorted()
            return report
        } catch {
            staging?.discard()
            throw error
        }
    }

    private func joinVideo(_ folder: String, _ manifests: [ChunkManifest]) throws -> Joined {
        var parts: [ChunkJoin.Part] = []
        var inits: [(chunk: String, section: ChunkManifest.File?)] = []
        var codecs: String?
        var quality: QualitySums? = QualitySums()
        for manifest in manifests {
            guard let rendition = manifest.rendition(folder) else {
                throw ChunkError.mismatch("\(work.root.path): chunk \(manifest.chunk) has no \(folder) rendition")
            }
            parts.append(ChunkJoin.Part(chunk: manifest.chunk, firstSegment: manifest.firstSegment,
                                        endSegment: manifest.endSegment, segments: rendition.segments))
            if !rendition.segments.isEmpty { inits.append((manifest.chunk, rendition.initSection)) }
            codecs = codecs ?? rendition.codecs
            if let measured = rendition.quality { quality?.merge(measured) } else { quality = nil }
        }
        do {
            let joined = try ChunkJoin.join(rendition: folder, parts: parts)
            let common = try ChunkJoin.commonInit(rendition: folder, inits)
            var chunkOf: [Int: String] = [:]
            for part in parts { for segment in part.segments { chunkOf[segment.index] = part.chunk } }
            return Joined(folder: folder, segments: joined.map { ($0, chunkOf[$0.index]!) },
                          initSection: common.map { ($0, inits[0].chunk) }, codecs: codecs, quality: quality)
        } catch {
            throw ChunkError.mismatch("\(work.root.path): \(error)")
        }
    }

    /// Every rendition holds the same number of frames, the source's (when nothing was dropped:
    /// a source over 60 fps is decimated, corrupt data is skipped).
    private func checkFrames(_ videos: [Joined], manifests: [ChunkManifest], audio: ChunkManifest) throws {
        guard let first = videos.first else { return }
        for video in videos.dropFirst() where video.frames != first.frames {
            throw ChunkError.mismatch("\(work.root.path): \(video.folder) holds \(video.frames) frames, \(first.folder) \(first.frames)")
        }
        // Pictures shown again to fill holes are in the renditions, not in the source.
        let held = manifests.reduce(0) { $0 + ($1.heldFrames ?? 0) }
        if let source = audio.videoFrames, !plan.decimated, manifests.allSatisfy({ $0.warnings.isEmpty }), first.frames != source + held {
            throw ChunkError.mismatch("\(work.root.path): the renditions hold \(first.frames) frames, the source has \(source)"
                                      + (held > 0 ? " and \(held) were shown again in holes" : ""))
        }
    }

    /// Copies every file into `directory` and writes the playlists; the report without the run's figures.
    private func write(videos: [Joined], audios: [Joined], into directory: URL, videoEnd: Double?,
                       redundant: HLSPublisher.RedundantRungPolicy, progressive: Bool) throws -> TranscodeReport {
        for rendition in videos { try copy(rendition, into: directory, format: format, renumber: true) }
        for rendition in audios { try copy(rendition, into: directory, format: format, renumber: false) }

        let template = plan.report
        let main = audios.first { $0.folder == template.audio.map { Self.folder(of: $0) } }
        let lowBandwidth = audios.first { $0.folder == template.audioOnlyVariant.map { Self.folder(of: $0) } }
        let publisher = publisher(into: directory, videoCodecs: videos.map(\.codecs), audioFolders: Set(audios.map(\.folder)),
                                  progressive: progressive)
        for rendition in videos + audios {
            publisher.streamEnded(rendition: rendition.folder, records: rendition.records, codecs: rendition.codecs)
        }
        let end = videoEnd ?? videos.first?.records.last.map { $0.startTime + $0.duration } ?? 0
        let subtitles = try publishSubtitles(into: directory, timing: videos.first, format: format,
                                             target: publisher.targetDuration, kind: publisher.finalKind, totalDuration: end)
        let published = try publisher.publishFinal(subtitles: subtitles.map(\.rendition), redundant: redundant)
        let dropped = published.droppedFolders

        let renditions = zip(zip(template.videos, videos), zip(published.video, published.iFrames))
            .filter { !dropped.contains($0.0.1.folder) }.map { planned, written in
            let ((plannedVideo, joined), (stats, iFrames)) = (planned, written)
            var rendition = plannedVideo.report
            rendition.codecs = stats.codecs
            rendition.segments = stats.segments
            rendition.bytes = stats.bytes
            rendition.peakBandwidth = stats.bandwidth.peak
            rendition.averageBandwidth = stats.bandwidth.average
            rendition.encodedFrames = joined.frames
            rendition.quality = joined.quality.flatMap { $0.frames > 0 ? TranscodeReport.Quality(sums: $0) : nil }
            rendition.encoder.profile = StreamProfile.name(ofAVC1: stats.codecs)
            rendition.encoder.level = StreamProfile.level(ofAVC1: stats.codecs) ?? plannedVideo.level
            rendition.iFrames = iFrames.map { .init(playlist: $0.playlist, iFrames: $0.iFrames, peakBandwidth: $0.bandwidth.peak,
                                                    averageBandwidth: $0.bandwidth.average) }
            return rendition
        }
        func measured(_ audio: TranscodeReport.Audio?, _ stats: HLSPublisher.Stats?, _ joined: Joined?) -> TranscodeReport.Audio? {
            guard var audio, let stats, let joined else { return nil }
            audio.loudness = joined.loudness
            audio.segments = stats.segments
            audio.bytes = stats.bytes
            audio.peakBandwidth = stats.bandwidth.peak
            audio.averageBandwidth = stats.bandwidth.average
            return audio
        }
        let segments = (published.video + published.audio + published.audioOnly).reduce(0) { $0 + $1.segments }
        let mainAudio = measured(template.audio, published.audio.first, main)
        var report = TranscodeReport(
            input: template.input, output: directory.path, master: PlaylistPublisher.masterName,
            segmentFormat: format.rawValue, segmentDuration: plan.layout.segmentDuration, durationSeconds: end,
            elapsedSeconds: 0, source: template.source, decodedVideoFrames: 0, renditions: renditions,
            audio: mainAudio, audioTracks: [mainAudio].compactMap { $0 },
            audioOnlyVariant: measured(template.audioOnlyVariant, published.audioOnly.first, lowBandwidth),
            subtitles: subtitles.map { .init(language: $0.rendition.language ?? "und", cues: $0.cues) },
            warnings: template.warnings + published.warnings + subtitles.flatMap(\.warnings))
        report.resume.segmentsEncoded = segments
        report.redundantRungs = published.redundant
        return report
    }

    /// The publisher of the plan's renditions in `directory`: every video rung (with its CODECS
    /// when known), the main audio and the low-bandwidth variant when `audioFolders` holds them.
    func publisher(into directory: URL, videoCodecs: [String?], audioFolders: Set<String>, progressive: Bool) -> HLSPublisher {
        let template = plan.report
        let videos = zip(template.videos, zip(plan.resume.renditions, videoCodecs)).map { planned, rendition in
            RenditionSummary(folder: rendition.0.folder,
                             role: .video(width: planned.report.width, height: planned.report.height, videoRange: planned.videoRange),
                             provisional: BandwidthStats(peak: planned.report.encoder.maxrate, average: planned.report.encoder.bitrate),
                             codecs: rendition.1)
        }
        func audio(_ audio: TranscodeReport.Audio?, role: (TranscodeReport.Audio) -> RenditionSummary.Role) -> RenditionSummary? {
            guard let audio, audioFolders.contains(Self.folder(of: audio)) else { return nil }
            return RenditionSummary(folder: Self.folder(of: audio), role: role(audio),
                                    provisional: BandwidthStats(peak: audio.bitrate * 11 / 10, average: audio.bitrate),
                                    codecs: CodecString.aacLC)
        }
        return HLSPublisher(directory: directory, format: format, segmentDuration: plan.layout.segmentDuration,
                            frameRate: plan.frameRate, videos: videos,
                            audio: [audio(template.audio) { .audioGroup(AudioTrackLabels.labels([.init(language: $0.language, describesVideo: false)], defaultIndex: 0)[0]) }].compactMap { $0 },
                            audioOnly: [audio(template.audioOnlyVariant) { _ in .audioOnly }].compactMap { $0 },
                            progressive: progressive)
    }

    var format: SegmentFormat { SegmentFormat(rawValue: plan.resume.settings.segmentFormat) ?? .fmp4 }

    private static func folder(of audio: TranscodeReport.Audio) -> String {
        String(audio.playlist.prefix { $0 != "/" })
    }

    /// Copies a rendition's files from the chunk folders, checking each against its manifest;
    /// video segments continue one another's fragment numbers or continuity counters.
    private func copy(_ rendition: Joined, into directory: URL, format: SegmentFormat, renumber: Bool) throws {
        let folder = directory.appendingPathComponent(rendition.folder)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw TranscodeError.cannotCreateOutput("cannot create \(folder.path): \((error as NSError).localizedDescription)")
        }
        if let (section, chunk) = rendition.initSection {
            let bytes = try read(section.file, of: rendition.folder, in: chunk, bytes: section.bytes, sha256: section.sha256)
            try store(bytes, to: folder.appendingPathComponent(section.file))
        }
        var renumbering = StreamRenumbering()
        for (segment, chunk) in rendition.segments {
            try copy(segment, of: rendition.folder, in: chunk, to: folder, renumbering: &renumbering, renumber: renumber)
        }
    }

    /// Copies one segment file from its chunk (checked against the manifest), renumbered to
    /// continue `renumbering` when `renumber` (video; the audio is one stream already).
    func copy(_ segment: ChunkManifest.Segment, of rendition: String, in chunk: String, to folder: URL,
              renumbering: inout StreamRenumbering, renumber: Bool) throws {
        var bytes = try read(segment.file, of: rendition, in: chunk, bytes: segment.bytes, sha256: segment.sha256)
        do {
            if renumber { try renumbering.apply(&bytes, format: format) }
        } catch {
            throw ChunkError.mismatch("\(work.root.path): \(chunk)/\(rendition)/\(segment.file): \(error)")
        }
        try store(bytes, to: folder.appendingPathComponent(segment.file))
    }

    func read(_ file: String, of rendition: String, in chunk: String, bytes expectedBytes: Int, sha256: String) throws -> [UInt8] {
        let url = work.chunksURL.appendingPathComponent(chunk).appendingPathComponent(rendition).appendingPathComponent(file)
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: url))
        } catch {
            throw ChunkError.mismatch("\(url.path): cannot be read (\((error as NSError).localizedDescription))")
        }
        guard bytes.count == expectedBytes, try SHA256.of(bytes: bytes) == sha256 else {
            throw ChunkError.mismatch("\(url.path) is not the file its chunk's manifest names (size or SHA-256 differ)")
        }
        return bytes
    }

    /// Writes a file under a temporary name and renames it (a progressive output is read while written).
    func store(_ bytes: [UInt8], to url: URL) throws {
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw TranscodeError.io("cannot write \(url.path): \((error as NSError).localizedDescription)")
        }
    }

    /// The subtitle renditions, from the copies the plan made, on the first video rendition's boundaries.
    private func publishSubtitles(into directory: URL, timing: Joined?, format: SegmentFormat, target: Int,
                                  kind: MediaPlaylist.Kind, totalDuration: Double) throws -> [SubtitlePublisher.Published] {
        guard let timing, !plan.subtitles.isEmpty else { return [] }
        let tracks = plan.subtitles.map { SubtitleTrack(language: $0.language, name: $0.name, path: work.root.appendingPathComponent($0.file).path) }
        let loaded = try LoadedSubtitles.load(tracks, maxBytes: InputLimits().maxSubtitleBytes)
        return try TranscodePipeline.publishSubtitles(loaded, directory: directory, folder: timing.folder, records: timing.records,
                                                      format: format, targetDuration: target, kind: kind, totalDuration: totalDuration,
                                                      sourceOffset: plan.videoStartInSource)
    }
}
