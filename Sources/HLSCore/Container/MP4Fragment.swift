/// One sample of a movie fragment, with everything resolved: defaults applied, times summed,
/// data located.
public struct MP4Sample: Sendable, Equatable {
    /// Decode time in the track's timescale (tfdt plus the durations of the samples before it).
    public var decodeTime: Int64
    public var duration: UInt32
    /// Presentation time minus decode time, in the track's timescale.
    public var compositionOffset: Int64
    /// Bytes of the sample's data.
    public var size: Int
    /// sample_flags (ISO/IEC 14496-12 §8.8.3.1).
    public var flags: UInt32
    /// Offset of the sample's first data byte in the bytes the fragment was read from.
    public var dataOffset: Int

    public init(decodeTime: Int64, duration: UInt32, compositionOffset: Int64, size: Int, flags: UInt32, dataOffset: Int) {
        self.decodeTime = decodeTime
        self.duration = duration
        self.compositionOffset = compositionOffset
        self.size = size
        self.flags = flags
        self.dataOffset = dataOffset
    }

    public var presentationTime: Int64 { decodeTime + compositionOffset }
    /// A sync sample (random access point): sample_is_non_sync_sample is clear.
    public var isSync: Bool { flags & MP4Fragment.nonSyncFlag == 0 }
    /// One past the sample's last data byte.
    public var dataEnd: Int { dataOffset + size }
}

/// One track's part of a fragment ("traf").
public struct MP4TrackFragment: Sendable, Equatable {
    public var trackID: UInt32
    public var samples: [MP4Sample]
}

/// A movie fragment: its "moof" box and the samples it describes.
public struct MP4Fragment: Sendable, Equatable {
    static let nonSyncFlag: UInt32 = 0x0001_0000

    public var moof: MP4Box
    /// mfhd sequence_number.
    public var sequenceNumber: UInt32
    public var tracks: [MP4TrackFragment]

    public func track(id: UInt32) -> MP4TrackFragment? { tracks.first { $0.trackID == id } }
}

/// Reads movie fragments (moof + mdat) of a fragmented MP4 file or segment.
public enum MP4FragmentReader {
    // tfhd flags
    private static let baseDataOffsetPresent: UInt32 = 0x000001
    private static let sampleDescriptionIndexPresent: UInt32 = 0x000002
    private static let defaultDurationPresent: UInt32 = 0x000008
    private static let defaultSizePresent: UInt32 = 0x000010
    private static let defaultFlagsPresent: UInt32 = 0x000020
    private static let defaultBaseIsMoof: UInt32 = 0x020000
    // trun flags
    private static let dataOffsetPresent: UInt32 = 0x000001
    private static let firstSampleFlagsPresent: UInt32 = 0x000004
    private static let durationPresent: UInt32 = 0x000100
    private static let sizePresent: UInt32 = 0x000200
    private static let flagsPresent: UInt32 = 0x000400
    private static let compositionOffsetPresent: UInt32 = 0x000800

    /// Every "moof" among the top-level boxes of `bytes`, in order, with its samples resolved
    /// against `movie` (trex defaults). A track fragment without "tfdt" continues from where the
    /// same track's previous fragment in these bytes ended (0 for the first).
    ///
    /// Data offsets follow ISO/IEC 14496-12 §8.8.7: tfhd's base_data_offset when present, else the
    /// moof's first byte when default-base-is-moof is set or for the first track fragment, else
    /// the end of the previous track fragment's data; a trun without data_offset continues where
    /// the previous trun's data ended.
    /// - Throws: `ContainerParseError` for malformed boxes, a track fragment of a track the movie
    ///   does not declare, or sample data outside every "mdat" of `bytes`.
    public static func fragments(in bytes: [UInt8], movie: MP4Movie) throws -> [MP4Fragment] {
        let top = try MP4BoxReader.boxes(in: bytes)
        let mdats = top.filter { $0.type == "mdat" }.map(\.payload)
        var nextDecodeTime: [UInt32: Int64] = [:]
        var fragments: [MP4Fragment] = []
        for moof in top where moof.type == "moof" {
            let children = try MP4BoxReader.children(of: moof, in: bytes)
            var sequence: UInt32 = 0
            if let mfhd = MP4BoxReader.first("mfhd", in: children) {
                var (_, _, cursor) = try MP4BoxReader.fullBox(mfhd, in: bytes)
                sequence = try cursor.u32("mfhd sequence_number")
            }
            var trackFragments: [MP4TrackFragment] = []
            var previousDataEnd: Int?
            for traf in children where traf.type == "traf" {
                let fragment = try readTrackFragment(traf, moof: moof, in: bytes, movie: movie,
                                                     previousDataEnd: previousDataEnd, nextDecodeTime: &nextDecodeTime)
                for sample in fragment.samples where sample.size > 0 {
                    guard mdats.contains(where: { $0.contains(sample.dataOffset) && sample.dataEnd <= $0.upperBound }) else {
                        throw ContainerParseError(offset: traf.offset, message:
                            "track \(fragment.track.trackID): sample data \(sample.dataOffset)..<\(sample.dataEnd) is not inside an 'mdat'")
                    }
                }
                previousDataEnd = fragment.dataEnd ?? previousDataEnd
                trackFragments.append(MP4TrackFragment(trackID: fragment.track.trackID, samples: fragment.samples))
            }
            fragments.append(MP4Fragment(moof: moof, sequenceNumber: sequence, tracks: trackFragments))
        }
        return fragments
    }

