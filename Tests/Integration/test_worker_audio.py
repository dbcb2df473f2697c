"""The worker's added audio: the job fields `"audio"` and `"audioDescription"` (lists of
{language, path}), `transcode-worker submit --audio LANG=PATH --audio-description LANG=PATH`,
and what a job with them leaves: the audio group in the master, one folder per rendition,
`audioTracks` in job.completed.

Everything around the worker is test_worker.py's, test_chapters.py's and test_storage_worker.py's,
imported (Bus, Site, submit, assert_plays, the bad-jobs pattern with dead letters, bucket sites on
the S3 servers of s3servers.py). The independent readers are the m3u8 library (the master's
EXT-X-MEDIA entries, CHARACTERISTICS included), hlscheck (media playlists, segment files),
ffprobe, ffmpeg (a full decode, and each audio rendition decoded to PCM) and numpy: every added
file is a sine of its own frequency, so the tone heard in a rendition's folder says which file
went into it (`audio/` 440 Hz, the source's own; the others as TONES says).

The sources are made here with ffmpeg: a 4.6 s 192x108 clip whose AAC is tagged French (`fra`);
a 3 s Spanish dub (shorter than the video: padded), a 6 s mono description (longer: cut), nine
more tones, a clip with two audio streams (the second a description by its disposition), a clip
without audio and a text file. Jobs use the ladder 108p, preset ultrafast,
2 s segments, no storyboard or poster; each transcode takes about a second.

Needs the private RabbitMQ node `make test` starts (HLSIFY_TEST_AMQP_URL), as test_worker.py
does; the bucket test also rclone and SeaweedFS (s3servers.py). Every wait is for an observed
state (an event, a dead letter, an empty queue); timeouts are upper bounds only. The last section
holds tests for bugs this file found; they fail until those are fixed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Optional

import m3u8
import numpy as np
import pytest

import hlscheck as h
from test_chapters import make_clip
from test_split_jobs import close_split_site, wait_quiet
from test_storage_worker import (CLIP as BUCKET_CLIP, IN_PREFIX, PUBLISHING_SERVERS, SERVER_FIXTURES, SUBTITLE,
                                 WAIT, BucketSite, assert_complete_output, completed_once_after_stop, open_bucket_site)
from test_worker import Bus, Clips, Site, amqp_url, assert_plays, close_site, states, work_leftovers, worker_bin

pytestmark = pytest.mark.timeout(300)

GROUP = "audio"
# The ISO 639-2 code each rendition's stream carries (mdhd), by the LANGUAGE of its EXT-X-MEDIA.
ALPHA3 = {"fr": "fra", "es": "spa", "en": "eng", "de": "deu", "pt-BR": "por", "ja": "jpn", "und": "und"}
DESCRIBES_VIDEO = "public.accessibility.describes-video"
SOURCE_HZ = 440
TWO_HZ = 550  # the second audio stream of two.mp4
# Added files under the input root: path -> (frequency of its sine, seconds, channels).
TONES = {
    "up/dub.es.m4a": (660, 3.0, 2),   # shorter than the video
    "up/ad.m4a": (880, 6.0, 1),       # longer than the video, mono
    **{f"up/t{i}.m4a": (500 + 70 * i, 4.6, 2) for i in range(1, 10)},
}
QUICK = {"ladder": ["108p"], "preset": "ultrafast", "segmentDuration": 2, "storyboard": False, "poster": False}
ES = {"language": "es", "path": "up/dub.es.m4a"}
AD = {"language": "en", "path": "up/ad.m4a"}


@dataclass(frozen=True)
class Track:
    """One audio rendition the master must list, in order: its folder, LANGUAGE, NAME (None: not
    checked), whether it describes the video, and the tone it must carry."""
    folder: str
    language: str
    name: Optional[str]
    describes: bool
    hz: int


SOURCE_TRACK = Track("audio", "fr", "Français", False, SOURCE_HZ)
ES_TRACK = Track("audio-es", "es", "Español", False, TONES["up/dub.es.m4a"][0])
TWO_STREAM_AD = Track("audio-en-ad", "en", "English (audio description)", True, TWO_HZ)
AD_TRACK = Track("audio-en-ad", "en", "English (audio description)", True, TONES["up/ad.m4a"][0])


# ---------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------


def tone(path: str, hz: int, seconds: float, channels: int) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    h.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", f"sine=frequency={hz}:duration={seconds}",
           "-ac", str(channels), "-c:a", "aac", path], timeout=60)


def make_two_stream_clip(path: str, seconds: float) -> None:
    """192x108 video with two AAC streams: French at 440 Hz (default), English at TWO_HZ with
    the visual_impaired disposition (a description)."""
    h.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", f"testsrc2=size=192x108:rate=25:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency={SOURCE_HZ}:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency={TWO_HZ}:duration={seconds}", "-map", "0", "-map", "1", "-map", "2",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
           "-metadata:s:a:0", "language=fra", "-metadata:s:a:1", "language=eng",
           "-disposition:a:0", "default", "-disposition:a:1", "visual_impaired", path], timeout=120)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> str:
    """A folder laid out as an input root: clip.mp4 (4.6 s, AAC 440 Hz tagged fra), the TONES,
    up/video-only.mp4 (no audio stream), up/notes.m4a (text)."""
    folder = tmp_path_factory.mktemp("added-audio-sources")
    make_clip(str(folder / "clip.mp4"), 4.6, "fra")
    for rel, (hz, seconds, channels) in TONES.items():
        tone(str(folder / rel), hz, seconds, channels)
    make_clip(str(folder / "up" / "video-only.mp4"), 3, None)
    make_two_stream_clip(str(folder / "two.mp4"), 4.6)
    (folder / "up" / "notes.m4a").write_text("not audio at all\n")
    return str(folder)


def open_audio_site(tmp_path, media: str) -> Site:
    input_root, output_root = tmp_path / "in", tmp_path / "out"
    shutil.copytree(media, input_root)
    output_root.mkdir()
    return Site(Bus(amqp_url()), str(input_root), str(output_root), Clips(str(input_root)), str(tmp_path))


def submit_flags(bus: Bus, job_id: str, *extra: str) -> None:
    """`transcode-worker submit` with the job built from flags."""
    proc = subprocess.run([worker_bin(), "submit", *bus.worker_args(), "--job-id", job_id, "--input", "clip.mp4",
                           "--ladder", "108p", "--preset", "ultrafast", "--segment-duration", "2",
                           "--no-storyboard", "--no-poster", *extra], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == job_id, f"submit: {proc.returncode} {proc.stdout} {proc.stderr}"


# ---------------------------------------------------------------------------
# independent readers
# ---------------------------------------------------------------------------


def dominant_hz(playlist: str, seconds: float = 2.0) -> float:
    """The strongest frequency of a rendition's first `seconds` (from 0.25 s), decoded by ffmpeg."""
    rate = 8000
    proc = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", playlist, "-map", "0:a:0", "-ac", "1", "-ar", str(rate),
                           "-f", "f32le", "-"], capture_output=True, timeout=120)
    assert proc.returncode == 0, f"ffmpeg could not decode {playlist}: {proc.stderr[-2000:]!r}"
    pcm = np.frombuffer(proc.stdout, dtype="<f4")
    window = pcm[int(0.25 * rate):int((0.25 + seconds) * rate)]
    assert len(window) == int(seconds * rate), f"{playlist}: only {len(pcm) / rate:.2f} s of audio"
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    return float(np.argmax(spectrum)) * rate / len(window)


