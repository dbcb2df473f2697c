import CFFmpeg
import Foundation

/// The storyboard's tiles and the poster, from the pictures the decode loop already has (no
/// second decode): on the decoding thread, the first picture at or after each tile's time is
/// scaled to the tile size and kept as a raw yuvj420p file in the storyboard folder (journaled,
/// so a resumed run keeps the tiles an earlier one made); the picture with the most detail in
/// the poster window (`PosterChoice`) is held by reference. `finish` lays the tiles out on JPEG
/// sprite sheets, writes the WebVTT thumbnails track and the poster, and removes the raw tiles.
///
/// Cost: one 160-pixel scale per tile (one every 1–30 s of media), a reference to the best
/// picture so far, and at the end one JPEG per sheet and one at the poster's size.
final class PictureSampler {
    struct Settings {
        var storyboard: Bool
        /// The poster's size (the top rung's display size); nil for no poster.
        var posterSize: (width: Int, height: Int)?
    }

    /// What `finish` wrote.
    struct Written {
        var storyboard: TranscodeReport.Storyboard?
        var poster: TranscodeReport.Poster?
        var warnings: [String]
    }

    static let posterName = "poster.jpg"

    let layout: StoryboardLayout
    private let settings: Settings
    private let directory: URL
    private let folder: URL
    private let rotation: Int
    /// Where poster candidates come from; nil when the source's duration is unknown (any picture).
    private let window: ClosedRange<Int64>?
    private let tileScaler: Scaler
    private let journal: ResumeJournalWriter?
    /// Tiles an earlier run committed (resuming).
    private let kept: Set<Int>
    private var made: Set<Int> = []
    private var nextTile = 0
    private let last = try? Frame()
    private var sawFrame = false
    private var best: Candidate?
    private var bestAnywhere: Candidate?

    private struct Candidate {
        var score: Double
        var frame: Frame
        var microseconds: Int64
    }

    /// - Parameters:
    ///   - directory: the output's folder (staging or in place); tiles go to its `storyboard` folder.
    ///   - durationSeconds: the source's duration (the tile interval and the poster window).
    ///   - kept: resuming: the tile entries the journal kept.
    /// - Throws: `LibAVError` making the scaler, `SinkError` making the folder or its layout file.
    init(settings: Settings, directory: URL, durationSeconds: Double?, displayWidth: Int, displayHeight: Int,
         rotation: Int, journal: ResumeJournalWriter?, kept: [JournalEntry]) throws {
        self.settings = settings
        self.directory = directory
        self.rotation = rotation
        self.journal = journal
        let layout = StoryboardLayout(durationSeconds: durationSeconds, displayWidth: displayWidth, displayHeight: displayHeight)
        self.layout = layout
        window = durationSeconds.map { PosterChoice.window(durationSeconds: $0) }
        folder = directory.appendingPathComponent(StoryboardLayout.folder)
        tileScaler = try Scaler(width: layout.tileWidth, height: layout.tileHeight, rotation: rotation, format: AV_PIX_FMT_YUVJ420P)
        let layoutFile = Self.layoutName(for: layout)
        let sameLayout = kept.contains { $0.index == JournalEntry.initIndex && $0.file == layoutFile }
        self.kept = sameLayout ? Set(kept.map(\.index).filter { $0 >= 0 }) : []
        guard settings.storyboard else { return }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if !sameLayout {
            let written = try write(Array("{}\n".utf8), named: layoutFile)
            journal?.commit(JournalEntry(rendition: StoryboardLayout.folder, index: JournalEntry.initIndex, file: layoutFile,
                                         bytes: written.bytes, sha256: written.sha256, firstPTS: 0, frames: 0, start: 0, duration: 0))
        }
    }

    /// The layout file's name carries the layout, so a resumed run keeps tiles only of the same one.
    private static func layoutName(for layout: StoryboardLayout) -> String {
        "tiles-\(Int(layout.interval * 1000))ms-\(layout.tileWidth)x\(layout.tileHeight).json"
    }

    private static func tileName(_ index: Int) -> String { String(format: "tile-%06d.yuv", index) }

