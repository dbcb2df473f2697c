import CFFmpeg
import Foundation

/// One transcode, run synchronously on a thread the caller owns: demux and decode once, hand
/// every decoded frame (by reference) to each rung's thread, encode audio on this thread, then
/// write the playlists. Everything lands in `directory` (the staging folder).
final class TranscodePipeline {
    let inputPath: String
    let directory: URL
    let options: TranscodeOptions
    /// Collapsing gaps, moved onto the output's clock once the holes are known.
    private(set) var subtitles: [LoadedSubtitles]
    /// `options.chapters` read and parsed; nil without.
    let chapters: LoadedChapters?
    let cancel: InterruptFlag
    let progress: ((TranscodeProgress) -> Void)?
    /// The staging folder's resume plan and journal; nil when nothing is journaled.
    let session: ResumeSession?
    /// What this pass makes; a part also reports its segments to `collector`.
    let part: TranscodePart
    let collector: SegmentListener?
    private let started = Date()
    var warnings: [String] = []
    /// The engine's thread weights, reading the machine's load from the start (`ThreadWeights`).
    let weights: ThreadWeights
    /// Collapsing gaps: the holes cut, in microseconds from the container's start (the clock of
    /// SRT files); nil otherwise.
    private var collapse: GapCollapse?

    /// - Parameter subtitles: `options.subtitles` already read and parsed (before the output was touched).
    init(inputPath: String, directory: URL, options: TranscodeOptions, subtitles: [LoadedSubtitles],
         chapters: LoadedChapters? = nil, cancel: InterruptFlag, session: ResumeSession?, part: TranscodePart = .whole, collector: SegmentListener? = nil,
         progress: ((TranscodeProgress) -> Void)?) {
        self.session = session
        self.part = part
        self.collector = collector
        self.inputPath = inputPath
        self.directory = directory
        self.options = options
        self.subtitles = subtitles
        self.chapters = chapters
        self.cancel = cancel
        self.progress = progress
        let weighted = options.weightsThreads && options.encoderThreads == nil
        weights = ThreadWeights(mode: !weighted ? .never : options.weightsOnlyWhenQuiet ? .adaptive : .always)
    }

    func run() throws -> TranscodeReport {
        let opened = try open()
        let outcome = try opened.loop.execute()
        return try finish(source: opened.source, outcome: outcome, subtitles: subtitles)
    }

    /// A source opened and checked, its decoders made, its ladder planned, ready for a pass.
    struct Opened {
        var source: SourceInfo
        var plans: [RenditionPlan]
        var loop: DecodeLoop
        var warnings: [String]
    }

    /// A part of a split transcode: the pass's outcome (its segments went to `collector`).
    func runPart() throws -> (opened: Opened, outcome: DecodeLoop.Outcome) {
        let opened = try open()
        let outcome = try opened.loop.execute()
        return (opened, outcome)
    }

    /// Planning a split: the source opened and checked, and its first frame decoded.
    func runPlan() throws -> (opened: Opened, timeline: DecodeLoop.PlannedTimeline) {
        let opened = try open()
        guard !opened.source.isAudioOnly else {
            throw TranscodeError.invalidInput("\(inputPath): rejected: a source without video is not split by time")
        }
        return (opened, try opened.loop.planTimeline())
    }

