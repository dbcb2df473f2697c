import Foundation
import HLSCore

/// Reads a job message strictly: a body that is not JSON, a missing field, a wrong type, an
/// unknown rung, an unsafe job id or an unsafe path is a `JobRejection`, never a crash and never
/// a guess. Keys the contract does not know are ignored and reported in `warnings` (the
/// contract may be extended by producers before workers learn the new field).
public struct JobDecoder: Sendable {
    /// Largest body accepted, in bytes.
    public var maximumBodySize: Int

    public init(maximumBodySize: Int = 1 << 20) {
        self.maximumBodySize = maximumBodySize
    }

    /// A decoded job and what was odd about its message.
    public struct Decoded: Sendable, Equatable {
        public var job: TranscodeJob
        /// Unknown keys that were ignored.
        public var warnings: [String]
    }

    /// - Throws: `JobRejection` saying what is wrong, with the job id when one could be read.
    public func decode(_ body: Data) throws(JobRejection) -> Decoded {
        guard body.count <= maximumBodySize else {
            throw JobRejection(.tooLarge, "the body has \(body.count) bytes; at most \(maximumBodySize) are accepted")
        }
        guard String(data: body, encoding: .utf8) != nil else {
            throw JobRejection(.notJSON, "the body is not UTF-8 text")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        } catch {
            throw JobRejection(.notJSON, "the body is not JSON")
        }
        guard let dictionary = object as? [String: Any] else {
            throw JobRejection(.invalidJob, "the body must be a JSON object, not \(Self.jsonKind(object))")
        }
        let rawJobId = (dictionary["jobId"] as? String).map { String($0.prefix(JobNames.maximumJobIdLength + 32)) }

        let wire: WireJob
        do {
            wire = try JSONDecoder().decode(WireJob.self, from: body)
        } catch let error as DecodingError {
            throw JobRejection(.invalidJob, Self.describe(error), jobId: rawJobId)
        } catch {
            throw JobRejection(.invalidJob, "\(error)", jobId: rawJobId)
        }
        let job = wire.job
        try validate(job)
        let known = Set(TranscodeJob.CodingKeys.allCases.map(\.rawValue))
        let warnings = dictionary.keys.filter { !known.contains($0) }.sorted().map { "unknown field \"\($0)\" ignored" }
        return Decoded(job: job, warnings: warnings)
    }

