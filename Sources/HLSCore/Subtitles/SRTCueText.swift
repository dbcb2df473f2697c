/// Turns the text lines of one SRT cue into WebVTT cue payload and settings.
///
/// - `<i> <b> <u>` (any case, attributes dropped; `<i/>` ignored) are kept and balanced: a close tag with no
///   open tag is dropped, misnested tags are closed and reopened, open tags are closed at the end.
/// - `<br>` becomes a line break; `<font …>` and every other tag is dropped, its text kept.
/// - `{\…}` override blocks are removed; `\an7`–`\an9` (and legacy `\a5`–`\a7`) make the cue
///   `line:0` (top); other positions give the default (bottom).
/// - `&`, `<`, `>` in text become `&amp;`, `&lt;`, `&gt;`, so `-->` in text reads `--&gt;`.
/// - NUL becomes U+FFFD; trailing white space and blank lines are removed (a blank line
///   would end a WebVTT cue).
enum SRTCueText {
    struct Converted: Equatable {
        var text: String
        var settings: String?
    }

    /// Converts the cue's lines. Linear in the text length.
    static func convert(_ lines: [Substring]) -> Converted {
        let scalars = Array(lines.joined(separator: "\n").unicodeScalars)
        let (body, top) = removeOverrideBlocks(scalars)
        let markup = convertMarkup(body)
        let text = SubtitleLines.split(markup)
            .map(SubtitleLines.trimmingTrailingWhitespace)
            .filter { !SubtitleLines.isBlank($0) }
            .joined(separator: "\n")
        return Converted(text: text, settings: top ? "line:0" : nil)
    }

    // MARK: - {\an8} override blocks

    private enum Placement { case top, other }

    /// The scalars without `{\…}` blocks, and whether the last position code asks for the top.
    private static func removeOverrideBlocks(_ scalars: [Unicode.Scalar]) -> ([Unicode.Scalar], Bool) {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        var placement: Placement?
        var i = 0
        while i < scalars.count {
            if scalars[i] == "{", i + 1 < scalars.count, scalars[i + 1] == "\\",
               let close = scalars[(i + 2)...].firstIndex(where: { $0 == "}" || $0 == "{" || $0 == "\n" }),
               scalars[close] == "}" {
                if let found = position(in: scalars[(i + 1)..<close]) { placement = found }
                i = close + 1
                continue
            }
            out.append(scalars[i])
            i += 1
        }
        return (out, placement == .top)
    }

    /// The last `\anN` or `\aN` code in an override block, if any.
    private static func position(in block: ArraySlice<Unicode.Scalar>) -> Placement? {
        var result: Placement?
        var i = block.startIndex
        while i < block.endIndex {
            defer { i += 1 }
            guard block[i] == "\\", i + 1 < block.endIndex, block[i + 1] == "a" else { continue }
            var j = i + 2
            let numpad = j < block.endIndex && block[j] == "n"
            if numpad { j += 1 }
            var value = 0, count = 0
            while j < block.endIndex, count < 2, let digit = block[j].asciiDigitValue {
                value = value * 10 + digit
                count += 1
                j += 1
            }
            guard count > 0 else { continue }
            if numpad {
                guard (1...9).contains(value) else { continue }
                result = value >= 7 ? .top : .other
            } else {
                // SSA numbering: 1–3 bottom, 5–7 top, 9–11 middle.
                guard [1, 2, 3, 5, 6, 7, 9, 10, 11].contains(value) else { continue }
                result = (5...7).contains(value) ? .top : .other
            }
        }
        return result
    }

    // MARK: - Tags and escaping

    private static let keptTags: Set<String> = ["i", "b", "u"]

    private struct Tag {
        var name: String
        var closing: Bool
        var selfClosing: Bool
        var end: Int  // index after '>'
    }

    private static func convertMarkup(_ scalars: [Unicode.Scalar]) -> String {
        var out = String.UnicodeScalarView()
        // Open kept tags, outermost first; each name at most once, so this stays tiny.
        var open: [String] = []
        // How many times each open name was opened (a nested <i><i> is written once).
        var depth: [String: Int] = [:]
        func emit(_ text: String) { out.append(contentsOf: text.unicodeScalars) }

        var i = 0
        while i < scalars.count {
            let scalar = scalars[i]
            if scalar == "<", let tag = tag(in: scalars, at: i) {
                i = tag.end
                if keptTags.contains(tag.name) {
                    let count = depth[tag.name, default: 0]
                    if tag.selfClosing {
                        // <i/> formats nothing
                    } else if !tag.closing {
                        if count == 0 {
                            emit("<\(tag.name)>")
                            open.append(tag.name)
                        }
                        depth[tag.name] = count + 1
                    } else if count > 1 {
                        depth[tag.name] = count - 1
                    } else if count == 1, let k = open.lastIndex(of: tag.name) {
                        let reopen = open[(k + 1)...]
                        for name in open[k...].reversed() { emit("</\(name)>") }
                        for name in reopen { emit("<\(name)>") }
                        open.remove(at: k)
                        depth[tag.name] = 0
                    }
                } else if tag.name == "br" {
                    emit("\n")
                }
                continue
            }
            switch scalar {
            case "&": emit("&amp;")
            case "<": emit("&lt;")
            case ">": emit("&gt;")
            case "\0": out.append("\u{FFFD}")
            default: out.append(scalar)
            }
            i += 1
        }
        for name in open.reversed() { emit("</\(name)>") }
        return String(out)
    }

