import Foundation
import HLSCore
import XCTest
@testable import HLSKit

/// The thread weights `CoreShares` plans are what the kernel applies to the engine's threads,
/// read back from /proc while a transcode runs.
final class ThreadWeightsTests: XCTestCase {
    /// Nice value of each live thread of this process, by thread name (the largest per name).
    private static func niceByThreadName() -> [String: Int] {
        var result: [String: Int] = [:]
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        for task in tasks {
            guard let nice = niceOf(stat: "/proc/self/task/\(task)/stat"),
                  let name = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
            else { continue }
            let key = name.trimmingCharacters(in: .whitespacesAndNewlines)
            result[key] = max(result[key] ?? -20, nice)
        }
        return result
    }

    /// Field 19 of a stat file; the name in parentheses may hold spaces, so count after the last ')'.
    private static func niceOf(stat path: String) -> Int? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 16 ? Int(fields[16]) : nil  // fields[0] is field 3 (state)
    }

    /// The first sample taken once a second segment is complete: every rung thread is running
    /// then (later ones may catch a thread that has finished).
    private final class Sample: @unchecked Sendable {
        private let lock = NSLock()
        private var value: [String: Int]?
        func take(_ read: () -> [String: Int]) { lock.withLock { if value == nil { value = read() } } }
        var threads: [String: Int] { lock.withLock { value ?? [:] } }
    }

    /// Transcodes a 720p clip to 720p/480p/360p and returns the report with the nice of every
    /// thread, read once a second segment is complete.
    private func transcodeReadingPriorities(weights: Bool, onlyWhenQuiet: Bool = false) async throws -> (TranscodeReport, [String: Int]) {
        let input = try TestMedia.clip("weights.mp4", size: "1280x720", seconds: 4)
        var options = TranscodeOptions()
        options.preset = "ultrafast"
        options.ladder = try Ladder(parsing: "720p,480p,360p")
        options.segmentDuration = 1
        options.weightsThreads = weights
        options.weightsOnlyWhenQuiet = onlyWhenQuiet
        let sample = Sample()
        options.onSegment = { event in
            if event.index >= 1 { sample.take(Self.niceByThreadName) }
        }
        let report = try await Transcoder.transcode(input: input, output: TestMedia.outputURL("weights"), options: options)
        return (report, sample.threads)
    }

    func testEachThreadRunsAtThePlannedNice() async throws {
        let (report, seen) = try await transcodeReadingPriorities(weights: true)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let plan = CoreShares(rungPixels: report.renditions.map { $0.width * $0.height }, cores: cores,
                              decoderThreads: CoreShares.decoderThreads(cores: cores))
        // Rung threads start at their creator's nice (whatever the caller's thread had), so the
        // heaviest rung's, which keeps it, is the base.
        let base = try XCTUnwrap(seen["hlsify-\(report.renditions[0].name)"], "\(seen)") - plan.encoderNice[0]
        for (rendition, increment) in zip(report.renditions, plan.encoderNice) {
            XCTAssertEqual(seen["hlsify-\(rendition.name)"], min(19, base + increment), "\(rendition.name) on \(cores) cores: \(seen)")
        }
        XCTAssertEqual(seen["hlsify-decode"], min(19, base + plan.decoderNice), "decoding on \(cores) cores: \(seen)")
        if cores <= 2 { XCTAssertTrue(plan.encoderNice.contains { $0 > 0 }, "weights are planned on \(cores) cores: \(plan)") }
        if plan.encoderNice.contains(where: { $0 > 0 }) {
            XCTAssertEqual(report.threadWeights?.mode, "always")
            XCTAssertEqual(report.threadWeights?.unweightedSeconds, 0)
            XCTAssertEqual(report.threadWeights?.changes, 0)
        }

        // x264 writes its settings into an SEI of the first keyframe.
        for (rendition, (threads, sliced)) in zip(report.renditions, zip(plan.encoderThreads, plan.slicedThreads)) {
            let folder = URL(fileURLWithPath: report.output).appendingPathComponent(rendition.name)
            let first = try Data(contentsOf: folder.appendingPathComponent("segment-00000.m4s"))
            let settings = String(decoding: first, as: UTF8.self)
            XCTAssertTrue(settings.contains(" threads=\(threads) "), "\(rendition.name): x264 threads=\(threads)")
            XCTAssertTrue(settings.contains(" sliced_threads=\(sliced ? 1 : 0) "), "\(rendition.name): sliced \(sliced)")
        }
    }

    func testWeightsCanBeTurnedOff() async throws {
        let (report, seen) = try await transcodeReadingPriorities(weights: false)
        let engine = seen.filter { $0.key.hasPrefix("hlsify-") && $0.key != "hlsify-load" }
        XCTAssertEqual(engine.count, 4, "\(seen)")
        XCTAssertEqual(Set(engine.values).count, 1, "\(engine)")
        XCTAssertEqual(report.threadWeights?.mode, "never")
    }

    /// Two other processes keep both cores busy (as many as there are cores): the adaptive weights
    /// never go on, so every engine thread keeps the caller's priority, and the report says so.
    func testAdaptiveWeightsStayOffWhileOtherProcessesKeepTheMachineBusy() async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let plan = CoreShares(rungPixels: [1280 * 720, 854 * 480, 640 * 360], cores: cores,
                              decoderThreads: CoreShares.decoderThreads(cores: cores))
        try XCTSkipUnless(plan.encoderNice.contains { $0 > 0 }, "no weights are planned on \(cores) cores")
        let busy = try (0..<cores).map { _ in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "while :; do :; done"]
            try process.run()
            return process
        }
        // SIGKILL: a process started from a Swift concurrency thread inherits its blocked signals, SIGTERM among them.
        defer { for process in busy { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        let (report, seen) = try await transcodeReadingPriorities(weights: true, onlyWhenQuiet: true)
        let engine = seen.filter { $0.key.hasPrefix("hlsify-") && $0.key != "hlsify-load" }
        XCTAssertEqual(engine.count, 4, "\(seen)")
        XCTAssertEqual(Set(engine.values).count, 1, "the weights went on with the machine busy: \(engine)")
        XCTAssertEqual(report.threadWeights?.mode, "adaptive")
        XCTAssertEqual(report.threadWeights?.weightedSeconds, 0, "\(String(describing: report.threadWeights))")
    }
}
