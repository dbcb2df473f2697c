import Foundation

/// Subtitle renditions written segment by segment alongside the timing rendition.
final class ProgressiveSubtitles {
    private let layout: SubtitleLayout
    private let tracks: [LoadedSubtitles]
    private let directory: URL
    private let firstVideoPTS: () -> Int64?

    private let sourceOffset: Double

    init(tracks: [LoadedSubtitles], directory: URL, sourceOffset: Double, firstVideoPTS: @escaping () -> Int64?) throws {
        self.tracks = tracks
        self.sourceOffset = sourceOffset
        self.directory = directory
        self.firstVideoPTS = firstVideoPTS
        let layout = SubtitleLayout(tracks.map(\.track))
        for folder in layout.folders {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("\(SubtitlePublisher.folder)/\(folder)"), withIntermediateDirectories: true)
        }
        self.layout = layout
    }

    var renditions: [MediaRendition] { layout.renditions }

    /// Writes the newest subtitle segment of every track and its EVENT playlist.
    func publish(spansUpTo video: [SegmentRecord], targetDuration: Int) throws {
        guard let last = video.last, let pts = firstVideoPTS() else { return }
        let spans = SubtitleSegmentSpan.spans(of: video)
        for (position, track) in tracks.enumerated() {
            let cut = try SubtitleCut(track.cues, videoSpans: spans, totalDuration: last.startTime + last.duration,
                                      firstVideoPTS90k: pts, sourceOffset: sourceOffset)
            let folder = "\(SubtitlePublisher.folder)/\(layout.folders[position])"
            for (record, text) in zip(cut.records, cut.texts) {
                let url = directory.appendingPathComponent("\(folder)/\(record.uri)")
                if record.index == last.index || !FileManager.default.fileExists(atPath: url.path) {
                    try PlaylistPublisher.writeAtomically(text, to: url)
                }
            }
            try PlaylistPublisher.writeMediaPlaylist(cut.records, to: layout.playlistPath(position), in: directory,
                                                     target: targetDuration, kind: .event, mapURI: nil)
        }
    }
}