    private func open() throws -> Opened {
        let limits = options.limits
        cancel.expire(after: min(limits.timeLimit ?? 120, 120))  // opening and probing
        let input: InputFile
        do {
            input = try InputFile(path: inputPath, limits: limits, interrupt: cancel) { header in
                // Checked from the container header, before any stream is probed or decoded.
                try InputPolicy(limits: limits, path: self.inputPath).checkHeader(header)
            }
        } catch let error as LibAVError {
            throw openFailure(error)
        } catch let error as InputPolicy.Rejection {
            throw TranscodeError.invalidInput(error.message)
        }
        let source = try SourceInfo(input: input)
        try InputPolicy(limits: limits, path: inputPath).check(input: input, source: source)
        cancel.expire(after: limits.deadline(forDuration: source.durationSeconds) - Date().timeIntervalSince(started))
        // A video chunk or a plan reads no audio packets.
        let readsAudio = part.encodesAudio || source.isAudioOnly
        let tracks = try audioTracks(source: source, readsAudio: readsAudio)
        input.discardAllBut(Set([source.videoStream, readsAudio ? source.audioStream : nil].compactMap { $0 } + tracks.streams.map(\.info.index)))

        var videoDecoder: MediaDecoder?
        if let video = source.videoStream {
            do {
                let threads = options.decoderThreads ?? CoreShares.decoderThreads(cores: ProcessInfo.processInfo.activeProcessorCount)
                videoDecoder = try MediaDecoder(stream: input.stream(video), threads: threads, maxPixels: limits.maxPixels)
            } catch let error as LibAVError {
                throw TranscodeError.invalidInput("\(inputPath): rejected: the video stream cannot be decoded (\(error.reason))")
            }
        }
        var audioDecoder: MediaDecoder?
        if let audio = source.audioStream, readsAudio {
            do {
                audioDecoder = try MediaDecoder(stream: input.stream(audio), maxPixels: limits.maxPixels)
            } catch let error as LibAVError where source.isAudioOnly {
                throw TranscodeError.invalidInput("\(inputPath): rejected: the audio stream cannot be decoded (\(error.reason))")
            } catch {
                warnings.append("audio stream cannot be decoded, output has no audio: \(error)")
            }
        }
        // One measuring pass over the source for all its audio streams encoded.
        let measured = try loudnessPlans(streams: (audioDecoder == nil ? [] : [source.audioStream].compactMap { $0 }.map { ($0, source.audioSampleRate) })
                                            + tracks.streams.map { ($0.info.index, $0.info.sampleRate) })
        let loudness = source.audioStream.flatMap { measured[$0] }
        let alternates = try openAlternates(tracks, input: input, measured: measured, duration: source.durationSeconds)
        if options.audioOnlyVariantBitrate != nil, audioDecoder == nil, !alternates.isEmpty {
            warnings.append("no audio-only variant: it is made from the source's own default audio, and the source has none")
        }
        let plans = source.isAudioOnly ? [] : LadderPlanner.plan(
            ladder: options.ladder, source: source.geometry, frameRate: source.outputPeakFrameRate,
            rateControl: options.rateControl, crf: options.crf)
        guard source.isAudioOnly || !plans.isEmpty else { throw TranscodeError.invalidInput("\(inputPath): no rendition fits the source") }

        let holes = try collapsedHoles(source: source, input: input)
        // The audio part encodes no video rendition (it decodes only where the video ends).
        let loop = try DecodeLoop(pipeline: self, input: input, source: source, plans: part.isAudio ? [] : plans,
                                  videoDecoder: videoDecoder, audioDecoder: audioDecoder, subtitles: subtitles,
                                  session: session, part: part, loudness: loudness,
                                  mainLabel: tracks.main, alternates: alternates, collapse: holes)
        return Opened(source: source, plans: plans, loop: loop, warnings: warnings)
    }

    /// With `options.collapseGaps` (a whole transcode of a video): the holes in the video, found
    /// by a demux-only pass, in the video stream's ticks; the subtitles are moved onto the
    /// output's clock and `collapse` is set. Nil otherwise.
    private func collapsedHoles(source: SourceInfo, input: InputFile) throws -> GapCollapse? {
        guard options.collapseGaps, let video = source.videoStream, case .whole = part else { return nil }
        let scanned: InputFile
        do {
            scanned = try InputFile(path: inputPath, limits: options.limits, interrupt: cancel)
        } catch let error as LibAVError {
            throw openFailure(error)
        }
        let timeBase = input.stream(video).pointee.time_base
        let holes = try GapScan.holes(input: scanned, videoStream: video,
                                      frameDuration: DecodeLoop.frameDuration(of: source, timeBase: timeBase), cancel: cancel)
        let start = Int64((input.startSeconds * 1_000_000).rounded())
        let fromStart = holes.converted { av_rescale_q($0, timeBase, MediaTimeline.microseconds) - start }
        collapse = fromStart
        let milliseconds = fromStart.converted { ($0 + 500) / 1000 }
        subtitles = subtitles.map { LoadedSubtitles(track: $0.track, cues: milliseconds.mapping($0.cues), warnings: $0.warnings) }
        return holes
    }

