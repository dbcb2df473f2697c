import Foundation
import HLSCore
import XCTest
@testable import TranscodeJobs

/// The job fields of issue 17: loudness, storyboard, poster and chapters, through `JobDecoder`,
/// `TranscodeJob.jsonBody` and `JobResolver`.
final class JobLearnerFieldsTests: XCTestCase {
    private let decoder = JobDecoder()

    private func decode(_ fields: String) throws(JobRejection) -> TranscodeJob { try JobBodies.decode(fields, with: decoder) }
    private func rejection(_ fields: String) -> JobRejection? { JobBodies.rejection(fields) }

    func testLoudnessIsANumberOfLUFSOrOff() throws {
        XCTAssertEqual(try decode(#""loudness": -23"#).loudness, .target(-23))
        XCTAssertEqual(try decode(#""loudness": -16.5"#).loudness, .target(-16.5))
        XCTAssertEqual(try decode(#""loudness": "off""#).loudness, .off)
        XCTAssertNil(try decode(#""storyboard": true"#).loudness)
        for bad in [#""loudness": "OFF""#, #""loudness": "-16""#, #""loudness": true"#, #""loudness": -41"#, #""loudness": -4"#] {
            let error = rejection(bad)
            XCTAssertEqual(error?.reason, .invalidJob, bad)
            XCTAssertTrue(error?.message.contains("loudness") ?? false, "\(String(describing: error)) for \(bad)")
        }
    }

    func testTheNewFieldsRoundTripThroughTheBody() throws {
        let job = TranscodeJob(jobId: "j", input: "in/j.mp4", output: "j", storyboard: false, poster: false,
                               chapters: "in/j.chapters.json", loudness: .off)
        XCTAssertEqual(String(decoding: job.jsonBody(), as: UTF8.self),
                       #"{"chapters":"in/j.chapters.json","input":"in/j.mp4","jobId":"j","loudness":"off","output":"j","poster":false,"storyboard":false}"#)
        XCTAssertEqual(try decoder.decode(job.jsonBody()).job, job)
        let target = TranscodeJob(jobId: "j", input: "in/j.mp4", output: "j", loudness: .target(-20))
        XCTAssertEqual(try decoder.decode(target.jsonBody()).job, target)
        XCTAssertTrue(String(decoding: target.jsonBody(), as: UTF8.self).contains(#""loudness":-20"#))
    }

    func testBooleansAreBooleans() {
        XCTAssertEqual(rejection(#""storyboard": 0"#)?.reason, .invalidJob)
        XCTAssertEqual(rejection(#""poster": "no""#)?.reason, .invalidJob)
        XCTAssertEqual(rejection(#""chapters": 5"#)?.reason, .invalidJob)
    }

    private func resolver() throws -> (JobResolver, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("job-learner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let root = try ConfinedRoot(folder.path)
        var defaults = JobDefaults()
        defaults.chunkDuration = 240
        return (JobResolver(inputRoot: root, outputRoot: root, defaults: defaults), folder)
    }

    func testResolverDefaultsAndChoices() throws {
        let (worker, folder) = try resolver()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = try worker.plan(TranscodeJob(jobId: "a", input: "a.mp4", output: "a"))
        XCTAssertEqual(plain.loudness, LoudnessNormalization.defaultTarget)
        XCTAssertTrue(plain.storyboard)
        XCTAssertTrue(plain.poster)
        XCTAssertNil(plain.chaptersPath)
        XCTAssertEqual(plain.chunkDuration, 240)
        let chosen = try worker.plan(try decode(#""loudness": "off", "storyboard": false, "poster": false, "chapters": "c.json""#))
        XCTAssertNil(chosen.loudness)
        XCTAssertFalse(chosen.storyboard)
        XCTAssertFalse(chosen.poster)
        XCTAssertEqual(chosen.chaptersPath, folder.appendingPathComponent("c.json").resolvingSymlinksInPath().path)
        // Split transcodes take no chapters: a job with them is transcoded whole.
        XCTAssertEqual(chosen.chunkDuration, 0)
        XCTAssertEqual(try worker.plan(try decode(#""loudness": -23"#)).loudness, -23)
    }

    func testChaptersPathsAreConfined() throws {
        let (worker, folder) = try resolver()
        defer { try? FileManager.default.removeItem(at: folder) }
        for bad in ["../c.json", "/etc/passwd", "a/../../c.json", "s3://bucket/c.json"] {
            do {
                _ = try worker.plan(TranscodeJob(jobId: "a", input: "a.mp4", output: "a", chapters: bad))
                XCTFail("\(bad) was accepted")
            } catch {
                XCTAssertEqual(error.reason, .unsafePath, bad)
                XCTAssertTrue(error.message.hasPrefix("chapters"), error.message)
            }
        }
    }
}

/// `LoudnessNormalization`: the gain rule and the reasons a target is missed.
final class LoudnessNormalizationTests: XCTestCase {
    func testGainTakesTheInputToTheTargetWithinLimits() {
        XCTAssertEqual(LoudnessNormalization.gain(input: .init(integrated: -26.5, range: 3, truePeak: -9), target: -16), 10.5)
        XCTAssertEqual(LoudnessNormalization.gain(input: .init(integrated: -8, range: 3, truePeak: 0), target: -16), -8)
        XCTAssertEqual(LoudnessNormalization.gain(input: .init(integrated: -60, range: 3, truePeak: -40), target: -16),
                       LoudnessNormalization.maximumGain)
        XCTAssertEqual(LoudnessNormalization.gain(input: .init(integrated: nil, range: 0, truePeak: nil), target: -16), 0)
    }

    func testShortfallSaysWhy() {
        let target = -16.0
        let met = LoudnessFigures(integrated: -16.4, range: 2, truePeak: -2.5)
        XCTAssertNil(LoudnessNormalization.shortfall(input: .init(integrated: -30, range: 2, truePeak: -10), output: met, target: target, gain: 14))
        let silent = LoudnessFigures(integrated: nil, range: 0, truePeak: nil)
        XCTAssertEqual(LoudnessNormalization.shortfall(input: silent, output: silent, target: target, gain: 0), "the source is silent")
        XCTAssertTrue(LoudnessNormalization.shortfall(input: .init(integrated: -20, range: 2, truePeak: -5),
                                                      output: .init(integrated: -16, range: 2, truePeak: -0.4),
                                                      target: target, gain: 4)?.contains("overshoot") ?? false)
        let quiet = LoudnessFigures(integrated: -20, range: 2, truePeak: -30)
        XCTAssertTrue(LoudnessNormalization.shortfall(input: .init(integrated: -50, range: 2, truePeak: -40), output: quiet,
                                                      target: target, gain: 30)?.contains("+30 dB") ?? false)
        XCTAssertTrue(LoudnessNormalization.shortfall(input: .init(integrated: -30, range: 2, truePeak: -3), output: quiet,
                                                      target: target, gain: 14)?.contains("limiter") ?? false)
    }
}

/// `job.completed`'s learner fields: present when made, absent otherwise, and read back.
final class CompletionLearnerFieldsTests: XCTestCase {
    func testPathsAndLoudnessRoundTrip() throws {
        var completion = JobEvent.Completion(output: "l", master: "l/master.m3u8", segmentFormat: "fmp4", segmentDuration: 4,
                                             renditions: [], audio: .init(codec: "aac", bitrate: 128_000, channels: 2,
                                                                          sampleRate: 48_000, segments: 3, bytes: 9),
                                             subtitles: [], durationSeconds: 12, elapsedSeconds: 3, bytes: 100, segments: 6, speed: 4)
        let plain = String(decoding: try JSONEncoder().encode(completion), as: UTF8.self)
        for key in ["storyboard", "poster", "chapters", "loudness"] { XCTAssertFalse(plain.contains(key), plain) }
        completion.storyboard = "l/storyboard/storyboard.vtt"
        completion.poster = "l/poster.jpg"
        completion.chapters = "l/chapters.vtt"
        completion.audio?.loudness = LoudnessFigures(integrated: -16.2, range: 4.5, truePeak: -2.9)
        let data = try JSONEncoder().encode(completion)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["poster"] as? String, "l/poster.jpg")
        XCTAssertEqual(object["storyboard"] as? String, "l/storyboard/storyboard.vtt")
        XCTAssertEqual(object["chapters"] as? String, "l/chapters.vtt")
        XCTAssertEqual(((object["audio"] as? [String: Any])?["loudness"] as? [String: Any])?["integrated"] as? Double, -16.2)
        XCTAssertEqual(try JSONDecoder().decode(JobEvent.Completion.self, from: data), completion)
    }
}
