"""`--collapse-gaps`: a hole in the video's timestamps is removed instead of held. The picture
after the hole follows the one before it, one frame later; every stream loses the hole's time
[a, b) and everything after b moves back by b - a: the source's audio, audio added with
`--audio`, subtitle cues (a cue inside the hole is dropped, one across its edge cut to what is
kept), chapters (one starting inside the hole starts at a; of two then starting together the later
is kept). The report's `sourceTimeline` says so (`collapsed`, `removedSeconds`, no `filledSeconds`).

The sources are test_timestamp_gaps.py's (`pause`, `pause-audio-runs`, `phone-drop`), made by its
make_source. What each output must hold is computed here from SOURCES (`expected_cues`,
`expected_chapters`, the tones written into the added audio file) and read back with readers
hlsify does not share code with: m3u8 (hlscheck), ffprobe packet times, ffmpeg decoding the audio
to PCM and numpy's FFT, webvtt-py. Each check is a function returning its problems, so that
test_the_checks_see_a_kept_hole can show every one of them complaining about an output made
without the flag (the hole held, as before): a check that cannot fail proves nothing.

Transcodes: the three sources in both formats with subtitles (`run`); the three in fMP4 with
chapters and an added audio file (`extras`); one `--progressive` run, one joined recording (a jump
back) and the control without the flag. Players (GStreamer, Chromium) on `pause` only.
"""
from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Optional

import m3u8
import numpy as np
import pytest
import webvtt

import apple_rules as ar
import hlscheck as h
from conftest import FORMATS, MATRIX_PRESET, run_hlsify
from test_audio_tracks import Decoded, decoded, dominant_frequency
from test_playback import play_once, played
from test_timestamp_gaps import (AAC_FRAME, JOINED, SOURCES, Source, chromium_plays_to_the_end, ffmpeg, make_joined,
                                 make_source)

SEGMENT = 4
EX_USAGE = 64
BY_NAME = {s.name: s for s in SOURCES}
# The added audio file (`--audio es=`): a tone before the hole, another inside it (it must vanish),
# a third after it. Near the 187.5 Hz bins of the switch search's 256-sample windows, and apart
# from the source's 440/880 Hz, so the folder's tones also say which file went into it.
ES_BEFORE, ES_HOLE, ES_AFTER = 560, 1310, 940


def removed(s: Source) -> float:
    return s.hole[1] - s.hole[0]


def output_duration(s: Source) -> float:
    return s.duration - removed(s)


def on_output(t: float, s: Source, zero: float = 0.0) -> float:
    """A source time on the collapsed output's clock: the hole's time goes to its start, what
    follows moves back by its length. `zero`: where the first frame is on the clock of `t`
    (times from the first frame: 0)."""
    a, b = s.hole[0] + zero, s.hole[1] + zero
    return t if t <= a else a if t < b else t - (b - a)


# ---------------------------------------------------------------------------
# inputs written here: subtitles, chapters, the added audio
# ---------------------------------------------------------------------------


def cue_spec(s: Source) -> list[tuple[float, float, str]]:
    """(start, end, text) as the SRT file says: before the hole, across its start, inside it,
    across its end, across the whole hole (`pause`: 9 -> 72 s), after it."""
    a, b = s.hole
    mid = (a + b) / 2
    return [(2.0, 4.0, "before the break"),
            (a - 1, a + 1, "into the break"),
            (mid - 0.5, mid + 0.5, "during the break"),
            (b - 1, b + 1, "out of the break"),
            (a - 1, b + 2, "across the break"),
            (b + 1, b + 2, "after the break")]


def expected_cues(s: Source, zero: float) -> list[tuple[float, float, str]]:
    """The cues the output must carry, in source order, on the SRT's clock (the output's with the
    same zero): a cue inside the hole dropped, one across an edge cut to the part kept. SRT times
    are on the source's clock, where the first frame is at `zero` (test_subtitles's convention:
    X-TIMESTAMP-MAP's LOCAL is that time); the MKV sources' first frame is at 0.023 s."""
    out = []
    for start, end, text in cue_spec(s):
        m_start, m_end = on_output(start, s, zero), on_output(end, s, zero)
        if m_end > m_start:
            out.append((m_start, m_end, text))
    return out


