/// Why an object-storage call failed. Messages are one line and name the address and the
/// server's error code, never a credential, a signature or a query string.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A malformed `s3://` address or a key that would leave its prefix.
    case invalidAddress(String)
    /// Missing or unusable settings (credentials, endpoint, region).
    case configuration(String)
    /// No such key or no such bucket (404).
    case notFound(String)
    /// The server refused the credentials or the request (401/403).
    case accessDenied(String)
    /// The object is larger than allowed.
    case tooLarge(String)
    /// Any other refusal (4xx): the request will not succeed as it is.
    case rejected(String)
    /// The server could not be reached or kept failing (5xx, connection errors, stalls) after
    /// every retry: a later attempt may succeed.
    case unavailable(String)
    /// A local file could not be read or written.
    case local(String)
    /// A conditional request's condition did not hold (412: the object exists already).
    case preconditionFailed(String)
    /// The output cannot be put in place: it exists (and may not be replaced) or its bucket is missing.
    case cannotPublish(String)
    /// The caller stopped the transfer.
    case cancelled

    public var description: String {
        switch self {
        case .invalidAddress(let message), .configuration(let message), .notFound(let message),
             .accessDenied(let message), .tooLarge(let message), .rejected(let message), .preconditionFailed(let message),
             .unavailable(let message), .local(let message), .cannotPublish(let message):
            return message
        case .cancelled: return "cancelled"
        }
    }

    /// True when the same call may succeed later (server errors, connection problems).
    public var isTransient: Bool {
        switch self {
        case .unavailable, .local: return true
        default: return false
        }
    }

    /// sysexits(3) code for the command line: 66 no such input, 77 access denied, 69 unavailable,
    /// 65 too large, 64 bad address or settings, 74 local I/O, 73 cannot publish, 130 cancelled, 76 other refusals.
    public var exitCode: Int32 {
        switch self {
        case .notFound: return 66
        case .accessDenied: return 77
        case .unavailable: return 69
        case .tooLarge: return 65
        case .invalidAddress, .configuration: return 64
        case .local: return 74
        case .rejected, .preconditionFailed: return 76
        case .cannotPublish: return 73
        case .cancelled: return 130
        }
    }
}