def audio_media(master: m3u8.M3U8) -> list:
    return [m for m in master.media if m.type == "AUDIO"]


def characteristics(entry) -> list[str]:
    return [c for c in (entry.characteristics or "").split(",") if c]


def assert_audio_group(out: str, expected: list[Track]) -> m3u8.M3U8:
    """The master's audio group is `expected`, in order: one EXT-X-MEDIA each, GROUP-ID "audio",
    DEFAULT=YES on the first only, CHARACTERISTICS on the descriptions only, every variant
    playing the group; each folder holds its playlist, init section and exactly the segments it
    names, lasts as long as the video, and carries its file's tone."""
    master = m3u8.load(os.path.join(out, "master.m3u8"))
    entries = audio_media(master)
    got = [(m.uri, m.group_id, m.language, m.default, m.autoselect, characteristics(m)) for m in entries]
    # AUTOSELECT=YES but for a track whose language and kind an earlier one has (RFC 8216 4.3.4.1.1).
    kinds = [(t.language, t.describes) for t in expected]
    want = [(f"{t.folder}/index.m3u8", GROUP, t.language, "YES" if i == 0 else "NO", "NO" if kinds[i] in kinds[:i] else "YES",
             [DESCRIBES_VIDEO] if t.describes else []) for i, t in enumerate(expected)]
    assert got == want, f"the master's audio group:\n{master.dumps()}"
    names = [m.name for m in entries]
    assert len(set(names)) == len(names), f"NAMEs are not unique in the group: {names}"
    for entry, t in zip(entries, expected):
        if t.name is not None:
            assert entry.name == t.name, (entry.uri, entry.name, t.name)
    assert master.playlists and all(p.stream_info.audio == GROUP for p in master.playlists), master.dumps()
    video = h.load_media_playlist(os.path.join(out, master.playlists[0].uri))
    video_seconds = sum(video.durations)
    on_disk = {n for n in os.listdir(out) if n.startswith("audio")}
    assert on_disk == {t.folder for t in expected}, f"audio folders on disk: {sorted(on_disk)}"
    for t in expected:
        path = os.path.join(out, t.folder, "index.m3u8")
        playlist = h.load_media_playlist(path)
        assert playlist.parsed.is_endlist and playlist.segments, path
        named = {os.path.basename(s.path) for s in playlist.segments} | {"index.m3u8", "init.mp4"}
        assert set(os.listdir(os.path.dirname(path))) == named, (t.folder, sorted(os.listdir(os.path.dirname(path))))
        # Padded or cut to the video's length (within an AAC frame or two and the last video frame).
        assert abs(sum(playlist.durations) - video_seconds) < 0.1, (t.folder, playlist.durations, video_seconds)
        hz = dominant_hz(path)
        assert abs(hz - t.hz) < 5, f"{t.folder} carries a {hz:.0f} Hz tone, not the {t.hz} Hz of its file"
        # The stream itself says its language, and a description its visual_impaired disposition.
        with h.TempMedia(playlist.standalone(0), playlist.suffix) as first:
            (stream,) = h.ffprobe_json(first, "-show_streams")["streams"]
        assert stream.get("tags", {}).get("language") == ALPHA3[t.language], (t.folder, stream.get("tags"))
        assert stream.get("disposition", {}).get("visual_impaired") == int(t.describes), (t.folder, stream.get("disposition"))
    return master


