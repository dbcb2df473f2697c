import CFFmpeg
import Foundation

extension SegmentFormat {
    /// File name extension of the media segments: `m4s` or `ts`.
    var segmentExtension: String { self == .fmp4 ? "m4s" : "ts" }

    /// The libavformat muxer that writes this format.
    var muxerName: String { self == .fmp4 ? "mp4" : "mpegts" }

    /// True when the muxer wants codec headers out of band (`AVFMT_GLOBALHEADER`: avcC in the
    /// init section) rather than repeated in the stream, as libavformat says for the muxer.
    var muxerWantsGlobalHeader: Bool {
        guard let muxer = av_guess_format(muxerName, nil, nil) else { return false }
        return muxer.pointee.flags & AVFMT_GLOBALHEADER != 0
    }
}

/// A segment file the writer closed: committed under its name, or (for one an earlier run
/// committed) compared with that one.
struct WrittenSegment: Equatable {
    var index: Int
    var name: String
    var bytes: Int
    var sha256: String
    /// The first packet's presentation timestamp, in the stream's time base.
    var firstPTS: Int64
    /// The last packet's presentation timestamp (the latest in the segment), same time base.
    var lastPTS: Int64
    /// Packets in the segment.
    var packets: Int
    /// The stream's last segment.
    var isLast: Bool
    /// An earlier run committed this file and this one came out the same (nothing was written).
    var isVerified: Bool
}

/// Muxes one encoded stream into numbered segment files with libavformat, cutting where the caller says.
///
/// Knows nothing of HLS: it reports each finished segment's file name, size and hash. Every file
/// is committed durably (`FileSink`); one an earlier run already committed (`committed`) is
/// compared with it instead, and a difference throws `ResumeMismatch`. Owns the `OutputContext`
/// (the `AVFormatContext` and its custom `AVIOContext`) and the sink behind it.
final class SegmentWriter {
    static let initName = "init.mp4"

    let format: SegmentFormat
    let directory: URL
    private let sink: FileSink
    /// Made before anything that can throw in init, so a failed init frees it too.
    private let output: OutputContext
    private var context: UnsafeMutablePointer<AVFormatContext> { output.pointer }
    private let stream: UnsafeMutablePointer<AVStream>
    private let encoderTimeBase: AVRational
    private(set) var currentSegment: Int?
    /// fMP4 only: the mov muxer (fragmented, no edit list) puts the first sample's decode time at
    /// its presentation time, delaying the whole track by the encoder's reorder delay. Subtracting
    /// that delay up front keeps presentation times exactly as given.
    private var reorderDelay: Int64?
    private let held: Packet
    private var heldSegment: Int?
    /// fMP4 video: every keyframe starts a fragment. (Not audio, where every packet is a keyframe.)
    private let fragmentAtKeyframes: Bool
    /// The fragment being written holds a sample already.
    private var fragmentHasSamples = false
    private var finished = false
    /// SHA-256 of files an earlier run committed, by segment index (`JournalEntry.initIndex` for the init section).
    private let committed: [Int: String]
    private var segmentFirstPTS: Int64 = 0
    private var segmentLastPTS: Int64 = 0
    private var segmentPackets = 0
    /// The init section (fMP4), as committed or compared.
    private(set) var initFile: FileSink.Written?
    /// Called when a segment file is complete and closed.
    var onSegment: ((WrittenSegment) throws -> Void)?

