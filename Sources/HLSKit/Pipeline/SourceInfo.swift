import CFFmpeg

/// What the engine learns about a source from its container and stream headers.
struct SourceInfo {
    /// nil for an audio-only source (a recorded talk as .m4a or .mp3): the output is then an
    /// audio-only HLS set, and the video fields below are zero.
    let videoStream: Int?
    /// The default audio stream (marked default, else the first): the main audio rendition.
    let audioStream: Int?
    /// Every audio stream kept (`InputFile.maxAudioStreams` at most), in stream order, the default among them.
    let audioStreams: [AudioStreamInfo]
    let geometry: SourceGeometry
    let frameRate: AVRational
    let declaredFrames: Int
    let durationSeconds: Double?
    let audioLanguage: String
    let audioSampleRate: Int
    let container: String
    let videoCodec: String
    /// The video stream says its pictures are interlaced fields (its field order is not
    /// progressive or unknown): the engine deinterlaces them.
    let isInterlaced: Bool

    /// The highest frame rate the source reaches: its average, or for variable-frame-rate sources the
    /// stream's base rate (`r_frame_rate`) when that is higher and plausible. Used for the H.264 level
    /// and the master playlist's FRAME-RATE, which RFC 8216 defines as a maximum.
    let peakFrameRate: Double

    /// Highest frame rate written (Apple's HLS authoring spec 1.19: at most 60 fps). Faster
    /// sources are decimated on a 1/60 s grid (`DecodeLoop`).
    static let maxOutputFrameRate = 60

    /// Whether frames must be dropped to stay within `maxOutputFrameRate`.
    var needsDecimation: Bool { peakFrameRate > Double(Self.maxOutputFrameRate) + 0.5 }

    /// The average frame rate of the output: the source's, or `maxOutputFrameRate` when it is faster.
    var outputFrameRate: AVRational {
        needsDecimation ? AVRational(num: Int32(Self.maxOutputFrameRate), den: 1) : frameRate
    }

    /// The peak frame rate of the output (FRAME-RATE, H.264 level).
    var outputPeakFrameRate: Double { min(peakFrameRate, Double(Self.maxOutputFrameRate)) }

    var frameRateValue: Double {
        frameRate.num > 0 && frameRate.den > 0 ? Double(frameRate.num) / Double(frameRate.den) : 0
    }

    var isAudioOnly: Bool { videoStream == nil }

    /// Reads the source's streams. Throws `TranscodeError.invalidInput` when there is neither a
    /// video nor an audio stream.
    init(input: InputFile) throws {
        durationSeconds = input.durationSeconds
        container = input.formatName
        audioStreams = Self.audioStreams(of: input)
        audioStream = (audioStreams.first { $0.isMarkedDefault } ?? audioStreams.first)?.index ?? input.bestStream(AVMEDIA_TYPE_AUDIO)
        if let audio = audioStream {
            let audioStream = input.stream(audio)
            audioSampleRate = Int(audioStream.pointee.codecpar.pointee.sample_rate)
            audioLanguage = LanguageTag.normalize(SourceInfo.metadata(audioStream.pointee.metadata, "language"))
        } else {
            audioSampleRate = 0
            audioLanguage = "und"
        }
        guard let video = input.bestStream(AVMEDIA_TYPE_VIDEO) else {
            guard audioStream != nil else {
                throw TranscodeError.invalidInput("\(input.path): rejected: no video or audio stream")
            }
            videoStream = nil
            geometry = SourceGeometry(width: 0, height: 0, sampleAspectNum: 1, sampleAspectDen: 1, rotation: 0)
            frameRate = AVRational(num: 0, den: 1)
            peakFrameRate = 0
            declaredFrames = 0
            videoCodec = "none"
            isInterlaced = false
            return
        }
        videoStream = video
        let stream = input.stream(video)
        let parameters = stream.pointee.codecpar!
        guard parameters.pointee.width > 0, parameters.pointee.height > 0 else {
            throw TranscodeError.invalidInput("video stream of \(input.path) has no picture size")
        }
        var sar = stream.pointee.sample_aspect_ratio
        if sar.num <= 0 || sar.den <= 0 { sar = parameters.pointee.sample_aspect_ratio }
        geometry = SourceGeometry(width: Int(parameters.pointee.width), height: Int(parameters.pointee.height),
                                  sampleAspectNum: Int(sar.num), sampleAspectDen: Int(sar.den),
                                  rotation: SourceInfo.rotation(of: stream))
        frameRate = SourceInfo.frameRate(of: stream)
        let average = frameRate.num > 0 && frameRate.den > 0 ? Double(frameRate.num) / Double(frameRate.den) : 0
        let base = stream.pointee.r_frame_rate
        let baseRate = base.num > 0 && base.den > 0 ? Double(base.num) / Double(base.den) : 0
        peakFrameRate = (baseRate > average && baseRate <= 120) ? baseRate : average
        declaredFrames = Int(max(0, stream.pointee.nb_frames))
        videoCodec = String(cString: avcodec_get_name(parameters.pointee.codec_id))
        isInterlaced = [AV_FIELD_TT, AV_FIELD_BB, AV_FIELD_TB, AV_FIELD_BT].contains(parameters.pointee.field_order)
    }

    /// Clockwise degrees (0, 90, 180, 270) the decoded picture must turn to be displayed upright.
    static func rotation(of stream: UnsafeMutablePointer<AVStream>) -> Int {
        var size: Int = 0
        guard let data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 else { return 0 }
        let counterClockwise = data.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
        guard counterClockwise.isFinite else { return 0 }
        let clockwise = Int((-counterClockwise).rounded())
        let normalized = ((clockwise % 360) + 360) % 360
        return ((normalized + 45) / 90 * 90) % 360
    }

    static func frameRate(of stream: UnsafeMutablePointer<AVStream>) -> AVRational {
        let average = stream.pointee.avg_frame_rate
        if average.num > 0 && average.den > 0 { return average }
        let real = stream.pointee.r_frame_rate
        if real.num > 0 && real.den > 0 { return real }
        return AVRational(num: 25, den: 1)
    }

    static func metadata(_ dictionary: OpaquePointer?, _ key: String) -> String? {
        guard let entry = av_dict_get(dictionary, key, nil, 0), let value = entry.pointee.value else { return nil }
        return String(cString: value)
    }
}

/// One audio stream of the source, as its headers describe it.
struct AudioStreamInfo: Equatable {
    let index: Int
    /// BCP 47, `und` when the container says nothing usable.
    let language: String
    let sampleRate: Int
    /// Disposition `default`.
    let isMarkedDefault: Bool
    /// Disposition `visual_impaired` or `descriptions`: an audio description.
    let describesVideo: Bool
}

extension SourceInfo {
    /// The audio streams the input kept (not discarded before probing), in stream order.
    static func audioStreams(of input: InputFile) -> [AudioStreamInfo] {
        (0..<input.streamCount).compactMap { index in
            let stream = input.stream(index).pointee
            guard stream.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO, stream.discard != AVDISCARD_ALL else { return nil }
            return AudioStreamInfo(
                index: index, language: LanguageTag.normalize(metadata(stream.metadata, "language")),
                sampleRate: Int(stream.codecpar.pointee.sample_rate),
                isMarkedDefault: stream.disposition & AV_DISPOSITION_DEFAULT != 0,
                describesVideo: stream.disposition & (AV_DISPOSITION_VISUAL_IMPAIRED | AV_DISPOSITION_DESCRIPTIONS) != 0)
        }
    }
}