def assert_audio_tracks(out: str, output: str, completed: dict, master: m3u8.M3U8, marker: Optional[dict] = None) -> None:
    """job.completed's audioTracks say what the master and the files say; `segments` counts every
    media playlist's segments; `audio` is the first track; the marker holds the same list."""
    tracks = completed.get("audioTracks")
    entries = audio_media(master)
    assert isinstance(tracks, list) and len(tracks) == len(entries), \
        f"job.completed's audioTracks {tracks!r}; the master's audio group {[m.uri for m in entries]}"
    for track, entry in zip(tracks, entries):
        playlist = h.load_media_playlist(os.path.join(out, entry.uri))
        probe = h.ffprobe_json(os.path.join(out, entry.uri), "-show_streams")
        (stream,) = [s for s in probe["streams"] if s.get("codec_type") == "audio"]
        want = {"language": entry.language, "name": entry.name, "isDefault": entry.default == "YES",
                "describesVideo": DESCRIBES_VIDEO in characteristics(entry), "playlist": f"{output}/{entry.uri}",
                "segments": len(playlist.segments), "bytes": sum(s.size for s in playlist.segments),
                "codec": "aac", "channels": int(entry.channels), "sampleRate": int(stream["sample_rate"])}
        assert {k: track.get(k) for k in want} == want, (entry.uri, track)
        assert stream["codec_name"] == "aac" and stream["channels"] == track["channels"], (entry.uri, stream)
        loudness = track.get("loudness") or {}
        assert abs(loudness.get("integrated", 0) - (-16)) <= 1 and loudness.get("truePeak", 0) <= -1, (entry.uri, track)
    assert [t["isDefault"] for t in tracks] == [True] + [False] * (len(tracks) - 1), tracks
    first = tracks[0]
    assert completed["audio"] == {k: first.get(k) for k in completed["audio"]}, (completed["audio"], first)
    # Every segment of the set, counted from the playlists on disk.
    on_disk = sum(len(h.load_media_playlist(os.path.join(out, p.uri)).segments) for p in master.playlists) \
        + sum(len(h.load_media_playlist(os.path.join(out, m.uri)).segments) for m in entries)
    reported = sum(r["segments"] for r in completed["renditions"]) + sum(t["segments"] for t in tracks)
    assert completed["segments"] == on_disk == reported, (completed["segments"], on_disk, reported)
    if marker is None:
        with open(os.path.join(out, ".hlsify-complete.json")) as f:
            marker = json.load(f)
    assert marker["completion"].get("audioTracks") == tracks, marker["completion"]


