import Foundation
import HLSCore
import XCTest
@testable import TranscodeJobs

/// The job's `collapseGaps` field (issue 19): decoded as a boolean, sent only when set, and a
/// job with it is transcoded whole.
final class JobCollapseGapsTests: XCTestCase {
    private let decoder = JobDecoder()

    func testCollapseGapsIsABooleanSentOnlyWhenSet() throws {
        XCTAssertEqual(try JobBodies.decode(#""collapseGaps": true"#, with: decoder).collapseGaps, true)
        XCTAssertEqual(try JobBodies.decode(#""collapseGaps": false"#, with: decoder).collapseGaps, false)
        XCTAssertNil(try JobBodies.decode(#""progressive": true"#, with: decoder).collapseGaps)
        for bad in [#""collapseGaps": 1"#, #""collapseGaps": "yes""#] {
            let error = JobBodies.rejection(bad)
            XCTAssertEqual(error?.reason, .invalidJob, bad)
            XCTAssertTrue(error?.message.contains("collapseGaps") ?? false, "\(String(describing: error))")
        }
        let job = TranscodeJob(jobId: "j", input: "in/j.mp4", output: "j", collapseGaps: true)
        XCTAssertEqual(String(decoding: job.jsonBody(), as: UTF8.self), #"{"collapseGaps":true,"input":"in/j.mp4","jobId":"j","output":"j"}"#)
        XCTAssertEqual(try decoder.decode(job.jsonBody()).job, job)
        XCTAssertFalse(String(decoding: TranscodeJob(jobId: "j", input: "a", output: "j").jsonBody(), as: UTF8.self).contains("collapseGaps"))
    }

    func testAJobThatCollapsesGapsIsNeverSplit() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("job-collapse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try ConfinedRoot(folder.path)
        let worker = JobResolver(inputRoot: root, outputRoot: root)
        let collapsing = try worker.plan(TranscodeJob(jobId: "a", input: "a.mp4", output: "a", chunkDuration: 4, collapseGaps: true))
        XCTAssertTrue(collapsing.collapseGaps)
        XCTAssertEqual(collapsing.chunkDuration, 0)
        let filling = try worker.plan(TranscodeJob(jobId: "a", input: "a.mp4", output: "a", chunkDuration: 4, collapseGaps: false))
        XCTAssertFalse(filling.collapseGaps)
        XCTAssertEqual(filling.chunkDuration, 4)
    }
}
