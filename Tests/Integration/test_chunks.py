"""Time-chunked transcoding (issue 14; the contract is in the issue's chunk-contract notes):
`hlsify plan` splits one source by time into video chunks plus one audio chunk, `hlsify
encode-chunk` encodes each chunk on its own (any order, any worker, each starting a pre-roll
earlier whose pictures are encoded and dropped) and commits it by one atomic rename, and `hlsify
stitch` puts the committed chunks together into one HLS set. The promise tested here: the
stitched set is the set `hlsify SRC --out DIR` writes with the same options, up to the
nondeterminism of x264 with frame threads.

So every chunked run is compared with an unsplit reference run of the same source and options,
in both segment formats. Before the stitch, each committed chunk folder is read against its
manifest.json (the contract's fields, segment range, final file names, bytes and SHA-256, nothing
else in it); the stitch must leave WORK as it was. The stitched set, against the reference:
- structure: the master's variants (URI, RESOLUTION, CODECS, FRAME-RATE), EXT-X-VERSION, the
  same files, segment counts, EXTINF values, TARGETDURATION and I-frame entries, and no
  EXT-X-DISCONTINUITY anywhere (the joins must not be visible to a player);
- bytes that are deterministic: every init.mp4 (fMP4) and the whole audio rendition (audio is
  one chunk, encoded whole);
- the joins, read below the playlists: fMP4 `mfhd` sequence numbers run on by one across every
  segment file of a rendition, MPEG-TS continuity counters run on per PID across files (counted
  per PID and compared with the reference's, which has none out of order), ffprobe reads each
  whole rendition without an error and decodes the reference's frame count, and the picture
  quality (PSNR against the source) is the reference's, on average and in the segments on either
  side of every join, where a missing or wrong pre-roll would show;
- BANDWIDTH and AVERAGE-BANDWIDTH close to the reference's (a chunk whose rate control starts
  cold spends differently);
- every check test_output.py and test_apple_rules.py make of an ordinary run, on the stitched
  set (as test_resume.py does for resumed runs).

Then the contract's edges, on copies of the fMP4 run's work folder: plans reused and refused,
duplicate and concurrent runs of one chunk, wrong chunk names and sources, a work folder marked
failed (before and during a run), a missing or tampered chunk at stitch time, an existing output,
and a chunk run SIGKILLed after its 2nd committed segment (HLSIFY_TEST_KILL_AT), which must leave
nothing committed and be repeatable.

The source is made here: 30 s of 640x360 testsrc2 at 30 fps and a tone (AAC, 48 kHz stereo),
with a keyframe every 5 s, so that no chunk start (6, 12, 18, 24 s) is a source keyframe and
every chunk but the first has to decode from an earlier keyframe through its pre-roll. With 2 s
segments, 6 s chunks and a two-rung ladder this is 5 video chunks of 3 segments and the audio.

Video bytes are not compared: x264 with frame threads is not deterministic run to run. Quality
and bandwidth get tolerances instead, against the reference measured the same way in the same
session: mean PSNR within 0.05 dB (two unsplit runs differ by under 0.01 dB), no segment next to a
join more than 0.5 dB below the reference's, AVERAGE-BANDWIDTH within 2% and BANDWIDTH within 5%.
A dropped or doubled frame at a join shows in the frame counts, and in the PSNR of every frame
after it (frames are paired by position).

The expensive runs (reference, plan, six chunk runs two at a time, stitch) are made once per
format and shared; the edge cases reuse the fMP4 work folder through copies.
"""

from __future__ import annotations

import collections
import filecmp
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

import m3u8
import pytest

import apple_rules as ar
import hlscheck as h
import test_apple_rules as apple_checks
import test_output as output_checks
import test_playback as playback
import test_preview as preview
from test_preview import chromium, serve  # noqa: F401  (fixtures, used by name)
from conftest import (FIXTURES, MATRIX_PRESET, SEGMENT_DURATION, TRANSCODE_TIMEOUT, FixtureInfo, RunResult,
                      Transcode, expected_rungs, hlsify_bin)

SOURCE_SECONDS = 30
SOURCE_SIZE = "640x360"
SOURCE_FPS = 30
SOURCE_GOP_FRAMES = 150  # a keyframe every 5 s: never at a chunk start
LADDER = "360p,240p"
LADDER_RUNGS = [360, 240]
CHUNK_SECONDS = 6
CHUNK_SEGMENTS = CHUNK_SECONDS // SEGMENT_DURATION  # 3
SEGMENTS = SOURCE_SECONDS // SEGMENT_DURATION  # 15
VIDEO_CHUNKS = SEGMENTS // CHUNK_SEGMENTS  # 5
CHUNK_NAMES = [str(k) for k in range(VIDEO_CHUNKS)] + ["audio"]
FRAMES_PER_SEGMENT = SEGMENT_DURATION * SOURCE_FPS

KILL_ENV = "HLSIFY_TEST_KILL_AT"
KILLED = -signal.SIGKILL
EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_UNAVAILABLE, EX_CANTCREAT, EX_TEMPFAIL = 64, 65, 66, 69, 73, 75

MEAN_PSNR_TOLERANCE = 0.05  # dB
JOIN_PSNR_TOLERANCE = 0.5  # dB
AVERAGE_BANDWIDTH_TOLERANCE = 0.02
PEAK_BANDWIDTH_TOLERANCE = 0.05
EXTINF_TOLERANCE = 0.001


def folder_of(name: str) -> str:
    """The committed folder of a chunk name as plan prints it: `3` -> video-003, `audio`."""
    return name if name == "audio" else f"video-{int(name):03d}"


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------


def _env(extra: Optional[dict] = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    env.update(extra or {})
    return env


def hlsify(*args, env: Optional[dict] = None, timeout: float = TRANSCODE_TIMEOUT) -> RunResult:
    """One hlsify run (thread-safe: the environment is passed, not patched)."""
    argv = [hlsify_bin(), *map(str, args)]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              env=_env(env))
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"hlsify did not finish within {timeout}s: {' '.join(argv)}\n{(e.stderr or b'')[-2000:]!r}")
    return RunResult(argv, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)


def settings_args(fmt: str, **override: str) -> list[str]:
    opts = {"ladder": LADDER, "segment-duration": str(SEGMENT_DURATION), "preset": MATRIX_PRESET,
            "segment-format": fmt}
    opts.update({k.replace("_", "-"): v for k, v in override.items()})
    return [x for k, v in opts.items() for x in (f"--{k}", v)]


def plan(source: str, work: str, fmt: str, *extra: str, **override: str) -> RunResult:
    return hlsify("plan", source, "--work", work, "--chunk-duration", str(CHUNK_SECONDS),
                  *settings_args(fmt, **override), *extra)


def encode_chunk(source: str, work: str, name: str, *extra: str, env: Optional[dict] = None) -> RunResult:
    return hlsify("encode-chunk", source, "--work", work, "--chunk", name, *extra, env=env)


def stitch(work: str, out: str, *extra: str) -> RunResult:
    return hlsify("stitch", "--work", work, "--out", out, "--json", "--quiet", *extra)


def require(res: RunResult, what: str, code: int = 0) -> RunResult:
    if res.returncode != code:
        pytest.fail(f"{what}: expected exit {code}\n{res.describe()}", pytrace=False)
    return res


