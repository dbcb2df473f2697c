"""RFC 8216 and Apple's HLS Authoring Specification, as rules our own code checks.

Each rule is a function `rule(ctx) -> list[str]`: the findings, empty when the HLS set follows
the rule. The rules read the set the way a player or an auditor would, and trust nothing the
engine reports: the master and media playlists are parsed here (attribute lists by hand, the
rest with hlscheck's `m3u8`-based reader), the media with ffprobe. They work on any HLS set
with a master playlist, hlsify's or ffmpeg's (audit.py scores both), and tolerate variants
without video (audio-only sets): video rules skip them, audio rules check them.

Spec clauses are quoted by number from the current "HTTP Live Streaming (HLS) authoring
specification for Apple devices" (Apple) and RFC 8216 (RFC). Where the issue asks for more than
Apple (VIDEO-RANGE=SDR spelled out, H.264 at most High@4.2, which the older edition of Apple's
1.3 required and the current one keeps as the macOS/compatibility ceiling), the rule says so.

`Context` caches what several rules need (parsed master, probes of each media playlist), so a
set is probed once per playlist however many rules read it. Tests may hand it facts they have
already computed (hlscheck.SegmentVideoCheck lists) to avoid probing twice.
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Optional

import hlscheck as h

BANDWIDTH_TOLERANCE = 0.10        # Apple 1.26, 1.27
PEAK_OVER_AVERAGE = 2.0           # Apple 1.30
MAX_H264_LEVEL = 42               # issue 6 (Apple's earlier 1.3: High Profile, Level 4.2)
H264_PROFILES_UP_TO_HIGH = {66: "Baseline", 77: "Main", 88: "Extended", 100: "High"}
AAC_STEREO_KBPS = (32, 160)       # Apple 2.9, AAC 2.0
START_BITRATE = 2_000_000         # Apple 1.32 / iOS 1.32a: default variant ~2000 kbit/s
AAC_FRAME_SAMPLES = 1024
MAX_FRAME_RATE = 60               # Apple 1.19
KEYFRAME_INTERVAL = 2.0           # Apple 1.13
INTERLACED_SHARE = 0.9            # progressive_pictures: idet verdicts that mean "interlaced"
TARGET_EXCESS = 0.5               # Apple 7.7: segments never exceed the target by more than 0.5 s
EPS = 1e-3                        # playlists print durations with 6 decimals


# ---------------------------------------------------------------------------
# reading the master playlist (attribute lists per RFC 8216 section 4.2)
# ---------------------------------------------------------------------------

_ATTR = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^",]*)')


def parse_attributes(text: str) -> dict[str, str]:
    """'A=1,B="x,y",C=NONE' -> {'A': '1', 'B': 'x,y', 'C': 'NONE'} (quotes dropped)."""
    out = {}
    for name, value in _ATTR.findall(text):
        out[name] = value[1:-1] if value.startswith('"') else value
    return out


@dataclass
class Tag:
    name: str                # e.g. "EXT-X-STREAM-INF"
    attrs: dict[str, str]
    uri: Optional[str]       # the URI line after EXT-X-STREAM-INF, or the URI attribute
    line: int                # 1-based line number in the master


def master_tags(text: str) -> list[Tag]:
    lines = text.splitlines()
    tags = []
    for i, line in enumerate(lines):
        line = line.strip()
        if not line.startswith("#EXT"):
            continue
        name, _, rest = line[1:].partition(":")
        attrs = parse_attributes(rest) if name in ("EXT-X-STREAM-INF", "EXT-X-I-FRAME-STREAM-INF", "EXT-X-MEDIA") else {}
        uri = attrs.get("URI")
        if name == "EXT-X-STREAM-INF":
            uri = next((l.strip() for l in lines[i + 1:] if l.strip() and not l.strip().startswith("#")), None)
        tags.append(Tag(name, attrs, uri, i + 1))
    return tags


def codec_list(codecs: Optional[str]) -> list[str]:
    return [c.strip() for c in (codecs or "").split(",") if c.strip()]


def is_video_codec(c: str) -> bool:
    return c.split(".")[0].lower() in ("avc1", "avc3", "hvc1", "hev1", "dvh1", "dvhe", "av01", "vp09")


def is_audio_codec(c: str) -> bool:
    return c.split(".")[0].lower() in ("mp4a", "ac-3", "ec-3", "ac-4", "alac", "flac", "opus")


# ---------------------------------------------------------------------------
# what a media playlist holds (one ffprobe over the segments put back together)
# ---------------------------------------------------------------------------


@dataclass
class Packet:
    stream: str              # "video" / "audio"
    pts: float
    duration: Optional[float]
    pos: int
    size: int
    key: bool


@dataclass
class Timeline:
    """The media of one playlist, read as one file: init section(s) then every segment."""
    streams: dict[str, dict]               # codec_type -> ffprobe stream entry (first of each type)
    packets: dict[str, list[Packet]]       # codec_type -> packets, file order
    segment_of: Callable[[int], int]       # byte position in the joined file -> segment index
    segments: int

    def kinds(self) -> set[str]:
        return {k for k in self.streams if k in ("video", "audio")}

    @property
    def primary(self) -> Optional[str]:
        return "video" if "video" in self.streams else ("audio" if "audio" in self.streams else None)

    def starts(self, kind: str) -> list[Optional[float]]:
        """Earliest presentation time in each segment (None for a segment without that stream)."""
        out: list[Optional[float]] = [None] * self.segments
        for p in self.packets.get(kind, []):
            k = self.segment_of(p.pos)
            if 0 <= k < self.segments and (out[k] is None or p.pts < out[k]):
                out[k] = p.pts
        return out

    def end(self, kind: str) -> float:
        """Where that stream's content ends: the latest pts plus its packet duration (or the
        largest gap between frames when the container gives none)."""
        pkts = self.packets[kind]
        gap = self.frame_gap(kind)
        return max(p.pts + (p.duration if p.duration else gap) for p in pkts)

    def span(self, kind: str) -> float:
        return self.end(kind) - min(p.pts for p in self.packets[kind])

    def frame_gap(self, kind: str) -> float:
        """Longest distance between two consecutive presentation times (one frame for CFR)."""
        times = sorted(p.pts for p in self.packets.get(kind, []))
        gaps = [b - a for a, b in zip(times, times[1:]) if b - a > 1e-6]
        return max(gaps) if gaps else 0.0


def _probe_packets(path: str) -> tuple[dict[str, dict], dict[str, list[Packet]]]:
    info = h.ffprobe_json(path, "-show_entries",
                          "stream=index,codec_type,codec_name,profile,channels,sample_rate,width,height,"
                          "r_frame_rate,avg_frame_rate,field_order:packet=stream_index,pts_time,duration_time,pos,size,flags")
    by_index = {s["index"]: s for s in info.get("streams", [])}
    streams: dict[str, dict] = {}
    for s in info.get("streams", []):
        streams.setdefault(s.get("codec_type", ""), s)
    first_index = {kind: s["index"] for kind, s in streams.items()}
    packets: dict[str, list[Packet]] = {k: [] for k in streams}
    last_pos: dict[str, int] = {}
    for p in info.get("packets", []):
        s = by_index.get(p.get("stream_index"))
        if s is None or first_index.get(s.get("codec_type")) != s["index"]:
            continue
        kind = s["codec_type"]
        # A PES holding several AAC frames (ffmpeg's TS muxer packs them) gives a position to
        # the first frame only: the others come from the same bytes, so inherit it.
        pos = int(p["pos"]) if p.get("pos") not in (None, "N/A") else last_pos.get(kind)
        if p.get("pts_time") in (None, "N/A") or pos is None:
            continue
        last_pos[kind] = pos
        d = p.get("duration_time")
        packets[kind].append(Packet(
            stream=kind, pts=float(p["pts_time"]),
            duration=float(d) if d not in (None, "N/A") and float(d) > 0 else None,
            pos=pos, size=int(p.get("size", 0)), key=p.get("flags", "").startswith("K")))
    return streams, packets


def probe_timeline(pl: h.MediaPlaylist) -> Timeline:
    """Joins the playlist's init section(s) and segments into one temporary file (streamed, not
    held in memory), probes it once and maps each packet back to its segment by byte position."""
    tmp = tempfile.NamedTemporaryFile(suffix=pl.suffix, delete=False)
    bounds: list[tuple[int, int]] = []
    try:
        with tmp:
            last_init = None
            for seg in pl.segments:
                if seg.init is not None and (seg.init.path, seg.init.byterange) != last_init:
                    tmp.write(seg.init.data())
                    last_init = (seg.init.path, seg.init.byterange)
                start = tmp.tell()
                if seg.byterange is None:
                    with open(seg.path, "rb") as f:
                        shutil.copyfileobj(f, tmp)
                else:
                    tmp.write(seg.data())
                bounds.append((start, tmp.tell()))
        streams, packets = _probe_packets(tmp.name)
    finally:
        os.unlink(tmp.name)

    def segment_of(pos: int) -> int:
        for k, (a, b) in enumerate(bounds):
            if a <= pos < b:
                return k
        return -1

    return Timeline(streams, packets, segment_of, len(bounds))


def source_timeline(path: str) -> Timeline:
    streams, packets = _probe_packets(path)
    return Timeline(streams, packets, lambda pos: 0, 1)


# ---------------------------------------------------------------------------
# the set as the rules see it
# ---------------------------------------------------------------------------


@dataclass
class VariantView:
    tag: Tag
    playlist: h.MediaPlaylist
    timeline: Timeline

    @property
    def attrs(self) -> dict[str, str]:
        return self.tag.attrs

    @property
    def uri(self) -> str:
        return self.tag.uri

    @property
    def has_video(self) -> bool:
        return "video" in self.timeline.kinds()

    @property
    def has_audio(self) -> bool:
        return "audio" in self.timeline.kinds()

    @property
    def codecs(self) -> list[str]:
        return codec_list(self.attrs.get("CODECS"))

    def int_attr(self, name: str) -> Optional[int]:
        v = self.attrs.get(name)
        return int(v) if v and v.isdigit() else None


@dataclass
class RenditionView:
    tag: Tag
    playlist: Optional[h.MediaPlaylist]

    @property
    def attrs(self) -> dict[str, str]:
        return self.tag.attrs

    @property
    def type(self) -> str:
        return self.attrs.get("TYPE", "")


@dataclass
class IFrameView:
    tag: Tag
    playlist: Optional[h.MediaPlaylist]
    error: Optional[str] = None

    @property
    def attrs(self) -> dict[str, str]:
        return self.tag.attrs


@dataclass
class Context:
    """One HLS set and what the rules may want to know about it.

    source: the file it was made from (enables the source-duration half of `extinf_accuracy`).
    nominal_segment: the segment duration asked for (default: each playlist's TARGETDURATION).
    segment_checks: optional precomputed {variant URI: [hlscheck.SegmentVideoCheck per segment]}.
    progressive: the set was published with --progressive (its playlists stay EVENT).
    """
    master_path: str
    source: Optional[str] = None
    nominal_segment: Optional[float] = None
    max_h264_level: int = MAX_H264_LEVEL
    segment_checks: dict = field(default_factory=dict)
    progressive: bool = False

    @functools.cached_property
    def master_text(self) -> str:
        with open(self.master_path, encoding="utf-8") as f:
            return f.read()

    @functools.cached_property
    def tags(self) -> list[Tag]:
        return master_tags(self.master_text)

    _playlist_cache: dict = field(default_factory=dict, repr=False)
    _timeline_cache: dict = field(default_factory=dict, repr=False)

    def _playlist(self, uri: str) -> h.MediaPlaylist:
        path = h.resolve(self.master_path, uri)
        if path not in self._playlist_cache:
            self._playlist_cache[path] = h.load_media_playlist(path, uri)
        return self._playlist_cache[path]

    def timeline(self, path: str) -> Timeline:
        """The probed media of the playlist at `path` (loaded through _playlist first)."""
        if path not in self._timeline_cache:
            self._timeline_cache[path] = probe_timeline(self._playlist_cache[path])
        return self._timeline_cache[path]

    @functools.cached_property
    def variants(self) -> list[VariantView]:
        out = []
        for t in self.tags:
            if t.name == "EXT-X-STREAM-INF" and t.uri:
                pl = self._playlist(t.uri)
                out.append(VariantView(t, pl, self.timeline(pl.path)))
        return out

    @functools.cached_property
    def renditions(self) -> list[RenditionView]:
        return [RenditionView(t, self._playlist(t.uri) if t.uri else None)
                for t in self.tags if t.name == "EXT-X-MEDIA"]

    @functools.cached_property
    def iframe_streams(self) -> list[IFrameView]:
        out = []
        for t in self.tags:
            if t.name != "EXT-X-I-FRAME-STREAM-INF":
                continue
            if not t.uri:
                out.append(IFrameView(t, None, "no URI"))
                continue
            try:
                out.append(IFrameView(t, self._playlist(t.uri)))
            except (OSError, ValueError) as e:
                out.append(IFrameView(t, None, f"cannot read {t.uri}: {e}"))
        return out

    @property
    def video_variants(self) -> list[VariantView]:
        return [v for v in self.variants if v.has_video]

    def audio_group(self, group: Optional[str]) -> list[RenditionView]:
        return [r for r in self.renditions if r.type == "AUDIO" and group and r.attrs.get("GROUP-ID") == group]

    def av_playlists(self) -> list[tuple[str, h.MediaPlaylist]]:
        """Every audio and video media playlist (variants and AUDIO/VIDEO renditions), once each."""
        seen, out = set(), []
        for v in self.variants:
            if v.playlist.path not in seen:
                seen.add(v.playlist.path)
                out.append((v.uri, v.playlist))
        for r in self.renditions:
            if r.type in ("AUDIO", "VIDEO") and r.playlist is not None and r.playlist.path not in seen:
                seen.add(r.playlist.path)
                out.append((r.attrs.get("URI"), r.playlist))
        return out

    def subtitle_playlists(self) -> list[tuple[str, h.MediaPlaylist]]:
        return [(r.attrs.get("URI"), r.playlist) for r in self.renditions
                if r.type == "SUBTITLES" and r.playlist is not None]

    def audio_playlists(self) -> list[tuple[str, h.MediaPlaylist]]:
        """Media playlists carrying audio: AUDIO renditions, audio-only variants, muxed audio."""
        return [(uri, pl) for uri, pl in self.av_playlists() if "audio" in self.timeline(pl.path).kinds()]

    @functools.cached_property
    def frame(self) -> float:
        """Apple's tolerance unit, one video frame: the longest gap between two frames of the
        first video variant (so VFR sources get their longest frame). Without video, one AAC
        frame of the first audio playlist."""
        for v in self.video_variants:
            gap = v.timeline.frame_gap("video")
            if gap > 0:
                return gap
            fr = v.attrs.get("FRAME-RATE")
            if fr:
                return 1.0 / float(fr)
        for _, pl in self.audio_playlists():
            s = self.timeline(pl.path).streams["audio"]
            rate = int(s.get("sample_rate") or 0)
            if rate:
                return AAC_FRAME_SAMPLES / rate
        return 1 / 30

    @functools.cached_property
    def video_start(self) -> Optional[float]:
        """Where the presentation starts: the earliest picture of the first video variant (every
        rendition of a set shares one timeline), None without video."""
        for v in self.video_variants:
            pk = v.timeline.packets.get("video")
            if pk:
                return min(p.pts for p in pk)
        return None

    @functools.cached_property
    def audio_frame(self) -> float:
        """One AAC frame of the first audio playlist, in seconds (0 without audio)."""
        for _, pl in self.audio_playlists():
            rate = int(self.timeline(pl.path).streams["audio"].get("sample_rate") or 0)
            if rate:
                return AAC_FRAME_SAMPLES / rate
        return 0.0

    def segment_video_checks(self, v: VariantView) -> list[h.SegmentVideoCheck]:
        if v.uri not in self.segment_checks:
            checks = []
            for i in range(len(v.playlist.segments)):
                with h.TempMedia(v.playlist.standalone(i), v.playlist.suffix) as p:
                    checks.append(h.check_segment_video(p))
            self.segment_checks[v.uri] = checks
        return self.segment_checks[v.uri]

    @functools.cached_property
    def source_timeline(self) -> Optional[Timeline]:
        return source_timeline(self.source) if self.source else None


# ---------------------------------------------------------------------------
# measuring
# ---------------------------------------------------------------------------


def _rates(pl: h.MediaPlaylist, mode: str) -> tuple[float, float]:
    return h.peak_and_average(pl.durations, [s.size for s in pl.segments], pl.target_duration or 0, mode)


def variant_rates(ctx: Context, v: VariantView, mode: str) -> tuple[float, float]:
    """(peak, average) a player fetching this variant sees, per Apple 9.13: "the largest sum of
    peak segment bit rates produced by any playable combination of renditions". A variant with
    video plays its own playlist plus the largest rendition of its AUDIO group; a variant without
    video plays the largest rendition of its AUDIO group (or its own playlist when it has none)."""
    group = [r.playlist for r in ctx.audio_group(v.attrs.get("AUDIO")) if r.playlist is not None]
    group_rates = [_rates(pl, mode) for pl in group]
    if not v.has_video and group_rates:
        own = [_rates(v.playlist, mode)] if all(pl.path != v.playlist.path for pl in group) else []
        return max(own + group_rates)
    peak, avg = _rates(v.playlist, mode)
    others = [r for pl, r in zip(group, group_rates) if pl.path != v.playlist.path]
    if others:
        peak += max(p for p, _ in others)
        avg += max(a for _, a in others)
    return peak, avg


def _fmt_bps(x: float) -> str:
    return f"{x / 1000:.0f} kb/s"


# ---------------------------------------------------------------------------
# the rules
# ---------------------------------------------------------------------------


def idr_at_segment_start(ctx: Context) -> list[str]:
    """Apple 7.4: video segments MUST start with an IDR frame (first packet a keyframe and its
    first slice NAL unit of type 5, read from the segment with its init section only)."""
    out = []
    for v in ctx.video_variants:
        for i, c in enumerate(ctx.segment_video_checks(v)):
            slices = [t for t in c.first_nal_types if t in (1, 5)]
            if c.packets == 0:
                out.append(f"{v.uri} segment {i}: no video")
            elif "K" not in c.first_packet_flags or not slices or slices[0] != 5:
                out.append(f"{v.uri} segment {i}: starts with NAL types {c.first_nal_types[:6]} "
                           f"(flags {c.first_packet_flags!r}), not an IDR")
    return out


def extinf_accuracy(ctx: Context) -> list[str]:
    """Apple 8.1: the EXTINF sum of any contiguous group of segments is within one video frame
    of the duration of the content. Checked against what the segments hold: e_k = EXTINF sum
    before segment k minus the time from the start of the content to segment k's start, for every
    k and the end (any group's error is a difference of two e's, so max(e) - min(e) must stay
    within the tolerance); and, when the source is known, the whole playlist's EXTINF sum against
    the source's duration (its video's, else its audio's).

    Audio: the AAC encoder's priming frame(s) come before the content and the last frame is
    padded, and neither TS nor fMP4 without an edit list marks them. In a set with video the
    content starts where the video does (renditions share one timeline), so the priming is
    outside it, and the tolerance is one video frame or one AAC frame, the longer (the padding of
    the last frame is invisible). Without video the start is the first audio packet, priming
    included, and the tolerance two AAC frames (priming plus padding)."""
    out = []
    frame = ctx.frame
    src = ctx.source_timeline
    for uri, pl in ctx.av_playlists():
        tl = ctx.timeline(pl.path)
        kind = tl.primary
        if kind is None:
            out.append(f"{uri}: ffprobe finds no audio or video in its segments")
            continue
        starts = tl.starts(kind)
        if None in starts:
            out.append(f"{uri}: segment {starts.index(None)} holds no {kind}")
            continue
        anchor, tol = starts[0], frame
        if kind == "audio":
            if ctx.video_start is not None:
                anchor, tol = ctx.video_start, max(frame, ctx.audio_frame)
            else:
                tol = 2 * ctx.audio_frame
        marks = [anchor] + starts[1:] + [tl.end(kind)]
        errors, acc = [], 0.0
        for k, t in enumerate(marks):
            errors.append(acc - (t - anchor))
            if k < len(pl.durations):
                acc += pl.durations[k]
        spread = max(errors) - min(errors)
        if spread > tol + EPS:
            worst = max(range(len(errors)), key=lambda k: abs(errors[k]))
            out.append(f"{uri}: EXTINF sums drift from the {kind} content by up to {spread * 1000:.1f} ms "
                       f"(tolerance {tol * 1000:.1f} ms; {errors[worst] * 1000:+.1f} ms at "
                       f"{'the end' if worst == len(errors) - 1 else f'segment {worst}'})")
        if src is not None and src.primary is not None:
            # The content is the source's presentation: its video when it has video (audio is
            # conformed to it, Apple 8.3), else its audio. Audio media is whole AAC frames,
            # priming and padding included, so audio playlists get one video frame or one AAC
            # frame, the longer.
            tol = max(frame, ctx.audio_frame) if kind == "audio" else frame
            want = src.span(src.primary)
            got = sum(pl.durations)
            if abs(got - want) > tol + EPS:
                out.append(f"{uri}: EXTINF sum {got:.4f} s, the source's {src.primary} lasts {want:.4f} s "
                           f"(more than {tol * 1000:.1f} ms apart)")
    return out


def same_target_duration(ctx: Context) -> list[str]:
    """Apple 8.2: audio and video playlists MUST all use the same target duration. Subtitle
    playlists: Apple 5.7 lets VOD subtitle targets be longer, never shorter. I-frame playlists
    may differ for VOD (Apple 6.12) and are not compared."""
    av = {uri: pl.target_duration for uri, pl in ctx.av_playlists()}
    out = []
    if len(set(av.values())) > 1:
        out.append(f"audio/video TARGETDURATIONs differ: {av}")
    if av:
        target = max(t or 0 for t in av.values())
        for uri, pl in ctx.subtitle_playlists():
            if (pl.target_duration or 0) < target:
                out.append(f"{uri}: subtitle TARGETDURATION {pl.target_duration} is shorter than the media's {target}")
    return out


def same_content_duration(ctx: Context) -> list[str]:
    """Apple 8.3: audio and video playlists MUST contain the same duration of the content; 8.7:
    all VOD media playlists of one asset cover the same media time range (subtitles included).
    Compared by EXTINF sums, within one video frame (Apple 8.1's unit). Audio media is a whole
    number of AAC frames (the encoder's priming frame included), so when a set has audio the
    unit is one video frame or one AAC frame, whichever is longer (they differ above 46.9 fps
    at 48 kHz)."""
    sums = {uri: sum(pl.durations) for uri, pl in ctx.av_playlists() + ctx.subtitle_playlists()}
    if not sums:
        return ["no media playlists"]
    tol = max(ctx.frame, ctx.audio_frame)
    lo, hi = min(sums.values()), max(sums.values())
    if hi - lo > tol + EPS:
        return [f"EXTINF sums differ by {(hi - lo) * 1000:.1f} ms (> {tol * 1000:.1f} ms): "
                + ", ".join(f"{u} {s:.4f}" for u, s in sums.items())]
    return []


def _raw_media_playlists(ctx: Context) -> list[tuple[str, str]]:
    """(URI, text) of every media playlist the master names, read as text (so a playlist the
    m3u8 parser rejects is still checked by the rules that read text)."""
    seen, out = set(), []
    for t in ctx.tags:
        if t.uri and t.name in ("EXT-X-STREAM-INF", "EXT-X-MEDIA", "EXT-X-I-FRAME-STREAM-INF"):
            path = h.resolve(ctx.master_path, t.uri)
            if path in seen:
                continue
            seen.add(path)
            try:
                with open(path, encoding="utf-8") as f:
                    out.append((t.uri, f.read()))
            except (OSError, UnicodeDecodeError) as e:
                out.append((t.uri, f"# unreadable: {e}"))
    return out


def _ts_continuity(pl: h.MediaPlaylist) -> list[str]:
    """MPEG-TS continuity counters across the playlist's segments: per PID, each packet carrying a
    payload increments the 4-bit counter (a repeated counter marks a duplicate, allowed once);
    packets without payload keep it."""
    out: list[str] = []
    last: dict[int, int] = {}
    for k, seg in enumerate(pl.segments):
        data = seg.data()
        if len(data) % 188:
            out.append(f"{seg.uri}: {len(data)} bytes is not whole 188-byte TS packets")
            return out
        mv = memoryview(data)
        for i in range(0, len(data), 188):
            if mv[i] != 0x47:
                out.append(f"{seg.uri}: no sync byte at {i}")
                return out
            pid = ((mv[i + 1] & 0x1F) << 8) | mv[i + 2]
            if pid == 0x1FFF or not mv[i + 3] & 0x10:
                continue
            cc = mv[i + 3] & 0x0F
            prev = last.get(pid)
            if prev is not None and cc not in ((prev + 1) % 16, prev) and not (mv[i + 3] & 0x20 and mv[i + 4] and mv[i + 5] & 0x80):
                out.append(f"{seg.uri} (segment {k}) PID {pid:#x}: continuity counter {cc} after {prev}")
                return out
            last[pid] = cc
    return out


def continuous_media(ctx: Context) -> list[str]:
    """Apple 7.1: media MUST be continuous across segments; 7.2: in MPEG-TS, continuity counters
    and timestamps MUST be sequential; 7.3: in fMP4, each fragment's decode time follows from the
    previous one's. Each segment must start where the previous one ends (its last frame's
    presentation time plus that frame's duration: an audio packet's own, a video frame's gap to the
    frame before it) within half a frame, and TS counters run on across joins."""
    out = []
    tol = max(0.5 * ctx.frame, EPS)
    for uri, pl in ctx.av_playlists():
        tl = ctx.timeline(pl.path)
        kind = tl.primary
        if kind is None:
            continue
        gap = tl.frame_gap(kind)
        per_seg: list[list[Packet]] = [[] for _ in range(tl.segments)]
        for p in tl.packets[kind]:
            k = tl.segment_of(p.pos)
            if 0 <= k < tl.segments:
                per_seg[k].append(p)
        starts = tl.starts(kind)
        ends: list[Optional[float]] = []
        for pk in per_seg:
            if not pk:
                ends.append(None)
                continue
            last = max(pk, key=lambda p: p.pts)
            if kind == "video":
                # a video packet's duration is often the nominal rate's (VFR, TS): the last frame
                # lasts as long as the gap before it
                times = sorted(p.pts for p in pk)
                ends.append(last.pts + (times[-1] - times[-2] if len(times) > 1 else gap))
            else:
                ends.append(last.pts + (last.duration or gap))
        for k in range(1, tl.segments):
            if starts[k] is None or ends[k - 1] is None:
                continue
            jump = starts[k] - ends[k - 1]
            if abs(jump) > tol:
                out.append(f"{uri}: segment {k} starts {jump * 1000:+.1f} ms from where segment {k - 1} ends "
                           f"({kind}, tolerance {tol * 1000:.1f} ms)")
        if not pl.has_map:
            out += [f"{uri}: {f}" for f in _ts_continuity(pl)]
    return out


def target_duration_bounds(ctx: Context) -> list[str]:
    """RFC 8216 4.3.3.1: every EXTINF, rounded to the nearest integer, is at most the
    TARGETDURATION (a decimal integer); Apple 7.7: no segment exceeds it by more than 0.5 s.
    Every media playlist, I-frame and subtitle ones included."""
    out = []
    for uri, text in _raw_media_playlists(ctx):
        tags = re.findall(r"^#EXT-X-TARGETDURATION:(.*?)\s*$", text, re.M)
        if len(tags) != 1 or not tags[0].isdigit() or int(tags[0]) <= 0:
            out.append(f"{uri}: TARGETDURATION {', '.join(tags) or '(none)'} is not one positive decimal integer")
            continue
        td = int(tags[0])
        for i, d in enumerate(re.findall(r"^#EXTINF:([^,\s]*)", text, re.M)):
            d = float(d)
            if math.floor(d + 0.5) > td or d > td + TARGET_EXCESS:
                out.append(f"{uri} segment {i}: EXTINF {d} exceeds TARGETDURATION {td}")
    return out


def segment_durations(ctx: Context) -> list[str]:
    """Apple 7.6 (segment durations SHOULD be nominally the target; Apple suggests 6 s, we ask for
    another value on purpose): in every audio/video playlist all segments but the last last the
    nominal duration (the one asked for, else TARGETDURATION) within one video frame, and the last
    is not longer. Audio cuts on whole AAC frames and carries the encoder's priming frame in its
    first segment, so audio playlists get two AAC frames when that is more than a video frame."""
    out = []
    frame = ctx.frame
    for uri, pl in ctx.av_playlists():
        nominal = ctx.nominal_segment or pl.target_duration
        tl = ctx.timeline(pl.path)
        tol = frame
        if tl.primary == "audio":
            rate = int(tl.streams["audio"].get("sample_rate") or 48000)
            tol = max(frame, 2 * AAC_FRAME_SAMPLES / rate)
        d = pl.durations
        for i, x in enumerate(d[:-1]):
            if abs(x - nominal) > tol + EPS:
                out.append(f"{uri} segment {i}: EXTINF {x}, nominal {nominal} (tolerance {tol * 1000:.1f} ms)")
        if d and not 0 < d[-1] <= nominal + tol + EPS:
            out.append(f"{uri}: last EXTINF {d[-1]} is longer than the nominal {nominal}")
    return out


def peak_bandwidth(ctx: Context) -> list[str]:
    """Apple 1.27 (VOD): the measured peak bit rate MUST be within 10% of BANDWIDTH; 9.13: that is
    the largest sum of peak segment bit rates of any playable combination; 6.9: I-frame peaks are
    computed the same way (RFC 8216 4.3.4.2: runs of segments lasting 0.5-1.5 target durations;
    either reading of the window edges is accepted)."""
    out = []
    for v in ctx.variants:
        bw = v.int_attr("BANDWIDTH")
        peaks = [variant_rates(ctx, v, m)[0] for m in ("inclusive", "exclusive")]
        if bw is None:
            out.append(f"{v.uri}: no BANDWIDTH")
        elif not any(h.within(bw, p, BANDWIDTH_TOLERANCE) for p in peaks):
            out.append(f"{v.uri}: BANDWIDTH {bw}, measured peak {' / '.join(_fmt_bps(p) for p in peaks)}")
    for i in ctx.iframe_streams:
        if i.playlist is None or not all(s.byterange for s in i.playlist.segments):
            continue  # iframe_playlists reports it
        bw = int(i.attrs["BANDWIDTH"]) if i.attrs.get("BANDWIDTH", "").isdigit() else None
        pl = i.playlist
        peaks = [h.peak_and_average(pl.durations, [s.size for s in pl.segments], pl.target_duration or 0, m)[0]
                 for m in ("inclusive", "exclusive")]
        if bw is None:
            out.append(f"{i.tag.uri}: I-frame stream without BANDWIDTH")
        elif not any(h.within(bw, p, BANDWIDTH_TOLERANCE) for p in peaks):
            out.append(f"{i.tag.uri}: BANDWIDTH {bw}, measured I-frame peak {' / '.join(_fmt_bps(p) for p in peaks)}")
    return out


def average_bandwidth(ctx: Context) -> list[str]:
    """Apple 9.14: AVERAGE-BANDWIDTH MUST be included; 1.26 (VOD): the average segment bit rate
    MUST be within 10% of it (I-frame streams: checked when they carry it; their presence is
    iframe_stream_attributes' business)."""
    out = []
    for v in ctx.variants:
        avg = v.int_attr("AVERAGE-BANDWIDTH")
        measured = variant_rates(ctx, v, "inclusive")[1]
        if avg is None:
            out.append(f"{v.uri}: no AVERAGE-BANDWIDTH (measured {_fmt_bps(measured)})")
        elif not h.within(avg, measured, BANDWIDTH_TOLERANCE):
            out.append(f"{v.uri}: AVERAGE-BANDWIDTH {avg}, measured {_fmt_bps(measured)}")
    for i in ctx.iframe_streams:
        if i.playlist is None or not all(s.byterange for s in i.playlist.segments):
            continue
        pl = i.playlist
        measured = sum(s.size for s in pl.segments) * 8 / sum(pl.durations)
        a = i.attrs.get("AVERAGE-BANDWIDTH", "")
        if a.isdigit() and not h.within(int(a), measured, BANDWIDTH_TOLERANCE):
            out.append(f"{i.tag.uri}: AVERAGE-BANDWIDTH {a}, measured I-frame average {_fmt_bps(measured)}")
    return out


def peak_within_twice_average(ctx: Context) -> list[str]:
    """Apple 1.30 (VOD): the peak bit rate SHOULD be no more than 200% of the average, for what a
    player fetches per variant (measured, and as declared when both attributes are there)."""
    out = []
    for v in ctx.variants:
        peak, avg = variant_rates(ctx, v, "exclusive")
        if avg > 0 and peak > PEAK_OVER_AVERAGE * avg:
            out.append(f"{v.uri}: measured peak {_fmt_bps(peak)} is {peak / avg:.0%} of the average {_fmt_bps(avg)}")
        bw, ab = v.int_attr("BANDWIDTH"), v.int_attr("AVERAGE-BANDWIDTH")
        if bw and ab and bw > PEAK_OVER_AVERAGE * ab:
            out.append(f"{v.uri}: BANDWIDTH {bw} is {bw / ab:.0%} of AVERAGE-BANDWIDTH {ab}")
    return out


def h264_profile_level(ctx: Context) -> list[str]:
    """Apple 1.3 (the edition the issue quotes): H.264 at most High Profile, Level 4.2 on the
    default ladder; read from the SPS of every segment (profile_idc, level_idc), and the avc1
    entry of CODECS must spell that SPS (RFC 6381: avc1.PPCCLL)."""
    out = []
    for v in ctx.video_variants:
        codec = v.timeline.streams["video"].get("codec_name")
        if codec != "h264":
            continue
        avc = [c for c in v.codecs if c.lower().startswith(("avc1.", "avc3."))]
        for i, c in enumerate(ctx.segment_video_checks(v)):
            if c.sps is None:
                out.append(f"{v.uri} segment {i}: no SPS before the first picture")
                continue
            sps = h.sps_head(c.sps)
            if sps.profile_idc not in H264_PROFILES_UP_TO_HIGH:
                out.append(f"{v.uri} segment {i}: profile_idc {sps.profile_idc} is above High")
            if sps.level_idc > ctx.max_h264_level:
                out.append(f"{v.uri} segment {i}: level {sps.level_idc / 10} is above {ctx.max_h264_level / 10}")
            if len(avc) != 1 or avc[0].lower() != sps.rfc6381:
                out.append(f"{v.uri} segment {i}: CODECS {v.attrs.get('CODECS')!r}, the SPS says {sps.rfc6381}")
    return out


def frame_rate_at_most_60(ctx: Context) -> list[str]:
    """Apple 1.19: frame rates above 60 fps SHALL NOT be used. Checked on FRAME-RATE (RFC 8216:
    the maximum frame rate of the variant) and on the frames the segments hold (count over
    duration; 59.94 and 60 pass)."""
    out = []
    limit = MAX_FRAME_RATE * 1.001
    for v in ctx.video_variants:
        fr = v.attrs.get("FRAME-RATE")
        if fr and float(fr) > limit:
            out.append(f"{v.uri}: FRAME-RATE {fr}")
        pk = v.timeline.packets.get("video", [])
        span = v.timeline.span("video") if pk else 0
        if span > 0 and len(pk) / span > limit:
            out.append(f"{v.uri}: {len(pk)} frames in {span:.3f} s, {len(pk) / span:.2f} fps")
    return out


INTERLACED_FIELD_ORDERS = ("tt", "bb", "tb", "bt")


def progressive_pictures(ctx: Context) -> list[str]:
    """Apple 1.14: all interlaced source content MUST be deinterlaced. Every variant must be coded
    as frames (ffprobe's field_order not tt/bb/tb/bt). And when the source is known and is
    interlaced, the pictures are looked at, since an encoder given woven fields codes them as
    progressive frames without complaint: ffmpeg's idet over each variant's first segment must not
    find 90% or more of the frames interlaced (TFF or BFF). idet is only trusted when the source
    says it is interlaced: on synthetic progressive patterns it can call most frames TFF."""
    out = []
    src = ctx.source_timeline
    src_fields = (src.streams.get("video", {}).get("field_order") if src is not None else None) or "unknown"
    for v in ctx.video_variants:
        fo = v.timeline.streams["video"].get("field_order") or "unknown"
        if fo in INTERLACED_FIELD_ORDERS:
            out.append(f"{v.uri}: coded as fields (field_order {fo})")
            continue
        if src_fields not in INTERLACED_FIELD_ORDERS:
            continue
        with h.TempMedia(v.playlist.standalone(0), v.playlist.suffix) as p:
            log = h.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", p, "-map", "0:v:0", "-vf", "idet",
                         "-f", "null", "-"], timeout=600).stderr.decode(errors="replace")
        m = re.search(r"Multi frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+) Undetermined:\s*(\d+)", log)
        if not m:
            out.append(f"{v.uri}: ffmpeg's idet gave no verdict")
            continue
        tff, bff, prog, und = map(int, m.groups())
        total = tff + bff + prog + und
        if total and max(tff, bff) >= INTERLACED_SHARE * total:
            out.append(f"{v.uri} segment 0: the source is interlaced ({src_fields}) and idet finds {tff} "
                       f"top-field-first, {bff} bottom-field-first, {prog} progressive frames of {total}: not deinterlaced")
    return out


# ITU-T H.264 Table A-1 MaxBR (1000 bit/s units for VCL; High profile allows 1.25x, Table A-2)
H264_MAX_BR = {10: 64, 11: 192, 12: 384, 13: 768, 20: 2000, 21: 4000, 22: 4000, 30: 10000, 31: 14000,
               32: 20000, 40: 20000, 41: 50000, 42: 50000, 50: 135000, 51: 240000, 52: 240000,
               60: 240000, 61: 480000, 62: 800000}


def h264_lowest_level(ctx: Context) -> list[str]:
    """Apple 1.11: for backward compatibility, content SHOULD NOT use a higher level than its
    resolution and frame rate require. Flags an SPS level above the lowest level that fits the
    picture size, the frame rate (the variant's FRAME-RATE, else the stream's) and the variant's
    BANDWIDTH (MaxBR x 1.25 for High profile)."""
    out = []
    levels = sorted(h.H264_LEVEL_LIMITS)
    for v in ctx.video_variants:
        if v.timeline.streams["video"].get("codec_name") != "h264":
            continue
        checks = ctx.segment_video_checks(v)
        if not checks or checks[0].sps is None:
            continue  # h264_profile_level reports it
        sps = h.sps_head(checks[0].sps)
        s = v.timeline.streams["video"]
        w, hgt = int(s.get("width") or 0), int(s.get("height") or 0)
        fps = float(v.attrs.get("FRAME-RATE") or h._fraction(s.get("r_frame_rate"), 0) or 0)
        bw = v.int_attr("BANDWIDTH") or 0
        factor = 1250 if sps.profile_idc == 100 else 1000
        if sps.level_idc not in levels:
            out.append(f"{v.uri}: level_idc {sps.level_idc} is not an H.264 level")
            continue
        fits = [l for l in levels if h.level_allows(l, w, hgt, fps) and bw <= H264_MAX_BR[l] * factor]
        if fits and fits[0] < sps.level_idc:
            out.append(f"{v.uri}: level {sps.level_idc / 10} where {fits[0] / 10} fits {w}x{hgt}@{fps:g} "
                       f"at BANDWIDTH {bw}")
    return out


def multiple_video_bitrates(ctx: Context) -> list[str]:
    """Apple 9.9: you MUST provide multiple bit rates of video (variants). Audio-only sets have
    no video to provide."""
    rates = {v.int_attr("BANDWIDTH") for v in ctx.video_variants}
    if ctx.video_variants and len(rates) < 2:
        return [f"one video bit rate only: {[v.uri for v in ctx.video_variants]}"]
    return []


def keyframes_every_two_seconds(ctx: Context) -> list[str]:
    """Apple 1.13: key frames (IDRs) SHOULD be present every two seconds. The largest distance
    between two keyframes of each video variant (from the segments' sync samples) must not exceed
    2 s by more than one frame."""
    out = []
    for v in ctx.video_variants:
        keys = sorted(p.pts for p in v.timeline.packets.get("video", []) if p.key)
        if not keys:
            out.append(f"{v.uri}: no keyframes")
            continue
        gaps = [b - a for a, b in zip(keys, keys[1:])] + [v.timeline.end("video") - keys[-1]]
        worst = max(gaps)
        if worst > KEYFRAME_INTERVAL + ctx.frame + EPS:
            out.append(f"{v.uri}: keyframes up to {worst:.3f} s apart")
    return out


def aac_stereo(ctx: Context) -> list[str]:
    """Apple 2.3: stereo AAC MUST be provided; 2.9: AAC 2.0 at 32-160 kbit/s. Every audio
    playlist is probed for codec, profile and channels (ffprobe reads the AudioSpecificConfig /
    ADTS header), its bit rate measured as AAC payload over content duration (container overhead
    excluded: 2.9 is an encoding bit rate); CODECS of variants playing it must say mp4a.40.2 and
    CHANNELS of its EXT-X-MEDIA must say 2."""
    out = []
    apls = ctx.audio_playlists()
    if not apls:
        return []
    stereo_aac_lc = False
    for uri, pl in apls:
        tl = ctx.timeline(pl.path)
        s = tl.streams["audio"]
        codec, profile, ch = s.get("codec_name"), s.get("profile"), int(s.get("channels") or 0)
        pk = tl.packets.get("audio", [])
        dur = tl.span("audio") if pk else 0
        kbps = sum(p.size for p in pk) * 8 / dur / 1000 if dur > 0 else 0
        ok = True
        if (codec, profile) != ("aac", "LC"):
            out.append(f"{uri}: audio is {codec} {profile}, not AAC-LC")
            ok = False
        if ch != 2:
            out.append(f"{uri}: {ch} channel(s), not stereo")
            ok = False
        if not AAC_STEREO_KBPS[0] <= kbps <= AAC_STEREO_KBPS[1]:
            out.append(f"{uri}: AAC at {kbps:.1f} kb/s, outside {AAC_STEREO_KBPS[0]}-{AAC_STEREO_KBPS[1]} kb/s")
            ok = False
        stereo_aac_lc |= ok
    for r in ctx.renditions:
        if r.type == "AUDIO" and r.playlist is not None and r.attrs.get("CHANNELS") is not None:
            tl = ctx.timeline(r.playlist.path)
            ch = str(tl.streams.get("audio", {}).get("channels"))
            if r.attrs.get("CHANNELS", "").split("/")[0] != ch:
                out.append(f"{r.attrs.get('URI')}: CHANNELS={r.attrs.get('CHANNELS')!r}, the stream has {ch}")
    for v in ctx.variants:
        plays_audio = v.has_audio or bool(ctx.audio_group(v.attrs.get("AUDIO")))
        if plays_audio and "mp4a.40.2" not in v.codecs:
            out.append(f"{v.uri}: CODECS {v.attrs.get('CODECS')!r} lacks mp4a.40.2 for its AAC-LC audio")
    if not stereo_aac_lc:
        out.append("no stereo AAC-LC audio at 32-160 kb/s in the set")
    return out


def variant_attributes(ctx: Context) -> list[str]:
    """Apple 9.1, 9.2, 9.15 and RFC 8216 4.3.4.2: every EXT-X-STREAM-INF has CODECS naming the
    codecs of what it plays (its video and its audio group); a variant with video has RESOLUTION equal to its pictures and FRAME-RATE (the stream's
    rate, to 1%); a variant without video has neither a video codec nor RESOLUTION."""
    out = []
    if not ctx.variants:
        return ["no EXT-X-STREAM-INF"]
    for v in ctx.variants:
        a = v.attrs
        if not a.get("CODECS"):
            out.append(f"{v.uri}: no CODECS")
        vc = [c for c in v.codecs if is_video_codec(c)]
        ac = [c for c in v.codecs if is_audio_codec(c)]
        plays_audio = v.has_audio or bool(ctx.audio_group(a.get("AUDIO")))
        if a.get("AUDIO") and not ctx.audio_group(a.get("AUDIO")):
            out.append(f"{v.uri}: AUDIO={a['AUDIO']!r} names no EXT-X-MEDIA group")
        if plays_audio and a.get("CODECS") and not ac:
            out.append(f"{v.uri}: CODECS {a['CODECS']!r} names no audio codec but the variant plays audio")
        if v.has_video:
            s = v.timeline.streams["video"]
            if a.get("CODECS") and not vc:
                out.append(f"{v.uri}: CODECS {a['CODECS']!r} names no video codec")
            res = a.get("RESOLUTION")
            if not res:
                out.append(f"{v.uri}: no RESOLUTION")
            elif res != f"{s.get('width')}x{s.get('height')}":
                out.append(f"{v.uri}: RESOLUTION {res}, pictures are {s.get('width')}x{s.get('height')}")
            fr = a.get("FRAME-RATE")
            rate = h._fraction(s.get("r_frame_rate"), 0)
            if not fr:
                out.append(f"{v.uri}: no FRAME-RATE")
            elif rate and abs(float(fr) - float(rate)) > 0.01 * float(rate):
                out.append(f"{v.uri}: FRAME-RATE {fr}, the stream runs at {float(rate):.3f}")
        else:
            if vc or a.get("RESOLUTION") or a.get("FRAME-RATE"):
                out.append(f"{v.uri}: no video in its segments, yet CODECS {a.get('CODECS')!r} / "
                           f"RESOLUTION {a.get('RESOLUTION')!r} / FRAME-RATE {a.get('FRAME-RATE')!r}")
    return out


def video_range_and_captions(ctx: Context) -> list[str]:
    """Issue 6 (stricter than Apple 9.16, which lets an all-SDR set omit it): every variant and
    I-frame stream with video says VIDEO-RANGE=SDR; Apple (subtitles and captions article): a
    variant without 608/708 captions says CLOSED-CAPTIONS=NONE (or names a declared group)."""
    out = []
    cc_groups = {r.attrs.get("GROUP-ID") for r in ctx.renditions if r.type == "CLOSED-CAPTIONS"}
    for v in ctx.video_variants:
        if v.attrs.get("VIDEO-RANGE") != "SDR":
            out.append(f"{v.uri}: VIDEO-RANGE {v.attrs.get('VIDEO-RANGE')!r}, expected SDR")
        cc = v.attrs.get("CLOSED-CAPTIONS")
        if cc is None:
            out.append(f"{v.uri}: no CLOSED-CAPTIONS (NONE when no captions are muxed)")
        elif cc != "NONE" and cc not in cc_groups:
            out.append(f"{v.uri}: CLOSED-CAPTIONS={cc!r} names no CLOSED-CAPTIONS group")
    for i in ctx.iframe_streams:
        if i.attrs.get("VIDEO-RANGE") != "SDR":
            out.append(f"{i.tag.uri}: I-frame VIDEO-RANGE {i.attrs.get('VIDEO-RANGE')!r}, expected SDR")
    return out


def iframe_stream_attributes(ctx: Context) -> list[str]:
    """Apple 9.3, 9.4 and RFC 8216 4.3.4.3: every EXT-X-I-FRAME-STREAM-INF has BANDWIDTH, CODECS
    (video only, the same as a variant of that size), RESOLUTION and URI; AVERAGE-BANDWIDTH too
    (Apple 9.14 asks it of variants; we hold I-frame streams to it). FRAME-RATE is not defined
    for I-frame streams (RFC 8216 4.3.4.3) and must not be required."""
    out = []
    by_res = {v.attrs.get("RESOLUTION"): v for v in ctx.video_variants}
    for i in ctx.iframe_streams:
        a = i.attrs
        for name in ("BANDWIDTH", "AVERAGE-BANDWIDTH", "CODECS", "RESOLUTION", "URI"):
            if not a.get(name):
                out.append(f"{i.tag.uri or 'line ' + str(i.tag.line)}: I-frame stream without {name}")
        codecs = codec_list(a.get("CODECS"))
        if codecs and not all(is_video_codec(c) for c in codecs):
            out.append(f"{i.tag.uri}: I-frame CODECS {a.get('CODECS')!r} is not video only")
        v = by_res.get(a.get("RESOLUTION"))
        if v is not None and codecs and [c.lower() for c in codecs] != [c.lower() for c in v.codecs if is_video_codec(c)]:
            out.append(f"{i.tag.uri}: I-frame CODECS {a.get('CODECS')!r}, the {a.get('RESOLUTION')} variant has {v.attrs.get('CODECS')!r}")
    return out


def audio_rendition_attributes(ctx: Context) -> list[str]:
    """Apple 8.9 (separate audio declared with EXT-X-MEDIA), 8.10 (LANGUAGE on every EXT-X-MEDIA
    that is not VIDEO) and issue 6 (CHANNELS on audio); RFC 8216 4.3.4.1: GROUP-ID and NAME."""
    out = []
    for r in ctx.renditions:
        a = r.attrs
        where = a.get("URI") or f"EXT-X-MEDIA line {r.tag.line}"
        for name in ("TYPE", "GROUP-ID", "NAME"):
            if not a.get(name):
                out.append(f"{where}: no {name}")
        if r.type != "VIDEO" and not a.get("LANGUAGE"):
            out.append(f"{where}: {r.type} rendition without LANGUAGE")
        if r.type == "AUDIO" and not a.get("CHANNELS"):
            out.append(f"{where}: audio rendition without CHANNELS")
    return out


# RFC 8216 section 7, with draft-pantos-hls-rfc8216bis's later additions.
def required_version(text: str, master: bool) -> tuple[int, list[str]]:
    """(lowest EXT-X-VERSION the playlist's features need, the features that set it)."""
    need, why = 1, []

    def bump(v: int, reason: str) -> None:
        nonlocal need
        if v > need:
            need = v
        why.append(f"{reason} ({v})")

    lines = [l.strip() for l in text.splitlines()]
    if master:
        if any(l.startswith("#EXT-X-MEDIA:") and 'INSTREAM-ID="SERVICE' in l for l in lines):
            bump(7, "INSTREAM-ID SERVICE")
    else:
        iframes = "#EXT-X-I-FRAMES-ONLY" in lines
        for l in lines:
            if l.startswith("#EXTINF:") and "." in l.split(":", 1)[1].split(",")[0]:
                bump(3, "decimal EXTINF")
                break
        if any(l.startswith("#EXT-X-BYTERANGE") for l in lines) or any(
                l.startswith("#EXT-X-MAP:") and "BYTERANGE=" in l for l in lines):
            bump(4, "EXT-X-BYTERANGE")
        if iframes:
            bump(4, "EXT-X-I-FRAMES-ONLY")
        if any(l.startswith("#EXT-X-MAP:") for l in lines):
            bump(5 if iframes else 6, "EXT-X-MAP" + ("" if iframes else " outside an I-frames-only playlist"))
        for l in lines:
            if l.startswith("#EXT-X-KEY:"):
                if "IV=" in l:
                    bump(2, "EXT-X-KEY IV")
                if "KEYFORMAT" in l or "METHOD=SAMPLE-AES" in l:
                    bump(5, "EXT-X-KEY KEYFORMAT/SAMPLE-AES")
        if any(l.startswith("#EXT-X-SKIP") for l in lines):
            bump(9, "EXT-X-SKIP")
    if any(l.startswith("#EXT-X-DEFINE") for l in lines):
        bump(8, "EXT-X-DEFINE")
    return need, why


def lowest_version(ctx: Context) -> list[str]:
    """Issue 6: every playlist declares the lowest EXT-X-VERSION its features need (RFC 8216
    section 7: decimal EXTINF 3, BYTERANGE and I-FRAMES-ONLY 4, EXT-X-MAP 5 in I-frame playlists
    and 6 elsewhere, ...), at most once (4.3.1.2), and present whenever it is above 1. Masters:
    nothing there needs more than 1, but RFC 8216 section 7 lets a master using EXT-X-MEDIA say 4
    (the protocol version that brought EXT-X-MEDIA and EXT-X-I-FRAME-STREAM-INF), so 4 is
    accepted there too. Features removed from later versions must not appear under them
    (EXT-X-ALLOW-CACHE from 7, PROGRAM-ID from 6)."""
    out = []
    docs = [("master", ctx.master_text, True)] + [(uri, text, False) for uri, text in _raw_media_playlists(ctx)]
    for where, text, master in docs:
        tags = re.findall(r"^#EXT-X-VERSION:(\S*)\s*$", text, re.M)
        if len(tags) > 1:
            out.append(f"{where}: {len(tags)} EXT-X-VERSION tags")
            continue
        declared = int(tags[0]) if tags and tags[0].isdigit() else (None if tags else 1)
        if declared is None:
            out.append(f"{where}: EXT-X-VERSION {tags[0]!r} is not an integer")
            continue
        need, why = required_version(text, master)
        allowed = {need}
        if master and need <= 4 and ("#EXT-X-MEDIA:" in text or "#EXT-X-I-FRAME-STREAM-INF:" in text):
            allowed.add(4)
        if declared not in allowed:
            out.append(f"{where}: EXT-X-VERSION {declared}{'' if tags else ' (absent)'}, lowest needed "
                       f"{need}{' or 4' if 4 in allowed and need != 4 else ''} ({', '.join(why) or 'no versioned feature'})")
        if declared >= 7 and "#EXT-X-ALLOW-CACHE" in text:
            out.append(f"{where}: EXT-X-ALLOW-CACHE was removed in version 7")
        if declared >= 6 and "PROGRAM-ID=" in text:
            out.append(f"{where}: PROGRAM-ID was removed in version 6")
    return out


def independent_segments(ctx: Context) -> list[str]:
    """Apple 9.11/9.12: with segments starting on an IDR, EXT-X-INDEPENDENT-SEGMENTS is in the
    master (SHOULD), or else in every video media playlist (MUST)."""
    if re.search(r"^#EXT-X-INDEPENDENT-SEGMENTS\s*$", ctx.master_text, re.M):
        return []
    missing = [v.uri for v in ctx.video_variants
               if not re.search(r"^#EXT-X-INDEPENDENT-SEGMENTS\s*$", v.playlist.text, re.M)]
    if missing or not ctx.video_variants:
        return ["EXT-X-INDEPENDENT-SEGMENTS is not in the master" +
                (f" nor in {missing}" if missing else "")]
    return []


def vod_playlists(ctx: Context) -> list[str]:
    """Apple 8.6: media playlists made from static content MUST say EXT-X-PLAYLIST-TYPE:VOD, and
    (RFC 8216 4.3.3.4, 6.2.1) a finished VOD playlist ends with EXT-X-ENDLIST. A set published
    progressively (`ctx.progressive`) was live while it was made: its playlists stay EVENT, which
    may only be appended to (RFC 8216 6.2.1), and end with EXT-X-ENDLIST; its I-frame playlists,
    written once at the end, are VOD."""
    out = []
    iframes = {t.uri for t in master_tags(ctx.master_text) if t.name == "EXT-X-I-FRAME-STREAM-INF"}
    for uri, text in _raw_media_playlists(ctx):
        kind = "EVENT" if ctx.progressive and uri not in iframes else "VOD"
        if not re.search(rf"^#EXT-X-PLAYLIST-TYPE:{kind}\s*$", text, re.M):
            out.append(f"{uri}: no EXT-X-PLAYLIST-TYPE:{kind}")
        if not re.search(r"^#EXT-X-ENDLIST\s*$", text, re.M):
            out.append(f"{uri}: no EXT-X-ENDLIST")
    return out


def iframe_playlists(ctx: Context) -> list[str]:
    """Apple 6.1 (I-frame playlists MUST be provided) and 6.8 (they carry EXT-X-I-FRAMES-ONLY):
    every video variant has an I-frame stream of the same RESOLUTION and video codec whose
    playlist is I-frames-only, gives every entry a byte range inside its file that demuxes (with
    the init section) to exactly one keyframe, and lasts as long as the variant (within one
    frame)."""
    out = []
    streams = ctx.iframe_streams
    for i in streams:
        if i.error:
            out.append(f"{i.tag.uri}: {i.error}")
    for v in ctx.video_variants:
        vc = [c.lower() for c in v.codecs if is_video_codec(c)]
        match = [i for i in streams if i.playlist is not None and i.attrs.get("RESOLUTION") == v.attrs.get("RESOLUTION")
                 and [c.lower() for c in codec_list(i.attrs.get("CODECS"))] == vc]
        if not match:
            out.append(f"{v.uri}: no EXT-X-I-FRAME-STREAM-INF with RESOLUTION {v.attrs.get('RESOLUTION')} and CODECS {vc}")
            continue
        pl = match[0].playlist
        where = match[0].tag.uri
        if not pl.parsed.is_i_frames_only:
            out.append(f"{where}: no EXT-X-I-FRAMES-ONLY")
        if not pl.segments:
            out.append(f"{where}: no entries")
            continue
        for k, seg in enumerate(pl.segments):
            if seg.byterange is None:
                out.append(f"{where}: {seg.uri} without EXT-X-BYTERANGE")
                break
            length, offset = seg.byterange
            if not os.path.isfile(seg.path) or offset + length > os.path.getsize(seg.path) or length <= 0:
                out.append(f"{where}: byte range {seg.byterange} is not inside {seg.uri}")
                break
            # what a scrubbing player fetches: the init section and the range, one keyframe
            with h.TempMedia((seg.init.data() if seg.init else b"") + seg.data(), pl.suffix) as p:
                pkts = h.ffprobe_json(p, "-select_streams", "v:0", "-show_entries", "packet=flags").get("packets", [])
            if len(pkts) != 1 or not pkts[0].get("flags", "").startswith("K"):
                out.append(f"{where} entry {k} ({seg.uri} {length}@{offset}): {len(pkts)} video packets "
                           f"{[p.get('flags') for p in pkts][:4]}, not one keyframe")
        if abs(sum(pl.durations) - sum(v.playlist.durations)) > ctx.frame + EPS:
            out.append(f"{where}: lasts {sum(pl.durations):.4f} s, the variant {sum(v.playlist.durations):.4f} s")
    return out


def first_variant_mid_rung(ctx: Context) -> list[str]:
    """Apple 1.32 (iOS 1.32a): the default variant, the first listed, SHOULD be the ~2000 kbit/s
    one. Checked as: the first EXT-X-STREAM-INF is the video variant whose BANDWIDTH is closest
    to 2 Mb/s, chosen among the middle rungs (neither the highest nor the lowest BANDWIDTH) when
    there are three or more video variants. "Closest" by difference or by ratio: the two readings
    disagree only between two rungs almost equally far, and either is accepted. Audio-only
    variants never come first while there is video; audio-only sets have nothing to choose.
    (With the default ladder the 480p rung, ~1.6 Mb/s, is nearer 2 Mb/s than 720p, ~3.1 Mb/s;
    the middle-rung reading picks 720p.)"""
    vids = [v for v in ctx.video_variants if v.int_attr("BANDWIDTH")]
    if not vids:
        return []
    ranked = sorted(vids, key=lambda v: v.int_attr("BANDWIDTH"))
    candidates = ranked[1:-1] if len(ranked) >= 3 else ranked
    by_difference = min(candidates, key=lambda v: abs(v.int_attr("BANDWIDTH") - START_BITRATE))
    by_ratio = min(candidates, key=lambda v: abs(math.log(v.int_attr("BANDWIDTH") / START_BITRATE)))
    first = ctx.variants[0]
    if first is not by_difference and first is not by_ratio:
        return [f"first variant is {first.uri} (BANDWIDTH {first.attrs.get('BANDWIDTH')}), expected {by_difference.uri} "
                f"(BANDWIDTH {by_difference.attrs.get('BANDWIDTH')}, the {'middle ' if len(ranked) >= 3 else ''}"
                f"rung closest to 2 Mb/s)"]
    return []


@dataclass(frozen=True)
class Rule:
    id: str
    ref: str
    check: Callable[[Context], list[str]]


RULES: list[Rule] = [
    Rule("idr_at_segment_start", "Apple 7.4", idr_at_segment_start),
    Rule("extinf_accuracy", "Apple 8.1", extinf_accuracy),
    Rule("same_target_duration", "Apple 8.2, 5.7", same_target_duration),
    Rule("same_content_duration", "Apple 8.3, 8.7", same_content_duration),
    Rule("continuous_media", "Apple 7.1, 7.2, 7.3", continuous_media),
    Rule("target_duration_bounds", "RFC 4.3.3.1, Apple 7.7", target_duration_bounds),
    Rule("segment_durations", "Apple 7.6", segment_durations),
    Rule("peak_bandwidth", "Apple 1.27, 9.13, 6.9", peak_bandwidth),
    Rule("average_bandwidth", "Apple 1.26, 9.14", average_bandwidth),
    Rule("peak_within_twice_average", "Apple 1.30", peak_within_twice_average),
    Rule("h264_profile_level", "Apple 1.3 (High@4.2)", h264_profile_level),
    Rule("h264_lowest_level", "Apple 1.11", h264_lowest_level),
    Rule("keyframes_every_two_seconds", "Apple 1.13", keyframes_every_two_seconds),
    Rule("frame_rate_at_most_60", "Apple 1.19", frame_rate_at_most_60),
    Rule("progressive_pictures", "Apple 1.14", progressive_pictures),
    Rule("aac_stereo", "Apple 2.3, 2.9", aac_stereo),
    Rule("variant_attributes", "Apple 9.1, 9.2, 9.15", variant_attributes),
    Rule("video_range_and_captions", "Apple 9.16, CC=NONE", video_range_and_captions),
    Rule("iframe_stream_attributes", "Apple 9.3, 9.4", iframe_stream_attributes),
    Rule("audio_rendition_attributes", "Apple 8.9, 8.10", audio_rendition_attributes),
    Rule("lowest_version", "RFC 7, 4.3.1.2", lowest_version),
    Rule("independent_segments", "Apple 9.11, 9.12", independent_segments),
    Rule("vod_playlists", "Apple 8.6, RFC 4.3.3.4", vod_playlists),
    Rule("iframe_playlists", "Apple 6.1, 6.8", iframe_playlists),
    Rule("multiple_video_bitrates", "Apple 9.9", multiple_video_bitrates),
    Rule("first_variant_mid_rung", "Apple 1.32", first_variant_mid_rung),
]

RULES_BY_ID = {r.id: r for r in RULES}


def run_rule(rule: Rule, ctx: Context) -> list[str]:
    """A rule's findings; a rule that cannot even read the set reports that as its finding."""
    try:
        return rule.check(ctx)
    except (AssertionError, OSError, ValueError, KeyError) as e:
        return [f"could not check: {type(e).__name__}: {e}"]


def check_all(ctx: Context) -> dict[str, list[str]]:
    return {r.id: run_rule(r, ctx) for r in RULES}
