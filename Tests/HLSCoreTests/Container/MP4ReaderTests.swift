import Foundation
import XCTest
import HLSCore

final class MP4ReaderTests: XCTestCase {
    // MARK: hand-made boxes

    private func box(_ type: String, _ payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.u32(8 + payload.count)
        bytes.text(type)
        return bytes + payload
    }

    private func fullBox(_ type: String, version: Int = 0, flags: Int = 0, _ payload: [UInt8]) -> [UInt8] {
        var head: [UInt8] = []
        head.u8(version)
        head.u24(flags)
        return box(type, head + payload)
    }

    /// An init section with one video track (ID 1, timescale 12800) and one audio track (ID 2,
    /// 48000), the video trex saying samples are non-sync by default.
    private func initSection() -> [UInt8] {
        func trak(id: Int, handler: String, timescale: Int) -> [UInt8] {
            var tkhd: [UInt8] = []
            tkhd.u32(0); tkhd.u32(0); tkhd.u32(id); tkhd += [UInt8](repeating: 0, count: 68)
            var mdhd: [UInt8] = []
            mdhd.u32(0); mdhd.u32(0); mdhd.u32(timescale); mdhd.u32(0); mdhd.u32(0)
            var hdlr: [UInt8] = []
            hdlr.u32(0); hdlr.text(handler); hdlr += [UInt8](repeating: 0, count: 13)
            return box("trak", fullBox("tkhd", flags: 3, tkhd)
                       + box("mdia", fullBox("mdhd", mdhd) + fullBox("hdlr", hdlr) + box("minf", [])))
        }
        var trex1: [UInt8] = [], trex2: [UInt8] = []
        trex1.u32(1); trex1.u32(1); trex1.u32(512); trex1.u32(0); trex1.u32(0x0101_0000)
        trex2.u32(2); trex2.u32(1); trex2.u32(1024); trex2.u32(0); trex2.u32(0x0200_0000)
        var ftyp: [UInt8] = []
        ftyp.text("iso5"); ftyp.u32(512); ftyp.text("iso6mp41")
        return box("ftyp", ftyp) + box("moov", fullBox("mvhd", [UInt8](repeating: 0, count: 96))
                                        + trak(id: 1, handler: "vide", timescale: 12800)
                                        + trak(id: 2, handler: "soun", timescale: 48000)
                                        + box("mvex", fullBox("trex", trex1) + fullBox("trex", trex2)))
    }

    /// A fragment of `sizes.count` video samples whose first is a sync sample: default-base-is-moof,
    /// per-sample sizes and signed composition offsets (trun version 1), tfdt `decodeTime`, or no
    /// tfdt when nil. The mdat holds bytes whose value is the sample's index.
    private func fragment(sequence: Int, decodeTime: Int?, sizes: [Int], offsets: [Int], syncAlso: Set<Int> = []) -> [UInt8] {
        func moof(dataOffset: Int) -> [UInt8] {
            var mfhd: [UInt8] = []
            mfhd.u32(sequence)
            var tfhd: [UInt8] = []
            tfhd.u32(1); tfhd.u32(512)  // track 1, default duration 512
            var tfdt: [UInt8] = []
            if let decodeTime { tfdt.u64(decodeTime) }
            var trun: [UInt8] = []
            let perSampleFlags = !syncAlso.isEmpty
            trun.u32(sizes.count); trun.u32(dataOffset)
            if !perSampleFlags { trun.u32(0x0200_0000) }  // first_sample_flags: sync, depends on nothing
            for (i, size) in sizes.enumerated() {
                trun.u32(size)
                if perSampleFlags { trun.u32(i == 0 || syncAlso.contains(i) ? 0x0200_0000 : 0x0101_0000) }
                trun.u32(offsets[i])
            }
            let trunFlags = 0x000001 | 0x000200 | 0x000800 | (perSampleFlags ? 0x000400 : 0x000004)
            return box("moof", fullBox("mfhd", mfhd)
                       + box("traf", fullBox("tfhd", flags: 0x020008, tfhd)
                             + (decodeTime == nil ? [] : fullBox("tfdt", version: 1, tfdt))
                             + fullBox("trun", version: 1, flags: trunFlags, trun)))
        }
        let header = moof(dataOffset: 0).count
        var payload: [UInt8] = []
        for (i, size) in sizes.enumerated() { payload += [UInt8](repeating: UInt8(i), count: size) }
        return moof(dataOffset: header + 8) + box("mdat", payload)
    }

