/// A resumed transcode met a file that does not come out as the earlier run committed it (an
/// init section, an audio segment): the engine drops what was committed and starts afresh.
struct ResumeMismatch: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
