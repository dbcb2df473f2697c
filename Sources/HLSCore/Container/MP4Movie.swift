/// Defaults a track's fragments fall back on (the "trex" box of the init section, ISO/IEC 14496-12 §8.8.3).
public struct MP4SampleDefaults: Sendable, Equatable {
    public var descriptionIndex: UInt32
    public var duration: UInt32
    public var size: UInt32
    public var flags: UInt32

    public init(descriptionIndex: UInt32 = 1, duration: UInt32 = 0, size: UInt32 = 0, flags: UInt32 = 0) {
        self.descriptionIndex = descriptionIndex
        self.duration = duration
        self.size = size
        self.flags = flags
    }
}

/// One track of a movie as the fragment reader needs it.
public struct MP4Track: Sendable, Equatable {
    public var trackID: UInt32
    /// Handler type of the media: "vide", "soun", "text", …
    public var handler: String
    /// Ticks per second of the track's media timeline (mdhd).
    public var timescale: UInt32
    public var defaults: MP4SampleDefaults

    public init(trackID: UInt32, handler: String, timescale: UInt32, defaults: MP4SampleDefaults = MP4SampleDefaults()) {
        self.trackID = trackID
        self.handler = handler
        self.timescale = timescale
        self.defaults = defaults
    }

    public var isVideo: Bool { handler == "vide" }
}

/// The tracks declared by a movie box: an fMP4 init section ("init.mp4"), or the head of a whole
/// fragmented file.
public struct MP4Movie: Sendable, Equatable {
    public var tracks: [MP4Track]

    public init(tracks: [MP4Track]) {
        self.tracks = tracks
    }

    public func track(id: UInt32) -> MP4Track? { tracks.first { $0.trackID == id } }

    /// The first video track.
    public var videoTrack: MP4Track? { tracks.first(where: \.isVideo) }

    /// Reads the "moov" box among the top-level boxes of `bytes`: every "trak" (track ID from
    /// tkhd, timescale from mdhd, handler from hdlr) and the "trex" defaults of "mvex".
    /// - Throws: `ContainerParseError` for malformed boxes, no moov, or a track without tkhd or mdhd.
    public static func parse(_ bytes: [UInt8]) throws -> MP4Movie {
        let top = try MP4BoxReader.boxes(in: bytes)
        guard let moov = MP4BoxReader.first("moov", in: top) else {
            throw ContainerParseError(offset: 0, message: "no 'moov' box (\(top.map(\.type).joined(separator: ", ")))")
        }
        let children = try MP4BoxReader.children(of: moov, in: bytes)
        var defaults: [UInt32: MP4SampleDefaults] = [:]
        if let mvex = MP4BoxReader.first("mvex", in: children) {
            for trex in try MP4BoxReader.children(of: mvex, in: bytes) where trex.type == "trex" {
                var (_, _, cursor) = try MP4BoxReader.fullBox(trex, in: bytes)
                let id = try cursor.u32("trex track_ID")
                defaults[id] = MP4SampleDefaults(descriptionIndex: try cursor.u32(), duration: try cursor.u32(),
                                                 size: try cursor.u32(), flags: try cursor.u32())
            }
        }
        var tracks: [MP4Track] = []
        for trak in children where trak.type == "trak" {
            let parts = try MP4BoxReader.children(of: trak, in: bytes)
            guard let tkhd = MP4BoxReader.first("tkhd", in: parts) else {
                throw ContainerParseError(offset: trak.offset, message: "'trak' without 'tkhd'")
            }
            var (tkhdVersion, _, tkhdCursor) = try MP4BoxReader.fullBox(tkhd, in: bytes)
            try tkhdCursor.skip(tkhdVersion == 1 ? 16 : 8, "tkhd times")
            let trackID = try tkhdCursor.u32("tkhd track_ID")
            guard let mdia = MP4BoxReader.first("mdia", in: parts) else {
                throw ContainerParseError(offset: trak.offset, message: "track \(trackID) has no 'mdia'")
            }
            let media = try MP4BoxReader.children(of: mdia, in: bytes)
            guard let mdhd = MP4BoxReader.first("mdhd", in: media) else {
                throw ContainerParseError(offset: mdia.offset, message: "track \(trackID) has no 'mdhd'")
            }
            var (mdhdVersion, _, mdhdCursor) = try MP4BoxReader.fullBox(mdhd, in: bytes)
            try mdhdCursor.skip(mdhdVersion == 1 ? 16 : 8, "mdhd times")
            let timescale = try mdhdCursor.u32("mdhd timescale")
            guard timescale > 0 else {
                throw ContainerParseError(offset: mdhd.offset, message: "track \(trackID) has timescale 0")
            }
            var handler = ""
            if let hdlr = MP4BoxReader.first("hdlr", in: media) {
                var (_, _, cursor) = try MP4BoxReader.fullBox(hdlr, in: bytes)
                try cursor.skip(4, "hdlr pre_defined")
                handler = try cursor.fourCC("hdlr handler_type")
            }
            tracks.append(MP4Track(trackID: trackID, handler: handler, timescale: timescale,
                                   defaults: defaults[trackID] ?? MP4SampleDefaults()))
        }
        return MP4Movie(tracks: tracks)
    }
}
