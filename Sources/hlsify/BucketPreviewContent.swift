import ObjectStorage
import PreviewServer

/// `hlsify preview s3://BUCKET/PREFIX`: the set's objects, fetched from the bucket for each
/// request (the server proxies; the page never sees a credential or a signed URL).
struct BucketPreviewContent: PreviewContent {
    let client: S3Client
    let prefix: S3Address
    /// Objects larger than this are not proxied (a segment is a few megabytes).
    static let maxObjectBytes = 256 << 20

    func fetch(_ path: RequestPath) -> PreviewLookup {
        guard !path.components.isEmpty, let address = try? prefix.appending(path.relative) else { return .notFound }
        do {
            return .bytes(try client.get(address, limit: Self.maxObjectBytes))
        } catch .notFound {
            return .notFound
        } catch .accessDenied, .tooLarge {
            return .forbidden
        } catch {
            return .unavailable("\(error)")
        }
    }
}