    /// Names of markup seen in subtitles whose tag may hold free text before `>`: WebVTT's and
    /// SRT's own (`<v Alice Smith>`, `<font color=red>`), and names no code or formula would
    /// write (`c.yellow`, `invalid_tag`). Others (`<n && a[i]>`) keep the strict attribute form.
    private static func takesAnnotation(_ name: String) -> Bool {
        ["c", "v", "lang", "ruby", "rt", "font", "span"].contains(name.split(separator: ".").first.map(String.init) ?? name)
            || name.contains(".") || name.contains("_")
    }

    /// An HTML-like tag starting at `start`, or nil when the `<` is plain text. A tag is
    /// `<name>`, `</name>`, `<name/>`, or `<name` followed by `attribute=value` pairs (value
    /// quoted or not) then `>` or `/>`; so `a<b and c>d` is text, not a tag. Names other than
    /// `i b u br` may also hold `_ - . :` and any annotation up to `>` (`<invalid_tag>`,
    /// `<c.yellow>`, `<v Alice Smith>`): such tags are dropped, their text kept. A tag does not
    /// span lines or contain another `<`, which keeps the scan linear.
    private static func tag(in s: [Unicode.Scalar], at start: Int) -> Tag? {
        var j = start + 1
        let closing = j < s.count && s[j] == "/"
        if closing { j += 1 }
        guard j < s.count, s[j].isASCIILetter else { return nil }
        var name = ""
        // Letters and digits; `_ - . :` too (`<invalid_tag>`, WebVTT's `<c.yellow>`), which only
        // unknown tags can have.
        while j < s.count, s[j].isASCIILetter || s[j].asciiDigitValue != nil || "_-.:".unicodeScalars.contains(s[j]) {
            name.unicodeScalars.append(s[j])
            j += 1
        }
        let known = keptTags.contains(name.lowercased()) || name.lowercased() == "br"
        // An unknown tag's annotation (`<v Alice Smith>`, `<font color=red>`) is whatever comes
        // before `>` (outside a closed quote), as in WebVTT; a kept tag takes only
        // attribute=value pairs, so that `a <b and c> d` stays text.
        if !known, Self.takesAnnotation(name.lowercased()), j < s.count, s[j] == " " || s[j] == "\t" {
            var k = j
            while k < s.count, s[k] != ">" {
                if s[k] == "<" || s[k] == "\n" { return nil }
                // A quoted value may hold `>` (`color="a>b"`) when its quote closes on the line.
                if s[k] == "\"" || s[k] == "'",
                   let close = s[(k + 1)...].firstIndex(where: { $0 == s[k] || $0 == "\n" }), s[close] == s[k] {
                    k = close
                }
                k += 1
            }
            guard k < s.count else { return nil }
            return Tag(name: name.lowercased(), closing: closing, selfClosing: s[k - 1] == "/", end: k + 1)
        }
        var selfClosing = false
        func skipSpaces() { while j < s.count, s[j] == " " || s[j] == "\t" { j += 1 } }
        while true {
            let spaced = j < s.count && (s[j] == " " || s[j] == "\t")
            skipSpaces()
            guard j < s.count else { return nil }
            if s[j] == ">" { break }
            if s[j] == "/", j + 1 < s.count, s[j + 1] == ">" {
                selfClosing = true
                j += 1
                break
            }
            // attribute=value, separated from what comes before by white space
            guard spaced, s[j].isASCIILetter else { return nil }
            while j < s.count, s[j].isASCIILetter || s[j].asciiDigitValue != nil || s[j] == "-" || s[j] == "_" || s[j] == ":" {
                j += 1
            }
            skipSpaces()
            guard j < s.count, s[j] == "=" else { return nil }
            j += 1
            skipSpaces()
            guard j < s.count else { return nil }
            if s[j] == "\"" || s[j] == "'" {
                let quote = s[j]
                j += 1
                while j < s.count, s[j] != quote {
                    if s[j] == "<" || s[j] == "\n" { return nil }
                    j += 1
                }
                guard j < s.count else { return nil }
                j += 1
            } else {
                let valueStart = j
                while j < s.count, !s[j].properties.isWhitespace, s[j] != ">", s[j] != "<" { j += 1 }
                guard j > valueStart else { return nil }
            }
        }
        return Tag(name: name.lowercased(), closing: closing, selfClosing: selfClosing, end: j + 1)
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool {
        (65...90).contains(value) || (97...122).contains(value)
    }
}
