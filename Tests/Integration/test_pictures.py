"""Seek-bar thumbnails (`storyboard/storyboard.vtt` and its JPEG sprite sheets) and the poster
(`poster.jpg`), checked with readers that are not hlsify: webvtt-py (strict) for the track,
ffprobe for the pictures' sizes and formats, and ffmpeg for the source pictures the tiles and the
poster must show (decoded by frame index, scaled to the tile or poster size, compared as full-range
luma by mean absolute difference, and by SSIM for the poster fixtures made here).

The rule (the engine's contract; StoryboardLayout and PosterChoice in Sources/HLSCore/Pictures):
tiles are 160 px wide, as tall as the display aspect asks (even, 2..640), laid out 10 columns x
up to 10 rows per sheet, row by row; the interval is the smallest of INTERVALS
that keeps ceil(container duration / interval) <= 300; tile k shows the first picture at or after
k x interval on the output timeline (the last picture past the end); one cue per tile from its
start to the next (the last to the report's durationSeconds). The poster, at the top rendition's
size, is the tile moment between 2% and 90% of the source with the most detail (mean absolute
luma gradient; flat pictures score 0).

Parts: (1)-(3) the matrix transcodes conftest makes (reused through `case`), (4) long and odd
sources made here (several intervals, several sheets, a clamped tile, pictures sparser than the
interval), (5) poster fixtures made here, (6) --no-storyboard / --no-poster and an audio-only
source, (7) --progressive, (8) a run SIGKILLed at a commit (HLSIFY_TEST_KILL_AT, as in
test_resume.py) and resumed. Part (8) holds tests for engine bugs this file found (the poster and
report.resume of a resumed run, a resume of a run made without a storyboard); they fail until the
engine is fixed.
"""

from __future__ import annotations

import filecmp
import functools
import json
import math
import os
import re
import signal
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

import pytest

import hlscheck as h
from conftest import MATRIX, MATRIX_PRESET, SEGMENT_DURATION, fixture_path, run_hlsify, source_facts, transcode
from test_subtitles import read_vtt_file

TILE_WIDTH = 160
COLUMNS = 10
ROWS_PER_SHEET = 10
TILES_PER_SHEET = COLUMNS * ROWS_PER_SHEET
MAX_TILES = 300
INTERVALS = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600]
POSTER_WINDOW = (0.02, 0.90)

# A tile or poster against the source picture it must show, as full-range luma (0-255) at its size:
# mean absolute difference. JPEG (q 4) and scaler differences give 0.8-1.5 on the fixtures; the
# neighbouring frame (1/30 s away) gives 2.4 and more on testsrc2, a picture one interval away 5+.
MATCH_BAR = 2.0
MEAN_LUMA_BAR = 1.5  # |mean luma| difference: catches a tile written in video range labelled full
POSTER_SSIM_BAR = 0.95

VTT_PAYLOAD = re.compile(r"^(storyboard-(\d{3,})\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+)$")
RAW_FILE = re.compile(r"(^|/)(tile-\d+\.yuv|tiles-.*\.json)$")

KILL_ENV = "HLSIFY_TEST_KILL_AT"
KILLED = -signal.SIGKILL
RESUMING = re.compile(r"^hlsify: resuming .+ from segment (\d+): (\d+) segment files kept from an earlier run$", re.M)


def matrix_case(name: str, fmt: str):
    """The MATRIX entry (the same object conftest's `case` is parametrized with, so a run made for
    test_output.py and the others is the one checked here)."""
    return next(p for p in MATRIX if p[0].name == name and p[1] == fmt)


PICTURE_CASES = [matrix_case(n, "fmp4") for n in ("landscape-720p.mp4", "portrait-rotated.mp4", "anamorphic-576p.mp4",
                                                  "small-320x180.mp4", "vfr.mp4", "no-audio.mp4")]
PICTURE_CASES.append(matrix_case("landscape-720p.mp4", "ts"))
PICTURE_IDS = [f"{os.path.splitext(f.name)[0]}-{fmt}" for f, fmt in PICTURE_CASES]
SMALL = matrix_case("small-320x180.mp4", "fmp4")


# ---------------------------------------------------------------------------
# independent readers: ffprobe, ffmpeg
# ---------------------------------------------------------------------------


def ffmpeg(*args: str) -> bytes:
    return h.run(["ffmpeg", "-v", "error", "-nostdin", *args]).stdout


@functools.lru_cache(maxsize=None)
def image_facts(path: str) -> dict:
    """ffprobe's view of a JPEG: codec_name, width, height, pix_fmt, color_range."""
    info = h.ffprobe_json(path, "-show_entries", "stream=codec_name,width,height,pix_fmt,color_range")
    streams = info.get("streams") or []
    assert len(streams) == 1, f"{path}: ffprobe sees {len(streams)} streams"
    return streams[0]


@functools.lru_cache(maxsize=None)
def frame_times(src: str) -> tuple[float, ...]:
    """Presentation times of the source's video frames, in decoding (= presentation) order, from 0 =
    the first picture (the output timeline's origin)."""
    out = h.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                 "frame=best_effort_timestamp_time", "-of", "csv=p=0", src]).stdout.decode()
    times = [float(line.strip().rstrip(",")) for line in out.splitlines() if line.strip() and "N/A" not in line]
    assert times, f"{src}: ffprobe decoded no video frame"
    return tuple(t - times[0] for t in times)


