// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "hlsify",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "HLSKit", targets: ["HLSKit"]),
        .library(name: "HLSCore", targets: ["HLSCore"]),
        .library(name: "TranscodeJobs", targets: ["TranscodeJobs"]),
        .library(name: "TranscodeQueue", targets: ["TranscodeQueue"]),
        .executable(name: "hlsify", targets: ["hlsify"]),
        .executable(name: "transcode-worker", targets: ["transcode-worker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.4.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // libav* (FFmpeg 5.1 on Debian 12) through its C API.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev",
                              "libavfilter-dev"])]
        ),
        // The few POSIX calls Swift's Glibc module hides (renameat2).
        .target(name: "CPosix"),
        // SSIM and squared error of 8-bit planes for --measure-quality: the per-pixel loops in C.
        .target(name: "CQuality"),
        // EBU R128 loudness (BS.1770-4 K-weighting, gating, loudness range, 4x true peak) and a
        // true-peak lookahead limiter, for loudness normalisation: the per-sample loops in C.
        .target(name: "CLoudness"),
        // librabbitmq 0.11 (Debian 12's librabbitmq-dev) through its C API; only TranscodeQueue/AMQP uses it.
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        // libcurl (Debian 12's libcurl4-openssl-dev) through its C API: HTTP/1.1 and TLS for ObjectStorage.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // Pure Swift: playlists, ladder arithmetic, subtitles. No C imports.
        .target(name: "HLSCore"),
        // The engine: libav wrappers and the transcoding pipeline.
        .target(
            name: "HLSKit",
            dependencies: ["CFFmpeg", "CPosix", "CQuality", "CLoudness", "HLSCore"]
        ),
        // The job contract (job model, strict decoding, path rules, events) and the AMQP layer with
        // job submission: what an upload API links to enqueue jobs. No FFmpeg, no engine.
        .target(
            name: "TranscodeJobs",
            dependencies: [
                "CRabbitMQ", "HLSCore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // S3-compatible object storage: `s3://` addresses, a strict SigV4 signer (swift-crypto's
        // HMAC and SHA-256), a small client on libcurl (ranged GET, HEAD, PUT, multipart, DELETE, list
        // v2, copy; retries on 5xx and connection errors), and the transfers the tools need: an input
        // spooled to local disk, an HLS set published in order (segments, playlists, master last).
        .target(
            name: "ObjectStorage",
            dependencies: ["CCurl", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The worker: output layout, claims and locks, the delivery loop, the engine bridge.
        .target(
            name: "TranscodeQueue",
            dependencies: [
                "CPosix", "TranscodeJobs", "HLSKit", "ObjectStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The worker's operator endpoints: Prometheus metrics (swift-metrics with swift-prometheus)
        // and health checks, served by Hummingbird on a loopback port by default.
        .target(
            name: "OperatorHTTP",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // `hlsify preview`: a loopback HTTP server on Hummingbird (connection and request policy as
        // NIO handlers; range, path and host rules pure and unit-tested) serving an output folder
        // and its PreviewPage.
        .target(
            name: "PreviewServer",
            dependencies: [
                "HLSCore",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "hlsify",
            dependencies: [
                "HLSKit", "PreviewServer", "ObjectStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "transcode-worker",
            dependencies: [
                "TranscodeQueue", "HLSKit", "ObjectStorage", "OperatorHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The ffmpeg command-line runner the Swift test targets share (tests only).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "HLSCoreTests", dependencies: ["HLSCore", "TestSupport"]),
        .testTarget(name: "HLSKitTests", dependencies: ["HLSKit", "TestSupport"]),
        .testTarget(name: "TranscodeJobsTests", dependencies: ["TranscodeJobs"]),
        .testTarget(name: "TranscodeQueueTests", dependencies: ["TranscodeQueue"]),
        .testTarget(name: "PreviewServerTests", dependencies: [
            "PreviewServer",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "OperatorHTTPTests", dependencies: [
            "OperatorHTTP",
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "ObjectStorageTests", dependencies: ["ObjectStorage"]),
    ]
)
