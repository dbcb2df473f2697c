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
import tempfile
import warnings
from dataclasses import dataclass

import pytest

import hlscheck as h
from conftest import fixture_path

HANG_TIMEOUT = 60
AUDIO_FRAME_SLACK = 2  # AAC frames: the encoder's priming frame and a padded last frame

# What the sinks rendered is read from GStreamer's own record of each buffer: the base sink
# class logs, at DEBUG level and from the thread that renders, "got times start: S, end: E" for
# every buffer it is handed (S its PTS, E = S + duration), then "rendering object" once it
# renders it, and "Now posting EOS" when it takes the end of stream. `play` sends that category
# to a file of its own and puts those lines of it at the head of the log.
#
# Not fakesink silent=false with gst-launch -v: it reports a buffer by a deep-notify::last-message
# signal on playbin3, which GObject declares G_SIGNAL_NO_RECURSE, and GLib folds an emission that
# starts while another thread's emission of it on the same object runs into that one. When the
# audio and video sinks render at the same moment one report is lost and the other printed twice
# (an idle run printed 208 of 236 audio buffers, 140 reports of 125 video frames), so the first
# and last buffers printed were not always the first and last played; on a loaded machine the
# last audio buffers went unreported. Not multifilesink post-messages=true either: it writes each
# buffer with g_file_set_contents, a temporary file fsynced and renamed over the target (pointed
# at /dev/null, it replaces the device with a regular file).
SINK_DEBUG = "basesink:5"
GST_TIME = r"(\d+):(\d\d):(\d\d)\.(\d{9})"
BUFFER_TIMES = re.compile(rf"gst_base_sink_chain_unlocked:<([^>]+)> got times start: {GST_TIME}, end: {GST_TIME}")
RENDERED = re.compile(r"gst_base_sink_chain_unlocked:<([^>]+)> rendering object ")
SINK_EOS = re.compile(r"gst_base_sink_default_event:<([^>]+)> Now posting EOS")
SINK_STATS = re.compile(r"gst_base_sink_change_state:<([^>]+)> rendered: \d+, dropped: \d+")
PIPELINE_EOS = re.compile(r'^Got EOS from element "playbin3', re.M)


def _gst_time(hours: str, minutes: str, seconds: str, ns: str) -> float | None:
    """A GST_TIME_FORMAT time in seconds; None for GST_CLOCK_TIME_NONE (99:99:99.999999999)."""
    if int(minutes) >= 60:
        return None
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + int(ns) / 1e9


@dataclass(frozen=True)
class Played:
    """The buffers one sink rendered, in seconds: the earliest and the latest PTS, the end of the
    media (the largest PTS + duration), how many, and whether the sink then took EOS."""
    first: float
    last: float
    end: float
    buffers: int
    eos: bool


def sink_buffers(log: str, name: str) -> tuple[list[tuple[float, float]], bool]:
    """(PTS, duration) in seconds of every buffer the sink named `name` rendered, in order, and
    whether it took EOS after the last of them, from a `play` log (no duration counts 0)."""
    buffers, pending, eos = [], None, False
    for line in log.splitlines():
        m = BUFFER_TIMES.search(line)
        if m and m.group(1) == name:
            start, end = _gst_time(*m.group(2, 3, 4, 5)), _gst_time(*m.group(6, 7, 8, 9))
            pending = None if start is None else (start, 0.0 if end is None else end - start)
            eos = False
            continue
        m = RENDERED.search(line)
        if m and m.group(1) == name:
            if pending is not None:
                buffers.append(pending)
            pending = None
            continue
        m = SINK_EOS.search(line)
        if m and m.group(1) == name:
            eos = True
    return buffers, eos


def played(log: str, name: str) -> Played | None:
    """What the sink named `name` rendered in a `play` log; None if it rendered nothing."""
    buffers, eos = sink_buffers(log, name)
    if not buffers:
        return None
    return Played(first=min(t for t, _ in buffers), last=max(t for t, _ in buffers),
                  end=max(t + d for t, d in buffers), buffers=len(buffers), eos=eos)


def pts_span(log: str, sink: str) -> tuple[float, float] | None:
    """(lowest, highest) buffer PTS the named sink rendered."""
    p = played(log, sink)
    return (p.first, p.last) if p else None


def reached_eos(log: str) -> bool:
    """gst-launch saw the pipeline's EOS: a bin posts it only once every sink in it has taken the
    EOS event, which each does after rendering its last buffer."""
    return PIPELINE_EOS.search(log) is not None


def play(uri: str, timeout: float) -> tuple[int | None, str]:
    """Runs playbin3 on the master playlist's URL; (exit code or None on a hang, log). The sinks
    are `vsink` and `asink`: read what they rendered with `played`. The log is the sinks' buffer
    and EOS lines (see SINK_DEBUG), then gst-launch's output."""
    cmd = ["gst-launch-1.0", "-v", "playbin3", f"uri={uri}",
           "video-sink=fakesink name=vsink sync=false", "audio-sink=fakesink name=asink sync=false"]
    with tempfile.TemporaryDirectory(prefix="gst-play-") as tmp:
        debug = os.path.join(tmp, "gst-debug.log")
        env = dict(os.environ, GST_DEBUG=SINK_DEBUG, GST_DEBUG_NO_COLOR="1", GST_DEBUG_FILE=debug)
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env)
            code, out = res.returncode, res.stdout + res.stderr
        except subprocess.TimeoutExpired as e:
            code, out = None, e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        try:
            with open(debug, errors="replace") as f:
                sinks = "".join(l for l in f if any(r.search(l) for r in (BUFFER_TIMES, RENDERED, SINK_EOS, SINK_STATS)))
        except FileNotFoundError:
            sinks = ""
    return code, sinks + out


def test_gstreamer_plays_to_the_end(case, http_root):
    case.require_success()
    master = http_root(os.path.join(case.out, "master.m3u8"))
    duration = case.source.duration
    frame = 1 / float(case.source.video.avg_frame_rate)
    # The end is measured from where ffprobe finds the first frame of the first segment, so a
    # play that starts late cannot pass for one that reaches the end.
    start = first_video_time(case.hls)
    log = play_once(master)
    v = played(log, "vsink")
    assert v is not None and v.last >= start + duration - 2 * frame - 0.05, \
        f"video played {v}, the set runs from {start} for {duration}s"
    if case.fixture.has_audio:
        a = played(log, "asink")
        assert a is not None and a.last >= start + duration - 0.25, \
            f"audio played {a}, the set runs from {start} for {duration}s"


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
    assert reached_eos(log), f"no end of stream:\n{log[-3000:]}"
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
