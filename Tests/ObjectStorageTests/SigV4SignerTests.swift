import Foundation
import XCTest
@testable import ObjectStorage

/// The signer against the vectors in SigV4TestVectors.swift (data only; see its header for the
/// conventions: raw paths encoded once here, the session token added as a signed header or query item).
final class SigV4SignerTests: XCTestCase {
    // MARK: Helpers

    private func signer(_ vector: SigV4Vector) -> SigV4Signer {
        SigV4Signer(credentials: S3Credentials(accessKeyId: vector.accessKey, secretAccessKey: vector.secretKey,
                                               sessionToken: vector.sessionToken),
                    region: vector.region, service: vector.service)
    }

    private func signer(_ vector: SigV4PresignVector) -> SigV4Signer {
        SigV4Signer(credentials: S3Credentials(accessKeyId: vector.accessKey, secretAccessKey: vector.secretKey,
                                               sessionToken: vector.sessionToken),
                    region: vector.region, service: vector.service)
    }

    /// The header-signed request of `vector`, the session token added as a signed header as the
    /// client does (the vectors list it in the canonical request, never in `headers`).
    private func request(_ vector: SigV4Vector) -> SigV4Signer.Request {
        var headers = vector.headers
        if let token = vector.sessionToken { headers.append(("x-amz-security-token", token)) }
        return SigV4Signer.Request(method: vector.method, encodedPath: URIEncoding.encode(vector.path, keepingSlash: true),
                                   query: vector.query, headers: headers,
                                   payloadHash: SigV4Signer.sha256Hex(Array(vector.body.utf8)))
    }

    /// The X-Amz-* query items a presigned URL of `vector` carries (without the signature), built by
    /// hand: the generic-service vectors sign a payload hash (and extra headers) `presignedQuery` cannot express.
    private func presignItems(_ vector: SigV4PresignVector) -> [(String, String)] {
        let signedHeaders = (["host"] + vector.headers.map { $0.0.lowercased() }).sorted().joined(separator: ";")
        var items = vector.query
        items.append(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        items.append(("X-Amz-Credential", "\(vector.accessKey)/\(vector.date.prefix(8))/\(vector.region)/\(vector.service)/aws4_request"))
        items.append(("X-Amz-Date", vector.date))
        items.append(("X-Amz-Expires", String(vector.expires)))
        if let token = vector.sessionToken { items.append(("X-Amz-Security-Token", token)) }
        items.append(("X-Amz-SignedHeaders", signedHeaders))
        return items
    }

    private func presignRequest(_ vector: SigV4PresignVector) -> SigV4Signer.Request {
        SigV4Signer.Request(method: vector.method, encodedPath: URIEncoding.encode(vector.path, keepingSlash: true),
                            query: presignItems(vector), headers: [("Host", vector.host)] + vector.headers,
                            payloadHash: vector.payloadHash)
    }

    private func signature(ofAuthorization authorization: String) -> String? {
        authorization.range(of: "Signature=").map { String(authorization[$0.upperBound...]) }
    }

    private func presignedURL(_ vector: SigV4PresignVector, _ items: [(String, String)]) -> String {
        "https://" + vector.host + URIEncoding.encode(vector.path, keepingSlash: true) + "?"
            + items.map { URIEncoding.encode($0.0, keepingSlash: false) + "=" + URIEncoding.encode($0.1, keepingSlash: false) }
            .joined(separator: "&")
    }

    /// The third line of a canonical request: the canonical query string.
    private func canonicalQueryLine(_ canonicalRequest: String) -> String {
        let lines = canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.count > 2 ? String(lines[2]) : ""
    }

    // MARK: Header-signed vectors

    func testThereAreVectors() {
        XCTAssertGreaterThanOrEqual(SigV4TestVectors.all.count, 20)
        XCTAssertGreaterThanOrEqual(SigV4PresignTestVectors.all.count, 6)
    }

    func testCanonicalRequestOfEveryVector() {
        for vector in SigV4TestVectors.all {
            XCTAssertEqual(signer(vector).canonicalRequest(request(vector)).text, vector.canonicalRequest, vector.name)
        }
    }

    func testSignedHeadersOfEveryVectorMatchTheCanonicalRequest() {
        for vector in SigV4TestVectors.all {
            let expected = vector.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false).dropLast().last
            XCTAssertEqual(signer(vector).canonicalRequest(request(vector)).signedHeaders, expected.map(String.init), vector.name)
        }
    }

