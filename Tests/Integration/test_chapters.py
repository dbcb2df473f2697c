"""Chapters (`--chapters FILE`; the worker's `"chapters"` job field), checked with readers hlsify
does not share code with.

- chapters.vtt is read by `webvtt-py` in strict mode, and its timing lines by a regular expression
  (`HH:MM:SS.mmm --> HH:MM:SS.mmm`, cue ids 1..N);
- chapters.json by Python's `json`, against Apple's chapter format (`chapter`, `start-time`,
  `duration`, `titles` of `language` and `title`);
- the master playlist by the `m3u8` library (its `session_data`), and by every rule of
  apple_rules.py (RFC 8216 and Apple's authoring spec) on one set;
- what each output must hold is computed here from the input this file writes (times in
  milliseconds, open ends at the next start or at the report's `durationSeconds`, titles with
  runs of white space collapsed), never read back from hlsify.

The sources are made here with ffmpeg: a 4.6 s 192x108 clip whose AAC is tagged French (`fra`),
and a 3 s one without audio; each run is a fraction of a second (`ultrafast`, one small rung, no
storyboard or poster unless a test needs the default ladder). Errors are checked for their exit
status (65, or 66 for a missing file), one line on stderr naming the file and the chapter, and no
output or staging folder beside where the output would have gone.

The worker tests at the end (a job with chapters, never split; unsafe and failing chapter files)
need the private RabbitMQ node `make test` starts (HLSIFY_TEST_AMQP_URL), as test_worker.py does.
The last section holds tests for engine bugs this file found; they fail until the engine is fixed.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Optional

import m3u8
import pytest
import webvtt

import apple_rules as ar
import hlscheck as h
from conftest import RunResult, hlsify_bin, run_hlsify
from test_split_jobs import check_queue, wait_quiet
from test_worker import Bus, Clips, Site, amqp_url, assert_plays, close_site, work_leftovers, worker_bin

EX_USAGE, EX_DATAERR, EX_NOINPUT = 64, 65, 66
FAST = ("--preset", "ultrafast", "--segment-duration", "2", "--no-storyboard", "--no-poster")
SESSION_DATA_LINE = '#EXT-X-SESSION-DATA:DATA-ID="com.apple.hls.chapters",URI="chapters.json"'
TIMING = re.compile(r"^(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})$")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# ---------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Media:
    folder: str
    clip: str      # 4.6 s, 192x108 at 25 fps, AAC tagged "fra"
    silent: str    # 3 s, 192x108, no audio
    untagged: str  # 3 s, 192x108, AAC without a language
    clip_ms: int   # the clip's duration as ffprobe reads it (ms)


def make_clip(path: str, seconds: float, audio: Optional[str]) -> None:
    """audio: None for no audio stream, "" for untagged AAC, else its ISO 639-2 language."""
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", f"testsrc2=size=192x108:rate=25:duration={seconds}"]
    if audio is not None:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac", "-shortest"]
        if audio:
            cmd += ["-metadata:s:a:0", f"language={audio}"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path]
    h.run(cmd, timeout=120)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Media:
    folder = str(tmp_path_factory.mktemp("chapter-sources"))
    clip, silent, untagged = (os.path.join(folder, n) for n in ("clip.mp4", "silent.mp4", "untagged.mp4"))
    make_clip(clip, 4.6, "fra")
    make_clip(silent, 3, None)
    make_clip(untagged, 3, "")
    duration = float(h.ffprobe_json(clip, "-show_format")["format"]["duration"])
    assert abs(duration - 4.6) < 0.05, f"the clip is {duration} s long"
    return Media(folder, clip, silent, untagged, round(duration * 1000))


# ---------------------------------------------------------------------------
# expectations (computed here) and the independent readers
# ---------------------------------------------------------------------------


def ms(seconds: float) -> int:
    return round(seconds * 1000)


def fmt_ms(t: int) -> str:
    return f"{t // 3600000:02d}:{t // 60000 % 60:02d}:{t // 1000 % 60:02d}.{t % 1000:03d}"


def collapse(title: str) -> str:
    """A title as the chapter files must carry it: runs of white space (not no-break spaces) made one space, trimmed."""
    return re.sub(r"[ \t\n\r\f\v]+", " ", title).strip()


def vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Chapter:
    start: int  # ms
    end: int    # ms
    title: str


def expected_chapters(spec: list[tuple[int, Optional[int], str]], total_ms: int) -> list[Chapter]:
    """(start ms, explicit end ms or None, title as written) -> the chapters the files must hold: an
    open end is the next start, or the end of the output for the last one; explicit ends past the
    output's end are cut there."""
    out = []
    for i, (start, end, title) in enumerate(spec):
        if end is None:
            end = spec[i + 1][0] if i + 1 < len(spec) else total_ms
        out.append(Chapter(start, min(end, total_ms), collapse(title)))
    return out


