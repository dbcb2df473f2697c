import HLSCore
import XCTest

final class SourceTimelineTests: XCTestCase {
    func testGapsAreCountedSummedAndListedToTheMillisecond() {
        var timeline = SourceTimeline()
        XCTAssertTrue(timeline.isEmpty)
        timeline.recordGap(atSeconds: 10.00049, seconds: 60.0004)
        timeline.recordGap(atSeconds: 95.5, seconds: 3.25)
        XCTAssertFalse(timeline.isEmpty)
        XCTAssertEqual(timeline.gapCount, 2)
        XCTAssertEqual(timeline.gaps, [.init(at: 10, seconds: 60), .init(at: 95.5, seconds: 3.25)])
        XCTAssertEqual(timeline.filledSeconds, 63.25, accuracy: 0.0005)
        XCTAssertEqual(timeline.backwardJumpCount, 0)
    }

    func testListsStopAtTheLimitButCountsAndTotalsDoNot() {
        var timeline = SourceTimeline()
        for index in 0..<(SourceTimeline.maxListed + 20) {
            timeline.recordGap(atSeconds: Double(index) * 10, seconds: 1)
            timeline.recordJump(atSeconds: Double(index) * 10, seconds: -5)
        }
        XCTAssertEqual(timeline.gaps.count, SourceTimeline.maxListed)
        XCTAssertEqual(timeline.gapCount, SourceTimeline.maxListed + 20)
        XCTAssertEqual(timeline.filledSeconds, Double(SourceTimeline.maxListed + 20), accuracy: 0.001)
        XCTAssertEqual(timeline.backwardJumps.count, SourceTimeline.maxListed)
        XCTAssertEqual(timeline.backwardJumpCount, SourceTimeline.maxListed + 20)
        XCTAssertEqual(timeline.backwardJumps.first, .init(at: 0, seconds: -5))
    }

    func testEncodesTheFieldsTheReportDocuments() throws {
        var timeline = SourceTimeline()
        timeline.recordGap(atSeconds: 5, seconds: 3)
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(timeline)) as? [String: Any]
        XCTAssertEqual(Set(object?.keys ?? [:].keys), ["gaps", "gapCount", "filledSeconds", "backwardJumps", "backwardJumpCount"])
    }
}
