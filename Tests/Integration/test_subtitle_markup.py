"""SRT files with markup WebVTT does not know, converted by `hlsify subtitles` (stdout) and by a
transcode with `--subtitles en=FILE` (the sidecar subtitles/en.vtt and the segmented
subtitles/en/*.vtt).

Each output is read by `webvtt-py` in strict mode, then every cue's text goes through a strict
checker written here after the W3C WebVTT cue text tokenizer and parsing rules
(https://www.w3.org/TR/webvtt1/#cue-text-parsing-rules): every `<` must open a tag WebVTT knows
(c, i, b, u, ruby, rt, v, lang, or a timestamp), every `&` must start one of the six escapes
WebVTT has (&amp; &lt; &gt; &nbsp; &lrm; &rlm;), tags must nest and close, `rt` only in `ruby`,
and no line may hold `-->` (a WebVTT parser takes such a line for a timing line). The checker
also gives what a viewer reads (the text with the escapes decoded) and which of i/b/u/... each
piece of text is inside, which are compared with what this file expects of each cue: the words of
unknown tags kept, the tags themselves gone, stray < > & shown as written, misnested and unclosed
i/b/u closed so that text after `</i>` is no longer italic.

Headless Chromium (test_preview.py's set-up) loads the sidecar in a <track> and must read the same
cues: their count and times, the text a viewer sees and the i/b/u around each piece of it.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass

import pytest
import webvtt

import hlscheck as h
from conftest import run_hlsify
from test_preview import chromium  # noqa: F401  (a fixture, used by name)

# ---------------------------------------------------------------------------
# a strict WebVTT cue text checker (W3C WebVTT, 6.4 cue text parsing rules)
# ---------------------------------------------------------------------------

KNOWN_TAGS = {"c", "i", "b", "u", "ruby", "rt", "v", "lang"}
ESCAPES = {"amp": "&", "lt": "<", "gt": ">", "nbsp": "\u00a0", "lrm": "\u200e", "rlm": "\u200f"}
TIMESTAMP_TAG = re.compile(r"(\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}")
TAG_WHITESPACE = "\t\n\x0c "  # what ends a tag name in the tokenizer's start tag state


class CueTextError(AssertionError):
    pass


@dataclass(frozen=True)
class TextRun:
    text: str              # decoded: what a viewer reads
    inside: tuple          # the open tags around it, outermost first (e.g. ("i", "b"))


def _decode(text: str, where: str) -> str:
    """Text with its escapes decoded; a `&` that does not start one of WebVTT's six escapes is an error."""
    out, i = [], 0
    while True:
        j = text.find("&", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        m = re.match(r"&([A-Za-z0-9]+);", text[j:])
        if not m or m.group(1) not in ESCAPES:
            raise CueTextError(f"{where}: a bare or unknown '&' at {text[j:j + 12]!r}")
        out.append(ESCAPES[m.group(1)])
        i = j + m.end()


def parse_cue_text(text: str) -> list[TextRun]:
    """Tokenizes `text` as the WebVTT cue text tokenizer does (data, escape, tag, start tag,
    class, annotation, end tag and timestamp states) and builds the tree as the parsing rules do,
    but strictly: anything a WebVTT parser would drop or take as text (an unknown tag, `<` with
    nothing known after it, a bare `&`, an end tag that is not the open element's, an element left
    open) raises CueTextError. Returns the text runs with the tags around each."""
    for line in text.split("\n"):
        if "-->" in line:
            raise CueTextError(f"a cue text line holds '-->': {line!r}")
    runs: list[TextRun] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        lt = text.find("<", i)
        chunk = text[i:] if lt < 0 else text[i:lt]
        if chunk:
            runs.append(TextRun(_decode(chunk, repr(text)), tuple(stack)))
        if lt < 0:
            break
        gt = text.find(">", lt)
        if gt < 0:
            raise CueTextError(f"an unterminated tag at {text[lt:lt + 20]!r}")
        body = text[lt + 1:gt]
        tag = text[lt:gt + 1]
        if not body or body[0] in TAG_WHITESPACE or body[0] == ".":
            raise CueTextError(f"{tag!r}: a start tag with no name")
        if body[0] == "/":
            name = body[1:]  # the end tag state takes everything up to '>' as the name
            if name not in KNOWN_TAGS:
                raise CueTextError(f"{tag!r}: an end tag WebVTT does not know")
            if not stack or stack[-1] != name:
                raise CueTextError(f"{tag!r} does not close the open element (open: {stack})")
            stack.pop()
        elif body[0].isdigit():
            if not TIMESTAMP_TAG.fullmatch(body):
                raise CueTextError(f"{tag!r}: not a timestamp tag")
        else:
            m = re.fullmatch(r"([^\t\n\x0c .]*)((?:\.[^\t\n\x0c .]*)*)(?:[\t\n\x0c ](.*))?", body, re.S)
            if not m:
                raise CueTextError(f"{tag!r}: cannot be tokenized")
            name, classes, annotation = m.group(1), m.group(2), m.group(3)
            if name not in KNOWN_TAGS:
                raise CueTextError(f"{tag!r}: a start tag WebVTT does not know ({name!r})")
            if classes and any(c == "" for c in classes[1:].split(".")):
                raise CueTextError(f"{tag!r}: an empty class name")
            if annotation is not None:
                if "<" in annotation:
                    raise CueTextError(f"{tag!r}: '<' inside a tag")
                _decode(annotation, tag)
            if name == "rt" and (not stack or stack[-1] != "ruby"):
                raise CueTextError(f"{tag!r} outside <ruby>")
            stack.append(name)
        i = gt + 1
    if stack:
        raise CueTextError(f"elements left open at the end of the cue: {stack}")
    return runs


def plain(runs: list[TextRun]) -> str:
    return "".join(r.text for r in runs)


def tags_of(runs: list[TextRun], word: str) -> list[set]:
    """For each run holding `word`, the set of tags around it."""
    return [set(r.inside) for r in runs if word in r.text]


def test_the_checker_rejects_what_webvtt_does_not_know():
    """The checker itself: each of these would be dropped, shown raw or repaired by a WebVTT
    parser, so each must be refused; the valid ones must give their plain text."""
    bad = ["a & b", "&foo;", "&amp", "&#60;", "<font>x</font>", "<invalid_tag>x</invalid_tag>", "<I>x</I>", "<>",
           "</>", "< i>x", "<.c>x", "a <b", "x</i>", "<i>x</b>", "<i>x", "<i><b>x</i></b>", "<rt>x</rt>",
           "<c.>x</c>", "<1:2>", "<00:00:01,000>", "a --> b", "<script>x</script>", "<i>x</ i>", "<v Bob<i>>x</v>"]
    for text in bad:
        with pytest.raises(CueTextError):
            parse_cue_text(text)
    good = {
        "a &amp; b &lt;c&gt; &nbsp;&lrm;&rlm;": "a & b <c> \u00a0\u200e\u200f",
        "<c.yellow.bg_blue>x</c> <v Bob>y</v> <lang en-GB>z</lang>": "x y z",
        "<ruby>漢<rt>kan</rt></ruby> <00:00:01.000>t <01:02:03.004>u": "漢kan t u",
        "<i>a <b>b</b></i>\n<u>c</u>": "a b\nc",
        "a --&gt; b": "a --> b",
    }
    for text, expected in good.items():
        assert plain(parse_cue_text(text)) == expected, text
    runs = parse_cue_text("<i>a <b>b</b></i> c")
    assert tags_of(runs, "a") == [{"i"}] and tags_of(runs, "b") == [{"i", "b"}] and tags_of(runs, " c") == [set()]


# ---------------------------------------------------------------------------
# the corpus: one SRT cue each, and what a viewer must read
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    srt: str                        # the cue's SRT text
    reads: tuple                    # acceptable plain texts (what a viewer reads)
    styled: tuple = ()              # (word, tags it must be inside, tags it must not be inside)


CORPUS = [
    Hostile('<font color="#ff0000">red</font> and <font color=yellow size=3>yellow</font>', ("red and yellow",)),
    Hostile("<font color=\"a>b\">x</font> <FONT COLOR='blue'>y</FONT>", ("x y",)),
    Hostile("<invalid_tag>kept</invalid_tag> and <x-y>dash</x-y> <ns:tag>colon</ns:tag>", ("kept and dash colon",)),
    Hostile("<c.yellow>also</c> <c.x onclick=alert(1)>y</c>", ("also y",)),
    Hostile("<v Bob>said</v> <v.loud Bob>hi</v>", ("said hi",)),
    Hostile("<script>alert(1)</script> <img src=x onerror=alert(1)>", ("alert(1)",)),
    Hostile("<ruby>漢<rt>kan</rt></ruby>字", ("漢kan字",)),
    Hostile("a < b > c & d", ("a < b > c & d",)),
    Hostile("x --> y\n<!-- comment -->", ("x --> y\n<!-- comment -->", "x --> y")),
    Hostile("<i>italic <b>bold</i> after</b>", ("italic bold after",),
            (("italic", {"i"}, set()), ("bold", {"i", "b"}, set()), ("after", set(), {"i"}))),
    Hostile("<u>unclosed\n<b>open", ("unclosed\nopen",), (("unclosed", {"u"}, set()), ("open", {"u", "b"}, set()))),
    Hostile("tail <i", ("tail <i", "tail")),
    Hostile("<1:2> <00:00:01.000> <> </> 3 <4", ("<1:2> <00:00:01.000> <> </> 3 <4",)),
    Hostile("stray </b>end </i>", ("stray end",), (("end", set(), {"b", "i"}),)),
    Hostile('<I>up</I> <B class="x">bold</B> <U>under</U>', ("up bold under",),
            (("up", {"i"}, set()), ("bold", {"b"}, set()), ("under", {"u"}, set()))),
    Hostile("<i><i>double</i></i> <b><i><u>deep</b></i></u>", ("double deep",),
            (("double", {"i"}, set()), ("deep", {"b", "i", "u"}, set()))),
    Hostile("&amp; &nbsp; &foo; &#60; &", ("&amp; &nbsp; &foo; &#60; &",)),
    Hostile("<lang en>lang</lang> <c>c</c> <v>v</v> <b.x>bx</b>", ("lang c v bx",)),
    Hostile("1 <2 and 3> 2 <b and c> d <i >sp</i >", ("1 <2 and 3> 2 <b and c> d sp",), (("sp", {"i"}, set()),)),
    Hostile("<br/>next<br>line", ("next\nline",)),
]

STEP_MS, LENGTH_MS = 300, 450  # cues overlap their neighbours; several cross the 2 s segment boundaries
CLIP_SECONDS = 7


def srt_time(t: int) -> str:
    return f"{t // 3600000:02d}:{t // 60000 % 60:02d}:{t // 1000 % 60:02d},{t % 1000:03d}"


def cue_times(i: int) -> tuple[int, int]:
    return i * STEP_MS, i * STEP_MS + LENGTH_MS


def corpus_srt() -> str:
    blocks = []
    for i, cue in enumerate(CORPUS):
        start, end = cue_times(i)
        blocks.append(f"{i + 1}\n{srt_time(start)} --> {srt_time(end)}\n{cue.srt}\n")
    return "\n".join(blocks)


# ---------------------------------------------------------------------------
# reading and checking one WebVTT file
# ---------------------------------------------------------------------------


def read_vtt(text: str, what: str) -> webvtt.WebVTT:
    assert text.startswith("WEBVTT"), f"{what}: does not start with WEBVTT: {text[:80]!r}"
    try:
        return webvtt.from_string(text, strict=True)
    except Exception as e:  # webvtt's MalformedFileError / MalformedCaptionError
        pytest.fail(f"{what}: webvtt-py (strict) cannot read it: {e}\n{text[:3000]}", pytrace=False)


def read_vtt_path(path: str) -> tuple[str, webvtt.WebVTT]:
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    return text, read_vtt(text, path)


def checked(cap, what: str) -> list[TextRun]:
    try:
        return parse_cue_text(cap.raw_text)
    except CueTextError as e:
        pytest.fail(f"{what}: cue {cap.start} --> {cap.end}: {e}\n  text: {cap.raw_text!r}", pytrace=False)


def cue_index(cap) -> int:
    """Which corpus cue a caption is, from its start time (the segment files may shift times: see callers)."""
    start = round(cap.start_time.in_milliseconds())
    assert start % STEP_MS == 0 and start // STEP_MS < len(CORPUS), f"a cue at {cap.start} is none of the corpus's"
    return start // STEP_MS


def assert_reads_as_expected(runs: list[TextRun], cue: Hostile, what: str) -> None:
    read = plain(runs)
    assert read in cue.reads, f"{what}: reads {read!r}, expected one of {cue.reads!r} (SRT {cue.srt!r})"
    for word, inside, outside in cue.styled:
        found = tags_of(runs, word)
        assert found, f"{what}: {word!r} is not one piece of text: {runs}"
        for tags in found:
            assert inside <= tags and not (outside & tags), (
                f"{what}: {word!r} is inside {sorted(tags)}; must be inside {sorted(inside)}, not {sorted(outside)}")


def assert_whole_corpus(text: str, what: str) -> dict[int, str]:
    """Every corpus cue once, at its SRT times, checked and reading as expected; returns index -> raw text."""
    vtt = read_vtt(text, what)
    caps = vtt.captions
    assert len(caps) == len(CORPUS), f"{what}: {len(caps)} cues for {len(CORPUS)} in the SRT\n{text}"
    out = {}
    for cap in caps:
        i = cue_index(cap)
        assert (round(cap.start_time.in_milliseconds()), round(cap.end_time.in_milliseconds())) == cue_times(i), cap
        assert i not in out, f"{what}: two cues at {cap.start}"
        assert_reads_as_expected(checked(cap, what), CORPUS[i], f"{what} cue {i + 1}")
        out[i] = cap.raw_text
    return out


# ---------------------------------------------------------------------------
# `hlsify subtitles FILE` and a transcode with --subtitles
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def srt_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("hostile-srt") / "hostile.en.srt"
    path.write_text(corpus_srt(), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def converted(srt_file) -> str:
    res = run_hlsify("subtitles", srt_file, timeout=60)
    assert res.returncode == 0, res.describe()
    return res.stdout


@pytest.fixture(scope="module")
def transcoded(srt_file, tmp_path_factory) -> str:
    """A 7 s 192x108 clip (no audio) with the corpus as English subtitles, 2 s segments."""
    folder = tmp_path_factory.mktemp("hostile-transcode")
    clip = str(folder / "clip.mp4")
    h.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", f"testsrc2=size=192x108:rate=25:duration={CLIP_SECONDS}",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", clip], timeout=120)
    out = str(folder / "out")
    res = run_hlsify(clip, "--out", out, "--quiet", "--ladder", "108p", "--preset", "ultrafast", "--segment-duration", "2",
                     "--no-storyboard", "--no-poster", "--subtitles", f"en={srt_file}", timeout=120)
    assert res.returncode == 0, res.describe()
    return out


