import CFFmpeg

/// How much libav* itself prints on stderr. The engine reports problems through its own errors
/// and warnings, so the default is quiet.
public enum LibAVLogLevel: Sendable {
    case quiet, error, warning, info, debug

    var rawValue: Int32 {
        switch self {
        case .quiet: return AV_LOG_QUIET
        case .error: return AV_LOG_ERROR
        case .warning: return AV_LOG_WARNING
        case .info: return AV_LOG_INFO
        case .debug: return AV_LOG_DEBUG
        }
    }
}

public enum LibAVLog {
    /// Sets libav*'s process-wide log level (`av_log_set_level`).
    public static func setLevel(_ level: LibAVLogLevel) { av_log_set_level(level.rawValue) }
}