def picture_at(times: tuple[float, ...], t: float) -> int:
    """Index of the first picture at or after `t` seconds (the last picture past the end)."""
    for i, x in enumerate(times):
        if x >= t - 1e-6:
            return i
    return len(times) - 1


def gray_frames(src: str, indices, w: int, hgt: int) -> dict[int, bytes]:
    """Source frames by index, upright (ffmpeg's autorotate), scaled to w x hgt, as full-range luma."""
    idx = sorted(set(indices))
    select = "+".join(f"eq(n\\,{i})" for i in idx)
    data = ffmpeg("-i", src, "-vf", f"select='{select}',scale={w}:{hgt}:flags=bicubic", "-fps_mode", "passthrough",
                  "-frames:v", str(len(idx)), "-f", "rawvideo", "-pix_fmt", "gray", "-")
    n = w * hgt
    assert len(data) == n * len(idx), f"{src}: ffmpeg gave {len(data)} bytes for frames {idx} at {w}x{hgt}"
    return {i: data[j * n:(j + 1) * n] for j, i in enumerate(idx)}


def gray_image(path: str) -> bytes:
    f = image_facts(path)
    data = ffmpeg("-i", path, "-f", "rawvideo", "-pix_fmt", "gray", "-")
    assert len(data) == f["width"] * f["height"], f"{path}: {len(data)} luma bytes for {f['width']}x{f['height']}"
    return data


def crop(data: bytes, width: int, x: int, y: int, w: int, hgt: int) -> bytes:
    return b"".join(data[(y + r) * width + x:(y + r) * width + x + w] for r in range(hgt))


def mad(a: bytes, b: bytes) -> float:
    assert len(a) == len(b), (len(a), len(b))
    return sum(abs(p - q) for p, q in zip(a, b)) / len(a)


def mean(a: bytes) -> float:
    return sum(a) / len(a)


def detail(luma: bytes, w: int, hgt: int) -> float:
    """The poster rule's score: mean absolute difference between horizontal and vertical
    neighbours; 0 for a flat picture (mean < 24 or > 235, or standard deviation < 6)."""
    n = w * hgt
    m = sum(luma) / n
    var = sum(v * v for v in luma) / n - m * m
    if m < 24 or m > 235 or var < 36:
        return 0.0
    horizontal = sum(sum(abs(a - b) for a, b in zip(luma[r * w:(r + 1) * w], luma[r * w + 1:(r + 1) * w]))
                     for r in range(hgt))
    vertical = sum(abs(a - b) for a, b in zip(luma, luma[w:]))
    return (horizontal + vertical) / ((w - 1) * hgt + w * (hgt - 1))


def yavg(path: str) -> float:
    out = h.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-vf", "signalstats,metadata=print:file=-",
                 "-f", "null", "-"]).stdout.decode()
    m = re.search(r"lavfi\.signalstats\.YAVG=([\d.]+)", out)
    assert m, f"{path}: no YAVG from signalstats:\n{out[:500]}"
    return float(m.group(1))


def ssim(image: str, src: str, index: int, w: int, hgt: int) -> float:
    """ffmpeg's SSIM (All) of a JPEG against source frame `index` scaled to its size (both full range)."""
    out = ffmpeg("-i", image, "-i", src, "-filter_complex",
                 f"[1:v]select='eq(n\\,{index})',setpts=PTS-STARTPTS,scale={w}:{hgt}:flags=bicubic,format=yuvj420p[r];"
                 f"[0:v]format=yuvj420p,setpts=PTS-STARTPTS[p];[p][r]ssim=stats_file=-",
                 "-frames:v", "1", "-f", "null", "-").decode()
    m = re.search(r"All:([\d.]+)", out)
    assert m, f"no SSIM for {image} against frame {index} of {src}:\n{out[:500]}"
    return float(m.group(1))


# ---------------------------------------------------------------------------
# the rule, from the source (not from hlsify's report)
# ---------------------------------------------------------------------------


@dataclass
class Expected:
    interval: float
    tile_width: int
    tile_height: int
    clamped: bool
    display: tuple[float, float]
    source_duration: float


def expected_layout(src: str) -> Expected:
    facts = source_facts(src)  # fixture_path() of an absolute path is that path
    assert facts.video, f"{src}: no video"
    duration = facts.duration
    interval = next((i for i in INTERVALS if math.ceil(duration / i) <= MAX_TILES), INTERVALS[-1])
    dw, dh = facts.video.display_size
    raw = math.floor(TILE_WIDTH * dh / dw / 2 + 0.5) * 2
    height = min(4 * TILE_WIDTH, max(2, raw))
    return Expected(interval, TILE_WIDTH, height, height != raw, (dw, dh), duration)


def tile_count(duration: float, interval: float) -> int:
    return max(1, math.ceil(duration / interval - 1e-9))


def placement(k: int, tw: int, th: int) -> tuple[int, int, int]:
    cell = k % TILES_PER_SHEET
    return k // TILES_PER_SHEET, cell % COLUMNS * tw, cell // COLUMNS * th


def sheet_size(sheet: int, tiles: int, tw: int, th: int) -> tuple[int, int]:
    on_sheet = max(0, min(TILES_PER_SHEET, tiles - sheet * TILES_PER_SHEET))
    return min(COLUMNS, tiles) * tw, math.ceil(on_sheet / COLUMNS) * th


def raw_leftovers(root: str) -> list[str]:
    return [f for f in h.list_tree(root) if RAW_FILE.search(f)]