    /// Creates the muxer for `encoder`'s stream and writes the header (the init section for fMP4).
    /// - Parameters:
    ///   - committed: SHA-256 of the files an earlier run committed, by index: these are compared, not written.
    ///   - firstFragment: fMP4: the sequence number of the first fragment (after the fragments of
    ///     the segments a resumed run keeps).
    ///   - continuity: MPEG-TS: the continuity counters the kept segments end with (`TSContinuity`).
    ///   - language: the stream's language (BCP 47), written as its ISO 639-2 code; `describesVideo`
    ///     marks it an audio description (disposition `visual_impaired`).
    /// - Throws: `LibAVError` naming the libavformat call, `SinkError` for file failures,
    ///   `ResumeMismatch` when the init section differs from the committed one.
    init(format: SegmentFormat, directory: URL, encoder: MediaEncoder, committed: [Int: String] = [:],
         firstFragment: Int? = nil, continuity: [UInt16: UInt8]? = nil, language: String? = nil, describesVideo: Bool = false) throws {
        self.format = format
        self.directory = directory
        self.encoderTimeBase = encoder.timeBase
        self.committed = committed
        sink = try FileSink()
        if format == .ts, let continuity { sink.continuity = TSContinuity(next: continuity) }
        held = try Packet()
        output = try OutputContext(formatName: format.muxerName,
                                   opaque: Unmanaged.passUnretained(sink).toOpaque(), write: fileSinkWrite)
        let context = output.pointer
        guard let stream = avformat_new_stream(context, nil) else {
            throw LibAVError.allocation("avformat_new_stream")
        }
        self.stream = stream
        try check(avcodec_parameters_from_context(stream.pointee.codecpar, encoder.context), "avcodec_parameters_from_context")
        if let code = language.flatMap(LanguageTag.alpha3) {
            try check(av_dict_set(&stream.pointee.metadata, "language", code, 0), "av_dict_set(language)")
        }
        if describesVideo { stream.pointee.disposition |= AV_DISPOSITION_VISUAL_IMPAIRED }
        fragmentAtKeyframes = format == .fmp4 && stream.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO
        stream.pointee.time_base = encoder.timeBase

        var options: OpaquePointer?
        defer { av_dict_free(&options) }
        if format == .fmp4 {
            // frag_custom: we cut fragments; frag_discont + use_editlist keep our timestamps as given,
            // so audio and video segments written by separate muxers stay in sync.
            av_dict_set(&options, "movflags", "+frag_custom+empty_moov+default_base_moof+skip_trailer+frag_discont", 0)
            av_dict_set(&options, "use_editlist", "1", 0)
            if let firstFragment { av_dict_set(&options, "fragment_index", "\(firstFragment)", 0) }
            try sink.open(directory.appendingPathComponent(Self.initName).path)
        } else {
            if stream.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO {
                // Let the TS muxer pack up to 0.7 s of AAC frames into one PES (as the ffmpeg
                // command line does) instead of one frame per PES, which doubles a 64 kb/s
                // stream; mpegts_copyts keeps it from shifting timestamps by that delay.
                context.pointee.max_delay = 700_000
                av_dict_set(&options, "mpegts_copyts", "1", 0)
            }
            try startSegment(0)
        }
        try check(avformat_write_header(context, &options), "avformat_write_header")
        if format == .fmp4 {
            avio_flush(context.pointee.pb)
            initFile = try close(index: JournalEntry.initIndex, name: Self.initName)
        }
    }

    /// Closes the sink's file: committed, or compared with the committed one when there is one.
    private func close(index: Int, name: String) throws -> FileSink.Written {
        guard let expected = committed[index] else { return try sink.commit(segment: index != JournalEntry.initIndex) }
        let written = try sink.discard()
        guard written.sha256 == expected else {
            throw ResumeMismatch("\(directory.lastPathComponent)/\(name) came out different from the one committed before")
        }
        return written
    }

    /// The time base packets must be rescaled to (known after the header is written).
    var streamTimeBase: AVRational { stream.pointee.time_base }

    func segmentName(_ index: Int) -> String {
        String(format: "segment-%05d.%@", index, format.segmentExtension)
    }

    private func startSegment(_ index: Int) throws {
        try sink.open(directory.appendingPathComponent(segmentName(index)).path)
        currentSegment = index
        fragmentHasSamples = false
        segmentPackets = 0
        if format == .ts, index > 0 {
            // Every TS segment starts with PAT/PMT so it can be decoded on its own.
            av_opt_set(context.pointee.priv_data, "mpegts_flags", "resend_headers", 0)
        }
    }

    private func endSegment() throws {
        guard let index = currentSegment else { return }
        try check(av_write_frame(context, nil), "av_write_frame(flush)")
        avio_flush(context.pointee.pb)
        try closeSegment(index, last: false)
    }