    /// With `options.loudness`: the loudness of each audio stream of `path` (the source by
    /// default) in `streams` (with its source sample rate), measured by one pass over that audio
    /// alone, and the gain that takes it to the target; by stream index.
    /// `seconds`: only so much of each stream from its start is measured (nil: all).
    func loudnessPlans(path: String? = nil, streams: [(index: Int, sampleRate: Int)], seconds: Double? = nil) throws -> [Int: LoudnessPlan] {
        if case .plan = part { return [:] }  // planning a split encodes nothing
        guard let target = options.loudness, !streams.isEmpty else { return [:] }
        let path = path ?? inputPath
        let limits = options.limits
        let input: InputFile
        do {
            input = try InputFile(path: path, limits: limits, interrupt: cancel)
        } catch let error as LibAVError {
            throw openFailure(error, path: path)
        }
        do {
            let figures = try LoudnessAnalysis.measure(
                input: input, streams: streams.map { ($0.index, AudioRendition.outputSampleRate(source: $0.sampleRate)) },
                seconds: seconds, maxCorruptPackets: limits.maxCorruptPackets, cancel: cancel)
            return figures.mapValues { LoudnessPlan(target: target, input: $0, gain: LoudnessNormalization.gain(input: $0, target: target)) }
        } catch let error as LibAVError {
            throw DecodeLoop.classify(error)
        }
    }

    /// The error for an input (the source, or `path`) libavformat would not open, naming the rule where one applies.
    func openFailure(_ error: LibAVError, path: String? = nil) -> TranscodeError {
        Self.openFailure(error, path: path ?? inputPath, limits: options.limits, cancel: cancel)
    }

    /// The error for `path`, which libavformat would not open within `limits`.
    static func openFailure(_ error: LibAVError, path: String, limits: InputLimits, cancel: InterruptFlag) -> TranscodeError {
        if cancel.isExpired { return .timeLimit("\(path): rejected: opening took longer than the time limit") }
        if cancel.isRaised { return .cancelled }
        if error.code == hlsify_averror(ENOENT) { return .inputMissing("\(path): no such file") }
        if error.code == hlsify_averror(EACCES) { return .inputMissing("\(path): permission denied") }
        if error.code == hlsify_averror(ENOMEM) {
            // avformat_new_stream fails this way past max_streams.
            return .invalidInput("\(path): rejected: more than \(limits.maxStreams) streams")
        }
        if let detected = InputFile.probeFormatName(path: path),
           !limits.containers.isEmpty,
           !detected.split(separator: ",").contains(where: { limits.containers.contains(String($0)) }) {
            return .invalidInput("\(path): rejected: container '\(detected)' is not an accepted upload format")
        }
        return .invalidInput("\(path): not a media file this engine can read (\(error.reason))")
    }

    func reportProgress(mediaSeconds: Double, frames: Int, duration: Double?) {
        guard let progress else { return }
        let elapsed = Date().timeIntervalSince(started)
        let fraction = duration.map { $0 > 0 ? min(1, max(0, mediaSeconds / $0)) : 0 } ?? 0
        let speed = elapsed > 0 ? mediaSeconds / elapsed : 0
        let eta: Double? = (fraction > 0.01 && speed > 0) ? max(0, ((duration ?? 0) - mediaSeconds) / speed) : nil
        progress(TranscodeProgress(fraction: fraction, mediaSeconds: mediaSeconds, elapsedSeconds: elapsed,
                                   framesPerSecond: elapsed > 0 ? Double(frames) / elapsed : 0, speed: speed, etaSeconds: eta))
    }

    /// Segments the subtitles on the first video rendition's boundaries, mapped to the written video's
    /// first presentation timestamp; for an audio-only source, on the audio's.
    private func publishSubtitles(_ subtitles: [LoadedSubtitles], outcome: DecodeLoop.Outcome) throws -> [SubtitlePublisher.Published] {
        guard !subtitles.isEmpty else { return [] }
        let target = outcome.publisher.targetDuration
        if let reference = outcome.videos.first {
            return try Self.publishSubtitles(subtitles, directory: directory, folder: reference.directoryName,
                                             records: reference.log.records(), format: options.segmentFormat,
                                             targetDuration: target, kind: outcome.publisher.finalKind,
                                             totalDuration: outcome.durationSeconds, sourceOffset: outcome.videoStartInSource)
        }
        guard let audio = outcome.audio else { return [] }
        return try SubtitlePublisher(directory: directory, targetDuration: target, kind: outcome.publisher.finalKind)
            .publish(subtitles, spans: SubtitleSegmentSpan.spans(of: audio.log.records()), totalDuration: outcome.durationSeconds,
                     firstVideoPTS90k: DecodeLoop.audioOnlyFirstPTS90k, sourceOffset: outcome.videoStartInSource)
    }

