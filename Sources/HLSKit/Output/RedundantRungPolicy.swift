extension TranscodeOptions {
    /// What the final publication does with a rung its lower neighbour makes redundant: dropped,
    /// unless asked to keep it or already listed in a progressive output (`inPlace`) that players
    /// may be playing.
    func redundantRungPolicy(inPlace: Bool) -> HLSPublisher.RedundantRungPolicy {
        if keepRedundantRungs { return .keep(because: "kept on request (keepRedundantRungs)") }
        if inPlace { return .keep(because: "progressive output: the rung was listed while it was encoded and players may be on it") }
        return .drop
    }
}
