import XCTest
import HLSCore

/// `Ladder.auto` and `LadderPlanner.plan(ladder:source:frameRate:rateControl:crf:)`.
final class AutoLadderTests: XCTestCase {
    private func sizes(_ plans: [RenditionPlan]) -> [String] {
        plans.map { "\($0.name) \($0.width)x\($0.height)" }
    }

    private func plan(_ source: SourceGeometry, _ ladder: Ladder = .auto, fps: Double = 30,
                      rateControl: RateControl = .abr, crf: Double? = nil) -> [RenditionPlan] {
        LadderPlanner.plan(ladder: ladder, source: source, frameRate: fps, rateControl: rateControl, crf: crf)
    }

    // MARK: - Parsing

    func testParsesAuto() throws {
        for text in ["auto", " AUTO ", "Auto", "\tauto\n"] {
            let ladder = try Ladder(parsing: text)
            XCTAssertTrue(ladder.isAuto, text)
            XCTAssertEqual(ladder, .auto, text)
            XCTAssertEqual(ladder.description, "auto", text)
        }
        XCTAssertEqual(Ladder.auto.rungs.map(\.name), ["1080p", "720p", "480p", "360p", "240p"])
        XCTAssertTrue(Ladder.auto.rungs.allSatisfy { $0.videoBitrate == nil })
        XCTAssertEqual(Ladder.autoMinimumVariants, 2)
    }

    func testDescriptionRoundTrips() throws {
        XCTAssertEqual(try Ladder(parsing: Ladder.auto.description), .auto)
        let fixed = try Ladder(parsing: "480p, 1080p@6M,720p")
        XCTAssertFalse(fixed.isAuto)
        XCTAssertEqual(fixed.description, "1080p@6000k,720p,480p")
        XCTAssertEqual(try Ladder(parsing: fixed.description), fixed)
    }

    func testAutoIsNotTheSameRungsWritten() throws {
        // The same five rungs written out are a fixed ladder: no extra rung for small sources.
        let written = try Ladder(parsing: "1080p,720p,480p,360p,240p")
        XCTAssertEqual(written.rungs, Ladder.auto.rungs)
        XCTAssertFalse(written.isAuto)
        XCTAssertNotEqual(written, .auto)
        XCTAssertEqual(written.description, "1080p,720p,480p,360p,240p")
        XCTAssertFalse(Ladder(Ladder.autoRungs).isAuto)
        XCTAssertTrue(EncodingDefaults.ladder.isAuto)
    }

    func testAutoMixedWithRungsIsRejected() {
        for text in ["auto,720p", "720p,auto", "auto,auto", "autop", "auto 720p"] {
            do {
                let ladder = try Ladder(parsing: text)
                XCTFail("\"\(text)\" parsed as \(ladder)")
            } catch {
                XCTAssertTrue(error.message.contains("auto"), "\"\(error.message)\" does not name the entry")
            }
        }
    }

    // MARK: - Planning

