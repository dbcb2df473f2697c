import Foundation

/// One transcode split by time, for many machines over a shared folder (`WORK`): `plan` once,
/// `encode` every chunk anywhere, in any order, as many times as a batch system likes, then
/// `stitch` once into the same HLS set `Transcoder.transcode` makes. A chunk is a range of the
/// plan's segments, encoded from a pre-roll before it (dropped); the plan pins every setting that
/// decides the bytes, so the chunks' init sections are the same and their joins fall on IDR
/// frames. The audio is its own chunk, encoded whole. `stitch` only moves bytes: it checks the
/// chunks against the plan, renumbers the fMP4 fragment sequence / MPEG-TS continuity counters so
/// each rendition is one stream, and writes the playlists.
public enum ChunkedTranscode {
    /// What `plan` decided.
    public struct Plan: Sendable, Codable, Equatable {
        /// The plan's id (a lowercased UUID), which every chunk's manifest names.
        public var planId: String
        /// Every chunk, as `encode` takes them: `0` … `K-1`, then `audio`.
        public var chunks: [String]
        /// How many video chunks (K); the audio chunk is not counted.
        public var videoChunks: Int
        /// Segments per video chunk (the last chunk may hold fewer).
        public var chunkSegments: Int
        /// Target segment duration in seconds, as the options gave it.
        public var segmentDuration: Double
        /// The container's duration (nil when it does not say).
        public var durationSeconds: Double?
        /// The work folder held this plan already (the same source and settings).
        public var reused: Bool
    }

    /// What `encode` did.
    public struct Chunk: Sendable {
        /// The committed chunk's `manifest.json`: its segments per rendition (bytes, SHA-256,
        /// timing), the worker and the encoding time.
        public var manifest: ChunkManifest
        /// The chunk was committed before (by another run); nothing was encoded.
        public var alreadyCommitted: Bool
    }

    /// Plans the split of `input` into `work` (created): probes the source and decodes its first
    /// video frame, then writes `plan.json` atomically (the first planner wins; a plan already there
    /// for the same source and settings is reused).
    ///
    /// - Parameters:
    ///   - input: path of the source media file, as for ``Transcoder/transcode(input:output:options:progress:)``.
    ///   - work: the shared work folder (created when missing) every machine sees.
    ///   - options: the settings every chunk is encoded with, pinned in the plan (added audio
    ///     files are refused; chapters, storyboard and poster are not made by split transcodes).
    ///   - chunkDuration: seconds of media per video chunk (whole segments); 0: one chunk.
    ///   - replace: a plan for another source or other settings is removed with everything
    ///     in `work` (otherwise that is `ChunkError.planExists`).
    /// - Throws: `TranscodeError` for the input (as `Transcoder.transcode`), `ChunkError`.
    /// - Cost: opening the source and decoding one frame; subtitle files are copied into `work`.
    public static func plan(input: String, work: URL, options: TranscodeOptions, chunkDuration: Double,
                            replace: Bool = false) async throws -> Plan {
        try await plan(input: input, work: work, options: options, chunkDuration: chunkDuration, replace: replace,
                       onlyIfSplit: false)!
    }

    /// `plan`, for a worker: a source shorter than two chunks (`ChunkLayout.splits`) is not
    /// split, and nil is returned without writing anything (a plan already in `work` is reused).
    public static func planIfSplit(input: String, work: URL, options: TranscodeOptions, chunkDuration: Double) async throws -> Plan? {
        try await plan(input: input, work: work, options: options, chunkDuration: chunkDuration, replace: true, onlyIfSplit: true)
    }