    func testReadsTheTracksOfAnInitSection() throws {
        let movie = try MP4Movie.parse(initSection())
        XCTAssertEqual(movie.tracks, [
            MP4Track(trackID: 1, handler: "vide", timescale: 12800,
                     defaults: MP4SampleDefaults(descriptionIndex: 1, duration: 512, size: 0, flags: 0x0101_0000)),
            MP4Track(trackID: 2, handler: "soun", timescale: 48000,
                     defaults: MP4SampleDefaults(descriptionIndex: 1, duration: 1024, size: 0, flags: 0x0200_0000)),
        ])
        XCTAssertEqual(movie.videoTrack?.trackID, 1)
    }

    func testResolvesSamplesOfFragmentsWithAndWithoutDecodeTime() throws {
        let movie = try MP4Movie.parse(initSection())
        let first = fragment(sequence: 1, decodeTime: 25_600, sizes: [100, 20, 30], offsets: [1024, -512, 0])
        let second = fragment(sequence: 2, decodeTime: nil, sizes: [50, 10], offsets: [512, 0])
        let bytes = first + second
        let fragments = try MP4FragmentReader.fragments(in: bytes, movie: movie)
        XCTAssertEqual(fragments.map(\.sequenceNumber), [1, 2])
        XCTAssertEqual(fragments.map(\.moof.offset), [0, first.count])
        let samples = fragments.flatMap { $0.tracks.flatMap(\.samples) }
        XCTAssertEqual(samples.map(\.decodeTime), [25_600, 26_112, 26_624, 27_136, 27_648])
        XCTAssertEqual(samples.map(\.presentationTime), [26_624, 25_600, 26_624, 27_648, 27_648])
        XCTAssertEqual(samples.map(\.isSync), [true, false, false, true, false])
        XCTAssertEqual(samples.map(\.size), [100, 20, 30, 50, 10])
        // Each sample's bytes hold its index in the fragment: the offsets point at the right data.
        for fragment in fragments {
            for (i, sample) in fragment.tracks[0].samples.enumerated() {
                XCTAssertEqual(Set(bytes[sample.dataOffset..<sample.dataEnd]), [UInt8(i)])
            }
        }
        XCTAssertEqual(samples[2].dataEnd, first.count, "the first fragment's data ends its mdat")
    }

    func testIFrameRangesRunFromTheMoofThroughTheSyncSample() throws {
        let movie = try MP4Movie.parse(initSection())
        let first = fragment(sequence: 1, decodeTime: 0, sizes: [100, 20, 30, 40], offsets: [512, 0, 0, 0], syncAlso: [2])
        let second = fragment(sequence: 2, decodeTime: 2048, sizes: [70, 10], offsets: [512, 0])
        let samples = try MP4FragmentReader.fragments(in: first + second, movie: movie).map { $0.tracks[0].samples }
        let iframes = try IFrameLocator.fragmentedMP4(segment: first + second, movie: movie)
        XCTAssertEqual(iframes, [
            IFrameLocation(presentationTime: 512, timescale: 12800, range: ByteRange(0..<samples[0][0].dataEnd)),
            IFrameLocation(presentationTime: 1024, timescale: 12800, range: ByteRange(0..<samples[0][2].dataEnd)),
            IFrameLocation(presentationTime: 2560, timescale: 12800, range: ByteRange(first.count..<samples[1][0].dataEnd)),
        ])
        XCTAssertEqual(iframes[2].range.end, first.count + second.count - 10)
    }