def srt_time(t: float) -> str:
    ms = round(t * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def vtt_time(t: float) -> str:
    return srt_time(t).replace(",", ".")


def chapter_spec(s: Source) -> list[tuple[float, float, str]]:
    """(start, end, title) on the source's clock, end to end: two chapters start inside the hole,
    the first ends inside it too."""
    a, b = s.hole
    mid = (a + b) / 2
    return [(0.0, a - 2, "Opening"),
            (a - 2, mid, "Before the break"),
            (mid, b - 0.5, "The break"),
            (b - 0.5, b + 1, "Back"),
            (b + 1, s.duration, "Questions")]


def expected_chapters(s: Source, total: float) -> list[tuple[float, float, str]]:
    """Mapped like the cues; a start inside the hole goes to a, and of chapters starting at one
    time only the last is kept; ends are cut at the output's end (`total`)."""
    mapped = [(on_output(start, s), min(on_output(end, s), total), title) for start, end, title in chapter_spec(s)]
    return [c for k, c in enumerate(mapped) if not (k + 1 < len(mapped) and abs(mapped[k + 1][0] - c[0]) < 1e-9)]


def write_inputs(folder: str, s: Source) -> dict[str, str]:
    paths = {k: os.path.join(folder, n) for k, n in (("srt", "en.srt"), ("chapters", "chapters.vtt"), ("es", "es.m4a"))}
    with open(paths["srt"], "w") as f:
        f.write("".join(f"{k + 1}\n{srt_time(a)} --> {srt_time(b)}\n{text}\n\n" for k, (a, b, text) in enumerate(cue_spec(s))))
    with open(paths["chapters"], "w") as f:
        f.write("WEBVTT\n" + "".join(f"\n{k + 1}\n{vtt_time(a)} --> {vtt_time(b)}\n{title}\n"
                                     for k, (a, b, title) in enumerate(chapter_spec(s))))
    a, b = s.hole
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency={ES_BEFORE}:duration={a}:sample_rate=48000",
           "-f", "lavfi", "-i", f"sine=frequency={ES_HOLE}:duration={b - a}:sample_rate=48000",
           "-f", "lavfi", "-i", f"sine=frequency={ES_AFTER}:duration={s.duration - b}:sample_rate=48000",
           "-filter_complex", "[0:a][1:a][2:a]concat=n=3:v=0:a=1[a]", "-map", "[a]", "-c:a", "aac", paths["es"])
    return paths


@dataclass(frozen=True)
class SourceFiles:
    source: Source
    path: str
    srt: str
    chapters: str
    es: str
    frames: int          # decoded video frames, by ffprobe
    video_start: float   # the first frame's time on the source's clock, by ffprobe


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Callable[[str], SourceFiles]:
    """Each source and its inputs, made once for the module when first asked for."""
    @functools.lru_cache(maxsize=None)
    def get(name: str) -> SourceFiles:
        s = BY_NAME[name]
        folder = str(tmp_path_factory.mktemp(f"collapse-src-{name}"))
        path = make_source(folder, s)
        frames = h.probe(path).video.frames
        assert frames > 0, path
        return SourceFiles(s, path, **write_inputs(folder, s), frames=frames, video_start=min(h.packet_times(path, "v:0")))
    return get


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------


@dataclass
class Run:
    files: SourceFiles
    fmt: str
    out: str
    report: dict
    hls: h.HLSSet
    stderr: str

    @property
    def source(self) -> Source:
        return self.files.source

    @property
    def id(self) -> str:
        return f"{self.source.name}[{self.fmt}]"

    @property
    def frame(self) -> float:
        return 1 / self.source.rate

    @functools.cached_property
    def first_pts(self) -> float:
        playlist = self.hls.variants[0].playlist
        with h.TempMedia(playlist.standalone(0), playlist.suffix) as p:
            return min(h.packet_times(p, "v:0"))

    def audio(self, folder: str) -> Decoded:
        found = [m for m in self.hls.audio_renditions if m.uri == f"{folder}/index.m3u8"]
        assert len(found) == 1, f"{self.id}: no single {folder}/ audio rendition in\n{self.hls.master_text}"
        return decoded(found[0].playlist.path)