def ms(seconds: float) -> int:
    return int(math.floor(seconds * 1000 + 0.5))


# ---------------------------------------------------------------------------
# the checks (shared by the matrix runs, the sources made here, --progressive and resumed runs)
# ---------------------------------------------------------------------------


def check_storyboard(out: str, report: dict, src: str, what: str) -> None:
    """(1) The files, the WebVTT track and the report agree with each other and with the rule."""
    exp = expected_layout(src)
    sb = report.get("storyboard")
    assert isinstance(sb, dict), f"{what}: report.storyboard is {sb!r}"
    duration = report["durationSeconds"]
    tiles = tile_count(duration, exp.interval)
    sheets = math.ceil(tiles / TILES_PER_SHEET)
    sheet_names = [f"storyboard-{s:03d}.jpg" for s in range(sheets)]
    want = {"vtt": "storyboard/storyboard.vtt", "intervalSeconds": exp.interval, "tiles": tiles,
            "tileWidth": exp.tile_width, "tileHeight": exp.tile_height, "columns": COLUMNS,
            "sheets": [f"storyboard/{n}" for n in sheet_names]}
    assert sb == want, (f"{what}: report.storyboard differs from the rule (source {exp.source_duration:.3f}s, display "
                        f"{exp.display[0]:g}x{exp.display[1]:g}, output {duration}s)\n got  {sb}\n want {want}")
    th, tw = exp.tile_height, exp.tile_width
    if not exp.clamped:
        dw, dh = exp.display
        assert abs(th - tw * dh / dw) <= 1.0, f"{what}: tile {tw}x{th} is not the display aspect {dw:g}x{dh:g}"

    folder = os.path.join(out, "storyboard")
    listing = sorted(os.listdir(folder))
    assert listing == sorted(sheet_names + ["storyboard.vtt"]), \
        f"{what}: storyboard/ holds {listing}, expected the sheets {sheet_names} and storyboard.vtt only"
    assert raw_leftovers(out) == [], f"{what}: raw tiles left in the output: {raw_leftovers(out)}"

    sizes = {}
    for s, name in enumerate(sheet_names):
        f = image_facts(os.path.join(folder, name))
        assert (f["codec_name"], f["pix_fmt"]) == ("mjpeg", "yuvj420p"), f"{what}: {name} is {f}"
        sizes[name] = (f["width"], f["height"])
        assert sizes[name] == sheet_size(s, tiles, tw, th), \
            f"{what}: {name} is {sizes[name]}, the rule gives {sheet_size(s, tiles, tw, th)} for {tiles} tiles of {tw}x{th}"

    vtt = read_vtt_file(os.path.join(folder, "storyboard.vtt"))
    cues = vtt.captions
    assert len(cues) == tiles, f"{what}: {len(cues)} cues for {tiles} tiles"
    end_ms = duration * 1000
    previous_end = 0
    for k, c in enumerate(cues):
        start, end = c.start_time.in_milliseconds(), c.end_time.in_milliseconds()
        assert start == previous_end, f"{what}: cue {k} starts at {c.start}, the previous ends at {previous_end} ms (gap or overlap)"
        assert start == ms(k * exp.interval), f"{what}: cue {k} starts at {c.start}, tile {k} at {k * exp.interval}s"
        if k < tiles - 1:
            assert end == ms((k + 1) * exp.interval), f"{what}: cue {k} ends at {c.end}"
        else:
            assert abs(end - end_ms) <= 1, f"{what}: the last cue ends at {c.end}, the report's duration is {duration}s"
        assert end > start, f"{what}: cue {k} is empty: {c.start} --> {c.end}"
        previous_end = end
        m = VTT_PAYLOAD.match(c.text.strip())
        assert m and "\n" not in c.text.strip(), f"{what}: cue {k} payload {c.text!r}"
        name, x, y, w, hh = m.group(1), *map(int, m.groups()[2:])
        assert name in sizes, f"{what}: cue {k} names {name}, not a sheet in storyboard/ ({sorted(sizes)})"
        sw, sh = sizes[name]
        assert x + w <= sw and y + hh <= sh and w > 0 and hh > 0, \
            f"{what}: cue {k} rectangle {x},{y},{w},{hh} is outside {name} ({sw}x{sh})"
        s, px, py = placement(k, tw, th)
        assert (name, x, y, w, hh) == (sheet_names[s], px, py, tw, th), \
            f"{what}: cue {k} payload {c.text!r}, the rule puts tile {k} on {sheet_names[s]} at {px},{py} ({tw}x{th})"


