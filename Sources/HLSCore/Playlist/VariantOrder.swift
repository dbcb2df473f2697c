import Foundation

/// The order of the variants in a master playlist.
///
/// Players start with the first variant listed, and Apple's HLS Authoring Specification asks
/// for that to be a sensible middle choice (about 2 Mb/s), so a student on a slow network is
/// not made to wait for the top rung and one on a fast network climbs from there. With three
/// or more video variants the first is a middle one (never the top or the bottom rung): the one
/// whose BANDWIDTH is nearest the start target on a log scale (3 Mb/s and 1.33 Mb/s are equally
/// far from 2); with fewer, the nearest of all. The rest follow from the highest bandwidth to the
/// lowest. Audio-only variants are never first while there is a video variant.
public enum VariantOrder {
    /// Apple's suggested starting bandwidth, bits/s.
    public static let startBandwidth = 2_000_000

    public static func listing(_ variants: [Variant], startNear target: Int = startBandwidth) -> [Variant] {
        var sorted = variants.sorted { $0.bandwidth > $1.bandwidth }
        let hasVideo = sorted.contains(where: \.hasPicture)
        var candidates = sorted.indices.filter { !hasVideo || sorted[$0].hasPicture }
        if candidates.count >= 3 { candidates = Array(candidates.dropFirst().dropLast()) }
        guard let first = candidates.min(by: { distance(sorted[$0].bandwidth, target) < distance(sorted[$1].bandwidth, target) })
        else { return sorted }
        sorted.insert(sorted.remove(at: first), at: 0)
        return sorted
    }

    private static func distance(_ bandwidth: Int, _ target: Int) -> Double {
        guard bandwidth > 0, target > 0 else { return .infinity }
        return abs(log(Double(bandwidth) / Double(target)))
    }
}

extension Variant {
    /// Whether the variant carries video (has a RESOLUTION).
    var hasPicture: Bool { width > 0 && height > 0 }
}
