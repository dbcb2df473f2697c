import Foundation
import XCTest
@testable import TranscodeQueue

/// DirectoryHandle, OutputPlace, ConfinedFile and OutputClaims on a temporary folder: links
/// swapped in after a check are refused, never followed.
final class OutputConfinementTests: XCTestCase {
    private var base: URL!
    private var root: URL!
    private var outside: URL!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("output-confinement-\(UUID().uuidString)")
        root = base.appendingPathComponent("root")
        outside = base.appendingPathComponent("outside")
        for folder in [root!, outside!, outside.appendingPathComponent("x")] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        try Data("keep".utf8).write(to: outside.appendingPathComponent("x/keep.txt"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: base)
    }

    private func make(_ relative: String, file: Bool = false) throws {
        let url = root.appendingPathComponent(relative)
        if file {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("x".utf8).write(to: url)
        } else {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
    }

    private func swapForLink(_ relative: String, to destination: URL) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.moveItem(at: url, to: url.deletingLastPathComponent().appendingPathComponent("old-" + url.lastPathComponent))
        try FileManager.default.createSymbolicLink(at: url, withDestinationURL: destination)
    }

    private func plan(output key: String, root: ConfinedRoot) throws -> JobPlan {
        let resolver = JobResolver(inputRoot: root, outputRoot: root)
        return try resolver.plan(TranscodeJob(jobId: "j", input: "in.mp4", output: key))
    }

