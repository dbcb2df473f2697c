"""Hostile and broken uploads (issue 5): nothing crashes, hangs, leaks local bytes, leaves
output behind, or fails with an unclear message; memory stays bounded; and a SIGKILL at any
moment leaves either the complete previous output or a complete new one, never a mix.

Every input is generated here (ffmpeg, or a few Python bytes patched into an ffmpeg file),
in a temporary folder. Each hostile run is

    hlsify INPUT --out WORK/out --preset ultrafast --quiet --json

with its own time limit and its peak resident memory read from wait4(2). WORK holds nothing
else, so anything found there afterwards was left by hlsify.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest

import hlscheck as h
from conftest import RunResult, fixture_path, hlsify_bin

EX_DATAERR, EX_NOINPUT = 65, 66

# Peak resident memory any hostile input may cost (the debug binary idles at about 60 MB and a
# 4K source transcodes in about 300 MB). HLSIFY_RSS_LIMIT_MB overrides it, for a binary built
# with a sanitizer (make asan-test), whose shadow memory counts too.
RSS_LIMIT_MB = float(os.environ.get("HLSIFY_RSS_LIMIT_MB", 600))
HOSTILE_TIMEOUT = 90


# ---------------------------------------------------------------------------
# running hlsify with a time limit and a memory reading
# ---------------------------------------------------------------------------


@dataclass
class Measured(RunResult):
    max_rss_mb: float = 0.0
    timed_out: bool = False


def run_measured(argv: list[str], timeout: float, cwd: Optional[str] = None) -> Measured:
    """Runs argv, killing it (SIGKILL) after `timeout` seconds; returns its exit code, output and
    peak resident memory (from wait4, so only this child is counted)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    chunks: dict[str, bytes] = {}

    def drain(name, stream):
        chunks[name] = stream.read()

    readers = [threading.Thread(target=drain, args=("out", proc.stdout), daemon=True),
               threading.Thread(target=drain, args=("err", proc.stderr), daemon=True)]
    for r in readers:
        r.start()
    timed_out = threading.Event()

    def expire():
        timed_out.set()
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, expire)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # keeps Popen from waiting again
    for r in readers:
        r.join(10)
    proc.stdout.close()
    proc.stderr.close()
    return Measured(argv, proc.returncode, chunks.get("out", b"").decode(errors="replace"),
                    chunks.get("err", b"").decode(errors="replace"), time.monotonic() - t0,
                    max_rss_mb=usage.ru_maxrss / 1024, timed_out=timed_out.is_set())


def ffmpeg(*args, timeout: float = 120) -> None:
    h.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", *map(str, args)], timeout=timeout)


def tree_bytes(root: Path):
    """(relative path, bytes) of every file below root, hidden ones included."""
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if p.is_file() and not p.is_symlink():
                yield p.relative_to(root), p.read_bytes()


# ---------------------------------------------------------------------------
# source material, made once per module
# ---------------------------------------------------------------------------


class Sources:
    """Clean clips the hostile inputs are cut from or patched into, made on first use."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, name: str) -> Path:
        return self.root / name

    @functools.cache
    def get(self, name: str) -> Path:
        p = self._path(name)
        av = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i",
              "sine=frequency=440:sample_rate=48000", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast",
              "-pix_fmt", "yuv420p"]
        if name == "clip.mp4":  # moov at the end (ffmpeg's default)
            ffmpeg(*av, "-c:a", "aac", "-shortest", p)
        elif name == "fast.mp4":  # moov first
            ffmpeg("-i", self.get("clip.mp4"), "-c", "copy", "-movflags", "+faststart", p)
        elif name == "clip.mkv":
            ffmpeg(*av, "-c:a", "aac", "-shortest", p)
        elif name == "clip.avi":
            ffmpeg(*av, "-c:a", "libmp3lame", "-shortest", p)
        elif name == "clip.ts":
            ffmpeg(*av, "-c:a", "aac", "-shortest", "-f", "mpegts", p)
        elif name == "clip.mov":
            ffmpeg("-i", self.get("clip.mp4"), "-c", "copy", "-f", "mov", p)
        elif name == "tiny.mp4":  # for many-stream files
            ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=5", "-t", "1", "-c:v", "libx264",
                   "-preset", "ultrafast", "-pix_fmt", "yuv420p", p)
        elif name == "hd.mp4":  # two solid 1080p frames: a few kB
            ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=1920x1080:rate=5", "-frames:v", "2", "-c:v", "libx264",
                   "-preset", "ultrafast", "-pix_fmt", "yuv420p", p)
        elif name == "uhd.mp4":
            ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=3840x2160:rate=5", "-frames:v", "2", "-c:v", "libx264",
                   "-preset", "ultrafast", "-pix_fmt", "yuv420p", p)
        elif name == "baseline.h264":  # Annex B, Constrained Baseline: an SPS that is easy to rewrite
            ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "2", "-c:v", "libx264",
                   "-preset", "ultrafast", "-profile:v", "baseline", "-pix_fmt", "yuv420p",
                   "-bsf:v", "h264_mp4toannexb", "-f", "h264", p)
        else:
            raise KeyError(name)
        return p


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Sources:
    return Sources(tmp_path_factory.mktemp("hostile-sources"))


@dataclass
class Upload:
    """What a case built: the INPUT argument as given to hlsify, the folder to run it in, and
    facts the checks need."""
    arg: str
    cwd: Optional[Path] = None
    video_frames: Optional[int] = None  # when the run succeeds, the frames the output must hold


@dataclass
class Env:
    dir: Path  # where inputs (and the secret) live; never the output parent
    src: Sources
    marker: bytes  # the secret's bytes: must never appear in any output

    @property
    def secret(self) -> Path:
        p = self.dir / "secret.txt"
        if not p.exists():
            p.write_bytes(b"root:x:0:0:" + self.marker + b"\n")
        return p

    def file(self, name: str, data: bytes) -> Upload:
        p = self.dir / name
        p.write_bytes(data)
        return Upload(str(p))

    def copy(self, source: str, name: str) -> Path:
        p = self.dir / name
        shutil.copyfile(self.src.get(source), p)
        return p

    def patched(self, source: str, name: str, edit: Callable[[bytearray], None]) -> Upload:
        data = bytearray(self.src.get(source).read_bytes())
        edit(data)
        return self.file(name, bytes(data))


# ---------------------------------------------------------------------------
# byte surgery
# ---------------------------------------------------------------------------


def box_offset(data: bytes, fourcc: bytes) -> int:
    """Offset of an MP4 box's size field (the first box of that type)."""
    i = data.find(fourcc)
    assert i >= 4, f"no {fourcc!r} box"
    return i - 4


