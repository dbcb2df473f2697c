"""GStreamer's player (playbin with its HLS demuxer) plays the master playlist to the end.

A couple of fixtures in both formats is enough: the per-segment checks in test_output.py
cover every fixture. The `case` fixture is parametrized indirectly, so these reuse the
session's transcodes instead of making new ones."""

from __future__ import annotations

import os
import re
import subprocess
import warnings

import pytest

from conftest import FORMATS, VIDEO_FIXTURES

PLAYED = ["landscape-1080p.mp4", "no-audio.mp4"]
CASES = [(f, fmt) for f in VIDEO_FIXTURES if f.name in PLAYED for fmt in FORMATS]

HANG_TIMEOUT = 60

PTS = re.compile(r"pts: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


def last_pts(log: str, sink: str) -> float | None:
    """Highest buffer timestamp a named fakesink (silent=false, gst-launch -v) reported."""
    best = None
    for line in log.splitlines():
        if f":{sink}: last-message = chain" not in line:
            continue
        m = PTS.search(line)
        if m:
            t = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
            best = t if best is None else max(best, t)
    return best


def play(master: str, timeout: float) -> tuple[int | None, str]:
    """Runs playbin on the master playlist; (exit code or None on a hang, output)."""
    cmd = ["gst-launch-1.0", "-v", "playbin", f"uri=file://{master}",
           "video-sink=fakesink name=vsink sync=false silent=false",
           "audio-sink=fakesink name=asink sync=false silent=false"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return res.returncode, res.stdout + res.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out


@pytest.mark.parametrize("case", CASES, indirect=True,
                         ids=[f"{os.path.splitext(f.name)[0]}-{fmt}" for f, fmt in CASES])
def test_gstreamer_plays_to_the_end(case):
    case.require_success()
    master = os.path.abspath(os.path.join(case.out, "master.m3u8"))
    # With sync=false a 5 s clip plays in about a second. GStreamer 1.22's HLS demuxer was
    # once seen (1 run in ~20, not reproducible since) to hang on a set that it played at
    # once on every other try: a hang is retried once, with a warning; two hangs fail.
    code, log = play(master, HANG_TIMEOUT)
    if code is None:
        first = log
        code, log = play(master, HANG_TIMEOUT)
        if code is None:
            pytest.fail(f"gst-launch hung twice ({HANG_TIMEOUT}s each); output tail:\n{first[-2000:]}\n---\n{log[-2000:]}")
        warnings.warn(f"gst-launch hung once on {master} and played on the retry; tail of the hung run:\n{first[-1500:]}")
    assert code == 0, f"gst-launch exited {code}:\n{log[-3000:]}"
    assert "Got EOS" in log, f"no end of stream:\n{log[-3000:]}"
    assert "ERROR" not in log, log[-3000:]
    duration = case.source.duration
    frame = 1 / float(case.source.video.avg_frame_rate)
    v = last_pts(log, "vsink")
    assert v is not None and v >= duration - 2 * frame - 0.05, f"video stopped at {v}s of {duration}s"
    if case.fixture.has_audio:
        a = last_pts(log, "asink")
        assert a is not None and a >= duration - 0.25, f"audio stopped at {a}s of {duration}s"