    private func closeSegment(_ index: Int, last: Bool) throws {
        let name = segmentName(index)
        let written = try close(index: index, name: name)
        currentSegment = nil
        try onSegment?(WrittenSegment(index: index, name: name, bytes: written.bytes, sha256: written.sha256,
                                      firstPTS: segmentFirstPTS, lastPTS: segmentLastPTS, packets: segmentPackets, isLast: last,
                                      isVerified: committed[index] != nil))
    }

    /// Writes `packet` (timestamps in the encoder's time base) into segment `segment`, closing the
    /// current segment first when `segment` is a new one. Segment numbers only grow.
    ///
    /// Each packet is held back until the next one arrives, so its duration can be set to the real
    /// distance between their decode times: the mov muxer takes the last sample of a fragment at
    /// its stated duration, and a wrong one would move the next fragment's first frame.
    func write(_ packet: Packet, segment: Int) throws {
        packet.pointer.pointee.stream_index = 0
        av_packet_rescale_ts(packet.pointer, encoderTimeBase, stream.pointee.time_base)
        if format == .fmp4 {
            let pts = packet.pointer.pointee.pts, dts = packet.pointer.pointee.dts
            if reorderDelay == nil { reorderDelay = (pts != noPTS && dts != noPTS) ? max(0, pts - dts) : 0 }
            if let delay = reorderDelay, delay > 0 {
                if pts != noPTS { packet.pointer.pointee.pts = pts - delay }
                if dts != noPTS { packet.pointer.pointee.dts = dts - delay }
            }
        }
        if let heldSegment {
            let gap = packet.pointer.pointee.dts - held.pointer.pointee.dts
            if packet.pointer.pointee.dts != noPTS, held.pointer.pointee.dts != noPTS, gap > 0 {
                held.pointer.pointee.duration = gap
            }
            try emit(held, segment: heldSegment)
        }
        held.unref()
        av_packet_move_ref(held.pointer, packet.pointer)
        heldSegment = segment
    }

    /// Writes one packet. In fMP4 video every keyframe starts a fragment (moof + mdat) of its own,
    /// also inside a segment, so that an I-frame playlist entry (moof through the keyframe's sample)
    /// holds that one frame and nothing before it.
    private func emit(_ packet: Packet, segment: Int) throws {
        if currentSegment != segment, currentSegment != nil, segmentPackets == 0 {
            // TS opens segment 0 with the header; a resumed stream's first packet is in a later one.
            try sink.rename(to: directory.appendingPathComponent(segmentName(segment)).path)
            currentSegment = segment
        } else if currentSegment != segment {
            if currentSegment != nil { try endSegment() }
            try startSegment(segment)
        } else if fragmentAtKeyframes, packet.isKeyframe, fragmentHasSamples {
            try check(av_write_frame(context, nil), "av_write_frame(fragment)")
            fragmentHasSamples = false
        }
        if segmentPackets == 0 {
            segmentFirstPTS = packet.pts
            segmentLastPTS = packet.pts
        }
        segmentLastPTS = max(segmentLastPTS, packet.pts)
        segmentPackets += 1
        try check(av_write_frame(context, packet.pointer), "av_write_frame")
        fragmentHasSamples = true
        if let failure = sink.failure { throw SinkError(errno: failure.errno, operation: "write", path: failure.path) }
    }

    /// Flushes the last segment and the trailer. Call once, after the last packet.
    func finish() throws {
        guard !finished else { return }
        finished = true
        if let heldSegment {
            try emit(held, segment: heldSegment)
            held.unref()
            self.heldSegment = nil
        }
        if currentSegment == nil { return }
        if segmentPackets == 0 {
            // Nothing written after the header (a resumed stream whose every segment was kept, a
            // time chunk past the video's end): TS opened a file with the header; it is not a segment.
            _ = try sink.discard()
            currentSegment = nil
            return
        }
        try check(av_write_frame(context, nil), "av_write_frame(flush)")
        try check(av_write_trailer(context), "av_write_trailer")
        avio_flush(context.pointee.pb)
        try closeSegment(currentSegment!, last: true)
    }
}