    func testFoldersAreOpenedWithoutFollowingLinks() throws {
        try make("a/b")
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("link"), withDestinationURL: outside)
        XCTAssertNoThrow(try DirectoryHandle.open(root: root.path, components: ["a", "b"], create: false))
        XCTAssertThrowsError(try DirectoryHandle.open(root: root.path, components: ["link", "x"], create: true)) { error in
            XCTAssertEqual(error as? DirectoryHandle.Problem, .symbolicLink(root.path + "/link"))
        }
        XCTAssertThrowsError(try DirectoryHandle.open(root: root.path, components: ["a", "missing"], create: false)) { error in
            XCTAssertEqual(error as? DirectoryHandle.Problem, .missing(root.path + "/a/missing"))
        }
        let made = try DirectoryHandle.open(root: root.path, components: ["new", "deeper"], create: true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("new/deeper").path))
        // The descriptor path names the opened folder even after the name moves.
        try FileManager.default.moveItem(at: root.appendingPathComponent("new"), to: root.appendingPathComponent("moved"))
        try Data("y".utf8).write(to: URL(fileURLWithPath: made.descriptorPath("file")))
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("moved/deeper/file").path))
    }

    func testRemoveTreeRemovesLinksAsLinks() throws {
        try make("out/x/y/z.ts", file: true)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("out/x/escape"), withDestinationURL: outside)
        let folder = try DirectoryHandle.open(root: root.path, components: ["out"], create: false)
        try folder.removeTree("x")
        XCTAssertNil(folder.kind(of: "x"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.appendingPathComponent("x").path), ["keep.txt"])
        XCTAssertNoThrow(try folder.removeTree("x"), "nothing there is not an error")
    }

    func testAParentSwappedForALinkAfterPlanningIsRefusedAndNothingOutsideIsTouched() throws {
        try make("pdir")
        let confined = try ConfinedRoot(root.path)
        let plan = try plan(output: "pdir/x", root: confined)
        try swapForLink("pdir", to: outside)
        let layout = OutputLayout(root: confined)
        XCTAssertThrowsError(try OutputPlace(plan: plan, layout: layout)) { error in
            guard case .symbolicLink = error as? DirectoryHandle.Problem else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.appendingPathComponent("x").path), ["keep.txt"])
    }

    func testAnOutputIsMovedAndRemovedThroughItsOpenedParent() throws {
        try make("courses")
        let confined = try ConfinedRoot(root.path)
        let place = try OutputPlace(plan: plan(output: "courses/c1/lecture", root: confined), layout: OutputLayout(root: confined))
        XCTAssertEqual(place.inspect(jobId: "j"), .absent)
        let staged = base.appendingPathComponent("staged")
        try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
        try Data("#EXTM3U\n".utf8).write(to: staged.appendingPathComponent("master.m3u8"))
        let placed = try place.moveIntoPlace(staged, jobId: "j")
        XCTAssertTrue(placed.path.hasPrefix("/proc/self/fd/"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("courses/c1/lecture/master.m3u8").path))
        XCTAssertEqual(place.inspect(jobId: "j"), .incomplete, "no marker yet")
        XCTAssertTrue(try place.remove())
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("courses/c1/lecture").path))
    }

    func testAnotherJobsCompleteOutputIsNeverReplaced() throws {
        let confined = try ConfinedRoot(root.path)
        let place = try OutputPlace(plan: plan(output: "taken", root: confined), layout: OutputLayout(root: confined))
        // Another job's output appears while this one transcodes.
        try make("taken/master.m3u8", file: true)
        let completion = JobEvent.Completion(output: "taken", master: "taken/master.m3u8", segmentFormat: "ts", segmentDuration: 2,
                                             renditions: [], audio: nil, subtitles: [], durationSeconds: 1, elapsedSeconds: 1,
                                             bytes: 1, segments: 1, speed: 1)
        try CompletionMarker(jobId: "other", workerId: "w", attempt: 1, eventPublished: true, completion: completion)
            .write(in: root.appendingPathComponent("taken"))
        let staged = base.appendingPathComponent("staged")
        try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
        XCTAssertThrowsError(try place.moveIntoPlace(staged, jobId: "j")) { error in
            XCTAssertTrue(error is OutputClaims.Conflict, "\(error)")
        }
        XCTAssertEqual(CompletionMarker.read(in: root.appendingPathComponent("taken"))?.jobId, "other")
    }

    func testPlantedMarkersAreNeverFollowedNorWaitedOn() throws {
        try make("fifo")
        XCTAssertEqual(mkfifo(root.appendingPathComponent("fifo/\(CompletionMarker.fileName)").path, 0o644), 0)
        XCTAssertNil(CompletionMarker.read(in: root.appendingPathComponent("fifo")), "a FIFO is not read (nor waited on)")
        try make("zero")
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("zero/\(CompletionMarker.fileName)"),
                                                   withDestinationURL: URL(fileURLWithPath: "/dev/zero"))
        XCTAssertNil(CompletionMarker.read(in: root.appendingPathComponent("zero")), "a link is not followed")
        try make("huge")
        let huge = try FileHandle(forWritingTo: { () -> URL in
            let url = root.appendingPathComponent("huge/\(CompletionMarker.fileName)")
            XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: nil))
            return url
        }())
        try huge.truncate(atOffset: UInt64(CompletionMarker.maximumSize + 1))
        try huge.close()
        XCTAssertNil(CompletionMarker.read(in: root.appendingPathComponent("huge")), "a marker over 1 MiB is not read")
    }

    func testInputsAreCheckedThroughTheirDescriptors() throws {
        try make("up/c.mp4", file: true)
        try Data("s".utf8).write(to: outside.appendingPathComponent("secret.mp4"))
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("inside-link.mp4"),
                                                   withDestinationURL: root.appendingPathComponent("up/c.mp4"))
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("escape.mp4"),
                                                   withDestinationURL: outside.appendingPathComponent("secret.mp4"))
        XCTAssertEqual(mkfifo(root.appendingPathComponent("fifo.srt").path, 0o644), 0)
        let confined = try ConfinedRoot(root.path)
        let file = try ConfinedFile.open(confined.path + "/up/c.mp4", under: confined)
        XCTAssertEqual(file.realPath, confined.path + "/up/c.mp4")
        XCTAssertEqual(try String(contentsOfFile: file.descriptorPath, encoding: .utf8), "x")
        XCTAssertEqual(try ConfinedFile.open(confined.path + "/inside-link.mp4", under: confined).realPath, confined.path + "/up/c.mp4")
        XCTAssertThrowsError(try ConfinedFile.open(confined.path + "/escape.mp4", under: confined)) { error in
            guard case .outside = error as? ConfinedFile.Problem else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try ConfinedFile.open(confined.path + "/fifo.srt", under: confined)) { error in
            XCTAssertEqual(error as? ConfinedFile.Problem, .notRegular("a FIFO"))
        }
        XCTAssertThrowsError(try ConfinedFile.open(confined.path + "/up", under: confined)) { error in
            XCTAssertEqual(error as? ConfinedFile.Problem, .notRegular("a folder"))
        }
        XCTAssertThrowsError(try ConfinedFile.open(confined.path + "/gone.mp4", under: confined)) { error in
            guard case .missing = error as? ConfinedFile.Problem else { return XCTFail("\(error)") }
        }
        // The folder swapped for a link after planning: the same path now opens outside, refused.
        try FileManager.default.createDirectory(at: outside.appendingPathComponent("up2"), withIntermediateDirectories: true)
        try Data("o".utf8).write(to: outside.appendingPathComponent("up2/c.mp4"))
        try swapForLink("up", to: outside.appendingPathComponent("up2"))
        XCTAssertThrowsError(try ConfinedFile.open(confined.path + "/up/c.mp4", under: confined))
        // The file opened before the swap still reads the checked content.
        XCTAssertEqual(try String(contentsOfFile: file.descriptorPath, encoding: .utf8), "x")
    }

    func testNestingIsDecidedOnWholeComponents() {
        XCTAssertTrue(OutputClaims.nest("a", "a/b"))
        XCTAssertTrue(OutputClaims.nest("a/b/c", "a"))
        XCTAssertTrue(OutputClaims.nest("a", "a"))
        XCTAssertFalse(OutputClaims.nest("a", "ab"))
        XCTAssertFalse(OutputClaims.nest("a/b", "a/c"))
        XCTAssertFalse(OutputClaims.nest("course7-x", "course7"))
    }

    func testClaimsRefuseOutputsAroundAndInsideOthers() async throws {
        let confined = try ConfinedRoot(root.path)
        let layout = OutputLayout(root: confined)
        let claims = OutputClaims(layout: layout)
        // A complete output on disk.
        try make("course7/lecture1/master.m3u8", file: true)
        try make("course7/lecture1/.hlsify-complete.json", file: true)
        let outer = try XCTUnwrap(JobLock.tryAcquire(layout.lockFile(for: "course7")))
        await assertConflict(claims, "course7", holding: outer, mentioning: "contains")
        let inner = try XCTUnwrap(JobLock.tryAcquire(layout.lockFile(for: "course7/lecture1/720p")))
        await assertConflict(claims, "course7/lecture1/720p", holding: inner, mentioning: "course7/lecture1")
        // An output being handled (its lock held and claimed) blocks its parent and children.
        let writer = try XCTUnwrap(JobLock.tryAcquire(layout.lockFile(for: "live/p")))
        try await claims.claim("live/p", holding: writer)
        let child = try XCTUnwrap(JobLock.tryAcquire(layout.lockFile(for: "live/p/c")))
        await assertConflict(claims, "live/p/c", holding: child, mentioning: "another job is writing")
        let parent = try XCTUnwrap(JobLock.tryAcquire(layout.lockFile(for: "live")))
        await assertConflict(claims, "live", holding: parent, mentioning: "another job is writing")
        let sibling = try XCTUnwrap(JobLock.tryAcquire(layout.lockFile(for: "live/q")))
        try await claims.claim("live/q", holding: sibling)
        // Once the writer lets go (finished, or its worker died), its claim no longer counts.
        writer.release()
        try await claims.claim("live/p/c", holding: child)
    }

    private func assertConflict(_ claims: OutputClaims, _ key: String, holding lock: JobLock, mentioning word: String,
                                file: StaticString = #filePath, line: UInt = #line) async {
        do {
            try await claims.claim(key, holding: lock)
            XCTFail("\(key) was claimed", file: file, line: line)
        } catch let conflict as OutputClaims.Conflict {
            XCTAssertTrue(conflict.message.contains(word), conflict.message, file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }
}