@dataclass
class Run:
    """One hlsify run with --chapters, and what it wrote, read by the independent readers."""
    parent: str
    out: str
    result: RunResult

    def require_success(self) -> None:
        if self.result.returncode != 0:
            pytest.fail(f"hlsify failed\n{self.result.describe()}", pytrace=False)

    @property
    def report(self) -> dict:
        self.require_success()
        return json.loads(self.result.stdout)

    @property
    def total_ms(self) -> int:
        return ms(self.report["durationSeconds"])

    def read(self, name: str) -> bytes:
        path = os.path.join(self.out, name)
        assert os.path.isfile(path), f"no {name} in {self.out}: {h.list_tree(self.out)}"
        with open(path, "rb") as f:
            return f.read()

    @property
    def vtt_text(self) -> str:
        data = self.read("chapters.vtt")
        assert not data.startswith(b"\xef\xbb\xbf"), "chapters.vtt starts with a byte order mark"
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            pytest.fail(f"chapters.vtt is not UTF-8: {e}", pytrace=False)

    @property
    def vtt(self) -> webvtt.WebVTT:
        text = self.vtt_text
        assert text.startswith("WEBVTT\n"), f"chapters.vtt does not start with a WEBVTT line: {text[:80]!r}"
        try:
            return webvtt.from_string(text, strict=True)
        except Exception as e:  # webvtt's MalformedFileError / MalformedCaptionError
            pytest.fail(f"webvtt-py (strict) cannot read chapters.vtt: {e}\n{text[:1500]}", pytrace=False)

    @property
    def chapters_json(self):
        try:
            return json.loads(self.read("chapters.json").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            pytest.fail(f"chapters.json is not JSON: {e}\n{self.read('chapters.json')[:1500]!r}", pytrace=False)

    @property
    def master_text(self) -> str:
        return self.read("master.m3u8").decode("utf-8")

    @property
    def master(self) -> m3u8.M3U8:
        return m3u8.loads(self.master_text)


def chapters_run(parent: str, source: str, chapters: Optional[str], *extra: str) -> Run:
    os.makedirs(parent, exist_ok=True)
    out = os.path.join(parent, "out")
    args = [source, "--out", out, "--json", "--quiet", *extra]
    if chapters is not None:
        args += ["--chapters", chapters]
    return Run(parent, out, run_hlsify(*args, timeout=120))


def write(path: str, data) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def audio_language(run: Run) -> Optional[str]:
    return next((m.language for m in run.master.media if m.type == "AUDIO"), None)


def assert_chapter_files(run: Run, expected: list[Chapter], language: str, report: bool = True) -> None:
    """chapters.vtt, chapters.json, the master's EXT-X-SESSION-DATA and (with `report`) the
    report's "chapters" are the expected chapters, each read by its own reader."""
    n = len(expected)
    if report:
        assert run.report.get("chapters") == {"vtt": "chapters.vtt", "json": "chapters.json", "count": n}, run.report.get("chapters")

    # chapters.vtt: the timing lines as written, then webvtt-py (strict).
    text = run.vtt_text
    assert "\r" not in text, "chapters.vtt has a carriage return"
    assert not CONTROL.search(text), f"chapters.vtt has a control character: {CONTROL.search(text)!r}"
    timings = [line for line in text.split("\n") if "-->" in line]
    assert len(timings) == n, f"{len(timings)} lines with --> in chapters.vtt for {n} chapters (a title leaked an arrow?)"
    for line, c in zip(timings, expected):
        assert TIMING.match(line), f"timing line {line!r} is not HH:MM:SS.mmm --> HH:MM:SS.mmm"
        assert line == f"{fmt_ms(c.start)} --> {fmt_ms(c.end)}", f"timing line {line!r}, expected {c}"
    captions = run.vtt.captions
    assert len(captions) == n, f"{len(captions)} cues in chapters.vtt, {n} chapters"
    for i, (cap, c) in enumerate(zip(captions, expected)):
        what = f"chapters.vtt cue {i + 1}"
        assert cap.identifier == str(i + 1), f"{what}: id {cap.identifier!r}"
        assert (cap.start_time.in_milliseconds(), cap.end_time.in_milliseconds()) == (c.start, c.end), (
            f"{what}: {cap.start} --> {cap.end}, expected {fmt_ms(c.start)} --> {fmt_ms(c.end)}")
        assert cap.end_time.in_milliseconds() > cap.start_time.in_milliseconds(), f"{what}: not after its start"
        assert cap.raw_text == vtt_escape(c.title), f"{what}: text {cap.raw_text!r}, expected {vtt_escape(c.title)!r}"
        assert html.unescape(cap.raw_text) == c.title, what
        assert str(cap.settings) == "", f"{what}: cue settings {str(cap.settings)!r}"

    # chapters.json: Apple's format.
    doc = run.chapters_json
    assert isinstance(doc, list) and len(doc) == n, f"chapters.json: {str(doc)[:500]}"
    for i, (entry, c) in enumerate(zip(doc, expected)):
        what = f"chapters.json entry {i}"
        assert isinstance(entry, dict) and set(entry) == {"chapter", "start-time", "duration", "titles"}, f"{what}: {entry}"
        assert entry["chapter"] == i + 1 and type(entry["chapter"]) is int, f"{what}: {entry}"
        for key in ("start-time", "duration"):
            assert type(entry[key]) in (int, float), f"{what}: {key} is {entry[key]!r}"
        assert ms(entry["start-time"]) == c.start, f"{what}: start-time {entry['start-time']}, expected {c.start / 1000}"
        assert ms(entry["duration"]) == c.end - c.start, f"{what}: duration {entry['duration']}, expected {(c.end - c.start) / 1000}"
        assert entry["titles"] == [{"language": language, "title": c.title}], f"{what}: titles {entry['titles']}"

    # The master names chapters.json once, with EXT-X-SESSION-DATA.
    master = run.master
    data = [(d.data_id, d.uri, d.value, d.language) for d in master.session_data]
    assert data == [("com.apple.hls.chapters", "chapters.json", None, None)], f"session data {data}\n{run.master_text}"
    assert run.master_text.splitlines().count(SESSION_DATA_LINE) == 1, run.master_text
    assert os.path.isfile(os.path.join(run.out, master.session_data[0].uri))
    assert master.is_variant and master.playlists, run.master_text


def assert_no_chapters(run: Run) -> None:
    run.require_success()
    assert run.report.get("chapters", "absent") is None, f"report chapters: {run.report.get('chapters', 'absent')!r}"
    for name in ("chapters.vtt", "chapters.json"):
        assert not os.path.exists(os.path.join(run.out, name)), f"{name} written without --chapters"
    assert "EXT-X-SESSION-DATA" not in run.master_text, run.master_text
    assert list(run.master.session_data) == []


# ---------------------------------------------------------------------------
# JSON chapters: every time form, escaping, white space, gaps, the open last chapter
# ---------------------------------------------------------------------------

LONG_TITLE = "é" * 200  # 200 characters, 400 bytes: the longest title allowed

JSON_SPEC = [  # (start as written, end as written or None, title)
    (0, None, "Intro & <welcome>"),
    ("00:00:01.250", "00:00:02.000", "  Part\t two \n of   it "),    # HH:MM:SS.mmm; a gap after it
    ("00:02.500", None, 'a --> b "q" \\ </c> &amp; it'),             # MM:SS.mmm; text, not markup
    ("00:00:03", 3.5, LONG_TITLE),                                  # HH:MM:SS; number end
    ("00:04", None, "Last"),                                        # MM:SS; ends with the output
]
JSON_SPEC_MS = [(0, None, JSON_SPEC[0][2]), (1250, 2000, JSON_SPEC[1][2]), (2500, None, JSON_SPEC[2][2]),
                (3000, 3500, JSON_SPEC[3][2]), (4000, None, JSON_SPEC[4][2])]


def json_chapters(spec) -> str:
    items = []
    for start, end, title in spec:
        item = {"start": start, "title": title}
        if end is not None:
            item["end"] = end
        items.append(item)
    return json.dumps(items, ensure_ascii=False)


@pytest.fixture(scope="module")
def json_run(media, tmp_path_factory) -> Run:
    """The JSON chapters on the clip with the default (auto) ladder: two rungs, for Apple's rules."""
    folder = str(tmp_path_factory.mktemp("chapters-json"))
    src = write(os.path.join(folder, "in", "chapters.json"), json_chapters(JSON_SPEC))
    return chapters_run(os.path.join(folder, "run"), media.clip, src, "--preset", "ultrafast", "--segment-duration", "2")


def test_json_chapters_in_every_time_form(json_run):
    language = audio_language(json_run)
    assert language == "fr", f"the clip's audio is tagged fra: LANGUAGE {language!r}\n{json_run.master_text}"
    expected = expected_chapters(JSON_SPEC_MS, json_run.total_ms)
    assert expected[-1].end == json_run.total_ms and json_run.total_ms == pytest.approx(4600, abs=40)
    assert_chapter_files(json_run, expected, language)


def test_titles_are_escaped_in_the_vtt_and_plain_in_the_json(json_run):
    vtt = json_run.vtt_text
    assert "Intro &amp; &lt;welcome&gt;\n" in vtt, vtt
    assert 'a --&gt; b "q" \\ &lt;/c&gt; &amp;amp; it\n' in vtt, vtt
    doc = json_run.chapters_json
    assert doc[0]["titles"][0]["title"] == "Intro & <welcome>"
    assert doc[2]["titles"][0]["title"] == 'a --> b "q" \\ </c> &amp; it'
    assert doc[3]["titles"][0]["title"] == LONG_TITLE


def test_apple_rules_accept_the_master_with_session_data(json_run, media):
    json_run.require_success()
    ctx = ar.Context(os.path.join(json_run.out, "master.m3u8"), source=media.clip, nominal_segment=2)
    assert any(t.name == "EXT-X-SESSION-DATA" for t in ctx.tags), ctx.master_text
    broken = {k: v for k, v in ar.check_all(ctx).items() if v}
    assert not broken, broken
    # hlscheck (the suite's m3u8-based reader) still reads the whole set.
    hls = h.load_hls_set(os.path.join(json_run.out, "master.m3u8"))
    assert len(hls.variants) == 2 and hls.audio_renditions


# ---------------------------------------------------------------------------
# WebVTT chapters: byte order mark, CRLF, header text, NOTE, ids, settings, tags, entities
# ---------------------------------------------------------------------------

VTT_INPUT = (
    "\ufeffWEBVTT - chapters of a lecture\r\n"
    "Kind: chapters\r\n"
    "\r\n"
    "NOTE a comment\r\n"
    "over two lines\r\n"
    "\r\n"
    "intro\r\n"
    "00:00.000 --> 00:01.500\r\n"
    "<b>Intro</b> &amp; <c.loud>&lt;welcome&gt;</c>\r\n"
    "\r\n"
    "00:00:01.500 --> 00:00:03.000 align:start line:0\r\n"
    "<v Bob>Bob&nbsp;talks</v>\r\n"
    "<i>second</i>  line\r\n"
    "\r\n"
    "3\r\n"
    "00:03.000 --> 00:04.000\r\n"
    "&lt;b&gt;literal&lt;/b&gt; <00:00:03.500>The   end\r\n"
)
VTT_EXPECTED = [(0, 1500, "Intro & <welcome>"), (1500, 3000, "Bob talks second line"), (3000, 4000, "<b>literal</b> The end")]


@pytest.fixture(scope="module")
def vtt_run(media, tmp_path_factory) -> Run:
    folder = str(tmp_path_factory.mktemp("chapters-vtt"))
    src = write(os.path.join(folder, "in", "chapters.vtt"), VTT_INPUT)
    return chapters_run(os.path.join(folder, "run"), media.clip, src, "--ladder", "108p", *FAST)


def test_webvtt_chapters_with_bom_crlf_tags_and_entities(vtt_run):
    """Tags are dropped (their text kept), the five entities decoded, cue lines joined with a
    space; &nbsp; decodes to a no-break space, which this test compares as a space."""
    vtt_run.require_success()
    nbsp_as_space = Run(vtt_run.parent, vtt_run.out, vtt_run.result)
    nbsp_as_space.read = lambda name: vtt_run.read(name).replace("\u00a0".encode(), b" ")
    assert_chapter_files(nbsp_as_space, [Chapter(s, e, t) for s, e, t in VTT_EXPECTED], "fr")


def test_apple_json_and_our_own_vtt_read_back_give_the_same_chapters(json_run, vtt_run, media, tmp_path):
    """chapters.json (Apple's format: start-time, duration, titles) and chapters.vtt fed back as
    --chapters give byte-identical chapter files, gaps and all."""
    for first in (json_run, vtt_run):
        first.require_success()
        for name in ("chapters.json", "chapters.vtt"):
            label = f"{'json' if first is json_run else 'vtt'}-run-{name}"
            src = write(str(tmp_path / label / name), first.read(name))
            again = chapters_run(str(tmp_path / f"again-{label}"), media.clip, src, "--ladder", "108p", *FAST)
            again.require_success()
            assert again.read("chapters.vtt") == first.read("chapters.vtt"), f"{name} read back: chapters.vtt differs"
            assert again.read("chapters.json") == first.read("chapters.json"), f"{name} read back: chapters.json differs"


def test_apple_json_written_by_hand_is_read(media, tmp_path):
    """Apple's own format as input: "start-time", an optional "duration" (an end; without it the
    chapter runs to the next), "titles" (the first title is used)."""
    src = write(str(tmp_path / "in" / "apple.json"), json.dumps([
        {"chapter": 1, "start-time": 0, "duration": 1, "titles": [{"language": "en", "title": "One & only"}]},
        {"start-time": 2.25, "titles": [{"title": "Two"}]},
        {"start-time": "00:03.000", "duration": 0.5, "titles": [{"language": "de", "title": "Drei"}, {"language": "en", "title": "Three"}]},
    ]))
    run = chapters_run(str(tmp_path / "run"), media.clip, src, "--ladder", "108p", *FAST)
    assert_chapter_files(run, [Chapter(0, 1000, "One & only"), Chapter(2250, 3000, "Two"), Chapter(3000, 3500, "Drei")], "fr")


# ---------------------------------------------------------------------------
# language, no chapters, limits, hostile titles
# ---------------------------------------------------------------------------

TWO = json.dumps([{"start": 0, "title": "A"}, {"start": 1, "title": "B"}])


@pytest.mark.parametrize("source,subtitles,language", [
    ("silent", ["de", "en"], "de"),   # no audio: the first subtitle's language
    ("untagged", ["de"], "de"),       # untagged audio says nothing: the first subtitle's
    ("silent", [], "und"),            # nothing to go by
], ids=["no-audio-subtitles", "untagged-audio-subtitles", "nothing"])
def test_chapter_language_falls_back_to_the_first_subtitle_then_und(media, tmp_path, source, subtitles, language):
    src = write(str(tmp_path / "in" / "two.json"), TWO)
    srt = write(str(tmp_path / "in" / "x.srt"), "1\n00:00:00,500 --> 00:00:01,000\nHallo\n")
    extra = [a for lang in subtitles for a in ("--subtitles", f"{lang}={srt}")]
    run = chapters_run(str(tmp_path / "run"), getattr(media, source), src, "--ladder", "108p", *FAST, *extra)
    run.require_success()
    assert_chapter_files(run, expected_chapters([(0, None, "A"), (1000, None, "B")], run.total_ms), language)


def test_without_chapters_nothing_is_written_and_the_report_says_null(media, tmp_path):
    assert_no_chapters(chapters_run(str(tmp_path / "run"), media.silent, None, "--ladder", "108p", *FAST))


def test_an_end_up_to_half_a_second_past_the_media_is_cut_at_the_end(media, tmp_path):
    end = media.clip_ms + 500
    src = write(str(tmp_path / "in" / "end.json"),
                json.dumps([{"start": 0, "title": "A"}, {"start": 2, "title": "B", "end": end / 1000}]))
    run = chapters_run(str(tmp_path / "run"), media.clip, src, "--ladder", "108p", *FAST)
    run.require_success()
    assert_chapter_files(run, [Chapter(0, 2000, "A"), Chapter(2000, run.total_ms, "B")], "fr")


def test_a_thousand_chapters_are_accepted(media, tmp_path):
    spec = [(i * 4, None, f"c{i}") for i in range(1000)]
    src = write(str(tmp_path / "in" / "many.json"), json.dumps([{"start": s / 1000, "title": t} for s, _, t in spec]))
    run = chapters_run(str(tmp_path / "run"), media.clip, src, "--ladder", "108p", *FAST)
    run.require_success()
    assert_chapter_files(run, expected_chapters(spec, run.total_ms), "fr")


HOSTILE_TITLES = ["x\r\n\r\ny", "a --> b", "1\n00:00:00.000 --> 00:00:01.000", "nul\u0000here", "bell\u0007 esc\u001b[31m",
                  'q"uote\\back', "ls\u2028ps\u2029nel\u0085", "\U0001F600 emoji é", "WEBVTT", "NOTE this"]


def test_hostile_titles_stay_one_cue_of_one_line_each(media, tmp_path):
    """Line breaks, arrows, control characters: each title stays one line of its cue in the VTT
    (the WebVTT parser would otherwise end the cue or take a timing line out of it), both files
    carry the same title, and every letter of it is kept."""
    spec = [(i * 400, None, t) for i, t in enumerate(HOSTILE_TITLES)]
    src = write(str(tmp_path / "in" / "hostile.json"), json.dumps([{"start": s / 1000, "title": t} for s, _, t in spec]))
    run = chapters_run(str(tmp_path / "run"), media.clip, src, "--ladder", "108p", *FAST)
    run.require_success()
    caps = run.vtt.captions
    doc = run.chapters_json
    assert len(caps) == len(doc) == len(spec), (len(caps), len(doc))
    for cap, entry, (start, _, title) in zip(caps, doc, spec):
        written = entry["titles"][0]["title"]
        assert "\n" not in cap.raw_text and not CONTROL.search(cap.raw_text + written), (cap.raw_text, written)
        assert html.unescape(cap.raw_text) == written, (cap.raw_text, written)
        assert cap.start_time.in_milliseconds() == start and ms(entry["start-time"]) == start
        assert re.sub(r"\W", "", written) == re.sub(r"\W", "", CONTROL.sub("", title)), (title, written)
    assert len([l for l in run.vtt_text.split("\n") if "-->" in l]) == len(spec), run.vtt_text


# ---------------------------------------------------------------------------
# errors: exit 65 (66 for a missing file), one line naming the file and the chapter, nothing written
# ---------------------------------------------------------------------------


def j(items) -> bytes:
    return json.dumps(items).encode()


MEDIA_END = "00:00:04.600"
BAD = {  # name -> (file name, bytes, fragments the one line must hold besides the file's path)
    "overlap": ("c.json", j([{"start": 0, "title": "a", "end": 2.5}, {"start": 2, "title": "b"}]), ["chapter 1", '"a"', "chapter 2", "00:00:02.500"]),
    "unsorted": ("c.json", j([{"start": 2, "title": "a"}, {"start": 1, "title": "b"}]), ["chapter 2", '"b"']),
    "equal-starts": ("c.json", j([{"start": 1, "title": "a"}, {"start": "00:01", "title": "b"}]), ["chapter 2"]),
    "start-after-end": ("c.json", j([{"start": 0, "title": "a"}, {"start": 9, "title": "late"}]),
                        ['chapter 2 ("late") starts at 00:00:09.000', MEDIA_END]),
    "start-at-end": ("c.json", j([{"start": 0, "title": "a"}, {"start": 4.6, "title": "edge"}]), ["chapter 2", MEDIA_END]),
    "negative-start": ("c.json", j([{"start": -1, "title": "a"}]), ["chapter 1"]),
    "end-past-tolerance": ("c.json", j([{"start": 0, "title": "a", "end": 5.101}]), ["chapter 1", "00:00:05.101", MEDIA_END]),
    "end-at-start": ("c.json", j([{"start": 1, "title": "a", "end": 1}]), ["chapter 1"]),
    "end-before-start": ("c.json", j([{"start": 2, "title": "a", "end": "00:01.000"}]), ["chapter 1"]),
    "empty-title": ("c.json", j([{"start": 0, "title": "a"}, {"start": 1, "title": ""}]), ["chapter 2", "title"]),
    "blank-title": ("c.json", j([{"start": 0, "title": " \t\n "}]), ["chapter 1", "title"]),
    "control-only-title": ("c.json", j([{"start": 0, "title": "\u0000\u0007"}]), ["chapter 1", "title"]),
    "title-201-chars": ("c.json", j([{"start": 0, "title": "é" * 201}]), ["chapter 1", "200"]),
    "no-title": ("c.json", j([{"start": 0}]), ["chapter 1", "title"]),
    "no-start": ("c.json", j([{"title": "a"}]), ["chapter 1", "start"]),
    "title-not-text": ("c.json", j([{"start": 0, "title": 5}]), ["chapter 1", "title"]),
    "start-not-time": ("c.json", j([{"start": "1:2:3:4", "title": "a"}]), ["chapter 1", "1:2:3:4"]),
    "start-words": ("c.json", j([{"start": "abc", "title": "a"}]), ["chapter 1", "abc"]),
    "seconds-over-59": ("c.json", j([{"start": "00:61.000", "title": "a"}]), ["chapter 1", "00:61.000"]),
    "srt-comma": ("c.json", j([{"start": "00:00:01,000", "title": "a"}]), ["chapter 1"]),
    "start-bool": ("c.json", j([{"start": True, "title": "a"}]), ["chapter 1"]),
    "end-not-time": ("c.json", j([{"start": 0, "title": "a", "end": "soon"}]), ["chapter 1", "soon"]),
    "too-many": ("c.json", j([{"start": i * 0.004, "title": f"c{i}"} for i in range(1001)]), ["1000"]),
    "empty-list": ("c.json", b"[]", []),
    "object-not-list": ("c.json", j({"start": 0, "title": "a"}), []),
    "entry-not-object": ("c.json", j([{"start": 0, "title": "a"}, 5]), ["chapter 2"]),
    "trailing-garbage": ("c.json", j([{"start": 0, "title": "a"}]) + b" xx", []),
    "nan": ("c.json", b'[{"start": NaN, "title": "a"}]', []),
    "deep-nesting": ("c.json", b"[" * 100000 + b"]" * 100000, []),
    "plain-text": ("c.txt", b"Intro at 0:00\nEnd at 0:03\n", []),
    "empty-file": ("c.json", b"", []),
    "invalid-utf8-json": ("c.json", b'[{"start": 0, "title": "caf\xe9"}]', ["UTF-8"]),
    "invalid-utf8-vtt": ("c.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\ncaf\xe9\n", ["UTF-8"]),
    "vtt-bad-timing": ("c.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\na\n\n00:00:0x.500 --> 00:02.000\nb\n", ["00:00:0x.500"]),
    "vtt-empty-title": ("c.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\n<b></b>\n", ["cue 1"]),
    "vtt-overlap": ("c.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\na\n\n00:00.500 --> 00:02.000\nb\n", ["chapter 1", "chapter 2"]),
    "vtt-unsorted": ("c.vtt", b"WEBVTT\n\n00:02.000 --> 00:03.000\na\n\n00:01.000 --> 00:02.000\nb\n", ["chapter 2"]),
    "vtt-end-before-start": ("c.vtt", b"WEBVTT\n\n00:01.000 --> 00:00.500\na\n", ["cue 1"]),
    "vtt-past-the-end": ("c.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\nx\n\n00:01.000 --> 00:05.200\ny\n", ["chapter 2", '"y"', MEDIA_END]),
    "not-webvtt-header": ("c.vtt", b"WEBVTTX\n\n00:00.000 --> 00:01.000\na\n", []),
}


def assert_refused(res: RunResult, code: int, path: str, parent: str, fragments=()) -> str:
    assert res.returncode == code, f"exit {res.returncode}, expected {code}\n{res.describe()}"
    assert len(res.stderr_lines) == 1, f"expected one line on stderr\n{res.describe()}"
    line = res.stderr_lines[0]
    assert path in line, f"the line does not name {path}: {line!r}"
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} is not in {line!r}"
    assert res.stdout == "", f"stdout: {res.stdout[:500]!r}"
    assert os.listdir(parent) == [], f"left beside the output: {os.listdir(parent)}"
    return line


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_chapters_file_is_65_with_one_line_and_nothing_written(media, tmp_path, name):
    filename, data, fragments = BAD[name]
    src = write(str(tmp_path / "in" / filename), data)
    parent = tmp_path / "parent"
    parent.mkdir()
    res = run_hlsify(media.clip, "--out", str(parent / "out"), "--json", "--quiet", "--ladder", "108p", *FAST,
                     "--chapters", src, timeout=60)
    assert_refused(res, EX_DATAERR, src, str(parent), fragments)


