extension TranscodeOptions {
    /// What the final publication does with a rung its lower neighbour makes redundant: dropped at
    /// capped CRF (where bytes follow the picture), unless asked to keep it or already listed in a
    /// progressive output (`inPlace`) that players may be playing. At ABR bytes follow the bitrates
    /// the ladder names, so nothing is dropped.
    func redundantRungPolicy(inPlace: Bool) -> HLSPublisher.RedundantRungPolicy {
        if keepRedundantRungs { return .keep(because: "kept on request (keepRedundantRungs)") }
        if rateControl == .abr { return .keep(because: "fixed bitrates (rate control abr): the bytes follow the ladder's bitrates, not the picture") }
        if inPlace { return .keep(because: "progressive output: the rung was listed while it was encoded and players may be on it") }
        return .drop
    }
}
