import Foundation

// The JSON side of ChapterFile.parse, on Foundation's JSONSerialization.

enum ChapterJSONReader {
    /// The chapters of a JSON list; `text` starts (after white space) with `[`. Linear in its length.
    static func read(_ text: Substring, file name: String) throws(ChapterError) -> [Chapter] {
        let document: Any
        do {
            document = try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            var reason = ""
            if let debug = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String, !debug.isEmpty {
                reason = ": " + ChapterText.excerpt(debug.hasSuffix(".") ? String(debug.dropLast()) : debug, limit: 100)
            }
            throw ChapterError(file: name, "not valid JSON" + reason)
        }
        guard let list = document as? [Any] else {
            throw ChapterError(file: name, "not a JSON list of chapters")
        }
        guard list.count <= ChapterFile.maximumChapters else { throw ChapterFile.tooManyChapters(file: name) }
        var chapters: [Chapter] = []
        chapters.reserveCapacity(list.count)
        for (index, element) in list.enumerated() {
            chapters.append(try chapter(element, label: "chapter \(index + 1)", file: name))
        }
        return chapters
    }

    private static func chapter(_ element: Any, label: String, file name: String) throws(ChapterError) -> Chapter {
        guard let fields = element as? [String: Any] else {
            throw ChapterError(file: name, "\(label) is \(describe(element)), not an object such as "
                + "{\"start\": 0, \"title\": \"…\"}")
        }
        guard let (startKey, startValue) = try field(fields, "start", or: "start-time", label, name) else {
            throw ChapterError(file: name, "\(label) has no \"start\"")
        }
        let start = try seconds(startValue, key: startKey, label, name)

        var end: Double?
        if let (key, value) = try field(fields, "end", or: "duration", label, name, nullIsMissing: true) {
            let time = try seconds(value, key: key, label, name)
            if key == "end" {
                end = time
            } else {
                guard time > 0 else { throw ChapterError(file: name, "\(label): \"duration\" is 0; it must be more than 0") }
                end = start + time
            }
        }
        if let end, !(end > start) {
            throw ChapterError(file: name, "\(label) ends at \(ChapterText.time(end)), not after its start "
                + "(\(ChapterText.time(start)))")
        }

        let rawTitle: String
        switch try field(fields, "title", or: "titles", label, name) {
        case nil:
            throw ChapterError(file: name, "\(label) has no \"title\"")
        case ("title", let value)?:
            guard let text = value as? String else {
                throw ChapterError(file: name, "\(label): \"title\" is \(describe(value)), not a string")
            }
            rawTitle = text
        case (_, let value)?:
            guard let titles = value as? [Any], let first = titles.first as? [String: Any],
                  let text = first["title"] as? String else {
                throw ChapterError(file: name, "\(label): \"titles\" must be a list of objects such as "
                    + "{\"language\": \"en\", \"title\": \"…\"}; the first one's title is used")
            }
            rawTitle = text
        }
        let title = try ChapterTitle.checked(rawTitle, label: label, file: name)
        return Chapter(start: start, end: end, title: title)
    }

    /// The value under `key` or `alternate`, and which of the two it was; nil when neither is
    /// there (or, with `nullIsMissing`, only as `null`).
    /// - Throws: `ChapterError` when both are there.
    private static func field(_ fields: [String: Any], _ key: String, or alternate: String, _ label: String,
                              _ name: String, nullIsMissing: Bool = false) throws(ChapterError) -> (String, Any)? {
        func present(_ value: Any?) -> Any? {
            guard let value else { return nil }
            return nullIsMissing && value is NSNull ? nil : value
        }
        switch (present(fields[key]), present(fields[alternate])) {
        case (nil, nil): return nil
        case (let value?, nil): return (key, value)
        case (nil, let value?): return (alternate, value)
        case (_?, _?):
            throw ChapterError(file: name, "\(label) has both \"\(key)\" and \"\(alternate)\"; give one of them")
        }
    }

    /// A time in seconds: a JSON number, or a string `HH:MM:SS.mmm`, `MM:SS.mmm`, `HH:MM:SS` or `MM:SS`.
    private static func seconds(_ value: Any, key: String, _ label: String, _ name: String) throws(ChapterError) -> Double {
        let forms = "seconds (such as 95.5) or \"HH:MM:SS.mmm\", \"MM:SS.mmm\", \"HH:MM:SS\" or \"MM:SS\""
        if let text = value as? String {
            guard let milliseconds = clockTime(text) else {
                throw ChapterError(file: name, "\(label): \"\(key)\" is \(ChapterText.quoted(text)), not a time in \(forms)")
            }
            return Double(milliseconds) / 1000
        }
        guard let number = value as? NSNumber, !isBoolean(number) else {
            throw ChapterError(file: name, "\(label): \"\(key)\" is \(describe(value)), not a time in \(forms)")
        }
        let seconds = number.doubleValue
        guard seconds.isFinite else {
            throw ChapterError(file: name, "\(label): \"\(key)\" is not a finite number")
        }
        guard seconds >= 0 else {
            throw ChapterError(file: name, "\(label): \"\(key)\" is negative (\(describe(value)))")
        }
        return seconds
    }

    /// Milliseconds of `[H]H:MM:SS[.mmm]` or `[M]M:SS[.mmm]` (hours may have more digits); nil otherwise.
    static func clockTime(_ text: String) -> Int? {
        var fields = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 2 || fields.count == 3 else { return nil }
        if fields[0].count == 1 { fields[0] = "0" + fields[0] }
        if !fields[fields.count - 1].contains(".") { fields[fields.count - 1] += ".000" }
        return WebVTTTimestamp.parse(Substring(fields.joined(separator: ":")))
    }

    /// A JSON value for an error message: `null`, `true`, `12.5`, `"text"` (cut to 60 Characters), `a list`, `an object`.
    private static func describe(_ value: Any) -> String {
        switch value {
        case let text as String: return ChapterText.quoted(text)
        case let number as NSNumber: return isBoolean(number) ? (number.boolValue ? "true" : "false")
            : ChapterText.excerpt(number.stringValue, limit: 30)
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        case is NSNull: return "null"
        default: return "a \(type(of: value))"
        }
    }

    /// JSONSerialization gives `true` and `false` as NSNumbers of the boolean class.
    private static func isBoolean(_ number: NSNumber) -> Bool {
        ObjectIdentifier(type(of: number)) == booleanClass
    }

    private static let booleanClass = ObjectIdentifier(type(of: NSNumber(value: true)))
}
