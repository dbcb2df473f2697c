import XCTest
import HLSCore

/// `StoryboardLayout`: the interval rule, tile sizes, sheet placement and the WebVTT track.
final class StoryboardLayoutTests: XCTestCase {
    func testIntervalIsTheSmallestThatKeepsAtMostMaxTiles() {
        XCTAssertEqual(StoryboardLayout.interval(forDuration: 0), 1)
        XCTAssertEqual(StoryboardLayout.interval(forDuration: 30), 1)
        XCTAssertEqual(StoryboardLayout.interval(forDuration: 300), 1)
        XCTAssertEqual(StoryboardLayout.interval(forDuration: 300.001), 2)
        XCTAssertEqual(StoryboardLayout.interval(forDuration: 600), 2)
        XCTAssertEqual(StoryboardLayout.interval(forDuration: 1500), 5)
        XCTAssertEqual(StoryboardLayout.interval(forDuration: 3600), 15)
        XCTAssertEqual(StoryboardLayout.interval(forDuration: 5400), 20)
        XCTAssertEqual(StoryboardLayout.interval(forDuration: 9000), 30)
        XCTAssertEqual(StoryboardLayout.interval(forDuration: 1e9), 600)
        for duration in stride(from: 1.0, to: 180_000, by: 997) {
            let interval = StoryboardLayout.interval(forDuration: duration)
            XCTAssertLessThanOrEqual((duration / interval).rounded(.up), Double(StoryboardLayout.maxTiles), "\(duration)")
        }
    }

    func testTileHeightFollowsTheDisplayAspectEvenAndBounded() {
        XCTAssertEqual(StoryboardLayout(durationSeconds: 60, displayWidth: 1920, displayHeight: 1080).tileHeight, 90)
        XCTAssertEqual(StoryboardLayout(durationSeconds: 60, displayWidth: 640, displayHeight: 480).tileHeight, 120)
        XCTAssertEqual(StoryboardLayout(durationSeconds: 60, displayWidth: 720, displayHeight: 1280).tileHeight, 284)
        XCTAssertEqual(StoryboardLayout(durationSeconds: 60, displayWidth: 10, displayHeight: 4000).tileHeight, 640)
        XCTAssertEqual(StoryboardLayout(durationSeconds: 60, displayWidth: 4000, displayHeight: 10).tileHeight, 2)
        XCTAssertEqual(StoryboardLayout(durationSeconds: 60, displayWidth: 0, displayHeight: 0).tileHeight, 90)
        XCTAssertEqual(StoryboardLayout(durationSeconds: 60, displayWidth: 1920, displayHeight: 1080).tileWidth, 160)
    }

    func testTileCountCoversTheDurationWithoutAnEmptyLastTile() {
        let layout = StoryboardLayout(interval: 2, tileWidth: 160, tileHeight: 90)
        XCTAssertEqual(layout.tileCount(forDuration: 0), 1)
        XCTAssertEqual(layout.tileCount(forDuration: 1.9), 1)
        XCTAssertEqual(layout.tileCount(forDuration: 2), 1)
        XCTAssertEqual(layout.tileCount(forDuration: 2.04), 2)
        XCTAssertEqual(layout.tileCount(forDuration: 30), 15)
        XCTAssertEqual(layout.startMicroseconds(ofTile: 3), 6_000_000)
    }

    func testPlacementFillsRowsThenSheets() {
        let layout = StoryboardLayout(interval: 1, tileWidth: 160, tileHeight: 90)
        XCTAssertTrue(layout.placement(ofTile: 0) == (0, 0, 0))
        XCTAssertTrue(layout.placement(ofTile: 9) == (0, 1440, 0))
        XCTAssertTrue(layout.placement(ofTile: 10) == (0, 0, 90))
        XCTAssertTrue(layout.placement(ofTile: 99) == (0, 1440, 810))
        XCTAssertTrue(layout.placement(ofTile: 100) == (1, 0, 0))
        XCTAssertTrue(layout.placement(ofTile: 123) == (1, 480, 180))
        XCTAssertEqual(StoryboardLayout.sheetCount(tiles: 1), 1)
        XCTAssertEqual(StoryboardLayout.sheetCount(tiles: 100), 1)
        XCTAssertEqual(StoryboardLayout.sheetCount(tiles: 101), 2)
        XCTAssertEqual(StoryboardLayout.sheetName(0), "storyboard-000.jpg")
        XCTAssertEqual(StoryboardLayout.sheetName(12), "storyboard-012.jpg")
        XCTAssertEqual(StoryboardLayout.sheetName(1234), "storyboard-1234.jpg")
    }