    func testStringToSignOfEveryVector() {
        for vector in SigV4TestVectors.all {
            let signer = signer(vector)
            let canonical = signer.canonicalRequest(request(vector)).text
            XCTAssertEqual(signer.stringToSign(canonicalRequest: canonical, amzDate: vector.date), vector.stringToSign, vector.name)
        }
    }

    /// The string to sign from the vector's own canonical request: isolates the hashing and the
    /// scope from the canonicalization.
    func testStringToSignFromTheVectorsCanonicalRequest() {
        for vector in SigV4TestVectors.all {
            XCTAssertEqual(signer(vector).stringToSign(canonicalRequest: vector.canonicalRequest, amzDate: vector.date),
                           vector.stringToSign, vector.name)
        }
    }

    func testAuthorizationOfEveryVector() {
        for vector in SigV4TestVectors.all {
            XCTAssertEqual(signer(vector).authorization(request(vector), amzDate: vector.date), vector.authorization, vector.name)
        }
    }

    func testPayloadHashOfEveryVectorIsTheLastCanonicalLine() {
        for vector in SigV4TestVectors.all {
            let last = vector.canonicalRequest.split(separator: "\n").last.map(String.init)
            XCTAssertEqual(SigV4Signer.sha256Hex(Array(vector.body.utf8)), last, vector.name)
        }
    }

    func testTheSessionTokenIsASignedHeader() throws {
        let vector = try XCTUnwrap(SigV4TestVectors.all.first { $0.name == "get-vanilla-with-session-token" })
        let canonical = signer(vector).canonicalRequest(request(vector))
        XCTAssertEqual(canonical.signedHeaders, "host;x-amz-date;x-amz-security-token")
        XCTAssertTrue(canonical.text.contains("\nx-amz-security-token:\(vector.sessionToken!)\n"))
    }

    /// A signature changes with the secret, so the key derivation is really exercised.
    func testAnotherSecretGivesAnotherSignature() throws {
        let vector = try XCTUnwrap(SigV4TestVectors.all.first { $0.name == "get-vanilla" })
        let other = SigV4Signer(credentials: S3Credentials(accessKeyId: vector.accessKey, secretAccessKey: vector.secretKey + "x"),
                                region: vector.region, service: vector.service)
        XCTAssertNotEqual(other.authorization(request(vector), amzDate: vector.date), vector.authorization)
    }

    // MARK: Presigned (query-signed) vectors

    /// Every presign vector through canonicalRequest/stringToSign with the X-Amz-* items built here
    /// (the generic-service ones sign a SHA-256 payload hash and sometimes extra headers).
    func testCanonicalRequestOfEveryPresignVector() {
        for vector in SigV4PresignTestVectors.all {
            XCTAssertEqual(signer(vector).canonicalRequest(presignRequest(vector)).text, vector.canonicalRequest, vector.name)
        }
    }

    func testStringToSignOfEveryPresignVector() {
        for vector in SigV4PresignTestVectors.all {
            let signer = signer(vector)
            let canonical = signer.canonicalRequest(presignRequest(vector)).text
            XCTAssertEqual(signer.stringToSign(canonicalRequest: canonical, amzDate: vector.date), vector.stringToSign, vector.name)
        }
    }

    /// The signature of every presign vector (through `authorization`, which signs the same
    /// canonical request and string to sign).
    func testSignatureOfEveryPresignVector() {
        for vector in SigV4PresignTestVectors.all {
            let authorization = signer(vector).authorization(presignRequest(vector), amzDate: vector.date)
            XCTAssertEqual(signature(ofAuthorization: authorization), vector.signature, vector.name)
        }
    }

