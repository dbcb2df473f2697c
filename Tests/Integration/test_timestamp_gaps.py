"""Recordings with holes: a source whose video timestamps pause (a screen recorder paused for the
break) or drop frames for seconds. The hole keeps its place on the timeline (the audio and the
subtitles stay where they were), shows the picture before it, and no segment outgrows the target
duration: every segment boundary inside the hole starts with that picture again (and it is repeated each
second between). The ffmpeg command line writes one segment as long as the hole instead.

Sources (made with ffmpeg, frame timestamps passed through as they are):
- `pause`: 20 s of video at 25 fps with a 60 s hole after 10 s; the audio pauses too (a 440 Hz
  tone before, 880 Hz after);
- `pause-audio-runs`: the same video, the audio runs through the hole (440 Hz until 70 s, 880 Hz after);
- `phone-drop`: a 12 s 30 fps MP4 whose frames from 5 s to 8 s were dropped (the container gives
  the frame before the hole a 3 s duration).
Each in both segment formats, with subtitles (one cue before the hole, one after it)."""
from __future__ import annotations

import json
import re
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

import numpy as np
import pytest
import webvtt

import apple_rules as ar
import hlscheck as h
from conftest import FORMATS, MATRIX_PRESET, run_hlsify
from test_audio_tracks import decoded, dominant_frequency
from test_playback import play_once, played

SEGMENT = 4
KEYFRAME_INTERVAL = 2
AAC_FRAME = 1024 / 48_000


@dataclass(frozen=True)
class Source:
    name: str
    duration: float          # presented, hole included
    rate: int                # frames per second
    hole: tuple[float, float]  # (last frame's end, next frame) in source seconds from the first frame
    tone_switch: float       # where the audio goes from 440 Hz to 880 Hz
    audio_hole: bool         # the audio pauses with the video


SOURCES = [
    Source("pause", 80.0, 25, (10.0, 70.0), 70.0, True),
    Source("pause-audio-runs", 80.0, 25, (10.0, 70.0), 70.0, False),
    Source("phone-drop", 12.0, 30, (5.0, 8.0), 8.0, False),
]

SRT = """1
00:00:02,000 --> 00:00:04,000
before the break

2
00:00:{after:02d},000 --> 00:00:{after_end:02d},000
after the break
"""


def ffmpeg(*args: str) -> None:
    h.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args])


def make_source(folder: str, s: Source) -> str:
    rest = s.duration - s.hole[1]
    if s.name == "phone-drop":
        path = os.path.join(folder, "phone-drop.mp4")
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={s.rate}:duration={s.duration}",
               "-f", "lavfi", "-i", f"sine=frequency=440:duration={s.tone_switch}",
               "-f", "lavfi", "-i", f"sine=frequency=880:duration={s.duration - s.tone_switch}",
               "-filter_complex", f"[0:v]select='not(between(t,{s.hole[0]},{s.hole[1] - 0.01}))'[v];[1:a][2:a]concat=n=2:v=0:a=1[a]",
               "-map", "[v]", "-map", "[a]", "-fps_mode", "passthrough",
               "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", path)
        return path
    path = os.path.join(folder, f"{s.name}.mkv")
    shift = f"setpts='if(gte(T,{s.hole[0]}),PTS+{s.hole[1] - s.hole[0]}/TB,PTS)'"
    if s.audio_hole:
        audio = f"[1:a][2:a]concat=n=2:v=0:a=1,asetpts='if(gte(T,{s.hole[0]}),PTS+{s.hole[1] - s.hole[0]}/TB,PTS)'[a]"
    else:
        audio = "[1:a][2:a]concat=n=2:v=0:a=1[a]"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={s.rate}:duration={s.hole[0] + rest}",
           "-f", "lavfi", "-i", f"sine=frequency=440:duration={s.hole[0] if s.audio_hole else s.tone_switch}",
           "-f", "lavfi", "-i", f"sine=frequency=880:duration={rest if s.audio_hole else s.duration - s.tone_switch}",
           "-filter_complex", f"[0:v]{shift}[v];{audio}", "-map", "[v]", "-map", "[a]", "-fps_mode", "passthrough",
           "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", str(2 * s.rate), "-c:a", "aac", path)
    return path


