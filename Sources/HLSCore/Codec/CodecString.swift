/// RFC 6381 codec strings for the CODECS attribute of EXT-X-STREAM-INF.
public enum CodecString {
    /// AAC Low Complexity.
    public static let aacLC = "mp4a.40.2"

    /// "avc1." followed by profile_idc, the constraint flags byte and level_idc in lowercase hex:
    /// High profile level 3.1 without constraints is "avc1.64001f".
    public static func avc1(profileIDC: UInt8, constraintFlags: UInt8, levelIDC: UInt8) -> String {
        "avc1." + hex(profileIDC) + hex(constraintFlags) + hex(levelIDC)
    }

    /// The avc1 string of an encoder's extradata, either form libavcodec produces:
    /// - an AVCDecoderConfigurationRecord (avcC; first byte is configurationVersion 1, then
    ///   profile, constraint flags and level), or
    /// - Annex B (starts with a 00 00 01 or 00 00 00 01 start code): the first SPS (NAL type 7)
    ///   gives the three bytes after its NAL header (emulation prevention bytes removed).
    /// nil if the bytes are neither or are cut short.
    public static func avc1(fromExtradata bytes: [UInt8]) -> String? {
        if bytes.first == 1 {
            guard bytes.count >= 7 else { return nil }
            return avc1(profileIDC: bytes[1], constraintFlags: bytes[2], levelIDC: bytes[3])
        }
        guard bytes.starts(with: [0, 0, 1]) || bytes.starts(with: [0, 0, 0, 1]) else { return nil }
        for payload in annexBNALUnits(bytes) where payload.count >= 1 {
            let header = payload[payload.startIndex]
            guard header & 0x80 == 0, header & 0x1F == 7 else { continue }
            let rbsp = removingEmulationPrevention(payload.dropFirst(), limit: 3)
            guard rbsp.count == 3 else { return nil }
            return avc1(profileIDC: rbsp[0], constraintFlags: rbsp[1], levelIDC: rbsp[2])
        }
        return nil
    }

    /// The NAL units of an Annex B byte stream, without start codes.
    static func annexBNALUnits(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var starts: [(codeStart: Int, payloadStart: Int)] = []
        var i = 0
        while i + 2 < bytes.count {
            if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 2] == 1 {
                starts.append((i, i + 3))
                i += 3
            } else {
                i += 1
            }
        }
        return starts.indices.map { k in
            var end = k + 1 < starts.count ? starts[k + 1].codeStart : bytes.count
            // Zero bytes before the next start code (the 4-byte form, trailing_zero_8bits) are not payload.
            while end > starts[k].payloadStart, bytes[end - 1] == 0, k + 1 < starts.count { end -= 1 }
            return bytes[starts[k].payloadStart..<end]
        }
    }

    /// Up to `limit` RBSP bytes of a NAL payload: every 0x03 that follows two zero bytes is dropped.
    static func removingEmulationPrevention(_ payload: ArraySlice<UInt8>, limit: Int) -> [UInt8] {
        var out: [UInt8] = []
        var zeros = 0
        for byte in payload {
            if zeros >= 2, byte == 3 {
                zeros = 0
                continue
            }
            out.append(byte)
            if out.count == limit { break }
            zeros = byte == 0 ? zeros + 1 : 0
        }
        return out
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
