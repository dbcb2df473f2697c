import Foundation
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

    func testAPlanWrittenBeforeRateControlStillDecodes() throws {
        let old = Data("""
        {"formatVersion": 1, "engine": "engine 1",
         "source": {"size": 1000, "modifiedNanoseconds": 5, "headSHA256": "h", "tailSHA256": "t"},
         "settings": {"ladder": ["720p", "480p"], "segmentDuration": 4, "segmentFormat": "fmp4", "preset": "veryfast",
                      "audioBitrate": 128000},
         "firstTimestamp": 1024, "timeBaseNumerator": 1, "timeBaseDenominator": 15360,
         "renditions": [{"folder": "720p", "threads": 2, "slicedThreads": false}]}
        """.utf8)
        let decoded = try JSONDecoder().decode(ResumePlan.self, from: old)
        XCTAssertNil(decoded.settings.rateControl)
        XCTAssertNil(decoded.settings.crf)
        XCTAssertEqual(decoded, plan)
    }

    func testRateControlAndCRFRoundTripAndAreCompared() throws {
        let capped = ResumePlan.Settings(ladder: ["720p", "480p"], segmentDuration: 4, segmentFormat: "fmp4", preset: "veryfast",
                                         audioBitrate: 128_000, audioOnlyVariantBitrate: nil, rateControl: "capped-crf", crf: 23)
        XCTAssertEqual(try JSONDecoder().decode(ResumePlan.Settings.self, from: try JSONEncoder().encode(capped)), capped)

        var abr = capped
        abr.rateControl = "abr"
        abr.crf = nil
        XCTAssertNotEqual(abr, capped)
        var otherRateControlOnly = capped
        otherRateControlOnly.rateControl = "abr"
        XCTAssertNotEqual(otherRateControlOnly, capped)
        var otherCRFOnly = capped
        otherCRFOnly.crf = 24
        XCTAssertNotEqual(otherCRFOnly, capped)
        var defaultCRF = capped
        defaultCRF.crf = nil
        XCTAssertNotEqual(defaultCRF, capped)

        var written = plan
        written.settings = capped
        XCTAssertNil(written.mismatch(engine: "engine 1", source: source, settings: capped))
        for other in [otherRateControlOnly, otherCRFOnly, defaultCRF, settings] {
            XCTAssertEqual(written.mismatch(engine: "engine 1", source: source, settings: other), "it was made with other settings",
                           "\(other)")
        }
    }
}
