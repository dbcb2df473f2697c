import CFFmpeg

/// A failed libav* call: which function failed, its return code and libav's own explanation.
public struct LibAVError: Error, CustomStringConvertible, Sendable {
    /// The C function that failed, e.g. `avcodec_open2`.
    public let call: String
    /// The negative AVERROR code (0 when the failure was a NULL allocation).
    public let code: Int32
    /// `av_strerror` text, or a description of what was missing.
    public let reason: String

    init(call: String, code: Int32) {
        self.call = call
        self.code = code
        self.reason = LibAVError.describe(code)
    }

    init(call: String, reason: String) {
        self.call = call
        self.code = 0
        self.reason = reason
    }

    /// `CALL failed: REASON`, e.g. `avcodec_open2 failed: Invalid argument`.
    public var description: String { "\(call) failed: \(reason)" }

    /// True for AVERROR_INVALIDDATA and friends: the input bytes, not the machine, are at fault.
    public var isInvalidData: Bool {
        code == hlsify_averror_invaliddata() || code == hlsify_averror(EILSEQ)
    }

    static func describe(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        if av_strerror(code, &buffer, buffer.count) < 0 {
            return "unknown error \(code)"
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func allocation(_ call: String) -> LibAVError {
        LibAVError(call: call, reason: "out of memory")
    }
}

/// Throws a `LibAVError` naming `call` when `result` is negative; returns it otherwise.
@discardableResult
func check(_ result: Int32, _ call: @autoclosure () -> String) throws -> Int32 {
    if result < 0 { throw LibAVError(call: call(), code: result) }
    return result
}

let averrorEOF = hlsify_averror_eof()
let averrorEAGAIN = hlsify_averror_eagain()
let noPTS = hlsify_nopts()
