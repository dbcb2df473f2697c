import Foundation
import XCTest
@testable import HLSKit

/// The C loudness meter against EBU Tech 3341's reference signals, and the true-peak limiter.
final class LoudnessTests: XCTestCase {
    private static let rate = 48_000

    /// Stereo planes of `seconds` of a sine of `frequency` Hz at `peak` dBFS (both channels).
    private func sine(_ frequency: Double, peak: Double, seconds: Double, rate: Int = rate) -> [[Float]] {
        let amplitude = pow(10, peak / 20)
        let samples = (0..<Int(seconds * Double(rate))).map { Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(rate))) }
        return [samples, samples]
    }

    private func measure(_ planes: [[Float]], rate: Int = rate, chunk: Int = 1000) throws -> LoudnessFigures {
        let meter = try LoudnessMeter(sampleRate: rate)
        var left = planes[0], right = planes[1]
        try left.withUnsafeMutableBufferPointer { l in
            try right.withUnsafeMutableBufferPointer { r in
                var start = 0
                while start < l.count {
                    let count = min(chunk, l.count - start)
                    var pointers: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(l.baseAddress! + start),
                                                                UnsafeMutableRawPointer(r.baseAddress! + start)]
                    try pointers.withUnsafeMutableBufferPointer { try meter.add($0.baseAddress!, count: count) }
                    start += count
                }
            }
        }
        return meter.figures
    }

    func testReferenceSinesReadTheirLevel() throws {
        // EBU Tech 3341 cases 1 and 2: a stereo 1 kHz sine at -23 and -33 dBFS reads -23 and -33 LUFS (±0.1).
        let a = try measure(sine(1000, peak: -23, seconds: 20))
        XCTAssertEqual(a.integrated ?? 0, -23, accuracy: 0.1)
        XCTAssertEqual(a.truePeak ?? 0, -23, accuracy: 0.1)
        XCTAssertEqual(a.range, 0, accuracy: 0.1)
        let b = try measure(sine(1000, peak: -33, seconds: 20))
        XCTAssertEqual(b.integrated ?? 0, -33, accuracy: 0.1)
        // At 44.1 kHz the filters are designed for the rate: the same reading.
        let c = try measure(sine(1000, peak: -23, seconds: 20, rate: 44_100), rate: 44_100)
        XCTAssertEqual(c.integrated ?? 0, -23, accuracy: 0.1)
    }

    func testGatingIgnoresSilenceAndTheRangeSpansLevels() throws {
        // Tech 3341 case 3-like: -36, -23, -36 dBFS for 10 s each reads about -25.5 (gated mean);
        // with 20 s of silence around it the integrated loudness does not move.
        let quiet = sine(1000, peak: -36, seconds: 10), loud = sine(1000, peak: -23, seconds: 10)
        let signal = (0..<2).map { quiet[$0] + loud[$0] + quiet[$0] }
        let measured = try measure(signal)
        let silence = [Float](repeating: 0, count: 20 * Self.rate)
        let padded = try measure((0..<2).map { silence + signal[$0] + silence })
        XCTAssertEqual(padded.integrated ?? 0, measured.integrated ?? 1, accuracy: 0.05)
        XCTAssertGreaterThan(measured.range, 10)
        XCTAssertLessThan(measured.range, 14)
        XCTAssertNil(try measure([silence, silence]).integrated)
        XCTAssertNil(try measure([silence, silence]).truePeak)
    }

    func testChunkingDoesNotChangeTheFigures() throws {
        let signal = sine(997, peak: -12, seconds: 3)
        XCTAssertEqual(try measure(signal, chunk: 1), try measure(signal, chunk: 4096))
    }

    func testTruePeakSeesBetweenTheSamples() throws {
        // A sine at a quarter of the rate, sampled at ±45°: the samples reach 0.707 of its peak.
        let amplitude = pow(10, -6 / 20.0)
        let samples = (0..<48_000).map { Float(amplitude * sin(Double.pi / 2 * Double($0) + Double.pi / 4)) }
        let figures = try measure([samples, samples])
        XCTAssertEqual(figures.truePeak ?? 0, -6, accuracy: 0.3)
        XCTAssertGreaterThan(figures.truePeak ?? -100, -6 - 3 + 1)  // well above the sample peak (-9 dB)
    }

    /// Runs `planes` through a limiter in blocks of 1024 with its lookahead, as AudioRendition does.
    private func limit(_ planes: [[Float]], gain: Double, ceiling: Double, block: Int = 1024) throws -> (out: [[Float]], limited: Int64) {
        let limiter = try TruePeakLimiter(sampleRate: Self.rate, gain: gain, ceiling: ceiling)
        var out = planes
        let count = planes[0].count
        var start = 0
        while start < count {
            let n = min(block, count - start)
            var b0 = Array(planes[0][start..<start + n]), b1 = Array(planes[1][start..<start + n])
            let aheadEnd = min(count, start + n + limiter.lookahead)
            var n0 = Array(planes[0][(start + n)..<aheadEnd]), n1 = Array(planes[1][(start + n)..<aheadEnd])
            if n0.isEmpty { n0 = [0]; n1 = [0] }
            let ahead = aheadEnd - (start + n)
            try b0.withUnsafeMutableBufferPointer { p0 in
                try b1.withUnsafeMutableBufferPointer { p1 in
                    try n0.withUnsafeMutableBufferPointer { q0 in
                        try n1.withUnsafeMutableBufferPointer { q1 in
                            var blocks: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(p0.baseAddress!), UnsafeMutableRawPointer(p1.baseAddress!)]
                            var nexts: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(q0.baseAddress!), UnsafeMutableRawPointer(q1.baseAddress!)]
                            try blocks.withUnsafeMutableBufferPointer { bp in
                                try nexts.withUnsafeMutableBufferPointer { np in
                                    try limiter.process(bp.baseAddress!, count: n, next: np.baseAddress!, ahead: ahead)
                                }
                            }
                        }
                    }
                }
            }
            let block = [b0, b1]
            out[0].replaceSubrange(start..<start + n, with: block[0])
            out[1].replaceSubrange(start..<start + n, with: block[1])
            start += n
        }
        return (out, limiter.limitedSamples)
    }

    func testTheOpeningSamplesAreHeldToo() throws {
        // A loud tone from the very first sample, and a click in the first millisecond.
        var signal = sine(1000, peak: -3, seconds: 0.5)
        signal[0][3] = 0.9
        signal[1][3] = 0.9
        let (out, _) = try limit(signal, gain: 10, ceiling: -2)
        XCTAssertLessThanOrEqual(try measure(out).truePeak ?? 0, -2 + 0.05)
    }

    func testTheOutputDoesNotDependOnWhereBlocksAreCut() throws {
        let signal = sine(440, peak: -6, seconds: 2)
        XCTAssertEqual(try limit(signal, gain: 8, ceiling: -3, block: 1024).out, try limit(signal, gain: 8, ceiling: -3, block: 1000).out)
    }

    func testBelowTheCeilingOnlyTheGainIsApplied() throws {
        let signal = sine(440, peak: -20, seconds: 1)
        let (out, limited) = try limit(signal, gain: 6, ceiling: -1)
        XCTAssertEqual(limited, 0)
        let factor = Float(pow(10, 6 / 20.0))
        for i in stride(from: 0, to: signal[0].count, by: 97) {
            XCTAssertEqual(out[0][i], signal[0][i] * factor, accuracy: 1e-5)
        }
    }

    func testPeaksAboveTheCeilingAreHeldAndTheRestKept() throws {
        // Quiet tone with loud bursts; +12 dB takes the bursts well over -2 dBTP.
        var signal = sine(1000, peak: -30, seconds: 4)
        let burst = sine(3000, peak: -6, seconds: 0.02)
        for at in stride(from: 12_000, to: 180_000, by: 48_000) {
            for c in 0..<2 { for i in 0..<burst[c].count { signal[c][at + i] += burst[c][i] } }
        }
        let (out, limited) = try limit(signal, gain: 12, ceiling: -2)
        XCTAssertGreaterThan(limited, 0)
        let figures = try measure(out)
        XCTAssertLessThanOrEqual(figures.truePeak ?? 0, -2 + 0.05)
        XCTAssertEqual(out[0].count, signal[0].count)
        // Far from the bursts, the tone keeps the plain gain.
        let factor = Float(pow(10, 12 / 20.0))
        XCTAssertEqual(out[0][40_000], signal[0][40_000] * factor, accuracy: 1e-4)
        // The limiter takes the bursts' peaks down, never the loudness up: at most the input's plus
        // the gain; and no less than the tone's own loudness plus the gain (-30 + 12), which it
        // keeps between the bursts.
        let input = try measure(signal)
        XCTAssertLessThanOrEqual(figures.integrated ?? 0, (input.integrated ?? 0) + 12 + 0.01)
        XCTAssertGreaterThan(figures.integrated ?? 0, -30 + 12 - 0.5)
    }
}