def planned_split(worker, job_id: str) -> bool:
    return any("planned as a split job" in line and f"jobId={job_id}" in line for line in worker.log().splitlines())


# ---------------------------------------------------------------------------
# 1. jobs with added audio on local roots: never split, every rendition listed and reported
# ---------------------------------------------------------------------------


# job id -> (input, extra job fields, the audio group expected; None for a control, which the worker splits)
LOCAL_JOBS = {
    "json-split": ("clip.mp4", {"audio": [ES], "audioDescription": [AD]}, [SOURCE_TRACK, ES_TRACK, AD_TRACK]),
    "ad-only": ("clip.mp4", {"audioDescription": [AD]}, [SOURCE_TRACK, AD_TRACK]),
    "silent-dub": ("up/video-only.mp4", {"audio": [ES]}, [Track("audio", "es", "Español", False, ES_TRACK.hz)]),
    "two-streams": ("two.mp4", {}, [SOURCE_TRACK, TWO_STREAM_AD]),
    "two-streams-dub": ("two.mp4", {"audio": [ES]}, [SOURCE_TRACK, TWO_STREAM_AD, ES_TRACK]),
    "plain-whole": ("clip.mp4", {"chunkDuration": 0}, [SOURCE_TRACK]),
    "plain-split": ("clip.mp4", {}, None),
}
# The jobs transcoded whole: job id -> (output, the audio group expected).
WHOLE = {"flags": ("flags", [SOURCE_TRACK, ES_TRACK, AD_TRACK]),
         **{j: (f"set/{j}", want) for j, (_, _, want) in LOCAL_JOBS.items() if want is not None}}
CONTROLS = {"plain-flags": "plain-flags", "plain-split": "set/plain-split"}


@dataclass
class LocalRun:
    site: Site
    worker: object  # test_worker.Worker, stopped

    def completed(self, job_id: str) -> dict:
        return self.site.bus.of(job_id, "completed")[0]


@pytest.fixture(scope="module")
def local_jobs(media, tmp_path_factory) -> LocalRun:
    """Jobs on one worker started with `--chunk-duration 2` (so the 4.6 s clip is two chunks):
    one built by `submit --audio --audio-description`, the rest in JSON with `"chunkDuration":
    2` (LOCAL_JOBS): both fields, only an audio description, a dub added to a source without
    audio (the dub is then the default, in `audio/`), a source with two audio streams (the
    second a description) with and without a dub; and the controls, one stream and no added
    audio, one from flags and one in JSON, which the worker splits. Returns once every job has
    completed, the jobs and check queues are empty and the worker has stopped."""
    tmp = tmp_path_factory.mktemp("audio-worker-local")
    site = open_audio_site(tmp, media)
    bus = site.bus
    try:
        worker = site.start_worker("w-audio", "--chunk-duration", "2", "--chunk-check-interval", "2")
        submit_flags(bus, "flags", "--audio", "es=up/dub.es.m4a", "--audio-description", "en=up/ad.m4a")
        submit_flags(bus, "plain-flags")
        for job_id, (source, extra, _) in LOCAL_JOBS.items():
            site.submit({"jobId": job_id, "input": source, "output": f"set/{job_id}", **QUICK, "chunkDuration": 2, **extra})
        every = ("flags", "plain-flags", *LOCAL_JOBS)
        bus.wait(lambda: all(bus.of(j, "completed") for j in every), 240, "every job.completed", (worker,))
        wait_quiet(site, (worker,))
        site.stop_all_and_assert_drained()
        bus.poll()
        for j in every:
            assert len(bus.of(j, "completed")) == 1 and not bus.of(j, "failed") and not bus.of(j, "rejected"), \
                (j, states(bus.of(j)))
        assert bus.drain_dead_letters() == []
        yield LocalRun(site, worker)
    finally:
        close_split_site(site)


