/// Collects what a segmenter reports about one rendition: when each segment's media starts and
/// ends (from the packets' own timestamps) and how many bytes its file holds, then turns that into
/// `SegmentRecord`s with measured durations.
public struct SegmentLog: Sendable {
    private struct Entry: Sendable {
        var start: Double
        var end: Double
        var bytes: Int?
        var uri: String?
    }

    private var entries: [Int: Entry] = [:]

    public init() {}

    /// Notes a packet presented at `start` seconds for `duration` seconds in segment `index`.
    public mutating func addMedia(segment index: Int, start: Double, duration: Double) {
        let end = start + max(0, duration)
        if var entry = entries[index] {
            entry.start = min(entry.start, start)
            entry.end = max(entry.end, end)
            entries[index] = entry
        } else {
            entries[index] = Entry(start: start, end: end, bytes: nil, uri: nil)
        }
    }

    /// Notes that segment `index` is written as `uri` with `bytes` bytes.
    public mutating func addFile(segment index: Int, uri: String, bytes: Int) {
        var entry = entries[index] ?? Entry(start: 0, end: 0, bytes: nil, uri: nil)
        entry.bytes = bytes
        entry.uri = uri
        entries[index] = entry
    }

    /// The record of a segment whose file is complete and whose successor has started (so its
    /// duration is known); nil otherwise. For progressive publishing, while later segments are
    /// still being written.
    public func closedRecord(_ index: Int) -> SegmentRecord? {
        guard let entry = entries[index], let bytes = entry.bytes,
              let next = entries[index + 1] ?? entries.filter({ $0.key > index }).min(by: { $0.key < $1.key })?.value
        else { return nil }
        return SegmentRecord(index: index, uri: entry.uri ?? "", duration: max(0, next.start - entry.start),
                             byteSize: bytes, startTime: entry.start)
    }

    /// Start of segment `index`'s media in seconds, if any was seen.
    public func startTime(of index: Int) -> Double? { entries[index]?.start }

    /// Indices of segments whose files are complete, ascending.
    public var completedIndices: [Int] { entries.filter { $0.value.bytes != nil }.keys.sorted() }

    /// Segment records, in order, for the segments whose files are complete. A segment's duration
    /// runs to the start of the next one; the last one's to the end of its media.
    public func records() -> [SegmentRecord] {
        let indices = completedIndices
        return indices.enumerated().map { position, index in
            let entry = entries[index]!
            let end: Double
            if position + 1 < indices.count, let next = entries[indices[position + 1]] {
                end = next.start
            } else if let next = entries[index + 1] {
                end = next.start
            } else {
                end = entry.end
            }
            return SegmentRecord(index: index, uri: entry.uri ?? "", duration: max(0, end - entry.start),
                                 byteSize: entry.bytes ?? 0, startTime: entry.start)
        }
    }

    /// End of the last media seen, in seconds.
    public var mediaEnd: Double { entries.values.map(\.end).max() ?? 0 }
}