    private static func plan(input: String, work: URL, options: TranscodeOptions, chunkDuration: Double, replace: Bool,
                             onlyIfSplit: Bool) async throws -> Plan? {
        try Transcoder.checkInputFile(input)
        guard options.audioFiles.isEmpty else {
            if onlyIfSplit { return nil }
            throw TranscodeError.invalidInput("\(input): added audio tracks are not taken by split transcodes yet (transcode the file whole)")
        }
        guard !options.collapseGaps else {
            if onlyIfSplit { return nil }
            throw TranscodeError.invalidInput("\(input): collapsing gaps is not taken by split transcodes (transcode the file whole)")
        }
        let subtitles = try LoadedSubtitles.load(options.subtitles, maxBytes: options.limits.maxSubtitleBytes)
        let folder = ChunkWork(work)
        let fingerprint: SourceFingerprint
        do {
            fingerprint = try SourceFingerprinting.fingerprint(path: input)
        } catch {
            throw TranscodeError.inputMissing("\(input): cannot be read (\(error))")
        }
        let settings = ResumeSession.settings(options)
        if let existing = try? folder.readPlan() {
            if existing.resume.source == fingerprint, existing.resume.settings == settings,
               existing.resume.engine == EngineIdentity.current, existing.chunkDuration == chunkDuration,
               existing.subtitles.map(\.language) == options.subtitles.map(\.language),
               existing.measureQuality ?? false == options.measureQuality {
                // keepRedundantRungs only matters to the stitch: the plan's value stands.
                return summary(existing, reused: true)
            }
            guard replace else {
                throw ChunkError.planExists("\(folder.root.path) holds a plan for another source or other settings (use --force to replace it)")
            }
        }
        if replace, FileManager.default.fileExists(atPath: folder.root.path) {
            try removeContents(of: folder.root)
        }
        let cancel = InterruptFlag()
        let pipeline = TranscodePipeline(inputPath: input, directory: folder.root, options: options, subtitles: [],
                                         cancel: cancel, session: nil, part: .plan, progress: nil)
        let handoff = ThreadHandoff(value: pipeline)
        let (opened, timeline) = try await DecodeThread.run(cancel: cancel) { try handoff.value.runPlan() }
        let source = opened.source
        if onlyIfSplit, !ChunkLayout.splits(durationSeconds: source.durationSeconds, chunkDuration: chunkDuration) { return nil }
        // The audio part encodes the main audio stream alone: a source with more is transcoded whole.
        if source.audioStreams.count > 1 {
            if onlyIfSplit { return nil }
            throw TranscodeError.invalidInput("\(input): rejected: a source with \(source.audioStreams.count) audio streams is not split by time yet (transcode it whole)")
        }
        let resume = ResumePlan(engine: EngineIdentity.current, source: fingerprint, settings: settings,
                                firstTimestamp: timeline.firstTimestamp, timeBaseNumerator: timeline.timeBase.num,
                                timeBaseDenominator: timeline.timeBase.den, renditions: timeline.renditions)
        var plan = ChunkPlanFile(
            formatVersion: ChunkPlanFile.formatVersion, id: UUID().uuidString.lowercased(),
            layout: ChunkLayout(durationSeconds: source.durationSeconds, segmentDuration: options.segmentDuration,
                                chunkDuration: chunkDuration), chunkDuration: chunkDuration,
            durationSeconds: source.durationSeconds, resume: resume, preRollSeconds: options.resumePreRollSeconds,
            maxDuration: options.limits.maxDuration, maxDimension: options.limits.maxDimension,
            measureQuality: options.measureQuality, keepRedundantRungs: options.keepRedundantRungs, subtitles: [],
            videoStartInSource: timeline.sourceOffset, decimated: source.needsDecimation, frameRate: source.outputPeakFrameRate,
            report: ChunkPlanFile.reportTemplate(input: input, opened: opened, timeline: timeline, options: options),
            plannedAt: Date().timeIntervalSince1970)
        do {
            try FileManager.default.createDirectory(at: folder.root, withIntermediateDirectories: true)
            let copies = folder.root.appendingPathComponent(ChunkWork.subtitlesFolder)
            for (position, subtitle) in subtitles.enumerated() {
                try FileManager.default.createDirectory(at: copies, withIntermediateDirectories: true)
                let name = "\(position).srt"
                try ChunkWork.writeDurably(try SubtitleFile.read(subtitle.track.path, maxBytes: options.limits.maxSubtitleBytes),
                                           to: copies.appendingPathComponent(name))
                plan.subtitles.append(.init(language: subtitle.track.language, name: subtitle.track.name,
                                            file: ChunkWork.subtitlesFolder + "/" + name))
            }
        } catch let error as TranscodeError {
            throw error
        } catch {
            throw TranscodeError.cannotCreateOutput("cannot create \(folder.root.path): \((error as NSError).localizedDescription)")
        }
        let written = try folder.writeOnce(plan)
        return summary(written, reused: written.id != plan.id)
    }