    func testSheetSizeHoldsItsTilesAndNoMore() {
        let layout = StoryboardLayout(interval: 1, tileWidth: 160, tileHeight: 90)
        XCTAssertTrue(layout.sheetSize(0, tiles: 5) == (800, 90))
        XCTAssertTrue(layout.sheetSize(0, tiles: 10) == (1600, 90))
        XCTAssertTrue(layout.sheetSize(0, tiles: 11) == (1600, 180))
        XCTAssertTrue(layout.sheetSize(0, tiles: 250) == (1600, 900))
        XCTAssertTrue(layout.sheetSize(2, tiles: 250) == (1600, 450))
        for tiles in 1...260 {
            for index in 0..<tiles {
                let place = layout.placement(ofTile: index)
                let size = layout.sheetSize(place.sheet, tiles: tiles)
                XCTAssertLessThanOrEqual(place.x + layout.tileWidth, size.width)
                XCTAssertLessThanOrEqual(place.y + layout.tileHeight, size.height)
            }
        }
    }

    func testWebVTTCuesAreContiguousAndEndAtTheDuration() throws {
        let layout = StoryboardLayout(interval: 2, tileWidth: 160, tileHeight: 90)
        let text = layout.webVTT(tiles: 3, duration: 5.5)
        XCTAssertEqual(text, """
            WEBVTT

            00:00:00.000 --> 00:00:02.000
            storyboard-000.jpg#xywh=0,0,160,90

            00:00:02.000 --> 00:00:04.000
            storyboard-000.jpg#xywh=160,0,160,90

            00:00:04.000 --> 00:00:05.500
            storyboard-000.jpg#xywh=320,0,160,90

            """)
        let parsed = try WebVTTParser().parse(Array(text.utf8))
        XCTAssertTrue(parsed.warnings.isEmpty, "\(parsed.warnings)")
        XCTAssertEqual(parsed.cues.count, 3)
    }

    func testALastTileShorterThanAMillisecondStillEndsAfterItStarts() {
        let layout = StoryboardLayout(interval: 1, tileWidth: 160, tileHeight: 90)
        let text = layout.webVTT(tiles: 2, duration: 1.0002)
        XCTAssertTrue(text.contains("00:00:01.000 --> 00:00:01.001"), text)
    }
}

/// `PosterChoice`: the window and the detail score.
final class PosterChoiceTests: XCTestCase {
    func testWindowSkipsTheFirstTwoAndTheLastTenPercent() {
        XCTAssertEqual(PosterChoice.window(durationSeconds: 100), 2_000_000...90_000_000)
        XCTAssertEqual(PosterChoice.window(durationSeconds: 0), 0...0)
        XCTAssertEqual(PosterChoice.window(durationSeconds: -5), 0...0)
    }

    private func score(_ pixels: [UInt8], width: Int, height: Int, stride: Int? = nil) -> Double {
        pixels.withUnsafeBufferPointer { PosterChoice.detail(luma: $0, width: width, height: height, stride: stride ?? width) }
    }

    func testFlatPicturesScoreNothing() {
        XCTAssertEqual(score([UInt8](repeating: 0, count: 64), width: 8, height: 8), 0)
        XCTAssertEqual(score([UInt8](repeating: 128, count: 64), width: 8, height: 8), 0)
        XCTAssertEqual(score([UInt8](repeating: 255, count: 64), width: 8, height: 8), 0)
        // Nearly black with a little noise: the mean is under 24.
        XCTAssertEqual(score((0..<64).map { UInt8($0 % 2 * 30) }, width: 8, height: 8), 0)
    }

    func testAWhiteSlideWithBlackTextIsNotFlat() {
        // Mean about 243: white with a few dark strokes.
        let slide = (0..<256).map { UInt8($0 % 16 == 5 || $0 / 16 == 7 ? 10 : 255) }
        XCTAssertGreaterThan(score(slide, width: 16, height: 16), 0)
    }

    func testMoreEdgesScoreMore() {
        let stripes = (0..<64).map { UInt8($0 % 8 < 4 ? 40 : 200) }       // one edge per row
        let checker = (0..<64).map { UInt8(($0 % 8 + $0 / 8) % 2 == 0 ? 40 : 200) }  // edges everywhere
        XCTAssertGreaterThan(score(stripes, width: 8, height: 8), 0)
        XCTAssertGreaterThan(score(checker, width: 8, height: 8), score(stripes, width: 8, height: 8))
        XCTAssertEqual(score(checker, width: 8, height: 8), 160, accuracy: 1e-9)
    }

    func testStridePaddingIsIgnoredAndShortBuffersRefused() {
        let checker = (0..<64).map { UInt8(($0 % 8 + $0 / 8) % 2 == 0 ? 40 : 200) }
        var padded: [UInt8] = []
        for row in 0..<8 { padded += checker[row * 8..<row * 8 + 8] + [0, 255, 0, 255] }
        XCTAssertEqual(score(padded, width: 8, height: 8, stride: 12), 160, accuracy: 1e-9)
        XCTAssertEqual(score(Array(checker.prefix(60)), width: 8, height: 8), 0)
        XCTAssertEqual(score(checker, width: 1, height: 64), 0)
    }
}