def test_the_bad_file_cases_are_what_they_claim():
    """The corpus above: the JSON cases are JSON (so each tests what it is named after, not a parse error)."""
    for name, (filename, data, _) in BAD.items():
        if filename.endswith(".json") and name not in ("trailing-garbage", "nan", "empty-file", "invalid-utf8-json", "deep-nesting"):
            json.loads(data)
    assert len(json.loads(BAD["too-many"][1])) == 1001
    assert len(json.loads(BAD["title-201-chars"][1])[0]["title"]) == 201


def test_a_missing_chapters_file_is_66_and_a_folder_65(media, tmp_path):
    parent = tmp_path / "parent"
    parent.mkdir()
    missing = str(tmp_path / "in" / "nowhere.json")
    res = run_hlsify(media.clip, "--out", str(parent / "out"), "--quiet", "--chapters", missing, timeout=60)
    assert_refused(res, EX_NOINPUT, missing, str(parent))
    folder = str(tmp_path / "in-folder")
    os.mkdir(folder)
    res = run_hlsify(media.clip, "--out", str(parent / "out"), "--quiet", "--chapters", folder, timeout=60)
    assert_refused(res, EX_DATAERR, folder, str(parent))


def test_a_chapters_file_over_1_mib_is_65(media, tmp_path):
    body = json.dumps([{"start": 0, "title": "a"}])
    src = write(str(tmp_path / "in" / "big.json"), body + " " * ((1 << 20) + 1 - len(body)))
    assert os.path.getsize(src) == (1 << 20) + 1
    parent = tmp_path / "parent"
    parent.mkdir()
    res = run_hlsify(media.clip, "--out", str(parent / "out"), "--quiet", "--chapters", src, timeout=60)
    assert_refused(res, EX_DATAERR, src, str(parent), ["1048576"])
    # Exactly 1 MiB is still read.
    write(src, body + " " * ((1 << 20) - len(body)))
    ok = chapters_run(str(tmp_path / "ok"), media.clip, src, "--ladder", "108p", *FAST)
    ok.require_success()
    assert ok.report["chapters"]["count"] == 1


