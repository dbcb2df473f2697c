import CPosix
import Foundation

/// The engine's entry point: turns one source video into an adaptive HLS set.
///
/// ```swift
/// let report = try await Transcoder.transcode(input: "lecture.mp4", output: URL(fileURLWithPath: "out"))
/// ```
public enum Transcoder {

    /// Transcodes `input` into an HLS set at `output` (master playlist `master.m3u8`).
    ///
    /// The source is decoded once; every rung is scaled and encoded on its own thread. Work
    /// happens in a staging folder beside `output`, which appears only when complete.
    ///
    /// With `options.resume` (the default) a staging folder a dead run left for `output` is
    /// resumed from when its plan matches (``TranscodeOptions/resume``, the report's
    /// ``TranscodeReport/resume``).
    ///
    /// - Parameters:
    ///   - input: path of the source media file (a regular local file, never a URL or protocol).
    ///   - output: the folder to create (missing parents are created); it must not exist unless
    ///     `options.overwrite` is set.
    ///   - options: what to make; the defaults are the command line's.
    ///   - progress: called about four times a second from the decoding thread; keep it cheap.
    /// - Returns: the report (sizes, measured bandwidths, frame counts).
    /// - Throws: ``TranscodeError``; cancelling the calling task stops the work promptly,
    ///   removes the staging folder (keeps it with `ownsOutputSlot` when it holds committed
    ///   segments) and throws ``TranscodeError/cancelled``.
    /// - Cost: CPU-bound for about the x264 encoding time of the whole ladder; memory bounded by the
    ///   per-rendition queues, independent of the source's length.
    public static func transcode(input: String, output: URL, options: TranscodeOptions = TranscodeOptions(),
                                 progress: (@Sendable (TranscodeProgress) -> Void)? = nil) async throws -> TranscodeReport {
        try checkInputFile(input)
        // Subtitle files are small (bounded by limits.maxSubtitleBytes): read them before the
        // output is touched, so a bad one leaves no staging folder and, with --progressive --force,
        // the previous output in place.
        let subtitles = try LoadedSubtitles.load(options.subtitles, maxBytes: options.limits.maxSubtitleBytes)
        let chapters = try LoadedChapters.load(options.chapters)
        // Chapters past the source's end are refused before the output is touched (a
        // `--progressive --force` run would otherwise have cleared the old output).
        if let chapters, let duration = InputFile.probeDuration(input, limits: options.limits) {
            _ = try chapters.resolved(durationSeconds: duration)
        }
        // So are the added audio files.
        try TranscodePipeline.checkAudioFiles(options.audioFiles, input: input, limits: options.limits)
        // Every staged run journals its segments; only with `resume` does it take up a dead run's.
        let journaled = !options.progressive
        let staging = try OutputStaging(target: output, overwrite: options.overwrite, inPlace: options.progressive,
                                        resume: journaled && options.resume, exclusive: options.ownsOutputSlot)
        let cancel = InterruptFlag()
        var session: ResumeSession?
        do {
            // A resume that cannot even start (a disk still full) keeps what the dead run committed.
            do {
                session = journaled ? try ResumeSession(staging: staging.staging, adopted: staging.adopted, input: input, options: options) : nil
            } catch TranscodeError.io(let message) where staging.adopted {
                throw KeptStaging(error: .io(message))
            }
            var report: TranscodeReport
            do {
                report = try await run(input: input, staging: staging, options: options, subtitles: subtitles,
                                       chapters: chapters, session: session, cancel: cancel, progress: progress)
            } catch let mismatch as ResumeMismatch {
                // What was kept cannot be continued after all: start again from nothing.
                try session?.startAfresh(mismatch.description)
                report = try await run(input: input, staging: staging, options: options, subtitles: subtitles,
                                       chapters: chapters, session: session, cancel: cancel, progress: progress)
            }
            report.warnings = (session?.warnings ?? []) + report.warnings
            session?.close()
            try staging.commit()
            report.output = staging.target.path
            return report
        } catch let kept as KeptStaging {
            throw kept.error
        } catch {
            if !Self.keepsStaging(after: error, session: session, options: options) { staging.discard() }
            throw error
        }
    }