    /// The checks that need no file system: ids, lexical paths, ladder, ranges, names.
    public func validate(_ job: TranscodeJob) throws(JobRejection) {
        let id = job.jobId
        guard JobNames.isSafeJobId(id) else {
            throw JobRejection(.unsafeJobId,
                               "jobId \(Self.quoted(id)) is not a safe name (1–\(JobNames.maximumJobIdLength) characters of A-Z a-z 0-9 . _ -, starting with a letter or digit)",
                               jobId: String(id.prefix(JobNames.maximumJobIdLength + 32)))
        }
        if case .failure(let problem) = JobNames.relativeComponents(job.input, hiddenAllowed: true) {
            throw JobRejection(.unsafePath, "input \(Self.quoted(job.input)) \(problem.message)", jobId: id)
        }
        if case .failure(let problem) = JobNames.relativeComponents(job.output, hiddenAllowed: false) {
            throw JobRejection(.unsafePath, "output \(Self.quoted(job.output)) \(problem.message)", jobId: id)
        }
        for (index, subtitle) in job.subtitles.enumerated() {
            if case .failure(let problem) = JobNames.relativeComponents(subtitle.path, hiddenAllowed: true) {
                throw JobRejection(.unsafePath, "subtitles[\(index)].path \(Self.quoted(subtitle.path)) \(problem.message)", jobId: id)
            }
            guard Self.isLanguageTag(subtitle.language) else {
                throw JobRejection(.invalidJob, "subtitles[\(index)].language \(Self.quoted(subtitle.language)) is not a language tag (like en or pt-BR)", jobId: id)
            }
            if let name = subtitle.name, name.isEmpty || name.count > 128 || name.unicodeScalars.contains(where: { JobNames.isControl($0) || $0 == "\"" }) {
                throw JobRejection(.invalidJob, "subtitles[\(index)].name must be 1–128 characters without quotes or control characters", jobId: id)
            }
        }
        for (field, files) in [("audio", job.audio), ("audioDescription", job.audioDescription)] {
            for (index, file) in files.enumerated() {
                if case .failure(let problem) = JobNames.relativeComponents(file.path, hiddenAllowed: true) {
                    throw JobRejection(.unsafePath, "\(field)[\(index)].path \(Self.quoted(file.path)) \(problem.message)", jobId: id)
                }
                guard LanguageTag.parse(file.language) != nil else {
                    throw JobRejection(.invalidJob, "\(field)[\(index)].language \(Self.quoted(file.language)) is not a BCP 47 language tag (like es or pt-BR)", jobId: id)
                }
            }
        }
        let addedAudio = job.audio.count + job.audioDescription.count
        if addedAudio > Self.maximumAddedAudio {
            throw JobRejection(.invalidJob, "audio and audioDescription name \(addedAudio) files; at most \(Self.maximumAddedAudio) are accepted", jobId: id)
        }
        if let ladder = job.ladder {
            guard !ladder.isEmpty else { throw JobRejection(.invalidJob, "ladder is empty; leave it out for the worker's default", jobId: id) }
            if ladder.count > 1, ladder.contains(where: Self.isAuto) {
                throw JobRejection(.invalidJob, "ladder: \"auto\" stands alone: write \"auto\" or a list of rungs", jobId: id)
            }
            for (index, entry) in ladder.enumerated() where !(ladder.count == 1 && Self.isAuto(entry)) {
                do { _ = try Rung(parsing: entry) } catch {
                    throw JobRejection(.invalidJob, "ladder[\(index)]: \(error)", jobId: id)
                }
                guard !entry.contains(",") else {
                    throw JobRejection(.invalidJob, "ladder[\(index)]: one rung per entry, got \(Self.quoted(entry))", jobId: id)
                }
            }
            do { _ = try Ladder(parsing: ladder.joined(separator: ",")) } catch {
                throw JobRejection(.invalidJob, "ladder: \(error)", jobId: id)
            }
        }
        if let duration = job.segmentDuration {
            guard duration.isFinite, EncodingDefaults.segmentDurations.contains(duration) else {
                throw JobRejection(.invalidJob, "segmentDuration must be \(EncodingDefaults.segmentDurationsText), got \(duration)", jobId: id)
            }
        }
        let bitrates = EncodingDefaults.audioBitrates
        if let bitrate = job.audioOnlyVariant, !bitrates.contains(bitrate) {
            throw JobRejection(.invalidJob, "audioOnlyVariant must be between \(bitrates.lowerBound) and \(bitrates.upperBound) bits/s, got \(bitrate)", jobId: id)
        }
        if let chunk = job.chunkDuration, !(chunk.isFinite && (0...86_400).contains(chunk)) {
            throw JobRejection(.invalidJob, "chunkDuration must be between 0 and 86400 seconds, got \(chunk)", jobId: id)
        }
        if case .target(let target) = job.loudness, !(target.isFinite && LoudnessNormalization.acceptedTargets.contains(target)) {
            throw JobRejection(.invalidJob, "loudness must be \"off\" or from \(Int(LoudnessNormalization.acceptedTargets.lowerBound)) to \(Int(LoudnessNormalization.acceptedTargets.upperBound)) LUFS, got \(target)", jobId: id)
        }
        if let crf = job.crf {
            guard crf.isFinite, RungDefaults.acceptedCRFs.contains(crf) else {
                throw JobRejection(.invalidJob, "crf must be \(RungDefaults.acceptedCRFsText), got \(crf)", jobId: id)
            }
            guard job.rateControl != .abr else {
                throw JobRejection(.invalidJob, "crf is for rateControl \"capped-crf\", not \"abr\"", jobId: id)
            }
        }
        if let preset = job.preset, X264Preset(rawValue: preset) == nil {
            throw JobRejection(.invalidJob, "preset \(Self.quoted(preset)) is not one of \(X264Preset.namesText)", jobId: id)
        }
    }

    /// Most audio files a job may add (`audio` and `audioDescription` together).
    public static let maximumAddedAudio = 8

    // MARK: - Details

    /// "auto" as `Ladder(parsing:)` reads it (any case, surrounding spaces).
    static func isAuto(_ entry: String) -> Bool {
        entry.trimmingCharacters(in: .whitespaces).lowercased() == "auto"
    }

    static func isLanguageTag(_ tag: String) -> Bool {
        guard (2...35).contains(tag.count), tag.first?.isLetter == true, tag.last != "-" else { return false }
        return tag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    package static func quoted(_ text: String) -> String {
        let short = text.count > 80 ? String(text.prefix(80)) + "…" : text
        return "\"\(short)\""
    }

    static func jsonKind(_ value: Any) -> String {
        switch value {
        case is [Any]: return "an array"
        case is String: return "a string"
        case is NSNull: return "null"
        case is NSNumber: return "a number or boolean"
        default: return "\(type(of: value))"
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return text.isEmpty ? "the body" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return parent == "the body" ? "missing required field \"\(key.stringValue)\"" : "\(parent): missing required field \"\(key.stringValue)\""
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) must be \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) must be \(typeName(type)), not null"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Double.Type, is Int.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is [Any].Type, is [String].Type, is [TranscodeJob.Subtitle].Type, is [TranscodeJob.AudioFile].Type: return "an array"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") || name.contains("Subtitle") || name.contains("AudioFile") { return "an object" }
            return name
        }
    }
}

/// The wire form, decoded with the standard decoder so wrong types are caught field by field
/// (it reads `true` as no number and `1` as no boolean).
private struct WireJob: Decodable {
    let job: TranscodeJob

