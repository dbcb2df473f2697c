"""Independent readers for what hlsify writes.

Nothing here trusts hlsify's own report: playlists are read with the `m3u8` PyPI parser,
streams with ffprobe, the H.264 parameter sets with ffmpeg's bitstream filter plus a few
lines of NAL parsing below. The same functions are run on HLS sets made by ffmpeg's own
hls muxer in test_checkers.py, so a broken checker shows up there, not as an engine bug.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional
from urllib.parse import unquote, urlsplit

import m3u8

# ---------------------------------------------------------------------------
# processes
# ---------------------------------------------------------------------------


def run(cmd: list[str], timeout: float = 180, check: bool = True, **kw) -> subprocess.CompletedProcess:
    """Runs a command, capturing output; raises with its stderr when it fails and check is set."""
    proc = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw)
    if check and proc.returncode != 0:
        err = proc.stderr.decode(errors="replace") if isinstance(proc.stderr, bytes) else proc.stderr
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{err[-2000:]}")
    return proc


def ffprobe_json(path: str, *args: str) -> dict:
    out = run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)]).stdout
    return json.loads(out)


# ---------------------------------------------------------------------------
# stream facts (ffprobe)
# ---------------------------------------------------------------------------


def _fraction(text: Optional[str], default: Fraction) -> Fraction:
    """'16:15' or '30000/1001' -> Fraction; '0:1', '0/0', 'N/A', None -> default."""
    if not text or text in ("N/A", "0:1", "0/0", "0/1"):
        return default
    sep = ":" if ":" in text else "/"
    num, den = text.split(sep)
    if int(den) == 0 or int(num) == 0:
        return default
    return Fraction(int(num), int(den))


def _rotation(stream: dict) -> int:
    """Display rotation in degrees (0, 90, 180, 270) from the display matrix side data or
    the old `rotate` tag."""
    for sd in stream.get("side_data_list", []) or []:
        if "rotation" in sd:
            return int(round(float(sd["rotation"]))) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    return int(tag) % 360 if tag else 0


@dataclass
class VideoFacts:
    codec: str
    profile: str
    level: int
    width: int  # coded (as ffprobe reports width/height)
    height: int
    sar: Fraction
    rotation: int
    r_frame_rate: Fraction
    avg_frame_rate: Fraction
    frames: int  # decoded frames (ffprobe -count_frames)
    pix_fmt: str

    @property
    def display_size(self) -> tuple[float, float]:
        w, h = self.width * float(self.sar), float(self.height)
        return (h, w) if self.rotation % 180 == 90 else (w, h)

    @property
    def display_aspect(self) -> float:
        w, h = self.display_size
        return w / h

    @property
    def is_portrait(self) -> bool:
        w, h = self.display_size
        return h > w


@dataclass
class AudioFacts:
    codec: str
    profile: str
    channels: int
    sample_rate: int
    language: Optional[str]
    frames: int


@dataclass
class MediaFacts:
    duration: float
    video: Optional[VideoFacts]
    audio: Optional[AudioFacts]
    video_streams: int
    audio_streams: int


def probe(path: str) -> MediaFacts:
    """Reads a media file with ffprobe, decoding every frame to count them."""
    info = ffprobe_json(path, "-count_frames", "-show_streams", "-show_format")
    streams = info.get("streams", [])
    vs = [s for s in streams if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")]
    aus = [s for s in streams if s.get("codec_type") == "audio"]
    video = audio = None
    if vs:
        s = vs[0]
        video = VideoFacts(
            codec=s.get("codec_name", ""),
            profile=s.get("profile", ""),
            level=int(s.get("level", -1)),
            width=int(s["width"]),
            height=int(s["height"]),
            sar=_fraction(s.get("sample_aspect_ratio"), Fraction(1)),
            rotation=_rotation(s),
            r_frame_rate=_fraction(s.get("r_frame_rate"), Fraction(0)),
            avg_frame_rate=_fraction(s.get("avg_frame_rate"), Fraction(0)),
            frames=int(s.get("nb_read_frames", 0)),
            pix_fmt=s.get("pix_fmt", ""),
        )
    if aus:
        s = aus[0]
        lang = (s.get("tags") or {}).get("language")
        audio = AudioFacts(
            codec=s.get("codec_name", ""),
            profile=s.get("profile", ""),
            channels=int(s.get("channels", 0)),
            sample_rate=int(s.get("sample_rate", 0)),
            language=lang,
            frames=int(s.get("nb_read_frames", 0)),
        )
    duration = float((info.get("format") or {}).get("duration", "nan"))
    return MediaFacts(duration, video, audio, len(vs), len(aus))


def video_packets(path: str) -> list[dict]:
    """Video packets in file order: pts/dts (seconds, may be None), flags, size."""
    info = ffprobe_json(path, "-select_streams", "v:0", "-show_entries", "packet=pts_time,dts_time,duration_time,flags,size")
    out = []
    for p in info.get("packets", []):
        def t(k):
            v = p.get(k)
            return float(v) if v not in (None, "N/A") else None
        out.append({"pts": t("pts_time"), "dts": t("dts_time"), "flags": p.get("flags", ""), "size": int(p.get("size", 0))})
    return out


def packet_times(path: str, stream: str) -> list[float]:
    """Presentation times of one stream's packets (e.g. stream='a:0'), sorted."""
    info = ffprobe_json(path, "-select_streams", stream, "-show_entries", "packet=pts_time")
    return sorted(float(p["pts_time"]) for p in info.get("packets", []) if p.get("pts_time") not in (None, "N/A"))


