import Foundation
import XCTest
@testable import HLSKit

/// `SubtitleFile.read`: bounded, regular files only, errors that name the file and the rule.
final class SubtitleFileTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("hlsify-subtitle-file-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func file(_ name: String, bytes: Int) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try Data(repeating: UInt8(ascii: "a"), count: bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func assertRejected(_ path: String, maxBytes: Int, mentions words: [String],
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SubtitleFile.read(path, maxBytes: maxBytes), file: file, line: line) { error in
            guard case TranscodeError.invalidInput(let message) = error else {
                return XCTFail("expected invalidInput, got \(error)", file: file, line: line)
            }
            XCTAssertTrue(message.hasPrefix("\(path): rejected: "), message, file: file, line: line)
            XCTAssertFalse(message.contains("\n"), "one line: \(message)", file: file, line: line)
            for word in words { XCTAssertTrue(message.contains(word), "\(word) missing in: \(message)", file: file, line: line) }
            XCTAssertEqual((error as? TranscodeError)?.exitCode, 65, file: file, line: line)
        }
    }

    func testAFileUpToTheLimitIsReadWhole() throws {
        XCTAssertEqual(try SubtitleFile.read(try file("exact.srt", bytes: 1000), maxBytes: 1000).count, 1000)
        XCTAssertEqual(try SubtitleFile.read(try file("empty.srt", bytes: 0), maxBytes: 1000).count, 0)
        // Larger than one read chunk.
        XCTAssertEqual(try SubtitleFile.read(try file("big.srt", bytes: 300_000), maxBytes: 300_000).count, 300_000)
    }

    func testOneByteOverTheLimitIsRefusedNamingFileAndLimit() throws {
        assertRejected(try file("over.srt", bytes: 1001), maxBytes: 1000, mentions: ["1001 bytes", "limit of 1000 bytes"])
    }

    func testASparseFileOverTheDefaultIsRefusedWithoutReadingIt() throws {
        let path = folder.appendingPathComponent("sparse.srt").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        XCTAssertEqual(truncate(path, off_t(InputLimits.defaultMaxSubtitleBytes + 1)), 0)
        assertRejected(path, maxBytes: InputLimits.defaultMaxSubtitleBytes, mentions: ["10485761 bytes", "(10 MiB)"])
        XCTAssertEqual(InputLimits().maxSubtitleBytes, 10 << 20)
    }

    func testAFIFOIsRefusedWithoutWaitingForAWriter() throws {
        let path = folder.appendingPathComponent("pipe.srt").path
        XCTAssertEqual(mkfifo(path, 0o600), 0, String(cString: strerror(errno)))
        // Nobody opens the FIFO for writing, so a blocking open or read would never return: read
        // on another thread and, should it still be waiting after 20 s, fail and release it.
        let done = DispatchSemaphore(value: 0)
        let lock = NSLockLite()
        nonisolated(unsafe) var failure: Error?
        Thread.detachNewThread {
            do { _ = try SubtitleFile.read(path, maxBytes: 1000) } catch { lock.withLock { failure = error } }
            done.signal()
        }
        if done.wait(timeout: .now() + 20) == .timedOut {
            XCTFail("reading a FIFO blocked")
            let writer = open(path, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
            done.wait()
        }
        let error = try XCTUnwrap(lock.withLock { failure }, "a FIFO was read as a subtitle file")
        guard case TranscodeError.invalidInput(let message) = error else { return XCTFail("expected invalidInput, got \(error)") }
        XCTAssertEqual(message, "\(path): rejected: a FIFO, not a regular subtitle file")
    }

    func testDevicesAndFoldersAreRefused() {
        assertRejected("/dev/zero", maxBytes: 1000, mentions: ["character device"])
        assertRejected(folder.path, maxBytes: 1000, mentions: ["folder"])
    }

    func testAMissingFileIsInputMissing() {
        let path = folder.appendingPathComponent("nope.srt").path
        XCTAssertThrowsError(try SubtitleFile.read(path)) { error in
            guard case TranscodeError.inputMissing(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix(path), message)
        }
    }

    func testSizeText() {
        XCTAssertEqual(SubtitleFile.sizeText(10 << 20), "10 MiB")
        XCTAssertEqual(SubtitleFile.sizeText(512 << 10), "512 KiB")
        XCTAssertEqual(SubtitleFile.sizeText(1000), "1000 B")
    }
}