    enum Keys: String, CodingKey {
        case jobId, input, output, subtitles, ladder, segmentDuration, segmentFormat, preset, progressive, audioOnlyVariant
        case chunkDuration, rateControl, crf, measureQuality, keepRedundantRungs, storyboard, poster, chapters, loudness
        case audio, audioDescription, collapseGaps
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        let formatText = try container.decodeIfPresent(String.self, forKey: .segmentFormat)
        var format: SegmentFormat?
        if let formatText {
            guard let parsed = SegmentFormat(rawValue: formatText) else {
                let names = SegmentFormat.allCases.map { JobDecoder.quoted($0.rawValue) }.joined(separator: " or ")
                throw DecodingError.dataCorrupted(.init(codingPath: [Keys.segmentFormat],
                                                        debugDescription: "must be \(names), got \(JobDecoder.quoted(formatText))"))
            }
            format = parsed
        }
        var rateControl: RateControl?
        if let text = try container.decodeIfPresent(String.self, forKey: .rateControl) {
            guard let parsed = RateControl(rawValue: text) else {
                let names = RateControl.allCases.map { JobDecoder.quoted($0.rawValue) }.joined(separator: " or ")
                throw DecodingError.dataCorrupted(.init(codingPath: [Keys.rateControl],
                                                        debugDescription: "must be \(names), got \(JobDecoder.quoted(text))"))
            }
            rateControl = parsed
        }
        job = TranscodeJob(
            jobId: try container.decode(String.self, forKey: .jobId),
            input: try container.decode(String.self, forKey: .input),
            output: try container.decode(String.self, forKey: .output),
            subtitles: try container.decodeIfPresent([WireSubtitle].self, forKey: .subtitles)?.map(\.subtitle) ?? [],
            ladder: try Self.ladder(container),
            segmentDuration: try container.decodeIfPresent(Double.self, forKey: .segmentDuration),
            segmentFormat: format,
            preset: try container.decodeIfPresent(String.self, forKey: .preset),
            progressive: try container.decodeIfPresent(Bool.self, forKey: .progressive),
            audioOnlyVariant: try Self.wholeNumber(container, .audioOnlyVariant, unit: "bits/s"),
            chunkDuration: try container.decodeIfPresent(Double.self, forKey: .chunkDuration),
            rateControl: rateControl, crf: try container.decodeIfPresent(Double.self, forKey: .crf),
            measureQuality: try container.decodeIfPresent(Bool.self, forKey: .measureQuality),
            keepRedundantRungs: try container.decodeIfPresent(Bool.self, forKey: .keepRedundantRungs),
            storyboard: try container.decodeIfPresent(Bool.self, forKey: .storyboard),
            poster: try container.decodeIfPresent(Bool.self, forKey: .poster),
            chapters: try container.decodeIfPresent(String.self, forKey: .chapters),
            loudness: try container.decodeIfPresent(TranscodeJob.Loudness.self, forKey: .loudness),
            audio: try container.decodeIfPresent([TranscodeJob.AudioFile].self, forKey: .audio) ?? [],
            audioDescription: try container.decodeIfPresent([TranscodeJob.AudioFile].self, forKey: .audioDescription) ?? [],
            collapseGaps: try container.decodeIfPresent(Bool.self, forKey: .collapseGaps))
    }

    /// The ladder: an array of rungs, or the string "auto" (read as `["auto"]`).
    private static func ladder(_ container: KeyedDecodingContainer<Keys>) throws -> [String]? {
        if let text = try? container.decodeIfPresent(String.self, forKey: .ladder) {
            guard JobDecoder.isAuto(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [Keys.ladder],
                                                        debugDescription: "must be an array of rungs or \"auto\", got \(JobDecoder.quoted(text))"))
            }
            return [text]
        }
        return try container.decodeIfPresent([String].self, forKey: .ladder)
    }

    /// A whole number read as a JSON number of any form (`64000`, `64000.0`, `6.4e4`); one with a
    /// fraction or beyond Int's range is refused saying so, rather than as JSON the decoder
    /// "cannot read" (Foundation's message for a number that does not fit an Int).
    private static func wholeNumber(_ container: KeyedDecodingContainer<Keys>, _ key: Keys, unit: String) throws -> Int? {
        guard let value = try container.decodeIfPresent(Double.self, forKey: key) else { return nil }
        guard value.isFinite, value.rounded() == value, abs(value) < 9e18 else {
            throw DecodingError.dataCorrupted(.init(codingPath: [key],
                                                    debugDescription: "must be a whole number of \(unit), got \(value)"))
        }
        return Int(value)
    }
}

private struct WireSubtitle: Decodable {
    let subtitle: TranscodeJob.Subtitle
    enum Keys: String, CodingKey { case language, name, path }
    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        subtitle = TranscodeJob.Subtitle(language: try container.decode(String.self, forKey: .language),
                                         name: try container.decodeIfPresent(String.self, forKey: .name),
                                         path: try container.decode(String.self, forKey: .path))
    }
}