@dataclass
class Run:
    source: Source
    fmt: str
    out: str
    path: str
    report: dict
    hls: h.HLSSet

    @property
    def id(self) -> str:
        return f"{self.source.name}[{self.fmt}]"

    @property
    def first_pts(self) -> float:
        playlist = self.hls.variants[0].playlist
        with h.TempMedia(playlist.standalone(0), playlist.suffix) as p:
            return min(h.packet_times(p, "v:0"))


@pytest.fixture(scope="module", params=[(s, f) for s in SOURCES for f in FORMATS],
                ids=[f"{s.name}-{f}" for s in SOURCES for f in FORMATS])
def run(request, tmp_path_factory) -> Run:
    source, fmt = request.param
    folder = str(tmp_path_factory.mktemp(f"gap-{source.name}-{fmt}"))
    path = make_source(folder, source)
    srt = os.path.join(folder, "en.srt")
    after = int(source.hole[1]) + 1
    with open(srt, "w") as f:
        f.write(SRT.format(after=after, after_end=after + 1))
    out = os.path.join(folder, "out")
    res = run_hlsify(path, "--out", out, "--segment-duration", str(SEGMENT), "--segment-format", fmt,
                     "--preset", MATRIX_PRESET, "--subtitles", f"en={srt}", "--json", "--quiet")
    assert res.returncode == 0, res.describe()
    return Run(source, fmt, out, path, json.loads(res.stdout), h.load_hls_set(os.path.join(out, "master.m3u8")))


def media_playlists(r: Run) -> list[h.MediaPlaylist]:
    lists = r.hls.media_playlists()
    assert len(lists) >= 4, r.id  # two rungs at least, the audio, the subtitles
    return lists


def test_no_segment_outgrows_the_target_and_the_hole_keeps_its_length(run):
    frame = 1 / run.source.rate
    for pl in media_playlists(run):
        assert pl.target_duration == SEGMENT, f"{run.id} {pl.path}: TARGETDURATION {pl.target_duration}"
        # Half a frame of slack for video; audio segments end on AAC frames (two at most past the boundary).
        slack = 2 * AAC_FRAME if "audio" in pl.uri else frame / 2
        longest = max(s.duration for s in pl.segments)
        assert longest <= SEGMENT + slack, f"{run.id} {pl.path}: a {longest:.3f} s segment"
        total = sum(s.duration for s in pl.segments)
        assert abs(total - run.source.duration) <= frame, f"{run.id} {pl.path}: EXTINF sum {total:.3f}, presented {run.source.duration}"
    assert abs(run.report["durationSeconds"] - run.source.duration) <= frame, run.report["durationSeconds"]


def test_the_report_says_where_the_hole_was(run):
    s = run.source
    timeline = run.report["sourceTimeline"]
    frame = 1 / s.rate
    assert timeline["gapCount"] == 1 and len(timeline["gaps"]) == 1, timeline
    gap = timeline["gaps"][0]
    assert abs(gap["at"] - s.hole[0]) <= frame + 0.001, gap
    assert abs(gap["seconds"] - (s.hole[1] - s.hole[0])) <= frame + 0.001, gap
    assert abs(timeline["filledSeconds"] - gap["seconds"]) < 0.002, timeline
    assert timeline["backwardJumpCount"] == 0 and timeline["backwardJumps"] == [], timeline
    assert any("hole" in w for w in run.report["warnings"]), run.report["warnings"]


