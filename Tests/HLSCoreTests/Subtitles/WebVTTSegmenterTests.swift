import XCTest
@testable import HLSCore

final class WebVTTSegmenterTests: XCTestCase {
    private let segmenter = WebVTTSegmenter()
    private let map = WebVTTTimestampMap(mpegts: 900_000)

    private func cue(_ start: Int, _ end: Int, _ text: String) -> SubtitleCue {
        SubtitleCue(start: start, end: end, text: text)
    }

    /// The cue texts in each segment, read back with the WebVTT parser.
    private func texts(_ result: WebVTTSegmentation) throws -> [[String]] {
        try result.segments.map { try WebVTTParser().parse(text: $0.text).cues.map(\.text) }
    }

    func testUniformSpans() {
        XCTAssertEqual(SubtitleSegmentSpan.uniform(segmentDuration: 4, totalDuration: 10),
                       [.init(start: 0, end: 4), .init(start: 4, end: 8), .init(start: 8, end: 10)])
        XCTAssertEqual(SubtitleSegmentSpan.uniform(segmentDuration: 4, totalDuration: 8).count, 2)
        XCTAssertEqual(SubtitleSegmentSpan.uniform(segmentDuration: 0.1, totalDuration: 0.3).last?.end, 0.3)
        XCTAssertEqual(SubtitleSegmentSpan.uniform(segmentDuration: 0, totalDuration: 8), [])
        XCTAssertEqual(SubtitleSegmentSpan.uniform(segmentDuration: 4, totalDuration: .nan), [])
        XCTAssertEqual(SubtitleSegmentSpan.uniform(segmentDuration: 1e-9, totalDuration: 3_600), [])
    }

    func testSpansOfWrittenSegmentsStartAtZero() {
        // An audio rendition's first segment starts with 1024 samples of AAC priming.
        let records = [SegmentRecord(index: 0, uri: "a", duration: 4.0213, byteSize: 1, startTime: -0.0213),
                       SegmentRecord(index: 1, uri: "b", duration: 2.5, byteSize: 1, startTime: 4)]
        XCTAssertEqual(SubtitleSegmentSpan.spans(of: records),
                       [SubtitleSegmentSpan(start: 0, end: 4), SubtitleSegmentSpan(start: 4, end: 6.5)])
    }

    func testCueCrossingABoundaryIsInBothSegmentsWithOriginalTimes() throws {
        let spans = SubtitleSegmentSpan.uniform(segmentDuration: 4, totalDuration: 12)
        let result = try segmenter.segment([cue(3_500, 4_500, "across"), cue(1_000, 2_000, "first")],
                                           spans: spans, totalDuration: 12, timestampMap: map)
        XCTAssertEqual(try texts(result), [["first", "across"], ["across"], []])
        let second = try WebVTTParser().parse(text: result.segments[1].text)
        XCTAssertEqual(second.cues, [cue(3_500, 4_500, "across")])
        XCTAssertEqual(result.segments.map(\.cueCount), [2, 1, 0])
        XCTAssertEqual(result.warnings, [])
    }

    func testCueLongerThanASegmentSpansSeveral() throws {
        let spans = SubtitleSegmentSpan.uniform(segmentDuration: 2, totalDuration: 10)
        let result = try segmenter.segment([cue(1_000, 7_000, "long")], spans: spans, totalDuration: 10, timestampMap: map)
        XCTAssertEqual(result.segments.map(\.cueCount), [1, 1, 1, 1, 0])
    }

    func testCueEndingExactlyOnABoundaryStaysInItsSegment() throws {
        let spans = SubtitleSegmentSpan.uniform(segmentDuration: 4, totalDuration: 8)
        let result = try segmenter.segment([cue(3_000, 4_000, "ends at 4"), cue(4_000, 5_000, "starts at 4"), cue(4_000, 4_000, "zero")],
                                           spans: spans, totalDuration: 8, timestampMap: map)
        XCTAssertEqual(try texts(result), [["ends at 4"], ["starts at 4", "zero"]])
    }

    func testEverySegmentIsValidWebVTTWithTheTimestampMap() throws {
        let spans = SubtitleSegmentSpan.uniform(segmentDuration: 4, totalDuration: 9)
        let result = try segmenter.segment([], spans: spans, totalDuration: 9, timestampMap: map)
        XCTAssertEqual(result.segments.count, 3)
        for segment in result.segments {
            XCTAssertEqual(segment.text, "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n")
            XCTAssertEqual(try WebVTTParser().parse(text: segment.text).headerLines, [map.headerLine])
        }
    }

    func testPlaylistEntries() throws {
        let spans = [SubtitleSegmentSpan(start: 0, end: 4.004), .init(start: 4.004, duration: 4.004), .init(start: 8.008, end: 9.5)]
        let result = try segmenter.segment([], spans: spans, totalDuration: 9.5, timestampMap: map)
        XCTAssertEqual(result.segments.map(\.index), [0, 1, 2])
        XCTAssertEqual(result.segments.map(\.start), [0, 4.004, 8.008])
        XCTAssertEqual(result.segments.map(\.duration)[0], 4.004, accuracy: 1e-9)
        XCTAssertEqual(result.segments.map(\.duration)[2], 1.492, accuracy: 1e-9)
        XCTAssertEqual(result.targetDuration, 4)
    }

