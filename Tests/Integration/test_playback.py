"""GStreamer's player (playbin with its HLS demuxer) plays the master playlist to the end.

A couple of fixtures in both formats is enough: the per-segment checks in test_output.py
cover every fixture. The `case` fixture is parametrized indirectly, so these reuse the
session's transcodes instead of making new ones."""

from __future__ import annotations

import os
import re

import pytest

import hlscheck as h
from conftest import FORMATS, VIDEO_FIXTURES

PLAYED = ["landscape-1080p.mp4", "no-audio.mp4"]
CASES = [(f, fmt) for f in VIDEO_FIXTURES if f.name in PLAYED for fmt in FORMATS]

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


@pytest.mark.parametrize("case", CASES, indirect=True,
                         ids=[f"{os.path.splitext(f.name)[0]}-{fmt}" for f, fmt in CASES])
def test_gstreamer_plays_to_the_end(case):
    case.require_success()
    master = os.path.abspath(os.path.join(case.out, "master.m3u8"))
    res = h.run(["gst-launch-1.0", "-v", "playbin", f"uri=file://{master}",
                 "video-sink=fakesink name=vsink sync=false silent=false",
                 "audio-sink=fakesink name=asink sync=false silent=false"],
                timeout=120, check=False, text=True)
    log = res.stdout + res.stderr
    assert res.returncode == 0, f"gst-launch exited {res.returncode}:\n{log[-3000:]}"
    assert "Got EOS" in log, f"no end of stream:\n{log[-3000:]}"
    assert "ERROR" not in log, log[-3000:]
    duration = case.source.duration
    frame = 1 / float(case.source.video.avg_frame_rate)
    v = last_pts(log, "vsink")
    assert v is not None and v >= duration - 2 * frame - 0.05, f"video stopped at {v}s of {duration}s"
    if case.fixture.has_audio:
        a = last_pts(log, "asink")
        assert a is not None and a >= duration - 0.25, f"audio stopped at {a}s of {duration}s"
