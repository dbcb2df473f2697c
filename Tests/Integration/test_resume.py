"""Crash-resume at segment granularity (issue 13): a run SIGKILLed at a named step of a segment's
commit (HLSIFY_TEST_KILL_AT=STEP:N) leaves its staging folder with a plan and a journal; the next
`hlsify IN --out DIR` with the same source and settings takes it over, keeps what the journal
vouches for, and finishes a set that passes the same full validation as an uninterrupted run
(test_output.py's checks and every rule of apple_rules.py) and has the same structure as one.

Video segments of two runs differ in bytes (x264 with frame threads and VBV is not deterministic),
so video is compared by structure: segment counts, EXTINF lines, decoded frames. Audio and the
fMP4 init sections are deterministic and compared byte for byte. A run that starts afresh is a
fresh run of the reference's source and settings: it is compared with the (fully validated)
reference file by file and playlist by playlist.

A full disk is simulated without root by an LD_PRELOAD shim over write(2) (ENOSPC_SHIM, compiled
here with the system C compiler).

The source is made here: 16 s of 640x360 testsrc2 and a tone, a keyframe every 2 s, cut with the
matrix's 2 s segments and a two-rung ladder, so there are two video renditions (the resume point is
the smallest committed prefix among them) and one audio rendition: 8 segments x 3 renditions.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from typing import Optional

import pytest

import apple_rules as ar
import hlscheck as h
import test_apple_rules as apple_checks
import test_output as output_checks
from conftest import (MATRIX_PRESET, SEGMENT_DURATION, FixtureInfo, Transcode, expected_rungs, hlsify_bin,
                      run_hlsify)

SOURCE_SECONDS = 16
SOURCE_SIZE = "640x360"
SOURCE_FPS = 30
SOURCE_GOP_SECONDS = 2
LADDER = "360p,240p"
LADDER_RUNGS = [360, 240]
RENDITIONS = 3  # two video rungs and the audio rendition
PRE_ROLL_SECONDS = 6.0  # EncodingDefaults.resumePreRollSeconds

KILL_ENV = "HLSIFY_TEST_KILL_AT"
KILLED = -signal.SIGKILL
STORYBOARD = "storyboard"  # the tiles' folder, journaled as a rendition of its own
STEPS = ["segment-written", "segment-synced", "segment-renamed", "journal-torn", "journal-appended",
         "segment-committed"]
SINK_STEPS = STEPS[:3]  # the steps of the segment file itself, before the journal hears of it

RESUMING = re.compile(r"^hlsify: resuming (.+) from segment (\d+): (\d+) segment files kept from an earlier run$",
                      re.M)
AFRESH = "not resumed from the earlier run's segments: "
STAGING = re.compile(r"^\.out\.hlsify-staging-\d+-\d+$")
FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3


# ---------------------------------------------------------------------------
# sources, runs, staging folders
# ---------------------------------------------------------------------------


def make_source(path: str, tone: int = 440) -> str:
    h.run(["ffmpeg", "-v", "error", "-nostdin", "-y",
           "-f", "lavfi", "-i", f"testsrc2=size={SOURCE_SIZE}:rate={SOURCE_FPS}:duration={SOURCE_SECONDS}",
           "-f", "lavfi", "-i", f"sine=frequency={tone}:duration={SOURCE_SECONDS}", "-shortest",
           "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-pix_fmt", "yuv420p",
           "-g", str(SOURCE_FPS * SOURCE_GOP_SECONDS), "-keyint_min", str(SOURCE_FPS * SOURCE_GOP_SECONDS),
           "-sc_threshold", "0", "-c:a", "aac", path])
    return os.path.realpath(path)


def settings_args(fmt: str, **override: str) -> list[str]:
    """The options every run here uses (those test_output.py's checks expect: 2 s segments, the
    matrix preset), with some replaced: settings_args("fmp4", preset="veryfast")."""
    opts = {"ladder": LADDER, "segment-duration": str(SEGMENT_DURATION), "preset": MATRIX_PRESET,
            "segment-format": fmt}
    opts.update({k.replace("_", "-"): v for k, v in override.items()})
    return [x for k, v in opts.items() for x in (f"--{k}", v)]


def hlsify(source: str, parent, fmt: str, *extra: str, kill_at: Optional[str] = None, **override: str):
    """One `hlsify SOURCE --out PARENT/out --json --quiet` run (killed at `kill_at` if given)."""
    with pytest.MonkeyPatch.context() as mp:
        if kill_at:
            mp.setenv(KILL_ENV, kill_at)
        else:
            mp.delenv(KILL_ENV, raising=False)
        return run_hlsify(source, "--out", os.path.join(str(parent), "out"), "--json", "--quiet",
                          *settings_args(fmt, **override), *extra)


def as_transcode(source: str, parent, fmt: str, result) -> Transcode:
    """The run as conftest's Transcode, so test_output.py's checks read it like a matrix case
    (fixture_path(name) of an absolute name is that name)."""
    return Transcode(FixtureInfo(source, "und"), fmt, str(parent), os.path.join(str(parent), "out"), result)


def fnv1a64(text: str) -> str:
    x = FNV_OFFSET
    for b in text.encode("utf-8"):
        x = ((x ^ b) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{x:016x}"


def sha256_of(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None


@dataclass
class DeadRun:
    """What a SIGKILLed run left: its staging folder, read here independently of the engine."""
    result: object
    staging: str
    plan: dict
    entries: list[dict]     # the journal's intact lines, in order, up to the first that is not
    text: str               # the journal as it is
    torn: bool              # the journal ends in a line that is not whole and intact

    @property
    def segment_entries(self) -> list[dict]:
        # The storyboard's tiles are journaled beside the segments (so a resume keeps them) but
        # are not segments: no kill step counts them.
        return [e for e in self.entries if e["i"] >= 0 and e["r"] != STORYBOARD]

    @property
    def videos(self) -> list[str]:
        return [r["folder"] for r in self.plan["renditions"]]

    def files(self) -> list[str]:
        return h.list_tree(self.staging)

    def describe(self) -> str:
        return f"staging {self.staging}:\n  " + "\n  ".join(self.files()) + f"\njournal:\n{self.text}"

    def expected_resume(self) -> tuple[int, int, dict[str, int]]:
        """What the next run must keep, by the documented rule: per rendition, the journaled
        segments from 0 without a hole whose files are there with their recorded SHA-256 (in fMP4
        only behind an intact init section); video restarts at the smallest such prefix.
        Returns (fromSegment, segments kept in all, prefix per rendition)."""
        latest: dict[str, dict[int, dict]] = {}
        for e in self.entries:
            if e["r"] != STORYBOARD:
                latest.setdefault(e["r"], {})[e["i"]] = e

        def intact(e: dict) -> bool:
            return sha256_of(os.path.join(self.staging, e["r"], e["f"])) == e["sha256"]
        prefix = {}
        for rendition, by_index in latest.items():
            n = 0
            if self.plan["settings"]["segmentFormat"] != "fmp4" or (-1 in by_index and intact(by_index[-1])):
                while n in by_index and intact(by_index[n]):
                    n += 1
            prefix[rendition] = n
        return min(prefix.get(v, 0) for v in self.videos), sum(prefix.values()), prefix


def read_journal(staging: str) -> tuple[list[dict], str, bool]:
    path = os.path.join(staging, ".hlsify-resume", "journal")
    if not os.path.exists(path):
        return [], "(no journal)", False
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    tail = lines.pop()
    entries = []
    for line in lines:
        json_text, _, checksum = line.rpartition(" ")
        if not json_text or fnv1a64(json_text) != checksum:
            return entries, text, True
        entries.append(json.loads(json_text))
    return entries, text, tail != ""


def others_beside_out(parent) -> list[str]:
    return sorted(n for n in os.listdir(parent) if n != "out")


def kill_run(source: str, parent, fmt: str, step: str, n: int, **override: str) -> DeadRun:
    """Runs hlsify killed the n-th time it reaches `step`; checks it died there, leaving no output
    and one staging folder, and reads that folder."""
    res = hlsify(source, parent, fmt, kill_at=f"{step}:{n}", **override)
    assert res.returncode == KILLED, f"expected death by SIGKILL at {step}:{n}\n{res.describe()}"
    assert not os.path.exists(os.path.join(str(parent), "out")), "a killed run published its output"
    left = others_beside_out(parent)
    assert len(left) == 1 and STAGING.match(left[0]), f"expected one staging folder beside out, found {left}"
    staging = os.path.join(str(parent), left[0])
    plan_path = os.path.join(staging, ".hlsify-resume", "plan.json")
    assert os.path.isfile(plan_path), f"no plan.json after a kill at {step}:{n}: {h.list_tree(staging)}"
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    entries, text, torn = read_journal(staging)
    return DeadRun(res, staging, plan, entries, text, torn)


def assert_died_at(dead: DeadRun, step: str, n: int) -> None:
    """The staging folder shows the step the run was killed at (the N-th reach of the step,
    counted over segments of every rendition). The journal is written under one lock, so its
    steps are exact; the file steps run on each rendition's thread, so other renditions may be a
    step behind."""
    segs = dead.segment_entries
    journaled = {(e["r"], e["f"]) for e in dead.entries}
    names = [f for f in dead.files() if "/" in f and not f.startswith(".hlsify-resume")]
    parts = [f for f in names if re.search(r"/\.segment-\d{5}\.(m4s|ts)\.part$", f)]
    unjournaled = [f for f in names if re.search(r"/segment-\d{5}\.(m4s|ts)$", f)
                   and tuple(f.split("/", 1)) not in journaled]
    where = f"killed at {step}:{n}\n{dead.describe()}"
    for e in dead.entries:
        assert sha256_of(os.path.join(dead.staging, e["r"], e["f"])) == e["sha256"], \
            f"journaled {e['r']}/{e['f']} is not there as committed; {where}"
    if step in ("segment-written", "segment-synced"):
        assert len(segs) <= n - 1, f"{len(segs)} segments journaled; {where}"
        assert parts, f"no segment under its temporary name; {where}"
    elif step == "segment-renamed":
        assert len(segs) <= n - 1, f"{len(segs)} segments journaled; {where}"
        assert unjournaled, f"no renamed segment the journal does not name; {where}"
    elif step == "journal-torn":
        assert dead.torn and not dead.text.endswith("\n"), f"the journal does not end in a torn line; {where}"
        assert len(segs) == n - 1, f"{len(segs)} whole segment lines before the torn one; {where}"
    else:  # journal-appended, segment-committed
        assert not dead.torn, f"the journal's last line is damaged; {where}"
        assert len(segs) == n, f"{len(segs)} segment lines, expected {n}; {where}"


def total_commits(ref: Transcode) -> int:
    return sum(len(pl.segments) for pl in ref.hls.media_playlists())


# ---------------------------------------------------------------------------
# validation: the same checks an uninterrupted matrix run passes, and the reference's structure
# ---------------------------------------------------------------------------


def check_ladder(case: Transcode) -> None:
    src = case.source.video
    want = expected_rungs(*src.display_size, ladder=LADDER_RUNGS)
    got = sorted((min(v.resolution) for v in case.hls.variants), reverse=True)
    assert got == sorted(want, reverse=True), f"rendition short sides {got}, expected {want} for --ladder {LADDER}"
    assert len(case.report["renditions"]) == len(case.hls.variants)


def check_source_facts_after_resume(case: Transcode) -> None:
    """test_output.test_report_source_facts for a resumed run, whose decodedVideoFrames counts
    what it decoded: the source's frames but those before the pre-roll (read, not decoded; README
    "Crash-resume")."""
    r, src = case.report, case.source.video
    resume = r["resume"]
    skipped = round((resume["fromSegment"] * SEGMENT_DURATION - resume["preRollSeconds"]) * float(src.avg_frame_rate))
    assert r["decodedVideoFrames"] == src.frames - skipped, \
        f"decodedVideoFrames {r['decodedVideoFrames']}: the source has {src.frames} frames, {skipped} before the " \
        f"pre-roll of a resume from segment {resume['fromSegment']} ({resume})"
    assert r["source"]["videoFrames"] == src.frames
    sizes = {(src.width, src.height), tuple(map(round, src.display_size))}
    assert (r["source"]["width"], r["source"]["height"]) in sizes, r["source"]
    assert float(r["source"]["frameRate"]) == pytest.approx(float(src.avg_frame_rate), rel=0.01), r["source"]


OUTPUT_CHECKS = output_checks.spelled_out(check_ladder)


def validate(t: Transcode, label: str) -> None:
    """Every check test_output.py and test_apple_rules.py make of a matrix run, plus: nothing of
    the commit machinery (temporary names, the resume folder) in the output."""
    t.require_success()
    t.probe_in_parallel(4)
    leftovers = [f for f in h.list_tree(t.out) if f.endswith(".part") or ".hlsify-resume" in f]
    assert not leftovers, f"{label}: commit machinery left in the output: {leftovers}"
    resumed = t.report["resume"]["resumed"]
    for name, fn, kwargs in OUTPUT_CHECKS:
        if resumed and name == "test_report_source_facts":
            fn = check_source_facts_after_resume
        try:
            fn(t, **kwargs)
        except pytest.skip.Exception:
            pass
        except AssertionError as e:
            raise AssertionError(f"{label}: test_output.{name} fails on this output: {e}") from e
    ctx = ar.Context(os.path.join(t.out, "master.m3u8"), source=t.fixture.name,
                     nominal_segment=SEGMENT_DURATION, segment_checks=t.segment_checks)
    broken = {k: v for k, v in ar.check_all(ctx).items() if v and k not in apple_checks.PENDING}
    assert not broken, f"{label}: apple_rules findings: {broken}"


_BANDWIDTH = re.compile(r"(AVERAGE-)?BANDWIDTH=\d+,?")


def assert_same_structure(t: Transcode, ref: Transcode, label: str, same_audio: bool = True) -> None:
    """The same files as the reference; the same playlists, segment counts and EXTINF lines; the
    same master but for the measured bandwidths; identical init sections (fMP4); a byte-identical
    audio folder (unless the source's audio differs: `same_audio`); and the same decoded frame
    count in each video rendition."""
    def by_path(x: Transcode) -> dict[str, h.MediaPlaylist]:
        return {os.path.relpath(pl.path, x.out): pl for pl in x.hls.media_playlists()}
    files, ref_files = h.list_tree(t.out), h.list_tree(ref.out)
    assert files == ref_files, f"{label}: files differ from the reference's: extra " \
        f"{sorted(set(files) - set(ref_files))}, missing {sorted(set(ref_files) - set(files))}"
    mine, theirs = by_path(t), by_path(ref)
    audio_playlists = {os.path.relpath(r.playlist.path, ref.out) for r in ref.hls.audio_renditions}
    assert sorted(mine) == sorted(theirs), f"{label}: media playlists {sorted(mine)}, reference {sorted(theirs)}"
    for path, pl in mine.items():
        r = theirs[path]
        assert len(pl.segments) == len(r.segments), \
            f"{label}: {path} has {len(pl.segments)} segments, reference {len(r.segments)}"
        extinf = [l for l in pl.text.splitlines() if l.startswith("#EXTINF")]
        ref_extinf = [l for l in r.text.splitlines() if l.startswith("#EXTINF")]
        assert extinf == ref_extinf, f"{label}: {path} EXTINF lines differ from the reference:\n{extinf}\n{ref_extinf}"
    strip = lambda text: _BANDWIDTH.sub("", text)  # noqa: E731
    assert strip(t.hls.master_text) == strip(ref.hls.master_text), \
        f"{label}: master differs from the reference beyond bandwidths:\n{t.hls.master_text}\n{ref.hls.master_text}"
    if t.fmt == "fmp4":
        for folder in sorted({os.path.dirname(p) for p in mine if same_audio or p not in audio_playlists}):
            a, b = os.path.join(t.out, folder, "init.mp4"), os.path.join(ref.out, folder, "init.mp4")
            assert filecmp.cmp(a, b, shallow=False), f"{label}: {folder}/init.mp4 differs from the reference"
    audio = [os.path.dirname(os.path.relpath(r.playlist.path, ref.out)) for r in ref.hls.audio_renditions]
    assert audio, "the reference has no audio rendition"
    for folder in audio if same_audio else []:
        a, b = os.path.join(t.out, folder), os.path.join(ref.out, folder)
        names = sorted(os.listdir(b))
        assert sorted(os.listdir(a)) == names, f"{label}: {folder}/ holds {sorted(os.listdir(a))}, reference {names}"
        _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
        assert not mismatch and not errors, f"{label}: audio files differ from the reference: {mismatch + errors}"
    ref_frames = {uri: f.video.frames for uri, f in ref.rendition_facts.items()}
    frames = {uri: f.video.frames for uri, f in t.rendition_facts.items()}
    assert frames == ref_frames, f"{label}: decoded frames per rendition {frames}, reference {ref_frames}"


def assert_resumed(t: Transcode, ref: Transcode, expected: tuple[int, int, dict], label: str) -> None:
    """A resumed run's exit, stderr line and report agree with what the dead run left (`expected`,
    DeadRun.expected_resume() read before the run), and its output is valid and shaped like the
    reference."""
    res = t.result
    assert res.returncode == 0, f"{label}: the resumed run failed\n{res.describe()}"
    from_segment, kept, prefix = expected
    m = RESUMING.search(res.stderr)
    assert m, f"{label}: no 'resuming' line on stderr\n{res.describe()}"
    assert (int(m.group(2)), int(m.group(3))) == (from_segment, kept), \
        f"{label}: stderr says from {m.group(2)} keeping {m.group(3)}; the journal left allows from " \
        f"{from_segment} keeping {kept} {prefix}\n{res.describe()}"
    resume = t.report["resume"]
    assert resume["resumed"] is True, f"{label}: report.resume {resume}"
    assert resume["fromSegment"] == from_segment > 0, f"{label}: report.resume {resume}, expected from {from_segment}"
    assert resume["segmentsReused"] == kept > 0, f"{label}: report.resume {resume}, expected {kept} kept {prefix}"
    ref_segments = {os.path.relpath(pl.path, ref.out): len(pl.segments) for pl in ref.hls.media_playlists()}
    remaining = sum(max(0, n - from_segment) for n in ref_segments.values())
    # Renditions that were ahead keep their later segments, so fewer may be encoded than remain.
    assert resume["segmentsEncoded"] - remaining <= RENDITIONS, \
        f"{label}: report.resume {resume}: {remaining} segments lie after segment {from_segment} in the reference"
    assert resume["segmentsReused"] + resume["segmentsEncoded"] == total_commits(ref), \
        f"{label}: report.resume {resume}, {total_commits(ref)} segments in all"
    frame = 1 / SOURCE_FPS
    want = min(PRE_ROLL_SECONDS, from_segment * SEGMENT_DURATION)
    assert want - frame <= resume["preRollSeconds"] <= min(PRE_ROLL_SECONDS + SOURCE_GOP_SECONDS,
                                                          from_segment * SEGMENT_DURATION) + frame, \
        f"{label}: report.resume {resume}: pre-roll should be about {want}s"
    assert resume["preRollFrames"] >= round(resume["preRollSeconds"] * SOURCE_FPS), f"{label}: report.resume {resume}"
    assert others_beside_out(t.parent) == [], f"{label}: left beside the output: {others_beside_out(t.parent)}"
    validate(t, label)
    assert_same_structure(t, ref, label)


def assert_afresh(t: Transcode, label: str, reason: Optional[str]) -> None:
    """Not resumed (with a warning naming `reason` when given); nothing left of the dead run."""
    res = t.result
    assert res.returncode == 0, f"{label}: the run failed\n{res.describe()}"
    assert not RESUMING.search(res.stderr), f"{label}: says it resumed\n{res.describe()}"
    resume = t.report["resume"]
    assert resume["resumed"] is False and resume["fromSegment"] == 0 and resume["segmentsReused"] == 0, \
        f"{label}: report.resume {resume}"
    assert resume["segmentsEncoded"] == sum(len(pl.segments) for pl in t.hls.media_playlists()), \
        f"{label}: report.resume {resume}"
    warnings = [w for w in t.report["warnings"] if w.startswith(AFRESH)]
    if reason is not None:
        assert len(warnings) == 1 and reason in warnings[0], \
            f"{label}: expected one warning '{AFRESH}...{reason}...', got {t.report['warnings']}"
    assert others_beside_out(t.parent) == [], f"{label}: left beside the output: {others_beside_out(t.parent)}"


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    return make_source(str(tmp_path_factory.mktemp("resume-source") / "lecture.mp4"))


class References:
    """The uninterrupted run, made once per segment format on first use."""

    def __init__(self, factory, source: str):
        self.factory, self.source, self.runs = factory, source, {}

    def __call__(self, fmt: str) -> Transcode:
        if fmt not in self.runs:
            parent = self.factory.mktemp(f"resume-reference-{fmt}")
            t = as_transcode(self.source, parent, fmt, hlsify(self.source, parent, fmt))
            t.require_success()
            self.runs[fmt] = t
        return self.runs[fmt]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, source) -> References:
    return References(tmp_path_factory, source)


@pytest.fixture
def parent(tmp_path):
    """An empty folder for --out: whatever else is in it afterwards was left by hlsify."""
    p = tmp_path / "work"
    p.mkdir()
    return p


def kill_count(ref: Transcode, fraction: float) -> int:
    return max(1, min(total_commits(ref) - 1, round(total_commits(ref) * fraction)))


# ---------------------------------------------------------------------------
# the uninterrupted run
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["fmp4", "ts"])
def test_uninterrupted_run_is_valid_and_not_resumed(reference, fmt):
    ref = reference(fmt)
    assert total_commits(ref) == RENDITIONS * SOURCE_SECONDS // SEGMENT_DURATION, \
        f"expected {SOURCE_SECONDS // SEGMENT_DURATION} segments in each of {RENDITIONS} renditions"
    assert_afresh(ref, f"uninterrupted {fmt}", None)
    assert not [w for w in ref.report["warnings"] if w.startswith(AFRESH)], ref.report["warnings"]
    validate(ref, f"uninterrupted {fmt}")


# ---------------------------------------------------------------------------
# 1. every kill step, in the middle of the run
# ---------------------------------------------------------------------------

# Every step in fMP4; in MPEG-TS (continuity counters carried over, the first segment renamed) the
# two that leave the most to clean up: a renamed file the journal never heard of, a torn line.
STEP_CASES = [(s, "fmp4") for s in STEPS] + [(s, "ts") for s in ("segment-renamed", "journal-torn")]


@pytest.mark.parametrize("step,fmt", STEP_CASES, ids=[f"{s}-{f}" for s, f in STEP_CASES])
def test_resume_after_a_kill_at_each_step(source, reference, parent, step, fmt):
    ref = reference(fmt)
    n = kill_count(ref, 0.6)  # past the middle, so that the 6 s pre-roll need not reach back to the start
    dead = kill_run(source, parent, fmt, step, n)
    assert_died_at(dead, step, n)
    expected = dead.expected_resume()
    label = f"{fmt}, killed at {step}:{n}"
    assert_resumed(as_transcode(source, parent, fmt, hlsify(source, parent, fmt)), ref, expected, label)


@pytest.mark.parametrize("step", SINK_STEPS)
def test_kill_points_count_segments_not_init_sections(source, reference, parent, step):
    """STEP:1 is the first segment file's step, whatever rendition gets there first; init
    sections are not counted. Then nothing is committed, and the next run starts afresh (it has
    nothing to resume) and finishes a set like the reference."""
    ref = reference("fmp4")
    res = hlsify(source, parent, "fmp4", kill_at=f"{step}:1")
    assert res.returncode == KILLED, res.describe()
    left = others_beside_out(parent)
    assert len(left) == 1 and STAGING.match(left[0]), f"expected one staging folder, found {left}"
    files = h.list_tree(os.path.join(parent, left[0]))
    in_flight = r"/\.segment-00000\.m4s\.part$" if step != "segment-renamed" else r"/segment-00000\.m4s$"
    assert any(re.search(in_flight, f) for f in files), \
        f"killed at {step}:1, yet no first segment is in flight (an init section counted?):\n  " + "\n  ".join(files)
    assert ".hlsify-resume/plan.json" in files, f"a segment is being committed before the plan is written: {files}"
    t = as_transcode(source, parent, "fmp4", hlsify(source, parent, "fmp4"))
    assert_afresh(t, f"after {step}:1", None)
    assert_same_structure(t, ref, f"after {step}:1")


# ---------------------------------------------------------------------------
# 2. early, late and very late kills
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.25, 0.7, 0.95])
def test_resume_after_a_kill_at_fractions_of_the_run(source, reference, parent, fraction):
    ref = reference("fmp4")
    n = kill_count(ref, fraction)
    dead = kill_run(source, parent, "fmp4", "segment-committed", n)
    assert_died_at(dead, "segment-committed", n)
    expected = dead.expected_resume()
    label = f"killed at segment-committed:{n} of {total_commits(ref)}"
    assert_resumed(as_transcode(source, parent, "fmp4", hlsify(source, parent, "fmp4")), ref, expected, label)


# ---------------------------------------------------------------------------
# 3. a committed segment damaged after the kill
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["fmp4", "ts"])
def test_a_damaged_committed_segment_is_encoded_again(source, reference, parent, fmt):
    ref = reference(fmt)
    n = kill_count(ref, 0.6)
    dead = kill_run(source, parent, fmt, "segment-committed", n)
    video = dead.videos[0]
    damaged_index = 1
    entry = next((e for e in dead.segment_entries if e["r"] == video and e["i"] == damaged_index), None)
    assert entry is not None, f"{video} segment {damaged_index} not committed at {n} commits\n{dead.describe()}"
    path = os.path.join(dead.staging, video, entry["f"])
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        data[len(data) // 2] ^= 0xFF
        f.seek(0)
        f.write(data)
    damaged = bytes(data)
    expected = dead.expected_resume()
    assert expected[2][video] == damaged_index and expected[0] == damaged_index, \
        f"the damage should cut {video} to {damaged_index} kept segments: {expected}"
    t = as_transcode(source, parent, fmt, hlsify(source, parent, fmt))
    label = f"{fmt}, {video}/{entry['f']} damaged after a kill at {n}"
    assert t.result.returncode == 0, t.result.describe()
    assert t.report["resume"]["fromSegment"] <= damaged_index, f"{label}: report.resume {t.report['resume']}"
    with open(os.path.join(t.out, video, entry["f"]), "rb") as f:
        assert f.read() != damaged, f"{label}: the damaged segment was published as it was"
    assert_resumed(t, ref, expected, label)


# ---------------------------------------------------------------------------
# 4-7. plans that do not match: the source, the settings, the engine; and --no-resume
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["touched", "rewritten"])
def test_a_changed_source_is_not_resumed(source, reference, parent, tmp_path, change):
    own = tmp_path / "src"
    own.mkdir()
    copy = str(own / "lecture.mp4")
    shutil.copyfile(source, copy)
    copy = os.path.realpath(copy)
    ref = reference("fmp4")
    kill_run(copy, parent, "fmp4", "segment-committed", kill_count(ref, 0.5))
    st = os.stat(copy)
    if change == "touched":
        os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
        reason = "modification time"
    else:
        make_source(copy, tone=660)
        reason = "content"
    t = as_transcode(copy, parent, "fmp4", hlsify(copy, parent, "fmp4"))
    label = f"source {change} after a kill"
    assert_afresh(t, label, "the source changed")
    assert reason in next(w for w in t.report["warnings"] if w.startswith(AFRESH)), t.report["warnings"]
    # A fresh run of the reference's settings on the same pictures (and, rewritten, another tone).
    assert_same_structure(t, ref, label, same_audio=change == "touched")


SETTING_CHANGES = {"preset": {"preset": "veryfast"}, "ladder": {"ladder": "360p"}}


@pytest.mark.parametrize("change", list(SETTING_CHANGES))
def test_other_settings_are_not_resumed(source, reference, parent, change):
    """The dead run had other settings than the next: the next starts afresh with its own."""
    ref = reference("fmp4")
    kill_run(source, parent, "fmp4", "segment-committed", kill_count(ref, 0.5), **SETTING_CHANGES[change])
    t = as_transcode(source, parent, "fmp4", hlsify(source, parent, "fmp4"))
    label = f"killed with another {change}"
    assert_afresh(t, label, "other settings")
    assert_same_structure(t, ref, label)


def test_no_resume_starts_afresh_and_removes_the_dead_runs_staging(source, reference, parent):
    ref = reference("fmp4")
    dead = kill_run(source, parent, "fmp4", "segment-committed", kill_count(ref, 0.5))
    assert dead.segment_entries
    t = as_transcode(source, parent, "fmp4", hlsify(source, parent, "fmp4", "--no-resume"))
    label = "--no-resume after a kill"
    assert_afresh(t, label, None)
    assert not os.path.exists(dead.staging), f"{label}: the dead run's staging folder is still there"
    assert_same_structure(t, ref, label)


def test_a_plan_from_another_engine_version_is_not_resumed(source, reference, parent):
    ref = reference("fmp4")
    dead = kill_run(source, parent, "fmp4", "segment-committed", kill_count(ref, 0.5))
    plan_path = os.path.join(dead.staging, ".hlsify-resume", "plan.json")
    engine = dead.plan["engine"]
    assert re.match(r"hlsify-engine \d+;", engine), f"plan.engine: {engine!r}"
    dead.plan["engine"] = re.sub(r"^hlsify-engine \d+;", "hlsify-engine 0;", engine)
    with open(plan_path, "w", encoding="utf-8") as f:
        json.dump(dead.plan, f, sort_keys=True)
    t = as_transcode(source, parent, "fmp4", hlsify(source, parent, "fmp4"))
    label = "plan from another engine"
    assert_afresh(t, label, "another engine version")
    assert_same_structure(t, ref, label)


def test_plan_records_the_source_the_settings_and_the_libraries(source, reference, parent):
    """plan.json holds what decides the segments: the source's fingerprint (size, mtime, SHA-256
    of its first and last MiB), the settings, and the engine with the libraries that encode,
    libx264 included (an x264 upgrade changes the bytes)."""
    dead = kill_run(source, parent, "fmp4", "segment-committed", 1)
    plan = dead.plan
    st = os.stat(source)
    mib = 1 << 20
    with open(source, "rb") as f:
        head = hashlib.sha256(f.read(mib)).hexdigest()
        f.seek(max(0, st.st_size - mib))
        tail = hashlib.sha256(f.read()).hexdigest()
    assert plan["source"] == {"size": st.st_size, "modifiedNanoseconds": st.st_mtime_ns, "headSHA256": head,
                              "tailSHA256": tail}, plan["source"]
    s = plan["settings"]
    assert (s["ladder"], s["segmentDuration"], s["segmentFormat"], s["preset"]) == \
        (LADDER.split(","), SEGMENT_DURATION, "fmp4", MATRIX_PRESET), s
    assert [r["folder"] for r in plan["renditions"]] == [f"{r}p" for r in LADDER_RUNGS], plan["renditions"]
    engine = plan["engine"]
    for lib in ("libavcodec", "libavformat", "libswscale"):
        assert re.search(lib + r" \d+\.\d+\.\d+", engine), f"plan.engine lacks {lib}'s version: {engine!r}"
    ldd = subprocess.run(["ldd", hlsify_bin()], capture_output=True, text=True).stdout
    linked = re.search(r"libx264\.so[.\d]* => (\S+)", ldd)
    assert re.search(r"libx264 \S*libx264\.so[.\d]* \d+ bytes", engine), \
        f"plan.engine does not name the libx264 loaded ({linked.group(1) if linked else 'ldd: not linked'}): {engine!r}"


# ---------------------------------------------------------------------------
# 8. killed twice
# ---------------------------------------------------------------------------


def test_killed_twice_then_finished(source, reference, parent):
    ref = reference("fmp4")
    first = kill_run(source, parent, "fmp4", "segment-committed", kill_count(ref, 0.25))
    # Counted in the second run, which commits only what it encodes anew.
    second = kill_run(source, parent, "fmp4", "journal-torn", 7)
    assert RESUMING.search(second.result.stderr), f"the second run did not resume\n{second.result.describe()}"
    assert len(second.segment_entries) > len(first.segment_entries), \
        f"the second run committed nothing more\nfirst: {first.describe()}\nsecond: {second.describe()}"
    assert second.torn, second.describe()
    expected = second.expected_resume()
    t = as_transcode(source, parent, "fmp4", hlsify(source, parent, "fmp4"))
    assert_resumed(t, ref, expected, "killed twice")


# ---------------------------------------------------------------------------
# 9. a full disk during a resume
# ---------------------------------------------------------------------------

# A disk that fills up, without root: an LD_PRELOAD shim over write(2). Once HLSIFY_TEST_DISK_BYTES
# bytes have gone to files whose path contains HLSIFY_TEST_DISK_MATCH, every further write to such
# a file fails with ENOSPC, as on a full file system (fsync, rename and reads are left alone).
ENOSPC_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void *, size_t);
static long long left;
static const char *match;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void setup(void) {
    real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    const char *bytes = getenv("HLSIFY_TEST_DISK_BYTES");
    match = getenv("HLSIFY_TEST_DISK_MATCH");
    left = bytes ? atoll(bytes) : (1LL << 62);
}

ssize_t write(int fd, const void *buf, size_t count) {
    pthread_once(&once, setup);
    if (match && fd > 2 && count > 0) {
        char link[64], path[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        if (n > 0) {
            path[n] = 0;
            if (strstr(path, match)
                && __atomic_fetch_sub(&left, (long long)count, __ATOMIC_SEQ_CST) < (long long)count) {
                errno = ENOSPC;  /* and full from now on: `left` only goes down */
                return -1;
            }
        }
    }
    return real_write(fd, buf, count);
}
"""
EX_IOERR = 74