def ebml_huge_size(data: bytearray, element_id: bytes, skip_prefix: Optional[bytes] = None) -> None:
    """Rewrites the size of the first `element_id` element (not preceded by skip_prefix, which
    filters out the id's mention in a SeekHead) to the largest known size of the same length."""
    i = -1
    while True:
        i = data.find(element_id, i + 1)
        assert i >= 0, f"no EBML element {element_id.hex()}"
        if skip_prefix is None or data[i - len(skip_prefix):i] != skip_prefix:
            break
    pos = i + len(element_id)
    length = 8 - data[pos].bit_length() + 1
    value = (1 << (7 * length)) - 2  # all ones would mean "unknown size"
    data[pos:pos + length] = ((1 << (7 * length)) | value).to_bytes(length, "big")


def _unescape(b: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for x in b:
        if zeros >= 2 and x == 3:
            zeros = 0
            continue
        out.append(x)
        zeros = zeros + 1 if x == 0 else 0
    return bytes(out)


def _escape(b: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for x in b:
        if zeros >= 2 and x <= 3:
            out.append(3)
            zeros = 0
        out.append(x)
        zeros = zeros + 1 if x == 0 else 0
    return bytes(out)


def rewrite_sps_size(annexb: bytes, width_mbs: int, height_mbs: int) -> bytes:
    """Annex B H.264 (Baseline/Main) with every SPS claiming width_mbs x height_mbs macroblocks."""
    def ue(bits: str, p: int) -> tuple[int, int]:
        z = 0
        while bits[p] == "0":
            z += 1
            p += 1
        p += 1
        v = (1 << z) - 1 + (int(bits[p:p + z], 2) if z else 0)
        return v, p + z

    def ue_bits(v: int) -> str:
        v += 1
        return "0" * (v.bit_length() - 1) + format(v, "b")

    def patch(nal: bytes) -> bytes:
        bits = "".join(f"{x:08b}" for x in _unescape(nal[1:]))
        assert int(bits[:8], 2) in (66, 77), "expects a Baseline or Main SPS"
        p = 24
        _, p = ue(bits, p)  # seq_parameter_set_id
        _, p = ue(bits, p)  # log2_max_frame_num_minus4
        poc, p = ue(bits, p)
        assert poc in (0, 2)
        if poc == 0:
            _, p = ue(bits, p)
        _, p = ue(bits, p)  # max_num_ref_frames
        p += 1  # gaps_in_frame_num_value_allowed_flag
        start = p
        _, p = ue(bits, p)
        _, p = ue(bits, p)
        bits = (bits[:start] + ue_bits(width_mbs - 1) + ue_bits(height_mbs - 1) + bits[p:]).rstrip("0")
        bits += "0" * (-len(bits) % 8)
        return nal[:1] + _escape(bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)))

    parts = annexb.split(b"\x00\x00\x00\x01")
    return b"\x00\x00\x00\x01".join(patch(p) if p and p[0] & 0x1F == 7 else p for p in parts)


def many_streams(e: Env, source: str, name: str, count: int, *fmt: str) -> Upload:
    out = e.dir / name
    maps = [a for _ in range(count) for a in ("-map", "0:v")]
    ffmpeg("-i", e.src.get(source), *maps, "-c", "copy", *fmt, out)
    return Upload(str(out))


def hls_playlist(*entries: str) -> bytes:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:10", "#EXT-X-MEDIA-SEQUENCE:0"]
    for uri in entries:
        lines += ["#EXTINF:4.0,", uri]
    return ("\n".join(lines + ["#EXT-X-ENDLIST", ""])).encode()


def hls_master(uri: str) -> bytes:
    return f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=320x240\n{uri}\n".encode()


# ---------------------------------------------------------------------------
# the cases
# ---------------------------------------------------------------------------

