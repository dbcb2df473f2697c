import Foundation
import HLSCore
import XCTest
@testable import TranscodeJobs

/// The job fields of issue 16: rateControl, crf, measureQuality, keepRedundantRungs and the
/// "auto" ladder, through `JobDecoder`, `TranscodeJob.jsonBody` and `JobResolver`.
final class JobRateControlTests: XCTestCase {
    private let decoder = JobDecoder()

    private func decode(_ fields: String) throws(JobRejection) -> JobDecoder.Decoded {
        try decoder.decode(Data(#"{"jobId": "a", "input": "a.mp4", "output": "a", \#(fields)}"#.utf8))
    }

    private func assertRejected(_ fields: String, mentioning words: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let decoded = try decode(fields)
            XCTFail("decoded, expected a rejection: \(decoded.job)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.reason, .invalidJob, "\(error)", file: file, line: line)
            XCTAssertEqual(error.jobId, "a", file: file, line: line)
            for word in words {
                XCTAssertTrue(error.message.contains(word), "\"\(error.message)\" does not mention \(word)", file: file, line: line)
            }
        }
    }

    // MARK: - rateControl and crf

    func testRateControlNames() throws {
        XCTAssertEqual(try decode(#""rateControl": "capped-crf""#).job.rateControl, .cappedCRF)
        XCTAssertEqual(try decode(#""rateControl": "abr""#).job.rateControl, .abr)
        XCTAssertNil(try decode(#""preset": "fast""#).job.rateControl)
        XCTAssertEqual(try decode(#""rateControl": "abr""#).warnings, [])
    }

    func testOtherRateControlsAreRejectedNamingTheField() {
        for value in [#""crf""#, #""vbr""#, #""ABR""#, #""capped_crf""#, #""""#, #"" abr""#] {
            assertRejected(#""rateControl": \#(value)"#, mentioning: ["rateControl", "capped-crf", "abr"])
        }
        for value in ["1", "true", #"["abr"]"#, #"{"mode": "abr"}"#] {
            assertRejected(#""rateControl": \#(value)"#, mentioning: ["rateControl"])
        }
    }

    func testCRFWithinRange() throws {
        XCTAssertEqual(try decode(#""crf": 23"#).job.crf, 23)
        XCTAssertEqual(try decode(#""crf": 1"#).job.crf, 1)
        XCTAssertEqual(try decode(#""crf": 51"#).job.crf, 51)
        XCTAssertEqual(try decode(#""crf": 23.5"#).job.crf, 23.5)
        let both = try decode(#""rateControl": "capped-crf", "crf": 20"#).job
        XCTAssertEqual(both.rateControl, .cappedCRF)
        XCTAssertEqual(both.crf, 20)
        XCTAssertNil(try decode(#""rateControl": "capped-crf""#).job.crf)
    }

    func testCRFOutsideTheRangeIsRejected() {
        for value in ["0", "0.99", "51.01", "52", "-1", "1e9"] {
            assertRejected(#""crf": \#(value)"#, mentioning: ["crf", "between 1 and 51"])
        }
        for value in [#""23""#, "true", "[23]"] {
            assertRejected(#""crf": \#(value)"#, mentioning: ["crf"])
        }
    }

    func testCRFMustBeFinite() {
        for crf in [Double.nan, .infinity, -.infinity] {
            XCTAssertThrowsError(try decoder.validate(TranscodeJob(jobId: "a", input: "a.mp4", output: "a", crf: crf)), "\(crf)") { error in
                XCTAssertEqual((error as? JobRejection)?.reason, .invalidJob)
                XCTAssertTrue((error as? JobRejection)?.message.contains("crf") == true)
            }
        }
        XCTAssertNoThrow(try decoder.validate(TranscodeJob(jobId: "a", input: "a.mp4", output: "a", crf: 30)))
    }

    func testCRFWithABRIsRejected() {
        assertRejected(#""rateControl": "abr", "crf": 23"#, mentioning: ["crf", "abr"])
        assertRejected(#""crf": 23, "rateControl": "abr""#, mentioning: ["crf", "abr"])
        XCTAssertThrowsError(try decoder.validate(TranscodeJob(jobId: "a", input: "a.mp4", output: "a", rateControl: .abr, crf: 23)))
    }

    // MARK: - measureQuality and keepRedundantRungs

    func testBooleans() throws {
        let job = try decode(#""measureQuality": true, "keepRedundantRungs": false"#).job
        XCTAssertEqual(job.measureQuality, true)
        XCTAssertEqual(job.keepRedundantRungs, false)
        let other = try decode(#""measureQuality": false, "keepRedundantRungs": true"#).job
        XCTAssertEqual(other.measureQuality, false)
        XCTAssertEqual(other.keepRedundantRungs, true)
        let none = try decode(#""preset": "fast""#).job
        XCTAssertNil(none.measureQuality)
        XCTAssertNil(none.keepRedundantRungs)
    }

    func testBooleansOfTheWrongTypeAreRejected() {
        for field in ["measureQuality", "keepRedundantRungs"] {
            for value in ["1", "0", #""true""#, #""yes""#, "[true]"] {
                assertRejected(#""\#(field)": \#(value)"#, mentioning: [field])
            }
        }
    }

    // MARK: - ladder "auto"

    func testAutoLadderAsStringOrArray() throws {
        for fields in [#""ladder": "auto""#, #""ladder": ["auto"]"#] {
            let decoded = try decode(fields)
            XCTAssertEqual(decoded.job.ladder, ["auto"], fields)
            XCTAssertEqual(decoded.warnings, [], fields)
            let ladder = try XCTUnwrap(try decoded.job.rungs(), fields)
            XCTAssertTrue(ladder.isAuto, fields)
            XCTAssertEqual(ladder, .auto, fields)
        }
    }

    func testOtherLadderStringsAreRejected() {
        for value in ["fast", "720p", "auto,720p", "", "default"] {
            assertRejected(#""ladder": "\#(value)""#, mentioning: ["ladder"])
        }
        assertRejected(#""ladder": "fast""#, mentioning: ["ladder", "auto", "\"fast\""])
    }

    func testAutoMixedWithRungsIsRejected() {
        assertRejected(#""ladder": ["auto", "720p"]"#, mentioning: ["ladder", "stands alone"])
        assertRejected(#""ladder": ["720p", "auto"]"#, mentioning: ["ladder", "stands alone"])
        assertRejected(#""ladder": ["auto", "auto"]"#, mentioning: ["ladder", "stands alone"])
        assertRejected(#""ladder": ["auto,720p"]"#, mentioning: ["ladder"])
    }

    func testAFixedLadderIsNotAuto() throws {
        let ladder = try XCTUnwrap(try decode(#""ladder": ["1080p", "720p", "480p", "360p", "240p"]"#).job.rungs())
        XCTAssertFalse(ladder.isAuto)
        XCTAssertEqual(ladder.rungs, Ladder.auto.rungs)
    }

    // MARK: - Round trip

    func testNewFieldsRoundTripThroughTheBody() throws {
        let job = TranscodeJob(jobId: "j", input: "in/j.mp4", output: "out/j", ladder: ["auto"], rateControl: .cappedCRF, crf: 23.5,
                               measureQuality: true, keepRedundantRungs: false)
        let body = job.jsonBody()
        let text = String(decoding: body, as: UTF8.self)
        XCTAssertEqual(text, #"{"crf":23.5,"input":"in/j.mp4","jobId":"j","keepRedundantRungs":false,"ladder":["auto"],"measureQuality":true,"output":"out/j","rateControl":"capped-crf"}"#)
        let decoded = try decoder.decode(body)
        XCTAssertEqual(decoded.job, job)
        XCTAssertEqual(decoded.warnings, [])

        let abr = TranscodeJob(jobId: "j", input: "in/j.mp4", output: "j", rateControl: .abr, keepRedundantRungs: true)
        XCTAssertEqual(String(decoding: abr.jsonBody(), as: UTF8.self),
                       #"{"input":"in/j.mp4","jobId":"j","keepRedundantRungs":true,"output":"j","rateControl":"abr"}"#)
        XCTAssertEqual(try decoder.decode(abr.jsonBody()).job, abr)
    }

    // MARK: - JobResolver

    private func resolver(_ defaults: JobDefaults = JobDefaults()) throws -> (JobResolver, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("job-rate-control-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let root = try ConfinedRoot(folder.path)
        return (JobResolver(inputRoot: root, outputRoot: root, defaults: defaults), folder)
    }

    func testResolverFillsRateControlFromTheDefaults() throws {
        let (abrWorker, folder) = try resolver()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = try abrWorker.plan(TranscodeJob(jobId: "a", input: "a.mp4", output: "a"))
        XCTAssertEqual(plain.rateControl, EncodingDefaults.rateControl)
        XCTAssertNil(plain.crf)
        XCTAssertFalse(plain.measureQuality)
        XCTAssertFalse(plain.keepRedundantRungs)
        XCTAssertEqual(plain.ladder, EncodingDefaults.ladder)

        var defaults = JobDefaults()
        defaults.rateControl = .cappedCRF
        let cappedWorker = JobResolver(inputRoot: abrWorker.inputRoot, outputRoot: abrWorker.outputRoot, defaults: defaults)
        XCTAssertEqual(try cappedWorker.plan(TranscodeJob(jobId: "a", input: "a.mp4", output: "a")).rateControl, .cappedCRF)
        // The job's own choice wins over the worker's.
        XCTAssertEqual(try cappedWorker.plan(TranscodeJob(jobId: "a", input: "a.mp4", output: "a", rateControl: .abr)).rateControl, .abr)
        XCTAssertEqual(try abrWorker.plan(TranscodeJob(jobId: "a", input: "a.mp4", output: "a", rateControl: .cappedCRF)).rateControl,
                       .cappedCRF)
    }

    func testAJobGivingOnlyCRFGetsCappedCRF() throws {
        var defaults = JobDefaults()
        defaults.rateControl = .abr
        let (worker, folder) = try resolver(defaults)
        defer { try? FileManager.default.removeItem(at: folder) }
        let job = try decode(#""crf": 24"#).job
        let plan = try worker.plan(job)
        XCTAssertEqual(plan.rateControl, .cappedCRF)
        XCTAssertEqual(plan.crf, 24)
    }

    func testResolverCarriesTheNewFields() throws {
        let (worker, folder) = try resolver()
        defer { try? FileManager.default.removeItem(at: folder) }
        let job = try decode(#""ladder": "auto", "measureQuality": true, "keepRedundantRungs": true, "rateControl": "capped-crf""#).job
        let plan = try worker.plan(job)
        XCTAssertEqual(plan.ladder, .auto)
        XCTAssertTrue(plan.ladder.isAuto)
        XCTAssertTrue(plan.measureQuality)
        XCTAssertTrue(plan.keepRedundantRungs)
        XCTAssertEqual(plan.rateControl, .cappedCRF)
        XCTAssertNil(plan.crf)
    }
}