    /// Encodes one chunk of the plan in `work` and commits it (`work/chunks/NAME/`, one rename of a
    /// complete folder holding its manifest). A chunk committed already is left as it is.
    ///
    /// Stops (commits nothing) when the job's failed marker appears.
    /// - Parameters:
    ///   - input: path of the source media file: the one the plan was made for (checked by its
    ///     size, modification time and content).
    ///   - work: the work folder holding the plan.
    ///   - chunk: which chunk: a video chunk `0` … `K-1` or the audio.
    ///   - worker: who encodes it, noted in the manifest.
    ///   - progress: as `Transcoder.transcode`'s, the fraction of this chunk.
    /// - Throws: `ChunkError` (no plan, unknown chunk, the source or engine differ from the plan's,
    ///   the job failed), `TranscodeError` from the engine (`.cancelled` when the task is cancelled).
    /// - Cost: the encoding of the chunk's segments plus its pre-roll (a video chunk), or of the
    ///   whole audio plus reading every video packet (the audio chunk).
    public static func encode(input: String, work: URL, chunk: ChunkName, worker: String? = nil,
                              progress: (@Sendable (TranscodeProgress) -> Void)? = nil) async throws -> Chunk {
        let folder = ChunkWork(work)
        let plan = try folder.plan()
        guard plan.layout.chunks.contains(chunk) else {
            throw ChunkError.unknownChunk("\(folder.root.path): no chunk \(chunk.argument) in the plan (chunks 0 to \(plan.layout.videoChunks - 1) and audio)")
        }
        try folder.checkNotFailed()
        if let manifest = try folder.manifest(of: chunk) { return Chunk(manifest: manifest, alreadyCommitted: true) }
        try Transcoder.checkInputFile(input)
        let fingerprint = try? SourceFingerprinting.fingerprint(path: input)
        if fingerprint != plan.resume.source {
            let difference = fingerprint.map { plan.resume.source.difference(from: $0) } ?? "it cannot be read"
            throw ChunkError.mismatch("\(input) is not the source \(folder.root.path) was planned for (\(difference) differ)")
        }
        if plan.resume.engine != EngineIdentity.current {
            throw ChunkError.mismatch("\(folder.root.path) was planned by another engine version (\(plan.resume.engine))")
        }
        let options = try plan.options()
        let part: TranscodePart
        let range: (first: Int, end: Int?)
        switch chunk {
        case .video(let k):
            range = plan.layout.segments(ofVideoChunk: k)
            part = .video(first: range.first, end: range.end, plan: plan.resume)
        case .audio:
            range = (0, nil)
            part = .audio(plan: plan.resume)
        }
        if FaultPoint.failsChunk(chunk.argument) { throw TranscodeError.io("chunk \(chunk.argument) fails (HLSIFY_TEST_FAIL_CHUNK)") }
        let started = Date()
        let scratch = try folder.makeScratch(for: chunk)
        let cancel = InterruptFlag()
        let watch = FailedMarkerWatch(folder: folder, cancel: cancel)
        let collector = ChunkCollector()
        let span = ChunkProgress(layout: plan.layout, range: range, duration: plan.durationSeconds)
        let pipeline = TranscodePipeline(inputPath: input, directory: scratch, options: options, subtitles: [], cancel: cancel,
                                         session: nil, part: part, collector: collector) { snapshot in
            watch.poll()
            progress?(span.map(snapshot))
        }
        let handoff = ThreadHandoff(value: pipeline)
        do {
            let (_, outcome) = try await DecodeThread.run(cancel: cancel) { try handoff.value.runPart() }
            let renditions = outcome.videos.map { collector.rendition($0.directoryName, initSection: $0.initFile, quality: $0.qualitySums) }
                + [outcome.audio, outcome.lowBandwidthAudio].compactMap { $0 }.map { collector.rendition($0.directoryName, initSection: $0.initFile, loudness: $0.loudnessReport) }
            let isAudio = chunk == .audio
            let manifest = ChunkManifest(planId: plan.id, chunk: chunk.folder, firstSegment: range.first, endSegment: range.end,
                                         renditions: renditions, videoFrames: isAudio ? outcome.skippedVideoPackets : nil,
                                         videoEnd: isAudio ? outcome.durationSeconds : nil,
                                         heldFrames: isAudio || outcome.heldFrames == 0 ? nil : outcome.heldFrames, warnings: outcome.warnings,
                                         worker: worker, encodeSeconds: Date().timeIntervalSince(started))
            try folder.checkNotFailed()
            try ChunkWork.writeDurably(try ChunkWork.encoder.encode(manifest),
                                       to: scratch.appendingPathComponent(ChunkManifest.fileName))
            let committed = try folder.commit(scratch, as: chunk)
            if committed { FaultPoint.reach(.chunkCommitted) }
            if !committed, let theirs = try folder.manifest(of: chunk) { return Chunk(manifest: theirs, alreadyCommitted: true) }
            return Chunk(manifest: manifest, alreadyCommitted: false)
        } catch {
            try? FileManager.default.removeItem(at: scratch)
            if case TranscodeError.cancelled = error, watch.sawMarker { try folder.checkNotFailed() }
            if let mismatch = error as? ResumeMismatch { throw ChunkError.mismatch("\(folder.root.path): \(mismatch.description)") }
            throw error
        }
    }