NOT_READABLE = r"not a media file this engine can read|rejected: "
CONTAINER = r"rejected: container '[^']+' is not an accepted upload format"


@dataclass
class Case:
    build: Callable[[Env], Upload]
    codes: tuple[int, ...] = (EX_DATAERR,)
    rule: str = NOT_READABLE  # regex the single stderr line must match when the run is refused
    warning: bool = False  # a successful run must carry a warning in its report
    decode_output: bool = True  # decode every rendition of a successful run to the end
    timeout: float = HOSTILE_TIMEOUT
    rss_limit_mb: float = RSS_LIMIT_MB


def _trunc_moov_at_end(e: Env) -> Upload:
    data = e.src.get("clip.mp4").read_bytes()
    return e.file("trunc-moov-at-end.mp4", data[:box_offset(data, b"moov")])


def _trunc_moov_at_start(e: Env) -> Upload:
    data = e.src.get("fast.mp4").read_bytes()
    mdat = box_offset(data, b"mdat")
    size = struct.unpack_from(">I", data, mdat)[0]
    return e.file("trunc-moov-at-start.mp4", data[:mdat + size // 2])


def _cut(source: str, name: str, fraction: float) -> Callable[[Env], Upload]:
    def build(e: Env) -> Upload:
        data = e.src.get(source).read_bytes()
        return e.file(name, data[:int(len(data) * fraction)])
    return build


def _pack(fmt: str, locate: Callable[[bytes], int], value: int) -> Callable[[bytearray], None]:
    def edit(b: bytearray) -> None:
        struct.pack_into(fmt, b, locate(bytes(b)), value)
    return edit


def _garbage_mdat(b: bytearray) -> None:
    rnd = random.Random(5)
    start = b.find(b"mdat") + 4 + 64
    b[start:] = bytes(rnd.randrange(256) for _ in range(len(b) - start))


def _playlist(name: str, *targets: str) -> Callable[[Env], Upload]:
    def build(e: Env) -> Upload:
        e.copy("clip.ts", "clip.ts")
        uris = [t.replace("{SECRET}", str(e.secret)).replace("{DIR}", str(e.dir)) for t in targets]
        return e.file(name, hls_playlist(*uris))
    return build


def _nested_playlist(e: Env) -> Upload:
    e.copy("clip.ts", "clip.ts")
    e.file("inner.avi", hls_playlist("clip.ts", f"file:{e.secret}"))
    e.file("middle.m3u8", hls_playlist("inner.avi"))
    return e.file("nested.mkv", hls_master("middle.m3u8"))


def _ffconcat(e: Env) -> Upload:
    e.copy("clip.ts", "clip.ts")
    return e.file("ffconcat.mp4", f"ffconcat version 1.0\nfile 'clip.ts'\nfile '{e.secret}'\n".encode())


def _sdp(e: Env) -> Upload:
    return e.file("session.mp4", b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                                 b"m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n")


def _protocol_name(template: str, literal_exists: bool) -> Callable[[Env], Upload]:
    """A relative INPUT that reads as a libavformat protocol URL (concat:, subfile,...:): the
    files it names exist in the working folder; the file literally called that exists only
    when literal_exists, and is then a clean 3 s clip that must be what gets transcoded."""
    def build(e: Env) -> Upload:
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-t", "1", "-c:v", "libx264",
               "-preset", "ultrafast", "-f", "mpegts", e.dir / "a.ts")
        e.secret  # noqa: B018  (creates it)
        name = template
        frames = None
        if literal_exists:
            ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-t", "3", "-c:v", "libx264",
                   "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mp4", f"file:{e.dir / name}")
            frames = 75
        return Upload(name, cwd=e.dir, video_frames=frames)
    return build


def _image_sequence(literal: bool) -> Callable[[Env], Upload]:
    def build(e: Env) -> Upload:
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=5", "-frames:v", "5", e.dir / "img%03d.png")
        if literal:  # a file really named img%03d.png, holding a PNG
            shutil.copyfile(e.dir / "img001.png", e.dir / "img%03d.png")
        return Upload("img%03d.png", cwd=e.dir)
    return build


def _solid(name: str, size: str, frames: int) -> Callable[[Env], Upload]:
    def build(e: Env) -> Upload:
        ffmpeg("-f", "lavfi", "-i", f"color=c=blue:size={size}:rate=5", "-frames:v", frames, "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", e.dir / name)
        return Upload(str(e.dir / name))
    return build


def _sps_claims(width_mbs: int, height_mbs: int, streams: int = 1) -> Callable[[Env], Upload]:
    def build(e: Env) -> Upload:
        raw = e.dir / "claims.h264"
        raw.write_bytes(rewrite_sps_size(e.src.get("baseline.h264").read_bytes(), width_mbs, height_mbs))
        out = e.dir / f"claims-{streams}.mkv"
        maps = [a for _ in range(streams) for a in ("-map", "0:v")]
        ffmpeg("-i", raw, *maps, "-c", "copy", out)
        return Upload(str(out))
    return build