def test_submit_flags_build_the_audio_fields(local_jobs):
    bus = local_jobs.site.bus
    accepted = bus.of("flags", "accepted")[0]["job"]
    assert (accepted.get("audio"), accepted.get("audioDescription")) == ([ES], [AD]), accepted
    plain = bus.of("plain-flags", "accepted")[0]["job"]
    assert "audio" not in plain and "audioDescription" not in plain, plain


def test_jobs_with_added_audio_are_never_split(local_jobs):
    """The controls (one audio stream, no added audio, the same chunk duration) are split, so
    the jobs with added audio (or two source streams) would be too but for that."""
    bus, worker = local_jobs.site.bus, local_jobs.worker
    for control in CONTROLS:
        assert planned_split(worker, control), f"the control {control} was not split: the test proves nothing"
        assert [e for e in bus.of(control) if e["state"] == "chunk"], f"no job.chunk for the control {control}"
    for job_id in WHOLE:
        if job_id == "plain-whole":  # "chunkDuration": 0
            continue
        assert not planned_split(worker, job_id), f"the job {job_id} was split"
        assert not [e for e in bus.of(job_id) if e["state"] == "chunk"], f"job.chunk events for {job_id}"
        assert len(bus.of(job_id, "started")) == 1, states(bus.of(job_id))


@pytest.mark.parametrize("job_id", list(WHOLE))
def test_the_audio_group_is_listed_reported_and_plays(local_jobs, job_id):
    """The master's audio group, the folders and their tones, job.completed's audioTracks,
    `audio` and `segments`, the marker, and a full decode of the set."""
    output, expected = WHOLE[job_id]
    out = local_jobs.site.output(output)
    completed = local_jobs.completed(job_id)
    assert completed["output"] == output, completed
    master = assert_audio_group(out, expected)
    assert_audio_tracks(out, output, completed, master)
    hls = assert_plays(out)
    assert len(hls.audio_renditions) == len(expected)
    # A job.segment event for every segment of every rendition, added audio included.
    events = sorted((e["segment"]["rendition"], e["segment"]["path"], e["segment"]["bytes"])
                    for e in local_jobs.site.bus.of(job_id, "segment"))
    files = sorted((os.path.dirname(os.path.relpath(s.path, out)), os.path.relpath(s.path, out), s.size)
                   for p in hls.media_playlists() for s in p.segments)
    assert events == files, (events, files)


@pytest.mark.parametrize("job_id", list(CONTROLS))
def test_the_split_controls_have_the_source_audio_alone(local_jobs, job_id):
    out = local_jobs.site.output(CONTROLS[job_id])
    master = m3u8.load(os.path.join(out, "master.m3u8"))
    assert [m.uri for m in audio_media(master)] == ["audio/index.m3u8"], master.dumps()
    assert sorted(n for n in os.listdir(out) if n.startswith("audio")) == ["audio"]
    completed = local_jobs.completed(job_id)
    on_disk = sum(len(p.segments) for p in h.load_hls_set(os.path.join(out, "master.m3u8")).media_playlists())
    assert completed["segments"] == on_disk, (completed["segments"], on_disk)
    assert_plays(out)
    assert work_leftovers(local_jobs.site.output_root) == []


# ---------------------------------------------------------------------------
# 2. bad jobs, all at once on one worker, then a good one with eight added files
# ---------------------------------------------------------------------------

NINE = [{"language": "es", "path": f"up/t{i}.m4a"} for i in range(1, 6)] + \
       [{"language": "en", "path": f"up/t{i}.m4a"} for i in range(6, 10)]