    func testAutoOn1080p() {
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 1920, height: 1080))),
                       ["1080p 1920x1080", "720p 1280x720", "480p 854x480", "360p 640x360", "240p 426x240"])
    }

    func testAutoOnSmallerSourcesKeepsTheRungsBelow() {
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 854, height: 480))), ["480p 854x480", "360p 640x360", "240p 426x240"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 640, height: 360))), ["360p 640x360", "240p 426x240"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 3840, height: 2160))),
                       ["1080p 1920x1080", "720p 1280x720", "480p 854x480", "360p 640x360", "240p 426x240"])
    }

    func testAutoBelow360pAddsARungAtTwoThirds() {
        // No rung fits 180p: the source's own size, then two thirds of it.
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 320, height: 180))), ["180p 320x180", "120p 214x120"])
        // Only 240p fits a 300p source: 240p, then 160p.
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 400, height: 300))), ["240p 320x240", "160p 214x160"])
        // 240p exactly: 240p and 160p.
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 320, height: 240))), ["240p 320x240", "160p 214x160"])
        // An odd own size rounds down first: 181 → 180, then 120.
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 321, height: 181))), ["180p 320x180", "120p 212x120"])
        // Two thirds of 100 is 66.7, down to even 66.
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 100, height: 100))), ["100p 100x100", "66p 66x66"])
    }

    func testTheExtraRungIsPlannedLikeAnyOther() {
        let plans = plan(SourceGeometry(width: 320, height: 180))
        XCTAssertEqual(plans.count, 2)
        XCTAssertEqual(plans[1].encoder, RungDefaults.settings(shortSide: 120, frameRate: 30))
        XCTAssertEqual(plans[1].encoder.bitrate, 100_000)
        XCTAssertLessThan(plans[1].encoder.bitrate, plans[0].encoder.bitrate)
        let fast = plan(SourceGeometry(width: 320, height: 180), fps: 60)
        XCTAssertEqual(fast[1].encoder.bitrate, 150_000)
    }

    func testAutoOnPortraitSources() {
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 1080, height: 1920))),
                       ["1080p 1080x1920", "720p 720x1280", "480p 480x854", "360p 360x640", "240p 240x426"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 1920, height: 1080, rotation: 90))),
                       ["1080p 1080x1920", "720p 720x1280", "480p 480x854", "360p 360x640", "240p 240x426"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 180, height: 320))), ["180p 180x320", "120p 120x214"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 320, height: 180, rotation: 270))), ["180p 180x320", "120p 120x214"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 300, height: 400))), ["240p 240x320", "160p 160x214"])
    }

    func testAutoOnAnamorphicSources() {
        // 1440x1080 with SAR 4:3 displays as 1920x1080.
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 1440, height: 1080, sampleAspectNum: 4, sampleAspectDen: 3))),
                       ["1080p 1920x1080", "720p 1280x720", "480p 854x480", "360p 640x360", "240p 426x240"])
        // 240x180 with SAR 4:3 displays as 320x180: own size, then 120p in the displayed shape.
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 240, height: 180, sampleAspectNum: 4, sampleAspectDen: 3))),
                       ["180p 320x180", "120p 214x120"])
        // PAL 720x576 with SAR 16:15 displays as 768x576 (4:3).
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 720, height: 576, sampleAspectNum: 16, sampleAspectDen: 15))),
                       ["480p 640x480", "360p 480x360", "240p 320x240"])
    }

    func testTinySourcesDoNotCrash() {
        // 2x2 and 3x3: the own size is 2x2 and no smaller even rung exists.
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 2, height: 2))), ["2p 2x2"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 3, height: 3))), ["2p 2x2"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 1, height: 1))), ["2p 2x2"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 3, height: 1))), ["2p 2x2"])
        // 4x4: two thirds of 4 is 2, still a rung.
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 4, height: 4))), ["4p 4x4", "2p 2x2"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 5, height: 4))), ["4p 4x4", "2p 2x2"])
        // No picture: nothing, and no extra rung.
        XCTAssertEqual(plan(SourceGeometry(width: 0, height: 720)), [])
        XCTAssertEqual(plan(SourceGeometry(width: 1280, height: 0)), [])
    }

    func testEveryPictureGetsTwoVideoBitRatesAbove2p() {
        for short in stride(from: 4, through: 1200, by: 1) {
            for source in [SourceGeometry(width: short * 16 / 9 + 1, height: short), SourceGeometry(width: short, height: short * 2)] {
                let plans = plan(source)
                let label = "\(source.width)x\(source.height)"
                XCTAssertGreaterThanOrEqual(plans.count, Ladder.autoMinimumVariants, label)
                let shorts = plans.map { min($0.width, $0.height) }
                XCTAssertEqual(shorts, shorts.sorted(by: >), label)
                XCTAssertEqual(Set(shorts).count, shorts.count, label)
                XCTAssertTrue(plans.allSatisfy { $0.width % 2 == 0 && $0.height % 2 == 0 }, label)
            }
        }
    }

    func testAFixedLadderNeverGetsTheExtraRung() throws {
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 320, height: 180), Ladder([Rung(shortSide: 1080)]))), ["180p 320x180"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 320, height: 180), Ladder(Ladder.autoRungs))), ["180p 320x180"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 400, height: 300), try Ladder(parsing: "1080p,720p,480p"))), ["300p 400x300"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 640, height: 360), try Ladder(parsing: "360p"))), ["360p 640x360"])
        // The rungs entry point is a fixed ladder too.
        XCTAssertEqual(sizes(LadderPlanner.plan(rungs: Ladder.autoRungs, source: SourceGeometry(width: 320, height: 180), frameRate: 30)),
                       ["180p 320x180"])
    }

    func testTheLadderEntryPointMatchesTheRungsOneForFixedLadders() throws {
        let source = SourceGeometry(width: 1920, height: 1080)
        let rungs = try Rung.parseLadder("1080p@4M,720p,360p")
        XCTAssertEqual(LadderPlanner.plan(ladder: Ladder(rungs), source: source, frameRate: 25),
                       LadderPlanner.plan(rungs: rungs, source: source, frameRate: 25))
    }

    // MARK: - Rate control

    func testRateControlReachesEveryRung() {
        let source = SourceGeometry(width: 1920, height: 1080)
        let abr = plan(source)
        XCTAssertEqual(abr.map(\.encoder.crf), [nil, nil, nil, nil, nil])
        XCTAssertTrue(abr.allSatisfy { $0.encoder.rateControl == .abr })

        let capped = plan(source, rateControl: .cappedCRF)
        XCTAssertEqual(capped.map(\.encoder.crf), [18, 16, 17, 17, 17])
        XCTAssertTrue(capped.allSatisfy { $0.encoder.rateControl == .cappedCRF })
        // Same ceiling as ABR, same levels.
        XCTAssertEqual(capped.map(\.encoder.maxrate), abr.map(\.encoder.maxrate))
        XCTAssertEqual(capped.map(\.encoder.bufsize), abr.map(\.encoder.bufsize))
        XCTAssertEqual(capped.map(\.h264Level), abr.map(\.h264Level))

        let overridden = plan(source, rateControl: .cappedCRF, crf: 27)
        XCTAssertEqual(overridden.map(\.encoder.crf), [27, 27, 27, 27, 27])

        // A CRF without capped CRF is ignored.
        XCTAssertEqual(plan(source, rateControl: .abr, crf: 27).map(\.encoder.crf), [nil, nil, nil, nil, nil])
    }

    func testRateControlReachesTheOwnSizeAndExtraRungs() throws {
        let capped = plan(SourceGeometry(width: 320, height: 180), rateControl: .cappedCRF)
        XCTAssertEqual(capped.map(\.name), ["180p", "120p"])
        XCTAssertEqual(capped.map(\.encoder.crf), [17, 17])
        XCTAssertEqual(plan(SourceGeometry(width: 320, height: 180), rateControl: .cappedCRF, crf: 30).map(\.encoder.crf), [30, 30])
        let fixed = plan(SourceGeometry(width: 1280, height: 720), try Ladder(parsing: "1080p,720p,480p"), rateControl: .cappedCRF)
        XCTAssertEqual(fixed.map(\.encoder.crf), [16, 17])
        let custom = plan(SourceGeometry(width: 1280, height: 720), Ladder([Rung(shortSide: 720, videoBitrate: 2_000_000)]),
                          rateControl: .cappedCRF, crf: 19)
        XCTAssertEqual(custom.map(\.encoder), [EncoderSettings(bitrate: 2_000_000, maxrate: 2_200_000, bufsize: 4_000_000, crf: 19)])
    }
}