def check_tiles_show_their_time(out: str, report: dict, src: str, what: str, which: Optional[list[int]] = None) -> dict:
    """(2) Tile k shows the first source picture at or after k x interval: closer to it than to the
    frames just before and after it and to the pictures one interval away, and within MATCH_BAR.
    Returns the per-tile differences (for messages)."""
    sb = report["storyboard"]
    interval, tw, th, tiles = sb["intervalSeconds"], sb["tileWidth"], sb["tileHeight"], sb["tiles"]
    times = frame_times(src)
    last = len(times) - 1
    picture = lambda k: picture_at(times, k * interval)  # noqa: E731
    which = sorted({k for k in (which if which is not None else range(tiles)) if 0 <= k < tiles})
    rivals = {}
    for k in which:
        i = picture(k)
        others = {j for j in (i - 1, i + 1) if 0 <= j <= last}
        others |= {picture(j) for j in (k - 1, k + 1) if 0 <= j < tiles}
        rivals[k] = (i, sorted(others - {i}))
    refs = gray_frames(src, {i for i, o in rivals.values()} | {j for _, o in rivals.values() for j in o}, tw, th)
    sheets = {}
    found = {}
    for k, (i, others) in rivals.items():
        s, x, y = placement(k, tw, th)
        path = os.path.join(out, "storyboard", f"storyboard-{s:03d}.jpg")
        if path not in sheets:
            sheets[path] = gray_image(path)
        tile = crop(sheets[path], image_facts(path)["width"], x, y, tw, th)
        own = mad(tile, refs[i])
        against = {j: mad(tile, refs[j]) for j in others}
        found[k] = (i, own, against)
        label = (f"{what}: tile {k} (at {k * interval}s: source frame {i} at {times[i]:.3f}s) differs from it by "
                 f"{own:.2f}, from frames {', '.join(f'{j} ({times[j]:.3f}s): {d:.2f}' for j, d in against.items())}")
        assert all(own < d for d in against.values()), label + ": it shows another picture"
        assert own <= MATCH_BAR, label + f": above the bar {MATCH_BAR}"
        assert abs(mean(tile) - mean(refs[i])) <= MEAN_LUMA_BAR, \
            f"{label}: mean luma {mean(tile):.1f} against {mean(refs[i]):.1f} (range?)"
    return found


def check_poster(out: str, report: dict, src: str, what: str, choice: bool = True) -> dict:
    """(3) poster.jpg: at the top rendition's size (report and master), a JPEG in full range, not
    black, its time a picture's time inside [2%, 90%] of the source reached from a tile moment, the
    picture there (closer to it than to its neighbours and to the pictures one interval away) and,
    with `choice`, among the most detailed tile moments of the window (within 3%, the scores being
    taken from ffmpeg's scaling, not hlsify's)."""
    p = report.get("poster")
    assert isinstance(p, dict), f"{what}: report.poster is {p!r}"
    assert set(p) == {"file", "width", "height", "timeSeconds"} and p["file"] == "poster.jpg", f"{what}: {p}"
    path = os.path.join(out, "poster.jpg")
    assert os.path.isfile(path), f"{what}: no poster.jpg: {h.list_tree(out)}"
    top = report["renditions"][0]
    hls = h.load_hls_set(os.path.join(out, "master.m3u8"))
    largest = max((v.resolution for v in hls.variants), key=lambda r: r[0] * r[1])
    f = image_facts(path)
    assert (f["width"], f["height"]) == (p["width"], p["height"]) == (top["width"], top["height"]) == tuple(largest), \
        f"{what}: poster.jpg is {f['width']}x{f['height']}, report.poster {p['width']}x{p['height']}, the top rendition " \
        f"{top['width']}x{top['height']}, the master's largest RESOLUTION {largest}"
    assert (f["codec_name"], f["pix_fmt"]) == ("mjpeg", "yuvj420p"), f"{what}: poster.jpg is {f}"

    exp = expected_layout(src)
    d = exp.source_duration
    t = p["timeSeconds"]
    lo, hi = POSTER_WINDOW[0] * d, POSTER_WINDOW[1] * d
    assert lo - 1e-6 <= t <= hi + 1e-6, f"{what}: poster at {t}s, outside [{lo:.3f}, {hi:.3f}] (2%-90% of {d:.3f}s)"
    times = frame_times(src)
    i = picture_at(times, t)
    assert abs(times[i] - t) <= 0.001, f"{what}: poster time {t}s is no picture's time (nearest after: {times[i]:.3f}s)"
    interval = exp.interval
    moments = [k for k in range(tile_count(report["durationSeconds"], interval))
               if lo - 1e-6 <= times[picture_at(times, k * interval)] <= hi + 1e-6]
    assert any(picture_at(times, k * interval) == i for k in moments), \
        f"{what}: poster frame {i} ({t}s) is not the picture of a tile moment (interval {interval}s)"
    level = yavg(path)
    assert 24 <= level <= 235, f"{what}: poster.jpg is nearly black or white: YAVG {level:.1f}"

    w, hgt = f["width"], f["height"]
    neighbours = {j for j in (i - 1, i + 1) if 0 <= j < len(times)}
    neighbours |= {picture_at(times, t + s * interval) for s in (-1, 1)}
    neighbours.discard(i)
    refs = gray_frames(src, neighbours | {i}, w, hgt)
    poster = gray_image(path)
    own = mad(poster, refs[i])
    against = {j: mad(poster, refs[j]) for j in sorted(neighbours)}
    label = (f"{what}: poster.jpg (at {t}s, frame {i}) differs from that frame by {own:.2f}, from frames "
             + ", ".join(f"{j} ({times[j]:.3f}s): {v:.2f}" for j, v in against.items()))
    assert all(own < v for v in against.values()), label + ": it shows another picture"
    assert own <= MATCH_BAR, label + f": above the bar {MATCH_BAR}"

    scores = {}
    if choice:
        tw, th = TILE_WIDTH, exp.tile_height
        by_index = {picture_at(times, k * interval): k for k in moments}
        small = gray_frames(src, by_index, tw, th)
        scores = {j: detail(small[j], tw, th) for j in by_index}
        best = max(scores.values())
        assert scores[i] >= 0.97 * best, (
            f"{what}: poster frame {i} ({t}s) scores {scores[i]:.2f}, the best tile moment in the window scores {best:.2f}: "
            + ", ".join(f"{times[j]:.2f}s: {s:.2f}" for j, s in sorted(scores.items())))
    return scores


