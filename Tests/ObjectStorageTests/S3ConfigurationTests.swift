import XCTest
@testable import ObjectStorage

final class S3ConfigurationTests: XCTestCase {
    private let secret = "wJalrXUtnFEMI-SECRET-VALUE"
    private var credentials: [String: String] { ["AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": secret] }

    private func environment(_ extra: [String: String]) -> [String: String] {
        credentials.merging(extra) { _, new in new }
    }

    /// The message of the `configuration` error `body` throws; fails when it throws nothing or something else.
    private func configurationError<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            let value = try body()
            XCTFail("accepted: \(value)", file: file, line: line)
            return nil
        } catch {
            guard case .configuration(let message)? = error as? StorageError else {
                XCTFail("threw \(error), not configuration", file: file, line: line)
                return nil
            }
            return message
        }
    }

    // MARK: Credentials

    func testMissingCredentialsNameTheVariables() {
        let message = configurationError { try S3Configuration.fromEnvironment([:]) } ?? ""
        XCTAssertTrue(message.contains("AWS_ACCESS_KEY_ID"), message)
        XCTAssertTrue(message.contains("AWS_SECRET_ACCESS_KEY"), message)
    }

    func testAMissingKeyIdNeverShowsTheSecret() {
        let message = configurationError { try S3Configuration.fromEnvironment(["AWS_SECRET_ACCESS_KEY": self.secret]) } ?? ""
        XCTAssertFalse(message.isEmpty)
        XCTAssertFalse(message.contains(secret), message)
    }

    func testAMissingSecretIsMissingCredentials() {
        let message = configurationError { try S3Configuration.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKIDTEST"]) } ?? ""
        XCTAssertTrue(message.contains("AWS_SECRET_ACCESS_KEY"), message)
    }

    func testBlankCredentialsCountAsMissing() {
        _ = configurationError { try S3Configuration.fromEnvironment(["AWS_ACCESS_KEY_ID": "  ", "AWS_SECRET_ACCESS_KEY": self.secret]) }
        _ = configurationError { try S3Configuration.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": ""]) }
    }

    func testCredentialsAreReadAndTrimmed() throws {
        let configuration = try S3Configuration.fromEnvironment(["AWS_ACCESS_KEY_ID": " AKIDTEST\n", "AWS_SECRET_ACCESS_KEY": secret,
                                                                  "AWS_SESSION_TOKEN": "token-value"])
        XCTAssertEqual(configuration.credentials.accessKeyId, "AKIDTEST")
        XCTAssertEqual(configuration.credentials.secretAccessKey, secret)
        XCTAssertEqual(configuration.credentials.sessionToken, "token-value")
        XCTAssertNil(try S3Configuration.fromEnvironment(credentials).credentials.sessionToken)
    }

    func testABadValueElsewhereNeverShowsTheSecret() {
        for extra in [["HLSIFY_S3_RETRIES": "many"], ["AWS_ENDPOINT_URL": "ftp://x"], ["AWS_REGION": "Bad Region"],
                      ["HLSIFY_S3_ADDRESSING": "sideways"]] {
            let message = configurationError { try S3Configuration.fromEnvironment(self.environment(extra)) } ?? ""
            XCTAssertFalse(message.isEmpty, "\(extra)")
            XCTAssertFalse(message.contains(secret), message)
        }
    }

    // MARK: Region

    func testRegionDefaultsToUSEast1() throws {
        XCTAssertEqual(try S3Configuration.fromEnvironment(credentials).region, "us-east-1")
    }

    func testAWSRegionWinsOverAWSDefaultRegion() throws {
        let configuration = try S3Configuration.fromEnvironment(environment(["AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "ap-south-1"]))
        XCTAssertEqual(configuration.region, "eu-west-3")
    }

    func testAWSDefaultRegionAlone() throws {
        XCTAssertEqual(try S3Configuration.fromEnvironment(environment(["AWS_DEFAULT_REGION": "ap-south-1"])).region, "ap-south-1")
    }

    func testABlankAWSRegionFallsBackToTheDefaultRegion() throws {
        XCTAssertEqual(try S3Configuration.fromEnvironment(environment(["AWS_REGION": " ", "AWS_DEFAULT_REGION": "ap-south-1"])).region,
                       "ap-south-1")
    }

    func testExplicitRegionWins() throws {
        XCTAssertEqual(try S3Configuration.fromEnvironment(environment(["AWS_REGION": "eu-west-3"]), region: "us-west-2").region, "us-west-2")
    }

    func testAMalformedRegionIsRefused() {
        _ = configurationError { try S3Configuration.fromEnvironment(self.environment(["AWS_REGION": "EU_WEST"])) }
        _ = configurationError { try S3Configuration.fromEnvironment(self.credentials, region: "") }
        _ = configurationError { try S3Configuration.fromEnvironment(self.credentials, region: "us-east-1.evil.com/") }
    }

    // MARK: Endpoint

    func testDefaultEndpointIsAWSsRegionalOne() throws {
        let configuration = try S3Configuration.fromEnvironment(environment(["AWS_REGION": "eu-west-3"]))
        XCTAssertEqual(configuration.endpoint, try S3Endpoint(parsing: "https://s3.eu-west-3.amazonaws.com"))
        XCTAssertTrue(configuration.endpoint.secure)
        XCTAssertEqual(configuration.endpoint.host, "s3.eu-west-3.amazonaws.com")
        XCTAssertNil(configuration.endpoint.port)
        XCTAssertEqual(configuration.addressing, .path)
    }

    func testEndpointURLWithPortAndTrailingSlash() throws {
        let endpoint = try S3Configuration.fromEnvironment(environment(["AWS_ENDPOINT_URL": "http://localhost:9000/"])).endpoint
        XCTAssertFalse(endpoint.secure)
        XCTAssertEqual(endpoint.host, "localhost")
        XCTAssertEqual(endpoint.port, 9000)
        XCTAssertEqual(endpoint.description, "http://localhost:9000")
    }

    func testS3SpecificEndpointWinsOverTheGeneralOne() throws {
        let endpoint = try S3Configuration.fromEnvironment(environment(["AWS_ENDPOINT_URL": "http://general:9000",
                                                                         "AWS_ENDPOINT_URL_S3": "http://s3only:9100"])).endpoint
        XCTAssertEqual(endpoint.host, "s3only")
        XCTAssertEqual(endpoint.port, 9100)
    }

    func testExplicitEndpointWins() throws {
        let endpoint = try S3Configuration.fromEnvironment(environment(["AWS_ENDPOINT_URL": "http://env:9000"]),
                                                           endpoint: "https://minio.example:8443").endpoint
        XCTAssertEqual(endpoint, try S3Endpoint(parsing: "https://minio.example:8443"))
    }

    func testAMalformedEndpointURLIsRefused() {
        let message = configurationError { try S3Configuration.fromEnvironment(self.environment(["AWS_ENDPOINT_URL": "localhost:9000"])) }
        XCTAssertTrue(message?.contains("localhost:9000") ?? false, message ?? "")
    }

    // MARK: Addressing

    func testAddressingFromTheEnvironment() throws {
        XCTAssertEqual(try S3Configuration.fromEnvironment(environment(["HLSIFY_S3_ADDRESSING": "virtual"])).addressing, .virtual)
        XCTAssertEqual(try S3Configuration.fromEnvironment(environment(["HLSIFY_S3_ADDRESSING": "path"])).addressing, .path)
    }

    func testABadAddressingValueIsRefused() {
        for bad in ["Virtual", "vhost", "1"] {
            let message = configurationError { try S3Configuration.fromEnvironment(self.environment(["HLSIFY_S3_ADDRESSING": bad])) } ?? ""
            XCTAssertTrue(message.contains("HLSIFY_S3_ADDRESSING"), message)
        }
    }

    func testExplicitAddressingWins() throws {
        let configuration = try S3Configuration.fromEnvironment(environment(["HLSIFY_S3_ADDRESSING": "path"]), addressing: .virtual)
        XCTAssertEqual(configuration.addressing, .virtual)
        // An explicit choice even hides a bad environment value.
        XCTAssertEqual(try S3Configuration.fromEnvironment(environment(["HLSIFY_S3_ADDRESSING": "bad"]), addressing: .path).addressing, .path)
    }

    // MARK: Transfer knobs

    func testKnobDefaults() throws {
        let configuration = try S3Configuration.fromEnvironment(credentials)
        XCTAssertEqual(configuration.retries, 4)
        XCTAssertEqual(configuration.retryDelay, 0.5)
        XCTAssertEqual(configuration.stallSeconds, 30)
        XCTAssertEqual(configuration.multipartBytes, 16 << 20)
        XCTAssertEqual(configuration.parallelUploads, 4)
    }

    func testKnobsFromTheEnvironment() throws {
        let configuration = try S3Configuration.fromEnvironment(environment([
            "HLSIFY_S3_RETRIES": "7", "HLSIFY_S3_RETRY_DELAY": "1.5", "HLSIFY_S3_STALL_SECONDS": "3600",
            "HLSIFY_S3_MULTIPART_BYTES": String(64 << 20),
        ]))
        XCTAssertEqual(configuration.retries, 7)
        XCTAssertEqual(configuration.retryDelay, 1.5)
        XCTAssertEqual(configuration.stallSeconds, 3600)
        XCTAssertEqual(configuration.multipartBytes, 64 << 20)
    }

    func testKnobRangeEnds() throws {
        let low = try S3Configuration.fromEnvironment(environment(["HLSIFY_S3_RETRIES": "0", "HLSIFY_S3_RETRY_DELAY": "0",
                                                                   "HLSIFY_S3_STALL_SECONDS": "1"]))
        XCTAssertEqual(low.retries, 0)
        XCTAssertEqual(low.retryDelay, 0)
        XCTAssertEqual(low.stallSeconds, 1)
        let high = try S3Configuration.fromEnvironment(environment(["HLSIFY_S3_RETRIES": "20", "HLSIFY_S3_RETRY_DELAY": "60"]))
        XCTAssertEqual(high.retries, 20)
        XCTAssertEqual(high.retryDelay, 60)
    }

    /// Parts below AWS's 5 MiB minimum are allowed down to 64 KiB (for servers that accept them).
    func testPartSizeRangeEnds() throws {
        XCTAssertEqual(try S3Configuration.fromEnvironment(environment(["HLSIFY_S3_MULTIPART_BYTES": "65536"])).multipartBytes, 65536)
        XCTAssertEqual(try S3Configuration.fromEnvironment(environment(["HLSIFY_S3_MULTIPART_BYTES": String(5 << 30)])).multipartBytes,
                       5 << 30)
        XCTAssertEqual(S3Limits.minimumPartBytes, 5 << 20)
    }

    func testKnobsOutOfRangeAreRefusedByName() {
        let bad: [(String, String)] = [
            ("HLSIFY_S3_RETRIES", "21"), ("HLSIFY_S3_RETRIES", "-1"), ("HLSIFY_S3_RETRIES", "many"),
            ("HLSIFY_S3_RETRY_DELAY", "61"), ("HLSIFY_S3_RETRY_DELAY", "-0.5"),
            ("HLSIFY_S3_STALL_SECONDS", "0"), ("HLSIFY_S3_STALL_SECONDS", "3601"),
            ("HLSIFY_S3_MULTIPART_BYTES", String((5 << 30) + 1)), ("HLSIFY_S3_MULTIPART_BYTES", "65535"),
            ("HLSIFY_S3_MULTIPART_BYTES", "1000"), ("HLSIFY_S3_MULTIPART_BYTES", "lots"),
        ]
        for (name, value) in bad {
            let message = configurationError { try S3Configuration.fromEnvironment(self.environment([name: value])) } ?? ""
            XCTAssertTrue(message.contains(name), "\(name)=\(value): \(message)")
        }
    }

    // MARK: Printing never shows the secret

    func testCredentialsDescriptionHidesTheSecret() {
        let credentials = S3Credentials(accessKeyId: "AKIDTEST", secretAccessKey: secret, sessionToken: "SESSION-TOKEN-VALUE")
        for text in [credentials.description, credentials.debugDescription, "\(credentials)", String(reflecting: credentials)] {
            XCTAssertTrue(text.contains("AKIDTEST"), text)
            XCTAssertFalse(text.contains(secret), text)
            XCTAssertFalse(text.contains("SESSION-TOKEN-VALUE"), text)
        }
    }

    func testConfigurationDescriptionHidesTheSecret() throws {
        let configuration = try S3Configuration.fromEnvironment(environment(["AWS_SESSION_TOKEN": "SESSION-TOKEN-VALUE"]))
        for text in ["\(configuration)", String(reflecting: configuration)] {
            XCTAssertFalse(text.contains(secret), text)
            XCTAssertFalse(text.contains("SESSION-TOKEN-VALUE"), text)
        }
    }

    // MARK: S3Endpoint

    func testEndpointForms() throws {
        let plain = try S3Endpoint(parsing: "https://s3.example.com")
        XCTAssertEqual(plain.host, "s3.example.com")
        XCTAssertNil(plain.port)
        XCTAssertTrue(plain.secure)
        XCTAssertEqual(try S3Endpoint(parsing: "http://127.0.0.1:9000").port, 9000)
        XCTAssertEqual(try S3Endpoint(parsing: "http://127.0.0.1:9000/"), try S3Endpoint(parsing: "http://127.0.0.1:9000"))
        XCTAssertEqual(try S3Endpoint(parsing: "http://h:1").port, 1)
        XCTAssertEqual(try S3Endpoint(parsing: "http://h:65535").port, 65535)
    }

    func testEndpointIPv6() throws {
        let withPort = try S3Endpoint(parsing: "http://[::1]:9000")
        XCTAssertEqual(withPort.host, "[::1]")
        XCTAssertEqual(withPort.port, 9000)
        let bare = try S3Endpoint(parsing: "http://[::1]")
        XCTAssertEqual(bare.host, "[::1]")
        XCTAssertNil(bare.port)
    }

    func testDefaultPortsAreLeftOutOfTheHostHeader() throws {
        XCTAssertEqual(try S3Endpoint(parsing: "https://h:443").description, "https://h")
        XCTAssertEqual(try S3Endpoint(parsing: "http://h:80").hostHeader("b.h"), "b.h")
        XCTAssertEqual(try S3Endpoint(parsing: "http://h:443").hostHeader("h"), "h:443")
        XCTAssertEqual(try S3Endpoint(parsing: "https://h:9000").hostHeader("bucket.h"), "bucket.h:9000")
    }

    func testEndpointRefusals() {
        for bad in ["https://user@host", "https://user:pass@host:9000", "https://host/path", "http://host:9000/bucket",
                    "http://host:0", "http://host:65536", "http://host:abc", "http://host:", "http://host:-1",
                    "ftp://host", "host:9000", "http://", "https:///", "https://host?x=1", "https://host#frag",
                    "http://ho st", "HTTP://host"] {
            let message = configurationError { try S3Endpoint(parsing: bad) }
            XCTAssertNotNil(message, bad)
        }
    }
}
