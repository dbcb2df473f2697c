import XCTest
@testable import HLSKit

/// How the cores are shared out: x264 threads by each rung's share of the ladder's pixels, decoder
/// threads by decoding's share of the work.
final class ThreadSharesTests: XCTestCase {
    func testDecoderGetsItsShareOfTheCoresAndAtLeastOne() {
        XCTAssertEqual([1, 2, 4, 6, 7, 8, 16, 64].map { TranscodePipeline.decoderThreads(cores: $0) }, [1, 1, 1, 1, 2, 2, 3, 10])
    }

    func testEncoderThreadsFollowThePixelShare() {
        let pixels = [1920 * 1080, 1280 * 720, 854 * 480]
        let total = pixels.reduce(0, +)
        XCTAssertEqual(pixels.map { DecodeLoop.encoderThreads(pixels: $0, totalPixels: total, cores: 2) }, [2, 1, 1])
        XCTAssertEqual(pixels.map { DecodeLoop.encoderThreads(pixels: $0, totalPixels: total, cores: 8) }, [5, 3, 1])
        XCTAssertEqual(DecodeLoop.encoderThreads(pixels: 100, totalPixels: 0, cores: 8), 1)
    }
}
