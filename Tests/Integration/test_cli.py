"""The command line's contract: exit codes, stderr, refusing and replacing output,
nothing half-written after a failure or Ctrl-C, and the options that shape the ladder."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import pytest

import hlscheck as h
from conftest import (VIDEO_FIXTURES, fixture_path, hlsify_bin, run_hlsify, transcode)

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_CANTCREAT = 64, 65, 66, 73

SMALL = next(f for f in VIDEO_FIXTURES if f.name == "small-320x180.mp4")
LANDSCAPE_720 = next(f for f in VIDEO_FIXTURES if f.name == "landscape-720p.mp4")
LANDSCAPE_1080 = next(f for f in VIDEO_FIXTURES if f.name == "landscape-1080p.mp4")


@pytest.fixture
def parent(tmp_path):
    """An empty folder to put --out in: whatever is left in it afterwards was left by hlsify."""
    p = tmp_path / "work"
    p.mkdir()
    return p


def assert_one_line(res, code):
    assert res.returncode == code, f"expected exit {code}\n{res.describe()}"
    assert len(res.stderr_lines) == 1, f"expected one line on stderr, got {len(res.stderr_lines)}\n{res.describe()}"
    assert res.stdout.strip() == "", f"nothing expected on stdout\n{res.describe()}"


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


def test_missing_input_is_66(parent, tmp_path):
    res = run_hlsify(str(tmp_path / "no-such-lecture.mp4"), "--out", str(parent / "out"))
    assert_one_line(res, EX_NOINPUT)
    assert os.listdir(parent) == [], f"left behind: {os.listdir(parent)}"


@pytest.mark.parametrize("name", ["not-media.mp4", "subtitles-only.mp4", "empty.mp4"])
@pytest.mark.parametrize("fmt", ["fmp4", "ts"])
def test_not_media_or_no_audio_or_video_is_65_and_leaves_nothing(parent, tmp_path, name, fmt):
    if name == "empty.mp4":
        src = tmp_path / name
        src.write_bytes(b"")
    elif name == "subtitles-only.mp4":
        srt = tmp_path / "notes.srt"
        srt.write_text("1\n00:00:00,000 --> 00:00:02,000\nOnly words here\n")
        src = tmp_path / name
        h.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(srt), "-c:s", "mov_text", str(src)])
    else:
        src = fixture_path(name)
    res = run_hlsify(str(src), "--out", str(parent / "out"), "--segment-format", fmt)
    assert_one_line(res, EX_DATAERR)
    assert os.listdir(parent) == [], f"left behind: {os.listdir(parent)}"


# The engine's cap on subtitle files (InputLimits.defaultMaxSubtitleBytes, 10 MiB).
SUBTITLE_CAP = 10 * 1024 * 1024


def oversized_srt(folder) -> str:
    """A sparse file one byte over the cap: made instantly, and no disk used."""
    path = folder / "big.srt"
    with open(path, "wb") as f:
        f.truncate(SUBTITLE_CAP + 1)
    return str(path)


@pytest.mark.parametrize("mode", ["fresh", "progressive-force-over-existing"])
def test_oversized_srt_is_65_naming_file_and_limit_and_leaves_nothing(parent, tmp_path, mode):
    """A subtitle file over the cap is bad input: one line naming the file and the limit, exit
    65, no output and no staging folder; a progressive --force run keeps the existing output."""
    big = oversized_srt(tmp_path)
    out = parent / "out"
    extra = []
    if mode != "fresh":
        out.mkdir()
        (out / "keep.txt").write_text("earlier output")
        extra = ["--progressive", "--force"]
    res = run_hlsify(fixture_path(SMALL.name), "--out", str(out), "--preset", "ultrafast", "--quiet",
                     "--subtitles", f"en={big}", *extra, timeout=60)
    assert_one_line(res, EX_DATAERR)
    line = res.stderr_lines[0]
    assert big in line and str(SUBTITLE_CAP) in line and "10 MiB" in line, res.describe()
    if mode == "fresh":
        assert os.listdir(parent) == [], f"left behind: {os.listdir(parent)}"
    else:
        assert os.listdir(parent) == ["out"], f"left behind: {os.listdir(parent)}"
        assert os.listdir(out) == ["keep.txt"], f"the existing output was touched: {os.listdir(out)}"


def test_subtitles_command_refuses_an_oversized_srt_with_65(tmp_path):
    big = oversized_srt(tmp_path)
    vtt = tmp_path / "out.vtt"
    for extra in ([], ["-o", str(vtt)]):
        res = run_hlsify("subtitles", big, *extra, timeout=60)
        assert_one_line(res, EX_DATAERR)
        assert big in res.stderr_lines[0] and str(SUBTITLE_CAP) in res.stderr_lines[0], res.describe()
        assert not vtt.exists(), "a WebVTT file was written for a refused input"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("command", ["transcode", "subtitles"])
def test_a_fifo_as_the_srt_is_refused_without_hanging(parent, tmp_path, command):
    """Nothing ever writes to the FIFO: an hlsify that opened or read it blocking would wait
    forever (run_hlsify's timeout then fails the test)."""
    fifo = tmp_path / "live.srt"
    os.mkfifo(fifo)
    if command == "transcode":
        args = [fixture_path(SMALL.name), "--out", str(parent / "out"), "--quiet", "--subtitles", f"en={fifo}"]
    else:
        args = ["subtitles", str(fifo)]
    res = run_hlsify(*args, timeout=60)
    assert_one_line(res, EX_DATAERR)
    assert str(fifo) in res.stderr_lines[0] and "not a regular" in res.stderr_lines[0], res.describe()
    assert os.listdir(parent) == [], f"left behind: {os.listdir(parent)}"


# ---------------------------------------------------------------------------
# usage
# ---------------------------------------------------------------------------

USAGE_CASES = {
    "no-arguments": [],
    "no-out": ["{IN}"],
    "unknown-option": ["{IN}", "--out", "{OUT}", "--no-such-option"],
    "segment-format": ["{IN}", "--out", "{OUT}", "--segment-format", "mkv"],
    "segment-duration-zero": ["{IN}", "--out", "{OUT}", "--segment-duration", "0"],
    "segment-duration-negative": ["{IN}", "--out", "{OUT}", "--segment-duration", "-2"],
    "segment-duration-text": ["{IN}", "--out", "{OUT}", "--segment-duration", "four"],
    "ladder-garbage": ["{IN}", "--out", "{OUT}", "--ladder", "big,small"],
    "ladder-bad-bitrate": ["{IN}", "--out", "{OUT}", "--ladder", "720p@fast"],
    "preset-unknown": ["{IN}", "--out", "{OUT}", "--preset", "warpspeed"],
    "encoder-threads-zero": ["{IN}", "--out", "{OUT}", "--encoder-threads", "0"],
    "encoder-threads-huge": ["{IN}", "--out", "{OUT}", "--encoder-threads", "1000"],
}


@pytest.mark.parametrize("args", list(USAGE_CASES.values()), ids=list(USAGE_CASES))
def test_usage_errors_are_64(parent, args):
    out = str(parent / "out")
    argv = [a.replace("{IN}", fixture_path(SMALL.name)).replace("{OUT}", out) for a in args]
    res = run_hlsify(*argv)
    assert res.returncode == EX_USAGE, res.describe()
    assert res.stderr.strip(), "a usage error should say what is wrong on stderr"
    assert os.listdir(parent) == [], f"left behind: {os.listdir(parent)}"


def test_encoder_threads_reach_x264(parent):
    """x264 writes its settings into an SEI of the first keyframe: the thread count asked for is there."""
    out = parent / "out"
    res = run_hlsify(fixture_path(SMALL.name), "--out", str(out), "--encoder-threads", "3")
    assert res.returncode == 0, res.describe()
    variants = h.load_hls_set(str(out / "master.m3u8")).variants
    assert variants
    for variant in variants:
        with open(variant.playlist.segments[0].path, "rb") as f:
            first = f.read()
        settings = re.search(rb"x264 - core \d+.*? threads=(\d+) ", first, re.S)
        assert settings, f"{variant.uri}: no x264 settings SEI in the first segment"
        assert settings.group(1) == b"3", f"{variant.uri}: x264 ran with threads={settings.group(1).decode()}"


# ---------------------------------------------------------------------------
# output folder: refused, replaced, not creatable
# ---------------------------------------------------------------------------


def test_existing_output_is_refused_with_73(parent):
    out = parent / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    res = run_hlsify(fixture_path(SMALL.name), "--out", str(out), "--preset", "ultrafast")
    assert_one_line(res, EX_CANTCREAT)
    assert os.listdir(out) == ["keep.txt"] and (out / "keep.txt").read_text() == "mine", "existing output was touched"
    assert os.listdir(parent) == ["out"], f"left behind: {os.listdir(parent)}"


def test_force_replaces_existing_output(parent):
    out = parent / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    res = run_hlsify(fixture_path(SMALL.name), "--out", str(out), "--force", "--preset", "ultrafast", "--quiet")
    assert res.returncode == 0, res.describe()
    assert not (out / "old.txt").exists(), "--force kept the old folder's files"
    assert (out / "master.m3u8").is_file()
    assert os.listdir(parent) == ["out"], f"left behind: {os.listdir(parent)}"


def test_output_that_cannot_be_created_is_73(parent):
    blocker = parent / "a-file"
    blocker.write_text("not a folder")
    res = run_hlsify(fixture_path(SMALL.name), "--out", str(blocker / "out"), "--preset", "ultrafast")
    assert_one_line(res, EX_CANTCREAT)
    assert os.listdir(parent) == ["a-file"], f"left behind: {os.listdir(parent)}"


# 250 bytes each: with the old '.NAME.hlsify-staging-PID-RANDOM' the staging name passed 255.
LONG_NAMES = {"ascii": "l" * 250, "multibyte": "é" * 125, "mixed": "lecture-" + "講" * 80 + "x" * 2}


@pytest.mark.parametrize("kind", list(LONG_NAMES))
def test_an_output_name_near_name_max_works_also_with_force(parent, kind):
    name = LONG_NAMES[kind]
    assert len(name.encode()) == 250
    out = parent / name
    for extra in ([], ["--force"], ["--force", "--progressive"]):
        res = run_hlsify(fixture_path(SMALL.name), "--out", str(out), "--preset", "ultrafast", "--quiet", *extra)
        assert res.returncode == 0, f"{extra}\n{res.describe()}"
        assert (out / "master.m3u8").is_file(), extra
        assert os.listdir(parent) == [name], f"{extra}: left behind: {[n for n in os.listdir(parent) if n != name]}"


def test_an_output_name_over_name_max_is_73_before_any_work(parent):
    out = parent / ("l" * 256)
    res = run_hlsify(fixture_path(SMALL.name), "--out", str(out), "--preset", "ultrafast")
    assert_one_line(res, EX_CANTCREAT)
    assert "limit of 255" in res.stderr_lines[0], res.describe()
    assert os.listdir(parent) == [], f"left behind: {os.listdir(parent)}"


def test_ctrl_c_leaves_nothing_half_written(parent, tmp_path):
    """Interrupting a transcode (SIGINT to the process group, as a terminal's Ctrl-C does)
    stops it promptly and leaves neither --out nor a staging folder."""
    binary = hlsify_bin()
    src = tmp_path / "long.mp4"
    h.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=60",
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=60",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", str(src)],
          timeout=300)
    out = parent / "out"
    proc = subprocess.Popen([binary, str(src), "--out", str(out), "--preset", "medium"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        time.sleep(2.5)
        assert proc.poll() is None, f"hlsify finished ({proc.returncode}) before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)
        t0 = time.monotonic()
        try:
            stdout, stderr = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("hlsify still running 20 s after Ctrl-C")
        stopped_after = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0, "an interrupted transcode must not report success"
    assert stopped_after < 10, f"took {stopped_after:.1f}s to stop after Ctrl-C"
    assert os.listdir(parent) == [], f"left behind after Ctrl-C: {os.listdir(parent)}"


# ---------------------------------------------------------------------------
# stdout and stderr on success
# ---------------------------------------------------------------------------


def test_json_on_stdout_progress_on_stderr(parent):
    out = parent / "out"
    res = run_hlsify(fixture_path(SMALL.name), "--out", str(out), "--json", "--preset", "ultrafast")
    assert res.returncode == 0, res.describe()
    report = json.loads(res.stdout)  # stdout is one JSON document, progress does not mix in
    assert isinstance(report, dict) and "renditions" in report
    assert any("%" in l for l in res.stderr_lines), f"no progress (percent) on stderr:\n{res.stderr[-1000:]}"


def test_quiet_prints_no_progress(parent):
    res = run_hlsify(fixture_path(SMALL.name), "--out", str(parent / "out"), "--quiet", "--preset", "ultrafast")
    assert res.returncode == 0, res.describe()
    assert not any("%" in l for l in res.stderr_lines), f"--quiet still printed progress:\n{res.stderr[-1000:]}"


# ---------------------------------------------------------------------------
# options that shape the output
# ---------------------------------------------------------------------------


def test_default_segment_duration_is_4s_and_preset_is_honoured(tmp_path_factory):
    t = transcode(tmp_path_factory, LANDSCAPE_720, "fmp4", "--preset", "ultrafast")
    t.require_success()
    for v in t.hls.variants:
        assert v.playlist.target_duration == 4, f"{v.uri}: TARGETDURATION {v.playlist.target_duration}"
        d = v.playlist.durations
        assert len(d) == 2 and d[0] == pytest.approx(4.0, abs=0.04) and d[1] == pytest.approx(1.0, abs=0.04), d
    for rr in t.report["renditions"]:
        assert rr["encoder"]["preset"] == "ultrafast", rr["encoder"]


def test_ladder_option_selects_rungs(tmp_path_factory):
    t = transcode(tmp_path_factory, LANDSCAPE_1080, "ts", "--ladder", "720p,480p", "--preset", "ultrafast",
                  "--segment-duration", "2")
    t.require_success()
    assert sorted(min(v.resolution) for v in t.hls.variants) == [480, 720]
    assert sorted(r["name"] for r in t.report["renditions"]) == ["480p", "720p"]


def test_rungs_above_the_source_are_dropped(tmp_path_factory):
    t = transcode(tmp_path_factory, LANDSCAPE_720, "fmp4", "--ladder", "1080p,720p", "--preset", "ultrafast")
    t.require_success()
    assert [v.resolution for v in t.hls.variants] == [(1280, 720)]


def test_rung_bitrate_caps_the_stream(tmp_path_factory):
    t = transcode(tmp_path_factory, LANDSCAPE_720, "fmp4", "--ladder", "480p@400k", "--segment-duration", "2",
                  "--preset", "superfast")
    t.require_success()
    assert len(t.hls.variants) == 1 and min(t.hls.variants[0].resolution) == 480
    enc = t.report["renditions"][0]["encoder"]
    assert str(enc["bitrate"]).lower() in ("400000", "400k", "400"), f"encoder bitrate {enc['bitrate']!r} for 480p@400k"
    _, avg = t.hls.variants[0].playlist.bitrates()
    assert avg <= 1.5 * 400_000, f"480p@400k averages {avg / 1000:.0f} kb/s"
