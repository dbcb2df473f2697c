/// The holes of a source's video cut out of its timeline (`--collapse-gaps`): a piecewise map
/// from the source's clock to the output's, in which every time after a cut moves back by the
/// length of the cuts before it, and times inside a cut have no place.
///
/// Units are whatever the caller measures in (a stream's ticks, microseconds, milliseconds); the
/// cuts and the times mapped must share them. Cuts are half-open, `[start, end)`, sorted and
/// merged on creation. Lookups cost O(log cuts).
public struct GapCollapse: Sendable, Equatable {
    /// A stretch of the source's clock with no video: from the end of the frame before the hole
    /// to the frame after it.
    public struct Cut: Sendable, Equatable {
        public var start: Int64
        public var end: Int64

        public init(start: Int64, end: Int64) {
            self.start = start
            self.end = end
        }

        public var length: Int64 { end - start }
    }

    /// The cuts, sorted, none empty, none overlapping.
    public let cuts: [Cut]
    /// `removedBefore[k]`: the total length of the cuts before cut `k`.
    private let removedBefore: [Int64]

    public init(cuts: [Cut]) {
        var merged: [Cut] = []
        for cut in cuts.filter({ $0.end > $0.start }).sorted(by: { $0.start < $1.start }) {
            if let last = merged.last, cut.start <= last.end {
                merged[merged.count - 1].end = max(last.end, cut.end)
            } else {
                merged.append(cut)
            }
        }
        self.cuts = merged
        var total: Int64 = 0
        removedBefore = merged.map { cut in
            defer { total += cut.length }
            return total
        }
    }

    /// Whether nothing is cut.
    public var isEmpty: Bool { cuts.isEmpty }

    /// The length of every cut together.
    public var removed: Int64 { cuts.last.map { removedBefore[removedBefore.count - 1] + $0.length } ?? 0 }

    /// How far `time` moves back, or nil when it lies inside a cut.
    public func shift(at time: Int64) -> Int64? {
        guard let index = lastCut(startingAtOrBefore: time) else { return 0 }
        let cut = cuts[index]
        if time < cut.end { return nil }
        return removedBefore[index] + cut.length
    }

    /// `time` on the output's clock, or nil when it lies inside a cut.
    public func map(_ time: Int64) -> Int64? {
        shift(at: time).map { time - $0 }
    }

    /// `time` on the output's clock; a time inside a cut goes to the cut's place (where what
    /// follows the cut now starts).
    public func clampedMap(_ time: Int64) -> Int64 {
        if let mapped = map(time) { return mapped }
        let index = lastCut(startingAtOrBefore: time)!
        return cuts[index].start - removedBefore[index]
    }

    /// The same cuts in another unit or origin (`convert` must keep order).
    public func converted(_ convert: (Int64) -> Int64) -> GapCollapse {
        GapCollapse(cuts: cuts.map { Cut(start: convert($0.start), end: convert($0.end)) })
    }

    /// Where each cut lands on the output's clock (its start, mapped) and how long it was.
    public var places: [(at: Int64, length: Int64)] {
        zip(cuts, removedBefore).map { cut, before in (cut.start - before, cut.length) }
    }

    /// The index of the last cut whose start is at or before `time`.
    private func lastCut(startingAtOrBefore time: Int64) -> Int? {
        var low = 0, high = cuts.count
        while low < high {
            let middle = (low + high) / 2
            if cuts[middle].start <= time { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : low - 1
    }
}

extension GapCollapse {
    /// A video frame's presentation time and duration, in the stream's ticks.
    public struct FrameTime: Sendable, Equatable {
        public var time: Int64
        public var duration: Int64

        public init(time: Int64, duration: Int64) {
            self.time = time
            self.duration = duration
        }
    }

    /// The holes between a video's frames (in any order), by the rule that fills them when they
    /// are kept: the next frame more than two nominal frame durations after the last, and the
    /// hole (from the last frame's end, counted as at most `nominalDuration`, to the next frame)
    /// at least `minimumHole` long.
    public static func holes(in frames: [FrameTime], nominalDuration: Int64, minimumHole: Int64) -> GapCollapse {
        let sorted = frames.sorted { $0.time < $1.time }
        var cuts: [Cut] = []
        for (last, next) in zip(sorted, sorted.dropFirst()) {
            let nominal = min(last.duration > 0 ? last.duration : nominalDuration, nominalDuration)
            guard next.time - last.time > 2 * nominal else { continue }
            let start = last.time + nominal
            if next.time - start >= minimumHole { cuts.append(Cut(start: start, end: next.time)) }
        }
        return GapCollapse(cuts: cuts)
    }

    /// Subtitle cues (milliseconds, the same clock as the cuts) on the output's clock: a cue
    /// inside a cut is left out, one across a cut's edge keeps the part outside it.
    public func mapping(_ cues: [SubtitleCue]) -> [SubtitleCue] {
        cues.compactMap { cue in
            let start = clampedMap(Int64(cue.start)), end = clampedMap(Int64(cue.end))
            guard end > start else { return nil }
            var moved = cue
            moved.start = Int(start)
            moved.end = Int(end)
            return moved
        }
    }

    /// Chapters (seconds from the first frame; the cuts in microseconds from the first frame) on
    /// the output's clock: a chapter starting inside a cut starts where the cut was; of chapters
    /// then starting together, the last is kept (its content is what plays from there); a
    /// chapter whose stated end falls inside the same cut is left out.
    public func mapping(_ chapters: [Chapter]) -> [Chapter] {
        let seconds = { (value: Double) in Double(self.clampedMap(Int64((value * 1_000_000).rounded()))) / 1_000_000 }
        let moved = chapters.map { chapter in
            Chapter(start: seconds(chapter.start), end: chapter.end.map(seconds), title: chapter.title)
        }.filter { chapter in chapter.end.map { $0 > chapter.start } ?? true }
        return moved.enumerated().filter { index, chapter in
            index + 1 == moved.count || moved[index + 1].start > chapter.start
        }.map(\.element)
    }
}