@dataclass
class SegmentVideoCheck:
    packets: int
    decoded_frames: int
    first_packet_flags: str
    first_pts: Optional[float]
    first_nal_types: list[int]  # NAL unit types of the first access unit, in order
    sps: Optional[bytes]


def check_segment_video(path: str) -> SegmentVideoCheck:
    """What a decoder that sees only this file (init + one segment) gets."""
    info = ffprobe_json(path, "-select_streams", "v:0", "-count_frames",
                        "-show_entries", "stream=nb_read_frames:packet=flags,pts_time")
    pkts = info.get("packets", [])
    streams = info.get("streams", [])
    decoded = int(streams[0].get("nb_read_frames", 0)) if streams else 0
    au = first_access_unit(path)
    nals = split_annexb(au)
    sps = next((n for n in nals if n and n[0] & 0x1F == 7), None)
    first_pts = None
    if pkts and pkts[0].get("pts_time") not in (None, "N/A"):
        first_pts = float(pkts[0]["pts_time"])
    return SegmentVideoCheck(
        packets=len(pkts),
        decoded_frames=decoded,
        first_packet_flags=pkts[0].get("flags", "") if pkts else "",
        first_pts=first_pts,
        first_nal_types=[n[0] & 0x1F for n in nals if n],
        sps=sps,
    )


# ---------------------------------------------------------------------------
# H.264 parameter sets
# ---------------------------------------------------------------------------