def transcode(tmp_path_factory, files: SourceFiles, fmt: str, label: str, *extra: str) -> Run:
    folder = str(tmp_path_factory.mktemp(f"collapse-{label}-{files.source.name}-{fmt}"))
    out = os.path.join(folder, "out")
    res = run_hlsify(files.path, "--out", out, "--segment-duration", str(SEGMENT), "--segment-format", fmt,
                     "--preset", MATRIX_PRESET, "--json", "--quiet", *extra)
    assert res.returncode == 0, res.describe()
    return Run(files, fmt, out, json.loads(res.stdout), h.load_hls_set(os.path.join(out, "master.m3u8")), res.stderr)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, sources) -> Callable[[str, str], Run]:
    """The main runs, made once each when first asked for: `--collapse-gaps` with subtitles."""
    @functools.lru_cache(maxsize=None)
    def get(name: str, fmt: str) -> Run:
        files = sources(name)
        return transcode(tmp_path_factory, files, fmt, "run", "--collapse-gaps", "--subtitles", f"en={files.srt}")
    return get


@pytest.fixture(params=[(s.name, f) for s in SOURCES for f in FORMATS], ids=[f"{s.name}-{f}" for s in SOURCES for f in FORMATS])
def run(request, runs) -> Run:
    return runs(*request.param)


@pytest.fixture(scope="module", params=[s.name for s in SOURCES])
def extras(request, tmp_path_factory, sources) -> Run:
    """fMP4 with `--collapse-gaps`, `--chapters` and `--audio es=`."""
    files = sources(request.param)
    return transcode(tmp_path_factory, files, "fmp4", "extras", "--collapse-gaps", "--chapters", files.chapters,
                     "--audio", f"es={files.es}")


@pytest.fixture(scope="module")
def control(tmp_path_factory, sources) -> Run:
    """`pause` in fMP4 with everything, without --collapse-gaps: the hole is held, as before."""
    files = sources("pause")
    return transcode(tmp_path_factory, files, "fmp4", "control", "--subtitles", f"en={files.srt}",
                     "--chapters", files.chapters, "--audio", f"es={files.es}")


# ---------------------------------------------------------------------------
# the checks: each returns its problems (empty when the output is collapsed as it must be)
# ---------------------------------------------------------------------------


def playlist_problems(r: Run) -> list[str]:
    """Every media playlist: TARGETDURATION 4, no segment past it (half a frame for video, two
    AAC frames for audio), EXTINF sum = the source's duration less the hole, within a frame."""
    want, out = output_duration(r.source), []
    lists = r.hls.media_playlists()
    if len(lists) < 3:
        out.append(f"only {len(lists)} media playlists")
    for pl in lists:
        name = os.path.relpath(pl.path, r.out)
        if pl.target_duration != SEGMENT:
            out.append(f"{name}: TARGETDURATION {pl.target_duration}")
        slack = 2 * AAC_FRAME if name.startswith("audio") else r.frame / 2
        longest = max(s.duration for s in pl.segments)
        if longest > SEGMENT + slack:
            out.append(f"{name}: a {longest:.3f} s segment")
        total = sum(s.duration for s in pl.segments)
        if abs(total - want) > r.frame:
            out.append(f"{name}: EXTINF sum {total:.3f} s, not {want:.3f} s")
    if abs(r.report["durationSeconds"] - want) > r.frame:
        out.append(f"report durationSeconds {r.report['durationSeconds']}, not {want}")
    return out


def report_problems(r: Run) -> list[str]:
    s, out = r.source, []
    tl = r.report.get("sourceTimeline") or {}
    tol = r.frame + 0.001
    if tl.get("collapsed") is not True:
        out.append(f"collapsed is {tl.get('collapsed')!r}")
    gaps = tl.get("gaps") or []
    if tl.get("gapCount") != 1 or len(gaps) != 1:
        out.append(f"gapCount {tl.get('gapCount')}, gaps {gaps}")
    elif abs(gaps[0].get("at", -1) - s.hole[0]) > tol or abs(gaps[0].get("seconds", -1) - removed(s)) > tol:
        out.append(f"gap {gaps[0]}, the hole is at {s.hole[0]} for {removed(s)} s")
    if abs(tl.get("filledSeconds", -1)) > 0.001:
        out.append(f"filledSeconds {tl.get('filledSeconds')}")
    if abs(tl.get("removedSeconds", -1) - removed(s)) > tol:
        out.append(f"removedSeconds {tl.get('removedSeconds')}, not {removed(s)}")
    if tl.get("backwardJumpCount") != 0:
        out.append(f"backwardJumpCount {tl.get('backwardJumpCount')}")
    if not any("removed" in w.lower() and "hole" in w.lower() for w in r.report.get("warnings", [])):
        out.append(f"no warning saying the hole was removed: {r.report.get('warnings')}")
    return out


