import CFFmpeg
import Foundation

extension TranscodePipeline {
    /// The audio group of a pass: how the main audio is listed, and the other tracks (the
    /// source's other audio streams, then the added files), each with its label.
    struct AudioTracks {
        var main: AudioTrackLabel
        var streams: [(info: AudioStreamInfo, label: AudioTrackLabel)]
        var files: [(file: AudioTrackFile, label: AudioTrackLabel)]
    }

    /// Labels every audio track of this pass. Only a whole transcode of a video source has
    /// alternate tracks; an audio-only source and the parts of a split use the main audio alone.
    /// - Throws: `TranscodeError.invalidInput` for an added file's language that is not a BCP 47
    ///   tag, or added files with a source that has no video.
    func audioTracks(source: SourceInfo, readsAudio: Bool) throws -> AudioTracks {
        let files = try Self.normalized(options.audioFiles)
        if !files.isEmpty, source.isAudioOnly { throw Self.needsVideo(inputPath) }
        let mainInfo = source.audioStreams.first { $0.index == source.audioStream }
        let mainTrack = AudioTrackLabels.Track(language: mainInfo?.language ?? source.audioLanguage,
                                               describesVideo: mainInfo?.describesVideo ?? false)
        guard case .whole = part, readsAudio, !source.isAudioOnly else {
            if source.isAudioOnly, source.audioStreams.count > 1 {
                warnings.append("only the default audio stream of a source without video is used")
            }
            return AudioTracks(main: AudioTrackLabels.labels([mainTrack], defaultIndex: 0)[0], streams: [], files: [])
        }
        let streams = source.audioStreams
        var tracks = streams.map { AudioTrackLabels.Track(language: $0.language, describesVideo: $0.describesVideo) }
        tracks += files.map { AudioTrackLabels.Track(language: $0.language, describesVideo: $0.describesVideo) }
        guard !tracks.isEmpty else {
            return AudioTracks(main: AudioTrackLabels.labels([mainTrack], defaultIndex: 0)[0], streams: [], files: [])
        }
        let defaultIndex = streams.firstIndex { $0.index == source.audioStream } ?? 0
        let labels = AudioTrackLabels.labels(tracks, defaultIndex: defaultIndex)
        // labels[0] is the default track; the rest follow the tracks' order without it.
        let order = [defaultIndex] + tracks.indices.filter { $0 != defaultIndex }
        var result = AudioTracks(main: labels[0], streams: [], files: [])
        for (label, position) in zip(labels, order) {
            if position < streams.count {
                if streams[position].index != source.audioStream { result.streams.append((streams[position], label)) }
            } else {
                result.files.append((files[position - streams.count], label))
            }
        }
        return result
    }

    /// Opens a decoder for each other audio stream and each added file (measuring its loudness
    /// when asked); a source stream that cannot be decoded is left out with a warning.
    /// - Parameter measured: the source streams' loudness plans, by stream index.
    /// - Throws: `TranscodeError` for an added file that cannot be opened, has no audio, or whose
    ///   audio cannot be decoded.
    /// - Parameter duration: the source's declared duration: an added file's loudness is measured
    ///   over that much of it (and a little more), the part laid on the video.
    func openAlternates(_ tracks: AudioTracks, input: InputFile, measured: [Int: LoudnessPlan], duration: Double?) throws -> [AlternateAudio] {
        var alternates: [AlternateAudio] = []
        for (info, label) in tracks.streams {
            let stream = input.stream(info.index)
            do {
                let decoder = try MediaDecoder(stream: stream, maxPixels: options.limits.maxPixels)
                alternates.append(AlternateAudio(label: label, source: .stream(index: info.index, decoder: decoder, timeBase: stream.pointee.time_base),
                                                 sampleRate: info.sampleRate, loudness: measured[info.index]))
            } catch {
                warnings.append("audio stream \(info.index) cannot be decoded and is left out: \(error)")
            }
        }
        for (file, label) in tracks.files {
            let reader = try openAudioFile(file.path)
            let loudness = try loudnessPlans(path: file.path, streams: [(reader.stream, reader.sampleRate)],
                                             seconds: duration.map { $0 + 1.5 })[reader.stream]
            alternates.append(AlternateAudio(label: label, source: .file(reader), sampleRate: reader.sampleRate, loudness: loudness))
        }
        return alternates
    }

    /// The added files with their languages normalised (`spa` → `es`).
    /// - Throws: `TranscodeError.invalidInput` for a language that is not a BCP 47 tag.
    static func normalized(_ files: [AudioTrackFile]) throws -> [AudioTrackFile] {
        try files.map { file in
            guard let language = LanguageTag.parse(file.language) else {
                throw TranscodeError.invalidInput("\(file.path): rejected: '\(file.language)' is not a BCP 47 language tag (like es or pt-BR)")
            }
            return AudioTrackFile(language: language, path: file.path, describesVideo: file.describesVideo)
        }
    }

    private static func needsVideo(_ input: String) -> TranscodeError {
        .invalidInput("\(input): rejected: added audio tracks need a source with video")
    }

    /// Checks the added audio files before the output is touched (so a bad one leaves no staging
    /// folder and, with `--progressive --force`, the previous output in place): each language a
    /// BCP 47 tag, each file a media file with audio that decodes, and a source with video.
    /// Costs opening each file and decoding its first audio frame.
    /// - Throws: `TranscodeError` (`inputMissing` for a missing file, `invalidInput` otherwise).
    static func checkAudioFiles(_ files: [AudioTrackFile], input: String, limits: InputLimits) throws {
        guard !files.isEmpty else { return }
        let cancel = InterruptFlag()
        cancel.expire(after: min(limits.timeLimit ?? 120, 120))
        for file in try normalized(files) {
            try Transcoder.checkInputFile(file.path)
            _ = try openAudioFile(file.path, limits: limits, cancel: cancel)
        }
        // A source that cannot be opened is the pipeline's to report.
        if let source = try? InputFile(path: input, limits: limits, interrupt: cancel), source.bestStream(AVMEDIA_TYPE_VIDEO) == nil {
            throw needsVideo(input)
        }
    }

    /// An added audio file opened within the input limits, up to its first decoded frame.
    private func openAudioFile(_ path: String) throws -> AudioFileReader {
        try Self.openAudioFile(path, limits: options.limits, cancel: cancel)
    }

    private static func openAudioFile(_ path: String, limits: InputLimits, cancel: InterruptFlag) throws -> AudioFileReader {
        do {
            let input = try InputFile(path: path, limits: limits, interrupt: cancel) { header in
                try InputPolicy(limits: limits, path: path).checkHeader(header)
            }
            return try AudioFileReader(input: input, limits: limits, cancel: cancel)
        } catch let error as LibAVError {
            throw TranscodePipeline.openFailure(error, path: path, limits: limits, cancel: cancel)
        } catch let error as InputPolicy.Rejection {
            throw TranscodeError.invalidInput(error.message)
        }
    }
}
