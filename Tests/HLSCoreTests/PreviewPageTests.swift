import XCTest
import HLSCore

final class PreviewPageTests: XCTestCase {
    private let sample = MasterPlaylistParserTests.sample

    func testSidecarPathIsThePlaylistFolderWithVTT() {
        XCTAssertEqual(PreviewPage.sidecarPath(forSubtitlePlaylist: "subtitles/en/index.m3u8"), "subtitles/en.vtt")
        XCTAssertEqual(PreviewPage.sidecarPath(forSubtitlePlaylist: "subtitles/pt-BR/index.m3u8"), "subtitles/pt-BR.vtt")
        XCTAssertEqual(PreviewPage.sidecarPath(forSubtitlePlaylist: "a/b/c.m3u8"), "a/b.vtt")
        for uri in ["index.m3u8", "", "/subtitles/en/index.m3u8", "../x/index.m3u8", "subtitles/../en/index.m3u8",
                    "./en/index.m3u8", "http://example.com/en/index.m3u8", "subtitles/en/index.m3u8?x=1",
                    "subtitles//index.m3u8", "sub\\titles/en/index.m3u8"] {
            XCTAssertNil(PreviewPage.sidecarPath(forSubtitlePlaylist: uri), uri)
        }
        XCTAssertEqual(PreviewPage.sidecarCandidates(sample), ["subtitles/en.vtt", "subtitles/pt-BR.vtt"])
    }

    func testTracksOnlyForExistingSidecarsWithTheDefaultRendition() {
        var page = PreviewPage(master: sample, title: "lecture", sidecars: ["subtitles/en.vtt", "subtitles/pt-BR.vtt"])
        XCTAssertEqual(page.textTracks, [
            .init(src: "subtitles/en.vtt", language: "en", label: "English", isDefault: true),
            .init(src: "subtitles/pt-BR.vtt", language: "pt-BR", label: "Português", isDefault: false),
        ])
        page.sidecars = ["subtitles/pt-BR.vtt"]
        XCTAssertEqual(page.textTracks, [.init(src: "subtitles/pt-BR.vtt", language: "pt-BR", label: "Português", isDefault: true)])
        page.sidecars = []
        XCTAssertEqual(page.textTracks, [])
        XCTAssertFalse(page.render().contains("<track"))
    }

    func testPageHasTheNativePlayerTracksAndEveryRendition() {
        let html = PreviewPage(master: sample, title: "lecture-42", sidecars: ["subtitles/en.vtt"]).render()
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>\n"))
        XCTAssertTrue(html.contains("<title>hlsify preview: lecture-42</title>"))
        XCTAssertTrue(html.contains("<video id=\"player\" src=\"master.m3u8\" controls muted autoplay playsinline>\n"
                                    + "<track kind=\"subtitles\" src=\"subtitles/en.vtt\" srclang=\"en\" label=\"English\" default>\n"
                                    + "</video>"), html)
        // Variants with resolution, bandwidths, codecs and frame rate.
        XCTAssertTrue(html.contains("<tr data-resolution=\"1280x720\" data-uri=\"720p/index.m3u8\">"
                                    + "<td><a href=\"720p/index.m3u8\">720p/index.m3u8</a></td><td>1280×720</td>"
                                    + "<td class=\"number\">2.72 Mb/s</td><td class=\"number\">2.50 Mb/s</td>"
                                    + "<td>avc1.64001f, mp4a.40.2</td><td class=\"number\">30</td><td>SDR</td>"
                                    + "<td>audio</td><td>subs</td></tr>"), html)
        XCTAssertTrue(html.contains("<td class=\"number\">29.97</td>"))
        XCTAssertTrue(html.contains("<h2>Variants (2)</h2>"))
        XCTAssertTrue(html.contains("<h2>Audio renditions (1)</h2>"))
        XCTAssertTrue(html.contains("<td>Main</td><td class=\"number\">2</td><td>yes</td>"))
        XCTAssertTrue(html.contains("<h2>Subtitle renditions (2)</h2>"))
        XCTAssertTrue(html.contains("<td>Português</td><td>no</td><td><span class=\"none\">none</span></td>"), html)
        XCTAssertTrue(html.contains("<h2>I-frame playlists (2)</h2>"))
        XCTAssertTrue(html.contains("<tr data-uri=\"480p/iframes.m3u8\"><td><a href=\"480p/iframes.m3u8\">480p/iframes.m3u8</a></td>"
                                    + "<td>854×480</td><td class=\"number\">59 kb/s</td><td class=\"number\"></td>"))
        XCTAssertTrue(html.contains("<h2>Text tracks of the player (1)</h2>"))
        XCTAssertTrue(html.contains("window.hlsifyPreview"))
        // Self-contained: nothing loaded from elsewhere, and no hls.js.
        XCTAssertFalse(html.contains("http://"))
        XCTAssertFalse(html.contains("https://"))
        XCTAssertFalse(html.contains("<script src"))
        XCTAssertEqual(html.components(separatedBy: "<link").count, 2)
        XCTAssertTrue(html.contains("<link rel=\"icon\" href=\"data:,\">"), "an empty icon: no /favicon.ico request")
        XCTAssertFalse(html.lowercased().contains("hls.js"))
    }

