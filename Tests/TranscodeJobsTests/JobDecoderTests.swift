import Foundation
import XCTest
@testable import TranscodeJobs

final class JobDecoderTests: XCTestCase {
    private let decoder = JobDecoder()

    private func decode(_ json: String) throws(JobRejection) -> JobDecoder.Decoded {
        try decoder.decode(Data(json.utf8))
    }

    /// The rejection for `json`, failing the test when it decodes.
    private func rejection(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> JobRejection? {
        do {
            let decoded = try decode(json)
            XCTFail("decoded, expected a rejection: \(decoded.job)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private func assertRejected(_ json: String, _ reason: DeadLetterReason, mentioning words: [String] = [],
                                file: StaticString = #filePath, line: UInt = #line) {
        guard let rejection = rejection(json, file: file, line: line) else { return }
        XCTAssertEqual(rejection.reason, reason, "\(rejection)", file: file, line: line)
        for word in words {
            XCTAssertTrue(rejection.message.contains(word), "\"\(rejection.message)\" does not mention \(word)", file: file, line: line)
        }
    }

    func testTheDesignExampleDecodes() throws {
        let decoded = try decode("""
        { "jobId": "lecture-42", "input": "uploads/lecture-42.mp4", "output": "lecture-42",
          "subtitles": [ { "language": "en", "name": "English", "path": "uploads/lecture-42.en.srt" } ],
          "ladder": ["1080p", "720p", "480p"], "segmentDuration": 4, "segmentFormat": "fmp4",
          "progressive": true }
        """)
        XCTAssertEqual(decoded.job, TranscodeJob(
            jobId: "lecture-42", input: "uploads/lecture-42.mp4", output: "lecture-42",
            subtitles: [TranscodeJob.Subtitle(language: "en", name: "English", path: "uploads/lecture-42.en.srt")],
            ladder: ["1080p", "720p", "480p"], segmentDuration: 4, segmentFormat: .fmp4, progressive: true))
        XCTAssertEqual(decoded.warnings, [])
        XCTAssertEqual(try decoded.job.rungs()?.rungs.map(\.shortSide), [1080, 720, 480])
    }

    func testOptionalFieldsMayBeLeftOut() throws {
        let job = try decode(#"{"jobId": "a", "input": "a.mp4", "output": "a"}"#).job
        XCTAssertEqual(job, TranscodeJob(jobId: "a", input: "a.mp4", output: "a"))
        XCTAssertNil(try job.rungs())
    }

    func testPresetAndBitrateRungsAndTs() throws {
        let job = try decode(#"{"jobId": "a", "input": "a.mp4", "output": "a", "preset": "ultrafast", "ladder": ["720p@2800k", "360p"], "segmentFormat": "ts", "segmentDuration": 2.5}"#).job
        XCTAssertEqual(job.preset, "ultrafast")
        XCTAssertEqual(job.segmentFormat, .ts)
        XCTAssertEqual(job.segmentDuration, 2.5)
        XCTAssertEqual(try job.rungs()?.rungs.map(\.description), ["720p@2800k", "360p"])
    }

    func testAudioOnlyVariantReachesTheEngineOptions() throws {
        let job = try decode(#"{"jobId": "a", "input": "a.mp4", "output": "a", "audioOnlyVariant": 64000}"#).job
        XCTAssertEqual(job.audioOnlyVariant, 64_000)
        XCTAssertEqual(try decode(String(decoding: JSONEncoder().encode(job), as: UTF8.self)).job, job)
        XCTAssertNil(try decode(#"{"jobId": "a", "input": "a.mp4", "output": "a"}"#).job.audioOnlyVariant)
    }

    func testChunkDurationIsReadAndChecked() throws {
        let job = try decode(#"{"jobId": "a", "input": "a.mp4", "output": "a", "chunkDuration": 30}"#).job
        XCTAssertEqual(job.chunkDuration, 30)
        XCTAssertEqual(try decode(String(decoding: JSONEncoder().encode(job), as: UTF8.self)).job, job)
        XCTAssertEqual(try decode(#"{"jobId": "a", "input": "a.mp4", "output": "a", "chunkDuration": 0}"#).job.chunkDuration, 0)
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "chunkDuration": -1}"#, .invalidJob, mentioning: ["chunkDuration"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "chunkDuration": 1e9}"#, .invalidJob, mentioning: ["chunkDuration"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "chunkDuration": "30"}"#, .invalidJob, mentioning: ["chunkDuration"])
    }

    func testUnknownFieldsAreIgnoredWithAWarning() throws {
        let decoded = try decode(#"{"jobId": "a", "input": "a.mp4", "output": "a", "priority": 3, "callbackUrl": "x"}"#)
        XCTAssertEqual(decoded.warnings, [#"unknown field "callbackUrl" ignored"#, #"unknown field "priority" ignored"#])
    }

    func testBodiesThatAreNotJSON() {
        assertRejected("", .notJSON)
        assertRejected("garbage", .notJSON)
        assertRejected(#"{"jobId": "a", "input": "#, .notJSON)
        assertRejected("{'jobId': 'a'}", .notJSON)
        XCTAssertThrowsError(try decoder.decode(Data([0xFF, 0xFE, 0x00, 0x7B]))) { error in
            XCTAssertEqual((error as? JobRejection)?.reason, .notJSON)
        }
        // Deep nesting is refused by the parser, not by a crash.
        assertRejected(String(repeating: "[", count: 100_000), .notJSON)
    }

    func testJSONThatIsNotAnObject() {
        assertRejected("[]", .invalidJob, mentioning: ["object", "array"])
        assertRejected(#""lecture""#, .invalidJob, mentioning: ["object"])
        assertRejected("null", .invalidJob)
        assertRejected("42", .invalidJob)
    }

    func testMissingFields() {
        assertRejected(#"{"input": "a.mp4", "output": "a"}"#, .invalidJob, mentioning: ["jobId"])
        assertRejected(#"{"jobId": "a", "output": "a"}"#, .invalidJob, mentioning: ["input"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4"}"#, .invalidJob, mentioning: ["output"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "subtitles": [{"language": "en"}]}"#, .invalidJob,
                       mentioning: ["subtitles[0]", "path"])
        assertRejected(#"{}"#, .invalidJob)
    }

    func testWrongTypes() {
        assertRejected(#"{"jobId": 42, "input": "a.mp4", "output": "a"}"#, .invalidJob, mentioning: ["jobId", "string"])
        assertRejected(#"{"jobId": null, "input": "a.mp4", "output": "a"}"#, .invalidJob, mentioning: ["jobId"])
        assertRejected(#"{"jobId": "a", "input": ["a.mp4"], "output": "a"}"#, .invalidJob, mentioning: ["input"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "ladder": "720p,480p"}"#, .invalidJob, mentioning: ["ladder"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "ladder": [720]}"#, .invalidJob, mentioning: ["ladder[0]"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "segmentDuration": "4"}"#, .invalidJob, mentioning: ["segmentDuration", "number"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "segmentDuration": true}"#, .invalidJob, mentioning: ["segmentDuration"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "progressive": 1}"#, .invalidJob, mentioning: ["progressive"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "progressive": "yes"}"#, .invalidJob, mentioning: ["progressive"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "audioOnlyVariant": "64k"}"#, .invalidJob, mentioning: ["audioOnlyVariant"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "audioOnlyVariant": 8000}"#, .invalidJob, mentioning: ["audioOnlyVariant", "8000"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "subtitles": {"language": "en", "path": "x.srt"}}"#, .invalidJob, mentioning: ["subtitles"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "preset": 3}"#, .invalidJob, mentioning: ["preset"])
    }

    func testRejectionsKeepTheJobIdWhenOneCanBeRead() {
        XCTAssertEqual(rejection(#"{"jobId": "lecture-7", "input": 5, "output": "a"}"#)?.jobId, "lecture-7")
        XCTAssertEqual(rejection(#"{"jobId": "../../etc", "input": "a", "output": "a"}"#)?.jobId, "../../etc")
        XCTAssertNil(rejection(#"{"jobId": 5, "input": "a", "output": "a"}"#)?.jobId)
        XCTAssertNil(rejection("garbage")?.jobId)
    }

    func testUnknownLadderNames() {
        for rung in ["4k", "720", "hd", "721p", "0p", "9000p", "720p@fast", "720p@2800", ""] {
            assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "ladder": ["1080p", "\#(rung)"]}"#, .invalidJob,
                           mentioning: ["ladder[1]"])
        }
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "ladder": ["720p", "720p"]}"#, .invalidJob, mentioning: ["720p"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "ladder": []}"#, .invalidJob, mentioning: ["empty"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "ladder": ["720p,480p"]}"#, .invalidJob, mentioning: ["ladder[0]"])
    }

    func testValuesOutOfRange() {
        for duration in ["0", "0.5", "61", "-4", "1e9"] {
            assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "segmentDuration": \#(duration)}"#, .invalidJob,
                           mentioning: ["segmentDuration"])
        }
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "segmentFormat": "mp4"}"#, .invalidJob, mentioning: ["segmentFormat", "fmp4"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "preset": "turbo"}"#, .invalidJob, mentioning: ["preset", "turbo"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "subtitles": [{"language": "english!", "path": "x.srt"}]}"#,
                       .invalidJob, mentioning: ["subtitles[0].language"])
        assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "a", "subtitles": [{"language": "en", "name": "", "path": "x.srt"}]}"#,
                       .invalidJob, mentioning: ["subtitles[0].name"])
    }

    func testUnsafeJobIds() {
        let long = String(repeating: "a", count: 129)
        for id in ["", "../x", "a/b", ".hidden", "-dash", "with space", "tab\\there", "ünï", "a\\\\b", long, "nul\\u0000"] {
            assertRejected(#"{"jobId": "\#(id)", "input": "a.mp4", "output": "a"}"#, .unsafeJobId, mentioning: ["jobId"])
        }
        XCTAssertNoThrow(try decode(#"{"jobId": "\#(String(repeating: "a", count: 128))", "input": "a.mp4", "output": "a"}"#))
        XCTAssertNoThrow(try decode(#"{"jobId": "Lecture_42.v2-final", "input": "a.mp4", "output": "a"}"#))
    }

    func testUnsafePaths() {
        let cases: [(String, String)] = [
            (#""input": "/etc/passwd", "output": "a""#, "input"),
            (#""input": "../secret.mp4", "output": "a""#, "input"),
            (#""input": "uploads/../../secret.mp4", "output": "a""#, "input"),
            (#""input": "uploads//a.mp4", "output": "a""#, "input"),
            (#""input": "./a.mp4", "output": "a""#, "input"),
            (#""input": "~root/a.mp4", "output": "a""#, "input"),
            (#""input": "a\u0000.mp4", "output": "a""#, "input"),
            (#""input": "a\n.mp4", "output": "a""#, "input"),
            (#""input": "a.mp4", "output": "/var/www""#, "output"),
            (#""input": "a.mp4", "output": "../a""#, "output"),
            (#""input": "a.mp4", "output": "a/..""#, "output"),
            (#""input": "a.mp4", "output": "a/""#, "output"),
            (#""input": "a.mp4", "output": ".hlsify-work""#, "output"),
            (#""input": "a.mp4", "output": "x/.hidden/y""#, "output"),
            (#""input": "a.mp4", "output": """#, "output"),
            (#""input": "a.mp4", "output": "a", "subtitles": [{"language": "en", "path": "../../x.srt"}]"#, "subtitles[0].path"),
            (#""input": "a.mp4", "output": "a", "subtitles": [{"language": "en", "path": "/x.srt"}]"#, "subtitles[0].path"),
        ]
        for (fields, field) in cases {
            assertRejected(#"{"jobId": "a", \#(fields)}"#, .unsafePath, mentioning: [field])
        }
        XCTAssertNoThrow(try decode(#"{"jobId": "a", "input": "uploads/2026/a b.mp4", "output": "courses/c1/a"}"#))
        XCTAssertNoThrow(try decode(#"{"jobId": "a", "input": ".uploads/a.mp4", "output": "a"}"#), "hidden input folders are allowed")
    }

    func testC1ControlsAndLineSeparatorsInPathsAreRefused() {
        // JSON escapes of U+0085 (NEL), U+009B (CSI), U+0080, U+009F, U+2028; the README promises no control characters.
        for escape in ["\\u0085", "\\u009b", "\\u0080", "\\u009f", "\\u2028", "\\u007f"] {
            assertRejected(#"{"jobId": "a", "input": "a.mp4", "output": "out\#(escape)put"}"#, .unsafePath,
                           mentioning: ["output", "control character"])
            assertRejected(#"{"jobId": "a", "input": "in\#(escape)put.mp4", "output": "a"}"#, .unsafePath,
                           mentioning: ["input", "control character"])
        }
        // Printable non-ASCII stays allowed (U+00A0 no-break space is the first scalar after C1).
        XCTAssertNoThrow(try decode(#"{"jobId": "a", "input": "a.mp4", "output": "cours\u00e9s/\u00a0b"}"#))
    }

    func testAudioOnlyVariantThatIsNoWholeNumberSaysSo() {
        for value in ["1e30", "64000.5", "-1e300", "9.3e18"] {
            guard let rejection = rejection(#"{"jobId": "a", "input": "a.mp4", "output": "a", "audioOnlyVariant": \#(value)}"#) else { continue }
            XCTAssertEqual(rejection.reason, .invalidJob)
            XCTAssertEqual(rejection.jobId, "a")
            XCTAssertTrue(rejection.message.contains("audioOnlyVariant"), rejection.message)
            XCTAssertTrue(rejection.message.contains("whole number"), rejection.message)
            XCTAssertFalse(rejection.message.contains("JSON"), rejection.message)
        }
        XCTAssertEqual(try decode(#"{"jobId": "a", "input": "a.mp4", "output": "a", "audioOnlyVariant": 64000.0}"#).job.audioOnlyVariant, 64_000)
    }

    func testBodySizeLimit() {
        let small = JobDecoder(maximumBodySize: 100)
        let body = Data(#"{"jobId": "a", "input": "a.mp4", "output": "a", "pad": "\#(String(repeating: "x", count: 200))"}"#.utf8)
        XCTAssertThrowsError(try small.decode(body)) { error in
            XCTAssertEqual((error as? JobRejection)?.reason, .tooLarge)
        }
    }

    func testEncodingRoundTrips() throws {
        let job = TranscodeJob(jobId: "j", input: "in/j.mp4", output: "out/j",
                               subtitles: [TranscodeJob.Subtitle(language: "pt-BR", path: "in/j.srt")],
                               ladder: ["720p@2800k"], segmentDuration: 2, segmentFormat: .ts, preset: "fast", progressive: false)
        XCTAssertEqual(try decoder.decode(job.jsonBody()).job, job)
        let minimal = TranscodeJob(jobId: "j", input: "in/j.mp4", output: "j")
        XCTAssertEqual(String(decoding: minimal.jsonBody(), as: UTF8.self), #"{"input":"in/j.mp4","jobId":"j","output":"j"}"#)
    }

    func testReasonsSplitIntoRejectionsAndFailures() {
        XCTAssertTrue(DeadLetterReason.notJSON.isRejection)
        XCTAssertTrue(DeadLetterReason.unsafePath.isRejection)
        XCTAssertFalse(DeadLetterReason.badMedia.isRejection)
        XCTAssertFalse(DeadLetterReason.attemptsExhausted.isRejection)
        XCTAssertEqual(Set(DeadLetterReason.allCases.map(\.rawValue)).count, DeadLetterReason.allCases.count)
    }
}
