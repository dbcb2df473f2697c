import Foundation

/// Language tags as HLS wants them (RFC 5646, shortest ISO 639 code), and their English names.
/// Pure table lookups; unknown tags are passed through when they are well-formed.
public enum LanguageTag {
    /// One known language: its ISO 639-1 code, ISO 639-2 codes (bibliographic and terminology) and name.
    struct Entry { let code: String; let alpha3: [String]; let name: String }

    static let entries: [Entry] = [
        Entry(code: "aa", alpha3: ["aar"], name: "Afar"),
        Entry(code: "ab", alpha3: ["abk"], name: "Abkhazian"),
        Entry(code: "af", alpha3: ["afr"], name: "Afrikaans"),
        Entry(code: "am", alpha3: ["amh"], name: "Amharic"),
        Entry(code: "ar", alpha3: ["ara"], name: "Arabic"),
        Entry(code: "as", alpha3: ["asm"], name: "Assamese"),
        Entry(code: "az", alpha3: ["aze"], name: "Azerbaijani"),
        Entry(code: "be", alpha3: ["bel"], name: "Belarusian"),
        Entry(code: "bg", alpha3: ["bul"], name: "Bulgarian"),
        Entry(code: "bn", alpha3: ["ben"], name: "Bengali"),
        Entry(code: "bo", alpha3: ["tib", "bod"], name: "Tibetan"),
        Entry(code: "bs", alpha3: ["bos"], name: "Bosnian"),
        Entry(code: "ca", alpha3: ["cat"], name: "Catalan"),
        Entry(code: "cs", alpha3: ["cze", "ces"], name: "Czech"),
        Entry(code: "cy", alpha3: ["wel", "cym"], name: "Welsh"),
        Entry(code: "da", alpha3: ["dan"], name: "Danish"),
        Entry(code: "de", alpha3: ["ger", "deu"], name: "German"),
        Entry(code: "el", alpha3: ["gre", "ell"], name: "Greek"),
        Entry(code: "en", alpha3: ["eng"], name: "English"),
        Entry(code: "eo", alpha3: ["epo"], name: "Esperanto"),
        Entry(code: "es", alpha3: ["spa"], name: "Spanish"),
        Entry(code: "et", alpha3: ["est"], name: "Estonian"),
        Entry(code: "eu", alpha3: ["baq", "eus"], name: "Basque"),
        Entry(code: "fa", alpha3: ["per", "fas"], name: "Persian"),
        Entry(code: "fi", alpha3: ["fin"], name: "Finnish"),
        Entry(code: "fil", alpha3: ["fil"], name: "Filipino"),
        Entry(code: "fr", alpha3: ["fre", "fra"], name: "French"),
        Entry(code: "ga", alpha3: ["gle"], name: "Irish"),
        Entry(code: "gl", alpha3: ["glg"], name: "Galician"),
        Entry(code: "gu", alpha3: ["guj"], name: "Gujarati"),
        Entry(code: "ha", alpha3: ["hau"], name: "Hausa"),
        Entry(code: "he", alpha3: ["heb"], name: "Hebrew"),
        Entry(code: "hi", alpha3: ["hin"], name: "Hindi"),
        Entry(code: "hr", alpha3: ["hrv"], name: "Croatian"),
        Entry(code: "hu", alpha3: ["hun"], name: "Hungarian"),
        Entry(code: "hy", alpha3: ["arm", "hye"], name: "Armenian"),
        Entry(code: "id", alpha3: ["ind"], name: "Indonesian"),
        Entry(code: "ig", alpha3: ["ibo"], name: "Igbo"),
        Entry(code: "is", alpha3: ["ice", "isl"], name: "Icelandic"),
        Entry(code: "it", alpha3: ["ita"], name: "Italian"),
        Entry(code: "ja", alpha3: ["jpn"], name: "Japanese"),
        Entry(code: "jv", alpha3: ["jav"], name: "Javanese"),
        Entry(code: "ka", alpha3: ["geo", "kat"], name: "Georgian"),
        Entry(code: "kk", alpha3: ["kaz"], name: "Kazakh"),
        Entry(code: "km", alpha3: ["khm"], name: "Khmer"),
        Entry(code: "kn", alpha3: ["kan"], name: "Kannada"),
        Entry(code: "ko", alpha3: ["kor"], name: "Korean"),
        Entry(code: "ku", alpha3: ["kur"], name: "Kurdish"),
        Entry(code: "ky", alpha3: ["kir"], name: "Kyrgyz"),
        Entry(code: "la", alpha3: ["lat"], name: "Latin"),
        Entry(code: "lb", alpha3: ["ltz"], name: "Luxembourgish"),
        Entry(code: "lo", alpha3: ["lao"], name: "Lao"),
        Entry(code: "lt", alpha3: ["lit"], name: "Lithuanian"),
        Entry(code: "lv", alpha3: ["lav"], name: "Latvian"),
        Entry(code: "mg", alpha3: ["mlg"], name: "Malagasy"),
        Entry(code: "mi", alpha3: ["mao", "mri"], name: "Maori"),
        Entry(code: "mk", alpha3: ["mac", "mkd"], name: "Macedonian"),
        Entry(code: "ml", alpha3: ["mal"], name: "Malayalam"),
        Entry(code: "mn", alpha3: ["mon"], name: "Mongolian"),
        Entry(code: "mr", alpha3: ["mar"], name: "Marathi"),
        Entry(code: "ms", alpha3: ["may", "msa"], name: "Malay"),
        Entry(code: "mt", alpha3: ["mlt"], name: "Maltese"),
        Entry(code: "my", alpha3: ["bur", "mya"], name: "Burmese"),
        Entry(code: "nb", alpha3: ["nob"], name: "Norwegian Bokmål"),
        Entry(code: "ne", alpha3: ["nep"], name: "Nepali"),
        Entry(code: "nl", alpha3: ["dut", "nld"], name: "Dutch"),
        Entry(code: "nn", alpha3: ["nno"], name: "Norwegian Nynorsk"),
        Entry(code: "no", alpha3: ["nor"], name: "Norwegian"),
        Entry(code: "pa", alpha3: ["pan"], name: "Punjabi"),
        Entry(code: "pl", alpha3: ["pol"], name: "Polish"),
        Entry(code: "ps", alpha3: ["pus"], name: "Pashto"),
        Entry(code: "pt", alpha3: ["por"], name: "Portuguese"),
        Entry(code: "ro", alpha3: ["rum", "ron"], name: "Romanian"),
        Entry(code: "ru", alpha3: ["rus"], name: "Russian"),
        Entry(code: "rw", alpha3: ["kin"], name: "Kinyarwanda"),
        Entry(code: "sd", alpha3: ["snd"], name: "Sindhi"),
        Entry(code: "si", alpha3: ["sin"], name: "Sinhala"),
        Entry(code: "sk", alpha3: ["slo", "slk"], name: "Slovak"),
        Entry(code: "sl", alpha3: ["slv"], name: "Slovenian"),
        Entry(code: "so", alpha3: ["som"], name: "Somali"),
        Entry(code: "sq", alpha3: ["alb", "sqi"], name: "Albanian"),
        Entry(code: "sr", alpha3: ["srp"], name: "Serbian"),
        Entry(code: "sv", alpha3: ["swe"], name: "Swedish"),
        Entry(code: "sw", alpha3: ["swa"], name: "Swahili"),
        Entry(code: "ta", alpha3: ["tam"], name: "Tamil"),
        Entry(code: "te", alpha3: ["tel"], name: "Telugu"),
        Entry(code: "tg", alpha3: ["tgk"], name: "Tajik"),
        Entry(code: "th", alpha3: ["tha"], name: "Thai"),
        Entry(code: "tk", alpha3: ["tuk"], name: "Turkmen"),
        Entry(code: "tl", alpha3: ["tgl"], name: "Tagalog"),
        Entry(code: "tr", alpha3: ["tur"], name: "Turkish"),
        Entry(code: "tt", alpha3: ["tat"], name: "Tatar"),
        Entry(code: "ug", alpha3: ["uig"], name: "Uyghur"),
        Entry(code: "uk", alpha3: ["ukr"], name: "Ukrainian"),
        Entry(code: "ur", alpha3: ["urd"], name: "Urdu"),
        Entry(code: "uz", alpha3: ["uzb"], name: "Uzbek"),
        Entry(code: "vi", alpha3: ["vie"], name: "Vietnamese"),
        Entry(code: "xh", alpha3: ["xho"], name: "Xhosa"),
        Entry(code: "yi", alpha3: ["yid"], name: "Yiddish"),
        Entry(code: "yo", alpha3: ["yor"], name: "Yoruba"),
        Entry(code: "zh", alpha3: ["chi", "zho"], name: "Chinese"),
        Entry(code: "zu", alpha3: ["zul"], name: "Zulu"),
    ]