def as_transcode(source: str, out: str, fmt: str, result: RunResult) -> Transcode:
    """A run as conftest's Transcode, so test_output.py's checks read it like a matrix case."""
    return Transcode(FixtureInfo(source, "und"), fmt, os.path.dirname(out), out, result)


def sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree_digest(root: str) -> dict[str, Optional[str]]:
    """Every entry below root: a file's SHA-256, None for a folder."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = None
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = sha256_file(p)
    return out


def chunk_entries(work: str) -> list[str]:
    d = os.path.join(work, "chunks")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def committed(work: str) -> list[str]:
    return [n for n in chunk_entries(work) if not n.startswith(".")]


def hidden(work: str) -> list[str]:
    return [n for n in chunk_entries(work) if n.startswith(".")]


def flip_byte(path: str) -> None:
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        data[len(data) // 2] ^= 0xFF
        f.seek(0)
        f.write(data)


# ---------------------------------------------------------------------------
# independent readers: fMP4 boxes, TS packets, PSNR
# ---------------------------------------------------------------------------


def mp4_boxes(data: bytes, start: int = 0, end: Optional[int] = None):
    """(type, offset, header size, size) of the boxes in data[start:end]; raises on a box that
    does not fit."""
    end = len(data) if end is None else end
    i = start
    while i < end:
        if i + 8 > end:
            raise AssertionError(f"{end - i} stray bytes after the last box")
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[i + 8:i + 16])[0], 16
        elif size == 0:
            size = end - i
        if size < header or i + size > end:
            raise AssertionError(f"box {kind!r} at {i} of size {size} does not fit in {end}")
        yield kind.decode("latin-1"), i, header, size
        i += size


def mfhd_sequence_numbers(data: bytes) -> list[int]:
    """The sequence_number of every moof's mfhd, in file order."""
    out = []
    for kind, off, header, size in mp4_boxes(data):
        if kind != "moof":
            continue
        seqs = [struct.unpack(">I", data[o + hh + 4:o + hh + 8])[0]
                for k, o, hh, s in mp4_boxes(data, off + header, off + size) if k == "mfhd"]
        assert len(seqs) == 1, f"moof at {off} has {len(seqs)} mfhd boxes"
        out.append(seqs[0])
    return out


def fragment_sequence(pl: h.MediaPlaylist) -> list[list[int]]:
    """Per segment file of a playlist, its moofs' sequence numbers."""
    return [mfhd_sequence_numbers(s.data()) for s in pl.segments]


@dataclass
class TSCounters:
    packets: dict  # PID -> packets with payload
    jumps: dict  # PID -> continuity counters that are neither the previous + 1 nor a repeat
    repeats: dict  # PID -> counters equal to the previous (a duplicate packet)
    flagged: dict  # PID -> packets with the discontinuity_indicator set
    first_jump: Optional[str]


def ts_counters(pl: h.MediaPlaylist) -> TSCounters:
    """MPEG-TS continuity counters across the playlist's segment files, per PID: a packet with a
    payload must carry the previous counter + 1 (mod 16); packets without payload (adaptation
    field only) keep it. Counted, not stopped at the first, so stitched and reference can be
    compared PID by PID."""
    last: dict[int, int] = {}
    packets, jumps, repeats, flagged = (collections.Counter() for _ in range(4))
    first_jump = None
    for k, seg in enumerate(pl.segments):
        data = seg.data()
        assert len(data) % 188 == 0, f"{seg.uri}: {len(data)} bytes is not whole 188-byte packets"
        for i in range(0, len(data), 188):
            assert data[i] == 0x47, f"{seg.uri}: no sync byte at {i}"
            pid = ((data[i + 1] & 0x1F) << 8) | data[i + 2]
            if pid == 0x1FFF:
                continue
            control = (data[i + 3] >> 4) & 3
            if control & 2 and data[i + 4] > 0 and data[i + 5] & 0x80:
                flagged[pid] += 1
            if not control & 1:
                continue
            cc = data[i + 3] & 0x0F
            packets[pid] += 1
            prev = last.get(pid)
            if prev is not None:
                if cc == prev:
                    repeats[pid] += 1
                elif cc != (prev + 1) % 16:
                    jumps[pid] += 1
                    if first_jump is None:
                        first_jump = f"{seg.uri} (segment {k}, byte {i}) PID {pid:#x}: counter {cc} after {prev}"
            last[pid] = cc
    return TSCounters(dict(packets), dict(jumps), dict(repeats), dict(flagged), first_jump)


def psnr_per_frame(source: str, pl: h.MediaPlaylist, size: tuple[int, int]) -> list[float]:
    """Per decoded frame of the whole rendition, its PSNR (dB, average of the planes) against the
    source scaled to the rendition's size, from ffmpeg's psnr filter stats file. Both streams
    start at time 0 (setpts), so frame n is compared with source frame n."""
    w, hgt = size
    with h.TempMedia(pl.whole(), pl.suffix) as enc, tempfile.TemporaryDirectory() as d:
        h.run(["ffmpeg", "-v", "error", "-nostdin", "-i", enc, "-i", source, "-lavfi",
               f"[0:v]setpts=PTS-STARTPTS[enc];[1:v]scale={w}:{hgt},setpts=PTS-STARTPTS[src];"
               f"[enc][src]psnr=stats_file=psnr.log", "-f", "null", "-"], cwd=d, timeout=300)
        with open(os.path.join(d, "psnr.log"), encoding="utf-8") as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
    out = []
    for line in lines:
        fields = dict(x.split(":", 1) for x in line.split())
        out.append(min(float(fields["psnr_avg"]), 100.0))  # "inf" for an identical frame
    return out


def segment_means(values: list[float], per_segment: int) -> list[float]:
    return [statistics.fmean(values[i:i + per_segment]) for i in range(0, len(values), per_segment)]


def join_segments(segments: int, chunk_segments: int) -> list[int]:
    """The first and the last segment of every chunk."""
    out = set()
    for first in range(0, segments, chunk_segments):
        out.add(first)
        out.add(min(first + chunk_segments, segments) - 1)
    return sorted(out)


def iframe_playlists(t: Transcode) -> dict[str, h.MediaPlaylist]:
    master = m3u8.loads(t.hls.master_text)
    return {ip.uri: h.load_media_playlist(h.resolve(t.hls.master_path, ip.uri), ip.uri)
            for ip in master.iframe_playlists}


def playlists_by_path(t: Transcode) -> dict[str, h.MediaPlaylist]:
    return {os.path.relpath(pl.path, t.out): pl for pl in t.hls.media_playlists()}


def ffprobe_whole(pl: h.MediaPlaylist) -> tuple[str, dict]:
    """ffprobe -v error over the whole rendition (init + segments as one file), decoding every
    frame: (stderr, {codec_type: decoded frames})."""
    with h.TempMedia(pl.whole(), pl.suffix) as p:
        proc = h.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=codec_type,nb_read_frames",
                      "-of", "json", p], check=False)
    stderr = proc.stderr.decode(errors="replace")
    try:
        streams = json.loads(proc.stdout or b"{}").get("streams", [])
    except json.JSONDecodeError:
        streams = []
    frames = {s.get("codec_type"): int(s.get("nb_read_frames", 0)) for s in streams}
    if proc.returncode != 0:
        stderr += f"\n(ffprobe exited {proc.returncode})"
    return stderr, frames


