/// Container of the media segments. The raw values are the wire and command-line names
/// (`"fmp4"`, `"ts"`), used by the job contract and the reports.
public enum SegmentFormat: String, Sendable, Codable, CaseIterable {
    /// Fragmented MP4 (CMAF-style): an init section `init.mp4` plus `.m4s` fragments.
    case fmp4
    /// MPEG-2 transport stream `.ts` segments, each starting with PAT/PMT.
    case ts
}