def test_the_corpus_is_what_it_claims(srt_file):
    """The SRT parses (the `srt` package) into one cue per corpus entry, the last one before the clip's end."""
    import srt as srt_lib
    with open(srt_file, encoding="utf-8") as f:
        subs = list(srt_lib.parse(f.read()))
    assert len(subs) == len(CORPUS)
    assert [s.content for s in subs] == [c.srt for c in CORPUS]
    assert cue_times(len(CORPUS) - 1)[1] < CLIP_SECONDS * 1000
    crossing = [i for i in range(len(CORPUS)) if any(cue_times(i)[0] < b < cue_times(i)[1] for b in (2000, 4000, 6000))]
    assert len(crossing) >= 2, crossing


def test_subtitles_command_writes_only_markup_webvtt_knows(converted):
    assert_whole_corpus(converted, "hlsify subtitles -> stdout")


def test_transcode_sidecar_is_the_same_checked_webvtt(transcoded, converted):
    text, _ = read_vtt_path(os.path.join(transcoded, "subtitles", "en.vtt"))
    sidecar = assert_whole_corpus(text, "subtitles/en.vtt")
    assert sidecar == assert_whole_corpus(converted, "stdout"), "the sidecar's cue texts differ from `hlsify subtitles`'"


def test_transcode_segments_carry_only_checked_cues(transcoded, converted):
    """Every segment parses and every cue in it passes the checker and is one of the converted
    cues (cue times in segments may be shifted by X-TIMESTAMP-MAP, so cues are matched by text);
    together the segments hold every cue, those crossing a boundary in both segments."""
    hls = h.load_hls_set(os.path.join(transcoded, "master.m3u8"))
    subs = [m for m in hls.media if m.type == "SUBTITLES"]
    assert len(subs) == 1 and subs[0].language == "en", hls.master_text
    segments = subs[0].playlist.segments
    assert len(segments) >= 3, [s.uri for s in segments]
    assert sorted(os.path.basename(s.path) for s in segments) == sorted(
        n for n in os.listdir(os.path.join(transcoded, "subtitles", "en")) if n.endswith(".vtt"))
    by_text = {raw: i for i, raw in assert_whole_corpus(converted, "stdout").items()}
    assert len(by_text) == len(CORPUS), "two corpus cues convert to the same text: matching by text would be ambiguous"
    seen: dict[int, int] = {}
    for seg in segments:
        _, vtt = read_vtt_path(seg.path)
        for cap in vtt.captions:
            what = f"subtitles/en/{seg.uri}"
            runs = checked(cap, what)
            assert cap.raw_text in by_text, f"{what}: a cue that is not a converted one: {cap.raw_text!r}"
            i = by_text[cap.raw_text]
            assert_reads_as_expected(runs, CORPUS[i], f"{what} cue {i + 1}")
            seen[i] = seen.get(i, 0) + 1
    assert sorted(seen) == list(range(len(CORPUS))), f"cues in no segment: {sorted(set(range(len(CORPUS))) - set(seen))}"
    assert any(n > 1 for n in seen.values()), "no cue is in two segments, yet some cross a boundary"