def test_the_hole_shows_the_picture_before_once_a_second_and_at_each_boundary_as_an_idr(run):
    """Inside the hole each rung repeats the held picture once a second (GStreamer's HLS player
    stalls on a picture held for a whole segment), as a keyframe every 2 s (Apple's rule; every
    segment boundary among them); the first frame after the hole is where the source put it."""
    s = run.source
    first = run.first_pts
    half = 0.5 / s.rate
    whole_seconds = [float(k) for k in range(int(s.hole[0]) + 1, int(np.ceil(s.hole[1]))) if s.hole[0] + half < k < s.hole[1] - half]
    for variant in run.hls.variants:
        pl = variant.playlist
        with h.TempMedia(pl.whole(), pl.suffix) as p:
            packets = [(round(q["pts"] - first, 3), "K" in q["flags"]) for q in h.video_packets(p) if q["pts"] is not None]
        inside = sorted(p for p in packets if s.hole[0] + half < p[0] < s.hole[1] - half)
        assert [t for t, _ in inside] == whole_seconds, f"{run.id} {pl.path}: {inside}"
        keys = [t for t, key in inside if key]
        assert keys == [t for t in whole_seconds if t % KEYFRAME_INTERVAL == 0], f"{run.id} {pl.path}: keyframes at {keys}"
        after = min(t for t, _ in packets if t >= s.hole[1] - half)
        assert abs(after - s.hole[1]) <= half, f"{run.id}: the first frame after the hole is at {after}"
    # A held second costs little: the hole's segments are a small part of the rung.
    sizes = [os.path.getsize(seg.path) for seg in run.hls.variants[0].playlist.segments]
    inside_segments = [size for k, size in enumerate(sizes) if s.hole[0] <= k * SEGMENT and (k + 1) * SEGMENT <= s.hole[1]]
    if inside_segments:
        moving = [size for k, size in enumerate(sizes) if (k + 1) * SEGMENT <= s.hole[0]]
        assert max(inside_segments) < min(moving) / 4, f"{run.id}: held segments {inside_segments}, moving ones {moving}"


def test_audio_stays_in_sync_across_the_hole(run):
    """The tone changes where the source has it change, within one AAC frame, on the video's clock;
    an audio hole is silence, a running audio track plays on."""
    s = run.source
    audio = decoded(run.hls.audio_renditions[0].playlist.path)
    first = run.first_pts
    window = int(0.05 * audio.rate)

    def frequency_at(t: float) -> float:
        i = audio.at(first + t)
        return dominant_frequency(audio.samples[i:i + window], audio.rate)

    assert abs(frequency_at(s.hole[0] - 1) - 440) < 30
    assert abs(frequency_at(s.tone_switch + 0.5) - 880) < 30
    # The switch: the last 440 Hz and the first 880 Hz sample, found by short windows' peak frequency.
    step = int(AAC_FRAME * audio.rate / 4)
    start, end = audio.at(first + s.tone_switch - 1), audio.at(first + s.tone_switch + 1)
    switch = None
    for i in range(start, end, step):
        if abs(dominant_frequency(audio.samples[i:i + step], audio.rate) - 880) < 60:
            switch = audio.time_of(i) - first
            break
    assert switch is not None and abs(switch - s.tone_switch) <= AAC_FRAME + step / audio.rate, \
        f"{run.id}: 880 Hz starts at {switch}, the source has it at {s.tone_switch}"
    middle = audio.samples[audio.at(first + s.hole[0] + 1):audio.at(first + s.hole[1] - 1)]
    if s.audio_hole:
        assert np.abs(middle).max() < 1e-3, f"{run.id}: sound in the audio's hole"
    else:
        assert np.abs(middle).max() > 0.1, f"{run.id}: the running audio went silent in the video's hole"


def test_apple_rules_hold(run):
    """Every rule but one: a lecture that is mostly a held picture has a low average bit rate,
    so its peak is more than twice it (the rule is about rate control on moving pictures)."""
    ctx = ar.Context(os.path.join(run.out, "master.m3u8"), source=run.path, nominal_segment=SEGMENT)
    broken = {k: v for k, v in ar.check_all(ctx).items() if v and k != "peak_within_twice_average"}
    assert not broken, broken


def test_gstreamer_plays_through_the_hole_to_the_end(run, http_root):
    log = play_once(http_root(os.path.join(run.out, "master.m3u8")))
    first = run.first_pts
    frame = 1 / run.source.rate
    v, a = played(log, "vsink"), played(log, "asink")
    assert v is not None and v.last >= first + run.source.duration - 2 * frame - 0.05, f"{run.id}: video played {v}"
    assert a is not None and a.last >= first + run.source.duration - 0.25, f"{run.id}: audio played {a}"


