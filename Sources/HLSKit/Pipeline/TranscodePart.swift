/// What one pass over a source makes: everything, or one part of a transcode split by time
/// (`ChunkedTranscode`). The parts encode under a plan made once, so that their bytes fit together.
enum TranscodePart {
    /// The whole set (an ordinary transcode).
    case whole
    /// Nothing: decode up to the first video frame, to plan the split.
    case plan
    /// A time chunk of every video rendition: segments [first, end) (end nil: to the video's end),
    /// decoded from a pre-roll before `first`; no audio.
    case video(first: Int, end: Int?, plan: ResumePlan)
    /// Every audio rendition whole, the video skipped but for its last pictures (which say where
    /// it ends, where the audio is cut).
    case audio(plan: ResumePlan)

    /// The plan a part encodes under.
    var plan: ResumePlan? {
        switch self {
        case .whole, .plan: return nil
        case .video(_, _, let plan), .audio(let plan): return plan
        }
    }

    var isAudio: Bool {
        if case .audio = self { return true }
        return false
    }

    var encodesAudio: Bool {
        switch self {
        case .whole, .audio: return true
        case .plan, .video: return false
        }
    }
}
