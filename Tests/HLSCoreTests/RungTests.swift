import XCTest
import HLSCore

final class RungTests: XCTestCase {
    func testParsesPlainRungs() throws {
        XCTAssertEqual(try Rung(parsing: "1080p"), Rung(shortSide: 1080))
        XCTAssertEqual(try Rung(parsing: "720P"), Rung(shortSide: 720))
        XCTAssertEqual(try Rung(parsing: "  480p \t"), Rung(shortSide: 480))
        XCTAssertEqual(try Rung(parsing: "4320p").shortSide, 4320)
        XCTAssertEqual(try Rung(parsing: "2p").shortSide, 2)
    }

    func testParsesBitrateForms() throws {
        XCTAssertEqual(try Rung(parsing: "720p@2800k").videoBitrate, 2_800_000)
        XCTAssertEqual(try Rung(parsing: "720p@2800K").videoBitrate, 2_800_000)
        XCTAssertEqual(try Rung(parsing: "720p@2.8M").videoBitrate, 2_800_000)
        XCTAssertEqual(try Rung(parsing: "720p@2.8m").videoBitrate, 2_800_000)
        XCTAssertEqual(try Rung(parsing: "720p@2800000").videoBitrate, 2_800_000)
        XCTAssertEqual(try Rung(parsing: "1080p@5M").videoBitrate, 5_000_000)
        XCTAssertEqual(try Rung(parsing: "480p@1.25M").videoBitrate, 1_250_000)
        XCTAssertEqual(try Rung(parsing: "480p@0.5M").videoBitrate, 500_000)
        XCTAssertEqual(try Rung(parsing: "240p@64.5k").videoBitrate, 64_500)
        XCTAssertEqual(try Rung(parsing: "720p@2800k").shortSide, 720)
    }

    func testNameAndDescription() throws {
        XCTAssertEqual(Rung(shortSide: 720).name, "720p")
        XCTAssertEqual(Rung(shortSide: 720, videoBitrate: 2_800_000).name, "720p")
        XCTAssertEqual(Rung(shortSide: 720).description, "720p")
        XCTAssertEqual(Rung(shortSide: 720, videoBitrate: 2_800_000).description, "720p@2800k")
        XCTAssertEqual(Rung(shortSide: 720, videoBitrate: 2_800_500).description, "720p@2800500")
        for text in ["720p", "720p@2800k", "360p@123456", "1080p@4.5M"] {
            let rung = try Rung(parsing: text)
            XCTAssertEqual(try Rung(parsing: rung.description), rung, text)
        }
    }

    func testRejectsBadShortSides() {
        assertRejected("0p", mentioning: "greater than 0")
        assertRejected("721p", mentioning: "even")
        assertRejected("4322p", mentioning: "4320")
        assertRejected("99999999999999999999999p", mentioning: "4320")
        assertRejected("-720p", mentioning: "720p")
        assertRejected("720", mentioning: "followed by p")
        assertRejected("p", mentioning: "followed by p")
        assertRejected("720px", mentioning: "followed by p")
        assertRejected("1280x720", mentioning: "followed by p")
        assertRejected("hd", mentioning: "followed by p")
        assertRejected("", mentioning: "followed by p")
        assertRejected("7 20p", mentioning: "followed by p")
        assertRejected("٧٢٠p", mentioning: "followed by p")  // non-ASCII digits
    }

    func testRejectsBadBitrates() {
        assertRejected("720p@", mentioning: "bitrate")
        assertRejected("720p@fast", mentioning: "bitrate")
        assertRejected("720p@2800kb", mentioning: "bitrate")
        assertRejected("720p@2.8.1M", mentioning: "bitrate")
        assertRejected("720p@.5M", mentioning: "bitrate")
        assertRejected("720p@5.M", mentioning: "bitrate")
        assertRejected("720p@-2800k", mentioning: "bitrate")
        assertRejected("720p@2800", mentioning: "outside")   // 2800 bits/s: surely meant kb/s
        assertRejected("720p@0k", mentioning: "outside")
        assertRejected("720p@2G", mentioning: "bitrate")
        assertRejected("720p@5000M", mentioning: "outside")
        assertRejected("720p@99999999999999999999M", mentioning: "bitrate")
        assertRejected("720p@2800k@3000k", mentioning: "more than one")
    }

    func testParsesLadderSortedHighToLow() throws {
        XCTAssertEqual(try Rung.parseLadder("1080p,720p,480p"),
                       [Rung(shortSide: 1080), Rung(shortSide: 720), Rung(shortSide: 480)])
        XCTAssertEqual(try Rung.parseLadder(" 480p , 1080p@6M,720p "),
                       [Rung(shortSide: 1080, videoBitrate: 6_000_000), Rung(shortSide: 720), Rung(shortSide: 480)])
        XCTAssertEqual(try Rung.parseLadder("360p"), [Rung(shortSide: 360)])
    }

    func testRejectsBadLadders() {
        assertLadderRejected("", mentioning: "empty")
        assertLadderRejected("  ", mentioning: "empty")
        assertLadderRejected("1080p,,720p", mentioning: "empty entry")
        assertLadderRejected("1080p,720p,", mentioning: "empty entry")
        assertLadderRejected("720p,480p,720p", mentioning: "720p appears more than once")
        assertLadderRejected("720p@2M,720p@3M", mentioning: "720p appears more than once")
        assertLadderRejected("1080p,721p", mentioning: "721p")
    }

    func testDefaultLadder() {
        XCTAssertEqual(Rung.defaultLadder.map(\.name), ["1080p", "720p", "480p", "360p", "240p"])
        XCTAssertTrue(Rung.defaultLadder.allSatisfy { $0.videoBitrate == nil })
    }

    private func assertRejected(_ text: String, mentioning fragment: String, line: UInt = #line) {
        do {
            let rung = try Rung(parsing: text)
            XCTFail("\"\(text)\" parsed as \(rung)", line: line)
        } catch {
            XCTAssertTrue(error.message.contains(fragment), "message \"\(error.message)\" lacks \"\(fragment)\"", line: line)
            XCTAssertTrue(error.message.contains("\"\(text.trimmingCharactersForTest())\""),
                          "message \"\(error.message)\" does not quote the input", line: line)
        }
    }

    private func assertLadderRejected(_ text: String, mentioning fragment: String, line: UInt = #line) {
        do {
            let rungs = try Rung.parseLadder(text)
            XCTFail("\"\(text)\" parsed as \(rungs)", line: line)
        } catch {
            XCTAssertTrue(error.message.contains(fragment), "message \"\(error.message)\" lacks \"\(fragment)\"", line: line)
        }
    }
}

private extension String {
    func trimmingCharactersForTest() -> String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