    /// The X-Amz-* items `presignedQuery` adds canonicalize to the vectors' canonical query (the
    /// query does not depend on the payload hash), for every vector with no extra signed header;
    /// this covers X-Amz-Security-Token being a signed query item.
    func testPresignedQueryItemsMatchEveryVectorsCanonicalQuery() {
        for vector in SigV4PresignTestVectors.all where vector.headers.isEmpty {
            let items = signer(vector).presignedQuery(method: vector.method, encodedPath: URIEncoding.encode(vector.path, keepingSlash: true),
                                                      host: vector.host, query: vector.query, amzDate: vector.date,
                                                      expires: vector.expires)
            XCTAssertEqual(items.last?.0, "X-Amz-Signature", vector.name)
            XCTAssertEqual(URIEncoding.query(Array(items.dropLast())), canonicalQueryLine(vector.canonicalRequest), vector.name)
        }
    }

    /// `presignedQuery` end to end, for every vector it can express (UNSIGNED-PAYLOAD, only host signed).
    func testPresignedQuerySignatureOfTheS3Vectors() {
        let expressible = SigV4PresignTestVectors.all.filter { $0.payloadHash == "UNSIGNED-PAYLOAD" && $0.headers.isEmpty }
        XCTAssertFalse(expressible.isEmpty)
        for vector in expressible {
            let items = signer(vector).presignedQuery(method: vector.method, encodedPath: URIEncoding.encode(vector.path, keepingSlash: true),
                                                      host: vector.host, query: vector.query, amzDate: vector.date,
                                                      expires: vector.expires)
            XCTAssertEqual(items.last?.0, "X-Amz-Signature", vector.name)
            XCTAssertEqual(items.last?.1, vector.signature, vector.name)
            if let url = vector.url { XCTAssertEqual(presignedURL(vector, items), url, vector.name) }
        }
    }

