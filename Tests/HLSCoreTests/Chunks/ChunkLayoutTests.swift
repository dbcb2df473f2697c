import HLSCore
import XCTest

final class ChunkLayoutTests: XCTestCase {
    func testChunksOfWholeSegmentsWithTheLastRunningToTheEnd() {
        let layout = ChunkLayout(durationSeconds: 121, segmentDuration: 4, chunkDuration: 30)
        XCTAssertEqual(layout.chunkSegments, 7)  // 30 s rounds down to 7 segments of 4 s
        XCTAssertEqual(layout.videoChunks, 5)    // 31 segments
        XCTAssertEqual(layout.segments(ofVideoChunk: 0).first, 0)
        XCTAssertEqual(layout.segments(ofVideoChunk: 0).end, 7)
        XCTAssertEqual(layout.segments(ofVideoChunk: 4).first, 28)
        XCTAssertNil(layout.segments(ofVideoChunk: 4).end)
        XCTAssertEqual(layout.chunks, [.video(0), .video(1), .video(2), .video(3), .video(4), .audio])
    }

    func testZeroUnknownOrShortGivesOneChunk() {
        XCTAssertEqual(ChunkLayout(durationSeconds: 121, segmentDuration: 4, chunkDuration: 0).videoChunks, 1)
        XCTAssertEqual(ChunkLayout(durationSeconds: nil, segmentDuration: 4, chunkDuration: 30).videoChunks, 1)
        XCTAssertEqual(ChunkLayout(durationSeconds: 20, segmentDuration: 4, chunkDuration: 30).videoChunks, 1)
        XCTAssertEqual(ChunkLayout(durationSeconds: 10, segmentDuration: 4, chunkDuration: 2).chunkSegments, 1)
    }

    func testAWorkerSplitsOnlyAtTwoChunksOrMore() {
        XCTAssertFalse(ChunkLayout.splits(durationSeconds: 479, chunkDuration: 240))
        XCTAssertTrue(ChunkLayout.splits(durationSeconds: 480, chunkDuration: 240))
        XCTAssertFalse(ChunkLayout.splits(durationSeconds: 7200, chunkDuration: 0))
        XCTAssertFalse(ChunkLayout.splits(durationSeconds: nil, chunkDuration: 240))
    }

    func testChunkNamesReadAndWrite() {
        XCTAssertEqual(ChunkName("3"), .video(3))
        XCTAssertEqual(ChunkName("003"), .video(3))
        XCTAssertEqual(ChunkName("video-012"), .video(12))
        XCTAssertEqual(ChunkName("audio"), .audio)
        XCTAssertNil(ChunkName("-1"))
        XCTAssertNil(ChunkName("x"))
        XCTAssertNil(ChunkName(""))
        XCTAssertEqual(ChunkName.video(3).folder, "video-003")
        XCTAssertEqual(ChunkName.video(1234).folder, "video-1234")
        XCTAssertEqual(ChunkName.video(3).argument, "3")
    }
}
