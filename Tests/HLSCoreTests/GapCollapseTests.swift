import HLSCore
import XCTest

final class GapCollapseTests: XCTestCase {
    /// 25 fps in 1/1000 ticks: frames every 40 up to 10 000, then from 70 000 (a 60 s pause).
    private let paused: [GapCollapse.FrameTime] = stride(from: Int64(0), to: 10_000, by: 40).map { .init(time: $0, duration: 40) }
        + stride(from: Int64(70_000), to: 80_000, by: 40).map { .init(time: $0, duration: 40) }

    func testAPauseBecomesOneCutFromTheLastFramesEndToTheNextFrame() {
        let collapse = GapCollapse.holes(in: paused.shuffled(), nominalDuration: 40, minimumHole: 250)
        XCTAssertEqual(collapse.cuts, [.init(start: 10_000, end: 70_000)])
        XCTAssertEqual(collapse.removed, 60_000)
        XCTAssertEqual(collapse.places.map(\.at), [10_000])
        XCTAssertEqual(collapse.places.map(\.length), [60_000])
    }

    func testJitterAndShortHolesAreNotCut() {
        // A phone alternating 33 and 67 ms frames, and one 200 ms hole (under the 250 ms minimum).
        var time: Int64 = 0
        var frames: [GapCollapse.FrameTime] = []
        for k in 0..<100 {
            frames.append(.init(time: time, duration: k % 2 == 0 ? 33 : 67))
            time += k % 2 == 0 ? 33 : 67
        }
        frames.append(.init(time: time + 200, duration: 33))
        XCTAssertTrue(GapCollapse.holes(in: frames, nominalDuration: 33, minimumHole: 250).isEmpty)
    }

    func testALongStatedDurationBeforeAHoleCountsAsOneFrame() {
        // MP4 gives the frame before a dropped stretch the whole stretch as its duration.
        let frames: [GapCollapse.FrameTime] = [.init(time: 0, duration: 33), .init(time: 33, duration: 3_000), .init(time: 3_033, duration: 33)]
        XCTAssertEqual(GapCollapse.holes(in: frames, nominalDuration: 33, minimumHole: 250).cuts, [.init(start: 66, end: 3_033)])
    }

    func testTimesMoveBackByTheCutsBeforeThemAndTimesInsideHaveNoPlace() {
        let collapse = GapCollapse(cuts: [.init(start: 100, end: 200), .init(start: 500, end: 800)])
        XCTAssertEqual(collapse.map(50), 50)
        XCTAssertEqual(collapse.map(99), 99)
        XCTAssertNil(collapse.map(100))
        XCTAssertNil(collapse.map(199))
        XCTAssertEqual(collapse.map(200), 100)
        XCTAssertEqual(collapse.map(499), 399)
        XCTAssertNil(collapse.map(650))
        XCTAssertEqual(collapse.map(800), 400)
        XCTAssertEqual(collapse.map(1_000), 600)
        XCTAssertEqual(collapse.clampedMap(650), 400, "inside a cut: where the cut is now")
        XCTAssertEqual(collapse.clampedMap(150), 100)
        XCTAssertEqual(collapse.removed, 400)
        XCTAssertEqual(collapse.places.map(\.at), [100, 400])
    }

    func testOverlappingAndEmptyCutsAreMerged() {
        let collapse = GapCollapse(cuts: [.init(start: 300, end: 400), .init(start: 100, end: 200), .init(start: 150, end: 320), .init(start: 500, end: 500)])
        XCTAssertEqual(collapse.cuts, [.init(start: 100, end: 400)])
        XCTAssertEqual(collapse.converted { $0 * 10 }.cuts, [.init(start: 1_000, end: 4_000)])
    }

    func testCuesInsideACutGoAndCuesAcrossAnEdgeKeepTheirOutsidePart() {
        let collapse = GapCollapse(cuts: [.init(start: 10_000, end: 70_000)])
        let cues = [SubtitleCue(start: 2_000, end: 4_000, text: "before"),
                    SubtitleCue(start: 30_000, end: 32_000, text: "inside"),
                    SubtitleCue(start: 9_000, end: 72_000, text: "across"),
                    SubtitleCue(start: 69_000, end: 71_000, text: "over the end"),
                    SubtitleCue(start: 71_000, end: 72_000, text: "after")]
        XCTAssertEqual(collapse.mapping(cues), [SubtitleCue(start: 2_000, end: 4_000, text: "before"),
                                                 SubtitleCue(start: 9_000, end: 12_000, text: "across"),
                                                 SubtitleCue(start: 10_000, end: 11_000, text: "over the end"),
                                                 SubtitleCue(start: 11_000, end: 12_000, text: "after")])
    }

    func testChaptersInsideACutStartAtItAndTheLaterOfTwoTogetherIsKept() {
        let collapse = GapCollapse(cuts: [.init(start: 10_000_000, end: 70_000_000)])
        let chapters = [Chapter(start: 0, title: "Intro"), Chapter(start: 5, title: "Part 1"),
                        Chapter(start: 30, end: 40, title: "Break, ended"), Chapter(start: 50, title: "Break"),
                        Chapter(start: 70, title: "Part 2"), Chapter(start: 75, end: 78, title: "Part 3")]
        XCTAssertEqual(collapse.mapping(chapters), [Chapter(start: 0, title: "Intro"), Chapter(start: 5, title: "Part 1"),
                                                     Chapter(start: 10, title: "Part 2"), Chapter(start: 15, end: 18, title: "Part 3")])
        let shiftedOnly = [Chapter(start: 0, title: "Intro"), Chapter(start: 50, title: "Break")]
        XCTAssertEqual(collapse.mapping(shiftedOnly), [Chapter(start: 0, title: "Intro"), Chapter(start: 10, title: "Break")])
    }
}
