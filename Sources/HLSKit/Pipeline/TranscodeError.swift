/// Why a transcode did not produce an output. Each case maps to a sysexits code for the command line.
public enum TranscodeError: Error, CustomStringConvertible, Sendable {
    /// The input file does not exist or cannot be read.
    case inputMissing(String)
    /// The input is not usable media (not a container, no video stream, undecodable).
    case invalidInput(String)
    /// The output folder exists and overwriting was not asked for.
    case outputExists(String)
    /// The output or staging folder could not be created.
    case cannotCreateOutput(String)
    /// Reading or writing failed (disk full, I/O error).
    case io(String)
    /// The wall-clock time limit passed: the input stalls, or the machine is far too slow for it.
    case timeLimit(String)
    /// The task was cancelled; nothing was left at the output path.
    case cancelled
    /// A libav call failed in a way that is not the input's fault.
    case engine(LibAVError)

    /// The message: one line naming the file and the reason (`cancelled` for ``cancelled``, the
    /// libav call and its reason for ``engine(_:)``), as the command line prints it after `hlsify: `.
    public var description: String {
        switch self {
        case .inputMissing(let message), .invalidInput(let message), .outputExists(let message),
             .cannotCreateOutput(let message), .io(let message), .timeLimit(let message):
            return message
        case .cancelled:
            return "cancelled"
        case .engine(let error):
            return error.description
        }
    }

    /// sysexits(3) code: 66 input missing, 65 bad data (and inputs rejected by the time limit), 73 cannot create output, 74 I/O, 70 internal, 130 cancelled.
    public var exitCode: Int32 {
        switch self {
        case .inputMissing: return 66
        case .invalidInput, .timeLimit: return 65
        case .outputExists, .cannotCreateOutput: return 73
        case .io: return 74
        case .cancelled: return 130
        case .engine: return 70
        }
    }
}

extension TranscodeError {
    /// The same error with `path` written as `shown` in its message: the engine names the paths
    /// it was given (a worker's `/proc/self/fd/N`, a spooled copy of an object), the caller's
    /// reader knows the input by another name.
    public func naming(_ path: String, as shown: String) -> TranscodeError {
        func mapped(_ text: String) -> String { text.replacingOccurrences(of: path, with: shown) }
        switch self {
        case .inputMissing(let text): return .inputMissing(mapped(text))
        case .invalidInput(let text): return .invalidInput(mapped(text))
        case .outputExists(let text): return .outputExists(mapped(text))
        case .cannotCreateOutput(let text): return .cannotCreateOutput(mapped(text))
        case .io(let text): return .io(mapped(text))
        case .timeLimit(let text): return .timeLimit(mapped(text))
        case .cancelled, .engine: return self
        }
    }
}