# ---------------------------------------------------------------------------
# comparisons with the unsplit reference
# ---------------------------------------------------------------------------

_BANDWIDTH = re.compile(r"(AVERAGE-)?BANDWIDTH=\d+,?")


def structure_findings(t: Transcode, ref: Transcode) -> list[str]:
    """What differs from the reference in structure (see the module docstring, first point)."""
    out = []
    files, ref_files = h.list_tree(t.out), h.list_tree(ref.out)
    if files != ref_files:
        out.append(f"files differ from the reference's: extra {sorted(set(files) - set(ref_files))}, "
                   f"missing {sorted(set(ref_files) - set(files))}")
    mine = [(v.uri, v.resolution, v.codecs, v.frame_rate, v.audio) for v in t.hls.variants]
    theirs = [(v.uri, v.resolution, v.codecs, v.frame_rate, v.audio) for v in ref.hls.variants]
    if mine != theirs:
        out.append(f"variants (URI, RESOLUTION, CODECS, FRAME-RATE, AUDIO) {mine}, reference {theirs}")
    if _BANDWIDTH.sub("", t.hls.master_text) != _BANDWIDTH.sub("", ref.hls.master_text):
        out.append(f"master differs beyond bandwidths:\n{t.hls.master_text}\nreference:\n{ref.hls.master_text}")
    if t.hls.master.version != ref.hls.master.version:
        out.append(f"master EXT-X-VERSION {t.hls.master.version}, reference {ref.hls.master.version}")
    pls, ref_pls = playlists_by_path(t), playlists_by_path(ref)
    ipls, ref_ipls = iframe_playlists(t), iframe_playlists(ref)
    if sorted(pls) != sorted(ref_pls):
        out.append(f"media playlists {sorted(pls)}, reference {sorted(ref_pls)}")
    if sorted(ipls) != sorted(ref_ipls):
        out.append(f"I-frame playlists {sorted(ipls)}, reference {sorted(ref_ipls)}")
    pairs = [(p, pls[p], ref_pls[p]) for p in sorted(set(pls) & set(ref_pls))] + \
        [(p, ipls[p], ref_ipls[p]) for p in sorted(set(ipls) & set(ref_ipls))]
    for path, pl, r in pairs:
        if pl.version != r.version:
            out.append(f"{path}: EXT-X-VERSION {pl.version}, reference {r.version}")
        if pl.target_duration != r.target_duration:
            out.append(f"{path}: EXT-X-TARGETDURATION {pl.target_duration}, reference {r.target_duration}")
        if len(pl.segments) != len(r.segments):
            out.append(f"{path}: {len(pl.segments)} entries, reference {len(r.segments)}")
            continue
        bad = [(i, a, b) for i, (a, b) in enumerate(zip(pl.durations, r.durations)) if abs(a - b) > EXTINF_TOLERANCE]
        if bad:
            out.append(f"{path}: EXTINF (index, stitched, reference) differ: {bad[:5]}")
        uris = [s.uri for s in pl.segments]
        if uris != [s.uri for s in r.segments]:
            out.append(f"{path}: segment URIs differ from the reference's")
    for text, where in [(t.hls.master_text, "master.m3u8")] + [(pl.text, path) for path, pl, _ in pairs]:
        if "#EXT-X-DISCONTINUITY" in text:
            out.append(f"{where}: has EXT-X-DISCONTINUITY")
    return out


def identical_bytes_findings(t: Transcode, ref: Transcode) -> list[str]:
    """fMP4: every init.mp4 as the reference's. Both formats: every file of every audio
    rendition's folder as the reference's."""
    out = []
    if t.fmt == "fmp4":
        for path in sorted(playlists_by_path(ref)):
            folder = os.path.dirname(path)
            a, b = os.path.join(t.out, folder, "init.mp4"), os.path.join(ref.out, folder, "init.mp4")
            if not os.path.isfile(a):
                out.append(f"{folder}/init.mp4 is missing")
            elif not filecmp.cmp(a, b, shallow=False):
                out.append(f"{folder}/init.mp4 differs from the reference's")
    audio = sorted({os.path.dirname(os.path.relpath(r.playlist.path, ref.out)) for r in ref.hls.audio_renditions})
    if not audio:
        out.append("the reference has no audio rendition")
    for folder in audio:
        a, b = os.path.join(t.out, folder), os.path.join(ref.out, folder)
        names = sorted(os.listdir(b))
        have = sorted(os.listdir(a)) if os.path.isdir(a) else []
        if have != names:
            out.append(f"{folder}/ holds {have}, reference {names}")
        _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
        if mismatch or errors:
            out.append(f"{folder}/: files differ from the reference's: {mismatch + errors}")
    return out


def continuity_findings(t: Transcode, ref: Transcode) -> list[str]:
    """fMP4: per rendition, the mfhd sequence numbers over all its segment files run on by one,
    from the reference's first. TS: per rendition and PID, as many continuity-counter jumps,
    repeats and discontinuity flags as the reference (which has none)."""
    out = []
    pls, ref_pls = playlists_by_path(t), playlists_by_path(ref)
    for path in sorted(set(pls) & set(ref_pls)):
        pl, r = pls[path], ref_pls[path]
        if t.fmt == "fmp4":
            per_file, ref_per_file = fragment_sequence(pl), fragment_sequence(r)
            seqs = [s for f in per_file for s in f]
            ref_seqs = [s for f in ref_per_file for s in f]
            empty = [i for i, f in enumerate(per_file) if not f]
            if empty:
                out.append(f"{path}: segments {empty} hold no moof")
            if not seqs:
                continue
            breaks = [(i, a, b) for i, (a, b) in enumerate(zip(seqs, seqs[1:])) if b != a + 1]
            if breaks:
                out.append(f"{path}: mfhd sequence numbers not consecutive at (fragment, n, next) {breaks[:5]}; "
                           f"per file {per_file}")
            if ref_seqs and seqs[0] != ref_seqs[0]:
                out.append(f"{path}: first mfhd sequence number {seqs[0]}, reference {ref_seqs[0]}")
            if len(seqs) != len(ref_seqs):
                out.append(f"{path}: {len(seqs)} fragments, reference {len(ref_seqs)}")
        else:
            c, rc = ts_counters(pl), ts_counters(r)
            if set(c.packets) != set(rc.packets):
                out.append(f"{path}: PIDs {sorted(c.packets)}, reference {sorted(rc.packets)}")
            for label, mine, theirs in (("continuity counter jumps", c.jumps, rc.jumps),
                                        ("repeated counters", c.repeats, rc.repeats),
                                        ("discontinuity_indicator flags", c.flagged, rc.flagged)):
                if mine != theirs:
                    out.append(f"{path}: {label} per PID {mine}, reference {theirs}"
                               + (f"; first: {c.first_jump}" if label.endswith("jumps") and c.first_jump else ""))
    return out


