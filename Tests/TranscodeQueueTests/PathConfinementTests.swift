import Foundation
import HLSCore
import XCTest
@testable import TranscodeQueue

final class PathConfinementTests: XCTestCase {
    private var base: URL!
    private var inputRoot: URL!
    private var outputRoot: URL!
    private var outside: URL!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("confinement-\(UUID().uuidString)")
        inputRoot = base.appendingPathComponent("in")
        outputRoot = base.appendingPathComponent("out")
        outside = base.appendingPathComponent("outside")
        for folder in [inputRoot!, outputRoot!, outside!, inputRoot.appendingPathComponent("uploads")] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        FileManager.default.createFile(atPath: inputRoot.appendingPathComponent("uploads/a.mp4").path, contents: Data("x".utf8))
        FileManager.default.createFile(atPath: outside.appendingPathComponent("secret.mp4").path, contents: Data("s".utf8))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: base)
    }

    private func link(_ name: String, in root: URL, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent(name).path, withDestinationPath: destination)
    }

    private func assertRefused(_ root: ConfinedRoot, _ path: String, hiddenAllowed: Bool = true, finalLinkAllowed: Bool = true,
                               mentioning word: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let resolved = try root.resolve(path, hiddenAllowed: hiddenAllowed, finalLinkAllowed: finalLinkAllowed)
            XCTFail("\(path) resolved to \(resolved.absolute)", file: file, line: line)
        } catch {
            XCTAssertTrue(error.message.contains(word), "\"\(error.message)\" does not mention \(word)", file: file, line: line)
        }
    }

    func testRootsMustBeExistingFolders() {
        XCTAssertThrowsError(try ConfinedRoot(base.appendingPathComponent("missing").path))
        XCTAssertThrowsError(try ConfinedRoot(inputRoot.appendingPathComponent("uploads/a.mp4").path))
        XCTAssertNoThrow(try ConfinedRoot(inputRoot.path))
    }

    func testPlainPathsResolveUnderTheRoot() throws {
        let root = try ConfinedRoot(inputRoot.path)
        let existing = try root.resolve("uploads/a.mp4", hiddenAllowed: true)
        XCTAssertEqual(existing.absolute, root.path + "/uploads/a.mp4")
        XCTAssertEqual(existing.relative, "uploads/a.mp4")
        // A path that does not exist yet still resolves (the engine reports it missing).
        let missing = try root.resolve("uploads/later/b.mp4", hiddenAllowed: true)
        XCTAssertEqual(missing.absolute, root.path + "/uploads/later/b.mp4")
    }

    func testLexicalEscapesAreRefused() throws {
        let root = try ConfinedRoot(inputRoot.path)
        assertRefused(root, "../outside/secret.mp4", mentioning: "..")
        assertRefused(root, "uploads/../../outside/secret.mp4", mentioning: "..")
        assertRefused(root, outside.appendingPathComponent("secret.mp4").path, mentioning: "absolute")
        assertRefused(root, "", mentioning: "empty")
    }

    func testSymbolicLinksLeadingOutsideAreRefused() throws {
        try link("escape.mp4", in: inputRoot, to: outside.appendingPathComponent("secret.mp4").path)
        try link("escape-dir", in: inputRoot.appendingPathComponent("uploads"), to: outside.path)
        try link("relative-escape", in: inputRoot, to: "../outside")
        try link("dangling.mp4", in: inputRoot, to: "/nonexistent/file.mp4")
        let root = try ConfinedRoot(inputRoot.path)
        assertRefused(root, "escape.mp4", mentioning: "outside")
        assertRefused(root, "uploads/escape-dir/secret.mp4", mentioning: "outside")
        assertRefused(root, "relative-escape/secret.mp4", mentioning: "outside")
        // Through an escaping folder link, even to a file that does not exist.
        assertRefused(root, "uploads/escape-dir/not-there.mp4", mentioning: "outside")
        assertRefused(root, "dangling.mp4", mentioning: "symbolic link")
    }

    func testSymbolicLinksInsideTheRootAreFollowed() throws {
        try link("alias.mp4", in: inputRoot, to: "uploads/a.mp4")
        let root = try ConfinedRoot(inputRoot.path)
        let resolved = try root.resolve("alias.mp4", hiddenAllowed: true)
        XCTAssertEqual(resolved.absolute, root.path + "/uploads/a.mp4")
    }

    func testAnOutputFolderThatIsALinkIsRefused() throws {
        try FileManager.default.createDirectory(at: outputRoot.appendingPathComponent("real"), withIntermediateDirectories: true)
        try link("inside-link", in: outputRoot, to: "real")
        try link("outside-link", in: outputRoot, to: outside.path)
        let root = try ConfinedRoot(outputRoot.path)
        assertRefused(root, "inside-link", hiddenAllowed: false, finalLinkAllowed: false, mentioning: "symbolic link")
        assertRefused(root, "outside-link/lecture", hiddenAllowed: false, finalLinkAllowed: false, mentioning: "outside")
        XCTAssertNoThrow(try root.resolve("real/lecture", hiddenAllowed: false, finalLinkAllowed: false))
    }

    func testALinkIntoAHiddenFolderIsRefusedOnTheOutputSide() throws {
        try FileManager.default.createDirectory(at: outputRoot.appendingPathComponent(".hlsify-work"), withIntermediateDirectories: true)
        try link("work", in: outputRoot, to: ".hlsify-work")
        let root = try ConfinedRoot(outputRoot.path)
        assertRefused(root, "work/x", hiddenAllowed: false, finalLinkAllowed: false, mentioning: "hidden")
    }

    func testResolverFillsDefaultsAndConfinesEveryPath() throws {
        let resolver = JobResolver(inputRoot: try ConfinedRoot(inputRoot.path), outputRoot: try ConfinedRoot(outputRoot.path))
        let plan = try resolver.plan(TranscodeJob(jobId: "a", input: "uploads/a.mp4", output: "courses/a",
                                                  subtitles: [.init(language: "en", path: "uploads/a.srt")]))
        XCTAssertEqual(plan.inputPath, resolver.inputRoot.path + "/uploads/a.mp4")
        XCTAssertEqual(plan.outputPath, resolver.outputRoot.path + "/courses/a")
        XCTAssertEqual(plan.outputKey, "courses/a")
        XCTAssertEqual(plan.subtitles.map(\.path), [resolver.inputRoot.path + "/uploads/a.srt"])
        XCTAssertEqual(plan.ladder, EncodingDefaults.ladder)
        XCTAssertEqual(plan.segmentDuration, 4)
        XCTAssertEqual(plan.segmentFormat, .fmp4)
        XCTAssertEqual(plan.preset, "veryfast")
        XCTAssertFalse(plan.progressive)
        XCTAssertTrue(try resolver.plan(TranscodeJob(jobId: "a", input: "uploads/a.mp4", output: "a", progressive: true)).progressive)
        let withAudioVariant = try resolver.plan(TranscodeJob(jobId: "a", input: "uploads/a.mp4", output: "a", audioOnlyVariant: 64_000))
        XCTAssertEqual(withAudioVariant.transcodeOptions().audioOnlyVariantBitrate, 64_000)
        XCTAssertNil(plan.transcodeOptions().audioOnlyVariantBitrate)

        try link("escape.srt", in: inputRoot, to: outside.appendingPathComponent("secret.mp4").path)
        XCTAssertThrowsError(try resolver.plan(TranscodeJob(jobId: "a", input: "uploads/a.mp4", output: "a",
                                                            subtitles: [.init(language: "en", path: "escape.srt")]))) { error in
            XCTAssertEqual((error as? JobRejection)?.reason, .unsafePath)
            XCTAssertEqual((error as? JobRejection)?.jobId, "a")
            XCTAssertTrue((error as? JobRejection)?.message.contains("subtitles[0].path") == true)
        }
    }
}
