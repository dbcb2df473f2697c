import XCTest
import HLSCore

final class SourceGeometryTests: XCTestCase {
    func testSquarePixelsLandscape() {
        let g = SourceGeometry(width: 1920, height: 1080)
        XCTAssertEqual(g.displayWidth, 1920)
        XCTAssertEqual(g.displayHeight, 1080)
        XCTAssertEqual(g.displayAspect, 16.0 / 9.0)
        XCTAssertFalse(g.isPortrait)
    }

    func testRotationSwapsSides() {
        for rotation in [90, 270, -90, 450] {
            let g = SourceGeometry(width: 1920, height: 1080, rotation: rotation)
            XCTAssertEqual(g.displayWidth, 1080, "rotation \(rotation)")
            XCTAssertEqual(g.displayHeight, 1920, "rotation \(rotation)")
            XCTAssertEqual(g.displayAspect, 9.0 / 16.0)
            XCTAssertTrue(g.isPortrait)
        }
        let upsideDown = SourceGeometry(width: 1920, height: 1080, rotation: 180)
        XCTAssertEqual(upsideDown.displayWidth, 1920)
        XCTAssertFalse(upsideDown.isPortrait)
    }

    func testRotationIsNormalized() {
        XCTAssertEqual(SourceGeometry(width: 2, height: 2, rotation: -90).rotation, 270)
        XCTAssertEqual(SourceGeometry(width: 2, height: 2, rotation: 450).rotation, 90)
        XCTAssertEqual(SourceGeometry(width: 2, height: 2, rotation: 360).rotation, 0)
        XCTAssertEqual(SourceGeometry(width: 2, height: 2, rotation: -180).rotation, 180)
        XCTAssertEqual(SourceGeometry(width: 2, height: 2, rotation: 89).rotation, 90)
        XCTAssertEqual(SourceGeometry(width: 2, height: 2, rotation: -720).rotation, 0)
        var g = SourceGeometry(width: 2, height: 2)
        g.rotation = -270
        XCTAssertEqual(g.rotation, 90)
    }

    func testSampleAspectStretchesWidth() {
        let pal = SourceGeometry(width: 720, height: 576, sampleAspectNum: 16, sampleAspectDen: 15)
        XCTAssertEqual(pal.displayWidth, 768)
        XCTAssertEqual(pal.displayHeight, 576)
        XCTAssertEqual(pal.displayAspect, 4.0 / 3.0)

        let anamorphic = SourceGeometry(width: 1440, height: 1080, sampleAspectNum: 4, sampleAspectDen: 3)
        XCTAssertEqual(anamorphic.displayWidth, 1920)
        XCTAssertEqual(anamorphic.displayAspect, 16.0 / 9.0)

        // NTSC 4:3 DV: 720 × 10/11 = 654.54… → 655, aspect kept exact.
        let ntsc = SourceGeometry(width: 720, height: 480, sampleAspectNum: 10, sampleAspectDen: 11)
        XCTAssertEqual(ntsc.displayWidth, 655)
        XCTAssertEqual(ntsc.displayAspect, 7200.0 / 5280.0)

        // Rotated non-square: the stretched width becomes the height.
        let rotated = SourceGeometry(width: 1440, height: 1080, sampleAspectNum: 4, sampleAspectDen: 3, rotation: 90)
        XCTAssertEqual(rotated.displayWidth, 1080)
        XCTAssertEqual(rotated.displayHeight, 1920)
        XCTAssertTrue(rotated.isPortrait)
    }

    func testUnknownSampleAspectMeansSquare() {
        for (num, den) in [(0, 1), (1, 0), (0, 0), (-4, 3)] {
            let g = SourceGeometry(width: 640, height: 480, sampleAspectNum: num, sampleAspectDen: den)
            XCTAssertEqual(g.displayWidth, 640, "\(num):\(den)")
            XCTAssertEqual(g.displayAspect, 4.0 / 3.0, "\(num):\(den)")
        }
    }

    func testSquareIsNotPortrait() {
        XCTAssertFalse(SourceGeometry(width: 1080, height: 1080).isPortrait)
        XCTAssertTrue(SourceGeometry(width: 1080, height: 1082).isPortrait)
    }

    func testHugeValuesDoNotTrap() {
        let g = SourceGeometry(width: Int.max, height: 1080, sampleAspectNum: Int.max, sampleAspectDen: 3)
        XCTAssertGreaterThan(g.displayWidth, 0)
        XCTAssertGreaterThan(g.displayAspect, 1)
        let empty = SourceGeometry(width: 0, height: 0)
        XCTAssertEqual(empty.displayAspect, 0)
        XCTAssertEqual(empty.displayWidth, 0)
    }
}