def _grows_mid_stream(e: Env) -> Upload:
    """MPEG-TS whose headers (first 3 s) say 320x240, then the stream becomes 6100x6100 (over
    the pixel limit): only the decoder's max_pixels can catch it."""
    a, b = e.dir / "a.ts", e.dir / "b.ts"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "3", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mpegts", a)
    ffmpeg("-f", "lavfi", "-i", "color=c=red:size=6100x6100:rate=25", "-frames:v", "3", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-output_ts_offset", "3.1", "-f", "mpegts", b)
    return e.file("grows.ts", a.read_bytes() + b.read_bytes())


def _spread_frames(name: str, gap: int, *fmt: str, audio: bool = False) -> Callable[[Env], Upload]:
    """Two tiny frames `gap` seconds apart: a cheap file that lasts hours. With audio, the
    audio track holds only its first fraction of a second (ffmpeg stops at the second frame)."""
    def build(e: Env) -> Upload:
        extra = ["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", gap + 1, "-c:a", "aac", "-b:a", "16k"] if audio else []
        ffmpeg("-f", "lavfi", "-i", "color=c=green:size=64x48:rate=1", *extra, "-frames:v", "2",
               "-vf", f"setpts=N*{gap}/TB", "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast",
               "-pix_fmt", "yuv420p", *fmt, e.dir / name)
        return Upload(str(e.dir / name))
    return build


def _audio_only(e: Env) -> Upload:
    p = e.dir / "lecture.mp4"  # an .m4a renamed, as uploads are
    shutil.copyfile(fixture_path("audio-only.m4a"), p)
    return Upload(str(p), video_frames=0)


def _subtitles_only(e: Env) -> Upload:
    srt = e.dir / "notes.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:02,000\nOnly words here\n")
    ffmpeg("-i", srt, "-c:s", "mov_text", e.dir / "words.mp4")
    return Upload(str(e.dir / "words.mp4"))


def _mvhd_7h(b: bytearray) -> None:
    i = box_offset(b, b"mvhd")
    assert b[i + 8] == 0, "expects a version 0 mvhd"
    timescale = struct.unpack_from(">I", b, i + 20)[0]
    struct.pack_into(">I", b, i + 24, 7 * 3600 * timescale)


def _unknown_sample_entry(b: bytearray) -> None:
    stsd = b.find(b"stsd")
    i = b.find(b"avc1", stsd)
    b[i:i + 4] = b"qqzz"


def _timestamps_reset(e: Env) -> Upload:
    part = e.src.get("clip.ts").read_bytes()
    return Upload(str(e.file("reset.ts", part + part).arg), video_frames=200)


def _timestamps_wrap(e: Env) -> Upload:
    """MPEG-TS whose 33-bit timestamps wrap about 0.6 s in."""
    p = e.dir / "wrap.ts"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=sample_rate=48000",
           "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
           "-output_ts_offset", str((1 << 33) / 90000 - 2.0), "-f", "mpegts", p)
    return Upload(str(p), video_frames=100)


def _timestamps_duplicate(e: Env) -> Upload:
    """All-intra Matroska in which every timestamp appears twice (setts bitstream filter)."""
    intra, p = e.dir / "intra.mkv", e.dir / "dup.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "3", "-c:v", "libx264", "-preset",
           "ultrafast", "-g", "1", "-bf", "0", "-pix_fmt", "yuv420p", intra)
    ffmpeg("-i", intra, "-c", "copy", "-bsf:v", "setts=ts=floor(N/2)*200", p)
    return Upload(str(p), video_frames=30)


def _fifo(e: Env) -> Upload:
    p = e.dir / "upload.mp4"
    os.mkfifo(p)  # nobody ever writes to it
    return Upload(str(p))


MAYBE = (0, EX_DATAERR)  # either a complete output or a clear refusal