    /// Takes the picture shown from `microseconds` on the output timeline (pictures come in
    /// presentation order).
    /// - Throws: `LibAVError` scaling, `SinkError` writing a tile.
    func offer(_ frame: Frame, atMicroseconds microseconds: Int64) throws {
        if !sawFrame {
            sawFrame = true
            // Resuming: the tiles before the first picture decoded are the earlier run's (or missing).
            while layout.startMicroseconds(ofTile: nextTile) < microseconds { nextTile += 1 }
        }
        if let last {
            last.unref()
            try check(av_frame_ref(last.pointer, frame.pointer), "av_frame_ref")
        }
        while layout.startMicroseconds(ofTile: nextTile) <= microseconds {
            try makeTile(nextTile, from: frame, atMicroseconds: microseconds)
            nextTile += 1
        }
    }

    private func makeTile(_ index: Int, from frame: Frame, atMicroseconds microseconds: Int64) throws {
        let tile = try tileScaler.scale(frame)
        if settings.posterSize != nil {
            let (luma, stride) = tile.plane(0)
            let score = PosterChoice.detail(luma: UnsafeBufferPointer(start: luma, count: stride * tile.height),
                                            width: tile.width, height: tile.height, stride: stride)
            if bestAnywhere.map({ score > $0.score }) ?? true {
                bestAnywhere = Candidate(score: score, frame: try Frame(referencing: frame), microseconds: microseconds)
            }
            if window?.contains(microseconds) ?? false, best.map({ score > $0.score }) ?? true {
                best = bestAnywhere?.microseconds == microseconds ? bestAnywhere
                    : Candidate(score: score, frame: try Frame(referencing: frame), microseconds: microseconds)
            }
        }
        guard settings.storyboard, !kept.contains(index) else { return }
        let name = Self.tileName(index)
        let written = try write(Self.packed(tile), named: name)
        made.insert(index)
        let start = Double(layout.startMicroseconds(ofTile: index)) / 1_000_000
        journal?.commit(JournalEntry(rendition: StoryboardLayout.folder, index: index, file: name, bytes: written.bytes,
                                     sha256: written.sha256, firstPTS: microseconds, frames: 1, start: start,
                                     duration: layout.interval))
    }

