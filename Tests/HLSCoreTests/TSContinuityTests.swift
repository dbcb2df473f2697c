import HLSCore
import XCTest

final class TSContinuityTests: XCTestCase {
    /// A TS packet of `pid` with counter `cc`, payload or not.
    private func packet(pid: UInt16, cc: UInt8, payload: Bool = true) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xff, count: TSContinuity.packetSize)
        bytes[0] = 0x47
        bytes[1] = UInt8(pid >> 8) & 0x1f
        bytes[2] = UInt8(pid & 0xff)
        bytes[3] = (payload ? 0x10 : 0x20) | (cc & 0x0f)
        return bytes
    }

    private func counters(_ bytes: [UInt8]) -> [UInt8] {
        stride(from: 0, to: bytes.count, by: TSContinuity.packetSize).map { bytes[$0 + 3] & 0x0f }
    }

    func testCountersAfterASegment() {
        let segment = packet(pid: 0, cc: 3) + packet(pid: 256, cc: 14) + packet(pid: 256, cc: 15) + packet(pid: 256, cc: 15, payload: false)
        XCTAssertEqual(TSContinuity.counters(after: segment), [0: 4, 256: 0])
    }

    func testRewriteContinuesTheCountersAcrossAnySplit() {
        let stream = packet(pid: 0, cc: 0) + packet(pid: 256, cc: 0) + packet(pid: 256, cc: 1, payload: false)
            + packet(pid: 256, cc: 1) + packet(pid: 257, cc: 0)
        for split in [1, 2, 3, 4, 100, 188, 189, 191, 500] {
            var continuity = TSContinuity(next: [0: 9, 256: 15])
            var bytes = stream
            bytes.withUnsafeMutableBufferPointer { buffer in
                var start = 0
                while start < buffer.count {
                    let end = min(buffer.count, start + split)
                    continuity.rewrite(UnsafeMutableBufferPointer(rebasing: buffer[start..<end]))
                    start = end
                }
            }
            // PID 0 and 256 continue; the payload-less packet repeats; unknown PID 257 keeps its own.
            XCTAssertEqual(counters(bytes), [9, 15, 15, 0, 0], "split \(split)")
            XCTAssertEqual(continuity.next, [0: 10, 256: 1], "split \(split)")
            // Only the counter nibbles changed.
            XCTAssertEqual(bytes.enumerated().filter { $0.offset % 188 != 3 }.map(\.element),
                           stream.enumerated().filter { $0.offset % 188 != 3 }.map(\.element))
        }
    }
}
