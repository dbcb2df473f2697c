/// Where the seek-bar thumbnails of a transcode go: one tile every `interval` seconds, each
/// `tileWidth` × `tileHeight` (the picture's display aspect), laid out row by row on JPEG sprite
/// sheets of `columns` × `rowsPerSheet` tiles, and the WebVTT thumbnails track that points into
/// them (`storyboard-000.jpg#xywh=x,y,w,h`, the form video.js, Plyr, Vidstack and JW Player read).
///
/// The interval is the smallest of `intervals` that keeps a source at or under `maxTiles` tiles:
/// a tile a second up to 5 minutes, every 2 s up to 10, every 5 s up to 25, every 10 s up to 50,
/// every 15 s up to 75, every 20 s up to 100 minutes, every 30 s up to 2.5 hours: enough to see a
/// slide change while scrubbing, at most three sheets (about 100 kB each) for a whole lecture.
public struct StoryboardLayout: Sendable, Equatable {
    public static let tileWidth = 160
    public static let columns = 10
    public static let rowsPerSheet = 10
    public static let maxTiles = 300
    public static let intervals: [Double] = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600]
    /// The interval when the container does not say how long the source is (a live recording's
    /// WebM): 300 tiles cover 50 minutes, and an hour and a half makes 540.
    public static let unknownDurationInterval = 10.0
    /// The folder of the storyboard in an output, and its WebVTT file's name.
    public static let folder = "storyboard"
    public static let vttName = "storyboard.vtt"

    /// Seconds between tiles.
    public var interval: Double
    public var tileWidth: Int
    public var tileHeight: Int

    /// - Parameters:
    ///   - durationSeconds: the source's duration, when known (else `unknownDurationInterval`).
    ///   - displayWidth, displayHeight: the picture's upright display size (its aspect).
    public init(durationSeconds: Double?, displayWidth: Int, displayHeight: Int) {
        interval = durationSeconds.map { Self.interval(forDuration: $0) } ?? Self.unknownDurationInterval
        tileWidth = Self.tileWidth
        let aspect = displayWidth > 0 && displayHeight > 0 ? Double(displayHeight) / Double(displayWidth) : 9.0 / 16.0
        // Even, and between 2 and 4 × the width (a portrait phone clip gives 160 × 284).
        tileHeight = min(4 * Self.tileWidth, max(2, Int((Double(Self.tileWidth) * aspect / 2).rounded()) * 2))
    }

    public init(interval: Double, tileWidth: Int, tileHeight: Int) {
        self.interval = interval
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
    }

    /// The smallest of `intervals` that gives at most `maxTiles` tiles for `duration` seconds.
    public static func interval(forDuration duration: Double) -> Double {
        intervals.first { (duration / $0).rounded(.up) <= Double(maxTiles) } ?? intervals.last!
    }

    /// Where tile `index` is shown from, microseconds on the output timeline.
    public func startMicroseconds(ofTile index: Int) -> Int64 {
        Int64((Double(index) * interval * 1_000_000).rounded())
    }

    /// Tiles a timeline of `duration` seconds needs: one for every interval that starts before
    /// its end (at least one).
    public func tileCount(forDuration duration: Double) -> Int {
        max(1, Int((duration / interval - 1e-9).rounded(.up)))
    }

    public static let tilesPerSheet = columns * rowsPerSheet

    /// Sprite sheets for `tiles` tiles.
    public static func sheetCount(tiles: Int) -> Int { (tiles + tilesPerSheet - 1) / tilesPerSheet }

    /// File name of sheet `index`: `storyboard-000.jpg`.
    public static func sheetName(_ index: Int) -> String {
        let digits = String(index)
        return "storyboard-" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits + ".jpg"
    }

    /// The sheet tile `index` is on and its top-left corner there, pixels.
    public func placement(ofTile index: Int) -> (sheet: Int, x: Int, y: Int) {
        let cell = index % Self.tilesPerSheet
        return (index / Self.tilesPerSheet, cell % Self.columns * tileWidth, cell / Self.columns * tileHeight)
    }

    /// Pixel size of sheet `sheet` when the storyboard has `tiles` tiles: full rows of `columns`
    /// (one row as wide as its tiles when the whole storyboard fits in it), as many rows as used.
    public func sheetSize(_ sheet: Int, tiles: Int) -> (width: Int, height: Int) {
        let onSheet = max(0, min(Self.tilesPerSheet, tiles - sheet * Self.tilesPerSheet))
        let columns = min(Self.columns, tiles)
        let rows = (onSheet + Self.columns - 1) / Self.columns
        return (columns * tileWidth, rows * tileHeight)
    }

    /// The WebVTT thumbnails track for `tiles` tiles over `duration` seconds: one cue per tile,
    /// from its start to the next tile's (the last to `duration`), no gap and no overlap, each
    /// naming its sheet (relative to the .vtt) and rectangle.
    public func webVTT(tiles: Int, duration: Double) -> String {
        var text = "WEBVTT\n"
        let end = Int((duration * 1000).rounded())
        for index in 0..<tiles {
            let from = Int((Double(index) * interval * 1000).rounded())
            let to = index == tiles - 1 ? max(end, from + 1) : Int((Double(index + 1) * interval * 1000).rounded())
            let place = placement(ofTile: index)
            text += "\n\(WebVTTTimestamp.format(from)) --> \(WebVTTTimestamp.format(to))\n"
            text += "\(Self.sheetName(place.sheet))#xywh=\(place.x),\(place.y),\(tileWidth),\(tileHeight)\n"
        }
        return text
    }
}