def test_subtitles_stay_on_time_across_the_hole(run):
    """The cue after the hole is shown at its SRT time on the video's clock (the segment's
    X-TIMESTAMP-MAP and the cue time put together)."""
    subtitles = [x for x in run.hls.media if x.type == "SUBTITLES"]
    assert len(subtitles) == 1, run.id
    after = int(run.source.hole[1]) + 1
    found = []
    for seg in subtitles[0].playlist.segments:
        vtt = webvtt.read(seg.path)
        header = next(line for line in open(seg.path, encoding="utf-8") if line.startswith("X-TIMESTAMP-MAP="))
        fields = dict(part.split(":", 1) for part in header.strip()[len("X-TIMESTAMP-MAP="):].split(","))
        # To the millisecond (webvtt-py's start_in_seconds drops the milliseconds).
        local = Fraction(webvtt.Caption(fields["LOCAL"], fields["LOCAL"], "").start_time.in_milliseconds(), 1000)
        for caption in vtt.captions:
            if caption.text == "after the break":
                on_video = Fraction(caption.start_time.in_milliseconds(), 1000) - local + Fraction(int(fields["MPEGTS"]), 90_000)
                found.append(float(on_video) - run.first_pts)
    # SRT times count from the container's start, the video's clock from its first frame.
    expected = after - min(h.packet_times(run.path, "v:0"))
    assert found and all(abs(t - expected) < 0.002 for t in found), f"{run.id}: the cue after the hole is at {found}, not {expected}"


def test_every_audio_track_plays_on_through_a_long_hole(tmp_path):
    """A 90 s pause in the video of a recording with two audio tracks that run through it: both
    renditions keep their sound for the whole hole (the second track's frames used to be held
    until the video caught up, about a minute of them, and the rest dropped)."""
    path = str(tmp_path / "two-tracks.mkv")
    shift = "setpts='if(gte(T,5),PTS+90/TB,PTS)'"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=426x240:rate=25:duration=10",
           "-f", "lavfi", "-i", "sine=frequency=440:duration=100", "-f", "lavfi", "-i", "sine=frequency=660:duration=100",
           "-filter_complex", f"[0:v]{shift}[v]", "-map", "[v]", "-map", "1:a", "-map", "2:a", "-fps_mode", "passthrough",
           "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=spa",
           "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", path)
    out = str(tmp_path / "out")
    res = run_hlsify(path, "--out", out, "--segment-duration", str(SEGMENT), "--preset", MATRIX_PRESET,
                     "--ladder", "240p", "--json", "--quiet")
    assert res.returncode == 0, res.describe()
    report = json.loads(res.stdout)
    assert not [w for w in report["warnings"] if "dropped" in w or "ahead of the video" in w], report["warnings"]
    assert abs(report["durationSeconds"] - 100) <= 0.04, report["durationSeconds"]
    hls = h.load_hls_set(os.path.join(out, "master.m3u8"))
    assert len(hls.audio_renditions) == 2, [r.uri for r in hls.audio_renditions]
    for rendition, tone in zip(hls.audio_renditions, (440, 660)):
        audio = decoded(rendition.playlist.path)
        window = int(0.05 * audio.rate)
        for t in (2, 10, 30, 50, 70, 90, 97):
            i = audio.at(audio.first_pts + t)
            assert abs(dominant_frequency(audio.samples[i:i + window], audio.rate) - tone) < 30, f"{rendition.uri} at {t} s"
        longest = max(seg.duration for seg in rendition.playlist.segments)
        assert longest <= SEGMENT + 2 * AAC_FRAME, f"{rendition.uri}: a {longest:.3f} s segment"


# ---------------------------------------------------------------------------
# a split transcode: the hole runs across several chunks
# ---------------------------------------------------------------------------

SPLIT_CHUNK = 8  # seconds: the 60 s hole covers chunks that end in it, lie in it, and start in it


