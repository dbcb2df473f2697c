"""Real readers of the playlists: GStreamer's player plays every video fixture's master playlist
to the end in both segment formats, over HTTP as a student's would, and ffprobe (libavformat's
HLS demuxer) reads every media playlist to the end.

The player is playbin3 with hlsdemux2 (GStreamer's current HLS demuxer, adaptivedemux2; it
fetches over HTTP only, so a plain Python HTTP server, conftest's `http_root`, serves the output). The legacy playbin +
hlsdemux of GStreamer 1.22 stalls, about one run in three, when it switches *up* to a higher
variant while an alternate audio rendition plays: with Apple's mid-rung-first order it always
starts below the top, so it is not the player used here (it stalled on ffmpeg's own HLS output
too). Both tests use the session's `case` transcodes (conftest.py), so they cost a playback
each, not a transcode."""

from __future__ import annotations

import os
import re
import subprocess
import warnings

import pytest

import hlscheck as h
from conftest import fixture_path

HANG_TIMEOUT = 60
AUDIO_FRAME_SLACK = 2  # AAC frames: the encoder's priming frame and a padded last frame

PTS = re.compile(r"pts: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


def pts_span(log: str, sink: str) -> tuple[float, float] | None:
    """(lowest, highest) buffer timestamp a named fakesink (silent=false, gst-launch -v) reported."""
    times = []
    for line in log.splitlines():
        if f":{sink}: last-message = chain" not in line:
            continue
        m = PTS.search(line)
        if m:
            times.append(int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)))
    return (min(times), max(times)) if times else None


def play(uri: str, timeout: float) -> tuple[int | None, str]:
    """Runs playbin3 on the master playlist's URL; (exit code or None on a hang, output)."""
    cmd = ["gst-launch-1.0", "-v", "playbin3", f"uri={uri}",
           "video-sink=fakesink name=vsink sync=false silent=false",
           "audio-sink=fakesink name=asink sync=false silent=false"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return res.returncode, res.stdout + res.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out


def test_gstreamer_plays_to_the_end(case, http_root):
    case.require_success()
    master = http_root(os.path.join(case.out, "master.m3u8"))
    duration = case.source.duration
    frame = 1 / float(case.source.video.avg_frame_rate)
    # The sinks' last-message notifications coalesce (a busy sink skips some), so the first
    # buffer they report may be late: the end is measured from where ffprobe finds the first
    # frame of the first segment instead.
    start = first_video_time(case.hls)
    # On a loaded machine the notifications of the last buffers can be skipped as well, so an
    # end reported short is played again (up to three plays): a set that really ends early
    # ends early every time.
    shortfalls = []
    for _ in range(3):
        log = play_once(master)
        v = pts_span(log, "vsink")
        a = pts_span(log, "asink") if case.fixture.has_audio else None
        video_ok = v is not None and v[1] >= start + duration - 2 * frame - 0.05
        audio_ok = not case.fixture.has_audio or (a is not None and a[1] >= start + duration - 0.25)
        if video_ok and audio_ok:
            return
        shortfalls.append(f"video played {v}, audio played {a}")
    pytest.fail(f"the set runs from {start} for {duration}s, but three plays ended short: {shortfalls}")


def play_once(master: str) -> str:
    """One play to the end (a hang is retried once, with a warning; two hangs fail); the log."""
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
    return log


def first_video_time(hls: h.HLSSet) -> float:
    """Presentation time of the set's first video frame, as ffprobe reads the first segment."""
    playlist = hls.variants[0].playlist
    with h.TempMedia(playlist.standalone(0), playlist.suffix) as p:
        return min(h.packet_times(p, "v:0"))


def count_packets(playlist: str, stream: str) -> int:
    """Packets of one stream ffprobe demuxes from a media playlist, through its HLS reader."""
    info = h.ffprobe_json(playlist, "-count_packets", "-select_streams", stream,
                          "-show_entries", "stream=codec_type,nb_read_packets")
    streams = info.get("streams", [])
    assert streams, f"ffprobe finds no {stream} stream through {playlist}"
    return int(streams[0].get("nb_read_packets", 0))


def test_ffprobe_reads_every_playlist_to_the_end(case):
    """Each variant's media playlist, opened by ffprobe as a player would (not our joined
    segments, which test_output.py decodes), leads to every source frame: one packet per frame.
    The audio playlist leads to the source's AAC frames, give or take priming and padding."""
    hls = case.hls
    src_frames = case.source.video.frames
    for v in hls.variants:
        n = count_packets(v.playlist.path, "v:0")
        assert n == src_frames, f"{v.uri}: ffprobe reads {n} video frames through the playlist, the source has {src_frames}"
    if case.fixture.has_audio:
        want = count_packets(fixture_path(case.fixture.name), "a:0")
        for a in hls.audio_renditions:
            n = count_packets(a.playlist.path, "a:0")
            assert abs(n - want) <= AUDIO_FRAME_SLACK, \
                f"{a.uri}: ffprobe reads {n} AAC frames through the playlist, the source has {want}"
