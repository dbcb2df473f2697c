import Foundation

/// How one audio rendition is listed in the master's audio group: its language, a name in that
/// language, whether it plays by default and whether it describes the video.
public struct AudioTrackLabel: Sendable, Equatable, Codable {
    /// BCP 47 tag (`es`, `pt-BR`), `und` when unknown.
    public var language: String
    /// NAME: unique in the group, in the track's own language ("Español", "English (audio description)").
    public var name: String
    public var isDefault: Bool
    /// CHARACTERISTICS="public.accessibility.describes-video".
    public var describesVideo: Bool
    /// The rendition's folder in the output (`audio` for the default track).
    public var folder: String
    /// AUTOSELECT=YES: a player may pick it by the viewer's language and needs. NO for a track
    /// whose language and characteristics an earlier one has (RFC 8216 4.3.4.1.1: the
    /// autoselected renditions of a group must be told apart by them).
    public var autoselect: Bool

    public init(language: String, name: String, isDefault: Bool, describesVideo: Bool, folder: String, autoselect: Bool = true) {
        self.language = language
        self.name = name
        self.isDefault = isDefault
        self.describesVideo = describesVideo
        self.folder = folder
        self.autoselect = autoselect
    }
}

/// Names and folders of the audio renditions of one set. Pure; the language names come from
/// Foundation's locale data (ICU), with the English name as the fallback.
public enum AudioTrackLabels {
    /// One track to label, in the order the set lists them (the source's streams, then the files).
    public struct Track: Sendable, Equatable {
        public var language: String
        public var describesVideo: Bool
        public init(language: String, describesVideo: Bool) {
            self.language = language
            self.describesVideo = describesVideo
        }
    }

    /// Folder of the default track: the set's one audio folder before alternate tracks existed.
    public static let defaultFolder = "audio"

    /// Labels for `tracks`, `defaultIndex` the one marked DEFAULT=YES (listed first, in folder
    /// `audio`); the others keep their order in folders `audio-LANG` (`-ad` for a description).
    /// Names and folders are made unique with a number ("English 2", `audio-en-2`); of tracks
    /// with the same language and characteristics only the first is autoselected.
    public static func labels(_ tracks: [Track], defaultIndex: Int) -> [AudioTrackLabel] {
        guard tracks.indices.contains(defaultIndex) else { return [] }
        let ordered = [tracks[defaultIndex]] + tracks.enumerated().filter { $0.offset != defaultIndex }.map(\.element)
        var names = Set<String>(), folders = Set<String>()
        var selectable = Set<String>()
        var labels: [AudioTrackLabel] = []
        for (position, track) in ordered.enumerated() {
            let kind = "\(track.language)|\(track.describesVideo)"
            let name = unique(name(language: track.language, describesVideo: track.describesVideo, position: position),
                              in: &names, separator: " ")
            let base = position == 0 ? defaultFolder : folder(language: track.language, describesVideo: track.describesVideo)
            let folder = unique(base, in: &folders, separator: "-")
            labels.append(AudioTrackLabel(language: track.language, name: name, isDefault: position == 0,
                                          describesVideo: track.describesVideo, folder: folder,
                                          autoselect: selectable.insert(kind).inserted))
        }
        return labels
    }

    /// The language's name in itself ("Español", "Deutsch", "日本語"), capitalised as a title;
    /// the English name where the locale data has none; nil for `und`.
    public static func nativeName(_ language: String) -> String? {
        guard language != "und" else { return nil }
        let primary = language.split(separator: "-").first.map(String.init) ?? language
        guard let own = Locale(identifier: language).localizedString(forLanguageCode: primary), !own.isEmpty,
              own.lowercased() != primary.lowercased() else {
            let english = LanguageTag.displayName(language)
            return english == language ? nil : english
        }
        return own.prefix(1).uppercased() + own.dropFirst()
    }

    /// NAME for one track: the language's own name, with "(audio description)" in that language
    /// where this table has it (English otherwise); "Main" / "Audio N" when the language is unknown.
    static func name(language: String, describesVideo: Bool, position: Int) -> String {
        let base = nativeName(language) ?? (position == 0 ? "Main" : "Audio \(position + 1)")
        guard describesVideo else { return base }
        let primary = language.split(separator: "-").first.map { $0.lowercased() } ?? language
        return "\(base) (\(descriptionWords[primary] ?? descriptionWords["en"]!))"
    }

    /// "Audio description" in the languages lectures are most often dubbed into.
    static let descriptionWords: [String: String] = [
        "en": "audio description", "es": "audiodescripción", "fr": "audiodescription", "de": "Audiodeskription",
        "it": "audiodescrizione", "pt": "audiodescrição", "nl": "audiodescriptie", "pl": "audiodeskrypcja",
        "sv": "syntolkning", "da": "synstolkning", "nb": "synstolking", "no": "synstolking", "fi": "kuvailutulkkaus",
        "ca": "audiodescripció", "cs": "audiopopis", "ru": "тифлокомментарий", "ja": "音声解説", "zh": "口述影像",
        "ko": "화면해설", "ar": "وصف صوتي", "hi": "श्रव्य विवरण", "tr": "sesli betimleme",
    ]

    /// `audio-es`, `audio-en-ad`, `audio-und`: lower-case, safe as a folder name.
    static func folder(language: String, describesVideo: Bool) -> String {
        let tag = language.lowercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        return "audio-\(tag.isEmpty ? "und" : tag)" + (describesVideo ? "-ad" : "")
    }

    private static func unique(_ base: String, in taken: inout Set<String>, separator: String) -> String {
        var candidate = base, number = 2
        while taken.contains(candidate) {
            candidate = "\(base)\(separator)\(number)"
            number += 1
        }
        taken.insert(candidate)
        return candidate
    }
}
