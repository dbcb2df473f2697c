/// Where a preview's files come from: a folder (`StaticFiles`), or anything else that hands over
/// a file's bytes by its path (the command line's bucket reader).
public protocol PreviewContent: Sendable {
    /// The file `path` names (already free of `.`, `..` and hidden components, see `RequestPath`).
    func fetch(_ path: RequestPath) -> PreviewLookup
}

/// What a lookup found.
public enum PreviewLookup {
    case file(OpenFile)
    case bytes([UInt8])
    case notFound
    case forbidden
    /// The place the files are kept in did not answer (503 with the reason).
    case unavailable(String)
}

extension StaticFiles: PreviewContent {
    public func fetch(_ path: RequestPath) -> PreviewLookup {
        switch open(path) {
        case .file(let file): return .file(file)
        case .notFound: return .notFound
        case .forbidden: return .forbidden
        }
    }
}
