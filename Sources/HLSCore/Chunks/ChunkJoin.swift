/// Why committed chunks cannot be stitched into one stream.
public struct ChunkJoinError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The checks and arithmetic of a stitch, on values only: one rendition's parts from the video
/// chunks, in chunk order, become one run of segments.
public enum ChunkJoin {
    /// One chunk's share of a rendition.
    public struct Part: Sendable {
        public var chunk: String
        public var firstSegment: Int
        public var endSegment: Int?
        public var segments: [ChunkManifest.Segment]

        public init(chunk: String, firstSegment: Int, endSegment: Int?, segments: [ChunkManifest.Segment]) {
            self.chunk = chunk
            self.firstSegment = firstSegment
            self.endSegment = endSegment
            self.segments = segments
        }
    }

    /// The rendition's segments, in order, each one's duration running to the next one's start (as
    /// an unsplit run measures them; the last keeps its own, to the end of its media).
    ///
    /// - Throws: `ChunkJoinError` when a part does not hold exactly its segments [first, end) with
    ///   contiguous indices (a part may end early, and the parts after it be empty, when the video
    ///   ends before the plan's estimate), or when a join has a gap or an overlap in time larger than
    ///   half a frame.
    public static func join(rendition: String, parts: [Part]) throws(ChunkJoinError) -> [ChunkManifest.Segment] {
        var joined: [ChunkManifest.Segment] = []
        var endedEarly: String?
        for part in parts {
            let segments = part.segments
            guard let first = segments.first else {
                if joined.isEmpty { throw ChunkJoinError("\(rendition): chunk \(part.chunk) holds no segment") }
                endedEarly = endedEarly ?? part.chunk
                continue
            }
            if let endedEarly {
                throw ChunkJoinError("\(rendition): chunk \(part.chunk) holds segments after chunk \(endedEarly) ended short")
            }
            guard first.index == part.firstSegment else {
                throw ChunkJoinError("\(rendition): chunk \(part.chunk) starts at segment \(first.index), not \(part.firstSegment)")
            }
            for (previous, next) in zip(segments, segments.dropFirst()) where next.index != previous.index + 1 {
                throw ChunkJoinError("\(rendition): chunk \(part.chunk) skips from segment \(previous.index) to \(next.index)")
            }
            let last = segments[segments.count - 1].index
            if let end = part.endSegment {
                guard last < end else {
                    throw ChunkJoinError("\(rendition): chunk \(part.chunk) runs to segment \(last), past its end \(end - 1)")
                }
                if last < end - 1 { endedEarly = part.chunk }
            }
            if let previous = joined.last {
                try checkJoin(rendition: rendition, before: previous, after: first, chunk: part.chunk)
            }
            joined += segments
        }
        return measuredToNextStart(joined)
    }

    /// `segments` (in order) with each one's duration running to the next one's start, as an
    /// unsplit run measures them; the last keeps its own.
    public static func measuredToNextStart(_ segments: [ChunkManifest.Segment]) -> [ChunkManifest.Segment] {
        var measured = segments
        for position in measured.indices.dropLast() {
            measured[position].duration = max(0, measured[position + 1].start - measured[position].start)
        }
        return measured
    }

    /// The end of the segment before a join against the start of the one after it: within half of
    /// the earlier segment's mean frame duration.
    static func checkJoin(rendition: String, before: ChunkManifest.Segment, after: ChunkManifest.Segment,
                          chunk: String) throws(ChunkJoinError) {
        let end = before.start + before.duration
        let tolerance = 0.5 * before.duration / Double(max(1, before.frames))
        let gap = after.start - end
        if gap > tolerance {
            throw ChunkJoinError(formatted(rendition, chunk, "a gap of", gap))
        }
        if gap < -tolerance {
            throw ChunkJoinError(formatted(rendition, chunk, "an overlap of", -gap))
        }
    }

    private static func formatted(_ rendition: String, _ chunk: String, _ what: String, _ seconds: Double) -> String {
        let milliseconds = (seconds * 1000).rounded()
        return "\(rendition): chunk \(chunk) joins the one before with \(what) \(Int(milliseconds)) ms"
    }

    /// The one init section every chunk of a rendition wrote (they must be the same bytes), or nil
    /// when none has one (MPEG-TS).
    public static func commonInit(rendition: String, _ sections: [(chunk: String, section: ChunkManifest.File?)])
        throws(ChunkJoinError) -> ChunkManifest.File? {
        guard let first = sections.first else { return nil }
        for (chunk, section) in sections.dropFirst() where section?.sha256 != first.section?.sha256 {
            throw ChunkJoinError("\(rendition): chunk \(chunk)'s init section differs from chunk \(first.chunk)'s")
        }
        return first.section
    }
}