# job id -> (extra job fields, expected state, reason, what the message must name)
BAD_JOBS = {
    "dotdot": ({"audio": [{"language": "es", "path": "../outside/dub.m4a"}]}, "rejected", "unsafe-path", "audio[0].path"),
    "absolute": ({"audioDescription": [{"language": "en", "path": "/etc/passwd"}]}, "rejected", "unsafe-path",
                 "audioDescription[0].path"),
    "link-out": ({"audio": [ES, {"language": "de", "path": "up/link.m4a"}]}, "rejected", "unsafe-path", "audio[1].path"),
    "dir-link-out": ({"audioDescription": [{"language": "en", "path": "outdir/dub.m4a"}]}, "rejected", "unsafe-path",
                     "audioDescription[0].path"),
    "folder": ({"audio": [{"language": "es", "path": "up"}]}, "rejected", "unsafe-path", "audio[0].path"),
    "bad-language": ({"audio": [{"language": "english", "path": "up/dub.es.m4a"}]}, "rejected", "invalid-job",
                     "audio[0].language"),
    "bad-language-ad": ({"audio": [ES], "audioDescription": [{"language": "en_US", "path": "up/ad.m4a"}]}, "rejected",
                        "invalid-job", "audioDescription[0].language"),
    "nine-files": ({"audio": NINE[:5], "audioDescription": NINE[5:]}, "rejected", "invalid-job", "at most 8"),
    "missing": ({"audio": [{"language": "es", "path": "up/nope.m4a"}]}, "failed", "input-missing", "up/nope.m4a"),
    "missing-ad": ({"audio": [ES], "audioDescription": [{"language": "en", "path": "up/gone/ad.m4a"}]}, "failed",
                   "input-missing", "up/gone/ad.m4a"),
    "no-audio": ({"audioDescription": [{"language": "en", "path": "up/video-only.mp4"}]}, "failed", "bad-media",
                 "up/video-only.mp4"),
    "not-media": ({"audio": [{"language": "es", "path": "up/notes.m4a"}]}, "failed", "bad-media", "up/notes.m4a"),
    "audio-string": ({"audio": "up/dub.es.m4a"}, "rejected", "invalid-job", "audio"),
    "entry-string": ({"audio": ["up/dub.es.m4a"]}, "rejected", "invalid-job", "audio[0]"),
    "path-number": ({"audio": [{"language": "es", "path": 7}]}, "rejected", "invalid-job", "audio[0].path"),
    "language-number": ({"audioDescription": [{"language": 1, "path": "up/ad.m4a"}]}, "rejected", "invalid-job",
                        "audioDescription[0].language"),
    "no-path": ({"audioDescription": [{"language": "en"}]}, "rejected", "invalid-job", "audioDescription[0]"),
    "ad-object": ({"audioDescription": AD}, "rejected", "invalid-job", "audioDescription"),
}

# The good job after them: eight added files (the most a job may add), two in one language.
EIGHT = {"audio": [{"language": "es", "path": "up/t1.m4a"}, {"language": "es", "path": "up/t2.m4a"},
                   {"language": "de", "path": "up/t3.m4a"}, {"language": "pt-BR", "path": "up/t4.m4a"},
                   {"language": "ja", "path": "up/t5.m4a"}],
         "audioDescription": [{"language": "en", "path": "up/t6.m4a"}, {"language": "es", "path": "up/t7.m4a"},
                              {"language": "fr", "path": "up/t8.m4a"}]}
EIGHT_TRACKS = [SOURCE_TRACK,
                Track("audio-es", "es", "Español", False, TONES["up/t1.m4a"][0]),
                Track("audio-es-2", "es", "Español 2", False, TONES["up/t2.m4a"][0]),
                Track("audio-de", "de", None, False, TONES["up/t3.m4a"][0]),
                Track("audio-pt-br", "pt-BR", None, False, TONES["up/t4.m4a"][0]),
                Track("audio-ja", "ja", None, False, TONES["up/t5.m4a"][0]),
                Track("audio-en-ad", "en", "English (audio description)", True, TONES["up/t6.m4a"][0]),
                Track("audio-es-ad", "es", None, True, TONES["up/t7.m4a"][0]),
                Track("audio-fr-ad", "fr", None, True, TONES["up/t8.m4a"][0])]