# ---------------------------------------------------------------------------
# (1)-(3) the matrix transcodes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", PICTURE_CASES, ids=PICTURE_IDS, indirect=True)
def test_storyboard_files_cues_and_report(case):
    case.require_success()
    check_storyboard(case.out, case.report, fixture_path(case.fixture.name), case.id)
    assert os.listdir(case.parent) == [os.path.basename(case.out)], \
        f"{case.id}: beside the output: {os.listdir(case.parent)}"


@pytest.mark.parametrize("case", PICTURE_CASES, ids=PICTURE_IDS, indirect=True)
def test_tiles_show_the_picture_at_their_time(case):
    case.require_success()
    check_tiles_show_their_time(case.out, case.report, fixture_path(case.fixture.name), case.id)


@pytest.mark.parametrize("case", PICTURE_CASES, ids=PICTURE_IDS, indirect=True)
def test_poster_size_time_and_picture(case):
    case.require_success()
    check_poster(case.out, case.report, fixture_path(case.fixture.name), case.id)


# ---------------------------------------------------------------------------
# (4) sources made here: the interval steps, several sheets, a clamped tile, sparse pictures
# ---------------------------------------------------------------------------

# name: (size, rate, seconds, tiles to look at (None: all)). testsrc2 changes every frame.
SYNTHETIC = {
    # ceil(300/1) = 300 tiles: the last duration a 1 s interval covers; three full sheets.
    "300s": ("320x180", "1", 300, [0, 1, 99, 100, 199, 200, 299]),
    # 302 s, a picture every 2 s: 2 s tiles, 151 of them; the second sheet has 51 (6 rows, the
    # last partial).
    "302s": ("320x180", "1/2", 302, [0, 1, 75, 99, 100, 149, 150]),
    # 1205 s, a picture every 5 s: 5 s tiles, 241; the third sheet has 41 (5 rows).
    "1205s": ("320x180", "1/5", 1205, [0, 1, 120, 199, 200, 239, 240]),
    # A picture every 2 s, 1 s tiles: tile 1 shows the picture at 2 s, tile 9 (after the last
    # picture, at 8 s) shows the last one; one sheet of 10 columns.
    "sparse": ("320x180", "1/2", 10, None),
    # 64x360: 160 x 900 by the aspect, clamped to 160 x 640.
    "tall": ("64x360", "5", 3, None),
    # Video starting 1.5 s after the audio (the container: 7.5 s): tiles count from the first
    # picture, the interval from the container's duration.
    "late-video": ("320x180", "10", 6, None),
}
VIDEO_OFFSET = {"late-video": 1.5}


@pytest.fixture(scope="module", params=list(SYNTHETIC))
def synthetic(request, tmp_path_factory):
    name = request.param
    size, rate, seconds, which = SYNTHETIC[name]
    folder = tmp_path_factory.mktemp(f"pictures-{name}")
    src = str(folder / f"{name}.mp4")
    gop = max(1, round(Fraction(rate) * 2))
    video = str(folder / "video.mp4") if name in VIDEO_OFFSET else src
    ffmpeg("-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
           "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-pix_fmt", "yuv420p", "-g", str(gop), video)
    if name in VIDEO_OFFSET:
        offset = VIDEO_OFFSET[name]
        ffmpeg("-y", "-itsoffset", str(offset), "-i", video, "-f", "lavfi", "-i", f"sine=duration={seconds + offset}",
               "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", src)
    out = str(folder / "out")
    res = run_hlsify(src, "--out", out, "--json", "--quiet", "--preset", "ultrafast")
    assert res.returncode == 0, res.describe()
    return name, src, out, json.loads(res.stdout), which


def test_storyboard_rule_on_long_and_odd_sources(synthetic):
    name, src, out, report, which = synthetic
    check_storyboard(out, report, src, name)
    found = check_tiles_show_their_time(out, report, src, name, which)
    check_poster(out, report, src, name, choice=False)
    if name == "sparse":  # the rule's two edges, spelled out
        assert [found[k][0] for k in (0, 1, 2, 8, 9)] == [0, 1, 1, 4, 4], \
            "sparse: tiles 0, 1, 2, 8, 9 should show frames 0, 1 (the next picture, at 2 s), 1, 4 (8 s) and 4 " \
            f"(after the last picture): {found}"


# ---------------------------------------------------------------------------
# (5) poster fixtures made here
# ---------------------------------------------------------------------------

POSTER_SECONDS = 20
CHECKER = "color=c=black:s=640x360:r=10:d=20,geq=lum='if(mod(floor(X/8)+floor(Y/8),2),235,16)':cb=128:cr=128"


def make_poster_source(path: str, base: str, detail_from: float, detail_to: float, decoys: bool) -> None:
    """640x360 10 fps, 20 s: a flat `base` picture, testsrc2 in [detail_from, detail_to), and with
    `decoys` a fine checkerboard (far more detail than testsrc2) in [0, 1) and [19, 20): outside
    the 2%-90% window (0.4 s - 18 s), so the poster must not take it."""
    inputs = ["-f", "lavfi", "-i", f"color=c={base}:s=640x360:r=10:d={POSTER_SECONDS}",
              "-f", "lavfi", "-i", f"testsrc2=s=640x360:r=10:d={POSTER_SECONDS}"]
    graph = f"[0:v][1:v]overlay=enable='between(t,{detail_from},{detail_to - 0.05})'[a]"
    if decoys:
        inputs += ["-f", "lavfi", "-i", CHECKER]
        graph += ";[a][2:v]overlay=enable='lt(t,1)+gte(t,19)'[v]"
    else:
        graph += ";[a]null[v]"
    ffmpeg("-y", *inputs, "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast",
           "-crf", "18", "-g", "10", "-pix_fmt", "yuv420p", path)