def frame_problems(r: Run) -> list[str]:
    """Every video rendition: as many frames as the source, the k-th at k frames from the first
    (within half a frame), so no held or repeated picture and nothing dropped; no step above 1.5
    frames."""
    out = []
    for v in r.hls.variants:
        with h.TempMedia(v.playlist.whole(), v.playlist.suffix) as p:
            times = [t - r.first_pts for t in h.packet_times(p, "v:0")]
        if len(times) != r.files.frames:
            out.append(f"{v.uri}: {len(times)} frames, the source has {r.files.frames}")
        steps = [b - a for a, b in zip(times, times[1:])]
        if steps and (max(steps) > 1.5 * r.frame or min(steps) < 0.5 * r.frame):
            k = int(np.argmax(steps))
            out.append(f"{v.uri}: frame steps {min(steps):.4f}..{max(steps):.4f} s (the longest after {times[k]:.3f} s)")
        off = [(k, t) for k, t in enumerate(times) if abs(t - k * r.frame) > r.frame / 2]
        if off:
            out.append(f"{v.uri}: {len(off)} frames off the one-frame grid, first: frame {off[0][0]} at {off[0][1]:.3f} s")
    return out


def frequency_at(audio: Decoded, t: float, window: float = 0.05) -> float:
    i = audio.at(t)
    return dominant_frequency(audio.samples[i:i + int(window * audio.rate)], audio.rate)


def find_switch(audio: Decoded, first: float, near: float, hz: float) -> tuple[Optional[float], float]:
    """(where `hz` starts within a second of `near`, the search step), as
    test_timestamp_gaps.test_audio_stays_in_sync_across_the_hole: the first short window (a
    quarter AAC frame) whose peak frequency is within 60 Hz of it."""
    step = int(AAC_FRAME * audio.rate / 4)
    start, end = audio.at(first + near - 1), audio.at(first + near + 1)
    for i in range(max(start, 0), min(end, len(audio.samples) - step), step):
        if abs(dominant_frequency(audio.samples[i:i + step], audio.rate) - hz) < 60:
            return audio.time_of(i) - first, step / audio.rate
    return None, step / audio.rate


