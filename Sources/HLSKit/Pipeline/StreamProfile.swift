/// Reads the profile and level an encoder actually wrote back out of an `avc1.PPCCLL` codec string.
enum StreamProfile {
    static func name(ofAVC1 codecs: String) -> String {
        guard let bytes = bytes(codecs) else { return "unknown" }
        switch bytes.profile {
        case 66: return bytes.constraints & 0x40 != 0 ? "constrained baseline" : "baseline"
        case 77: return "main"
        case 88: return "extended"
        case 100: return "high"
        case 110: return "high 10"
        case 122: return "high 4:2:2"
        case 244: return "high 4:4:4"
        default: return "profile \(bytes.profile)"
        }
    }

    static func level(ofAVC1 codecs: String) -> String? {
        guard let bytes = bytes(codecs) else { return nil }
        return "\(bytes.level / 10).\(bytes.level % 10)"
    }

    private static func bytes(_ codecs: String) -> (profile: Int, constraints: Int, level: Int)? {
        guard codecs.hasPrefix("avc1."), codecs.count == 11 else { return nil }
        let hex = codecs.dropFirst(5)
        guard let value = Int(hex, radix: 16) else { return nil }
        return (value >> 16, (value >> 8) & 0xff, value & 0xff)
    }
}
