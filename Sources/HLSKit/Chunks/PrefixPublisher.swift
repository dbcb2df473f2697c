import Foundation

/// What a progressive split job has published so far, kept in its output folder
/// (`.hlsify-progress.json`, so it goes with the folder): how many video chunks, whether the
/// audio, and per rendition its segments and where its renumbering stands.
struct PublishedPrefix: Codable, Equatable {
    static let fileName = ".hlsify-progress.json"

    var planId: String
    var videoChunks = 0
    var audio = false
    var renditions: [String: Rendition] = [:]

    struct Rendition: Codable, Equatable {
        var codecs: String?
        var segments: [ChunkManifest.Segment] = []
        var renumbering = StreamRenumbering()
    }

    init(planId: String) { self.planId = planId }

    /// Each rendition's playlist records: a segment's duration runs to the next one's start.
    /// `holdingLast`: the last is left out (its duration is known once the next one is there:
    /// a published EVENT line never changes, RFC 8216 §6.2.1).
    func records(_ folder: String, holdingLast: Bool = false) -> [SegmentRecord] {
        let records = ChunkJoin.measuredToNextStart(renditions[folder]?.segments ?? []).map(\.record)
        return holdingLast ? Array(records.dropLast()) : records
    }
}

extension ChunkStitcher {
    /// A progressive split job: publishes in place, at `output`, what is committed of the plan
    /// from its start (video chunks 0, 1, … up to the first missing one; the audio once it is
    /// there), renumbered to continue what was published before: the segment files, each
    /// rendition's EVENT playlist (a video rendition's last segment held back until the next
    /// chunk or the stitch measures it), and the master once every rendition has a segment. The
    /// caller holds the output's lock (one publisher at a time). Returns the video chunks published.
    ///
    /// - Throws: `ChunkError.mismatch` when a chunk's file differs from its manifest, `TranscodeError`
    ///   when the output cannot be written.
    /// - Cost: reads and writes each newly committed segment once; rewrites the playlists.
    func publishPrefix(output: URL) throws -> Int {
        try work.checkNotFailed()
        let stateURL = output.appendingPathComponent(PublishedPrefix.fileName)
        var state = (try? JSONDecoder().decode(PublishedPrefix.self, from: Data(contentsOf: stateURL)))
            .flatMap { $0.planId == plan.id ? $0 : nil } ?? PublishedPrefix(planId: plan.id)
        let before = state
        let videoFolders = plan.resume.renditions.map(\.folder)
        while state.videoChunks < plan.layout.videoChunks, let manifest = try work.manifest(of: .video(state.videoChunks)) {
            for folder in videoFolders {
                guard let rendition = manifest.rendition(folder) else {
                    throw ChunkError.mismatch("\(work.root.path): chunk \(manifest.chunk) has no \(folder) rendition")
                }
                try publish(rendition, from: manifest.chunk, into: output, state: &state, renumber: true)
            }
            state.videoChunks += 1
        }
        if !state.audio, let manifest = try work.manifest(of: .audio) {
            for rendition in manifest.renditions {
                try publish(rendition, from: manifest.chunk, into: output, state: &state, renumber: false)
            }
            state.audio = true
        }
        guard state != before else { return state.videoChunks }
        let publisher = publisher(into: output, videoCodecs: videoFolders.map { state.renditions[$0]?.codecs },
                                  audioFolders: Set(state.renditions.keys).subtracting(videoFolders), progressive: true)
        let open = state.videoChunks < plan.layout.videoChunks
        try publisher.publishProgressive(Dictionary(uniqueKeysWithValues: state.renditions.keys.map { folder in
            (folder, state.records(folder, holdingLast: open && videoFolders.contains(folder)))
        }))
        try ChunkWork.writeDurably(try ChunkWork.encoder.encode(state), to: stateURL)
        return state.videoChunks
    }

    /// Copies one chunk's share of a rendition into the output (its init section first, from the
    /// first chunk that has one) and notes it in `state`.
    private func publish(_ rendition: ChunkManifest.Rendition, from chunk: String, into output: URL,
                         state: inout PublishedPrefix, renumber: Bool) throws {
        let folder = output.appendingPathComponent(rendition.folder)
        var published = state.renditions[rendition.folder] ?? PublishedPrefix.Rendition()
        if published.segments.isEmpty {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw TranscodeError.cannotCreateOutput("cannot create \(folder.path): \((error as NSError).localizedDescription)")
            }
            if let section = rendition.initSection {
                try store(try read(section.file, of: rendition.folder, in: chunk, bytes: section.bytes, sha256: section.sha256),
                          to: folder.appendingPathComponent(section.file))
            }
        }
        for segment in rendition.segments {
            try copy(segment, of: rendition.folder, in: chunk, to: folder, renumbering: &published.renumbering, renumber: renumber)
            published.segments.append(segment)
        }
        published.codecs = published.codecs ?? rendition.codecs
        state.renditions[rendition.folder] = published
    }
}
