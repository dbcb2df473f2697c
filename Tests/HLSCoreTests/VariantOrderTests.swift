import XCTest
@testable import HLSCore

final class VariantOrderTests: XCTestCase {
    private func video(_ name: String, _ bandwidth: Int) -> Variant {
        Variant(uri: "\(name)/index.m3u8", bandwidth: bandwidth, averageBandwidth: bandwidth, codecs: ["avc1.64001f"],
                width: 16, height: 9)
    }

    private func audioOnly(_ bandwidth: Int, _ name: String = "audio-64k") -> Variant {
        Variant(uri: "\(name)/index.m3u8", bandwidth: bandwidth, averageBandwidth: bandwidth, codecs: ["mp4a.40.2"],
                width: 0, height: 0)
    }

    private func uris(_ variants: [Variant]) -> [String] { variants.map { $0.uri.components(separatedBy: "/")[0] } }

    func testAMiddleRungComesFirstThenHighestToLowest() {
        // 480p (1.5 Mb/s) is nearer 2 Mb/s than 720p (2.9), but it is the bottom rung.
        let ladder = [video("480p", 1_500_000), video("1080p", 5_000_000), video("720p", 2_900_000)]
        XCTAssertEqual(uris(VariantOrder.listing(ladder)), ["720p", "1080p", "480p"])
        let five = [video("240p", 400_000), video("360p", 800_000), video("480p", 1_400_000),
                    video("720p", 2_800_000), video("1080p", 5_000_000)]
        // 1.4 Mb/s is 1.43× from 2, 2.8 Mb/s is 1.4× from it.
        XCTAssertEqual(uris(VariantOrder.listing(five)), ["720p", "1080p", "480p", "360p", "240p"])
    }

    func testWithTwoRungsTheNearestOnALogScaleComesFirst() {
        // 4.1 Mb/s is 2.05× from 2 Mb/s, 0.9 Mb/s 2.2×: linear distance would pick 0.9.
        XCTAssertEqual(uris(VariantOrder.listing([video("a", 4_100_000), video("b", 900_000)])), ["a", "b"])
        XCTAssertEqual(uris(VariantOrder.listing([video("a", 5_000_000), video("b", 1_500_000)])), ["b", "a"])
    }

    func testAudioOnlyVariantIsNeverFirstBesideVideo() {
        let variants = [video("1080p", 9_000_000), audioOnly(2_000_000), video("720p", 6_000_000)]
        XCTAssertEqual(uris(VariantOrder.listing(variants)), ["720p", "1080p", "audio-64k"])
        let ladder = [video("1080p", 5_000_000), video("720p", 2_900_000), video("480p", 1_500_000), audioOnly(70_000)]
        XCTAssertEqual(uris(VariantOrder.listing(ladder)), ["720p", "1080p", "480p", "audio-64k"])
    }

    func testAudioOnlySetsAndSingleVariantsKeepTheirOnlyChoice() {
        XCTAssertEqual(uris(VariantOrder.listing([audioOnly(70_000)])), ["audio-64k"])
        XCTAssertEqual(uris(VariantOrder.listing([audioOnly(70_000, "low"), audioOnly(140_000, "main")])), ["main", "low"])
        XCTAssertEqual(VariantOrder.listing([]), [])
        XCTAssertEqual(uris(VariantOrder.listing([video("360p", 800_000)])), ["360p"])
    }
}
