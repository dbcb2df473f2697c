"""Shared set-up for the integration suite: where the binary is, what the fixtures are,
and one transcode per (fixture, segment format) for the whole session.

The binary is $HLSIFY_BIN, or .build/debug/hlsify under the repository root. A missing
binary fails the tests (it never skips them): a suite that skips everything would pass CI
having checked nothing.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

import pytest

import hlscheck as h

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "Fixtures")

FORMATS = ["fmp4", "ts"]
# `--ladder auto`, the default ladder since issue 16: 1080p, 720p, 480p, 360p and 240p where the
# source allows (expected_auto_rungs says which).
AUTO_LADDER = [1080, 720, 480, 360, 240]
# `--ladder 1080p,720p,480p`: the default ladder before issue 16 (an explicit ladder now).
FIXED_LADDER = [1080, 720, 480]

# Segment duration for the main matrix: the clips are 5 s long, so 2 s gives three
# segments (2, 2, 1): enough to see boundaries agree and a shorter last one.
SEGMENT_DURATION = 2

# The preset for the main matrix. Not ultrafast: x264's ultrafast turns off CABAC, B-frames
# and 8x8 transforms, so its streams signal Constrained Baseline, and these tests require
# High profile. superfast keeps all three and is still quick.
MATRIX_PRESET = "superfast"

TRANSCODE_TIMEOUT = 300


@dataclass(frozen=True)
class FixtureInfo:
    name: str
    language: str  # the LANGUAGE the audio rendition must carry ("und" when untagged)
    has_audio: bool = True
    vfr: bool = False


VIDEO_FIXTURES = [
    FixtureInfo("landscape-1080p.mp4", "eng"),
    FixtureInfo("landscape-720p.mp4", "und"),
    FixtureInfo("portrait-rotated.mp4", "und"),
    FixtureInfo("portrait-720x1280.mp4", "und"),
    FixtureInfo("4x3-480p.mp4", "und"),
    FixtureInfo("anamorphic-576p.mp4", "und"),
    FixtureInfo("no-audio.mp4", "und", has_audio=False),
    FixtureInfo("small-320x180.mp4", "und"),
    FixtureInfo("vfr.mp4", "und", vfr=True),
]


def fixture_path(name: str) -> str:
    return os.path.join(FIXTURES, name)


def hlsify_bin() -> str:
    path = os.environ.get("HLSIFY_BIN") or os.path.join(ROOT, ".build", "debug", "hlsify")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"hlsify binary not found at {path}: build it (`swift build`) or set HLSIFY_BIN", pytrace=False)
    return path


@dataclass
class RunResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def stderr_lines(self) -> list[str]:
        return [l for l in self.stderr.splitlines() if l.strip()]

    def describe(self) -> str:
        return (f"$ {' '.join(self.argv)}\nexit {self.returncode} after {self.elapsed:.1f}s\n"
                f"--- stderr (tail) ---\n{self.stderr[-3000:]}\n--- stdout (head) ---\n{self.stdout[:2000]}")


def run_hlsify(*args: str, timeout: float = TRANSCODE_TIMEOUT, cwd: Optional[str] = None) -> RunResult:
    argv = [hlsify_bin(), *map(str, args)]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"hlsify did not finish within {timeout}s: {' '.join(argv)}\n{(e.stderr or b'')[-2000:]!r}")
    return RunResult(argv, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)


@functools.lru_cache(maxsize=None)
def source_facts(name: str) -> h.MediaFacts:
    return h.probe(fixture_path(name))


def even_down(x: float) -> int:
    return int(x) // 2 * 2


def expected_rungs(display_w: float, display_h: float, ladder: Optional[list[int]] = None) -> list[int]:
    """Short sides of the renditions the contract asks for. With `ladder` (the short sides of an
    explicit --ladder): its rungs at or below the source's short side; if none fits, one rendition
    at the source's own (even) size. Without: what a run without --ladder gets, the default
    ladder, auto (expected_auto_rungs). Rungs dropped as redundant are not taken out here."""
    if ladder is None:
        return expected_auto_rungs(display_w, display_h)
    short = min(display_w, display_h)
    rungs = [r for r in ladder if r <= short + 0.5]
    return rungs or [even_down(short)]


def expected_auto_rungs(display_w: float, display_h: float) -> list[int]:
    """Short sides of the renditions `--ladder auto` promises: the auto rungs as expected_rungs
    keeps them, and when fewer than two are left, one more at two thirds of the smallest one's
    short side rounded down to even (a 320x180 source: 180 and 120), so that every source with
    a picture gets two video bit rates (Apple's authoring spec 9.9)."""
    rungs = expected_rungs(display_w, display_h, ladder=AUTO_LADDER)
    if len(rungs) < 2:
        lower = rungs[-1] * 2 // 3 // 2 * 2
        if 2 <= lower < rungs[-1]:
            rungs.append(lower)
    return rungs


@dataclass
class Transcode:
    """One hlsify run and lazily computed, independent facts about what it wrote."""
    fixture: FixtureInfo
    fmt: str
    parent: str
    out: str
    result: RunResult
    extra_args: tuple = ()

    @property
    def id(self) -> str:
        return f"{self.fixture.name}[{self.fmt}]"

    def require_success(self) -> None:
        if self.result.returncode != 0:
            pytest.fail(f"{self.id}: hlsify failed\n{self.result.describe()}", pytrace=False)

    @functools.cached_property
    def report(self) -> dict:
        self.require_success()
        try:
            return json.loads(self.result.stdout)
        except json.JSONDecodeError as e:
            pytest.fail(f"{self.id}: --json output is not one JSON document ({e})\n{self.result.stdout[:2000]}", pytrace=False)

    @functools.cached_property
    def hls(self) -> h.HLSSet:
        self.require_success()
        master = os.path.join(self.out, "master.m3u8")
        assert os.path.isfile(master), f"{self.id}: no master.m3u8 in {self.out}: {h.list_tree(self.out)}"
        return h.load_hls_set(master)

    @functools.cached_property
    def source(self) -> h.MediaFacts:
        return source_facts(self.fixture.name)

    @functools.cached_property
    def rendition_facts(self) -> dict[str, h.MediaFacts]:
        """ffprobe facts per video variant (keyed by variant URI), from the whole rendition."""
        return {v.uri: _whole_rendition(v.playlist) for v in self.hls.variants}

    @functools.cached_property
    def segment_checks(self) -> dict[str, list[h.SegmentVideoCheck]]:
        """Per video variant, what a decoder sees from each segment on its own (init + segment)."""
        return {v.uri: [_segment_alone(v.playlist, i) for i in range(len(v.playlist.segments))] for v in self.hls.variants}

    def probe_in_parallel(self, workers: int) -> None:
        """Fills segment_checks and rendition_facts (computed the same way) with the ffprobe runs
        `workers` at a time: most of a validation's time is their start-up."""
        if "segment_checks" in self.__dict__:
            return
        with ThreadPoolExecutor(max_workers=workers) as pool:
            variants = self.hls.variants
            checks = {v.uri: [pool.submit(_segment_alone, v.playlist, i) for i in range(len(v.playlist.segments))]
                      for v in variants}
            facts = {v.uri: pool.submit(_whole_rendition, v.playlist) for v in variants}
            self.__dict__["segment_checks"] = {uri: [f.result() for f in fs] for uri, fs in checks.items()}
            self.__dict__["rendition_facts"] = {uri: f.result() for uri, f in facts.items()}

    @functools.cached_property
    def audio_playlist(self) -> Optional[h.MediaPlaylist]:
        audio = self.hls.audio_renditions
        return audio[0].playlist if audio else None


def _segment_alone(pl: h.MediaPlaylist, i: int) -> h.SegmentVideoCheck:
    with h.TempMedia(pl.standalone(i), pl.suffix) as p:
        return h.check_segment_video(p)


def _whole_rendition(pl: h.MediaPlaylist) -> h.MediaFacts:
    with h.TempMedia(pl.whole(), pl.suffix) as p:
        return h.probe(p)


def transcode(tmp_factory, fixture: FixtureInfo, fmt: str, *extra: str, basename: str = "out") -> Transcode:
    parent = str(tmp_factory.mktemp(f"{os.path.splitext(fixture.name)[0]}-{fmt}"))
    out = os.path.join(parent, basename)
    res = run_hlsify(fixture_path(fixture.name), "--out", out, "--segment-format", fmt, "--json", "--quiet", *extra)
    return Transcode(fixture, fmt, parent, out, res, tuple(extra))


MATRIX = [(f, fmt) for f in VIDEO_FIXTURES for fmt in FORMATS]


@pytest.fixture(scope="session", params=MATRIX, ids=[f"{os.path.splitext(f.name)[0]}-{fmt}" for f, fmt in MATRIX])
def case(request, tmp_path_factory) -> Transcode:
    """One transcode per (fixture, format) for the whole session, with the matrix options.
    Tests that use it are grouped by parameter, so each output is made once and checked by
    every test before the next one is made."""
    fixture, fmt = request.param
    return transcode(tmp_path_factory, fixture, fmt,
                     "--segment-duration", str(SEGMENT_DURATION), "--preset", MATRIX_PRESET)


@pytest.fixture(scope="session")
def binary() -> str:
    return hlsify_bin()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def http_root(tmp_path_factory):
    """A loopback HTTP server over the session's temporary folder (where every output is
    written); yields a function from a path below it to its URL."""
    root = os.path.realpath(tmp_path_factory.getbasetemp())
    handler = functools.partial(_QuietHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def url(path: str) -> str:
        relative = os.path.relpath(os.path.realpath(path), root)
        assert not relative.startswith(".."), f"{path} is outside {root}"
        return f"http://127.0.0.1:{server.server_address[1]}/{relative}"
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


# S3 servers on loopback, a fault proxy and their fixtures (rclone_s3, seaweed_s3, s3_server, s3_bucket,
# fault_proxy) for the object-storage tests: see s3servers.py.
from s3servers import *  # noqa: E402,F401,F403
