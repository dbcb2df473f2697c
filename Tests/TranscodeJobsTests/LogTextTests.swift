import Logging
import XCTest
@testable import TranscodeJobs

final class LogTextTests: XCTestCase {
    func testControlCharactersAreEscaped() {
        XCTAssertEqual(LogText.escaped("plain-id_42.v2 ü"), "plain-id_42.v2 ü")
        XCTAssertEqual(LogText.escaped("a\nb\rc\td"), "a\\nb\\rc\\td")
        XCTAssertEqual(LogText.escaped("nul\u{0}here"), "nul\\u{0}here")
        XCTAssertEqual(LogText.escaped("esc\u{1B}[2J"), "esc\\u{1B}[2J")
        XCTAssertEqual(LogText.escaped("del\u{7F} nel\u{85} csi\u{9B} ls\u{2028}"), "del\\u{7F} nel\\u{85} csi\\u{9B} ls\\u{2028}")
        XCTAssertEqual(LogText.escaped("\u{A0}"), "\u{A0}", "U+00A0 is printable")
    }

    /// Records what reaches the inner handler.
    private final class Recorder: @unchecked Sendable {  // only touched from the test's thread
        var events: [LogEvent] = []
    }

    private struct RecordingHandler: LogHandler {
        let recorder: Recorder
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { recorder.events.append(event) }
    }

    private struct Forged: Error, CustomStringConvertible {
        var description: String { "bad\ninfo : job completed" }
    }

    func testTheHandlerEscapesMessageMetadataAndErrors() throws {
        let recorder = Recorder()
        var logger = Logger(label: "test") { _ in EscapingLogHandler(RecordingHandler(recorder: recorder)) }
        logger[metadataKey: "jobId"] = "x\n2026-12-02T00:00:00+0000 info worker : jobId=forged [TranscodeQueue] job completed"
        logger.info("job rejected\u{0}", error: Forged(),
                    metadata: ["error": "line1\nline2", "list": ["a\nb"], "nested": ["k\r": "v\u{85}"]])
        let event = try XCTUnwrap(recorder.events.first)
        XCTAssertEqual(event.message.description, "job rejected\\u{0}")
        let metadata = try XCTUnwrap(event.metadata)
        XCTAssertEqual(metadata["error"], .string("line1\\nline2"))
        XCTAssertEqual(metadata["list"], .array([.string("a\\nb")]))
        XCTAssertEqual(metadata["nested"], .dictionary(["k\\r": .string("v\\u{85}")]))
        XCTAssertEqual(metadata["error.message"], .string("bad\\ninfo : job completed"))
        XCTAssertNil(event.error, "the error reaches the inner handler as escaped metadata only")
        let handlerMetadata = logger.handler.metadata
        XCTAssertEqual(handlerMetadata["jobId"]?.description.contains("\n"), false)
        XCTAssertEqual(handlerMetadata["jobId"]?.description.hasPrefix("x\\n2026"), true)
    }
}
