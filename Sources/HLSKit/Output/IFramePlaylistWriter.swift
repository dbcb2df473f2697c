import Foundation

/// Writes a video rendition's I-frame playlist (`iframes.m3u8`) from its finished segment files:
/// each file is parsed with HLSCore's container readers (never with our own bookkeeping of what
/// was muxed), so the byte ranges are those of the bytes on disk.
struct IFramePlaylistWriter {
    static let playlistName = "iframes.m3u8"

    struct Written {
        /// Relative to the output folder: "720p/iframes.m3u8".
        var playlist: String
        var iFrames: Int
        var bandwidth: BandwidthStats
    }

    let directory: URL
    let format: SegmentFormat

    /// Parses the segments of `records` in `folder` and writes `folder/iframes.m3u8`.
    /// - Parameter totalDuration: the rendition's content duration (sum of its EXTINF), where the
    ///   last I-frame's entry ends.
    /// - Throws: `ContainerParseError` when a segment cannot be parsed or none holds an I-frame, `TranscodeError.io` when
    ///   a file cannot be read or written.
    func write(folder: String, records: [SegmentRecord], totalDuration: Double) throws -> Written {
        let base = directory.appendingPathComponent(folder)
        var builder = IFramePlaylistBuilder(timestampBits: format == .ts ? 33 : nil)
        switch format {
        case .fmp4:
            let movie = try MP4Movie.parse(read(base.appendingPathComponent(SegmentWriter.initName)))
            for record in records {
                builder.add(try IFrameLocator.fragmentedMP4(segment: read(base.appendingPathComponent(record.uri)), movie: movie),
                            segmentURI: record.uri)
            }
        case .ts:
            for record in records {
                builder.add(try IFrameLocator.transportStream(segment: read(base.appendingPathComponent(record.uri))),
                            segmentURI: record.uri)
            }
        }
        guard builder.count > 0 else {
            throw ContainerParseError(offset: 0, message: "no I-frame in the \(records.count) segments of \(folder)")
        }
        let playlist = builder.playlist(totalDuration: totalDuration, mapURI: format == .fmp4 ? SegmentWriter.initName : nil)
        let path = folder + "/" + Self.playlistName
        try PlaylistPublisher.writeAtomically(playlist.render(), to: directory.appendingPathComponent(path))
        return Written(playlist: path, iFrames: builder.count,
                       bandwidth: Bandwidth.measure(playlist.segments, targetDuration: playlist.targetDuration))
    }

    private func read(_ url: URL) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw TranscodeError.io("reading \(url.path): \(error.localizedDescription)")
        }
    }
}
