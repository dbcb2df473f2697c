/// Makes segments muxed apart (time chunks) read as one stream: fMP4 fragment sequence numbers
/// continue from the first segment's, MPEG-TS continuity counters from the ones the first segment
/// ends with (PIDs not seen before keep theirs). A value, kept between calls (and, for a
/// progressive split job, on disk between publications).
struct StreamRenumbering: Codable, Equatable {
    /// fMP4: the sequence number the next fragment takes.
    var nextFragment: UInt32?
    /// MPEG-TS: per PID, the counter the next payload-carrying packet takes.
    var continuity: [UInt16: UInt8]?

    /// Renumbers the next segment of the stream, in place.
    /// - Throws: `ContainerParseError` when an fMP4 segment's boxes are broken.
    mutating func apply(_ bytes: inout [UInt8], format: SegmentFormat) throws {
        switch format {
        case .fmp4:
            let first = try nextFragment ?? FragmentSequence.numbers(in: bytes).first ?? 1
            nextFragment = try FragmentSequence.renumber(&bytes, from: first)
        case .ts:
            guard let next = continuity else {
                continuity = TSContinuity.counters(after: bytes)
                return
            }
            var running = TSContinuity(next: next)
            bytes.withUnsafeMutableBufferPointer { running.rewrite($0) }
            continuity = running.next
        }
    }
}