CASES: dict[str, Case] = {
    # not media at all
    "empty-file": Case(lambda e: e.file("empty.mp4", b"")),
    "random-bytes": Case(lambda e: e.file("random.mp4", random.Random(1).randbytes(200_000))),
    "text-file": Case(lambda e: e.file("notes.mp4", b"Lecture notes\nweek 1: introduction\n" * 50)),
    "dev-zero": Case(lambda e: Upload("/dev/zero")),
    "fifo-without-writer": Case(_fifo, timeout=20),
    # truncated
    "truncated-mp4-moov-at-end": Case(_trunc_moov_at_end),
    "truncated-mp4-moov-at-start": Case(_trunc_moov_at_start, codes=MAYBE, warning=True),
    "truncated-mkv": Case(_cut("clip.mkv", "cut.mkv", 0.6), codes=MAYBE, warning=True),
    "truncated-ts": Case(_cut("clip.ts", "cut.ts", 0.6), codes=MAYBE),
    # headers that lie about sizes
    "mp4-mdat-size-past-eof": Case(lambda e: e.patched("fast.mp4", "mdat.mp4", _pack(">I", lambda b: box_offset(b, b"mdat"), 0xFFFFFFF0)), codes=MAYBE),
    "mp4-moov-size-past-eof": Case(lambda e: e.patched("fast.mp4", "moov.mp4", _pack(">I", lambda b: box_offset(b, b"moov"), 0x7FFFFFF0)), codes=MAYBE),
    "mp4-stsz-count-huge": Case(lambda e: e.patched("fast.mp4", "stsz.mp4", _pack(">I", lambda b: b.find(b"stsz") + 12, 0x3FFFFFFF)), codes=MAYBE),
    "mp4-stco-count-huge": Case(lambda e: e.patched("fast.mp4", "stco.mp4", _pack(">I", lambda b: b.find(b"stco") + 8, 0x3FFFFFFF)), codes=MAYBE),
    "mp4-tkhd-width-huge": Case(lambda e: e.patched("fast.mp4", "tkhd.mp4", _pack(">I", lambda b: b.find(b"tkhd") + 80, 30000 << 16)), codes=MAYBE),
    "mp4-garbage-mdat": Case(lambda e: e.patched("fast.mp4", "garbage.mp4", _garbage_mdat), codes=MAYBE),
    "avi-riff-size-huge": Case(lambda e: e.patched("clip.avi", "riff.avi", _pack("<I", lambda b: 4, 0xFFFFFFF0)), codes=MAYBE),
    "avi-movi-size-huge": Case(lambda e: e.patched("clip.avi", "movi.avi", _pack("<I", lambda b: b.find(b"movi") - 4, 0x7FFFFFF0)), codes=MAYBE),
    "avi-chunk-size-huge": Case(lambda e: e.patched("clip.avi", "chunk.avi", _pack("<I", lambda b: b.find(b"00dc") + 4, 0x7FFFFFF0)), codes=MAYBE),
    "avi-header-claims-60000x60000": Case(lambda e: e.patched("clip.avi", "dims.avi", lambda b: (
        struct.pack_into("<II", b, b.find(b"avih") + 40, 60000, 60000),
        struct.pack_into("<ii", b, b.find(b"strf") + 12, 60000, 60000))), codes=MAYBE),
    "mkv-segment-size-huge": Case(lambda e: e.patched("clip.mkv", "segment.mkv", lambda b: ebml_huge_size(b, bytes.fromhex("18538067"))), codes=MAYBE),
    "mkv-cluster-size-huge": Case(lambda e: e.patched("clip.mkv", "cluster.mkv", lambda b: ebml_huge_size(b, bytes.fromhex("1f43b675"), bytes.fromhex("53ab84"))), codes=MAYBE),
    # playlists and scripts that point at local files
    "hls-playlist-as-mp4": Case(_playlist("lecture.mp4", "clip.ts", "{SECRET}"), rule=CONTAINER),
    "hls-playlist-as-avi": Case(_playlist("lecture.avi", "{DIR}/clip.ts", "file:{SECRET}"), rule=CONTAINER),
    "hls-playlist-as-mkv": Case(_playlist("lecture.mkv", "clip.ts", "secret.txt"), rule=CONTAINER),
    "hls-nested-playlists": Case(_nested_playlist, rule=CONTAINER),
    "ffconcat-script-as-mp4": Case(_ffconcat, rule=CONTAINER),
    "sdp-as-mp4": Case(_sdp, rule=CONTAINER),
    "concat-protocol-name": Case(_protocol_name("concat:a.ts|secret.txt", False), codes=(EX_NOINPUT,), rule="no such file"),
    "concat-protocol-name-is-a-local-file": Case(_protocol_name("concat:a.ts|secret.txt", True), codes=(0,)),
    "subfile-protocol-name": Case(_protocol_name("subfile,,start,0,end,100,,:secret.txt", False), codes=(EX_NOINPUT,), rule="no such file"),
    "subfile-protocol-name-is-a-local-file": Case(_protocol_name("subfile,,start,0,end,100,,:secret.txt", True), codes=(0,)),
    "image-sequence-pattern": Case(_image_sequence(False), codes=(EX_NOINPUT,), rule="no such file"),
    "image-sequence-pattern-literal-png": Case(_image_sequence(True), rule=CONTAINER),
    # pictures over the limits
    "frame-8200x64": Case(_solid("wide.mp4", "8200x64", 2), rule=r"rejected: frame size 8200x64 .*8192"),
    "frame-6100x6100": Case(_solid("big.mp4", "6100x6100", 2), rule=r"rejected: frame size 6100x6100 .*pixels"),
    "sps-claims-8000x7992": Case(_sps_claims(500, 500), rule=r"rejected: frame size 8000x7992"),
    "sps-claims-8000x7992-in-4-streams": Case(_sps_claims(500, 500, streams=4), rule=r"rejected: (frame size 8000x7992|.*streams)"),
    "frame-grows-mid-stream": Case(_grows_mid_stream, codes=MAYBE, warning=True),
    # durations over the limit
    "duration-7h-mp4-mvhd": Case(lambda e: e.patched("fast.mp4", "mvhd.mp4", _mvhd_7h), rule=r"rejected: .*duration"),
    "duration-7h-mkv": Case(_spread_frames("long.mkv", 7 * 3600), rule=r"rejected: .*duration"),
    "duration-7h-ts": Case(_spread_frames("long.ts", 7 * 3600, "-f", "mpegts"), rule=r"rejected: .*duration"),
    # streams
    "audio-only-renamed-mp4": Case(_audio_only, codes=(0,)),
    "subtitles-only-no-audio-or-video": Case(_subtitles_only, rule=r"rejected: no video or audio stream"),
    "no-decoder-avi-fourcc": Case(lambda e: e.patched("clip.avi", "fourcc.avi", lambda b: b.__setitem__(slice(None), b.replace(b"H264", b"QQZZ"))), rule=r"decod|codec"),
    "no-decoder-mov-sample-entry": Case(lambda e: e.patched("clip.mov", "entry.mov", _unknown_sample_entry), rule=r"decod|codec"),
    "no-decoder-mkv-codec-id": Case(lambda e: e.patched("clip.mkv", "codec.mkv", lambda b: b.__setitem__(slice(None), b.replace(b"V_MPEG4/ISO/AVC", b"V_QQQQQ/ISO/AVC"))), rule=r"decod|codec"),
    "streams-40": Case(lambda e: many_streams(e, "tiny.mp4", "s40.mkv", 40), rule=r"rejected: .*streams"),
    "streams-120-mp4": Case(lambda e: many_streams(e, "tiny.mp4", "s120.mp4", 120), rule=r"rejected: .*streams"),
    "streams-200-mkv": Case(lambda e: many_streams(e, "tiny.mp4", "s200.mkv", 200), rule=r"rejected: .*streams"),
    "streams-120-1080p-ts": Case(lambda e: many_streams(e, "hd.mp4", "s120hd.ts", 120, "-f", "mpegts"), rule=r"rejected: .*streams"),
    "streams-32-4k-mkv": Case(lambda e: many_streams(e, "uhd.mp4", "s32uhd.mkv", 32), codes=MAYBE),
    # timestamps
    "timestamps-wrap-33-bit": Case(_timestamps_wrap, codes=MAYBE),
    "timestamps-reset-concatenated-ts": Case(_timestamps_reset, codes=MAYBE),
    "timestamps-duplicate-vfr": Case(_timestamps_duplicate, codes=MAYBE),
    "timestamps-30min-gap-short-audio": Case(_spread_frames("gap.mkv", 1800, audio=True), codes=MAYBE,
                                              decode_output=False, timeout=120),
}