def first_access_unit(path: str) -> bytes:
    """The first video access unit as Annex B bytes, parameter sets included (ffmpeg's
    h264_mp4toannexb puts the avcC SPS/PPS in front of the first IDR for MP4)."""
    return run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-c", "copy",
                "-bsf:v", "h264_mp4toannexb", "-frames:v", "1", "-f", "h264", "-"]).stdout


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units (header byte first) of an Annex B byte stream."""
    nals, i, n = [], 0, len(data)
    starts = []
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        starts.append(j + 3)
        i = j + 3
    for k, s in enumerate(starts):
        e = starts[k + 1] - 3 if k + 1 < len(starts) else n
        nal = data[s:e]
        # a 4-byte start code leaves a trailing zero on the previous NAL
        while nal.endswith(b"\x00") and k + 1 < len(starts):
            nal = nal[:-1]
        nals.append(nal)
    return nals


@dataclass
class SPSHead:
    profile_idc: int
    constraint_flags: int
    level_idc: int

    @property
    def rfc6381(self) -> str:
        """avc1.PPCCLL as RFC 6381 spells it."""
        return f"avc1.{self.profile_idc:02x}{self.constraint_flags:02x}{self.level_idc:02x}"


def sps_head(sps: bytes) -> SPSHead:
    # header byte, then profile_idc, constraint_set flags, level_idc (no emulation
    # prevention can occur here: profile_idc is never 0)
    assert sps and sps[0] & 0x1F == 7, "not an SPS NAL unit"
    return SPSHead(sps[1], sps[2], sps[3])


# ITU-T H.264 Table A-1: level_idc -> (MaxMBPS, MaxFS)
H264_LEVEL_LIMITS = {
    10: (1485, 99), 11: (3000, 396), 12: (6000, 396), 13: (11880, 396),
    20: (11880, 396), 21: (19800, 792), 22: (20250, 1620),
    30: (40500, 1620), 31: (108000, 3600), 32: (216000, 5120),
    40: (245760, 8192), 41: (245760, 8192), 42: (522240, 8704),
    50: (589824, 22080), 51: (983040, 36864), 52: (2073600, 36864),
    60: (4177920, 139264), 61: (8355840, 139264), 62: (16711680, 139264),
}


def level_allows(level_idc: int, width: int, height: int, fps: float) -> bool:
    """True when a stream of this size and frame rate fits the level's frame size and
    macroblock-rate limits (and the per-side limit sqrt(8 * MaxFS))."""
    if level_idc not in H264_LEVEL_LIMITS:
        return False
    max_mbps, max_fs = H264_LEVEL_LIMITS[level_idc]
    mbw, mbh = math.ceil(width / 16), math.ceil(height / 16)
    fs = mbw * mbh
    side = math.sqrt(8 * max_fs)
    return fs <= max_fs and mbw <= side and mbh <= side and fs * fps <= max_mbps * 1.0001


# ---------------------------------------------------------------------------
# playlists (m3u8 parser)
# ---------------------------------------------------------------------------


def is_relative_uri(uri: str) -> bool:
    parts = urlsplit(uri)
    return bool(uri) and not parts.scheme and not parts.netloc and not uri.startswith("/")


def resolve(playlist_path: str, uri: str) -> str:
    return os.path.normpath(os.path.join(os.path.dirname(playlist_path), unquote(urlsplit(uri).path)))


def _byterange(text: Optional[str], previous_end: int) -> Optional[tuple[int, int]]:
    """'len[@offset]' -> (length, offset)."""
    if not text:
        return None
    if "@" in text:
        length, offset = text.split("@")
        return int(length), int(offset)
    return int(text), previous_end


@dataclass
class Part:
    uri: str
    path: str
    byterange: Optional[tuple[int, int]] = None

    def data(self) -> bytes:
        with open(self.path, "rb") as f:
            if self.byterange is None:
                return f.read()
            length, offset = self.byterange
            f.seek(offset)
            b = f.read(length)
            assert len(b) == length, f"{self.path}: byte range {self.byterange} past the end"
            return b

    @property
    def size(self) -> int:
        return self.byterange[0] if self.byterange else os.path.getsize(self.path)


@dataclass
class Segment(Part):
    duration: float = 0.0
    init: Optional[Part] = None


@dataclass
class MediaPlaylist:
    uri: str
    path: str
    text: str
    parsed: m3u8.M3U8
    segments: list[Segment]

    @property
    def target_duration(self) -> Optional[int]:
        return self.parsed.target_duration

    @property
    def version(self) -> Optional[int]:
        return self.parsed.version

    @property
    def durations(self) -> list[float]:
        return [s.duration for s in self.segments]

    @property
    def has_map(self) -> bool:
        return any(s.init is not None for s in self.segments)

    @property
    def suffix(self) -> str:
        return ".mp4" if self.has_map else ".ts"

    def standalone(self, i: int) -> bytes:
        """Init section (if any) followed by segment i: what a player fetches to start there."""
        seg = self.segments[i]
        return (seg.init.data() if seg.init else b"") + seg.data()

    def whole(self) -> bytes:
        """The whole rendition as one file: each init section where it (first or newly)
        applies, then the segments in order."""
        out, last_init = [], None
        for seg in self.segments:
            if seg.init is not None and (last_init is None or (seg.init.path, seg.init.byterange) != last_init):
                out.append(seg.init.data())
                last_init = (seg.init.path, seg.init.byterange)
            out.append(seg.data())
        return b"".join(out)

    def bitrates(self, mode: str = "inclusive") -> tuple[float, float]:
        return peak_and_average(self.durations, [s.size for s in self.segments], self.target_duration or 0, mode)


def load_media_playlist(path: str, uri: str = "") -> MediaPlaylist:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    parsed = m3u8.loads(text)
    segments: list[Segment] = []
    prev_end: dict[str, int] = {}
    init_prev_end: dict[str, int] = {}
    for s in parsed.segments:
        init = None
        if s.init_section is not None:
            iuri = s.init_section.uri
            ipath = resolve(path, iuri)
            ibr = _byterange(getattr(s.init_section, "byterange", None), init_prev_end.get(ipath, 0))
            init = Part(iuri, ipath, ibr)
        spath = resolve(path, s.uri)
        br = _byterange(s.byterange, prev_end.get(spath, 0))
        if br:
            prev_end[spath] = br[0] + br[1]
        segments.append(Segment(uri=s.uri, path=spath, byterange=br, duration=float(s.duration), init=init))
    return MediaPlaylist(uri=uri, path=path, text=text, parsed=parsed, segments=segments)


@dataclass
class Variant:
    uri: str
    bandwidth: Optional[int]
    average_bandwidth: Optional[int]
    codecs: Optional[str]
    resolution: Optional[tuple[int, int]]
    frame_rate: Optional[float]
    audio: Optional[str]
    playlist: MediaPlaylist

    @property
    def codec_list(self) -> list[str]:
        return [c.strip() for c in (self.codecs or "").split(",") if c.strip()]


@dataclass
class Rendition:
    """An EXT-X-MEDIA entry."""
    type: str
    group_id: Optional[str]
    name: Optional[str]
    language: Optional[str]
    default: Optional[str]
    autoselect: Optional[str]
    channels: Optional[str]
    uri: Optional[str]
    playlist: Optional[MediaPlaylist]


@dataclass
class HLSSet:
    root: str
    master_path: str
    master_text: str
    master: m3u8.M3U8
    variants: list[Variant]
    media: list[Rendition]

    @property
    def audio_renditions(self) -> list[Rendition]:
        return [m for m in self.media if m.type == "AUDIO"]

    def all_uris(self) -> list[str]:
        """Every URI the set names: in the master and in every media playlist (segments and maps)."""
        uris = [v.uri for v in self.variants] + [m.uri for m in self.media if m.uri]
        for pl in self.media_playlists():
            for s in pl.segments:
                uris.append(s.uri)
                if s.init:
                    uris.append(s.init.uri)
        return uris

    def media_playlists(self) -> list[MediaPlaylist]:
        seen, out = set(), []
        for pl in [v.playlist for v in self.variants] + [m.playlist for m in self.media if m.playlist]:
            if pl.path not in seen:
                seen.add(pl.path)
                out.append(pl)
        return out


def load_hls_set(master_path: str) -> HLSSet:
    with open(master_path, encoding="utf-8") as f:
        text = f.read()
    master = m3u8.loads(text)
    assert master.is_variant, f"{master_path} is not a master playlist"
    cache: dict[str, MediaPlaylist] = {}

    def media(uri: str) -> MediaPlaylist:
        p = resolve(master_path, uri)
        if p not in cache:
            cache[p] = load_media_playlist(p, uri)
        return cache[p]

    variants = []
    for pl in master.playlists:
        si = pl.stream_info
        variants.append(Variant(
            uri=pl.uri,
            bandwidth=si.bandwidth,
            average_bandwidth=si.average_bandwidth,
            codecs=si.codecs,
            resolution=tuple(si.resolution) if si.resolution else None,
            frame_rate=si.frame_rate,
            audio=si.audio,
            playlist=media(pl.uri),
        ))
    renditions = []
    for m in master.media:
        renditions.append(Rendition(
            type=m.type, group_id=m.group_id, name=m.name, language=m.language,
            default=m.default, autoselect=m.autoselect, channels=m.channels, uri=m.uri,
            playlist=media(m.uri) if m.uri else None,
        ))
    return HLSSet(os.path.dirname(master_path), master_path, text, master, variants, renditions)


# ---------------------------------------------------------------------------
# bandwidth, as RFC 8216 section 4.3.4.2 defines it
# ---------------------------------------------------------------------------


def peak_and_average(durations: list[float], sizes: list[int], target: float, mode: str = "inclusive",
                     eps: float = 1e-3) -> tuple[float, float]:
    """(peak segment bit rate, average segment bit rate) of one media playlist in bits/s.

    Peak: the largest bit rate of any run of contiguous segments whose total duration is
    between 0.5 and 1.5 times the target duration. A run lasting exactly 0.5x or 1.5x is in
    with mode="inclusive" and out with mode="exclusive": a short last segment often sits right
    on that edge, so callers accept either reading. When no run qualifies (a playlist shorter
    than half a target) the highest single-segment rate stands in.
    Average: all segment bytes over the playlist duration. Init sections are not media
    segments and are not counted.
    """
    assert len(durations) == len(sizes) and durations, "empty playlist"
    lo, hi = 0.5 * target, 1.5 * target
    peak = 0.0
    for i in range(len(durations)):
        d = s = 0.0
        for j in range(i, len(durations)):
            d += durations[j]
            s += sizes[j]
            if d <= 0:
                continue
            if mode == "inclusive":
                ok = lo - eps <= d <= hi + eps
            else:
                ok = lo + eps < d < hi - eps
            if ok:
                peak = max(peak, s * 8 / d)
            if d > hi + eps:
                break
    if peak == 0.0:
        peak = max(sz * 8 / du for du, sz in zip(durations, sizes) if du > 0)
    average = sum(sizes) * 8 / sum(durations)
    return peak, average


def variant_bandwidths(variant: Variant, audio: Optional[MediaPlaylist], mode: str) -> tuple[float, float]:
    """(BANDWIDTH, AVERAGE-BANDWIDTH) a variant should declare: its video playlist plus the
    audio rendition it plays with."""
    vp, va = variant.playlist.bitrates(mode)
    if audio is not None:
        ap, aa = audio.bitrates(mode)
        vp, va = vp + ap, va + aa
    return vp, va


def within(declared: float, measured: float, tolerance: float) -> bool:
    return measured > 0 and abs(declared - measured) <= tolerance * measured


# ---------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------


class TempMedia:
    """Bytes written to a temporary file with the given suffix, for ffprobe/ffmpeg to read."""

    def __init__(self, data: bytes, suffix: str):
        self._f = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
        self._f.write(data)
        self._f.close()
        self.path = self._f.name

    def __enter__(self) -> str:
        return self.path

    def __exit__(self, *exc) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def list_tree(root: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.append(os.path.relpath(os.path.join(dirpath, n), root))
    return sorted(out)