POSTER_SOURCES = {
    # name: (base, testsrc2 from, to, decoys)
    "gray-detail-in-the-middle": ("gray", 8, 12, True),
    "black-at-start-and-end": ("black", 3, 17, False),
}


@pytest.fixture(scope="module", params=list(POSTER_SOURCES))
def poster_source(request, tmp_path_factory):
    name = request.param
    base, a, b, decoys = POSTER_SOURCES[name]
    folder = tmp_path_factory.mktemp(f"poster-{name}")
    src = str(folder / f"{name}.mp4")
    make_poster_source(src, base, a, b, decoys)
    out = str(folder / "out")
    res = run_hlsify(src, "--out", out, "--json", "--quiet", "--preset", "ultrafast")
    assert res.returncode == 0, res.describe()
    return name, src, out, json.loads(res.stdout), (a, b, decoys)


def test_poster_is_the_detailed_picture_in_the_window(poster_source):
    name, src, out, report, (a, b, decoys) = poster_source
    scores = check_poster(out, report, src, name)
    t = report["poster"]["timeSeconds"]
    times = frame_times(src)
    if decoys:  # the fixture does what it says: the checkerboard outscores testsrc2, outside the window
        outside = gray_frames(src, [0, len(times) - 1], TILE_WIDTH, 90)
        assert min(detail(v, TILE_WIDTH, 90) for v in outside.values()) > 1.5 * max(scores.values()), \
            f"{name}: the decoys are not more detailed than testsrc2 ({scores})"
    assert a <= t < b, f"{name}: poster at {t}s, outside the detailed section [{a}, {b}) s"
    i = picture_at(times, t)
    w, hgt = report["poster"]["width"], report["poster"]["height"]
    own = ssim(os.path.join(out, "poster.jpg"), src, i, w, hgt)
    others = {j: ssim(os.path.join(out, "poster.jpg"), src, j, w, hgt)
              for j in {picture_at(times, t - 1), picture_at(times, t + 1)} - {i}}
    assert own >= POSTER_SSIM_BAR and all(own > v for v in others.values()), \
        f"{name}: poster.jpg SSIM {own:.4f} against frame {i} ({t}s); against frames {others}"
    assert not raw_leftovers(out), raw_leftovers(out)


# ---------------------------------------------------------------------------
# (6) --no-storyboard, --no-poster; an audio-only source
# ---------------------------------------------------------------------------

FLAG_SETS = {"no-storyboard": ["--no-storyboard"], "no-poster": ["--no-poster"],
             "neither": ["--no-storyboard", "--no-poster"]}
_BANDWIDTH = re.compile(r"(AVERAGE-)?BANDWIDTH=\d+")


def picture_files(files: list[str]) -> list[str]:
    return [f for f in files if f == "poster.jpg" or f == "storyboard" or f.startswith("storyboard/")]


@pytest.mark.parametrize("case", [SMALL], ids=["small-320x180-fmp4"], indirect=True)
@pytest.mark.parametrize("flags", list(FLAG_SETS))
def test_turning_pictures_off(case, tmp_path_factory, flags):
    case.require_success()
    t = transcode(tmp_path_factory, case.fixture, case.fmt, "--segment-duration", str(SEGMENT_DURATION),
                  "--preset", MATRIX_PRESET, *FLAG_SETS[flags])
    t.require_success()
    r, ref = t.report, case.report
    no_storyboard, no_poster = "--no-storyboard" in FLAG_SETS[flags], "--no-poster" in FLAG_SETS[flags]
    files, ref_files = h.list_tree(t.out), h.list_tree(case.out)
    dropped = [f for f in picture_files(ref_files)
               if (no_storyboard and f.startswith("storyboard")) or (no_poster and f == "poster.jpg")]
    assert files == [f for f in ref_files if f not in dropped], \
        f"{flags}: files differ from a default run's without {dropped}: extra {sorted(set(files) - set(ref_files))}, " \
        f"missing {sorted(set(ref_files) - set(files) - set(dropped))}"
    assert set(r) == set(ref), f"{flags}: report keys {sorted(set(r) ^ set(ref))} differ from a default run's"
    assert "storyboard" in r and "poster" in r, f"{flags}: the report lacks the fields (should be null): {sorted(r)}"
    shape = lambda x: [(v["name"], v["width"], v["height"], v["segments"], v["playlist"]) for v in x["renditions"]]  # noqa: E731
    assert shape(r) == shape(ref), f"{flags}: renditions {shape(r)}, a default run has {shape(ref)}"
    assert _BANDWIDTH.sub("", t.hls.master_text) == _BANDWIDTH.sub("", case.hls.master_text), \
        f"{flags}: master differs beyond bandwidths:\n{t.hls.master_text}\n{case.hls.master_text}"
    if no_storyboard:
        assert r["storyboard"] is None, f"{flags}: report.storyboard {r['storyboard']}"
    else:
        assert r["storyboard"] == ref["storyboard"], f"{flags}: report.storyboard {r['storyboard']} vs {ref['storyboard']}"
        names = sorted(os.listdir(os.path.join(case.out, "storyboard")))
        _, mismatch, errors = filecmp.cmpfiles(os.path.join(t.out, "storyboard"), os.path.join(case.out, "storyboard"),
                                               names, shallow=False)
        assert not mismatch and not errors, f"{flags}: storyboard files differ from a default run's: {mismatch + errors}"
    if no_poster:
        assert r["poster"] is None, f"{flags}: report.poster {r['poster']}"
    else:
        assert r["poster"] == ref["poster"], f"{flags}: report.poster {r['poster']} vs {ref['poster']}"
        assert filecmp.cmp(os.path.join(t.out, "poster.jpg"), os.path.join(case.out, "poster.jpg"), shallow=False), \
            f"{flags}: poster.jpg differs from a default run's"
    assert raw_leftovers(t.out) == [], raw_leftovers(t.out)
    assert os.listdir(t.parent) == ["out"], f"{flags}: beside the output: {os.listdir(t.parent)}"