def probe_findings(t: Transcode, ref: Transcode) -> list[str]:
    """ffprobe -v error over each whole rendition: nothing on stderr, and the reference's count
    of decoded frames per stream type."""
    out = []
    pls, ref_pls = playlists_by_path(t), playlists_by_path(ref)
    paths = sorted(set(pls) & set(ref_pls))
    with ThreadPoolExecutor(max_workers=2) as pool:
        mine = {p: pool.submit(ffprobe_whole, pls[p]) for p in paths}
        theirs = {p: pool.submit(ffprobe_whole, ref_pls[p]) for p in paths}
        for p in paths:
            (err, frames), (ref_err, ref_frames) = mine[p].result(), theirs[p].result()
            if err.strip():
                out.append(f"{p}: ffprobe reports errors:\n{err.strip()[:1500]}")
            if ref_err.strip():
                out.append(f"{p}: ffprobe reports errors in the reference (the check cannot tell):\n{ref_err[:500]}")
            if "video" in ref_frames and frames.get("video") != ref_frames["video"]:
                out.append(f"{p}: {frames.get('video')} video frames decoded, reference {ref_frames['video']}")
            if frames.keys() != ref_frames.keys():
                out.append(f"{p}: streams {sorted(frames)}, reference {sorted(ref_frames)}")
    return out


@dataclass
class Quality:
    mean: float
    segments: list[float]
    frames: int


def quality(source: str, t: Transcode) -> dict[str, Quality]:
    """Per video variant URI: PSNR against the source, mean and per segment (2 s of frames)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {v.uri: pool.submit(psnr_per_frame, source, v.playlist, v.resolution) for v in t.hls.variants}
        values = {uri: f.result() for uri, f in futures.items()}
    return {uri: Quality(statistics.fmean(v), segment_means(v, FRAMES_PER_SEGMENT), len(v))
            for uri, v in values.items()}


def quality_findings(q: dict[str, Quality], ref_q: dict[str, Quality], chunk_segments: int) -> list[str]:
    """Mean PSNR within MEAN_PSNR_TOLERANCE of the reference's; in every segment next to a join
    (first and last of each chunk) no more than JOIN_PSNR_TOLERANCE below the same segment of
    the reference."""
    out = []
    for uri in sorted(ref_q):
        if uri not in q:
            out.append(f"{uri}: not measured")
            continue
        a, b = q[uri], ref_q[uri]
        if a.frames != b.frames:
            out.append(f"{uri}: PSNR over {a.frames} frames, reference {b.frames}")
        if abs(a.mean - b.mean) > MEAN_PSNR_TOLERANCE:
            out.append(f"{uri}: mean PSNR {a.mean:.3f} dB, reference {b.mean:.3f} dB "
                       f"(tolerance {MEAN_PSNR_TOLERANCE} dB)")
        joins = [i for i in join_segments(len(b.segments), chunk_segments) if i < len(a.segments)]
        drops = {i: b.segments[i] - a.segments[i] for i in joins}
        worst = max(drops, key=drops.get) if drops else None
        if worst is not None and drops[worst] > JOIN_PSNR_TOLERANCE:
            out.append(f"{uri}: segment {worst} (next to a join) has PSNR {a.segments[worst]:.3f} dB, reference "
                       f"{b.segments[worst]:.3f} dB; per join segment (stitched, reference): "
                       + ", ".join(f"{i}: {a.segments[i]:.2f}/{b.segments[i]:.2f}" for i in joins))
    return out


def bandwidth_findings(t: Transcode, ref: Transcode) -> list[str]:
    out = []
    theirs = {v.uri: v for v in ref.hls.variants}
    for v in t.hls.variants:
        r = theirs.get(v.uri)
        if r is None:
            continue
        if not (v.average_bandwidth and abs(v.average_bandwidth - r.average_bandwidth)
                <= AVERAGE_BANDWIDTH_TOLERANCE * r.average_bandwidth):
            out.append(f"{v.uri}: AVERAGE-BANDWIDTH {v.average_bandwidth}, reference {r.average_bandwidth} "
                       f"(±{AVERAGE_BANDWIDTH_TOLERANCE:.0%})")
        if not (v.bandwidth and abs(v.bandwidth - r.bandwidth) <= PEAK_BANDWIDTH_TOLERANCE * r.bandwidth):
            out.append(f"{v.uri}: BANDWIDTH {v.bandwidth}, reference {r.bandwidth} (±{PEAK_BANDWIDTH_TOLERANCE:.0%})")
    return out


def assert_none(findings: list[str], label: str) -> None:
    assert not findings, f"{label}:\n  " + "\n  ".join(findings)


# ---------------------------------------------------------------------------
# the full validation of an ordinary run (test_output.py, test_apple_rules.py)
# ---------------------------------------------------------------------------


def check_ladder(case: Transcode) -> None:
    """test_output.test_ladder_has_the_expected_rungs for LADDER (it assumes the default ladder)."""
    src = case.source.video
    want = expected_rungs(*src.display_size, ladder=LADDER_RUNGS)
    got = sorted((min(v.resolution) for v in case.hls.variants), reverse=True)
    assert got == sorted(want, reverse=True), f"rendition short sides {got}, expected {want} for --ladder {LADDER}"
    assert len(case.report["renditions"]) == len(case.hls.variants)


OUTPUT_CHECKS = output_checks.spelled_out(check_ladder)


def validation_findings(t: Transcode) -> list[str]:
    """Every check test_output.py and test_apple_rules.py make of a matrix run, as findings."""
    t.require_success()
    t.probe_in_parallel(2)
    out = []
    for name, fn, kwargs in OUTPUT_CHECKS:
        try:
            fn(t, **kwargs)
        except pytest.skip.Exception:
            pass
        except AssertionError as e:
            out.append(f"test_output.{name}: {str(e).splitlines()[0] if str(e) else 'assertion failed'}")
    ctx = ar.Context(os.path.join(t.out, "master.m3u8"), source=t.fixture.name,
                     nominal_segment=SEGMENT_DURATION, segment_checks=t.segment_checks)
    for rule, found in ar.check_all(ctx).items():
        if found and rule not in apple_checks.PENDING:
            out.append(f"apple_rules.{rule}: {found[:3]}")
    return out


# ---------------------------------------------------------------------------
# manifests of committed chunks
# ---------------------------------------------------------------------------


def manifest_findings(work: str, name: str, plan_id: str, ref: Transcode, source_frames: int) -> list[str]:
    """A committed chunk folder against the contract: manifest.json's fields, its renditions'
    folders, the init section and every segment file under its final name with the bytes and
    SHA-256 the manifest names (and nothing else), the segment range of the chunk, and segment
    times and frames as the reference's playlists have them."""
    folder = folder_of(name)
    root = os.path.join(work, "chunks", folder)
    where = f"chunks/{folder}"
    path = os.path.join(root, "manifest.json")
    if not os.path.isfile(path):
        return [f"{where}: no manifest.json ({h.list_tree(root) if os.path.isdir(root) else 'no folder'})"]
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        return [f"{where}/manifest.json: not JSON ({e})"]
    out = []
    ref_pls = playlists_by_path(ref)
    audio_folders = sorted(os.path.dirname(os.path.relpath(r.playlist.path, ref.out)) for r in ref.hls.audio_renditions)
    video_folders = [os.path.dirname(v.uri) for v in ref.hls.variants]
    ref_codecs = {os.path.dirname(v.uri): [c for c in v.codec_list if c.startswith("avc")] for v in ref.hls.variants}
    is_audio = name == "audio"
    k = None if is_audio else int(name)
    first = 0 if is_audio else k * CHUNK_SEGMENTS
    end = None if is_audio or k == VIDEO_CHUNKS - 1 else (k + 1) * CHUNK_SEGMENTS
    want = {"formatVersion": 1, "planId": plan_id, "chunk": folder, "firstSegment": first, "endSegment": end}
    # endSegment may be null: a key left out reads as null (JSON encoders that skip nil values)
    got = {key: m.get(key, None if key == "endSegment" else "(absent)") for key in want}
    if got != want:
        out.append(f"{where}/manifest.json: {got}, expected {want}")
    if is_audio and m.get("videoFrames") != source_frames:
        out.append(f"{where}/manifest.json: videoFrames {m.get('videoFrames')}, the source has {source_frames}")
    renditions = m.get("renditions") or []
    folders = [r.get("folder") for r in renditions]
    expected_folders = audio_folders if is_audio else video_folders
    if sorted(map(str, folders)) != sorted(expected_folders):
        out.append(f"{where}: renditions {folders}, expected {expected_folders}")
    on_disk = sorted(n for n in os.listdir(root) if n != "manifest.json")
    if on_disk != sorted(map(str, folders)):
        out.append(f"{where}: holds {on_disk} beside manifest.json, the manifest names {folders}")
    ext = "m4s" if ref.fmt == "fmp4" else "ts"
    for r in renditions:
        rf = str(r.get("folder"))
        rdir = os.path.join(root, rf)
        ref_pl = ref_pls.get(f"{rf}/index.m3u8")
        if not os.path.isdir(rdir) or ref_pl is None:
            continue
        if not is_audio and [r.get("codecs")] != ref_codecs.get(rf):
            out.append(f"{where}/{rf}: codecs {r.get('codecs')!r}, reference {ref_codecs.get(rf)}")
        if is_audio and r.get("codecs") != "mp4a.40.2":
            out.append(f"{where}/{rf}: codecs {r.get('codecs')!r}")
        named = []
        init = r.get("init")
        if ref.fmt == "fmp4":
            if not isinstance(init, dict) or init.get("file") != "init.mp4":
                out.append(f"{where}/{rf}: init {init}, expected init.mp4")
            else:
                named.append("init.mp4")
                p = os.path.join(rdir, "init.mp4")
                if not os.path.isfile(p) or os.path.getsize(p) != init.get("bytes") or sha256_file(p) != init.get("sha256"):
                    out.append(f"{where}/{rf}/init.mp4: not there with the manifest's bytes and SHA-256 ({init})")
                elif not filecmp.cmp(p, os.path.join(ref.out, rf, "init.mp4"), shallow=False):
                    out.append(f"{where}/{rf}/init.mp4: differs from the reference's")
        elif init is not None:
            out.append(f"{where}/{rf}: init {init} in MPEG-TS (expected null)")
        segs = r.get("segments") or []
        last = len(ref_pl.segments) if end is None else end
        indices = [s.get("index") for s in segs]
        if indices != list(range(first, last)):
            out.append(f"{where}/{rf}: segment indices {indices}, expected {first}..{last - 1}")
        for s in segs:
            i, fname = s.get("index"), s.get("file")
            named.append(str(fname))
            if not isinstance(i, int) or fname != f"segment-{i:05d}.{ext}":
                out.append(f"{where}/{rf}: segment {i} in file {fname!r}, not its final name")
                continue
            p = os.path.join(rdir, fname)
            if not os.path.isfile(p) or os.path.getsize(p) != s.get("bytes") or sha256_file(p) != s.get("sha256"):
                out.append(f"{where}/{rf}/{fname}: not there with the manifest's bytes and SHA-256")
            if 0 <= i < len(ref_pl.segments):
                ref_start = sum(ref_pl.durations[:i])
                if not isinstance(s.get("duration"), (int, float)) or \
                        abs(s["duration"] - ref_pl.durations[i]) > EXTINF_TOLERANCE:
                    out.append(f"{where}/{rf}/{fname}: duration {s.get('duration')}, reference EXTINF "
                               f"{ref_pl.durations[i]}")
                if not isinstance(s.get("start"), (int, float)) or abs(s["start"] - ref_start) > 1.5 / SOURCE_FPS:
                    out.append(f"{where}/{rf}/{fname}: start {s.get('start')}, the reference's EXTINFs add up to "
                               f"{ref_start:.4f}")
            if not is_audio and s.get("frames") != FRAMES_PER_SEGMENT:
                out.append(f"{where}/{rf}/{fname}: {s.get('frames')} frames, expected {FRAMES_PER_SEGMENT}")
        extra = sorted(set(os.listdir(rdir)) - set(named))
        if extra:
            out.append(f"{where}/{rf}: files the manifest does not name: {extra}")
    return out