@pytest.fixture(scope="module")
def bad_jobs(media, tmp_path_factory):
    """One worker given every bad job at once, then the good one; returns (site, outside folder,
    dead-letter headers by message id) once each has its terminal event and dead letter."""
    tmp = tmp_path_factory.mktemp("audio-worker-bad")
    site = open_audio_site(tmp, media)
    outside = tmp / "outside"
    outside.mkdir()
    tone(str(outside / "dub.m4a"), 660, 3, 2)
    os.symlink(str(outside / "dub.m4a"), os.path.join(site.input_root, "up", "link.m4a"))
    os.symlink(str(outside), os.path.join(site.input_root, "outdir"))
    bus = site.bus
    try:
        worker = site.start_worker("w-bad-audio")
        for job_id, (extra, _, _, _) in BAD_JOBS.items():
            body = {"jobId": job_id, "input": "clip.mp4", "output": job_id, **QUICK, **extra}
            bus.publish(json.dumps(body).encode(), message_id=job_id)
        site.submit({"jobId": "after", "input": "clip.mp4", "output": "after", **QUICK, **EIGHT})
        bus.wait(lambda: bus.of("after", "completed"), 180, "the good job after the bad ones", (worker,))
        bus.wait(lambda: len(bus.drain_dead_letters()) >= len(BAD_JOBS), 60, "every bad job dead-lettered", (worker,))
        bus.wait(lambda: all(any(e["state"] in ("failed", "rejected") for e in bus.of(j)) for j in BAD_JOBS), 60,
                 "a terminal event for every bad job", (worker,))
        site.stop_all_and_assert_drained()
        bus.poll()
        dead = {props.message_id: headers for headers, _, props in bus.dead}
        yield site, str(outside), dead
    finally:
        close_split_site(site)


@pytest.mark.parametrize("job_id", list(BAD_JOBS))
def test_worker_refuses_bad_added_audio(bad_jobs, job_id):
    site, outside, dead = bad_jobs
    _, state, reason, named = BAD_JOBS[job_id]
    terminal = [e for e in site.bus.of(job_id) if e["state"] in ("failed", "rejected")]
    assert len(terminal) == 1, states(site.bus.of(job_id))
    event = terminal[0]
    assert (event["state"], event["error"]["reason"]) == (state, reason), event
    assert event.get("deadLettered") is True and event.get("willRetry", False) is False, event
    assert dead.get(job_id, {}).get("x-hlsify-reason") == reason, dead.get(job_id)
    message = event["error"]["message"]
    assert named in message, f"the message does not name {named!r}: {message}"
    assert "/proc/self/fd" not in message, message
    if state == "rejected":
        assert states(site.bus.of(job_id)) == ["rejected"], states(site.bus.of(job_id))
    assert site.bus.of(job_id, "completed") == [] and not os.path.exists(site.output(job_id))
    assert sorted(os.listdir(outside)) == ["dub.m4a"]


def test_worker_takes_eight_added_files_after_the_bad_jobs(bad_jobs):
    """The good job after the bad ones: eight added files (the limit; nine are refused above),
    two in one language, three descriptions: nine renditions in the job's order, each folder
    with its own file's tone, all reported."""
    site, _, _ = bad_jobs
    (completed,) = site.bus.of("after", "completed")
    out = site.output("after")
    master = assert_audio_group(out, EIGHT_TRACKS)
    assert_audio_tracks(out, "after", completed, master)
    assert_plays(out)
    assert work_leftovers(site.output_root) == []


# ---------------------------------------------------------------------------
# 3. bucket roots: the added file is spooled from the input bucket, the output published
# ---------------------------------------------------------------------------


BUCKET_FILES = ("up/dub.es.m4a", "up/ad.m4a")
# landscape-720p.mp4's AAC is a 440 Hz tone without a language: LANGUAGE "und", NAME "Main".
BUCKET_TRACKS = [Track("audio", "und", "Main", False, SOURCE_HZ), ES_TRACK, AD_TRACK]


@pytest.fixture(params=PUBLISHING_SERVERS)
def audio_bucket_site(request, media, tmp_path) -> BucketSite:
    """test_storage_worker's bucket site (clip and subtitle under the input prefix) on each
    publishing server, with the dub and the description added under the input prefix."""
    server = request.getfixturevalue(SERVER_FIXTURES[request.param])
    s = open_bucket_site(server, server, tmp_path, request.node.name)
    for rel in BUCKET_FILES:
        s.store.put(s.in_bucket, f"{IN_PREFIX}/{rel}", os.path.join(media, rel))
    yield s
    close_site(s)