    private static let byAlpha3: [String: Entry] = {
        var map: [String: Entry] = [:]
        for entry in entries { for code in entry.alpha3 { map[code] = entry } }
        return map
    }()

    private static let byCode: [String: Entry] = {
        var map: [String: Entry] = [:]
        for entry in entries { map[entry.code] = entry }
        return map
    }()

    /// A BCP 47 tag for a container's language field: `eng` → `en`, `fre` → `fr`, `pt-BR` kept,
    /// empty, missing, malformed or ISO 639-2 "undetermined"/"multiple" values → `und`.
    public static func normalize(_ raw: String?) -> String {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return "und" }
        let parts = raw.replacingOccurrences(of: "_", with: "-").split(separator: "-").map(String.init)
        guard let first = parts.first, isWellFormed(parts) else { return "und" }
        let primary = first.lowercased()
        if ["und", "mul", "zxx", "mis", "qaa"].contains(primary) { return "und" }
        let mapped = primary.count == 3 ? (byAlpha3[primary]?.code ?? primary) : primary
        let rest = parts.dropFirst().map { $0.count == 2 ? $0.uppercased() : ($0.count == 4 ? $0.prefix(1).uppercased() + $0.dropFirst().lowercased() : $0.lowercased()) }
        return ([mapped] + rest).joined(separator: "-")
    }

    /// A well-formed tag given by a user (`es`, `spa`, `pt-BR`), normalised as `normalize` does;
    /// nil when it is not a BCP 47 tag of that shape (`english`, `e`, `en_US!`).
    public static func parse(_ raw: String) -> String? {
        let parts = raw.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard raw.count <= 35, isWellFormed(parts) else { return nil }
        return normalize(raw)
    }

    /// The ISO 639-2 terminology code of a tag's primary language (`es` → `spa`, `de-AT` → `deu`),
    /// as MP4's `mdhd` and MPEG-TS's language descriptor carry it (a three-letter code as it is);
    /// nil for `und` or an unknown two-letter code.
    public static func alpha3(_ tag: String) -> String? {
        let primary = tag.split(separator: "-").first.map { $0.lowercased() } ?? ""
        if let entry = byCode[primary] { return entry.alpha3.last }
        if let entry = byAlpha3[primary] { return entry.alpha3.last }
        // A three-letter code the table does not know (`ast`) is already ISO 639-2/3.
        return primary.count == 3 && primary != "und" && primary.allSatisfy({ $0.isASCII && $0.isLetter }) ? primary : nil
    }

    /// The English name of a language tag's primary language (`en-GB` → "English"), or the tag itself.
    public static func displayName(_ tag: String) -> String {
        let primary = tag.split(separator: "-").first.map { $0.lowercased() } ?? tag
        if let entry = byCode[primary] ?? byAlpha3[primary] { return entry.name }
        return tag
    }

    private static func isWellFormed(_ parts: [String]) -> Bool {
        guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLetter }) else { return false }
        return parts.dropFirst().allSatisfy { (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }
}