    private static func readTrackFragment(_ traf: MP4Box, moof: MP4Box, in bytes: [UInt8], movie: MP4Movie,
                                          previousDataEnd: Int?, nextDecodeTime: inout [UInt32: Int64])
        throws -> (track: MP4Track, samples: [MP4Sample], dataEnd: Int?) {
        let parts = try MP4BoxReader.children(of: traf, in: bytes)
        guard let tfhd = MP4BoxReader.first("tfhd", in: parts) else {
            throw ContainerParseError(offset: traf.offset, message: "'traf' without 'tfhd'")
        }
        var (_, tfhdFlags, cursor) = try MP4BoxReader.fullBox(tfhd, in: bytes)
        let trackID = try cursor.u32("tfhd track_ID")
        guard let track = movie.track(id: trackID) else {
            throw ContainerParseError(offset: tfhd.offset, message: "fragment of track \(trackID), which the init section does not declare")
        }
        var base: Int
        if tfhdFlags & baseDataOffsetPresent != 0 {
            let offset = try cursor.u64("tfhd base_data_offset")
            guard offset <= UInt64(bytes.count) else {
                throw ContainerParseError(offset: tfhd.offset, message: "base_data_offset \(offset) is past the end")
            }
            base = Int(offset)
        } else if tfhdFlags & defaultBaseIsMoof != 0 || previousDataEnd == nil {
            base = moof.offset
        } else {
            base = previousDataEnd!
        }
        var defaults = track.defaults
        if tfhdFlags & sampleDescriptionIndexPresent != 0 { defaults.descriptionIndex = try cursor.u32() }
        if tfhdFlags & defaultDurationPresent != 0 { defaults.duration = try cursor.u32("tfhd default_sample_duration") }
        if tfhdFlags & defaultSizePresent != 0 { defaults.size = try cursor.u32("tfhd default_sample_size") }
        if tfhdFlags & defaultFlagsPresent != 0 { defaults.flags = try cursor.u32("tfhd default_sample_flags") }

        var decodeTime = nextDecodeTime[trackID] ?? 0
        if let tfdt = MP4BoxReader.first("tfdt", in: parts) {
            var (version, _, tfdtCursor) = try MP4BoxReader.fullBox(tfdt, in: bytes)
            let time = version == 1 ? try tfdtCursor.u64("tfdt baseMediaDecodeTime") : UInt64(try tfdtCursor.u32("tfdt baseMediaDecodeTime"))
            guard time <= UInt64(Int64.max / 2) else {
                throw ContainerParseError(offset: tfdt.offset, message: "baseMediaDecodeTime \(time) is out of range")
            }
            decodeTime = Int64(time)
        }

        var samples: [MP4Sample] = []
        var dataPosition = base
        var dataEnd: Int?
        for trun in parts where trun.type == "trun" {
            var (version, flags, trunCursor) = try MP4BoxReader.fullBox(trun, in: bytes)
            let count = Int(try trunCursor.u32("trun sample_count"))
            if flags & dataOffsetPresent != 0 {
                let offset = Int(Int32(bitPattern: try trunCursor.u32("trun data_offset")))
                dataPosition = base + offset
            }
            var firstFlags: UInt32?
            if flags & firstSampleFlagsPresent != 0 { firstFlags = try trunCursor.u32("trun first_sample_flags") }
            let fields = [durationPresent, sizePresent, flagsPresent, compositionOffsetPresent].filter { flags & $0 != 0 }.count
            let fits = fields > 0 ? count <= trunCursor.remaining / (fields * 4) : count <= bytes.count
            guard fits else {
                throw ContainerParseError(offset: trun.offset, message: "trun says \(count) samples, more than its box or the data can hold")
            }
            samples.reserveCapacity(samples.count + count)
            for index in 0..<count {
                let duration = flags & durationPresent != 0 ? try trunCursor.u32("sample_duration") : defaults.duration
                let size = flags & sizePresent != 0 ? try trunCursor.u32("sample_size") : defaults.size
                var sampleFlags = flags & flagsPresent != 0 ? try trunCursor.u32("sample_flags") : defaults.flags
                if index == 0, let firstFlags { sampleFlags = firstFlags }
                var offset: Int64 = 0
                if flags & compositionOffsetPresent != 0 {
                    let raw = try trunCursor.u32("sample_composition_time_offset")
                    offset = version == 0 ? Int64(raw) : Int64(Int32(bitPattern: raw))
                }
                guard dataPosition >= 0, Int(size) <= bytes.count - min(dataPosition, bytes.count) else {
                    throw ContainerParseError(offset: trun.offset, message: "sample \(samples.count) of track \(trackID) runs past the end of the data")
                }
                samples.append(MP4Sample(decodeTime: decodeTime, duration: duration, compositionOffset: offset,
                                         size: Int(size), flags: sampleFlags, dataOffset: dataPosition))
                decodeTime += Int64(duration)
                dataPosition += Int(size)
            }
            dataEnd = dataPosition
        }
        nextDecodeTime[trackID] = decodeTime
        return (track, samples, dataEnd)
    }
}
