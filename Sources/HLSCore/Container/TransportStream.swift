/// One PES packet (here: one coded picture) of the video stream of an MPEG-2 transport stream.
public struct TransportStreamPES: Sendable, Equatable {
    /// Offset of the TS packet that starts it (payload_unit_start_indicator set).
    public var firstPacketOffset: Int
    /// One past the last TS packet that carries its bytes.
    public var lastPacketEnd: Int
    /// Elementary stream bytes it carries (PES payload without the PES header); what a demuxer
    /// hands on as one packet.
    public var payloadSize: Int
    /// Presentation and decode time stamps, 90 kHz, 33 bits as written (no wrap handling).
    public var pts: Int64?
    public var dts: Int64?
    /// random_access_indicator of the first packet's adaptation field: a decoder can start here.
    public var randomAccess: Bool
    /// Where a reader that has nothing else should start to decode this PES: the run of
    /// PSI packets (a PAT and then a PMT, with no video packet after them) right before it,
    /// or the start of the bytes when there is no such run.
    public var standaloneStart: Int

    public init(firstPacketOffset: Int, lastPacketEnd: Int, payloadSize: Int, pts: Int64?, dts: Int64?,
                randomAccess: Bool, standaloneStart: Int) {
        self.firstPacketOffset = firstPacketOffset
        self.lastPacketEnd = lastPacketEnd
        self.payloadSize = payloadSize
        self.pts = pts
        self.dts = dts
        self.randomAccess = randomAccess
        self.standaloneStart = standaloneStart
    }
}

/// What a transport stream reader found: the program's PMT PID, its video stream, and that
/// stream's PES packets in order.
public struct TransportStreamIndex: Sendable, Equatable {
    public var programMapPID: Int?
    public var videoPID: Int?
    /// stream_type of the video stream in the PMT (0x1B for H.264).
    public var videoStreamType: UInt8?
    public var videoPES: [TransportStreamPES]
}

/// Reads MPEG-2 transport streams (ISO/IEC 13818-1) as HLS segments hold them: 188-byte packets,
/// PAT → PMT of the first program → its first video stream, PES packets of that stream.
public enum TransportStreamReader {
    public static let packetSize = 188
    static let syncByte: UInt8 = 0x47
    /// stream_type values of video streams (MPEG-1/2, MPEG-4 part 2, H.264, MVC, HEVC, VVC).
    static let videoStreamTypes: Set<UInt8> = [0x01, 0x02, 0x10, 0x1B, 0x20, 0x24, 0x33]

    /// Indexes the video PES packets of `bytes`.
    ///
    /// PSI sections may span packets; sections with a wrong CRC are ignored. Only the first PAT
    /// program and the first video stream of its PMT count; packets on the video PID before its
    /// PMT was read are skipped.
    /// - Throws: `ContainerParseError` when the length is not a whole number of packets, a packet
    ///   does not start with the sync byte 0x47, or an adaptation field is longer than its packet.
    public static func index(_ bytes: [UInt8]) throws -> TransportStreamIndex {
        guard bytes.count % packetSize == 0 else {
            throw ContainerParseError(offset: bytes.count - bytes.count % packetSize,
                                      message: "\(bytes.count) bytes are not a whole number of \(packetSize)-byte packets")
        }
        var index = TransportStreamIndex(programMapPID: nil, videoPID: nil, videoStreamType: nil, videoPES: [])
        var sections: [Int: SectionAssembler] = [:]
        var current: PESBuilder?
        // The run of packets since the last video packet: where it starts and whether it holds a PAT then a PMT.
        var runStart = 0
        var runHasPAT = false
        var runHasPMT = false

        var offset = 0
        while offset < bytes.count {
            guard bytes[offset] == syncByte else {
                throw ContainerParseError(offset: offset, message: "TS packet does not start with the sync byte 0x47")
            }
            let pid = Int(bytes[offset + 1] & 0x1F) << 8 | Int(bytes[offset + 2])
            let unitStart = bytes[offset + 1] & 0x40 != 0
            let adaptationControl = (bytes[offset + 3] >> 4) & 0x3
            var payloadStart = offset + 4
            var randomAccess = false
            if adaptationControl & 0x2 != 0 {
                let length = Int(bytes[offset + 4])
                let limit = adaptationControl == 0x2 ? 183 : 182
                guard length <= limit else {
                    throw ContainerParseError(offset: offset, message: "adaptation field of \(length) bytes is longer than the packet allows")
                }
                if length > 0 { randomAccess = bytes[offset + 5] & 0x40 != 0 }
                payloadStart = offset + 5 + length
            }
            let payloadEnd = offset + packetSize
            let hasPayload = adaptationControl & 0x1 != 0 && payloadStart < payloadEnd
            let payload = hasPayload ? bytes[payloadStart..<payloadEnd] : []

            if pid == index.videoPID, index.videoPID != nil {
                if unitStart {
                    if let finished = current?.finish() { index.videoPES.append(finished) }
                    let start = runHasPAT && runHasPMT ? runStart : 0
                    current = PESBuilder(offset: offset, randomAccess: randomAccess, standaloneStart: start)
                }
                if hasPayload, current != nil {
                    current!.append(payload, packetEnd: payloadEnd)
                }
                runStart = payloadEnd
                runHasPAT = false
                runHasPMT = false
            } else if pid == 0 || pid == index.programMapPID {
                if pid == 0 && unitStart {
                    // A new PAT starts the run over: the PMT must follow it.
                    runStart = runHasPAT || runHasPMT ? offset : runStart
                    runHasPAT = true
                    runHasPMT = false
                } else if pid == index.programMapPID && unitStart && runHasPAT {
                    runHasPMT = true
                }
                if hasPayload {
                    for section in sections[pid, default: SectionAssembler()].feed(payload, unitStart: unitStart) {
                        read(section: section, pid: pid, into: &index)
                    }
                }
            }
            offset += packetSize
        }
        if let finished = current?.finish() { index.videoPES.append(finished) }
        return index
    }