@pytest.fixture(scope="module", params=FORMATS)
def split_run(request, tmp_path_factory) -> Run:
    """`pause` planned in 8 s chunks, each encoded on its own, then stitched: a chunk that ends
    inside the hole fills it to its end, one that starts inside it has only the picture before
    the hole (decoded in its pre-roll) to show."""
    source, fmt = SOURCES[0], request.param
    folder = str(tmp_path_factory.mktemp(f"gap-split-{fmt}"))
    path = make_source(folder, source)
    srt = os.path.join(folder, "en.srt")
    after = int(source.hole[1]) + 1
    with open(srt, "w") as f:
        f.write(SRT.format(after=after, after_end=after + 1))
    work, out = os.path.join(folder, "work"), os.path.join(folder, "out")
    planned = run_hlsify("plan", path, "--work", work, "--chunk-duration", str(SPLIT_CHUNK), "--segment-duration", str(SEGMENT),
                         "--segment-format", fmt, "--preset", MATRIX_PRESET, "--subtitles", f"en={srt}")
    assert planned.returncode == 0, planned.describe()
    chunks = planned.stdout.split()
    assert len(chunks) >= 10, chunks
    for chunk in chunks:
        encoded = run_hlsify("encode-chunk", path, "--work", work, "--chunk", chunk, "--quiet")
        assert encoded.returncode == 0, encoded.describe()
    stitched = run_hlsify("stitch", "--work", work, "--out", out, "--json", "--quiet")
    assert stitched.returncode == 0, stitched.describe()
    return Run(source, fmt, out, path, json.loads(stitched.stdout), h.load_hls_set(os.path.join(out, "master.m3u8")))


def test_a_hole_across_chunks_is_held_as_in_a_whole_transcode(split_run, http_root):
    """The stitched set holds the hole as a whole transcode does: segments within the target,
    the picture once a second with its keyframes, the audio and the subtitles on time, and it
    plays to the end."""
    test_no_segment_outgrows_the_target_and_the_hole_keeps_its_length(split_run)
    test_the_hole_shows_the_picture_before_once_a_second_and_at_each_boundary_as_an_idr(split_run)
    test_audio_stays_in_sync_across_the_hole(split_run)
    test_subtitles_stay_on_time_across_the_hole(split_run)
    test_gstreamer_plays_through_the_hole_to_the_end(split_run, http_root)


# ---------------------------------------------------------------------------
# jumps back: two recordings joined, an MPEG-TS clock wrapping at 2^33
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Joined:
    name: str
    duration: float
    switch: Optional[float]  # where the second recording (880 Hz) starts, None: one recording
    jumps: int


JOINED = [Joined("joined", 20.0, 10.0, 1), Joined("wrap", 10.0, None, 0)]


def make_joined(folder: str, j: Joined) -> str:
    path = os.path.join(folder, f"{j.name}.ts")
    if j.name == "wrap":
        # Starts 5 s before the 33-bit clock wraps (2^33 / 90 kHz = 95443.7 s).
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration={j.duration}", "-f", "lavfi",
               "-i", f"sine=frequency=440:duration={j.duration}", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
               "-g", "50", "-c:a", "aac", "-output_ts_offset", str(2 ** 33 / 90_000 - 5), path)
        return path
    parts = []
    for k, (pattern, tone) in enumerate([("testsrc2", 440), ("smptebars", 880)]):
        part = os.path.join(folder, f"part{k}.ts")
        ffmpeg("-f", "lavfi", "-i", f"{pattern}=size=640x360:rate=25:duration={j.switch}", "-f", "lavfi",
               "-i", f"sine=frequency={tone}:duration={j.switch}", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
               "-g", "50", "-c:a", "aac", part)
        parts.append(part)
    with open(path, "wb") as joined:
        for part in parts:
            with open(part, "rb") as f:
                joined.write(f.read())  # the second recording's clock starts again where the first's did
    return path


@pytest.fixture(scope="module", params=[(j, f) for j in JOINED for f in FORMATS],
                ids=[f"{j.name}-{f}" for j in JOINED for f in FORMATS])
def joined(request, tmp_path_factory) -> tuple[Joined, str, dict, h.HLSSet]:
    j, fmt = request.param
    folder = str(tmp_path_factory.mktemp(f"jump-{j.name}-{fmt}"))
    path = make_joined(folder, j)
    out = os.path.join(folder, "out")
    res = run_hlsify(path, "--out", out, "--segment-duration", str(SEGMENT), "--segment-format", fmt,
                     "--preset", MATRIX_PRESET, "--json", "--quiet")
    assert res.returncode == 0, res.describe()
    return j, out, json.loads(res.stdout), h.load_hls_set(os.path.join(out, "master.m3u8"))


