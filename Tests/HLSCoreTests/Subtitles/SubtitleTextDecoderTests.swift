import Foundation
import XCTest
@testable import HLSCore

final class SubtitleTextDecoderTests: XCTestCase {
    func testUTF8WithoutBOM() {
        let (text, encoding) = SubtitleTextDecoder.decode(Array("Café —".utf8))
        XCTAssertEqual(text, "Café —")
        XCTAssertEqual(encoding, .utf8)
    }

    func testUTF8BOMIsRemoved() {
        let (text, encoding) = SubtitleTextDecoder.decode([0xEF, 0xBB, 0xBF, 0x31, 0x0A])
        XCTAssertEqual(text, "1\n")
        XCTAssertEqual(encoding, .utf8)
    }

    func testUTF16LittleEndianWithBOM() {
        // "é\n" then U+1F600 as a surrogate pair.
        let bytes: [UInt8] = [0xFF, 0xFE, 0xE9, 0x00, 0x0A, 0x00, 0x3D, 0xD8, 0x00, 0xDE]
        let (text, encoding) = SubtitleTextDecoder.decode(bytes)
        XCTAssertEqual(text, "é\n\u{1F600}")
        XCTAssertEqual(encoding, .utf16LittleEndian)
    }

    func testUTF16BigEndianWithBOM() {
        let bytes: [UInt8] = [0xFE, 0xFF, 0x00, 0xE9, 0x00, 0x0A, 0xD8, 0x3D, 0xDE, 0x00]
        let (text, encoding) = SubtitleTextDecoder.decode(bytes)
        XCTAssertEqual(text, "é\n\u{1F600}")
        XCTAssertEqual(encoding, .utf16BigEndian)
    }

    func testUTF16LoneSurrogateAndOddByteBecomeReplacementCharacters() {
        let bytes: [UInt8] = [0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00, 0x42]
        XCTAssertEqual(SubtitleTextDecoder.decode(bytes).text, "\u{FFFD}A\u{FFFD}")
    }

    func testUTF32BothEndiansWithBOM() {
        let little: [UInt8] = [0xFF, 0xFE, 0x00, 0x00, 0xE9, 0x00, 0x00, 0x00, 0x00, 0xF6, 0x01, 0x00]
        XCTAssertEqual(SubtitleTextDecoder.decode(little).text, "é\u{1F600}")
        XCTAssertEqual(SubtitleTextDecoder.decode(little).encoding, .utf32LittleEndian)
        let big: [UInt8] = [0x00, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x00, 0xE9, 0x00, 0x01, 0xF6, 0x00]
        XCTAssertEqual(SubtitleTextDecoder.decode(big).text, "é\u{1F600}")
        XCTAssertEqual(SubtitleTextDecoder.decode(big).encoding, .utf32BigEndian)
    }

    func testUTF32OutOfRangeValueIsReplaced() {
        let bytes: [UInt8] = [0xFF, 0xFE, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x41, 0x00, 0x00, 0x00]
        XCTAssertEqual(SubtitleTextDecoder.decode(bytes).text, "\u{FFFD}A")
    }

    func testInvalidUTF8FallsBackToWindows1252() {
        // 0x93 Hé 0x94 0x80: “Hé”€ in Windows-1252, invalid as UTF-8.
        let (text, encoding) = SubtitleTextDecoder.decode([0x93, 0x48, 0xE9, 0x94, 0x20, 0x80])
        XCTAssertEqual(text, "\u{201C}Hé\u{201D} €")
        XCTAssertEqual(encoding, .windows1252)
    }

    func testWindows1252UndefinedBytesMapToC1Controls() {
        let (text, _) = SubtitleTextDecoder.decode([0x81, 0x8D, 0x8F, 0x90, 0x9D])
        XCTAssertEqual(text.unicodeScalars.map(\.value), [0x81, 0x8D, 0x8F, 0x90, 0x9D])
    }

    /// Cross-check the hand-written table against Foundation where Foundation defines the byte.
    func testWindows1252TableMatchesFoundation() {
        for byte in UInt8.min...UInt8.max {
            guard let expected = String(data: Data([byte]), encoding: .windowsCP1252) else { continue }
            XCTAssertEqual(String(Windows1252.scalar(for: byte)), expected, "byte \(byte)")
        }
    }

    func testUTF8CutInsideLastCharacterStaysUTF8() {
        // "é" + first byte of "€" (E2 82 AC) at the end.
        let (text, encoding) = SubtitleTextDecoder.decode([0xC3, 0xA9, 0xE2, 0x82])
        XCTAssertEqual(encoding, .utf8)
        XCTAssertEqual(text, "é\u{FFFD}")
    }

    func testEmptyInput() {
        XCTAssertEqual(SubtitleTextDecoder.decode([]).text, "")
        XCTAssertEqual(SubtitleTextDecoder.decode([]).encoding, .utf8)
    }
}