    func testPresignedQueryOnTheS3DocsExample() throws {
        let vector = try XCTUnwrap(SigV4PresignTestVectors.all.first { $0.name == "s3-doc-presigned-get-object" })
        let items = signer(vector).presignedQuery(method: "GET", encodedPath: "/test.txt", host: "examplebucket.s3.amazonaws.com",
                                                  amzDate: "20130524T000000Z", expires: 86400)
        XCTAssertEqual(items.last?.1, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        XCTAssertEqual(presignedURL(vector, items),
                       "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    func testPresignedQueryWithASessionTokenSignsIt() {
        let plain = SigV4Signer(credentials: S3Credentials(accessKeyId: "AKID", secretAccessKey: "secret"), region: "us-east-1")
        let temporary = SigV4Signer(credentials: S3Credentials(accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "tok/en+="),
                                    region: "us-east-1")
        let a = plain.presignedQuery(method: "GET", encodedPath: "/b/k", host: "h", amzDate: "20240101T000000Z", expires: 60)
        let b = temporary.presignedQuery(method: "GET", encodedPath: "/b/k", host: "h", amzDate: "20240101T000000Z", expires: 60)
        XCTAssertFalse(a.contains { $0.0 == "X-Amz-Security-Token" })
        XCTAssertEqual(b.first { $0.0 == "X-Amz-Security-Token" }?.1, "tok/en+=")
        XCTAssertNotEqual(a.last?.1, b.last?.1, "the token is part of what is signed")
        XCTAssertTrue(URIEncoding.query(b).contains("X-Amz-Security-Token=tok%2Fen%2B%3D"))
    }

    /// S3Client.presignedURL (virtual-hosted, as the docs example) carries the same items and the
    /// docs' signature; it sorts the items, so only the set is compared.
    func testClientPresignedURLOnTheS3DocsExample() throws {
        var configuration = S3Configuration(endpoint: try S3Endpoint(parsing: "https://s3.amazonaws.com"), region: "us-east-1",
                                            addressing: .virtual,
                                            credentials: S3Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE",
                                                                       secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
        configuration.retries = 0
        let client = S3Client(configuration: configuration)
        let url = client.presignedURL(try S3Address(parsing: "s3://examplebucket/test.txt"), expires: 86400,
                                      now: Date(timeIntervalSince1970: 1_369_353_600))  // 2013-05-24T00:00:00Z
        let expected = "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        func parts(_ url: String) -> (String, Set<String>) {
            let split = url.split(separator: "?", maxSplits: 1)
            return (String(split[0]), Set(split.count > 1 ? split[1].split(separator: "&").map(String.init) : []))
        }
        XCTAssertEqual(parts(url).0, parts(expected).0)
        XCTAssertEqual(parts(url).1, parts(expected).1)
    }

    // MARK: Pieces

    func testURIEncodingKeepsUnreservedAndEncodesTheRestUpperCase() {
        XCTAssertEqual(URIEncoding.encode("AZaz09-._~", keepingSlash: false), "AZaz09-._~")
        XCTAssertEqual(URIEncoding.encode("a b/c", keepingSlash: true), "a%20b/c")
        XCTAssertEqual(URIEncoding.encode("a b/c", keepingSlash: false), "a%20b%2Fc")
        XCTAssertEqual(URIEncoding.encode("$+=&?%*", keepingSlash: true), "%24%2B%3D%26%3F%25%2A")
        XCTAssertEqual(URIEncoding.encode("\u{1234}", keepingSlash: true), "%E1%88%B4")
        XCTAssertEqual(URIEncoding.encode("é", keepingSlash: true), "%C3%A9")
    }

    func testURIEncodingEncodesOnce() {
        XCTAssertEqual(URIEncoding.encode("%20", keepingSlash: true), "%2520")
    }

    func testCanonicalQuerySortsByNameThenValueAfterEncoding() {
        XCTAssertEqual(URIEncoding.query([("b", "2"), ("a", "y"), ("a", "x"), ("lifecycle", "")]), "a=x&a=y&b=2&lifecycle=")
        XCTAssertEqual(URIEncoding.query([]), "")
        // Sorting is by code point of the encoded names: upper case before lower case.
        XCTAssertEqual(URIEncoding.query([("a", "1"), ("B", "2")]), "B=2&a=1")
        XCTAssertEqual(URIEncoding.query([("prefix", "a b/c")]), "prefix=a%20b%2Fc")
    }

    func testCanonicalHeaderValueTrimsAndFoldsSpaces() {
        XCTAssertEqual(SigV4Signer.canonicalValue("  a   b\t\tc  "), "a b c")
        XCTAssertEqual(SigV4Signer.canonicalValue("plain"), "plain")
        XCTAssertEqual(SigV4Signer.canonicalValue(""), "")
    }

    func testRepeatedHeadersJoinWithCommas() {
        let signer = SigV4Signer(credentials: S3Credentials(accessKeyId: "A", secretAccessKey: "S"), region: "r", service: "s")
        let request = SigV4Signer.Request(method: "GET", encodedPath: "/", headers: [("Host", "h"), ("X-A", "1"), ("x-a", " 2 ")],
                                          payloadHash: "UNSIGNED-PAYLOAD")
        let canonical = signer.canonicalRequest(request)
        XCTAssertEqual(canonical.text, "GET\n/\n\nhost:h\nx-a:1,2\n\nhost;x-a\nUNSIGNED-PAYLOAD")
        XCTAssertEqual(canonical.signedHeaders, "host;x-a")
    }

    func testAnEmptyPathIsSignedAsSlash() {
        let signer = SigV4Signer(credentials: S3Credentials(accessKeyId: "A", secretAccessKey: "S"), region: "r", service: "s")
        let request = SigV4Signer.Request(method: "GET", encodedPath: "", headers: [("host", "h")], payloadHash: "x")
        XCTAssertEqual(signer.canonicalRequest(request).text.split(separator: "\n", omittingEmptySubsequences: false)[1], "/")
    }

    func testAmzDateAndScope() {
        XCTAssertEqual(SigV4Signer.amzDate(Date(timeIntervalSince1970: 1_369_353_600)), "20130524T000000Z")
        XCTAssertEqual(SigV4Signer.amzDate(Date(timeIntervalSince1970: 1_440_938_160.9)), "20150830T123600Z")
        XCTAssertEqual(SigV4Signer.amzDate(Date(timeIntervalSince1970: 0)), "19700101T000000Z")
        let signer = SigV4Signer(credentials: S3Credentials(accessKeyId: "A", secretAccessKey: "S"), region: "eu-west-3")
        XCTAssertEqual(signer.scope("20150830T123600Z"), "20150830/eu-west-3/s3/aws4_request")
    }

    func testEmptyPayloadHash() {
        XCTAssertEqual(SigV4Signer.emptyPayloadHash, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
