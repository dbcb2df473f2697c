import Foundation
import XCTest
import HLSCore

final class TransportStreamReaderTests: XCTestCase {
    // MARK: hand-made packets

    private static let videoPID = 0x100, audioPID = 0x101, pmtPID = 0x1000

    /// CRC-32/MPEG-2, bit by bit (independent of the reader's table).
    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte) << 24
            for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1 }
        }
        return crc
    }

    /// A PSI section with its length and CRC filled in.
    private func section(table: Int, id: Int, body: [UInt8], corruptCRC: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.u8(table)
        bytes.u16(0xB000 | (5 + body.count + 4))
        bytes.u16(id); bytes.u8(0xC1); bytes.u8(0); bytes.u8(0)
        bytes += body
        bytes.u32(Int(crc32(bytes)) ^ (corruptCRC ? 1 : 0))
        return bytes
    }

    private func pat(corruptCRC: Bool = false) -> [UInt8] {
        var body: [UInt8] = []
        body.u16(1); body.u16(0xE000 | Self.pmtPID)
        return section(table: 0, id: 1, body: body, corruptCRC: corruptCRC)
    }

    private func pmt() -> [UInt8] {
        var body: [UInt8] = []
        body.u16(0xE000 | Self.videoPID); body.u16(0xF000)
        body.u8(0x0F); body.u16(0xE000 | Self.audioPID); body.u16(0xF000)   // AAC first
        body.u8(0x1B); body.u16(0xE000 | Self.videoPID); body.u16(0xF003); body += [0x0A, 0x01, 0x00]  // H.264 with a descriptor
        return section(table: 2, id: 1, body: body)
    }

    /// One 188-byte packet; an adaptation field pads a short payload (and carries the random access flag).
    private func packet(pid: Int, start: Bool, payload: [UInt8], randomAccess: Bool = false, adaptationOnly: Bool = false) -> [UInt8] {
        precondition(payload.count <= 184)
        var bytes: [UInt8] = [0x47]
        bytes.u16((start ? 0x4000 : 0) | pid)
        let needsAdaptation = randomAccess || payload.count < 184 || adaptationOnly
        bytes.u8((needsAdaptation ? (adaptationOnly ? 0x20 : 0x30) : 0x10))
        if needsAdaptation {
            let length = 183 - payload.count
            bytes.u8(length)
            if length > 0 {
                bytes.u8(randomAccess ? 0x40 : 0)
                bytes += [UInt8](repeating: 0xFF, count: length - 1)
            }
        }
        return bytes + payload
    }

    private func psiPacket(pid: Int, _ section: [UInt8]) -> [UInt8] {
        packet(pid: pid, start: true, payload: [0] + section + [UInt8](repeating: 0xFF, count: 183 - section.count))
    }

    private func timestamp(_ prefix: Int, _ value: Int) -> [UInt8] {
        [UInt8(prefix << 4 | (value >> 29) & 0x0E | 1), UInt8(value >> 22 & 0xFF), UInt8((value >> 14) & 0xFE | 1),
         UInt8(value >> 7 & 0xFF), UInt8((value << 1) & 0xFE | 1)]
    }

    /// A video PES (PTS and DTS) of `size` payload bytes, split into packets.
    private func pes(pts: Int, dts: Int, size: Int, randomAccess: Bool) -> [[UInt8]] {
        let data = [0, 0, 1, 0xE0, 0, 0, 0x80, 0xC0, 10] + timestamp(3, pts) + timestamp(1, dts)
            + [UInt8](repeating: 0xAB, count: size)
        // The first packet's adaptation field (flags byte) leaves room for 182 payload bytes.
        let first = randomAccess ? 182 : 184
        var packets = [packet(pid: Self.videoPID, start: true, payload: Array(data.prefix(first)), randomAccess: randomAccess)]
        for start in stride(from: first, to: data.count, by: 184) {
            packets.append(packet(pid: Self.videoPID, start: false, payload: Array(data[start..<min(start + 184, data.count)])))
        }
        return packets
    }

    func testIndexesVideoPESWithTimesSizesAndStandaloneStarts() throws {
        let p = 188
        var packets: [[UInt8]] = [packet(pid: 0x11, start: true, payload: [0, 0x42] + [UInt8](repeating: 0xFF, count: 182)),
                                  psiPacket(pid: 0, pat()), psiPacket(pid: Self.pmtPID, pmt())]
        var a = pes(pts: 8_589_934_000, dts: 8_589_933_000, size: 400, randomAccess: true)   // 3 packets, near the 33-bit wrap
        a.insert(packet(pid: Self.audioPID, start: true, payload: [0, 0, 1, 0xC0]), at: 2)
        packets += a                                                                          // packets 3...6
        packets += pes(pts: 3000, dts: 0, size: 100, randomAccess: false)                    // 7
        packets += [psiPacket(pid: 0, pat()), psiPacket(pid: Self.pmtPID, pmt())]             // 8, 9
        packets += pes(pts: 6000, dts: 3000, size: 10, randomAccess: true)                   // 10
        packets += pes(pts: 9000, dts: 6000, size: 180, randomAccess: true)                  // 11, 12
        packets.append(packet(pid: Self.videoPID, start: false, payload: [], adaptationOnly: true))  // 13: PCR only
        let bytes = packets.flatMap { $0 }

        let index = try TransportStreamReader.index(bytes)
        XCTAssertEqual(index.programMapPID, Self.pmtPID)
        XCTAssertEqual(index.videoPID, Self.videoPID)
        XCTAssertEqual(index.videoStreamType, 0x1B)
        XCTAssertEqual(index.videoPES, [
            TransportStreamPES(firstPacketOffset: 3 * p, lastPacketEnd: 7 * p, payloadSize: 400, pts: 8_589_934_000,
                               dts: 8_589_933_000, randomAccess: true, standaloneStart: 0),
            TransportStreamPES(firstPacketOffset: 7 * p, lastPacketEnd: 8 * p, payloadSize: 100, pts: 3000, dts: 0,
                               randomAccess: false, standaloneStart: 0),
            TransportStreamPES(firstPacketOffset: 10 * p, lastPacketEnd: 11 * p, payloadSize: 10, pts: 6000, dts: 3000,
                               randomAccess: true, standaloneStart: 8 * p),
            TransportStreamPES(firstPacketOffset: 11 * p, lastPacketEnd: 13 * p, payloadSize: 180, pts: 9000, dts: 6000,
                               randomAccess: true, standaloneStart: 0),
        ])
        XCTAssertEqual(try IFrameLocator.transportStream(segment: bytes), [
            IFrameLocation(presentationTime: 8_589_934_000, timescale: 90_000, range: ByteRange(0..<7 * p)),
            IFrameLocation(presentationTime: 6000, timescale: 90_000, range: ByteRange(8 * p..<11 * p)),
            IFrameLocation(presentationTime: 9000, timescale: 90_000, range: ByteRange(0..<13 * p)),
        ])
    }

    func testSectionsSpanningPacketsAndBadChecksums() throws {
        // A PMT split over two packets is still read.
        let table = pmt()
        let first = packet(pid: Self.pmtPID, start: true, payload: [0] + Array(table.prefix(10)))
        let second = packet(pid: Self.pmtPID, start: false, payload: Array(table.dropFirst(10)) + [0xFF, 0xFF])
        let split = psiPacket(pid: 0, pat()) + first + second + pes(pts: 0, dts: 0, size: 5, randomAccess: true).flatMap { $0 }
        XCTAssertEqual(try TransportStreamReader.index(split).videoPES.count, 1)

        // A PAT whose CRC is wrong is ignored, so no video stream is found.
        let corrupt = psiPacket(pid: 0, pat(corruptCRC: true)) + psiPacket(pid: Self.pmtPID, pmt())
            + pes(pts: 0, dts: 0, size: 5, randomAccess: true).flatMap { $0 }
        let index = try TransportStreamReader.index(corrupt)
        XCTAssertNil(index.programMapPID)
        XCTAssertEqual(index.videoPES, [])
    }

    func testRejectsMalformedPackets() {
        let good = psiPacket(pid: 0, pat())
        XCTAssertThrowsError(try TransportStreamReader.index(good + [0x47])) { error in
            XCTAssertTrue("\(error)".contains("whole number"), "\(error)")
        }
        var unsynced = good + good
        unsynced[188] = 0x48
        XCTAssertThrowsError(try TransportStreamReader.index(unsynced)) { error in
            XCTAssertEqual((error as? ContainerParseError)?.offset, 188)
        }
        var longAdaptation = packet(pid: Self.videoPID, start: false, payload: [1, 2, 3])
        longAdaptation[4] = 184
        XCTAssertThrowsError(try TransportStreamReader.index(longAdaptation))
    }

    // MARK: a file made by ffmpeg, checked against ffprobe

    func testAgreesWithFFprobeOnATransportStreamMadeByFFmpeg() throws {
        let url = try ContainerMedia.clip("clip.ts", format: "mpegts")
        let bytes = try ContainerMedia.bytes(url)
        let index = try TransportStreamReader.index(bytes)
        let probe = try ContainerMedia.videoPackets(url)
        XCTAssertEqual(probe.timeBase, "1/90000")
        XCTAssertEqual(index.videoPES.count, 75)
        XCTAssertEqual(index.videoPES.map(\.firstPacketOffset), probe.packets.map(\.pos))
        XCTAssertEqual(index.videoPES.map(\.payloadSize), probe.packets.map(\.size))
        XCTAssertEqual(index.videoPES.map(\.randomAccess), probe.packets.map(\.key))
        XCTAssertEqual(index.videoPES.map { $0.pts ?? -1 }, probe.packets.map(\.pts))
        XCTAssertEqual(index.videoPES.filter(\.randomAccess).count, 7)

        // Every I-frame range read on its own demuxes to exactly that keyframe.
        let iframes = try IFrameLocator.transportStream(segment: bytes)
        XCTAssertEqual(iframes.count, 7)
        for (number, iframe) in iframes.enumerated() {
            let chunk = ContainerMedia.directory.appendingPathComponent("iframe-\(number).ts")
            try Data(bytes[iframe.range.offset..<iframe.range.end]).write(to: chunk)
            let packets = try ContainerMedia.videoPackets(chunk).packets
            XCTAssertEqual(packets.count, 1, "I-frame \(number): \(packets)")
            XCTAssertEqual(packets.first?.key, true)
            XCTAssertEqual(packets.first?.pts, iframe.presentationTime)
        }
    }

    func testFragmentedMP4IFrameRangesDemuxOnTheirOwnAfterTheInitSection() throws {
        let url = try ContainerMedia.clip("fragmented-video.mp4", format: "mp4", extra: ["-an"])
        let bytes = try ContainerMedia.bytes(url)
        let movie = try MP4Movie.parse(bytes)
        let firstMoof = try XCTUnwrap(MP4BoxReader.boxes(in: bytes).first { $0.type == "moof" })
        let initSection = bytes[0..<firstMoof.offset]
        let iframes = try IFrameLocator.fragmentedMP4(segment: bytes, movie: movie)
        XCTAssertEqual(iframes.count, 7)
        let probe = try ContainerMedia.videoPackets(url).packets
        let shift = probe[0].pts - iframes[0].presentationTime
        for (number, iframe) in iframes.enumerated() {
            let chunk = ContainerMedia.directory.appendingPathComponent("iframe-\(number).mp4")
            try Data(initSection + bytes[iframe.range.offset..<iframe.range.end]).write(to: chunk)
            let packets = try ContainerMedia.videoPackets(chunk).packets
            XCTAssertEqual(packets.count, 1, "I-frame \(number): \(packets)")
            XCTAssertEqual(packets.first?.key, true)
            XCTAssertEqual(packets.first?.size, probe.first { $0.pts == iframe.presentationTime + shift }?.size)
        }
    }
}
