import ArgumentParser
import HLSKit

// Read by name on the command line: ArgumentParser lists the names in the help and rejects others.

extension SegmentFormat: ExpressibleByArgument {}

extension X264Preset: ExpressibleByArgument {}

extension RateControl: ExpressibleByArgument {}