def test_audio_only_source_has_neither(tmp_path):
    out = str(tmp_path / "out")
    res = run_hlsify(fixture_path("audio-only.m4a"), "--out", out, "--json", "--quiet")
    assert res.returncode == 0, res.describe()
    r = json.loads(res.stdout)
    assert "storyboard" in r and "poster" in r, f"the report lacks the fields (should be null): {sorted(r)}"
    assert r["storyboard"] is None and r["poster"] is None, f"storyboard {r['storyboard']}, poster {r['poster']}"
    files = h.list_tree(out)
    assert picture_files(files) == [], f"an audio-only set with pictures: {picture_files(files)}"
    assert raw_leftovers(out) == [], raw_leftovers(out)


# ---------------------------------------------------------------------------
# (7) --progressive
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", [SMALL], ids=["small-320x180-fmp4"], indirect=True)
def test_progressive_run_ends_with_storyboard_and_poster(case, tmp_path_factory):
    case.require_success()
    t = transcode(tmp_path_factory, case.fixture, case.fmt, "--segment-duration", str(SEGMENT_DURATION),
                  "--preset", MATRIX_PRESET, "--progressive")
    t.require_success()
    src = fixture_path(case.fixture.name)
    check_storyboard(t.out, t.report, src, "--progressive")
    check_tiles_show_their_time(t.out, t.report, src, "--progressive")
    check_poster(t.out, t.report, src, "--progressive")
    assert raw_leftovers(t.out) == [] and os.listdir(t.parent) == ["out"], \
        f"--progressive: left {raw_leftovers(t.out)}, beside the output {os.listdir(t.parent)}"
    assert (t.report["storyboard"], t.report["poster"]) == (case.report["storyboard"], case.report["poster"])
    for f in ["storyboard/storyboard.vtt", *case.report["storyboard"]["sheets"], "poster.jpg"]:
        assert filecmp.cmp(os.path.join(t.out, f), os.path.join(case.out, f), shallow=False), \
            f"--progressive: {f} differs from a staged run's"


# ---------------------------------------------------------------------------
# (8) a run killed at a commit and resumed
# ---------------------------------------------------------------------------

RESUME_SECONDS = 16
RESUME_FPS = 15
RESUME_ARGS = ["--segment-duration", str(SEGMENT_DURATION), "--preset", "superfast"]


def make_resume_source(path: str) -> None:
    """16 s of 320x180 testsrc2 at 15 fps with a tone, a keyframe every 2 s; at 1.0-1.4 s a
    checkerboard covers the left half of the picture (testsrc2 still moves on the right): the most
    detailed tile moment of the window (0.32-14.4 s), so the poster is at 1 s, before the pre-roll
    of a resume from late in the run."""
    checker = "color=c=black:s=160x180:r=15:d=16,geq=lum='if(mod(floor(X/16)+floor(Y/16),2),190,60)':cb=128:cr=128"
    ffmpeg("-y", "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={RESUME_FPS}:duration={RESUME_SECONDS}",
           "-f", "lavfi", "-i", checker, "-f", "lavfi", "-i", f"sine=frequency=440:duration={RESUME_SECONDS}",
           "-filter_complex", "[0:v][1:v]overlay=enable='between(t,1,1.4)'[v]", "-map", "[v]", "-map", "2:a",
           "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-pix_fmt", "yuv420p",
           "-g", str(2 * RESUME_FPS), "-keyint_min", str(2 * RESUME_FPS), "-sc_threshold", "0", "-c:a", "aac", path)


def hlsify_run(src: str, out: str, *extra: str, kill_at: Optional[str] = None):
    with pytest.MonkeyPatch.context() as mp:
        if kill_at:
            mp.setenv(KILL_ENV, kill_at)
        else:
            mp.delenv(KILL_ENV, raising=False)
        return run_hlsify(src, "--out", out, "--json", "--quiet", *RESUME_ARGS, *extra)


def resumed_run(folder, src: str, counts: list[int], *dead_flags: str):
    """Kills a run at the first count of `counts` it reaches (HLSIFY_TEST_KILL_AT=segment-committed:N,
    counted over the journal's commits), then runs it again without the kill point. Returns
    (killed at, the resumed run, its report)."""
    for n in counts:
        parent = folder / f"kill-{n}"
        parent.mkdir()
        out = str(parent / "out")
        dead = hlsify_run(src, out, *dead_flags, kill_at=f"segment-committed:{n}")
        if dead.returncode == KILLED:
            assert not os.path.exists(out), "a killed run published its output"
            res = hlsify_run(src, out)
            assert res.returncode == 0, res.describe()
            return n, out, res, json.loads(res.stdout)
        assert dead.returncode == 0, dead.describe()
    pytest.fail(f"no run died at segment-committed:{counts}")