    func testEmptySectionsSayNone() {
        let master = MasterPlaylist(variants: [Variant(uri: "a/index.m3u8", bandwidth: 64_000, averageBandwidth: 0,
                                                       codecs: ["mp4a.40.2"], width: 0, height: 0)])
        let html = PreviewPage(master: master, title: "talk").render()
        XCTAssertTrue(html.contains("<span class=\"none\">audio only</span>"))
        XCTAssertTrue(html.contains("<td class=\"number\">64 kb/s</td>"))
        XCTAssertTrue(html.contains("<p id=\"audio\" class=\"none\">none</p>"))
        XCTAssertTrue(html.contains("<p id=\"subtitles\" class=\"none\">none</p>"))
        XCTAssertTrue(html.contains("<p id=\"iframes\" class=\"none\">none</p>"))
        XCTAssertTrue(html.contains("<p id=\"texttracks\" class=\"none\">none</p>"))
    }

    func testEscapesEverythingTakenFromThePlaylist() throws {
        let evil = "<script>alert('x')</script>&\"'"
        let text = """
            #EXTM3U
            #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="<g>",LANGUAGE="en><img src=x onerror=alert(1)>",NAME="\(evil.replacingOccurrences(of: "\"", with: ""))",URI="<s>/index.m3u8"
            #EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="<b>",AUDIO="</td>"
            javascript:alert(1)//<x>/index.m3u8
            #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="x'><svg onload=alert(1)>"

            """
        let master = try PlaylistParser.parseMaster(text)
        let html = PreviewPage(master: master, title: "<title>&", sidecars: ["<s>.vtt"]).render()
        let script = try XCTUnwrap(html.range(of: "<script>"))
        let markup = String(html[..<script.lowerBound])
        for forbidden in ["<script>alert", "<img", "<svg", "<g>", "<b>", "<s>", "<x>", "</td>\"", "'x'", "<title>&"] {
            XCTAssertFalse(markup.contains(forbidden), "\(forbidden) unescaped in\n\(markup)")
        }
        XCTAssertTrue(markup.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&#39;"), markup)
        XCTAssertTrue(markup.contains("<title>hlsify preview: &lt;title&gt;&amp;</title>"))
        XCTAssertTrue(markup.contains("src=\"&lt;s&gt;.vtt\""))
        // A URI with a scheme is shown, never linked.
        XCTAssertFalse(markup.contains("href=\"javascript"))
        XCTAssertTrue(markup.contains("<td>javascript:alert(1)//&lt;x&gt;/index.m3u8</td>"))
        // Exactly one script element: the page's own.
        XCTAssertEqual(html.components(separatedBy: "<script").count, 2)
    }

    func testControlCharactersAreReplaced() {
        let master = MasterPlaylist(variants: [], media: [
            MediaRendition(kind: .subtitles, groupID: "s", language: "en", name: "a\u{0}b\u{1B}c", uri: "s/en/index.m3u8"),
        ])
        let html = PreviewPage(master: master, title: "t").render()
        XCTAssertTrue(html.contains("<td>a\u{FFFD}b\u{FFFD}c</td>"))
        XCTAssertFalse(html.contains("\u{0}"))
    }
}
