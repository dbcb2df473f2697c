import Foundation
import HLSCore
import XCTest
@testable import TranscodeJobs

/// The job's added audio (`audio`, `audioDescription`) through `JobDecoder`, `TranscodeJob.jsonBody`
/// and `JobResolver`, and `job.completed`'s `audioTracks`.
final class JobAudioTracksTests: XCTestCase {
    private let decoder = JobDecoder()

    private func decode(_ fields: String) throws(JobRejection) -> TranscodeJob { try JobBodies.decode(fields, with: decoder) }
    private func rejection(_ fields: String) -> JobRejection? { JobBodies.rejection(fields) }

    func testFilesAreReadWithTheirLanguages() throws {
        let job = try decode(#""audio": [{"language": "es", "path": "up/a.es.m4a"}], "audioDescription": [{"language": "en", "path": "up/a.ad.m4a"}]"#)
        XCTAssertEqual(job.audio, [.init(language: "es", path: "up/a.es.m4a")])
        XCTAssertEqual(job.audioDescription, [.init(language: "en", path: "up/a.ad.m4a")])
        XCTAssertEqual(try decode(#""chapters": "c.vtt""#).audio, [])
    }

    func testBadEntriesAreRejectedNamingTheField() {
        let cases: [(String, DeadLetterReason, String)] = [
            (#""audio": [{"language": "english", "path": "a.m4a"}]"#, .invalidJob, "audio[0].language"),
            (#""audio": [{"language": "e", "path": "a.m4a"}]"#, .invalidJob, "audio[0].language"),
            (#""audioDescription": [{"language": "en", "path": "../a.m4a"}]"#, .unsafePath, "audioDescription[0].path"),
            (#""audio": [{"language": "en", "path": "/etc/passwd"}]"#, .unsafePath, "audio[0].path"),
            (#""audio": [{"language": "en"}]"#, .invalidJob, "path"),
            (#""audio": {"language": "en", "path": "a.m4a"}"#, .invalidJob, "audio"),
            (#""audio": ["a.m4a"]"#, .invalidJob, "audio[0]"),
        ]
        for (fields, reason, mention) in cases {
            let error = rejection(fields)
            XCTAssertEqual(error?.reason, reason, fields)
            XCTAssertTrue(error?.message.contains(mention) ?? false, "\(String(describing: error?.message)) for \(fields)")
        }
        let many = (0...JobDecoder.maximumAddedAudio).map { #"{"language": "es", "path": "a\#($0).m4a"}"# }.joined(separator: ",")
        XCTAssertEqual(rejection(#""audio": [\#(many)]"#)?.reason, .invalidJob)
    }

    func testTheFieldsRoundTripThroughTheBodyAndAreLeftOutWhenEmpty() throws {
        let job = TranscodeJob(jobId: "j", input: "in/j.mp4", output: "j", audio: [.init(language: "es", path: "in/j.es.m4a")],
                               audioDescription: [.init(language: "en", path: "in/j.ad.m4a")])
        let text = String(decoding: job.jsonBody(), as: UTF8.self)
        XCTAssertTrue(text.contains(#""audio":[{"language":"es","path":"in/j.es.m4a"}]"#), text)
        XCTAssertTrue(text.contains(#""audioDescription":[{"language":"en","path":"in/j.ad.m4a"}]"#), text)
        XCTAssertEqual(try decoder.decode(job.jsonBody()).job, job)
        let plain = String(decoding: TranscodeJob(jobId: "j", input: "i", output: "j").jsonBody(), as: UTF8.self)
        XCTAssertFalse(plain.contains("audio"), plain)
    }

    func testTheResolverConfinesThePathsAndNeverSplitsSuchAJob() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("job-audio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try ConfinedRoot(folder.path)
        let worker = JobResolver(inputRoot: root, outputRoot: root)
        let plan = try worker.plan(try decode(#""audio": [{"language": "es", "path": "es.m4a"}], "audioDescription": [{"language": "en", "path": "ad.m4a"}]"#))
        let base = folder.resolvingSymlinksInPath().path
        XCTAssertEqual(plan.audioFiles, [.init(language: "es", describesVideo: false, path: base + "/es.m4a"),
                                         .init(language: "en", describesVideo: true, path: base + "/ad.m4a")])
        XCTAssertEqual(plan.chunkDuration, 0, "split transcodes take no added audio")
        XCTAssertEqual(try worker.plan(TranscodeJob(jobId: "a", input: "a.mp4", output: "a")).audioFiles, [])
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("out").path, withDestinationPath: "/etc")
        do {
            _ = try worker.plan(TranscodeJob(jobId: "a", input: "a.mp4", output: "a", audioDescription: [.init(language: "en", path: "out/passwd")]))
            XCTFail("a link out of the root was followed")
        } catch {
            XCTAssertEqual(error.reason, .unsafePath)
            XCTAssertTrue(error.message.hasPrefix("audioDescription[0].path"), error.message)
        }
    }

    func testCompletionListsEveryTrack() throws {
        var completion = JobEvent.Completion(output: "l", master: "l/master.m3u8", segmentFormat: "fmp4", segmentDuration: 4,
                                             renditions: [], audio: nil, subtitles: [], durationSeconds: 12, elapsedSeconds: 3,
                                             bytes: 100, segments: 6, speed: 4)
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(completion), as: UTF8.self).contains("audioTracks"))
        var track = JobEvent.Completion.Audio(codec: "aac", bitrate: 128_000, channels: 2, sampleRate: 48_000, segments: 3, bytes: 9)
        track.language = "es"
        track.name = "Español"
        track.isDefault = false
        track.describesVideo = true
        track.playlist = "l/audio-es-ad/index.m3u8"
        completion.audioTracks = [track]
        let data = try JSONEncoder().encode(completion)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let listed = try XCTUnwrap((object["audioTracks"] as? [[String: Any]])?.first)
        XCTAssertEqual(listed["name"] as? String, "Español")
        XCTAssertEqual(listed["describesVideo"] as? Bool, true)
        XCTAssertEqual(listed["playlist"] as? String, "l/audio-es-ad/index.m3u8")
        XCTAssertEqual(try JSONDecoder().decode(JobEvent.Completion.self, from: data), completion)
    }
}