    /// Refuses an input that is missing, unreadable or not a regular file, before any work.
    /// - Throws: `TranscodeError.inputMissing` or `.invalidInput`.
    static func checkInputFile(_ input: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
            throw TranscodeError.inputMissing("\(input): no such file")
        }
        if isDirectory.boolValue { throw TranscodeError.invalidInput("\(input): rejected: a folder, not a media file") }
        // FIFOs, devices and sockets can block or never end: only regular files are media uploads.
        // stat(2) follows links: a link to a regular file (or /proc/self/fd/N, as the worker
        // passes an input it opened and checked) is that file.
        var info = stat()
        if stat(input, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            throw TranscodeError.invalidInput("\(input): rejected: not a regular file")
        }
        guard FileManager.default.isReadableFile(atPath: input) else {
            throw TranscodeError.inputMissing("\(input): permission denied")
        }
    }

    /// The name every staging folder of `output` starts with (`.NAME.hlsify-staging-`), and the
    /// resume folder inside one (`.hlsify-resume`, holding `plan.json` and `journal`): for callers
    /// that keep a dead run's staging elsewhere and put it back beside `output` to be resumed.
    public static func stagingPrefix(for output: URL) -> String {
        StagingName.prefix(forOutputName: output.standardizedFileURL.lastPathComponent)
    }

    /// See `stagingPrefix(for:)`.
    public static let resumeFolderName = ResumeSession.folderName

    /// A failure after which the staging folder stays as it is.
    private struct KeptStaging: Error {
        let error: TranscodeError
    }

    /// One pass of the pipeline on its own thread; `onStart` is told first.
    private static func run(input: String, staging: OutputStaging, options: TranscodeOptions, subtitles: [LoadedSubtitles],
                            chapters: LoadedChapters?, session: ResumeSession?, cancel: InterruptFlag,
                            progress: (@Sendable (TranscodeProgress) -> Void)?) async throws -> TranscodeReport {
        options.onStart?(session?.status ?? ResumeStatus())
        let pipeline = TranscodePipeline(inputPath: input, directory: staging.staging, options: options,
                                         subtitles: subtitles, chapters: chapters, cancel: cancel, session: session,
                                         progress: progress)
        let handoff = ThreadHandoff(value: pipeline)
        let report = try await DecodeThread.run(cancel: cancel) { try handoff.value.run() }
        return report
    }

    /// A failed run keeps its staging folder for the next run to resume when it holds committed
    /// segments and the failure may pass: an I/O error (a full disk), or a cancellation when the
    /// caller owns the output's slot (a worker stopping hands the job to the next holder).
    private static func keepsStaging(after error: Error, session: ResumeSession?, options: TranscodeOptions) -> Bool {
        guard let session, session.journal != nil else { return false }
        switch error {
        case TranscodeError.io: return true
        case TranscodeError.cancelled, is CancellationError: return options.ownsOutputSlot
        default: return false
        }
    }

    /// The same as `transcode(input:output:options:progress:)`, with progress as an `AsyncStream`
    /// that ends when the transcode does. Dropping the stream does not stop the transcode; cancel
    /// `result` for that.
    public static func transcodeWithProgress(input: String, output: URL, options: TranscodeOptions = TranscodeOptions())
        -> (progress: AsyncStream<TranscodeProgress>, result: Task<TranscodeReport, Error>) {
        let (stream, continuation) = AsyncStream<TranscodeProgress>.makeStream(bufferingPolicy: .bufferingNewest(16))
        let task = Task {
            defer { continuation.finish() }
            return try await transcode(input: input, output: output, options: options) { continuation.yield($0) }
        }
        return (stream, task)
    }
}
