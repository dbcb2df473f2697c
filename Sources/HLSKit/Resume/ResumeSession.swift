import Foundation

/// The resume side of one transcode's staging folder: `.hlsify-resume/plan.json` (written once,
/// atomically, when the timeline starts) and `.hlsify-resume/journal` (one line per committed
/// file, `ResumeJournalWriter`).
///
/// Opened on a staging folder a dead run left (`OutputStaging.adopted`), it resumes when the plan
/// matches this run's engine, source and settings: the journal's torn or damaged tail is dropped,
/// every file it names is checked against its SHA-256 (a rendition keeps its files up to the first
/// that does not match), every file it does not name is deleted, and the journal is rewritten with
/// what is kept. Otherwise the folder is emptied and the run starts afresh, saying why in `warnings`.
///
/// Cost: reads every kept file once (hashing), and 2 MiB of the source (its fingerprint).
final class ResumeSession {
    static let folderName = ".hlsify-resume"
    static let planName = "plan.json"
    static let journalName = "journal"

    let staging: URL
    let format: SegmentFormat
    /// This run's engine, source and settings (nil fingerprint: the source could not be read for
    /// one, so nothing is resumed or planned).
    let engine: String
    let fingerprint: SourceFingerprint?
    let settings: ResumePlan.Settings
    /// The plan resumed onto; nil for a fresh run.
    private(set) var plan: ResumePlan?
    /// What is kept, when resuming.
    private(set) var point: ResumePoint?
    private(set) var warnings: [String] = []
    /// Appends committed files; open once the plan is written (fresh) or at once (resuming).
    private(set) var journal: ResumeJournalWriter?

    private var folder: URL { staging.appendingPathComponent(Self.folderName) }
    private var planURL: URL { folder.appendingPathComponent(Self.planName) }
    private var journalURL: URL { folder.appendingPathComponent(Self.journalName) }

    /// True when `staging` holds a resume plan.
    static func holdsPlan(_ staging: URL) -> Bool {
        FileManager.default.fileExists(atPath: staging.appendingPathComponent(folderName).appendingPathComponent(planName).path)
    }