# ---------------------------------------------------------------------------
# the checks
# ---------------------------------------------------------------------------


def check_complete_output(out: Path, report: dict, upload: Upload, decode: bool) -> None:
    """The HLS set at out is whole: every playlist and segment is there, and (decode) every
    rendition decodes to its end without an error, video timestamps strictly increasing."""
    hls = h.load_hls_set(str(out / "master.m3u8"))
    assert hls.variants, "master playlist without variants"
    for pl in hls.media_playlists():
        assert pl.segments, f"{pl.uri}: no segments"
        for s in pl.segments:
            assert os.path.isfile(s.path), f"{pl.uri}: {s.uri} is missing"
            if s.init:
                assert os.path.isfile(s.init.path), f"{pl.uri}: {s.init.uri} is missing"
    if not decode:
        return
    frames = {}
    for v in hls.variants:
        with h.TempMedia(v.playlist.whole(), v.playlist.suffix) as p:
            proc = h.run(["ffmpeg", "-v", "error", "-nostdin", "-i", p, "-f", "null", "-"], check=False)
            assert proc.returncode == 0 and not proc.stderr.strip(), \
                f"{v.uri} does not decode cleanly: {proc.stderr.decode(errors='replace')[-800:]}"
            facts = h.probe(p)
            if facts.video is None:
                assert upload.video_frames == 0 and facts.audio is not None, f"{v.uri}: neither video nor audio"
                continue
            frames[v.uri] = facts.video.frames
            dts = [pk["dts"] for pk in h.video_packets(p) if pk["dts"] is not None]
            assert all(b > a for a, b in zip(dts, dts[1:])), f"{v.uri}: decode timestamps do not increase"
    if upload.video_frames == 0:  # an audio-only set
        assert frames == {}, f"video in an audio-only set: {frames}"
    else:
        assert len(set(frames.values())) == 1, f"renditions hold different frame counts: {frames}"
        got = next(iter(frames.values()))
        assert got > 0
        if upload.video_frames is not None:
            assert got == upload.video_frames, f"expected {upload.video_frames} frames, the output holds {got}"
        assert report.get("decodedVideoFrames") in (None, got) or abs(report["decodedVideoFrames"] - got) <= 1, \
            f"report says {report.get('decodedVideoFrames')} frames, output holds {got}"
    for m in hls.audio_renditions:
        if m.playlist is None:
            continue
        with h.TempMedia(m.playlist.whole(), m.playlist.suffix) as p:
            proc = h.run(["ffmpeg", "-v", "error", "-nostdin", "-i", p, "-f", "null", "-"], check=False)
            assert proc.returncode == 0 and not proc.stderr.strip(), \
                f"audio {m.uri} does not decode cleanly: {proc.stderr.decode(errors='replace')[-800:]}"


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_hostile_input(name, sources, tmp_path):
    case = CASES[name]
    env = Env(tmp_path / "in", sources, b"HLSIFY-SECRET-" + uuid.uuid4().hex.encode())
    env.dir.mkdir()
    env.secret  # noqa: B018  (every case has a secret lying next to the upload)
    work = tmp_path / "work"
    work.mkdir()
    out = work / "out"
    upload = case.build(env)
    argv = [hlsify_bin(), upload.arg, "--out", str(out), "--preset", "ultrafast", "--quiet", "--json"]
    res = run_measured(argv, case.timeout, cwd=str(upload.cwd) if upload.cwd else None)
    left = sorted(os.listdir(work))
    what = f"{name}: {res.describe()}\nleft in the output parent: {left}"

    for rel, data in tree_bytes(work):
        assert env.marker not in data, f"LEAK: the secret's bytes are in {rel}\n{what}"
    assert env.marker.decode() not in res.stdout + res.stderr, f"LEAK: the secret's bytes are on stdout/stderr\n{what}"
    assert not res.timed_out, f"HANG: no exit within {case.timeout:.0f}s (killed)\n{what}"
    assert res.returncode >= 0, f"CRASH: killed by signal {-res.returncode}\n{what}"
    assert "Fatal error" not in res.stderr, f"CRASH: Swift runtime trap\n{what}"
    assert res.returncode in case.codes, f"exit {res.returncode}, expected one of {case.codes}\n{what}"
    assert res.max_rss_mb <= case.rss_limit_mb, \
        f"MEMORY: peak resident {res.max_rss_mb:.0f} MB, limit {case.rss_limit_mb} MB\n{what}"

    if res.returncode != 0:
        lines = res.stderr_lines
        assert len(lines) == 1, f"expected one line on stderr\n{what}"
        line = lines[0]
        assert line.startswith("hlsify: "), what
        assert upload.arg in line, f"the message does not name the input\n{what}"
        assert re.search(case.rule, line, re.IGNORECASE), f"the message does not name the rule /{case.rule}/\n{what}"
        assert res.stdout.strip() == "", what
        assert left == [], f"LEFTOVERS after a refused input: {left}\n{what}"
    else:
        assert left == ["out"], f"LEFTOVERS beside the output: {left}\n{what}"
        report = json.loads(res.stdout)
        if case.warning:
            assert report.get("warnings"), f"a damaged input gave output without a warning\n{what}"
        check_complete_output(out, report, upload, case.decode_output)


