/// Where one I-frame (a sync sample / random access point of the video) sits in a written segment.
public struct IFrameLocation: Sendable, Equatable {
    /// Presentation time in `timescale` ticks, as the container states it.
    public var presentationTime: Int64
    /// Ticks per second (90 000 for MPEG-TS; the track's mdhd timescale for fMP4).
    public var timescale: Int
    /// The bytes of the segment file a player fetches to show this frame on its own (after the
    /// init section, for fMP4).
    public var range: ByteRange

    public init(presentationTime: Int64, timescale: Int, range: ByteRange) {
        self.presentationTime = presentationTime
        self.timescale = timescale
        self.range = range
    }
}

/// Finds the I-frames of segment files, with the byte ranges an I-frame playlist lists.
public enum IFrameLocator {
    /// The sync samples of the video track in an fMP4 segment (one or more moof + mdat), in file
    /// order. An I-frame's range runs from the first byte of its "moof" through the last byte of
    /// its sample in the "mdat", which is what Apple's segmenters list: the player gets the sample
    /// table and the frame, and nothing after it.
    /// - Parameter movie: the rendition's init section (`MP4Movie.parse`), for the track's
    ///   timescale and defaults.
    /// - Throws: `ContainerParseError` when the bytes are malformed or the movie has no video track.
    public static func fragmentedMP4(segment bytes: [UInt8], movie: MP4Movie) throws -> [IFrameLocation] {
        guard let track = movie.videoTrack else {
            throw ContainerParseError(offset: 0, message: "the init section has no video track")
        }
        var found: [IFrameLocation] = []
        for fragment in try MP4FragmentReader.fragments(in: bytes, movie: movie) {
            guard let samples = fragment.track(id: track.trackID)?.samples else { continue }
            for sample in samples where sample.isSync && sample.size > 0 {
                let start = min(fragment.moof.offset, sample.dataOffset)
                found.append(IFrameLocation(presentationTime: sample.presentationTime, timescale: Int(track.timescale),
                                            range: ByteRange(start..<sample.dataEnd)))
            }
        }
        return found
    }

    /// The video PES packets flagged as random access points in an MPEG-TS segment, in file order.
    /// An I-frame's range runs from the PAT and PMT packets right before it (the segment start
    /// for the first one) through the last TS packet of its PES, so the bytes can be demuxed on
    /// their own, as Apple's mediafilesegmenter lists them.
    /// - Throws: `ContainerParseError` when the packets are malformed, or a random access PES has no PTS.
    public static func transportStream(segment bytes: [UInt8]) throws -> [IFrameLocation] {
        let index = try TransportStreamReader.index(bytes)
        return try index.videoPES.filter(\.randomAccess).map { pes in
            guard let pts = pes.pts else {
                throw ContainerParseError(offset: pes.firstPacketOffset, message: "random access PES without a PTS")
            }
            return IFrameLocation(presentationTime: pts, timescale: 90_000,
                                  range: ByteRange(pes.standaloneStart..<pes.lastPacketEnd))
        }
    }
}