def test_a_jump_back_is_closed_up_and_reported(joined):
    j, out, report, hls = joined
    timeline = report["sourceTimeline"]
    assert timeline["gapCount"] == 0, timeline
    assert timeline["backwardJumpCount"] == j.jumps, timeline
    if j.jumps:
        jump = timeline["backwardJumps"][0]
        assert abs(jump["at"] - j.switch) < 0.1 and jump["seconds"] < -5, jump
    assert abs(report["durationSeconds"] - j.duration) < 0.1, report["durationSeconds"]
    for pl in hls.media_playlists():
        assert pl.target_duration == SEGMENT, pl.path
        assert abs(sum(s.duration for s in pl.segments) - j.duration) < 0.1, pl.path
    # The pictures go on without a hole or an overlap.
    pl = hls.variants[0].playlist
    with h.TempMedia(pl.whole(), pl.suffix) as p:
        times = h.packet_times(p, "v:0")
    steps = [b - a for a, b in zip(times, times[1:])]
    assert max(steps) < 1.5 / 25 and min(steps) > 0.5 / 25, (min(steps), max(steps))


def test_audio_stays_in_step_across_a_jump_back(joined):
    j, out, report, hls = joined
    if j.switch is None:
        pytest.skip("one recording")
    audio = decoded(hls.audio_renditions[0].playlist.path)
    pl = hls.variants[0].playlist
    with h.TempMedia(pl.standalone(0), pl.suffix) as p:
        first = min(h.packet_times(p, "v:0"))
    step = int(AAC_FRAME * audio.rate / 4)
    start, end = audio.at(first + j.switch - 1), audio.at(first + j.switch + 1)
    switch = next((audio.time_of(i) - first for i in range(start, end, step)
                   if abs(dominant_frequency(audio.samples[i:i + step], audio.rate) - 880) < 60), None)
    assert switch is not None and abs(switch - j.switch) <= 2 * AAC_FRAME + step / audio.rate, \
        f"880 Hz starts at {switch}, the second recording at {j.switch}"
    sounding = np.abs(audio.samples[audio.at(first + 0.5):audio.at(first + j.duration - 0.5)])
    window = int(0.1 * audio.rate)
    quiet = [k for k in range(0, len(sounding) - window, window) if sounding[k:k + window].max() < 0.05]
    assert not quiet, f"silent stretches at {[round(0.5 + k / audio.rate, 2) for k in quiet[:5]]} s: audio was dropped"


def test_gstreamer_plays_a_joined_recording_to_the_end(joined, http_root):
    j, out, report, hls = joined
    log = play_once(http_root(os.path.join(out, "master.m3u8")))
    pl = hls.variants[0].playlist
    with h.TempMedia(pl.standalone(0), pl.suffix) as p:
        first = min(h.packet_times(p, "v:0"))
    v, a = played(log, "vsink"), played(log, "asink")
    assert v is not None and v.last >= first + j.duration - 0.13, f"video played {v}"
    assert a is not None and a.last >= first + j.duration - 0.25, f"audio played {a}"


# ---------------------------------------------------------------------------
# Chromium: the preview page plays every set to its end (at 8x, so an 80 s set takes 10 s)
# ---------------------------------------------------------------------------

def chromium_plays_to_the_end(out: str, duration: float, tmp_path) -> None:
    from test_preview import Server
    from test_preview import wait_for as wait_for_page
    from test_preview_learner import start_chromium

    server = Server(out, str(tmp_path / "preview.log"))
    driver = None
    try:
        driver = start_chromium(tmp_path)
        driver.get(server.url)
        wait_for_page(driver, lambda s: s["readyState"] >= 2, 30, "the first picture")
        driver.execute_script("document.getElementById('player').playbackRate = 8;")
        final = wait_for_page(driver, lambda s: s["ended"], 60 + duration / 4, "the end of the set")
        assert final["time"] >= duration - 0.1, final
        assert final["audioBytes"] > 0 and final["videoBytes"] > 0, final
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == [], severe
        log = server.stderr()
        assert not re.search(r" (4\d\d|5\d\d) \d+$", log, re.M), log[-3000:]
    finally:
        if driver is not None:
            driver.quit()
        server.close()


def test_chromium_plays_through_the_hole_to_the_end(run, tmp_path):
    chromium_plays_to_the_end(run.out, run.source.duration, tmp_path)


def test_chromium_plays_a_joined_recording_to_the_end(joined, tmp_path):
    j, out, report, hls = joined
    chromium_plays_to_the_end(out, j.duration, tmp_path)