@pytest.fixture(scope="module")
def enospc_shim(tmp_path_factory) -> str:
    compiler = next((c for c in ("cc", "gcc", "clang") if shutil.which(c)), None)
    if compiler is None:
        pytest.fail("no C compiler (cc, gcc or clang) to build the full-disk shim", pytrace=False)
    folder = tmp_path_factory.mktemp("enospc-shim")
    (folder / "enospc.c").write_text(ENOSPC_SHIM)
    h.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(folder / "enospc.so"), str(folder / "enospc.c"),
           "-ldl", "-lpthread"])
    return str(folder / "enospc.so")


def output_bytes(t: Transcode) -> int:
    return sum(os.path.getsize(os.path.join(t.out, f)) for f in h.list_tree(t.out) if os.path.isfile(os.path.join(t.out, f)))


def hlsify_on_a_full_disk(shim: str, source: str, parent, budget: int):
    """An fMP4 run whose writes into its staging folder fail with ENOSPC after `budget` bytes."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LD_PRELOAD", shim)
        mp.setenv("HLSIFY_TEST_DISK_MATCH", ".out.hlsify-staging-")
        mp.setenv("HLSIFY_TEST_DISK_BYTES", str(budget))
        return hlsify(source, parent, "fmp4")


@pytest.mark.parametrize("when", ["at-start", "mid-run"])
def test_a_full_disk_during_a_resume_keeps_the_work(source, reference, parent, enospc_shim, when):
    """The disk is full when the resume starts (the journal cannot even be rewritten), or fills up
    while it encodes: exit 74 (an I/O error a later run may get past), and the staging folder stays
    with everything committed so far (README: "a failure a later run may get past ... keeps it to
    resume from"); once there is room, the next run resumes from it and finishes."""
    ref = reference("fmp4")
    dead = kill_run(source, parent, "fmp4", "segment-committed", kill_count(ref, 0.25))
    before = dead.expected_resume()
    full = hlsify_on_a_full_disk(enospc_shim, source, parent, 0 if when == "at-start" else output_bytes(ref) // 3)
    label = f"disk full {when} of a resume"
    assert full.returncode == EX_IOERR, f"{label}: expected exit {EX_IOERR}\n{full.describe()}"
    assert re.search(r"space", full.stderr, re.I), f"{label}: stderr does not say the disk is full\n{full.describe()}"
    assert not os.path.exists(os.path.join(parent, "out")), f"{label}: an output was published"
    left = others_beside_out(parent)
    assert len(left) == 1 and STAGING.match(left[0]), \
        f"{label}: the staging folder with {before[1]} committed segments was not kept: {left}\n{full.describe()}"
    staging = os.path.join(parent, left[0])
    entries, text, torn = read_journal(staging)
    after = DeadRun(full, staging, dead.plan, entries, text, torn)
    for e in after.entries:
        assert sha256_of(os.path.join(staging, e["r"], e["f"])) == e["sha256"], \
            f"{label}: journaled {e['r']}/{e['f']} is not there as committed\n{after.describe()}"
    expected = after.expected_resume()
    assert expected[1] >= before[1], f"{label}: segments were lost: {before} before, {expected} after"
    t = as_transcode(source, parent, "fmp4", hlsify(source, parent, "fmp4"))
    assert_resumed(t, ref, expected, f"{label}, then resumed")


def test_a_full_disk_in_a_first_run_keeps_what_it_committed(source, reference, parent, enospc_shim):
    """A run that was never killed fills the disk: exit 74 with the staging folder and its
    committed segments kept; the next run resumes from them and finishes."""
    ref = reference("fmp4")
    full = hlsify_on_a_full_disk(enospc_shim, source, parent, output_bytes(ref) // 2)
    assert full.returncode == EX_IOERR, f"expected exit {EX_IOERR}\n{full.describe()}"
    assert len(full.stderr_lines) == 1 and re.search(r"space", full.stderr, re.I), full.describe()
    assert not os.path.exists(os.path.join(parent, "out")), "an output was published"
    left = others_beside_out(parent)
    assert len(left) == 1 and STAGING.match(left[0]), f"the staging folder was not kept: {left}\n{full.describe()}"
    staging = os.path.join(parent, left[0])
    with open(os.path.join(staging, ".hlsify-resume", "plan.json"), encoding="utf-8") as f:
        plan = json.load(f)
    entries, text, torn = read_journal(staging)
    after = DeadRun(full, staging, plan, entries, text, torn)
    expected = after.expected_resume()
    assert expected[0] > 0, f"the budget should let every rendition commit a segment\n{after.describe()}"
    t = as_transcode(source, parent, "fmp4", hlsify(source, parent, "fmp4"))
    assert_resumed(t, ref, expected, "disk full in a first run, then resumed")


def test_a_source_with_one_keyframe_killed_after_its_last_commit(tmp_path):
    """Nothing to encode after the resume point, and no keyframe after the pre-roll's start (one
    keyframe at 0): the held-back video is decoded at the end of the input (as pre-roll, dropped),
    and the output is the kept segments, complete."""
    src = str(tmp_path / "one-keyframe.mp4")
    h.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", f"testsrc2=size={SOURCE_SIZE}:rate=25:duration=6",
           "-f", "lavfi", "-i", "sine=frequency=440:duration=6", "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
           "-g", "1000", "-pix_fmt", "yuv420p", "-c:a", "aac", src])
    parent = tmp_path / "work"
    parent.mkdir()
    commits = 3 * RENDITIONS  # 6 s of 2 s segments, every rendition
    dead = kill_run(src, parent, "fmp4", "segment-committed", commits)
    assert len(dead.segment_entries) == commits, dead.describe()
    t = as_transcode(src, parent, "fmp4", hlsify(src, parent, "fmp4"))
    assert t.result.returncode == 0, t.result.describe()
    resume = t.report["resume"]
    assert resume["resumed"] and resume["fromSegment"] == 3 and resume["segmentsReused"] == commits, resume
    assert resume["segmentsEncoded"] == 0 and 0 < resume["preRollSeconds"] <= 6 + 1 / 25, resume
    assert others_beside_out(parent) == [], others_beside_out(parent)
    validate(t, "one keyframe, every segment kept")
