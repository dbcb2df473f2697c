import XCTest
@testable import HLSCore

final class SegmentTimelineTests: XCTestCase {
    func testBoundaryBelongsToTheSegmentItStarts() {
        let timeline = SegmentTimeline(seconds: 4)
        XCTAssertEqual(timeline.index(atMicroseconds: 0), 0)
        XCTAssertEqual(timeline.index(atMicroseconds: 3_999_999), 0)
        XCTAssertEqual(timeline.index(atMicroseconds: 4_000_000), 1)
        XCTAssertEqual(timeline.index(atMicroseconds: 8_000_001), 2)
    }

    func testBeforeTheFirstFrameIsSegmentZero() {
        XCTAssertEqual(SegmentTimeline(seconds: 4).index(atMicroseconds: -21_333), 0)
    }

    func testFractionalDurations() {
        let timeline = SegmentTimeline(seconds: 2.5)
        XCTAssertEqual(timeline.durationMicroseconds, 2_500_000)
        XCTAssertEqual(timeline.index(atMicroseconds: 5_000_000), 2)
        XCTAssertEqual(timeline.boundary(3), 7.5, accuracy: 1e-9)
    }

    func testNtscFramesLandOnTheFirstFrameAtOrAfterEachBoundary() {
        // 29.97 fps: frame n at n * 1001/30000 s. The first frame of segment k is the first at or after 4k s.
        let timeline = SegmentTimeline(seconds: 4)
        var firstFrames: [Int: Int] = [:]
        for n in 0..<1000 {
            let us = Int64(n) * 1001 * 1_000_000 / 30000
            let index = timeline.index(atMicroseconds: us)
            if firstFrames[index] == nil { firstFrames[index] = n }
        }
        for (k, n) in firstFrames {
            let t = Double(n) * 1001 / 30000
            XCTAssertGreaterThanOrEqual(t + 1e-9, Double(k) * 4)
            if n > 0 { XCTAssertLessThan(Double(n - 1) * 1001 / 30000, Double(k) * 4) }
        }
    }
}

final class SegmentLogTests: XCTestCase {
    func testDurationsRunToTheNextSegmentsStart() {
        var log = SegmentLog()
        for frame in 0..<250 {  // 10 s at 25 fps, 4 s segments
            let start = Double(frame) * 0.04
            log.addMedia(segment: Int(start / 4 + 1e-9), start: start, duration: 0.04)
        }
        log.addFile(segment: 0, uri: "a", bytes: 100)
        log.addFile(segment: 1, uri: "b", bytes: 200)
        log.addFile(segment: 2, uri: "c", bytes: 50)
        let records = log.records()
        XCTAssertEqual(records.map(\.uri), ["a", "b", "c"])
        XCTAssertEqual(records[0].duration, 4, accuracy: 1e-6)
        XCTAssertEqual(records[1].duration, 4, accuracy: 1e-6)
        XCTAssertEqual(records[2].duration, 2, accuracy: 1e-6)
        XCTAssertEqual(records.map(\.byteSize), [100, 200, 50])
        XCTAssertEqual(records[1].startTime, 4, accuracy: 1e-6)
    }

    func testOnlyCompletedFilesAreListed() {
        var log = SegmentLog()
        log.addMedia(segment: 0, start: 0, duration: 4)
        log.addMedia(segment: 1, start: 4, duration: 1)
        log.addFile(segment: 0, uri: "a", bytes: 1)
        XCTAssertEqual(log.records().count, 1)
        XCTAssertEqual(log.records()[0].duration, 4, accuracy: 1e-9, "runs to the start of the known next segment")
    }

    func testReorderedPacketsUseTheEarliestStart() {
        var log = SegmentLog()
        log.addMedia(segment: 0, start: 0.08, duration: 0.04)
        log.addMedia(segment: 0, start: 0.0, duration: 0.04)
        log.addMedia(segment: 0, start: 0.04, duration: 0.04)
        log.addFile(segment: 0, uri: "a", bytes: 1)
        XCTAssertEqual(log.records()[0].startTime, 0)
        XCTAssertEqual(log.records()[0].duration, 0.12, accuracy: 1e-9)
    }
}

final class SegmentLogClosedRecordTests: XCTestCase {
    func testASegmentIsClosedOnceItsFileIsDoneAndTheNextHasStarted() {
        var log = SegmentLog()
        log.addMedia(segment: 0, start: 0, duration: 0.04)
        log.addMedia(segment: 0, start: 3.96, duration: 0.04)
        XCTAssertNil(log.closedRecord(0), "file not complete")
        log.addFile(segment: 0, uri: "s0", bytes: 10)
        XCTAssertNil(log.closedRecord(0), "next segment not started: duration unknown")
        log.addMedia(segment: 1, start: 4, duration: 0.04)
        let record = log.closedRecord(0)
        XCTAssertEqual(record?.duration ?? 0, 4, accuracy: 1e-9)
        XCTAssertEqual(record?.byteSize, 10)
        XCTAssertNil(log.closedRecord(1))
    }
}
