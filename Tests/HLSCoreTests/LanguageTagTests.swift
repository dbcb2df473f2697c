import XCTest
@testable import HLSCore

final class LanguageTagTests: XCTestCase {
    func testThreeLetterCodesBecomeTheShortestTag() {
        XCTAssertEqual(LanguageTag.normalize("eng"), "en")
        XCTAssertEqual(LanguageTag.normalize("fre"), "fr")
        XCTAssertEqual(LanguageTag.normalize("fra"), "fr")
        XCTAssertEqual(LanguageTag.normalize("ger"), "de")
        XCTAssertEqual(LanguageTag.normalize("chi"), "zh")
    }

    func testUnknownOrMissingIsUnd() {
        XCTAssertEqual(LanguageTag.normalize(nil), "und")
        XCTAssertEqual(LanguageTag.normalize(""), "und")
        XCTAssertEqual(LanguageTag.normalize("und"), "und")
        XCTAssertEqual(LanguageTag.normalize("mul"), "und")
        XCTAssertEqual(LanguageTag.normalize("e\"n"), "und")
        XCTAssertEqual(LanguageTag.normalize("toolongcode"), "und")
    }

    func testRegionAndScriptCasing() {
        XCTAssertEqual(LanguageTag.normalize("pt_br"), "pt-BR")
        XCTAssertEqual(LanguageTag.normalize("zh-hant"), "zh-Hant")
        XCTAssertEqual(LanguageTag.normalize("EN"), "en")
    }

    func testThreeLetterCodesWithoutATwoLetterFormStay() {
        XCTAssertEqual(LanguageTag.normalize("yue"), "yue")
    }

    func testDisplayNames() {
        XCTAssertEqual(LanguageTag.displayName("en"), "English")
        XCTAssertEqual(LanguageTag.displayName("fr-CA"), "French")
        XCTAssertEqual(LanguageTag.displayName("deu"), "German")
        XCTAssertEqual(LanguageTag.displayName("xx"), "xx")
    }
}
