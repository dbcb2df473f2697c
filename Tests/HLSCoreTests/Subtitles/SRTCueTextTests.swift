import XCTest
@testable import HLSCore

final class SRTCueTextTests: XCTestCase {
    private func convert(_ text: String) -> SRTCueText.Converted {
        SRTCueText.convert(text.split(separator: "\n", omittingEmptySubsequences: false).map { $0 })
    }

    func testLineBreaksKept() {
        XCTAssertEqual(convert("One\nTwo").text, "One\nTwo")
    }

    func testKeptTagsAnyCaseAttributesDropped() {
        XCTAssertEqual(convert("<i>a</i> <B>b</B> <u class=\"x\">c</U>").text, "<i>a</i> <b>b</b> <u>c</u>")
    }

    func testTagAttributes() {
        XCTAssertEqual(convert("<font color='red' size=3>R</font>").text, "R")
        XCTAssertEqual(convert("<b/>x<i />").text, "x")
        // An unknown tag's annotation runs to `>` whatever its quotes (as WebVTT reads it).
        XCTAssertEqual(convert("<font color=\"red>R").text, "R")
        XCTAssertEqual(convert("<font color=\"red R").text, "&lt;font color=\"red R")
        XCTAssertEqual(convert("<font color=\"a>b\">x</font> <FONT COLOR='blue'>y</FONT>").text, "x y")
    }

    func testFontAndUnknownTagsDroppedTextKept() {
        XCTAssertEqual(convert("<font color=\"#ff0000\">Red</font> and <span>more</span>").text, "Red and more")
        XCTAssertEqual(convert("<font face=\"Arial\"><i>x</i></font>").text, "<i>x</i>")
    }

    func testTagsWebVTTDoesNotKnowAreDroppedWithTheirTextKept() {
        XCTAssertEqual(convert("<invalid_tag>kept</invalid_tag> text").text, "kept text")
        XCTAssertEqual(convert("<c.yellow>class</c> <v Bob>voice</v> <lang en-GB>l</lang>").text, "class voice l")
        XCTAssertEqual(convert("<script>alert(\"x\")</script>").text, "alert(\"x\")")
        XCTAssertEqual(convert("<ruby>漢<rt>kan</rt></ruby>").text, "漢kan")
        XCTAssertEqual(convert("<x-custom data-a=1>y</x-custom>").text, "y")
        // Code and formulas keep their text: only subtitle markup takes free annotations.
        XCTAssertEqual(convert("for i<n && a[i]>0 do").text, "for i&lt;n &amp;&amp; a[i]&gt;0 do")
        XCTAssertEqual(convert("x <y and z> w").text, "x &lt;y and z&gt; w")
        XCTAssertEqual(convert("<v Alice Smith>Hello</v> <v.loud Bob J. Jones>x</v>").text, "Hello x")
    }

    func testKeptTagsStayStrictSoComparisonsInTextAreNotTags() {
        // A bare word would make `<b and c>` a bold tag: text it stays, escaped.
        XCTAssertEqual(convert("a <b and c> d").text, "a &lt;b and c&gt; d")
        XCTAssertEqual(convert("if x <i but y> z").text, "if x &lt;i but y&gt; z")
        XCTAssertEqual(convert("<_under>x").text, "&lt;_under&gt;x")
        XCTAssertEqual(convert("<unclosed and more").text, "&lt;unclosed and more")
    }

    func testBrBecomesLineBreak() {
        XCTAssertEqual(convert("One<br>Two<br/>Three<BR />").text, "One\nTwo\nThree")
    }

    func testTagsAreBalanced() {
        XCTAssertEqual(convert("<i>open only").text, "<i>open only</i>")
        XCTAssertEqual(convert("close only</b>").text, "close only")
        XCTAssertEqual(convert("<i>a<b>b</i>c</b>").text, "<i>a<b>b</b></i><b>c</b>")
        XCTAssertEqual(convert("<i>one\ntwo</i>").text, "<i>one\ntwo</i>")
        XCTAssertEqual(convert("<i>a<i>b</i>c</i>d").text, "<i>abc</i>d")
        XCTAssertEqual(convert("<b><i>x</b>y</i>").text, "<b><i>x</i></b><i>y</i>")
    }

    func testEscaping() {
        XCTAssertEqual(convert("Tom & Jerry <3 if a<b and c>d").text, "Tom &amp; Jerry &lt;3 if a&lt;b and c&gt;d")
        XCTAssertEqual(convert("x<y").text, "x&lt;y")
        XCTAssertEqual(convert("&amp; stays literal").text, "&amp;amp; stays literal")
        XCTAssertEqual(convert("< i>").text, "&lt; i&gt;")
        XCTAssertEqual(convert("<i").text, "&lt;i")
    }

    func testArrowInTextCannotEndACue() {
        let text = convert("go --> there\n-->").text
        XCTAssertEqual(text, "go --&gt; there\n--&gt;")
        XCTAssertFalse(text.contains("-->"))
    }

    func testTopPositionCodes() {
        for code in ["{\\an7}", "{\\an8}", "{\\an9}", "{\\a6}", "{\\pos(10,10)\\an8}"] {
            let converted = convert("\(code)Top")
            XCTAssertEqual(converted.text, "Top", code)
            XCTAssertEqual(converted.settings, "line:0", code)
        }
    }

    func testOtherPositionCodesAreDropped() {
        for code in ["{\\an1}", "{\\an2}", "{\\an5}", "{\\a2}", "{\\a10}", "{\\b1}", "{\\alpha&H80&}"] {
            let converted = convert("\(code)Text")
            XCTAssertEqual(converted.text, "Text", code)
            XCTAssertNil(converted.settings, code)
        }
    }

    func testLastPositionCodeWins() {
        XCTAssertNil(convert("{\\an8}a{\\an2}b").settings)
        XCTAssertEqual(convert("{\\an2}a\n{\\an8}b").settings, "line:0")
    }

    func testBracesWithoutBackslashOrCloseAreText() {
        XCTAssertEqual(convert("{laughs} {\\an8").text, "{laughs} {\\an8")
    }

    func testBlankLinesAndTrailingSpaceRemoved() {
        XCTAssertEqual(convert("{\\an8}\nText  \n<font></font>\n \nMore").text, "Text\nMore")
        XCTAssertEqual(convert("<br><br>").text, "")
    }

    func testNulReplaced() {
        XCTAssertEqual(convert("a\0b").text, "a\u{FFFD}b")
    }
}