    /// The picture's three planes, rows without padding.
    private static func packed(_ picture: Frame) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(picture.width * picture.height * 3 / 2)
        for index in 0..<3 {
            let (base, stride) = picture.plane(index)
            let width = index == 0 ? picture.width : picture.width / 2
            let height = index == 0 ? picture.height : picture.height / 2
            for row in 0..<height { bytes.append(contentsOf: UnsafeBufferPointer(start: base + row * stride, count: width)) }
        }
        return bytes
    }

    private func write(_ bytes: [UInt8], named name: String, in target: URL? = nil) throws -> FileSink.Written {
        try FileSink.writeDurably(Data(bytes), to: (target ?? folder).appendingPathComponent(name).path)
    }

    /// Writes the sheets, the WebVTT track and the poster for a timeline of `durationSeconds`,
    /// then removes the raw tiles.
    /// - Throws: `LibAVError` scaling or encoding, `SinkError` writing.
    func finish(durationSeconds: Double) throws -> Written {
        var warnings: [String] = []
        var storyboard: TranscodeReport.Storyboard?
        if settings.storyboard, sawFrame || !kept.isEmpty {
            // Tiles past the last picture show it (the picture on screen at their time).
            let count = layout.tileCount(forDuration: durationSeconds)
            if let last, sawFrame {
                while nextTile < count {
                    try makeTile(nextTile, from: last, atMicroseconds: layout.startMicroseconds(ofTile: nextTile))
                    nextTile += 1
                }
            }
            storyboard = try writeSheets(count: count, durationSeconds: durationSeconds, warnings: &warnings)
        }
        if FileManager.default.fileExists(atPath: folder.path) { try removeRawFiles() }
        var poster: TranscodeReport.Poster?
        // A flat window (all blank slides) or an unknown duration: the best picture anywhere.
        let chosen = best.flatMap { $0.score > 0 ? $0 : nil } ?? bestAnywhere ?? best
        if let size = settings.posterSize, let chosen {
            let scaler = try Scaler(width: size.width, height: size.height, rotation: rotation, format: AV_PIX_FMT_YUVJ420P)
            _ = try write(try JPEGEncoder.encode(try scaler.scale(chosen.frame)), named: Self.posterName, in: directory)
            poster = .init(file: Self.posterName, width: size.width, height: size.height,
                           timeSeconds: Double(chosen.microseconds) / 1_000_000)
        }
        best = nil
        bestAnywhere = nil
        return Written(storyboard: storyboard, poster: poster, warnings: warnings)
    }

    private func writeSheets(count: Int, durationSeconds: Double, warnings: inout [String]) throws -> TranscodeReport.Storyboard {
        let available = kept.union(made)
        var missing = 0
        let sheets = StoryboardLayout.sheetCount(tiles: count)
        var names: [String] = []
        for sheet in 0..<sheets {
            let size = layout.sheetSize(sheet, tiles: count)
            let picture = try Frame(width: size.width, height: size.height, format: AV_PIX_FMT_YUVJ420P)
            Self.fillBlack(picture)
            let first = sheet * StoryboardLayout.tilesPerSheet
            for index in first..<min(count, first + StoryboardLayout.tilesPerSheet) {
                // A tile no run made (a resumed run that found none before its pre-roll) shows the nearest one.
                guard let source = available.min(by: { abs($0 - index) < abs($1 - index) }) else { continue }
                if source != index { missing += 1 }
                let bytes = try Data(contentsOf: folder.appendingPathComponent(Self.tileName(source)))
                let place = layout.placement(ofTile: index)
                try copy(tile: Array(bytes), into: picture, x: place.x, y: place.y)
            }
            let name = StoryboardLayout.sheetName(sheet)
            _ = try write(try JPEGEncoder.encode(picture), named: name)
            names.append(name)
        }
        if missing > 0 {
            warnings.append("\(missing) storyboard tile(s) before the resumed part show the nearest tile made")
        }
        let vtt = layout.webVTT(tiles: count, duration: durationSeconds)
        _ = try write(Array(vtt.utf8), named: StoryboardLayout.vttName)
        return .init(vtt: StoryboardLayout.folder + "/" + StoryboardLayout.vttName, intervalSeconds: layout.interval,
                     tiles: count, tileWidth: layout.tileWidth, tileHeight: layout.tileHeight,
                     columns: StoryboardLayout.columns, sheets: names.map { StoryboardLayout.folder + "/" + $0 })
    }

    private func copy(tile bytes: [UInt8], into picture: Frame, x: Int, y: Int) throws {
        let (width, height) = (layout.tileWidth, layout.tileHeight)
        guard bytes.count == width * height * 3 / 2 else {
            throw SinkError(errno: EIO, operation: "read storyboard tile", path: folder.path)
        }
        var offset = 0
        for index in 0..<3 {
            let shift = index == 0 ? 0 : 1
            let (base, stride) = picture.plane(index)
            let (w, h) = (width >> shift, height >> shift)
            for row in 0..<h {
                let target = base + ((y >> shift) + row) * stride + (x >> shift)
                bytes.withUnsafeBufferPointer { target.update(from: $0.baseAddress! + offset, count: w) }
                offset += w
            }
        }
    }

    private static func fillBlack(_ picture: Frame) {
        for index in 0..<3 {
            let (base, stride) = picture.plane(index)
            let rows = index == 0 ? picture.height : (picture.height + 1) / 2
            base.update(repeating: index == 0 ? 0 : 128, count: stride * rows)
        }
    }

    /// Removes the raw tiles and the layout file (the journal no longer needs them once the
    /// sheets are written; a rerun makes them again).
    private func removeRawFiles() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path)
        where name.hasSuffix(".yuv") || (name.hasPrefix("tiles-") && name.hasSuffix(".json")) {
            try FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
        if !settings.storyboard, (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.isEmpty == true {
            try FileManager.default.removeItem(at: folder)
        }
    }
}
