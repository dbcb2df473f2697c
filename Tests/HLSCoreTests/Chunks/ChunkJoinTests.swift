import HLSCore
import XCTest

final class ChunkJoinTests: XCTestCase {
    /// Segments `indices` of 2 s (60 frames at 30 fps); the last one's duration as a chunk reports it.
    private func segments(_ indices: Range<Int>, lastDuration: Double = 2) -> [ChunkManifest.Segment] {
        indices.map { index in
            ChunkManifest.Segment(index: index, file: "segment-\(index).m4s", bytes: 1000, sha256: "", firstPTS: 0, lastPTS: 0,
                                  frames: 60, start: Double(index) * 2, duration: index == indices.last ? lastDuration : 2)
        }
    }

    private func part(_ chunk: Int, _ range: Range<Int>, end: Int?, lastDuration: Double = 2) -> ChunkJoin.Part {
        ChunkJoin.Part(chunk: "video-\(chunk)", firstSegment: chunk * 3, endSegment: end,
                       segments: segments(range, lastDuration: lastDuration))
    }

    func testJoinsPartsAndMeasuresDurationsToTheNextStart() throws {
        let joined = try ChunkJoin.join(rendition: "720p", parts: [
            part(0, 0..<3, end: 3, lastDuration: 1.99), part(1, 3..<6, end: 6), part(2, 6..<8, end: nil, lastDuration: 1.5),
        ])
        XCTAssertEqual(joined.map(\.index), Array(0..<8))
        XCTAssertEqual(joined[2].duration, 2, accuracy: 1e-9)  // measured to the next chunk's first start
        XCTAssertEqual(joined.last?.duration, 1.5)             // the last keeps its own
    }

    func testAMissingSegmentOrAWrongStartFails() {
        var broken = part(1, 3..<6, end: 6)
        broken.segments.remove(at: 1)
        XCTAssertThrowsError(try ChunkJoin.join(rendition: "720p", parts: [part(0, 0..<3, end: 3), broken]))
        let late = ChunkJoin.Part(chunk: "video-1", firstSegment: 3, endSegment: 6, segments: segments(4..<6))
        XCTAssertThrowsError(try ChunkJoin.join(rendition: "720p", parts: [part(0, 0..<3, end: 3), late]))
        let long = ChunkJoin.Part(chunk: "video-0", firstSegment: 0, endSegment: 3, segments: segments(0..<4))
        XCTAssertThrowsError(try ChunkJoin.join(rendition: "720p", parts: [long]))
    }

    func testAGapOrOverlapAtAJoinFails() {
        // The first chunk's last segment ends 100 ms before the next chunk starts: frames are missing.
        XCTAssertThrowsError(try ChunkJoin.join(rendition: "720p", parts: [part(0, 0..<3, end: 3, lastDuration: 1.9),
                                                                           part(1, 3..<6, end: nil)])) { error in
            XCTAssertTrue("\(error)".contains("gap of 100 ms"), "\(error)")
        }
        XCTAssertThrowsError(try ChunkJoin.join(rendition: "720p", parts: [part(0, 0..<3, end: 3, lastDuration: 2.1),
                                                                           part(1, 3..<6, end: nil)])) { error in
            XCTAssertTrue("\(error)".contains("overlap of 100 ms"), "\(error)")
        }
    }

    func testAVideoEndingBeforeTheEstimateLeavesTrailingChunksEmpty() throws {
        let empty = ChunkJoin.Part(chunk: "video-2", firstSegment: 6, endSegment: nil, segments: [])
        let joined = try ChunkJoin.join(rendition: "720p", parts: [part(0, 0..<3, end: 3), part(1, 3..<5, end: 6), empty])
        XCTAssertEqual(joined.count, 5)
        // But a chunk after a short one may not hold segments, nor may the first be empty.
        XCTAssertThrowsError(try ChunkJoin.join(rendition: "720p", parts: [part(0, 0..<2, end: 3), part(1, 3..<6, end: nil)]))
        let firstEmpty = ChunkJoin.Part(chunk: "video-0", firstSegment: 0, endSegment: 3, segments: [])
        XCTAssertThrowsError(try ChunkJoin.join(rendition: "720p", parts: [firstEmpty]))
    }

    func testInitSectionsMustBeTheSameBytes() throws {
        let a = ChunkManifest.File(file: "init.mp4", bytes: 800, sha256: "aa")
        let b = ChunkManifest.File(file: "init.mp4", bytes: 800, sha256: "bb")
        XCTAssertEqual(try ChunkJoin.commonInit(rendition: "720p", [("video-000", a), ("video-001", a)]), a)
        XCTAssertNil(try ChunkJoin.commonInit(rendition: "720p", [("video-000", nil), ("video-001", nil)]))
        XCTAssertThrowsError(try ChunkJoin.commonInit(rendition: "720p", [("video-000", a), ("video-001", b)]))
    }
}