# ---------------------------------------------------------------------------
# headless Chromium reads the sidecar through a <track>
# ---------------------------------------------------------------------------

LOAD_TRACK_JS = """
var v = document.createElement('video'); document.body.appendChild(v);
var t = document.createElement('track');
t.kind = 'subtitles'; t.srclang = 'en'; t.src = arguments[0];
window.trackState = 'pending';
t.addEventListener('load', function () { window.trackState = 'load'; });
t.addEventListener('error', function () { window.trackState = 'error'; });
v.appendChild(t);
t.track.mode = 'hidden';
"""

READ_CUES_JS = """
var t = document.querySelector('track'), out = [];
for (var i = 0; i < t.track.cues.length; i++) {
  var c = t.track.cues[i], d = document.createElement('div');
  d.appendChild(c.getCueAsHTML());
  var runs = [], walker = document.createTreeWalker(d, NodeFilter.SHOW_TEXT), n;
  while ((n = walker.nextNode())) {
    var tags = [];
    for (var p = n.parentNode; p && p !== d; p = p.parentNode) tags.unshift(p.tagName.toLowerCase());
    runs.push([n.data, tags]);
  }
  out.push({start: c.startTime, end: c.endTime, text: c.text, plain: d.textContent, runs: runs});
}
return {readyState: t.readyState, cues: out};
"""

