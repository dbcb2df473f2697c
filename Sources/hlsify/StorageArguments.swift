import ArgumentParser
import ObjectStorage

/// Where `s3://` inputs and outputs live; each option overrides its AWS environment variable.
struct StorageArguments: ParsableArguments {
    @Option(name: .customLong("s3-endpoint"), help: ArgumentHelp("S3 server for s3:// addresses, http(s)://host[:port] (default: AWS_ENDPOINT_URL, else AWS's).", valueName: "URL"))
    var endpoint: String?

    @Option(name: .customLong("s3-region"), help: ArgumentHelp("S3 region (default: AWS_REGION, else us-east-1).", valueName: "REGION"))
    var region: String?

    @Option(name: .customLong("s3-addressing"), help: ArgumentHelp("Bucket in the path (MinIO, SeaweedFS, Ceph, rclone) or in the host name (default: HLSIFY_S3_ADDRESSING, else path).", valueName: "path|virtual"))
    var addressing: S3Configuration.Addressing?

    /// The configuration from the environment (credentials only from there) and these options.
    /// - Throws: `StorageError.configuration`.
    func configuration(_ environment: [String: String]) throws(StorageError) -> S3Configuration {
        try S3Configuration.fromEnvironment(environment, endpoint: endpoint, region: region, addressing: addressing)
    }
}

extension S3Configuration.Addressing: ExpressibleByArgument {}