    func testTargetDurationRoundsToNearest() throws {
        let result = try segmenter.segment([], spans: [.init(start: 0, end: 6.5)], totalDuration: 6.5, timestampMap: map)
        XCTAssertEqual(result.targetDuration, 7)
        let short = try segmenter.segment([], spans: [.init(start: 0, end: 0.2)], totalDuration: 0.2, timestampMap: map)
        XCTAssertEqual(short.targetDuration, 1)
    }

    func testCuesAfterTheEndAreDroppedWithWarning() throws {
        let spans = SubtitleSegmentSpan.uniform(segmentDuration: 4, totalDuration: 8)
        let result = try segmenter.segment([cue(7_000, 9_000, "tail"), cue(8_000, 9_000, "after"), cue(20_000, 21_000, "way after")],
                                           spans: spans, totalDuration: 8, timestampMap: map)
        XCTAssertEqual(try texts(result), [[], ["tail"]])
        XCTAssertEqual(result.warnings.count, 2)
        XCTAssertTrue(result.warnings[0].message.contains("00:00:08.000 --> 00:00:09.000"), result.warnings[0].message)
        XCTAssertTrue(result.warnings[0].message.contains("after the end"))
        XCTAssertNil(result.warnings[0].line)
    }

    func testCuesBeforeZeroAreClampedOrDropped() throws {
        let spans = SubtitleSegmentSpan.uniform(segmentDuration: 4, totalDuration: 8)
        let result = try segmenter.segment([cue(-2_000, 1_000, "clamped"), cue(-3_000, 0, "gone")],
                                           spans: spans, totalDuration: 8, timestampMap: map)
        let first = try WebVTTParser().parse(text: result.segments[0].text)
        XCTAssertEqual(first.cues, [cue(0, 1_000, "clamped")])
        XCTAssertEqual(result.warnings.count, 2)
    }

    func testCuesInAGapOrBeforeTheFirstSpanOrAfterTheLastSpanAreKept() throws {
        // Spans with a gap (4–5 s), starting late, ending before the total duration.
        let spans = [SubtitleSegmentSpan(start: 1, end: 4), .init(start: 5, end: 8)]
        let result = try segmenter.segment([cue(0, 500, "early"), cue(4_200, 4_500, "gap"), cue(8_500, 8_900, "late")],
                                           spans: spans, totalDuration: 9, timestampMap: map)
        XCTAssertEqual(try texts(result), [["early", "gap"], ["late"]])
    }

    func testInvalidSpansThrow() {
        let bad: [([SubtitleSegmentSpan], Double)] = [
            ([], 10),
            ([.init(start: 0, end: 4)], 0),
            ([.init(start: 0, end: 4)], .infinity),
            ([.init(start: -1, end: 4)], 10),
            ([.init(start: 0, end: 0)], 10),
            ([.init(start: 0, end: .nan)], 10),
            ([.init(start: 4, end: 8), .init(start: 0, end: 4)], 10),
            ([.init(start: 0, end: 4), .init(start: 0, end: 8)], 10),
        ]
        for (spans, total) in bad {
            XCTAssertThrowsError(try segmenter.segment([], spans: spans, totalDuration: total, timestampMap: map)) { error in
                guard case .invalidSegmentation? = error as? SubtitleError else { return XCTFail("\(error)") }
            }
        }
    }

    func testManySegmentsAndCuesPlaceEveryCueWhereItOverlaps() throws {
        var generator = SeededGenerator(seed: 7)
        let total = 600.0
        let spans = SubtitleSegmentSpan.uniform(segmentDuration: 4, totalDuration: total)
        let cues = (0..<500).map { i -> SubtitleCue in
            let start = Int.random(in: 0..<600_000, using: &generator)
            return cue(start, start + Int.random(in: 0...9_000, using: &generator), "c\(i)")
        }
        let result = try segmenter.segment(cues, spans: spans, totalDuration: total, timestampMap: map)
        // Brute force: the cue is in segment k exactly when it overlaps [start k, start k+1).
        for (k, segment) in result.segments.enumerated() {
            let lower = k == 0 ? Int.min : Int((spans[k].start * 1000).rounded())
            let upper = k == spans.count - 1 ? Int.max : Int((spans[k + 1].start * 1000).rounded())
            let expected = cues.filter { $0.start < upper && ($0.start >= lower || $0.end > lower) }
                .sorted { $0.start < $1.start }.map(\.text)
            let actual = try WebVTTParser().parse(text: segment.text).cues.map(\.text)
            XCTAssertEqual(Set(actual), Set(expected), "segment \(k)")
            XCTAssertEqual(actual.count, expected.count, "segment \(k)")
        }
    }
}
