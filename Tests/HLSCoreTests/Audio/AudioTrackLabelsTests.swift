import XCTest
@testable import HLSCore

final class AudioTrackLabelsTests: XCTestCase {
    private func track(_ language: String, described: Bool = false) -> AudioTrackLabels.Track {
        AudioTrackLabels.Track(language: language, describesVideo: described)
    }

    func testTheDefaultComesFirstInTheAudioFolderAndTheOthersKeepTheirOrder() {
        let labels = AudioTrackLabels.labels([track("fr"), track("en"), track("es"), track("en", described: true)], defaultIndex: 1)
        XCTAssertEqual(labels.map(\.language), ["en", "fr", "es", "en"])
        XCTAssertEqual(labels.map(\.folder), ["audio", "audio-fr", "audio-es", "audio-en-ad"])
        XCTAssertEqual(labels.map(\.isDefault), [true, false, false, false])
        XCTAssertEqual(labels.map(\.describesVideo), [false, false, false, true])
    }

    func testNamesAreInTheTracksOwnLanguage() {
        let labels = AudioTrackLabels.labels([track("en"), track("es"), track("de"), track("ja"), track("pt-BR")], defaultIndex: 0)
        XCTAssertEqual(labels.map(\.name), ["English", "Español", "Deutsch", "日本語", "Português"])
    }

    func testADescriptionSaysSoInItsLanguageOrInEnglish() {
        let labels = AudioTrackLabels.labels([track("en"), track("en", described: true), track("es", described: true),
                                              track("sw", described: true)], defaultIndex: 0)
        XCTAssertEqual(labels.map(\.name), ["English", "English (audio description)", "Español (audiodescripción)",
                                            "Kiswahili (audio description)"])
    }

    func testNamesAndFoldersAreUniqueInTheGroup() {
        let labels = AudioTrackLabels.labels([track("en"), track("en"), track("und"), track("und")], defaultIndex: 0)
        XCTAssertEqual(Set(labels.map(\.name)).count, 4, "\(labels.map(\.name))")
        XCTAssertEqual(labels.map(\.folder), ["audio", "audio-en", "audio-und", "audio-und-2"])
        XCTAssertEqual(labels.map(\.name), ["English", "English 2", "Audio 3", "Audio 4"])
        XCTAssertEqual(labels.map(\.autoselect), [true, false, true, false], "a second track of one language and kind is not autoselected")
        let described = AudioTrackLabels.labels([track("en"), track("en", described: true)], defaultIndex: 0)
        XCTAssertEqual(described.map(\.autoselect), [true, true], "a description differs by its characteristics")
    }

    func testAnUnknownLanguageOnTheDefaultIsMain() {
        XCTAssertEqual(AudioTrackLabels.labels([track("und")], defaultIndex: 0).map(\.name), ["Main"])
        XCTAssertEqual(AudioTrackLabels.labels([track("und")], defaultIndex: 3), [])
    }

    func testAFolderNeverLeavesTheOutput() {
        XCTAssertEqual(AudioTrackLabels.folder(language: "../x", describesVideo: false), "audio-x")
    }

    func testStrictParsingOfAGivenTag() {
        XCTAssertEqual(LanguageTag.parse("es"), "es")
        XCTAssertEqual(LanguageTag.parse("spa"), "es")
        XCTAssertEqual(LanguageTag.parse("pt-br"), "pt-BR")
        XCTAssertNil(LanguageTag.parse("english"))
        XCTAssertNil(LanguageTag.parse("e"))
        XCTAssertNil(LanguageTag.parse("en_US"))
        XCTAssertNil(LanguageTag.parse("en-"))
        XCTAssertNil(LanguageTag.parse(""))
    }

    func testThreeLetterCodesForTheContainers() {
        XCTAssertEqual(LanguageTag.alpha3("es"), "spa")
        XCTAssertEqual(LanguageTag.alpha3("fr-CA"), "fra")
        XCTAssertEqual(LanguageTag.alpha3("ger"), "deu")
        XCTAssertNil(LanguageTag.alpha3("und"))
        XCTAssertEqual(LanguageTag.alpha3("ast"), "ast")
        XCTAssertNil(LanguageTag.alpha3("xx"))
    }
}