BROWSER_TAGS = {"i": "i", "b": "b", "u": "u", "ruby": "ruby", "rt": "rt"}  # c, v and lang become <span>


@pytest.mark.timeout(120)
def test_chromium_reads_the_sidecar_cues_as_the_checker_does(transcoded, http_root, chromium, tmp_path):
    sidecar = os.path.join(transcoded, "subtitles", "en.vtt")
    _, vtt = read_vtt_path(sidecar)
    page = tmp_path / "track.html"
    page.write_text("<!doctype html><html><head><title>track</title></head><body></body></html>")
    chromium.get(http_root(str(page)))
    chromium.execute_script(LOAD_TRACK_JS, http_root(sidecar))
    deadline = time.monotonic() + 30
    while (state := chromium.execute_script("return window.trackState")) == "pending":
        assert time.monotonic() < deadline, "the <track> neither loaded nor failed within 30 s"
        time.sleep(0.05)
    assert state == "load", f"Chromium could not load the track: {state}; log {chromium.get_log('browser')}"
    got = chromium.execute_script(READ_CUES_JS)
    assert got["readyState"] == 2, got["readyState"]
    cues = got["cues"]
    assert len(cues) == len(vtt.captions) == len(CORPUS), f"Chromium reads {len(cues)} cues"
    for cap, cue in zip(vtt.captions, cues):
        i = cue_index(cap)
        what = f"Chromium cue {i + 1}"
        assert (round(cue["start"] * 1000), round(cue["end"] * 1000)) == cue_times(i), (what, cue)
        assert cue["text"] == cap.raw_text, (what, cue["text"], cap.raw_text)
        runs = checked(cap, "en.vtt")
        assert cue["plain"] == plain(runs), f"{what}: Chromium reads {cue['plain']!r}, the checker {plain(runs)!r}"
        browser_runs = [TextRun(text, tuple(BROWSER_TAGS[t] for t in tags if t in BROWSER_TAGS)) for text, tags in cue["runs"]]
        assert_reads_as_expected(browser_runs, CORPUS[i], what)
        mine = [(r.text, r.inside) for r in runs if r.text]
        theirs = [(r.text, r.inside) for r in browser_runs if r.text]
        assert theirs == mine, f"{what}: Chromium's text and tags {theirs} differ from the checker's {mine}"
    severe = [e for e in chromium.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]
    assert severe == [], severe


# ---------------------------------------------------------------------------
# engine bugs this file found (they fail until the engine is fixed)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("srt_text", ["<v Alice Smith>Hello</v>", "<v.loud Alice Smith>Hello</v>"])
def test_a_voice_with_a_name_of_two_words_is_not_shown_as_text(tmp_path, srt_text):
    """`<v Bob>` is dropped with its text kept, but a voice span whose name has a space (WebVTT's
    own `<v Alice Smith>`, common in SRT files converted from WebVTT) comes out escaped, so the
    viewer reads the markup: "<v Alice Smith>Hello"."""
    src = tmp_path / "voice.srt"
    src.write_text(f"1\n00:00:00,000 --> 00:00:01,000\n{srt_text}\n", encoding="utf-8")
    res = run_hlsify("subtitles", str(src), timeout=60)
    assert res.returncode == 0, res.describe()
    (cap,) = read_vtt(res.stdout, "voice.srt -> stdout").captions
    read = plain(checked(cap, "voice.srt -> stdout"))
    assert read == "Hello", f"a viewer reads {read!r} (cue text {cap.raw_text!r})"