def test_plan_refuses_chapters_as_a_usage_error(media, tmp_path):
    src = write(str(tmp_path / "in" / "two.json"), TWO)
    work = tmp_path / "work"
    res = run_hlsify("plan", media.clip, "--work", str(work), "--chapters", src, timeout=60)
    assert res.returncode == EX_USAGE, res.describe()
    assert "--chapters" in res.stderr, res.describe()
    assert not work.exists(), "plan made its work folder before refusing --chapters"


# ---------------------------------------------------------------------------
# --progressive, resume
# ---------------------------------------------------------------------------

KILL_ENV = "HLSIFY_TEST_KILL_AT"


def test_progressive_master_names_chapters_only_once_complete(media, tmp_path):
    """Killed mid-run (HLSIFY_TEST_KILL_AT, after 6 segment renames of 1 s segments), a
    --progressive run's master is out for players with unfinished playlists: it must not name
    chapters.json yet. A whole --progressive run's final master does."""
    src = write(str(tmp_path / "in" / "two.json"), TWO)
    killed = str(tmp_path / "killed" / "out")
    os.makedirs(os.path.dirname(killed))
    proc = subprocess.run([hlsify_bin(), media.clip, "--out", killed, "--progressive", "--quiet", "--ladder", "108p",
                           "--preset", "ultrafast", "--segment-duration", "1", "--no-storyboard", "--no-poster",
                           "--chapters", src], env={**os.environ, KILL_ENV: "segment-renamed:6"},
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == -9, f"exit {proc.returncode}: the kill point was not reached\n{proc.stderr[-2000:]}"
    master = os.path.join(killed, "master.m3u8")
    assert os.path.isfile(master), f"no progressive master after 6 segments: {h.list_tree(killed)}"
    hls = h.load_hls_set(master)
    unfinished = [pl.uri for pl in hls.media_playlists() if not pl.parsed.is_endlist]
    assert unfinished, "every playlist was already finished: the run was not caught mid-way"
    text = open(master, encoding="utf-8").read()
    assert "EXT-X-SESSION-DATA" not in text, f"a progressive master names chapters while the run is going:\n{text}"
    assert list(m3u8.loads(text).session_data) == []

    done = chapters_run(str(tmp_path / "done"), media.clip, src, "--progressive", "--ladder", "108p", *FAST)
    done.require_success()
    assert_chapter_files(done, expected_chapters([(0, None, "A"), (1000, None, "B")], done.total_ms), "fr")


def test_a_resumed_run_writes_the_chapters_it_was_given(media, tmp_path):
    """A run killed after 3 committed segments (chapters A) resumed with other chapters (B): the
    segments are reused, the chapters are B's."""
    first = write(str(tmp_path / "in" / "first.json"), json.dumps([{"start": 0, "title": "old"}, {"start": 3, "title": "older"}]))
    second = write(str(tmp_path / "in" / "second.json"), TWO)
    parent = tmp_path / "run"
    parent.mkdir()
    out = str(parent / "out")
    args = [hlsify_bin(), media.clip, "--out", out, "--quiet", "--ladder", "108p", "--preset", "ultrafast",
            "--segment-duration", "1", "--no-storyboard", "--no-poster"]
    proc = subprocess.run([*args, "--chapters", first], env={**os.environ, KILL_ENV: "segment-committed:3"},
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == -9, f"exit {proc.returncode}\n{proc.stderr[-2000:]}"
    assert not os.path.exists(out) and os.listdir(parent), "the killed run should have left its staging folder"
    res = run_hlsify(*args[1:], "--json", "--chapters", second, timeout=120)
    run = Run(str(parent), out, res)
    run.require_success()
    assert "resuming" in res.stderr, f"the second run did not resume:\n{res.stderr}"
    assert_chapter_files(run, expected_chapters([(0, None, "A"), (1000, None, "B")], run.total_ms), "fr")
    assert os.listdir(parent) == ["out"], os.listdir(parent)


# ---------------------------------------------------------------------------
# the worker: "chapters", "storyboard", "poster" job fields
# ---------------------------------------------------------------------------

GOOD = [{"start": 0, "title": "A & B"}, {"start": 2, "title": "<C>"}]
GOOD_EXPECTED = [(0, None, "A & B"), (2000, None, "<C>")]


def open_chapter_site(tmp_path, media: Media) -> Site:
    input_root, output_root = tmp_path / "in", tmp_path / "out"
    (input_root / "ch").mkdir(parents=True)
    output_root.mkdir()
    shutil.copy(media.clip, input_root / "clip.mp4")
    write(str(input_root / "ch" / "good.json"), json.dumps(GOOD))
    write(str(input_root / "ch" / "late.json"), json.dumps([{"start": 0, "title": "a"}, {"start": 9, "title": "late"}]))
    return Site(Bus(amqp_url()), str(input_root), str(output_root), Clips(str(input_root)), str(tmp_path))


def output_run(site: Site, name: str) -> Run:
    """The worker's output, read as a Run (there is no report: the job.completed event has the duration)."""
    return Run(site.output_root, site.output(name), RunResult([], 0, "{}", "", 0))


@pytest.mark.timeout(240)
def test_worker_job_with_chapters_is_never_split(media, tmp_path):
    """Three jobs on one worker: one built by `submit --chapters --no-storyboard --no-poster`, one
    with chapters and chunkDuration 2 (not split: no job.chunk event, one whole run), and the same
    without chapters, which the worker does split (so chunkDuration 2 would split this clip)."""
    site = open_chapter_site(tmp_path, media)
    bus = site.bus
    try:
        worker = site.start_worker("w-chapters", "--chunk-check-interval", "2")
        proc = subprocess.run([worker_bin(), "submit", *bus.worker_args(), "--job-id", "flags", "--input", "clip.mp4",
                               "--ladder", "108p", "--preset", "ultrafast", "--segment-duration", "2",
                               "--chapters", "ch/good.json", "--no-storyboard", "--no-poster"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and proc.stdout.strip() == "flags", f"submit: {proc.returncode} {proc.stderr}"
        common = {"input": "clip.mp4", "ladder": ["108p"], "preset": "ultrafast", "segmentDuration": 2, "chunkDuration": 2}
        bus.publish(json.dumps({"jobId": "chap-split", "output": "chap-split", "chapters": "ch/good.json", **common}).encode())
        bus.publish(json.dumps({"jobId": "plain-split", "output": "plain-split", **common}).encode())
        jobs = ("flags", "chap-split", "plain-split")
        bus.wait(lambda: all(bus.of(j, "completed") for j in jobs), 180, "three completions", (worker,))
        wait_quiet(site, (worker,))
        bus.poll()
        for j in jobs:
            assert len(bus.of(j, "completed")) == 1 and not bus.of(j, "failed") and not bus.of(j, "rejected"), j

        accepted = bus.of("flags", "accepted")[0]["job"]
        assert (accepted.get("chapters"), accepted.get("storyboard"), accepted.get("poster")) == ("ch/good.json", False, False), accepted
        planned = [line for line in worker.log().splitlines() if "planned as a split job" in line]
        assert [l for l in planned if "jobId=plain-split" in l], "the job without chapters was not split: the control failed"
        assert not [l for l in planned if "jobId=chap-split" in l], f"the job with chapters was split: {planned}"
        assert [e for e in bus.of("plain-split") if e["state"] == "chunk"], "no job.chunk for the split control job"
        assert not [e for e in bus.of("chap-split") if e["state"] == "chunk"], "job.chunk events for the job with chapters"
        assert len(bus.of("chap-split", "started")) == 1

        for name in ("flags", "chap-split"):
            completed = bus.of(name, "completed")[0]
            assert_chapter_files(output_run(site, name), expected_chapters(GOOD_EXPECTED, ms(completed["durationSeconds"])), "fr",
                                 report=False)
            assert_plays(site.output(name))
        names = set(os.listdir(site.output("flags")))
        assert "storyboard" not in names and "poster.jpg" not in names, f"--no-storyboard/--no-poster: {sorted(names)}"
        names = set(os.listdir(site.output("chap-split")))
        assert {"storyboard", "poster.jpg"} <= names, f"storyboard and poster are on by default: {sorted(names)}"
        assert "EXT-X-SESSION-DATA" not in open(os.path.join(site.output("plain-split"), "master.m3u8")).read()
        assert not os.path.exists(os.path.join(site.output("plain-split"), "chapters.vtt"))
        assert work_leftovers(site.output_root) == []
        site.stop_all_and_assert_drained()
        assert bus.drain_dead_letters() == []
    finally:
        close_site(site)
        try:
            with bus.channel() as ch:
                ch.queue_delete(check_queue(bus))
        except Exception:
            pass


BAD_JOBS = {  # job id -> (extra job fields, expected state, reason)
    "dotdot": ({"chapters": "../outside/c.json"}, "rejected", "unsafe-path"),
    "absolute": ({"chapters": "/etc/passwd"}, "rejected", "unsafe-path"),
    "link-out": ({"chapters": "ch/link.json"}, "rejected", "unsafe-path"),
    "dir-link-out": ({"chapters": "outdir/c.json"}, "rejected", "unsafe-path"),
    "missing": ({"chapters": "ch/nope.json"}, "failed", "input-missing"),
    "late": ({"chapters": "ch/late.json"}, "failed", "bad-media"),
    "storyboard-text": ({"storyboard": "no"}, "rejected", "invalid-job"),
    "poster-number": ({"poster": 0}, "rejected", "invalid-job"),
    "chapters-list": ({"chapters": ["ch/good.json"]}, "rejected", "invalid-job"),
}


@pytest.fixture(scope="module")
def bad_jobs(media, tmp_path_factory):
    """One worker given every bad job at once, then a good one; returns (site, events by job id,
    dead-letter headers by message id) once each has its terminal event and dead letter."""
    tmp = tmp_path_factory.mktemp("chapters-worker-bad")
    site = open_chapter_site(tmp, media)
    outside = tmp / "outside"
    outside.mkdir()
    write(str(outside / "c.json"), json.dumps(GOOD))
    os.symlink(str(outside / "c.json"), os.path.join(site.input_root, "ch", "link.json"))
    os.symlink(str(outside), os.path.join(site.input_root, "outdir"))
    bus = site.bus
    try:
        worker = site.start_worker("w-bad-chapters")
        common = {"input": "clip.mp4", "ladder": ["108p"], "preset": "ultrafast"}
        for job_id, (extra, _, _) in BAD_JOBS.items():
            bus.publish(json.dumps({"jobId": job_id, "output": job_id, **common, **extra}).encode(), message_id=job_id)
        site.submit({"jobId": "after", "output": "after", **common, "chapters": "ch/good.json"})
        bus.wait(lambda: bus.of("after", "completed"), 120, "the good job after the bad ones", (worker,))
        bus.wait(lambda: len(bus.drain_dead_letters()) >= len(BAD_JOBS), 60, "every bad job dead-lettered", (worker,))
        bus.wait(lambda: all(any(e["state"] in ("failed", "rejected") for e in bus.of(j)) for j in BAD_JOBS), 60,
                 "a terminal event for every bad job", (worker,))
        site.stop_all_and_assert_drained()
        dead = {props.message_id: headers for headers, _, props in bus.dead}
        yield site, outside, dead
    finally:
        close_site(site)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("job_id", list(BAD_JOBS))
def test_worker_refuses_bad_chapter_jobs(bad_jobs, job_id):
    site, outside, dead = bad_jobs
    _, state, reason = BAD_JOBS[job_id]
    terminal = [e for e in site.bus.of(job_id) if e["state"] in ("failed", "rejected")]
    assert len(terminal) == 1, [e["state"] for e in site.bus.of(job_id)]
    event = terminal[0]
    assert (event["state"], event["error"]["reason"]) == (state, reason), event
    assert event.get("deadLettered") is True and event.get("willRetry", False) is False, event
    assert dead.get(job_id, {}).get("x-hlsify-reason") == reason, dead.get(job_id)
    assert site.bus.of(job_id, "completed") == [] and not os.path.exists(site.output(job_id))
    assert sorted(os.listdir(outside)) == ["c.json"]
    if reason == "bad-media":
        assert 'chapter 2 ("late") starts at 00:00:09.000' in event["error"]["message"], event


@pytest.mark.timeout(240)
def test_worker_keeps_serving_after_bad_chapter_jobs(bad_jobs):
    site, _, _ = bad_jobs
    assert_plays(site.output("after"))
    assert os.path.isfile(os.path.join(site.output("after"), "chapters.vtt"))
    assert work_leftovers(site.output_root) == []


# ---------------------------------------------------------------------------
# engine bugs this file found (they fail until the engine is fixed)
# ---------------------------------------------------------------------------


def test_progressive_force_with_bad_chapters_keeps_the_existing_output(media, tmp_path):
    """README: a bad input file read before the output is touched leaves a `--progressive --force`
    run's existing output alone (test_cli checks it for an oversized SRT). A chapters file that
    fails the check against the media's duration is refused with 65, yet the existing output is gone."""
    src = write(str(tmp_path / "in" / "late.json"), json.dumps([{"start": 0, "title": "a"}, {"start": 9, "title": "late"}]))
    parent = tmp_path / "parent"
    out = parent / "out"
    out.mkdir(parents=True)
    (out / "keep.txt").write_text("earlier output")
    res = run_hlsify(media.clip, "--out", str(out), "--progressive", "--force", "--quiet", "--ladder", "108p", *FAST,
                     "--chapters", src, timeout=60)
    assert res.returncode == EX_DATAERR and len(res.stderr_lines) == 1, res.describe()
    assert os.listdir(parent) == ["out"], f"beside the output: {os.listdir(parent)}"
    assert os.listdir(out) == ["keep.txt"], f"the existing output was touched: {os.listdir(out)}"


@pytest.mark.parametrize("case", ["missing", "folder", "over-1-MiB"])
def test_refusals_call_the_file_a_chapters_file(media, tmp_path, case):
    """The one line names a chapters file as such: "no such subtitle file", "not a regular
    subtitle file" and "subtitle file is N bytes" send the user looking at the wrong option."""
    if case == "missing":
        src = str(tmp_path / "nowhere.json")
    elif case == "folder":
        src = str(tmp_path / "folder")
        os.mkdir(src)
    else:
        src = write(str(tmp_path / "big.json"), b"[]" + b" " * (1 << 20))
    res = run_hlsify(media.clip, "--out", str(tmp_path / "out"), "--quiet", "--chapters", src, timeout=60)
    assert res.returncode in (EX_DATAERR, EX_NOINPUT) and len(res.stderr_lines) == 1, res.describe()
    assert "subtitle" not in res.stderr_lines[0], res.stderr_lines[0]


@pytest.mark.timeout(240)
def test_worker_bad_chapters_message_names_the_jobs_path(bad_jobs):
    """The job.failed message for chapters that fail the check names the job's path (as the
    oversized-SRT message names big.srt), not the descriptor the worker opened it through."""
    site, _, _ = bad_jobs
    (event,) = [e for e in site.bus.of("late") if e["state"] == "failed"]
    message = event["error"]["message"]
    assert "/proc/self/fd" not in message and "ch/late.json" in message, message
