import CFFmpeg

/// How much libav* itself prints on stderr. The engine reports problems through its own errors
/// and warnings, so the commands and the worker set ``quiet`` (`hlsify --verbose`: ``warning``);
/// until ``LibAVLog/setLevel(_:)`` is called, libav*'s own default (``info``) applies.
public enum LibAVLogLevel: Sendable {
    /// A libav* level, quietest first: `quiet` nothing (`AV_LOG_QUIET`), `error` errors only,
    /// `warning` errors and warnings (damaged packets, odd streams), `info` libav*'s own default,
    /// `debug` everything (very verbose).
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

/// libav*'s logging, which is process-wide: one setting for every transcode in the process.
public enum LibAVLog {
    /// Sets libav*'s process-wide log level (`av_log_set_level`).
    public static func setLevel(_ level: LibAVLogLevel) { av_log_set_level(level.rawValue) }
}
