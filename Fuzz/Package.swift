// swift-tools-version:6.0
// libFuzzer target for the SRT parser, kept out of the main package so a normal build never
// needs -sanitize=fuzzer. Build and run it with ./run.sh.
import PackageDescription

let package = Package(
    name: "HLSFuzz",
    dependencies: [
        .package(name: "hlsify", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "SRTFuzzer",
            dependencies: [.product(name: "HLSCore", package: "hlsify")]
        ),
    ]
)