    /// Which chunks of the plan in `work` are committed, which are not, and whether the job failed.
    public struct Status: Sendable, Equatable {
        /// The id of the plan in the work folder.
        public var planId: String
        /// The chunks committed so far, in plan order.
        public var committed: [ChunkName]
        /// The chunks not committed yet, in plan order (empty when `stitch` can run).
        public var missing: [ChunkName]
        /// Why the job failed, when its failed marker is there.
        public var failure: String?
        /// 0…1: committed media over the whole (the video chunks by their segments, the audio as one more chunk).
        public var fraction: Double
        /// Who encoded each committed chunk.
        public var workers: [ChunkName: String]
    }

    /// Reads the work folder's state (what is committed), never anything kept elsewhere.
    /// - Throws: `ChunkError.noPlan`, `.mismatch` when a manifest cannot be read.
    public static func status(work: URL) throws -> Status {
        let folder = ChunkWork(work)
        let plan = try folder.plan()
        var committed: [ChunkName] = []
        var missing: [ChunkName] = []
        var workers: [ChunkName: String] = [:]
        for chunk in plan.layout.chunks {
            if let manifest = try folder.manifest(of: chunk) {
                committed.append(chunk)
                workers[chunk] = manifest.worker
            } else {
                missing.append(chunk)
            }
        }
        let fraction = Double(committed.count) / Double(max(1, plan.layout.chunks.count))
        return Status(planId: plan.id, committed: committed, missing: missing, failure: folder.failure,
                      fraction: fraction, workers: workers)
    }

    /// Leaves the job's failed marker in `work` (the first one stays): every chunk still encoding
    /// stops, none commits, and `stitch` refuses. Returns true when this call left it (the one
    /// caller that reports the failure).
    @discardableResult
    public static func markFailed(work: URL, chunk: String, error: String) throws -> Bool {
        try ChunkWork(work).markFailed(chunk: chunk, error: error)
    }

    private static func summary(_ plan: ChunkPlanFile, reused: Bool) -> Plan {
        Plan(planId: plan.id, chunks: plan.layout.chunks.map(\.argument), videoChunks: plan.layout.videoChunks,
             chunkSegments: plan.layout.chunkSegments, segmentDuration: plan.layout.segmentDuration,
             durationSeconds: plan.durationSeconds, reused: reused)
    }

    private static func removeContents(of folder: URL) throws {
        let fileManager = FileManager.default
        do {
            for name in try fileManager.contentsOfDirectory(atPath: folder.path) {
                try fileManager.removeItem(at: folder.appendingPathComponent(name))
            }
        } catch {
            throw TranscodeError.cannotCreateOutput("cannot empty \(folder.path): \((error as NSError).localizedDescription)")
        }
    }
}

extension ChunkedTranscode {
    /// Stitches the committed chunks in `work` into one HLS set at `output` (which appears all at
    /// once, like a transcode's), no encoding. `work` is left as it is.
    ///
    /// - Parameters:
    ///   - work: the work folder holding the plan and the committed chunks.
    ///   - output: the HLS set's folder, as `Transcoder.transcode`'s `output`.
    ///   - overwrite: replace an existing output.
    ///   - ownsOutputSlot: the caller holds the output's lock (`TranscodeOptions.ownsOutputSlot`).
    ///   - inPlace: finish a progressive set `publishProgress` has been publishing at `output`.
    /// - Returns: the same report a transcode gives, with `chunks`.
    /// - Throws: `ChunkError.notReady` while a chunk is missing, `.jobFailed`, `.mismatch` when a
    ///   chunk does not fit the plan or a file differs from its manifest; `TranscodeError` for the output.
    /// - Cost: reads and writes every byte of the output once; hashes it once.
    public static func stitch(work: URL, output: URL, overwrite: Bool = false, ownsOutputSlot: Bool = false,
                              inPlace: Bool = false) async throws -> TranscodeReport {
        let folder = ChunkWork(work)
        let plan = try folder.plan()
        let cancel = InterruptFlag()
        let stitcher = ChunkStitcher(work: folder, plan: plan)
        return try await DecodeThread.run(cancel: cancel) {
            try stitcher.stitch(output: output, overwrite: overwrite, exclusive: ownsOutputSlot, inPlace: inPlace)
        }
    }

    /// A progressive split job: publishes at `output`, in place, the part of the plan in `work`
    /// committed from its start (EVENT playlists, the master once every rendition has a segment),
    /// continuing what an earlier call published. Call it, holding the output's lock, after each
    /// chunk commits; `stitch(…, inPlace: true)` finishes the set. Returns the video chunks published.
    /// - Throws: `ChunkError` (no plan, the job failed, a chunk's file differs), `TranscodeError` for the output.
    public static func publishProgress(work: URL, output: URL) throws -> Int {
        let folder = ChunkWork(work)
        return try ChunkStitcher(work: folder, plan: try folder.plan()).publishPrefix(output: output)
    }
}
