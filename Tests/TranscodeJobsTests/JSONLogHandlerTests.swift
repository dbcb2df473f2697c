import Foundation
import Logging
import XCTest
@testable import TranscodeJobs

/// `--log-format json`: one JSON object per line, the fixed fields first, nothing forged.
final class JSONLogHandlerTests: XCTestCase {
    private func object(_ line: String) throws -> [String: Any] {
        XCTAssertTrue(line.hasSuffix("}\n"), line)
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1, "one line: \(line)")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    func testARecordIsOneObjectWithLevelMessageAndMetadata() throws {
        let line = JSONLogHandler.line(timestamp: Date(timeIntervalSince1970: 1_800_000_000.25), level: .warning, message: "job failed; retrying",
                                       label: "hlsify.worker", fixed: [("workerId", "w1")],
                                       metadata: ["jobId": "lecture-42", "attempt": "2", "sizes": .array(["1", "2"])])
        let record = try object(line)
        XCTAssertEqual(record["timestamp"] as? String, "2027-01-15T08:00:00.250Z")
        XCTAssertEqual(record["level"] as? String, "warning")
        XCTAssertEqual(record["message"] as? String, "job failed; retrying")
        XCTAssertEqual(record["workerId"] as? String, "w1")
        XCTAssertEqual(record["jobId"] as? String, "lecture-42")
        XCTAssertEqual(record["attempt"] as? String, "2")
        XCTAssertEqual(record["sizes"] as? [String], ["1", "2"])
        XCTAssertTrue(line.hasPrefix(#"{"timestamp":"#), line)
    }

    func testControlCharactersCannotForgeARecord() throws {
        let hostile = "a\"}\n{\"level\":\"critical\",\"message\":\"forged\u{0}\u{1B}\u{85}\u{2028}"
        let line = JSONLogHandler.line(timestamp: Date(), level: .info, message: hostile, label: "l", fixed: [],
                                       metadata: [hostile: .string(hostile)])
        let record = try object(line)
        XCTAssertEqual(record["message"] as? String, hostile)
        XCTAssertEqual(record["level"] as? String, "info")
        XCTAssertEqual(record[hostile] as? String, hostile)
        for scalar in line.unicodeScalars.dropLast() {
            XCTAssertFalse(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028, "raw \(scalar.value) in \(line)")
        }
    }

    func testMetadataReplacesAFixedFieldButNeverTheCoreOnes() throws {
        let record = try object(JSONLogHandler.line(timestamp: Date(), level: .info, message: "m", label: "l", fixed: [("workerId", "w1")],
                                                    metadata: ["workerId": "w2", "level": "fake", "message": "fake"]))
        XCTAssertEqual(record["workerId"] as? String, "w2")
        XCTAssertEqual(record["level"] as? String, "info")
        XCTAssertEqual(record["message"] as? String, "m")
        XCTAssertEqual(record["metadata.level"] as? String, "fake")
        XCTAssertEqual(record["metadata.message"] as? String, "fake")
    }

    func testTheHandlerMergesLoggerAndRecordMetadataAndSkipsLowerLevels() throws {
        let lines = LockedLines()
        var handler = JSONLogHandler(label: "t", fixed: [("workerId", "w")]) { lines.append($0) }
        handler.logLevel = .info
        handler[metadataKey: "jobId"] = "j"
        var logger = Logger(label: "t") { _ in handler }
        logger.logLevel = .info
        logger.debug("hidden")
        logger.info("shown", metadata: ["attempt": "1"])
        XCTAssertEqual(lines.all.count, 1)
        let record = try object(try XCTUnwrap(lines.all.first))
        XCTAssertEqual(record["jobId"] as? String, "j")
        XCTAssertEqual(record["attempt"] as? String, "1")
        XCTAssertEqual(record["message"] as? String, "shown")
    }
}

private final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