    func testRejectsMalformedBytes() throws {
        let movie = try MP4Movie.parse(initSection())
        let good = fragment(sequence: 1, decodeTime: 0, sizes: [100, 20], offsets: [0, 0])
        // Cut short: the mdat says more than there is.
        XCTAssertThrowsError(try MP4FragmentReader.fragments(in: Array(good.dropLast(5)), movie: movie)) { error in
            XCTAssertTrue("\(error)".contains("'mdat'"), "\(error)")
        }
        // A box smaller than its header.
        XCTAssertThrowsError(try MP4BoxReader.boxes(in: [0, 0, 0, 4, 0x6D, 0x6F, 0x6F, 0x66]))
        // Sample data outside the mdat: the data offset points into the moof.
        var shifted = good
        let moofSize = Int(good[0]) << 24 | Int(good[1]) << 16 | Int(good[2]) << 8 | Int(good[3])
        // The trun ends the moof: data_offset, first_sample_flags, then 2 × (size, cto) follow it.
        let dataOffsetField = moofSize - (4 + 4 + 2 * 8)
        shifted.replaceSubrange(dataOffsetField..<dataOffsetField + 4, with: [0, 0, 0, 8])
        XCTAssertThrowsError(try MP4FragmentReader.fragments(in: shifted, movie: movie)) { error in
            XCTAssertTrue("\(error)".contains("not inside an 'mdat'"), "\(error)")
        }
        // A fragment of a track the init section does not declare.
        XCTAssertThrowsError(try MP4FragmentReader.fragments(in: good, movie: MP4Movie(tracks: [])))
        XCTAssertThrowsError(try MP4Movie.parse(good)) { error in
            XCTAssertTrue("\(error)".contains("no 'moov'"), "\(error)")
        }
        // 64-bit sizes and size 0 ("to the end") are read.
        var large: [UInt8] = []
        large.u32(1); large.text("free"); large.u64(20); large.u32(0)
        var rest: [UInt8] = []
        rest.u32(0); rest.text("mdat"); rest += [1, 2, 3]
        XCTAssertEqual(try MP4BoxReader.boxes(in: large + rest).map { [$0.offset, $0.size, $0.headerSize] },
                       [[0, 20, 16], [20, 11, 8]])
    }

    // MARK: a file made by ffmpeg, checked against ffprobe

    func testAgreesWithFFprobeOnAFragmentedMP4MadeByFFmpeg() throws {
        let url = try ContainerMedia.clip("fragmented.mp4", format: "mp4")
        let bytes = try ContainerMedia.bytes(url)
        let movie = try MP4Movie.parse(bytes)
        let track = try XCTUnwrap(movie.videoTrack)
        XCTAssertEqual(movie.tracks.map(\.handler).sorted(), ["soun", "vide"])
        let samples = try MP4FragmentReader.fragments(in: bytes, movie: movie)
            .flatMap { $0.tracks.filter { $0.trackID == track.trackID }.flatMap(\.samples) }
        let probe = try ContainerMedia.videoPackets(url)
        XCTAssertEqual(probe.timeBase, "1/\(track.timescale)")
        XCTAssertEqual(samples.count, 75)
        XCTAssertEqual(samples.map(\.dataOffset), probe.packets.map(\.pos))
        XCTAssertEqual(samples.map(\.size), probe.packets.map(\.size))
        XCTAssertEqual(samples.map(\.isSync), probe.packets.map(\.key))
        // ffprobe applies the edit list: a constant shift.
        let shift = probe.packets[0].pts - samples[0].presentationTime
        XCTAssertEqual(samples.map { $0.presentationTime + shift }, probe.packets.map(\.pts))
        XCTAssertEqual(samples.filter(\.isSync).count, 7, "a keyframe every 12 frames")

        let iframes = try IFrameLocator.fragmentedMP4(segment: bytes, movie: movie)
        XCTAssertEqual(iframes.map(\.range.end), samples.filter(\.isSync).map(\.dataEnd))
        XCTAssertTrue(iframes.allSatisfy { bytes[$0.range.offset + 4..<$0.range.offset + 8] == ArraySlice("moof".utf8) })
    }
}