@pytest.fixture(scope="module")
def resume_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures-resume")
    src = str(folder / "lecture.mp4")
    make_resume_source(src)
    ref_out = str(folder / "reference" / "out")
    ref = hlsify_run(src, ref_out)
    assert ref.returncode == 0, ref.describe()
    ref_report = json.loads(ref.stdout)
    segments = sum(len(pl.segments) for pl in h.load_hls_set(os.path.join(ref_out, "master.m3u8")).media_playlists())
    tiles = ref_report["storyboard"]["tiles"]
    # Late in the run: 3 commits before the end, whether storyboard tiles count as journal commits
    # (they do now) or not.
    n, out, res, report = resumed_run(folder, src, [segments + tiles - 3, segments - 3])
    return src, ref_out, ref_report, segments, n, out, res, report


def _resume_preconditions(report, res, what):
    m = RESUMING.search(res.stderr)
    assert m and report["resume"]["resumed"], f"{what}: did not resume\n{res.describe()}"
    first_decoded = report["resume"]["fromSegment"] * SEGMENT_DURATION - report["resume"]["preRollSeconds"]
    assert first_decoded > 1.5, \
        f"{what}: the resumed run decoded from {first_decoded}s: too early to test the kept tiles ({report['resume']})"


def test_resumed_run_has_the_uninterrupted_runs_storyboard(resume_runs):
    src, ref_out, ref_report, _, n, out, res, report = resume_runs
    what = f"resumed after a kill at segment-committed:{n}"
    _resume_preconditions(report, res, what)
    check_storyboard(out, report, src, what)
    check_tiles_show_their_time(out, report, src, what)
    assert report["storyboard"] == ref_report["storyboard"], \
        f"{what}: report.storyboard {report['storyboard']}, uninterrupted {ref_report['storyboard']}"
    for f in ["storyboard/storyboard.vtt", *ref_report["storyboard"]["sheets"]]:
        assert filecmp.cmp(os.path.join(out, f), os.path.join(ref_out, f), shallow=False), \
            f"{what}: {f} differs from the uninterrupted run's"
    assert not [w for w in report["warnings"] if "storyboard" in w], f"{what}: warnings {report['warnings']}"
    assert raw_leftovers(out) == [] and os.listdir(os.path.dirname(out)) == ["out"], \
        f"{what}: left {raw_leftovers(out)}, beside the output {os.listdir(os.path.dirname(out))}"
    assert os.path.isfile(os.path.join(out, "poster.jpg")) and report["poster"], f"{what}: no poster"


def test_resumed_run_picks_its_poster_from_what_it_decodes(resume_runs):
    """A resumed run chooses its poster among the pictures it decodes (README: poster candidates
    are not journaled), so it is a good picture of that part, not necessarily the uninterrupted
    run's: here the most detailed moment (1 s) lies before the pre-roll, and the resumed run's
    poster comes later, a valid poster all the same."""
    src, ref_out, ref_report, _, n, out, res, report = resume_runs
    what = f"resumed after a kill at segment-committed:{n}"
    _resume_preconditions(report, res, what)
    assert ref_report["poster"]["timeSeconds"] == 1, \
        f"the uninterrupted run's poster is at {ref_report['poster']['timeSeconds']}s, not at the checkerboard (1 s)"
    check_poster(out, report, src, what, choice=False)
    assert report["poster"]["timeSeconds"] > 1, \
        f"{what}: report.poster {report['poster']}: a moment the resumed run did not decode"


def test_resume_report_counts_segment_files_only(resume_runs):
    """report.resume and the 'resuming' line count segment files (README: every rendition's), not
    storyboard tiles: the video renditions alone encode again every segment from fromSegment on."""
    src, ref_out, ref_report, segments, n, out, res, report = resume_runs
    r = report["resume"]
    hls = h.load_hls_set(os.path.join(out, "master.m3u8"))
    video_after = sum(max(0, len(v.playlist.segments) - r["fromSegment"]) for v in hls.variants)
    kept = int(RESUMING.search(res.stderr).group(2))
    assert r["segmentsEncoded"] >= video_after and r["segmentsReused"] + r["segmentsEncoded"] >= segments \
        and r["segmentsReused"] <= segments - video_after and kept == r["segmentsReused"], \
        f"report.resume {r}, stderr says {kept} kept: the {len(hls.variants)} video renditions alone have " \
        f"{video_after} segments from segment {r['fromSegment']} on, of {segments} segments in all"


def test_resume_of_a_run_without_storyboard_makes_a_whole_one(resume_runs, tmp_path):
    """A dead run made with --no-storyboard left no tiles; the next run (default options) must still
    give every tile its own picture: decode what it needs, or not resume that run."""
    src, ref_out, ref_report, segments, *_ = resume_runs
    n, out, res, report = resumed_run(tmp_path, src, [segments - 3], "--no-storyboard")
    what = f"default run after a --no-storyboard run killed at segment-committed:{n}"
    check_storyboard(out, report, src, what)
    check_tiles_show_their_time(out, report, src, what)
    assert not [w for w in report["warnings"] if "storyboard" in w], f"{what}: warnings {report['warnings']}"
    assert raw_leftovers(out) == [], raw_leftovers(out)