# ---------------------------------------------------------------------------
# the runs, made once per format
# ---------------------------------------------------------------------------


def make_source(path: str, tone: int = 440) -> str:
    h.run(["ffmpeg", "-v", "error", "-nostdin", "-y",
           "-f", "lavfi", "-i", f"testsrc2=size={SOURCE_SIZE}:rate={SOURCE_FPS}:duration={SOURCE_SECONDS}",
           "-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=48000:duration={SOURCE_SECONDS}", "-shortest",
           "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-pix_fmt", "yuv420p",
           "-g", str(SOURCE_GOP_FRAMES), "-keyint_min", str(SOURCE_GOP_FRAMES), "-sc_threshold", "0",
           "-c:a", "aac", "-ar", "48000", "-ac", "2", path])
    return os.path.realpath(path)


@dataclass
class ChunkedRun:
    fmt: str
    source: str
    work: str
    plan_result: RunResult
    names: list[str]
    plan_json: dict
    encodes: dict  # name -> RunResult
    work_before_stitch: dict
    work_after_stitch: dict
    stitched: Transcode


class Runs:
    """The reference and the chunked run per format, made on first use; a failure is kept and
    reported to every later user instead of being made again."""

    def __init__(self, factory, source: str):
        self.factory, self.source = factory, source
        self.refs: dict[str, object] = {}
        self.chunked: dict[str, object] = {}

    @staticmethod
    def _cached(cache: dict, key: str, make):
        if key not in cache:
            try:
                cache[key] = make()
            except (Exception, pytest.fail.Exception) as e:  # pytest.fail's Failed is no Exception
                cache[key] = e
        value = cache[key]
        if isinstance(value, BaseException):
            pytest.fail(f"the shared {key} run failed: {value}", pytrace=False)
        return value

    def reference(self, fmt: str) -> Transcode:
        def make():
            parent = str(self.factory.mktemp(f"chunks-reference-{fmt}"))
            out = os.path.join(parent, "out")
            # Split transcodes make no storyboard or poster (yet): neither does the reference.
            res = hlsify(self.source, "--out", out, "--json", "--quiet", "--no-storyboard", "--no-poster", *settings_args(fmt))
            t = as_transcode(self.source, out, fmt, res)
            t.require_success()
            return t
        return self._cached(self.refs, fmt, make)

    def run(self, fmt: str) -> ChunkedRun:
        def make():
            work = os.path.join(str(self.factory.mktemp(f"chunks-work-{fmt}")), "work")
            first = require(plan(self.source, work, fmt), f"plan ({fmt})")
            names = [l.strip() for l in first.stdout.splitlines() if l.strip()]
            again = require(plan(self.source, work, fmt, "--json"), f"plan --json ({fmt}), run again")
            try:
                plan_json = json.loads(again.stdout)
            except json.JSONDecodeError as e:
                pytest.fail(f"plan --json printed no JSON ({e})\n{again.describe()}", pytrace=False)
            with ThreadPoolExecutor(max_workers=2) as pool:  # two workers
                futures = {n: pool.submit(encode_chunk, self.source, work, n) for n in names}
                encodes = {n: f.result() for n, f in futures.items()}
            for n, res in encodes.items():
                require(res, f"encode-chunk {n} ({fmt})")
            before = tree_digest(work)
            out = os.path.join(str(self.factory.mktemp(f"chunks-stitched-{fmt}")), "out")
            res = require(stitch(work, out), f"stitch ({fmt})")
            after = tree_digest(work)
            return ChunkedRun(fmt, self.source, work, first, names, plan_json, encodes, before, after,
                              as_transcode(self.source, out, fmt, res))
        return self._cached(self.chunked, fmt, make)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    return make_source(str(tmp_path_factory.mktemp("chunks-source") / "lecture.mp4"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, source) -> Runs:
    return Runs(tmp_path_factory, source)


@pytest.fixture(scope="module", params=["fmp4", "ts"])
def fmt(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def source_frames(source) -> int:
    return h.probe(source).video.frames


_quality: dict[tuple[str, str], dict[str, Quality]] = {}


def measured_quality(source: str, t: Transcode) -> dict[str, Quality]:
    key = (source, t.out)
    if key not in _quality:
        _quality[key] = quality(source, t)
    return _quality[key]


# ---------------------------------------------------------------------------
# 0. the source does what it is for
# ---------------------------------------------------------------------------


def test_source_keyframes_miss_every_chunk_start(source):
    """Every chunk after the first must start from a picture the source does not code as a
    keyframe, or the pre-roll is not exercised."""
    pkts = h.video_packets(source)
    t0 = pkts[0]["pts"]
    keys = sorted(round(p["pts"] - t0, 3) for p in pkts if "K" in p["flags"])
    starts = [k * CHUNK_SECONDS for k in range(1, VIDEO_CHUNKS)]
    assert keys and not any(abs(k - s) < 0.5 / SOURCE_FPS for k in keys for s in starts), \
        f"source keyframes at {keys} s, chunk starts at {starts} s"
    assert len(pkts) == SOURCE_SECONDS * SOURCE_FPS, f"{len(pkts)} video frames"


# ---------------------------------------------------------------------------
# 1. plan, encode-chunk, stitch
# ---------------------------------------------------------------------------


def test_plan_names_the_chunks(runs, fmt, source):
    r = runs.run(fmt)
    assert r.names == CHUNK_NAMES, f"plan printed {r.names}, expected {CHUNK_NAMES}\n{r.plan_result.describe()}"
    p = r.plan_json
    assert isinstance(p.get("planId"), str) and p["planId"], p
    assert p.get("chunks") == CHUNK_NAMES, p
    assert (p.get("videoChunks"), p.get("chunkSegments"), p.get("segmentDuration")) == \
        (VIDEO_CHUNKS, CHUNK_SEGMENTS, SEGMENT_DURATION), p
    assert p.get("durationSeconds") == pytest.approx(SOURCE_SECONDS, abs=0.1), p
    assert os.path.isfile(os.path.join(r.work, "plan.json")), h.list_tree(r.work)


def test_every_chunk_is_committed_as_its_manifest_says(runs, fmt, source_frames):
    r = runs.run(fmt)
    ref = runs.reference(fmt)
    want = sorted(folder_of(n) for n in CHUNK_NAMES)
    assert chunk_entries(r.work) == want, f"W/chunks holds {chunk_entries(r.work)}, expected {want}"
    findings = []
    for n in CHUNK_NAMES:
        findings += manifest_findings(r.work, n, r.plan_json["planId"], ref, source_frames)
    assert_none(findings, f"{fmt}: committed chunks")


def test_stitch_leaves_the_work_folder_as_it_was(runs, fmt):
    r = runs.run(fmt)
    before, after = r.work_before_stitch, r.work_after_stitch
    changed = sorted(k for k in set(before) | set(after) if before.get(k, "-") != after.get(k, "-"))
    assert not changed, f"stitch changed the work folder: {changed}"


def test_stitch_report(runs, fmt):
    r, ref = runs.run(fmt), runs.reference(fmt)
    report = r.stitched.report
    chunks = report.get("chunks") or {}
    assert (chunks.get("videoChunks"), chunks.get("chunkSegments")) == (VIDEO_CHUNKS, CHUNK_SEGMENTS), \
        f"report.chunks {chunks}"
    missing = sorted(set(ref.report) - set(report))
    assert not missing, f"the stitch report lacks {missing} of the transcode report"
    mine = [(x["name"], x["segments"], x["encodedFrames"], x["codecs"]) for x in report["renditions"]]
    theirs = [(x["name"], x["segments"], x["encodedFrames"], x["codecs"]) for x in ref.report["renditions"]]
    assert mine == theirs, f"renditions (name, segments, encodedFrames, codecs) {mine}, reference {theirs}"


# ---------------------------------------------------------------------------
# 2-7. the stitched set against the unsplit reference
# ---------------------------------------------------------------------------


def test_same_structure_as_the_unsplit_run(runs, fmt):
    assert_none(structure_findings(runs.run(fmt).stitched, runs.reference(fmt)), f"{fmt}: stitched vs reference")


def test_init_sections_and_audio_are_the_references_bytes(runs, fmt):
    assert_none(identical_bytes_findings(runs.run(fmt).stitched, runs.reference(fmt)), f"{fmt}: stitched vs reference")


def test_fragments_and_continuity_counters_run_on_across_joins(runs, fmt):
    assert_none(continuity_findings(runs.run(fmt).stitched, runs.reference(fmt)), f"{fmt}: stitched vs reference")


def test_each_rendition_reads_without_errors_and_decodes_the_references_frames(runs, fmt):
    assert_none(probe_findings(runs.run(fmt).stitched, runs.reference(fmt)), f"{fmt}: stitched vs reference")


def test_picture_quality_at_the_joins(runs, fmt, source):
    r, ref = runs.run(fmt), runs.reference(fmt)
    q, ref_q = measured_quality(source, r.stitched), measured_quality(source, ref)
    assert_none(quality_findings(q, ref_q, r.plan_json.get("chunkSegments") or CHUNK_SEGMENTS),
                f"{fmt}: PSNR of the stitched set vs the reference")


def test_bandwidths_match_the_unsplit_run(runs, fmt):
    assert_none(bandwidth_findings(runs.run(fmt).stitched, runs.reference(fmt)), f"{fmt}: stitched vs reference")


# ---------------------------------------------------------------------------
# 8. the validation every ordinary run passes
# ---------------------------------------------------------------------------


def test_stitched_set_passes_the_full_validation(runs, fmt):
    t = runs.run(fmt).stitched
    leftovers = [f for f in h.list_tree(t.out) if f.endswith((".part", ".json")) or "/." in "/" + f]
    assert not leftovers, f"{fmt}: chunk machinery in the output: {leftovers}"
    assert_none(validation_findings(t), f"{fmt}: the stitched set fails checks an ordinary run passes")


def test_gstreamer_plays_the_stitched_set_to_the_end(runs, fmt, http_root):
    """test_playback's player check (playbin3 + hlsdemux2 over HTTP, to the last frame and sample)."""
    playback.test_gstreamer_plays_to_the_end(runs.run(fmt).stitched, http_root)


@pytest.mark.timeout(180)
def test_chromium_plays_the_stitched_set_to_the_end(runs, fmt, serve, chromium):
    """Chromium (hls.js in `hlsify preview`'s page) plays the stitched set across every join to its
    end, at 8x speed, without a media error or a failed request."""
    t = runs.run(fmt).stitched
    server = serve(t.out)
    chromium.get(server.url)
    preview.wait_for(chromium, lambda s: s["time"] > 0.1 and not s["paused"], 30, "playback start")
    chromium.execute_script("document.querySelector('video').playbackRate = 8;")
    end = preview.wait_for(chromium, lambda s: s["ended"], 90, "the end of the stitched set")
    assert end["time"] >= SOURCE_SECONDS - 0.5, end
    assert end["frames"] >= SOURCE_SECONDS * SOURCE_FPS * 0.5, end  # at 8x Chromium may drop some
    assert end["videoBytes"] > 0 and end["audioBytes"] > 0, end
    severe = [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe
    assert not re.search(r" (4\d\d|5\d\d) \d+$", server.stderr(), re.M), server.stderr()[-3000:]


def test_subtitles_are_published_as_an_unsplit_run_publishes_them(source, tmp_path):
    """The plan copies the subtitle files; the stitch cuts them on the stitched boundaries: the
    same WebVTT segments, playlists, sidecar and master entries as a whole run's."""
    srt = os.path.join(FIXTURES, "lecture.en.srt")
    ref, work, out = str(tmp_path / "ref"), str(tmp_path / "work"), str(tmp_path / "out")
    require(hlsify(source, "--out", ref, "--quiet", *settings_args("fmp4"), "--subtitles", f"en={srt}"), "reference")
    names = require(plan(source, work, "fmp4", "--subtitles", f"en={srt}"), "plan").stdout.split()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for name, res in zip(names, pool.map(lambda n: encode_chunk(source, work, n), names)):
            require(res, f"encode-chunk {name}")
    require(stitch(work, out), "stitch")
    ref_files, out_files = tree_digest(os.path.join(ref, "subtitles")), tree_digest(os.path.join(out, "subtitles"))
    assert ref_files and out_files == ref_files, (sorted(ref_files), sorted(out_files))

    def media_lines(folder):
        return [l for l in open(os.path.join(folder, "master.m3u8")).read().splitlines() if l.startswith("#EXT-X-MEDIA:")]
    assert media_lines(out) == media_lines(ref)


# ---------------------------------------------------------------------------
# 9. the contract's edges (fMP4)
# ---------------------------------------------------------------------------


def work_copy(r: ChunkedRun, tmp_path, without: tuple[str, ...] = ()) -> str:
    """A copy of a chunked run's work folder, less the committed folders named."""
    work = str(tmp_path / "work")
    shutil.copytree(r.work, work, symlinks=True)
    for name in without:
        shutil.rmtree(os.path.join(work, "chunks", name))
    return work


def test_plan_again_reuses_the_plan(source, tmp_path):
    work = str(tmp_path / "work")
    a = require(plan(source, work, "fmp4", "--json"), "plan")
    with open(os.path.join(work, "plan.json"), "rb") as f:
        plan_bytes = f.read()
    b = require(plan(source, work, "fmp4", "--json"), "plan again")
    ids = json.loads(a.stdout).get("planId"), json.loads(b.stdout).get("planId")
    assert ids[0] and ids[0] == ids[1], f"planIds {ids}"
    with open(os.path.join(work, "plan.json"), "rb") as f:
        assert f.read() == plan_bytes, "plan.json changed when the plan was reused"


def test_plan_with_other_settings_needs_force(runs, source, tmp_path):
    r = runs.run("fmp4")
    work = work_copy(r, tmp_path)
    with open(os.path.join(work, "plan.json"), "rb") as f:
        plan_bytes = f.read()
    refused = plan(source, work, "fmp4", "--json", ladder="360p")
    assert refused.returncode == EX_CANTCREAT, refused.describe()
    assert "--force" in refused.stderr, f"the refusal does not mention --force\n{refused.describe()}"
    with open(os.path.join(work, "plan.json"), "rb") as f:
        assert f.read() == plan_bytes, "a refused plan changed plan.json"
    assert committed(work) == committed(r.work), "a refused plan touched the committed chunks"
    forced = require(plan(source, work, "fmp4", "--json", "--force", ladder="360p"), "plan --force")
    p = json.loads(forced.stdout)
    assert p.get("planId") and p["planId"] != r.plan_json["planId"], f"planId {p.get('planId')} after --force"
    assert committed(work) == [] and hidden(work) == [], f"--force left in W/chunks: {chunk_entries(work)}"


@pytest.mark.parametrize("kind", ["missing", "not-media", "audio-only"])
def test_plan_refuses_a_source_it_cannot_split(tmp_path, kind):
    path = {"missing": str(tmp_path / "nothing.mp4"), "not-media": os.path.join(FIXTURES, "not-media.mp4"),
            "audio-only": os.path.join(FIXTURES, "audio-only.m4a")}[kind]
    want = EX_NOINPUT if kind == "missing" else EX_DATAERR
    res = plan(path, str(tmp_path / "work"), "fmp4")
    assert res.returncode == want, res.describe()
    assert not os.path.exists(os.path.join(str(tmp_path / "work"), "plan.json")), "a refused source was planned"


def test_encode_chunk_on_a_committed_chunk_changes_nothing(runs, source, tmp_path):
    r = runs.run("fmp4")
    work = work_copy(r, tmp_path)
    before = tree_digest(work)
    res = encode_chunk(source, work, "1")
    assert res.returncode == 0, res.describe()
    assert "already committed" in res.stderr, res.describe()
    after = tree_digest(work)
    assert after == before, "a duplicate run changed the work folder: " + \
        str(sorted(k for k in set(before) | set(after) if before.get(k, "-") != after.get(k, "-")))


def test_two_runs_of_one_chunk_at_once(runs, source, source_frames, tmp_path):
    r, ref = runs.run("fmp4"), runs.reference("fmp4")
    work = work_copy(r, tmp_path, without=("video-001",))
    argv = [hlsify_bin(), "encode-chunk", source, "--work", work, "--chunk", "1"]
    procs = [subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=_env()) for _ in range(2)]
    results = [p.communicate(timeout=TRANSCODE_TIMEOUT) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes == [0, 0], f"exits {codes}\n" + "\n".join(err[-1500:] for _, err in results)
    assert chunk_entries(work) == sorted(folder_of(n) for n in CHUNK_NAMES), \
        f"W/chunks holds {chunk_entries(work)} after both finished"
    assert_none(manifest_findings(work, "1", r.plan_json["planId"], ref, source_frames), "after two runs at once")
    out = str(tmp_path / "out")
    require(stitch(work, out), "stitch after two runs of one chunk")


def test_encode_chunk_unknown_name(runs, source, tmp_path):
    work = work_copy(runs.run("fmp4"), tmp_path)
    before = tree_digest(work)
    res = encode_chunk(source, work, "99")
    assert res.returncode == EX_USAGE, res.describe()
    assert tree_digest(work) == before, "an unknown chunk name changed the work folder"


def test_encode_chunk_without_a_plan(source, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    res = encode_chunk(source, str(work), "0")
    assert res.returncode == EX_NOINPUT, res.describe()
    assert os.listdir(work) == [], f"left in an unplanned work folder: {os.listdir(work)}"


@pytest.mark.parametrize("other", ["another-file", "touched"])
def test_encode_chunk_with_another_source(runs, source, tmp_path, other):
    r = runs.run("fmp4")
    if other == "another-file":
        work = work_copy(r, tmp_path, without=("video-001",))
        path = os.path.join(FIXTURES, "landscape-720p.mp4")
    else:
        # a copy planned, then touched: same bytes, another modification time
        path = str(tmp_path / "copy.mp4")
        shutil.copy2(source, path)
        work = str(tmp_path / "work")
        require(plan(path, work, "fmp4"), "plan of the copy")
        st = os.stat(path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    res = encode_chunk(path, work, "1")
    assert res.returncode == EX_DATAERR, res.describe()
    assert len(res.stderr_lines) == 1, f"expected one line on stderr\n{res.describe()}"
    assert "video-001" not in committed(work), "a chunk of another source was committed"


def test_a_failed_work_folder_stops_encode_chunk(runs, source, tmp_path):
    work = work_copy(runs.run("fmp4"), tmp_path, without=("video-001",))
    with open(os.path.join(work, "failed.json"), "w", encoding="utf-8") as f:
        json.dump({"error": "failed elsewhere (test)"}, f)
    before = tree_digest(work)
    res = encode_chunk(source, work, "1")
    assert res.returncode == EX_UNAVAILABLE, res.describe()
    assert "failed" in res.stderr, res.describe()
    assert "video-001" not in committed(work) and tree_digest(work) == before, \
        f"a run in a failed work folder left something: {chunk_entries(work)}"


SEGMENT_FILE = re.compile(r"^segment-\d{5}\.(m4s|ts)$")


def in_flight_segments(work: str, done: set) -> list[str]:
    """Segment files below WORK outside the committed folders `done` (a run's staging)."""
    found = []
    for dirpath, _, filenames in os.walk(work):
        parts = os.path.relpath(dirpath, work).split(os.sep)
        if len(parts) >= 2 and parts[0] == "chunks" and parts[1] in done:
            continue
        found += [os.path.join(dirpath, n) for n in filenames if SEGMENT_FILE.match(n)]
    return found


def test_a_work_folder_failed_during_a_run_stops_it(runs, source, tmp_path):
    """failed.json appears while encode-chunk works (once its first segment file is written): it
    stops within a segment or so, exits 69 and commits nothing."""
    work = work_copy(runs.run("fmp4"), tmp_path, without=("video-002",))
    done = set(committed(work))
    proc = subprocess.Popen([hlsify_bin(), "encode-chunk", source, "--work", work, "--chunk", "2"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())
    deadline = time.monotonic() + TRANSCODE_TIMEOUT
    try:
        while not in_flight_segments(work, done) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        seen = in_flight_segments(work, done)
        with open(os.path.join(work, "failed.json"), "w", encoding="utf-8") as f:
            json.dump({"error": "failed elsewhere (test)"}, f)
        committed_before_mark = "video-002" in committed(work)
        _, err = proc.communicate(timeout=TRANSCODE_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert seen, f"no segment file of chunk 2 was seen being written below WORK (exit {proc.returncode})\n{err}"
    if committed_before_mark:
        pytest.skip("the chunk was committed before failed.json could be written (a very fast machine)")
    assert proc.returncode == EX_UNAVAILABLE, f"exit {proc.returncode}\n{err}"
    assert "video-002" not in committed(work), f"committed although the work folder failed: {chunk_entries(work)}"


def test_stitch_with_missing_chunks(runs, tmp_path):
    work = work_copy(runs.run("fmp4"), tmp_path, without=("video-002", "audio"))
    parent = tmp_path / "stitched"
    parent.mkdir()
    res = stitch(work, str(parent / "out"))
    assert res.returncode == EX_TEMPFAIL, res.describe()
    assert len(res.stderr_lines) == 1 and "video-002" in res.stderr and "audio" in res.stderr \
        and "video-001" not in res.stderr, f"expected one line naming video-002 and audio\n{res.describe()}"
    assert os.listdir(parent) == [], f"left beside OUT: {os.listdir(parent)}"


def test_stitch_refuses_a_tampered_segment(runs, tmp_path):
    work = work_copy(runs.run("fmp4"), tmp_path)
    flip_byte(os.path.join(work, "chunks", "video-002", "360p", "segment-00007.m4s"))
    parent = tmp_path / "stitched"
    parent.mkdir()
    res = stitch(work, str(parent / "out"))
    assert res.returncode == EX_DATAERR, res.describe()
    assert len(res.stderr_lines) == 1, f"expected one line on stderr\n{res.describe()}"
    assert os.listdir(parent) == [], f"left beside OUT: {os.listdir(parent)}"


def test_stitch_over_an_existing_output(runs, tmp_path):
    r = runs.run("fmp4")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    res = stitch(r.work, str(out))
    assert res.returncode == EX_CANTCREAT, res.describe()
    assert os.listdir(out) == ["keep.txt"], f"a refused stitch touched OUT: {os.listdir(out)}"
    forced = require(stitch(r.work, str(out), "--force"), "stitch --force")
    assert forced.returncode == 0
    assert h.list_tree(str(out)) == h.list_tree(r.stitched.out), "stitch --force did not replace OUT with the set"
    assert os.listdir(tmp_path) == ["out"], f"left beside OUT: {os.listdir(tmp_path)}"


def test_a_killed_chunk_run_commits_nothing_and_runs_again(runs, source, source_frames, tmp_path):
    r, ref = runs.run("fmp4"), runs.reference("fmp4")
    work = work_copy(r, tmp_path, without=("video-002",))
    dead = encode_chunk(source, work, "2", env={KILL_ENV: "segment-committed:2"})
    assert dead.returncode == KILLED, f"expected death by SIGKILL\n{dead.describe()}"
    assert "video-002" not in committed(work), f"a killed run committed its chunk: {chunk_entries(work)}"
    again = require(encode_chunk(source, work, "2", "--json"), "encode-chunk 2 --json after the kill")
    assert "already committed" not in again.stderr, again.describe()
    assert "video-002" in committed(work), chunk_entries(work)
    with open(os.path.join(work, "chunks", "video-002", "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    try:
        printed = json.loads(again.stdout)
    except json.JSONDecodeError as e:
        pytest.fail(f"encode-chunk --json printed no JSON ({e})\n{again.describe()}", pytrace=False)
    assert printed == manifest, "encode-chunk --json printed another manifest than the one it committed"
    assert_none(manifest_findings(work, "2", r.plan_json["planId"], ref, source_frames), "after a kill and a rerun")
    out = str(tmp_path / "out")
    t = as_transcode(source, out, "fmp4", require(stitch(work, out), "stitch after a kill"))
    assert_none(structure_findings(t, ref) + identical_bytes_findings(t, ref) + continuity_findings(t, ref)
                + probe_findings(t, ref), "stitched after a kill and a rerun, vs the reference")