def test_bucket_job_with_added_audio_is_published_with_its_renditions(audio_bucket_site, tmp_path):
    """A job on bucket roots naming a dub and a description in the input bucket: the files are
    spooled like the input (and gone afterwards), the output bucket holds the whole set with
    `audio-es/` and `audio-en-ad/` (each with its file's tone), the master lists them, the
    completion and its marker say so. A job naming a missing object fails once with its address."""
    site, bus = audio_bucket_site, audio_bucket_site.bus
    output = "courses/c1/dubbed"
    missing = f"s3://{site.in_bucket}/{IN_PREFIX}/up/nope.m4a"
    worker = site.start_worker("w-bucket-audio")
    site.submit({"jobId": "dubbed", "input": BUCKET_CLIP, "output": output, **QUICK, "audio": [ES], "audioDescription": [AD]})
    site.submit({"jobId": "dub-missing", "input": BUCKET_CLIP, "output": "dub-missing", **QUICK,
                 "audio": [ES, {"language": "de", "path": "up/nope.m4a"}]})
    bus.wait(lambda: bus.of("dubbed", "completed") and bus.of("dub-missing", "failed"), WAIT,
             "the good job's completion and the missing file's failure", (worker,))
    completed = completed_once_after_stop(site, "dubbed")

    # The job naming a missing object fails once, dead-lettered, naming the object's address.
    (failed,) = bus.of("dub-missing", "failed")
    assert failed["error"]["reason"] == "input-missing" and failed.get("willRetry") is False, failed
    assert missing in failed["error"]["message"], failed
    dead = [headers.get("x-hlsify-reason") for headers, _, _ in bus.drain_dead_letters()]
    assert dead == ["input-missing"], dead
    assert site.output_keys("dub-missing") == []

    # The good job: published whole (listing, marker, plays once downloaded), its audio group
    # the source's audio, the dub, the description.
    marker, the_set = assert_complete_output(site, output, "dubbed", str(tmp_path))
    folder = os.path.join(str(tmp_path), "downloaded-dubbed")
    for t in BUCKET_TRACKS[1:]:
        playlist = h.load_media_playlist(os.path.join(folder, t.folder, "index.m3u8"))
        objects = sorted(k for k in the_set if k.startswith(f"{t.folder}/"))
        assert objects == sorted([f"{t.folder}/index.m3u8", f"{t.folder}/init.mp4"]
                                 + [f"{t.folder}/{os.path.basename(s.path)}" for s in playlist.segments]), objects
        assert len(playlist.segments) == 3, playlist.text  # 5 s in 2 s segments
    master = assert_audio_group(folder, BUCKET_TRACKS)
    assert_audio_tracks(folder, output, completed, master, marker)
    # The input bucket is as it was; the spooled files are gone from the work root.
    assert site.store.keys(site.in_bucket) == sorted(f"{IN_PREFIX}/{k}" for k in (BUCKET_CLIP, SUBTITLE, *BUCKET_FILES))
    assert site.leftovers() == [], site.leftovers()
    site.assert_no_secret()


# ---------------------------------------------------------------------------
# bugs this file found (they fail until they are fixed)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("job_id", list(CONTROLS))
def test_a_split_job_lists_its_audio_track_like_a_whole_one(local_jobs, job_id):
    """README: "The report's `audioTracks` lists the group (default first, the same entry as
    `audio`)"; JobEvent.Completion: audioTracks is absent only "for a source without video or
    audio, and in markers of older workers". A whole job without added audio (plain-whole) lists
    its one track; the same source split by time lists none: the stitched report's audioTracks
    is empty (and its `audio` has no name/isDefault), so job.completed leaves the field out and
    whether a consumer gets it depends on how the worker scheduled the job."""
    output = CONTROLS[job_id]
    out = local_jobs.site.output(output)
    master = m3u8.load(os.path.join(out, "master.m3u8"))
    assert_audio_tracks(out, output, local_jobs.completed(job_id), master)
