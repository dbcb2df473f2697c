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
    /// - Parameters:
    ///   - progress: called about four times a second from the decoding thread; keep it cheap.
    /// - Returns: the report (sizes, measured bandwidths, frame counts).
    /// - Throws: `TranscodeError`; cancelling the calling task stops the work promptly,
    ///   removes the staging folder and throws `.cancelled`.
    /// - Cost: CPU-bound for about the x264 encoding time of the whole ladder; memory bounded by the
    ///   per-rendition queues, independent of the source's length.
    public static func transcode(input: String, output: URL, options: TranscodeOptions = TranscodeOptions(),
                                 progress: (@Sendable (TranscodeProgress) -> Void)? = nil) async throws -> TranscodeReport {
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
        // Subtitle files are small (bounded by limits.maxSubtitleBytes): read them before the
        // output is touched, so a bad one leaves no staging folder and, with --progressive --force,
        // the previous output in place.
        let subtitles = try LoadedSubtitles.load(options.subtitles, maxBytes: options.limits.maxSubtitleBytes)
        let staging = try OutputStaging(target: output, overwrite: options.overwrite, inPlace: options.progressive)
        let cancel = InterruptFlag()
        let pipeline = TranscodePipeline(inputPath: input, directory: staging.staging, options: options,
                                         subtitles: subtitles, cancel: cancel, progress: progress)
        let handoff = ThreadHandoff(value: pipeline)
        do {
            var report = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<TranscodeReport, Error>) in
                    let thread = Thread {
                        hlsify_set_thread_name("hlsify-decode")
                        do { continuation.resume(returning: try handoff.value.run()) } catch { continuation.resume(throwing: error) }
                    }
                    thread.name = "hlsify-decode"
                    thread.stackSize = 8 << 20
                    thread.start()
                }
            } onCancel: {
                cancel.raise()
            }
            if cancel.isRaised { throw TranscodeError.cancelled }
            try staging.commit()
            report.output = staging.target.path
            return report
        } catch {
            staging.discard()
            throw error
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
