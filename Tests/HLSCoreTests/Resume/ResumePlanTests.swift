import HLSCore
import XCTest

final class ResumePlanTests: XCTestCase {
    private let source = SourceFingerprint(size: 1000, modifiedNanoseconds: 5, headSHA256: "h", tailSHA256: "t")
    private let settings = ResumePlan.Settings(ladder: ["720p", "480p"], segmentDuration: 4, segmentFormat: "fmp4",
                                               preset: "veryfast", audioBitrate: 128_000, audioOnlyVariantBitrate: nil)

    private var plan: ResumePlan {
        ResumePlan(engine: "engine 1", source: source, settings: settings, firstTimestamp: 1024, timeBaseNumerator: 1,
                   timeBaseDenominator: 15360, renditions: [.init(folder: "720p", threads: 2, slicedThreads: false)])
    }

    func testTheSameRunMatches() {
        XCTAssertNil(plan.mismatch(engine: "engine 1", source: source, settings: settings))
    }

    func testEachDifferenceIsNamed() {
        XCTAssertEqual(plan.mismatch(engine: "engine 2", source: source, settings: settings),
                       "it was made by another engine version (engine 1)")
        var touched = source
        touched.modifiedNanoseconds += 1
        XCTAssertEqual(plan.mismatch(engine: "engine 1", source: touched, settings: settings),
                       "the source changed since (modification time)")
        var rewritten = source
        rewritten.tailSHA256 = "x"
        rewritten.size += 1
        XCTAssertEqual(plan.mismatch(engine: "engine 1", source: rewritten, settings: settings),
                       "the source changed since (size, content)")
        var other = settings
        other.preset = "medium"
        XCTAssertEqual(plan.mismatch(engine: "engine 1", source: source, settings: other), "it was made with other settings")
    }

    func testAnotherFormatVersionNeverMatches() throws {
        var old = plan
        old.formatVersion = ResumePlan.formatVersion + 1
        XCTAssertNotNil(old.mismatch(engine: "engine 1", source: source, settings: settings))
    }

    func testPlanRoundTripsThroughJSON() throws {
        let decoded = try JSONDecoder().decode(ResumePlan.self, from: try JSONEncoder().encode(plan))
        XCTAssertEqual(decoded, plan)
    }
}