def longest_silence(audio: Decoded, t0: float, t1: float, hop: float = 0.005, threshold: float = 0.02) -> float:
    """Seconds of the longest run of `hop`-long blocks whose peak is below `threshold`."""
    x = np.abs(audio.samples[max(audio.at(t0), 0):audio.at(t1)])
    n = int(hop * audio.rate)
    quiet = x[:len(x) // n * n].reshape(-1, n).max(axis=1) < threshold
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    return longest * hop


def tone_problems(r: Run, audio: Decoded, before: float, after: float, running: bool,
                  hole: Optional[float] = None) -> list[str]:
    """`before` Hz until the cut (output time a), `after` Hz from it to the end (50 ms windows
    every 0.25 s); the switch within an AAC frame and the search step of a; with `running` no
    silence over 50 ms within half a second of the cut; `hole` Hz nowhere near the cut."""
    a, end, first, out = r.source.hole[0], output_duration(r.source), r.first_pts, []
    for lo, hi, hz in ((0.3, a - 0.3, before), (a + 0.3, end - 0.4, after)):
        wrong = [(round(t, 2), round(f)) for t in np.arange(lo, hi, 0.25)
                 if abs((f := frequency_at(audio, first + t)) - hz) > 30]
        if wrong:
            out.append(f"not {hz} Hz between {lo:.2f} and {hi:.2f} s: (time, Hz) {wrong[:6]}{' …' if len(wrong) > 6 else ''}")
    switch, step = find_switch(audio, first, a, after)
    if switch is None or abs(switch - a) > AAC_FRAME + step:
        out.append(f"{after} Hz starts at {switch}, not at the cut ({a} s)")
    if running:
        silent = longest_silence(audio, first + a - 0.5, first + a + 0.5)
        if silent > 0.05:
            out.append(f"{silent * 1000:.0f} ms of silence around the cut")
    if hole is not None:
        heard = [round(t, 3) for t in np.arange(a - 1, a + 1, 0.025) if abs(frequency_at(audio, first + t) - hole) < 30]
        if heard:
            out.append(f"the hole's {hole} Hz is heard at {heard[:6]}")
    return out


def cue_times(c: webvtt.Caption) -> tuple[Fraction, Fraction]:
    """(start, end) to the millisecond (webvtt-py's start_in_seconds drops the milliseconds)."""
    return Fraction(c.start_time.in_milliseconds(), 1000), Fraction(c.end_time.in_milliseconds(), 1000)


def timestamp_map_offset(path: str, first_pts: float) -> Fraction:
    """What to add to a segment's cue times to get them on the video's clock from its first frame."""
    header = next(line for line in open(path, encoding="utf-8") if line.startswith("X-TIMESTAMP-MAP="))
    fields = dict(part.split(":", 1) for part in header.strip()[len("X-TIMESTAMP-MAP="):].split(","))
    local = cue_times(webvtt.Caption(fields["LOCAL"], fields["LOCAL"], ""))[0]
    return Fraction(int(fields["MPEGTS"]), 90_000) - local - Fraction(first_pts)


def cue_problems(r: Run) -> list[str]:
    """The segmented track, as test_subtitles_stay_on_time_across_the_hole reads it (but to the
    millisecond): each cue's times through its segment's X-TIMESTAMP-MAP, on the video's clock from
    its first frame (the same in every segment it is repeated in), are the expected ones within
    2 ms; the dropped cue is in no segment."""
    subtitles = [x for x in r.hls.media if x.type == "SUBTITLES"]
    if len(subtitles) != 1:
        return [f"{len(subtitles)} subtitle renditions"]
    seen: dict[str, set[tuple[float, float]]] = {}
    for seg in subtitles[0].playlist.segments:
        offset = timestamp_map_offset(seg.path, r.first_pts)
        for c in webvtt.read(seg.path).captions:
            start, end = cue_times(c)
            seen.setdefault(c.text, set()).add((round(float(start + offset), 3), round(float(end + offset), 3)))
    zero = r.files.video_start
    want = {text: (a - zero, b - zero) for a, b, text in expected_cues(r.source, zero)}
    out = [f"{text!r}: in the segments at {sorted(seen.get(text, ()))}, want {want.get(text)}"
           for text in sorted(set(seen) | set(want))
           if text not in want or text not in seen
           or any(abs(a - want[text][0]) > 0.002 or abs(b - want[text][1]) > 0.002 for a, b in seen[text])]
    return out


def sidecar_problems(r: Run) -> list[str]:
    """subtitles/en.vtt, the whole track: exactly the expected cues within 1 ms, in start order
    (WebVTT's rule; cues starting together in either order)."""
    path = os.path.join(r.out, "subtitles", "en.vtt")
    if not os.path.isfile(path):
        return [f"no subtitles/en.vtt in {h.list_tree(r.out)}"]
    cues = [(*map(float, cue_times(c)), c.text) for c in webvtt.read(path).captions]
    out = [] if all(x[0] <= y[0] for x, y in zip(cues, cues[1:])) else [f"subtitles/en.vtt is not in start order: {cues}"]
    got, want = sorted(cues), sorted(expected_cues(r.source, r.files.video_start))
    same = len(got) == len(want) and all(g[2] == w[2] and abs(g[0] - w[0]) <= 0.001 and abs(g[1] - w[1]) <= 0.001
                                         for g, w in zip(got, want))
    return out if same else out + [f"subtitles/en.vtt holds {cues}, want {want}"]


TIMING = re.compile(r"^(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})$")


def read_chapters(path: str) -> list[tuple[float, float, str]]:
    """chapters.vtt's cues: (start, end, title), by its timing lines (as test_chapters reads them)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = []
    for k, line in enumerate(lines):
        m = TIMING.match(line)
        if m:
            g = [int(x) for x in m.groups()]
            out.append(((g[0] * 3600 + g[1] * 60 + g[2]) + g[3] / 1000, (g[4] * 3600 + g[5] * 60 + g[6]) + g[7] / 1000,
                        lines[k + 1]))
    return out


def chapter_problems(r: Run) -> list[str]:
    """chapters.vtt beside master.m3u8: the expected chapters, in order, within a frame."""
    path = os.path.join(r.out, "chapters.vtt")
    if not os.path.isfile(path):
        return [f"no chapters.vtt in {h.list_tree(r.out)}"]
    got = read_chapters(path)
    want = expected_chapters(r.source, r.report["durationSeconds"])
    same = len(got) == len(want) and all(g[2] == w[2] and abs(g[0] - w[0]) <= r.frame and abs(g[1] - w[1]) <= r.frame
                                         for g, w in zip(got, want))
    return [] if same else [f"chapters.vtt holds {got}, want {want}"]


def added_audio_problems(r: Run) -> list[str]:
    """The master lists `audio-es/` (LANGUAGE es) beside the source's `audio/`; it lasts as long
    as the video and is cut like the source's audio: ES_BEFORE Hz until a, ES_AFTER Hz from a,
    the hole's ES_HOLE Hz gone."""
    master = m3u8.load(r.hls.master_path)
    entries = [(m.uri, m.language) for m in master.media if m.type == "AUDIO"]
    if [uri for uri, _ in entries] != ["audio/index.m3u8", "audio-es/index.m3u8"] or entries[1][1] != "es":
        return [f"the master's audio group: {entries}"]
    pl = h.load_media_playlist(os.path.join(r.out, "audio-es", "index.m3u8"))
    out = []
    if abs(sum(pl.durations) - output_duration(r.source)) > r.frame:
        out.append(f"audio-es/: EXTINF sum {sum(pl.durations):.3f} s, not {output_duration(r.source)}")
    return out + tone_problems(r, r.audio("audio-es"), ES_BEFORE, ES_AFTER, running=True, hole=ES_HOLE)


# ---------------------------------------------------------------------------
# 1. the six runs: three sources, two formats
# ---------------------------------------------------------------------------


def test_the_hole_is_gone_from_every_playlist(run):
    assert playlist_problems(run) == [], run.id


def test_the_report_says_the_hole_was_removed(run):
    assert report_problems(run) == [], f"{run.id}: {run.report.get('sourceTimeline')}"


def test_every_source_frame_follows_the_last_one_frame_later(run):
    assert frame_problems(run) == [], run.id


def test_the_audio_is_cut_with_the_video(run):
    """440 Hz until the cut, 880 Hz from it (`pause-audio-runs`: the 440 Hz running through the
    hole is gone too); a running track has no silence at the cut."""
    s = run.source
    assert tone_problems(run, run.audio("audio"), 440, 880, running=not s.audio_hole) == [], run.id


def test_subtitle_cues_move_with_the_cut(run):
    assert cue_problems(run) == [], run.id


def test_the_sidecar_subtitles_move_with_the_cut(run):
    assert sidecar_problems(run) == [], run.id


def test_apple_rules_hold(run):
    """Every rule, the peak within twice the average included: nothing is held any more. (No
    `source=`: extinf_accuracy would compare the EXTINF sums with the source's duration, hole
    included; test_the_hole_is_gone_from_every_playlist checks them against the collapsed one.)"""
    ctx = ar.Context(os.path.join(run.out, "master.m3u8"), nominal_segment=SEGMENT)
    broken = {k: v for k, v in ar.check_all(ctx).items() if v}
    assert not broken, f"{run.id}: {broken}"


def test_gstreamer_plays_the_collapsed_set_to_the_end(runs, http_root):
    r = runs("pause", "fmp4")
    log = play_once(http_root(os.path.join(r.out, "master.m3u8")))
    end = r.first_pts + output_duration(r.source)
    v, a = played(log, "vsink"), played(log, "asink")
    assert v is not None and v.last >= end - 2 * r.frame - 0.05, f"{r.id}: video played {v}"
    assert a is not None and a.last >= end - 0.25, f"{r.id}: audio played {a}"


def test_chromium_plays_the_collapsed_set_to_the_end(runs, tmp_path):
    r = runs("pause", "ts")
    chromium_plays_to_the_end(r.out, output_duration(r.source), tmp_path)


# ---------------------------------------------------------------------------
# 2. chapters and added audio (fMP4, each source)
# ---------------------------------------------------------------------------


def test_chapters_are_mapped_across_the_cut(extras):
    assert chapter_problems(extras) == [], extras.id


def test_added_audio_is_cut_like_the_source_audio(extras):
    assert added_audio_problems(extras) == [], extras.id
    assert tone_problems(extras, extras.audio("audio"), 440, 880, running=not extras.source.audio_hole) == [], extras.id
    assert playlist_problems(extras) == [], extras.id


# ---------------------------------------------------------------------------
# 3. --progressive, a jump back, `plan`
# ---------------------------------------------------------------------------


def test_progressive_collapse_gaps_ends_every_playlist(tmp_path_factory, sources):
    files = sources("pause")
    r = transcode(tmp_path_factory, files, "ts", "progressive", "--collapse-gaps", "--progressive")
    for pl in r.hls.media_playlists():
        assert pl.parsed.is_endlist, f"{pl.path}: no EXT-X-ENDLIST\n{pl.text[-500:]}"
    assert playlist_problems(r) == [], r.id
    assert report_problems(r) == [], r.report.get("sourceTimeline")
    assert frame_problems(r) == [], r.id


def test_a_jump_back_is_still_closed_up(tmp_path_factory):
    """test_timestamp_gaps.JOINED's `joined` (two recordings, the second's clock starting again):
    the flag changes nothing, there is no hole to remove."""
    j = next(x for x in JOINED if x.name == "joined")
    folder = str(tmp_path_factory.mktemp("collapse-joined"))
    path = make_joined(folder, j)
    out = os.path.join(folder, "out")
    res = run_hlsify(path, "--out", out, "--segment-duration", str(SEGMENT), "--segment-format", "fmp4",
                     "--preset", MATRIX_PRESET, "--json", "--quiet", "--collapse-gaps")
    assert res.returncode == 0, res.describe()
    report = json.loads(res.stdout)
    tl = report["sourceTimeline"]
    assert tl["backwardJumpCount"] == j.jumps and len(tl["backwardJumps"]) == j.jumps, tl
    assert abs(tl["backwardJumps"][0]["at"] - j.switch) < 0.1 and tl["backwardJumps"][0]["seconds"] < -5, tl
    assert tl["gapCount"] == 0 and tl["gaps"] == [], tl
    assert tl.get("removedSeconds", 0) == 0 and tl.get("filledSeconds", 0) == 0, tl
    assert abs(report["durationSeconds"] - j.duration) < 0.1, report["durationSeconds"]
    hls = h.load_hls_set(os.path.join(out, "master.m3u8"))
    for pl in hls.media_playlists():
        assert abs(sum(pl.durations) - j.duration) < 0.1, pl.path
    pl = hls.variants[0].playlist
    with h.TempMedia(pl.whole(), pl.suffix) as p:
        times = h.packet_times(p, "v:0")
    steps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) == 25 * j.duration and max(steps) < 1.5 / 25 and min(steps) > 0.5 / 25, (len(times), min(steps), max(steps))


