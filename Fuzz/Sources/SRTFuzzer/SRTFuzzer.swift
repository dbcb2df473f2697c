// libFuzzer entry point: feeds each input to SRTParser and checks what it accepts.
// libFuzzer supplies main(); built with -sanitize=fuzzer -parse-as-library (see ../../run.sh).
import HLSCore

@_cdecl("LLVMFuzzerTestOneInput")
public func srtFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let result = try? SRTParser().parse(bytes) else { return 0 }
    // Whatever was accepted must be valid WebVTT that reads back as the same cues.
    let sorted = result.cues.enumerated()
        .sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }
        .map(\.element)
    for cue in sorted {
        precondition(cue.start >= 0 && cue.start <= cue.end, "bad cue times \(cue)")
        precondition(!cue.text.contains("-->"), "arrow left in cue text \(cue)")
    }
    guard let reread = try? WebVTTParser().parse(text: WebVTTWriter().render(sorted)) else {
        preconditionFailure("our own WebVTT did not parse")
    }
    precondition(reread.cues == sorted, "WebVTT round trip changed the cues")
    return 0
}
