/// Names of the hidden folders the engine makes beside an output folder NAME:
/// `.NAME.hlsify-staging-PID-RANDOM` (the staging folder) and `.NAME.hlsify-staging-PID-old`
/// (a previous output moved aside by a progressive `--force` run).
///
/// Every such name fits in NAME_MAX: when NAME is too long for the prefix and the suffix,
/// its tag is NAME cut on a UTF-8 character (Unicode scalar) boundary plus `~` and 8 hex digits
/// of a hash of the whole NAME, so two long names with the same beginning still get different
/// prefixes. The stale clean-up finds folders by `prefix(forOutputName:nameMax:)`, so it
/// recognises both forms. Pure: no file system access.
enum StagingName {
    /// Linux's NAME_MAX for most file systems (ext4, xfs, btrfs, tmpfs).
    static let defaultNameMax = 255
    /// Bytes after the prefix: `PID-RANDOM`, at most 10 + 1 + 10 (Int32 and UInt32 in decimal).
    static let suffixReserve = 21
    /// `.` before the tag and `.hlsify-staging-` after it.
    private static let marker = ".hlsify-staging-"

    /// `.TAG.hlsify-staging-`: every folder name for `outputName` starts with this, and
    /// `prefix + suffixReserve` bytes fit in `nameMax`.
    static func prefix(forOutputName outputName: String, nameMax: Int = defaultNameMax) -> String {
        ".\(tag(outputName, maxBytes: nameMax - suffixReserve - 1 - marker.utf8.count))\(marker)"
    }

    /// The staging folder's name for the process `pid`, with `random` keeping two runs apart.
    static func staging(forOutputName outputName: String, pid: Int32, random: UInt32, nameMax: Int = defaultNameMax) -> String {
        "\(prefix(forOutputName: outputName, nameMax: nameMax))\(pid)-\(random)"
    }

    /// Where a progressive run moves the previous output before removing it.
    static func old(forOutputName outputName: String, pid: Int32, nameMax: Int = defaultNameMax) -> String {
        "\(prefix(forOutputName: outputName, nameMax: nameMax))\(pid)-old"
    }

    /// The process id in a folder name made by `staging` or `old` from `prefix`; nil if `name` is not one.
    static func pid(in name: String, prefix: String) -> Int32? {
        guard name.hasPrefix(prefix) else { return nil }
        return name.dropFirst(prefix.count).split(separator: "-").first.flatMap { Int32($0) }
    }

    /// `name` when it has at most `maxBytes` UTF-8 bytes, else its longest beginning that leaves
    /// room for `~` and the 8-digit hash of the whole name. Never longer than `max(maxBytes, 9)` bytes.
    static func tag(_ name: String, maxBytes: Int) -> String {
        if name.utf8.count <= maxBytes { return name }
        let room = max(0, maxBytes - 9)
        var kept = String.UnicodeScalarView()
        var used = 0
        for scalar in name.unicodeScalars {
            let size = UTF8.width(scalar)
            if used + size > room { break }
            kept.append(scalar)
            used += size
        }
        return "\(String(kept))~\(FNV1a.hex32(name))"
    }
}
