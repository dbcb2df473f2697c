/// The files a playlist names (segment lines, `URI="…"` attributes), as paths relative to the set,
/// resolved against the playlist's own folder. Names that leave the set (`..`, absolute, URLs)
/// are left out. Pure.
enum PlaylistReferences {
    static func of(_ text: String, playlistPath: String) -> [String] {
        let folder = playlistPath.split(separator: "/").dropLast().joined(separator: "/")
        var names: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("#") {
                var rest = line[...]
                while let start = rest.range(of: "URI=\"") {
                    let tail = rest[start.upperBound...]
                    guard let end = tail.firstIndex(of: "\"") else { break }
                    names.append(String(tail[..<end]))
                    rest = tail[tail.index(after: end)...]
                }
            } else if !line.trimmingCharacters(in: " \t").isEmpty {
                names.append(String(line).trimmingSpaces)
            }
        }
        return names.compactMap { name in
            if name.contains("://") || name.hasPrefix("/") || name.contains("?") { return nil }
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            if parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) { return nil }
            return folder.isEmpty ? name : folder + "/" + name
        }
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var result = self
        while let first = result.first, set.contains(first) { result.removeFirst() }
        while let last = result.last, set.contains(last) { result.removeLast() }
        return result
    }
}