    private static func read(section: [UInt8], pid: Int, into index: inout TransportStreamIndex) {
        guard section.count >= 12, MPEGCRC32.checksum(section) == 0 else { return }
        let tableID = section[0]
        let end = section.count - 4  // before the CRC
        if pid == 0, tableID == 0x00 {
            var position = 8
            while position + 4 <= end {
                let program = Int(section[position]) << 8 | Int(section[position + 1])
                let mapPID = Int(section[position + 2] & 0x1F) << 8 | Int(section[position + 3])
                if program != 0 {
                    if index.programMapPID == nil { index.programMapPID = mapPID }
                    break
                }
                position += 4
            }
        } else if pid == index.programMapPID, tableID == 0x02, index.videoPID == nil {
            let programInfoLength = Int(section[10] & 0x0F) << 8 | Int(section[11])
            var position = 12 + programInfoLength
            while position + 5 <= end {
                let streamType = section[position]
                let elementaryPID = Int(section[position + 1] & 0x1F) << 8 | Int(section[position + 2])
                let infoLength = Int(section[position + 3] & 0x0F) << 8 | Int(section[position + 4])
                if videoStreamTypes.contains(streamType) {
                    index.videoPID = elementaryPID
                    index.videoStreamType = streamType
                    return
                }
                position += 5 + infoLength
            }
        }
    }
}

/// Collects one PES packet's bytes as its TS packets arrive: enough of the header for the time
/// stamps, and the payload size.
private struct PESBuilder {
    let offset: Int
    let randomAccess: Bool
    let standaloneStart: Int
    var header: [UInt8] = []
    var totalBytes = 0
    var lastPacketEnd: Int

    init(offset: Int, randomAccess: Bool, standaloneStart: Int) {
        self.offset = offset
        self.randomAccess = randomAccess
        self.standaloneStart = standaloneStart
        self.lastPacketEnd = offset + TransportStreamReader.packetSize
    }

    /// The PES header is at most 9 + 255 bytes; the time stamps lie in its first 19.
    mutating func append(_ payload: ArraySlice<UInt8>, packetEnd: Int) {
        if header.count < 19 { header += payload.prefix(19 - header.count) }
        totalBytes += payload.count
        lastPacketEnd = packetEnd
    }

    /// nil when the bytes do not start with a PES start code.
    func finish() -> TransportStreamPES? {
        guard header.count >= 6, header[0] == 0, header[1] == 0, header[2] == 1 else { return nil }
        let streamID = header[3]
        // Streams without the optional PES header (ISO/IEC 13818-1 Table 2-21).
        let bare: Set<UInt8> = [0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF]
        var pts: Int64?, dts: Int64?
        var headerLength = 6
        if !bare.contains(streamID), header.count >= 9 {
            let flags = header[7] >> 6
            headerLength = 9 + Int(header[8])
            if flags & 0x2 != 0, header.count >= 14 { pts = Self.timestamp(header[9..<14]) }
            if flags == 0x3, header.count >= 19 { dts = Self.timestamp(header[14..<19]) }
        }
        return TransportStreamPES(firstPacketOffset: offset, lastPacketEnd: lastPacketEnd,
                                  payloadSize: max(0, totalBytes - headerLength), pts: pts, dts: dts ?? pts,
                                  randomAccess: randomAccess, standaloneStart: standaloneStart)
    }

    /// A 33-bit time stamp spread over 5 bytes with marker bits.
    static func timestamp(_ b: ArraySlice<UInt8>) -> Int64 {
        let b = Array(b)
        return Int64(b[0] >> 1 & 0x07) << 30 | Int64(b[1]) << 22 | Int64(b[2] >> 1) << 15 | Int64(b[3]) << 7 | Int64(b[4] >> 1)
    }
}

/// Reassembles PSI sections (PAT, PMT) that may span TS packets.
private struct SectionAssembler {
    private var buffer: [UInt8] = []
    private var collecting = false

    /// Feeds one packet's payload; returns the sections it completes.
    mutating func feed(_ payload: ArraySlice<UInt8>, unitStart: Bool) -> [[UInt8]] {
        var complete: [[UInt8]] = []
        var rest = payload
        if unitStart {
            guard let pointer = rest.first else { return [] }
            rest = rest.dropFirst()
            let tail = rest.prefix(Int(pointer))
            if collecting {
                buffer += tail
                if let section = take() { complete.append(section) }
            }
            rest = rest.dropFirst(Int(pointer))
            buffer = Array(rest)
            collecting = true
        } else if collecting {
            buffer += rest
        }
        // Several sections may follow one another in a packet; stuffing (0xFF) ends them.
        while collecting, let section = take() {
            complete.append(section)
            if buffer.first == 0xFF || buffer.isEmpty { buffer = []; collecting = false }
        }
        return complete
    }

    /// The first section in the buffer, when all of it has arrived.
    private mutating func take() -> [UInt8]? {
        guard buffer.count >= 3 else { return nil }
        let length = 3 + (Int(buffer[1] & 0x0F) << 8 | Int(buffer[2]))
        guard buffer.count >= length else { return nil }
        let section = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return section
    }
}

/// CRC-32/MPEG-2 (polynomial 0x04C11DB7, initial value 0xFFFFFFFF, no reflection, no final XOR):
/// over a PSI section including its CRC field it gives 0.
enum MPEGCRC32 {
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte) << 24
        for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1 }
        return crc
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = (crc << 8) ^ table[Int((crc >> 24) ^ UInt32(byte))] }
        return crc
    }
}
