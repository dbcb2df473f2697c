import Crypto
import Foundation

/// AWS Signature Version 4 (header and query-string forms), as S3 checks it: the path is
/// encoded once and never normalised; the payload is signed by its SHA-256 (or the literal
/// `UNSIGNED-PAYLOAD` in presigned URLs).
///
/// Pure: no clock and no I/O; the caller passes the time. Costs a few HMACs per request.
public struct SigV4Signer: Sendable {
    public var credentials: S3Credentials
    public var region: String
    public var service: String

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// What is signed of one request.
    public struct Request: Sendable {
        public var method: String
        /// The path as sent on the request line (already percent-encoded).
        public var encodedPath: String
        /// Query items, decoded (the signer encodes them).
        public var query: [(String, String)]
        /// Every header to sign, including `host` and `x-amz-date`.
        public var headers: [(String, String)]
        /// Lower-case hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
        public var payloadHash: String

        public init(method: String, encodedPath: String, query: [(String, String)] = [], headers: [(String, String)],
                    payloadHash: String) {
            self.method = method
            self.encodedPath = encodedPath
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// The canonical request and its `SignedHeaders` list.
    public func canonicalRequest(_ request: Request) -> (text: String, signedHeaders: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in request.headers {
            merged[name.lowercased(), default: []].append(Self.canonicalValue(value))
        }
        let names = merged.keys.sorted()
        let headerLines = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        let signed = names.joined(separator: ";")
        let text = [request.method, request.encodedPath.isEmpty ? "/" : request.encodedPath, URIEncoding.query(request.query),
                    headerLines, signed, request.payloadHash].joined(separator: "\n")
        return (text, signed)
    }

    /// The string to sign for `canonicalRequest` at `amzDate` (`yyyyMMddTHHmmssZ`).
    public func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        ["AWS4-HMAC-SHA256", amzDate, scope(amzDate), Self.sha256Hex(Array(canonicalRequest.utf8))].joined(separator: "\n")
    }

    /// The `Authorization` header value of `request` signed at `amzDate`.
    public func authorization(_ request: Request, amzDate: String) -> String {
        let canonical = canonicalRequest(request)
        let signature = sign(stringToSign(canonicalRequest: canonical.text, amzDate: amzDate), amzDate: amzDate)
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope(amzDate)), SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
    }

    /// The query items of a presigned URL for `method` on `encodedPath` at `host`, valid for
    /// `expires` seconds from `amzDate`: `query` plus the `X-Amz-*` items, the signature last.
    public func presignedQuery(method: String, encodedPath: String, host: String, query: [(String, String)] = [],
                               amzDate: String, expires: Int) -> [(String, String)] {
        var items = query
        items.append(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        items.append(("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(amzDate))"))
        items.append(("X-Amz-Date", amzDate))
        items.append(("X-Amz-Expires", String(expires)))
        if let token = credentials.sessionToken { items.append(("X-Amz-Security-Token", token)) }
        items.append(("X-Amz-SignedHeaders", "host"))
        let request = Request(method: method, encodedPath: encodedPath, query: items, headers: [("host", host)],
                              payloadHash: "UNSIGNED-PAYLOAD")
        let canonical = canonicalRequest(request)
        items.append(("X-Amz-Signature", sign(stringToSign(canonicalRequest: canonical.text, amzDate: amzDate), amzDate: amzDate)))
        return items
    }

    /// `yyyyMMdd/region/service/aws4_request`.
    func scope(_ amzDate: String) -> String {
        "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
    }

    private func sign(_ stringToSign: String, amzDate: String) -> String {
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [String(amzDate.prefix(8)), region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return Hex.string(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    /// Lower-case hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: [UInt8]) -> String { Hex.string(SHA256.hash(data: bytes)) }

    /// The SHA-256 of an empty body.
    public static let emptyPayloadHash = sha256Hex([])

    /// `yyyyMMddTHHmmssZ` of `date` in UTC.
    public static func amzDate(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// A header value as SigV4 signs it: trimmed, runs of spaces folded into one.
    static func canonicalValue(_ value: String) -> String {
        var out = ""
        var lastWasSpace = false
        for character in value.trimmingSpaces {
            if character == " " || character == "\t" {
                if !lastWasSpace { out.append(" ") }
                lastWasSpace = true
            } else {
                out.append(character)
                lastWasSpace = false
            }
        }
        return out
    }
}