def test_plan_refuses_collapse_gaps_as_a_usage_error(sources, tmp_path):
    """Split transcodes do not take the flag: exit 64, one error line naming it (not an unknown
    option), no work folder."""
    work = tmp_path / "work"
    res = run_hlsify("plan", sources("pause").path, "--work", str(work), "--collapse-gaps", "--ladder", "240p", timeout=60)
    assert res.returncode == EX_USAGE, res.describe()
    errors = [line for line in res.stderr_lines if line.lower().startswith("error")]
    assert len(errors) == 1 and "--collapse-gaps" in errors[0], res.describe()
    assert "unknown option" not in errors[0].lower(), f"plan does not know the flag: {errors[0]}"
    assert not work.exists(), f"plan left {h.list_tree(str(work))}"


# ---------------------------------------------------------------------------
# 4. without the flag: nothing removed, and every check above sees it
# ---------------------------------------------------------------------------


def test_without_the_flag_nothing_is_removed(control):
    tl = control.report["sourceTimeline"]
    assert tl.get("collapsed", False) is False, tl
    assert tl.get("removedSeconds", 0) == 0, tl
    assert tl["gapCount"] == 1 and abs(tl["filledSeconds"] - removed(control.source)) < 0.002, tl
    assert abs(control.report["durationSeconds"] - control.source.duration) <= control.frame, control.report["durationSeconds"]


@pytest.mark.parametrize("check", [playlist_problems, report_problems, frame_problems, cue_problems, sidecar_problems,
                                   chapter_problems, added_audio_problems,
                                   lambda r: tone_problems(r, r.audio("audio"), 440, 880, running=True)],
                         ids=["playlists", "report", "frames", "cues", "sidecar", "chapters", "added-audio", "audio"])
def test_the_checks_see_a_kept_hole(control, check):
    """The control keeps the hole (80 s, the picture held, the cues and chapters where the source
    has them, the added file's middle tone heard): every check must complain."""
    assert check(control) != [], "this check passes an output whose hole was kept: it proves nothing"