    /// Subtitle renditions in `directory`, segmented on the boundaries of the video rendition in
    /// `folder` (`records`, its segments as written there), mapped to its first segment's
    /// presentation timestamp. Also what a stitch of time chunks publishes.
    static func publishSubtitles(_ subtitles: [LoadedSubtitles], directory: URL, folder: String, records: [SegmentRecord],
                                 format: SegmentFormat, targetDuration: Int, kind: MediaPlaylist.Kind = .vod,
                                 totalDuration: Double, sourceOffset: Double) throws -> [SubtitlePublisher.Published] {
        guard !subtitles.isEmpty, let first = records.first else { return [] }
        let firstPTS: Int64
        do {
            firstPTS = try FirstPresentationTime.read(renditionFolder: directory.appendingPathComponent(folder),
                                                      firstSegment: first.uri, format: format)
        } catch {
            throw DecodeLoop.classify(error)
        }
        return try SubtitlePublisher(directory: directory, targetDuration: targetDuration, kind: kind)
            .publish(subtitles, spans: SubtitleSegmentSpan.spans(of: records), totalDuration: totalDuration,
                     firstVideoPTS90k: firstPTS, sourceOffset: sourceOffset)
    }

    private func finish(source: SourceInfo, outcome: DecodeLoop.Outcome, subtitles: [LoadedSubtitles]) throws -> TranscodeReport {
        warnings += outcome.warnings
        if outcome.timeline.collapsed == true, outcome.timeline.gapCount > 0 {
            warnings.append(String(format: "the video has %d hole(s) in its timestamps, %.3f s in all, removed from the timeline (--collapse-gaps; sourceTimeline.gaps)",
                                   outcome.timeline.gapCount, outcome.timeline.removedSeconds ?? 0))
        } else if outcome.timeline.gapCount > 0 {
            warnings.append(String(format: "the video has %d hole(s) in its timestamps, %.3f s in all, shown as the picture before each (sourceTimeline.gaps)",
                                   outcome.timeline.gapCount, outcome.timeline.filledSeconds))
        }
        var pictures: PictureSampler.Written?
        do {
            pictures = try outcome.pictures?.finish(durationSeconds: outcome.durationSeconds)
        } catch {
            throw DecodeLoop.classify(error)
        }
        warnings += pictures?.warnings ?? []
        var chaptersReport: TranscodeReport.Chapters?
        if var chapters {
            if let collapse {
                // Chapters count from the first frame.
                let first = Int64((outcome.videoStartInSource * 1_000_000).rounded())
                chapters = LoadedChapters(path: chapters.path, chapters: collapse.converted { $0 - first }.mapping(chapters.chapters))
            }
            let language = source.audioLanguage != "und" ? source.audioLanguage : subtitles.first?.track.language ?? "und"
            let written = try chapters.write(into: directory, durationSeconds: outcome.durationSeconds, language: language)
            warnings += written.warnings
            chaptersReport = .init(vtt: LoadedChapters.vttName, json: LoadedChapters.jsonName, count: written.list.chapters.count)
        }
        let publishedSubtitles = try publishSubtitles(subtitles, outcome: outcome)
        for subtitle in publishedSubtitles { warnings += subtitle.warnings }
        let published = try outcome.publisher.publishFinal(subtitles: publishedSubtitles.map(\.rendition),
                                                           redundant: options.redundantRungPolicy(inPlace: options.progressive))
        warnings += published.warnings
        let dropped = published.droppedFolders
        let renditions = zip(outcome.videos, zip(published.video, published.iFrames))
            .filter { !dropped.contains($0.0.directoryName) }.map { rendition, written in
            let (stats, iFrames) = written
            return TranscodeReport.Rendition(
                name: rendition.plan.name, width: rendition.plan.width, height: rendition.plan.height,
                codecs: stats.codecs, playlist: stats.playlist, segments: stats.segments, bytes: stats.bytes,
                peakBandwidth: stats.bandwidth.peak, averageBandwidth: stats.bandwidth.average,
                encodedFrames: rendition.encodedFrames,
                encoder: .init(codec: "h264", preset: options.preset, profile: StreamProfile.name(ofAVC1: stats.codecs),
                               level: StreamProfile.level(ofAVC1: stats.codecs) ?? String(format: "%d.%d", rendition.plan.h264Level / 10, rendition.plan.h264Level % 10),
                               bitrate: rendition.plan.encoder.bitrate, maxrate: rendition.plan.encoder.maxrate,
                               bufsize: rendition.plan.encoder.bufsize, gop: rendition.gop, threads: rendition.threads,
                               slicedThreads: rendition.sliced, rateControl: rendition.plan.encoder.rateControl.rawValue,
                               crf: rendition.plan.encoder.crf),
                iFrames: iFrames.map { .init(playlist: $0.playlist, iFrames: $0.iFrames, peakBandwidth: $0.bandwidth.peak,
                                             averageBandwidth: $0.bandwidth.average) },
                quality: rendition.quality)
        }
        // The audio group the video variants play with, in the publisher's order (the default
        // first); the main audio is its default, or an audio-only source's variant.
        let group = source.isAudioOnly ? [] : [outcome.audio].compactMap { $0 }.map { ($0, "stream \(source.audioStream ?? 0)") }
            + outcome.alternates.compactMap { alternate in alternate.rendition.map { ($0, alternate.from) } }
        let audioTracks = zip(group, published.audio).map { rendition, stats in Self.audioReport(rendition.0, stats, from: rendition.1) }
        let audioReport = source.isAudioOnly ? outcome.audio.flatMap { audio in published.audioOnly.first.map { Self.audioReport(audio, $0) } }
            : audioTracks.first
        let lowBandwidthReport = outcome.lowBandwidthAudio.flatMap { low in published.audioOnly.last.map { Self.audioReport(low, $0) } }
        let segments = (published.video + published.audio + published.audioOnly).reduce(0) { $0 + $1.segments }
        var report = TranscodeReport(
            input: inputPath, output: directory.path, master: PlaylistPublisher.masterName,
            segmentFormat: options.segmentFormat.rawValue, segmentDuration: options.segmentDuration,
            durationSeconds: outcome.durationSeconds, elapsedSeconds: Date().timeIntervalSince(started),
            source: .init(width: source.geometry.width, height: source.geometry.height, frameRate: source.frameRateValue,
                          videoFrames: source.declaredFrames, displayWidth: source.geometry.displayWidth,
                          displayHeight: source.geometry.displayHeight, rotation: source.geometry.rotation,
                          container: source.container, videoCodec: source.videoCodec),
            decodedVideoFrames: outcome.decodedFrames, renditions: renditions, audio: audioReport, audioTracks: audioTracks,
            audioOnlyVariant: lowBandwidthReport,
            subtitles: publishedSubtitles.map { .init(language: $0.rendition.language ?? "und", cues: $0.cues) },
            warnings: warnings)
        report.resume = session?.status ?? ResumeStatus()
        report.resume.segmentsEncoded = segments - report.resume.segmentsReused
        report.resume.preRollSeconds = outcome.preRollSeconds
        report.resume.preRollFrames = outcome.preRollFrames
        report.redundantRungs = published.redundant
        report.chapters = chaptersReport
        report.sourceTimeline = outcome.timeline
        report.threadWeights = weights.summary
        report.storyboard = pictures?.storyboard
        report.poster = pictures?.poster
        return report
    }

    /// An audio rendition's report entry; `from` (where a rendition of the audio group came from)
    /// adds its NAME, DEFAULT and CHARACTERISTICS.
    private static func audioReport(_ audio: AudioRendition, _ stats: HLSPublisher.Stats, from: String? = nil) -> TranscodeReport.Audio {
        .init(loudness: audio.loudnessReport, codec: "aac", bitrate: audio.bitrate, channels: 2, sampleRate: audio.sampleRate,
              language: audio.language, playlist: stats.playlist, segments: stats.segments,
              bytes: stats.bytes, peakBandwidth: stats.bandwidth.peak, averageBandwidth: stats.bandwidth.average,
              name: from.map { _ in audio.label.name }, isDefault: from.map { _ in audio.label.isDefault },
              describesVideo: from.map { _ in audio.label.describesVideo }, from: from)
    }
}
