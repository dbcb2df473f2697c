@_exported import HLSCore