# ---------------------------------------------------------------------------
# crash safety: SIGKILL at random moments
# ---------------------------------------------------------------------------


def snapshot(folder: Path) -> Optional[dict[str, tuple[int, str]]]:
    """{relative path: (size, sha256)} of every file in folder; None when it does not exist."""
    if not folder.exists():
        return None
    return {str(rel): (len(data), hashlib.sha256(data).hexdigest()) for rel, data in tree_bytes(folder)}


def staging_folders(parent: Path, name: str) -> list[str]:
    return sorted(n for n in os.listdir(parent) if n.startswith(f".{name}.hlsify-"))


def kill_when(argv: list[str], inside: Optional[str], parent: Path, name: str, limit: float = 600) -> tuple[float, bool]:
    """Starts argv and SIGKILLs it the moment its staging folder holds `inside` (a glob relative to
    the staging folder; "" for the folder itself; None lets it finish): a state the run is seen to
    reach, never a guessed time, so the kill lands at the same stage on a busy machine as on a
    quiet one. Returns (seconds it ran, whether it had finished on its own first)."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    try:
        if inside is None:
            proc.wait(timeout=limit)
            return time.monotonic() - t0, True
        pattern = str(parent / f".{name}.hlsify-staging-{proc.pid}-*" / inside) if inside else \
            str(parent / f".{name}.hlsify-staging-{proc.pid}-*")
        while not glob.glob(pattern):
            if proc.poll() is not None:
                return time.monotonic() - t0, True
            assert time.monotonic() - t0 < limit, f"the run never reached {inside or 'its staging folder'}"
            time.sleep(0.002)
        proc.kill()
        proc.wait()
        return time.monotonic() - t0, False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigkill_leaves_previous_or_complete_output(tmp_path):
    """hlsify is SIGKILLed at observed stages (as soon as its staging folder exists, after a
    segment of each rendition is finished, and right as it starts to commit) while replacing a
    complete earlier output. Afterwards --out must hold either exactly the earlier output or a
    complete new one; a killed run into a fresh --out leaves nothing or a complete set; and the
    next run removes the staging folders the dead processes left."""
    binary = hlsify_bin()
    src = tmp_path / "lecture.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-f", "lavfi", "-i",
           "sine=frequency=440:sample_rate=48000", "-t", "6", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", src)
    parent = tmp_path / "work"
    parent.mkdir()
    name = "lecture"
    out = parent / name
    common = [binary, str(src), "--out", str(out), "--preset", "veryfast", "--ladder", "720p,480p", "--quiet", "--force"]

    # The earlier output: 2 s segments. The killed runs make 4 s segments, so the two sets
    # cannot be mistaken for each other.
    first = subprocess.run(common + ["--segment-duration", "2"], capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    previous = snapshot(out)
    new_sets: list[dict] = []

    # Stages: the staging folder made; segment 0 of both renditions finished (segment 1 begun);
    # the output complete in staging (master.m3u8 written: about to be flushed and renamed in);
    # then a run left to finish, and one more killed at the commit over that new output.
    stages: list[Optional[str]] = ["", "720p/segment-00001.*", "480p/segment-00001.*", "master.m3u8", None, "master.m3u8"]
    outcomes = []
    for stage in stages:
        ran, finished = kill_when(common, stage, parent, name)
        state = snapshot(out)
        label = f"kill at {'no point' if stage is None else stage or 'the staging folder'} (ran {ran:.2f}s)"
        assert state is not None, f"{label}: --out vanished (the earlier output is gone)"
        if state == previous:
            outcomes.append("previous")
            continue
        # Not the earlier set: then it must be a complete new one, and nothing of the old one.
        hls = h.load_hls_set(str(out / "master.m3u8"))
        for v in hls.variants:
            assert v.playlist.target_duration == 4, f"{label}: {v.uri} mixes old and new output"
        check_complete_output(out, {}, Upload(str(src), video_frames=150), decode=True)
        referenced = {os.path.relpath(p, out) for p in
                      [os.path.join(out, "master.m3u8")] +
                      [pl.path for pl in hls.media_playlists()] +
                      [s.path for pl in hls.media_playlists() for s in pl.segments] +
                      [s.init.path for pl in hls.media_playlists() for s in pl.segments if s.init]}
        # I-frame playlists named by the master (they point into the same segment files).
        master_text = (out / "master.m3u8").read_text()
        referenced |= {os.path.normpath(u) for u in
                       re.findall(r'^#EXT-X-I-FRAME-STREAM-INF:.*?URI="([^"]+)"', master_text, re.M)}
        # Besides the playlists' files: the default poster and storyboard.
        pictures = {f for f in state if f == "poster.jpg" or f.startswith("storyboard/")}
        assert pictures == {"poster.jpg", "storyboard/storyboard.vtt", "storyboard/storyboard-000.jpg"}, f"{label}: {sorted(pictures)}"
        assert set(state) - pictures == referenced, f"{label}: files not in any playlist: {sorted(set(state) - referenced - pictures)}"
        outcomes.append("new" + (" (finished)" if finished else ""))
        previous = state
        new_sets.append(state)

    # A run killed halfway into a fresh --out leaves no output at all.
    fresh = parent / "fresh"
    ran, finished = kill_when([binary, str(src), "--out", str(fresh), "--preset", "veryfast", "--ladder", "720p,480p",
                               "--quiet"], "720p/segment-00001.*", parent, "fresh")
    if not finished:
        assert not fresh.exists(), f"a run killed after {ran:.2f}s left {fresh}: {h.list_tree(str(fresh))}"

    print(f"SIGKILL outcomes: {outcomes}")
    stale = staging_folders(parent, name)
    assert outcomes[:3] == ["previous"] * 3, f"a kill before the commit must leave the earlier output: {outcomes}"
    assert outcomes[4] == "new (finished)", f"the run left alone must replace the output: {outcomes}"
    assert stale, f"the killed runs left no staging folder, so removal is not tested: {outcomes}"

    # The next normal runs remove what the dead processes left (the fresh one through a run that
    # is refused: cleaning up does not depend on the input).
    final = subprocess.run(common, capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr[-2000:]
    assert staging_folders(parent, name) == [], f"stale staging folders survived a normal run: {staging_folders(parent, name)}"
    check_complete_output(out, {}, Upload(str(src), video_frames=150), decode=False)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    refused = subprocess.run([binary, str(empty), "--out", str(fresh), "--quiet"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == EX_DATAERR, refused.stderr
    assert staging_folders(parent, "fresh") == [], f"stale staging folders survived: {staging_folders(parent, 'fresh')}"
    assert sorted(os.listdir(parent)) == sorted([name, "fresh"] if fresh.exists() else [name]), os.listdir(parent)


def test_staging_left_by_a_killed_run_with_a_long_name_is_removed_by_the_next(tmp_path):
    """An --out name near NAME_MAX (multi-byte, so the engine cuts it on a character boundary)
    gets a staging folder that fits in 255 bytes and is still hidden and recognisable; one left
    by a SIGKILLed run is removed by the next run into the same --out."""
    binary = hlsify_bin()
    parent = tmp_path / "work"
    parent.mkdir()
    name = "cours-" + "é" * 122  # 250 bytes
    assert len(name.encode()) == 250
    out = parent / name
    argv = [binary, fixture_path("landscape-720p.mp4"), "--out", str(out), "--ladder", "720p,480p", "--quiet"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # Killed the moment its staging folder exists, long before the transcode can finish.
        pattern = str(parent / f".*.hlsify-staging-{proc.pid}-*")
        t0 = time.monotonic()
        while not glob.glob(pattern):
            assert proc.poll() is None, f"hlsify ended ({proc.returncode}) without a staging folder: {proc.stderr.read()!r}"
            assert time.monotonic() - t0 < 120, "no staging folder appeared"
            time.sleep(0.002)
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    left = os.listdir(parent)
    assert len(left) == 1 and left[0].startswith("."), f"expected the killed run's staging folder only: {left}"
    staging = left[0]
    assert len(staging.encode()) <= 255
    assert ".hlsify-staging-" in staging and staging.startswith(".cours-é"), staging
    assert staging.encode().decode("utf-8") == staging  # os.listdir would have escaped a split character

    res = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert sorted(os.listdir(parent)) == [name], f"the stale staging folder survived: {os.listdir(parent)}"
    assert (out / "master.m3u8").is_file()
