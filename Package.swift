// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "hlsify",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "HLSKit", targets: ["HLSKit"]),
        .library(name: "HLSCore", targets: ["HLSCore"]),
        .executable(name: "hlsify", targets: ["hlsify"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // libav* (FFmpeg 5.1 on Debian 12) through its C API.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]
        ),
        // The few POSIX calls Swift's Glibc module hides (renameat2).
        .target(name: "CPosix"),
        // Pure Swift: playlists, ladder arithmetic, subtitles. No C imports.
        .target(name: "HLSCore"),
        // The engine: libav wrappers and the transcoding pipeline.
        .target(
            name: "HLSKit",
            dependencies: ["CFFmpeg", "CPosix", "HLSCore"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "hlsify",
            dependencies: ["HLSKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(name: "HLSCoreTests", dependencies: ["HLSCore"]),
        .testTarget(name: "HLSKitTests", dependencies: ["HLSKit"], swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