    /// When `staging`'s journal (else its plan) last changed.
    static func lastChange(_ staging: URL) -> Date {
        let folder = staging.appendingPathComponent(folderName)
        for name in [journalName, planName] {
            if let date = (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path))?[.modificationDate] as? Date {
                return date
            }
        }
        return .distantPast
    }

    /// The settings of `options` that a plan records.
    static func settings(_ options: TranscodeOptions) -> ResumePlan.Settings {
        ResumePlan.Settings(ladder: options.ladder.isAuto ? [options.ladder.description] : options.ladder.rungs.map(\.description),
                            segmentDuration: options.segmentDuration,
                            segmentFormat: options.segmentFormat.rawValue, preset: options.preset,
                            audioBitrate: options.audioBitrate, audioOnlyVariantBitrate: options.audioOnlyVariantBitrate,
                            rateControl: options.rateControl == .abr ? nil : options.rateControl.rawValue,
                            crf: options.rateControl == .cappedCRF ? options.crf : nil, loudness: options.loudness,
                            storyboard: options.storyboard, audioFiles: audioFileEntries(options.audioFiles),
                            collapseGaps: options.collapseGaps ? true : nil)
    }

    /// The added audio files as a plan records them: language, whether described, and a
    /// fingerprint of the content (size and SHA-256 of its head and tail), so a resumed run takes
    /// the same files whatever their paths.
    static func audioFileEntries(_ files: [AudioTrackFile]) -> [String]? {
        guard !files.isEmpty else { return nil }
        return files.map { file in
            let content = (try? SourceFingerprinting.fingerprint(path: file.path)).map { "\($0.size):\($0.headSHA256):\($0.tailSHA256)" } ?? "unreadable"
            return "\(file.language)\(file.describesVideo ? "+ad" : ""):\(content)"
        }
    }

    /// - Parameters:
    ///   - adopted: `staging` was left by a dead run: resume from it if its plan matches.
    /// - Throws: `TranscodeError.io` when a kept file cannot be read or the journal rewritten.
    init(staging: URL, adopted: Bool, input: String, options: TranscodeOptions) throws {
        self.staging = staging
        format = options.segmentFormat
        engine = EngineIdentity.current
        fingerprint = try? SourceFingerprinting.fingerprint(path: input)
        settings = Self.settings(options)
        guard adopted else { return }
        do {
            try load()
        } catch let error as TranscodeError {
            throw error
        } catch let error as SinkError {
            throw TranscodeError.io("cannot resume in \(staging.path): \(error)")
        } catch {
            throw TranscodeError.io("cannot resume in \(staging.path): \((error as NSError).localizedDescription)")
        }
    }

    /// Segments kept across every rendition.
    var segmentsKept: Int { point?.segmentsKept ?? 0 }

    /// Whether this run resumes, from where, keeping how much (what is known before encoding).
    var status: ResumeStatus {
        let kept = segmentsKept
        return ResumeStatus(resumed: kept > 0, fromSegment: kept > 0 ? point?.fromSegment ?? 0 : 0, segmentsReused: kept)
    }

    /// What `folder`'s rendition keeps (nothing for a fresh run).
    func kept(_ rendition: String, video: Bool) -> KeptSegments {
        guard let point else { return .none }
        let entries = point.kept[rendition] ?? []
        var kept = KeptSegments(entries: entries, initSection: point.initSections[rendition])
        let folder = staging.appendingPathComponent(rendition)
        if video, format == .fmp4, let last = entries.last, let initSection = kept.initSection {
            kept.nextFragment = try? Self.fragmentAfter(last, initSection: initSection, in: folder)
        }
        if video, format == .ts, let last = entries.last,
           let bytes = try? Data(contentsOf: folder.appendingPathComponent(last.file)) {
            kept.continuity = TSContinuity.counters(after: Array(bytes))
        }
        return kept
    }

    /// A fresh run: writes the plan (atomically, flushed) and opens the journal.
    func begin(_ plan: ResumePlan) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileSink.writeDurably(Data(try JournalText.encode(plan).utf8), to: planURL.path)
        journal = try ResumeJournalWriter(path: journalURL.path, committed: [])
        self.plan = plan
    }

    /// Removes the plan and journal (the output is complete without them).
    func close() {
        journal = nil
        try? FileManager.default.removeItem(at: folder)
    }

    /// The plan for a fresh run, with this run's engine, source and settings; nil when the
    /// source has no fingerprint (nothing is journaled then).
    func makePlan(firstTimestamp: Int64, timeBase: (Int32, Int32), renditions: [ResumePlan.Rendition]) -> ResumePlan? {
        fingerprint.map {
            ResumePlan(engine: engine, source: $0, settings: settings, firstTimestamp: firstTimestamp,
                       timeBaseNumerator: timeBase.0, timeBaseDenominator: timeBase.1, renditions: renditions)
        }
    }

    // MARK: - Loading

    private func load() throws {
        guard let data = FileManager.default.contents(atPath: planURL.path),
              let plan = JournalText.decode(ResumePlan.self, from: String(decoding: data, as: UTF8.self)) else {
            return try startAfresh("its resume plan cannot be read")
        }
        guard let fingerprint else { return try startAfresh("the source cannot be read for its fingerprint") }
        if let reason = plan.mismatch(engine: engine, source: fingerprint, settings: settings) {
            return try startAfresh(reason)
        }
        let text = (try? String(contentsOf: journalURL, encoding: .utf8)) ?? ""
        let parsed = ResumeJournal.parse(text) { JournalText.decode(JournalEntry.self, from: $0) }
        let verified = try verify(parsed.entries)
        let point = ResumePoint(entries: verified, videos: plan.renditions.map(\.folder))
        let keptEntries = point.initSections.values.sorted { $0.rendition < $1.rendition }
            + point.kept.keys.sorted().flatMap { point.kept[$0]! }
        try removeUnnamed(keeping: keptEntries)
        try rewriteJournal(keptEntries)
        journal = try ResumeJournalWriter(path: journalURL.path, committed: keptEntries)
        self.plan = plan
        self.point = point
    }

    /// Empties the staging folder (the plan and journal too) for a fresh run, noting why.
    func startAfresh(_ reason: String) throws {
        warnings.append("not resumed from the earlier run's segments: \(reason); started afresh")
        journal = nil
        plan = nil
        point = nil
        let names = (try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? []
        for name in names {
            do { try FileManager.default.removeItem(at: staging.appendingPathComponent(name)) } catch {
                throw TranscodeError.io("cannot empty \(staging.path): \(error)")
            }
        }
    }

    /// The entries whose files are there with their recorded hash; per rendition, none after the
    /// first that is not (none when its init entry is not intact, and, in fMP4, none without one).
    private func verify(_ entries: [JournalEntry]) throws -> [JournalEntry] {
        var latest: [String: [Int: JournalEntry]] = [:]
        for entry in entries { latest[entry.rendition, default: [:]][entry.index] = entry }
        var verified: [JournalEntry] = []
        // A rendition is a folder of the staging folder, a file a name in it: nothing else is trusted.
        for (rendition, byIndex) in latest where Self.isPlainName(rendition) {
            let folder = staging.appendingPathComponent(rendition)
            func intact(_ entry: JournalEntry) -> Bool {
                guard Self.isPlainName(entry.file) else { return false }
                return (try? SHA256.of(path: folder.appendingPathComponent(entry.file).path)) == entry.sha256
            }
            // fMP4 renditions have an init section; a storyboard's tiles have their layout file.
            if let initSection = byIndex[JournalEntry.initIndex] {
                guard intact(initSection) else { continue }
                verified.append(initSection)
            } else if format == .fmp4 {
                continue
            }
            var index = 0
            while let entry = byIndex[index], intact(entry) {
                verified.append(entry)
                index += 1
            }
        }
        return verified
    }

    private static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && !name.hasPrefix(".")
    }

    /// Deletes every file and folder in the staging folder that `kept` does not name (the plan and
    /// journal excepted).
    private func removeUnnamed(keeping kept: [JournalEntry]) throws {
        let fileManager = FileManager.default
        var named: [String: Set<String>] = [:]
        for entry in kept { named[entry.rendition, default: []].insert(entry.file) }
        for name in (try? fileManager.contentsOfDirectory(atPath: staging.path)) ?? [] where name != Self.folderName {
            let url = staging.appendingPathComponent(name)
            guard let files = named[name] else {
                try fileManager.removeItem(at: url)
                continue
            }
            for file in (try? fileManager.contentsOfDirectory(atPath: url.path)) ?? [] where !files.contains(file) {
                try fileManager.removeItem(at: url.appendingPathComponent(file))
            }
        }
    }

    private func rewriteJournal(_ entries: [JournalEntry]) throws {
        let text = try entries.map { ResumeJournal.line(try JournalText.encode($0)) }.joined()
        try FileSink.writeDurably(Data(text.utf8), to: journalURL.path)
    }

    /// The fMP4 fragment number after the last fragment of `entry`'s file.
    private static func fragmentAfter(_ entry: JournalEntry, initSection: JournalEntry, in folder: URL) throws -> Int {
        let movie = try MP4Movie.parse(Array(try Data(contentsOf: folder.appendingPathComponent(initSection.file))))
        let fragments = try MP4FragmentReader.fragments(in: Array(try Data(contentsOf: folder.appendingPathComponent(entry.file))),
                                                        movie: movie)
        return Int(fragments.last?.sequenceNumber ?? 0) + 1
    }
}

/// The source's `SourceFingerprint`.
enum SourceFingerprinting {
    static func fingerprint(path: String) throws -> SourceFingerprint {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SinkError(errno: errno, operation: "open", path: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SinkError(errno: errno, operation: "fstat", path: path) }
        let size = Int64(info.st_size)
        let sample = SourceFingerprint.sampleBytes
        return SourceFingerprint(
            size: size, modifiedNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            headSHA256: try SHA256.of(descriptor: fd, offset: 0, count: sample),
            tailSHA256: try SHA256.of(descriptor: fd, offset: max(0, size - Int64(sample)), count: sample))
    }
}
