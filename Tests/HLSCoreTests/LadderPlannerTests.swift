import XCTest
import HLSCore

final class LadderPlannerTests: XCTestCase {
    private func sizes(_ plans: [RenditionPlan]) -> [String] {
        plans.map { "\($0.name) \($0.width)x\($0.height)" }
    }

    /// The classic ladder the planner's rules are checked with (the default is `auto`: AutoLadderTests).
    private static let classic = [Rung(shortSide: 1080), Rung(shortSide: 720), Rung(shortSide: 480)]

    private func plan(_ source: SourceGeometry, _ rungs: [Rung] = classic, fps: Double = 30) -> [RenditionPlan] {
        LadderPlanner.plan(rungs: rungs, source: source, frameRate: fps)
    }

    func testLandscape1080() {
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 1920, height: 1080))),
                       ["1080p 1920x1080", "720p 1280x720", "480p 854x480"])
    }

    func testPortraitCodedAndRotated() {
        let expected = ["1080p 1080x1920", "720p 720x1280", "480p 480x854"]
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 1080, height: 1920))), expected)
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 1920, height: 1080, rotation: 90))), expected)
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 1920, height: 1080, rotation: -90))), expected)
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 1920, height: 1080, rotation: 180))),
                       ["1080p 1920x1080", "720p 1280x720", "480p 854x480"])
    }

    func testFourByThreeKeepsOnlyRungsItCovers() {
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 640, height: 480))), ["480p 640x480"])
    }

    func testEqualRungIsKept() {
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 1280, height: 720))), ["720p 1280x720", "480p 854x480"])
    }

    func testNonSquarePAL() {
        // 720x576 with SAR 16:15 displays as 768x576 (4:3).
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 720, height: 576, sampleAspectNum: 16, sampleAspectDen: 15))),
                       ["480p 640x480"])
    }

    func testAnamorphicHD() {
        let source = SourceGeometry(width: 1440, height: 1080, sampleAspectNum: 4, sampleAspectDen: 3)
        XCTAssertEqual(sizes(plan(source)), ["1080p 1920x1080", "720p 1280x720", "480p 854x480"])
    }

    func testTinySourceGetsOwnSize() {
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 320, height: 240))), ["240p 320x240"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 640, height: 272))), ["272p 640x272"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 240, height: 320))), ["240p 240x320"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 3, height: 1))), ["2p 2x2"])
    }

    func testOddSourceRoundsDownToEven() {
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 641, height: 361))), ["360p 640x360"])
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 361, height: 641))), ["360p 360x640"])
        // A rung equal to an odd source's short side: 360 × 641/360 = 641 exactly, a tie, goes down.
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 641, height: 360), [Rung(shortSide: 360)])), ["360p 640x360"])
    }

    func testEmptyLadderAndNoPicture() {
        XCTAssertEqual(sizes(plan(SourceGeometry(width: 1280, height: 720), [])), ["720p 1280x720"])
        XCTAssertEqual(plan(SourceGeometry(width: 0, height: 720)), [])
        XCTAssertEqual(plan(SourceGeometry(width: 1280, height: 0)), [])
    }

    func testUnsortedAndDuplicateRungs() {
        let rungs = [Rung(shortSide: 480), Rung(shortSide: 1080, videoBitrate: 4_000_000),
                     Rung(shortSide: 1080), Rung(shortSide: 2160)]
        let plans = plan(SourceGeometry(width: 1920, height: 1080), rungs)
        XCTAssertEqual(sizes(plans), ["1080p 1920x1080", "480p 854x480"])
        XCTAssertEqual(plans[0].encoder.bitrate, 4_000_000)
    }

    func testEncoderAndLevel() throws {
        let plans = plan(SourceGeometry(width: 1920, height: 1080))
        XCTAssertEqual(plans.map(\.encoder), [
            EncoderSettings(bitrate: 5_000_000, maxrate: 5_500_000, bufsize: 10_000_000),
            EncoderSettings(bitrate: 2_800_000, maxrate: 3_080_000, bufsize: 5_600_000),
            EncoderSettings(bitrate: 1_400_000, maxrate: 1_540_000, bufsize: 2_800_000),
        ])
        XCTAssertEqual(plans.map(\.h264Level), [40, 31, 31])

        let fast = plan(SourceGeometry(width: 1920, height: 1080), fps: 60)
        XCTAssertEqual(fast.map(\.encoder.bitrate), [7_500_000, 4_200_000, 2_100_000])
        XCTAssertEqual(fast.map(\.h264Level), [42, 32, 31])

        let custom = plan(SourceGeometry(width: 1280, height: 720), try Rung.parseLadder("720p@2M,360p"))
        XCTAssertEqual(custom.map(\.encoder.bitrate), [2_000_000, 800_000])
        XCTAssertEqual(sizes(custom), ["720p 1280x720", "360p 640x360"])
    }

    func testPlanIsCodableForReports() throws {
        let plans = plan(SourceGeometry(width: 1920, height: 1080))
        let data = try JSONEncoder().encode(plans)
        XCTAssertEqual(try JSONDecoder().decode([RenditionPlan].self, from: data), plans)
    }

    /// Over many random sources: sizes even, short side = rung, orientation kept, no upscaling,
    /// display aspect within 1%.
    func testRandomSourcesKeepAspect() {
        var random = SplitMix64(seed: 0x5EED_1A0D)
        let ladder = [2160, 1440, 1080, 720, 540, 480, 360, 240].map { Rung(shortSide: $0) }
        let sars = [(1, 1), (16, 15), (8, 9), (4, 3), (10, 11), (40, 33), (0, 1), (3, 2), (2, 3)]
        for _ in 0..<5000 {
            let width = Int.random(in: 200...4096, using: &random)
            let height = Int.random(in: 200...4096, using: &random)
            let sar = sars.randomElement(using: &random)!
            let rotation = [0, 90, 180, 270].randomElement(using: &random)!
            let count = Int.random(in: 0...ladder.count, using: &random)
            let rungs = Array(ladder.shuffled(using: &random).prefix(count))
            let source = SourceGeometry(width: width, height: height, sampleAspectNum: sar.0,
                                        sampleAspectDen: sar.1, rotation: rotation)
            let label = "\(width)x\(height) SAR \(sar.0):\(sar.1) rot \(rotation) ladder \(rungs.map(\.name))"
            let plans = LadderPlanner.plan(rungs: rungs, source: source, frameRate: 30)
            let sourceShort = min(source.displayWidth, source.displayHeight)
            let sourceLong = max(source.displayWidth, source.displayHeight)
            let eligible = rungs.map(\.shortSide).filter { $0 <= sourceShort }.sorted(by: >)

            XCTAssertFalse(plans.isEmpty, label)
            if eligible.isEmpty {
                XCTAssertEqual(plans.count, 1, label)
                XCTAssertEqual(min(plans[0].width, plans[0].height), sourceShort - sourceShort % 2, label)
                XCTAssertEqual(max(plans[0].width, plans[0].height), sourceLong - sourceLong % 2, label)
            } else {
                XCTAssertEqual(plans.map { min($0.width, $0.height) }, eligible, label)
            }
            for p in plans {
                XCTAssertEqual(p.width % 2, 0, label)
                XCTAssertEqual(p.height % 2, 0, label)
                XCTAssertEqual(p.name, "\(min(p.width, p.height))p", label)
                XCTAssertLessThanOrEqual(max(p.width, p.height), sourceLong + 1, label)
                if source.isPortrait { XCTAssertLessThanOrEqual(p.width, p.height, label) }
                else { XCTAssertGreaterThanOrEqual(p.width, p.height, label) }
                let aspect = Double(p.width) / Double(p.height)
                let error = abs(aspect / source.displayAspect - 1)
                XCTAssertLessThanOrEqual(error, 0.01, "\(label) → \(p.width)x\(p.height)")
                XCTAssertTrue(H264Level.table.contains { $0.idc == p.h264Level }, label)
            }
        }
    }
}

/// A small seeded generator so the property test is reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
