"""I-frame playlists and the master attributes that come with them, for every video fixture in
both segment formats (the session's `case` transcodes from conftest.py).

Read independently: playlists with the `m3u8` parser, media with ffprobe. Each I-frame entry's
byte range is cut out of its segment file (after the init section for fMP4) and must demux and
decode on its own to exactly one keyframe, at the time the EXTINF durations before it add up to;
and every keyframe ffprobe finds in the segments must be listed.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import m3u8
import pytest

import hlscheck as h

BANDWIDTH_TOLERANCE = 0.10
TIME_TOLERANCE = 0.0015  # seconds: 90 kHz ticks and 6-decimal EXTINF sums


@dataclass
class IFrameStream:
    """One EXT-X-I-FRAME-STREAM-INF entry of the master and the playlist it names."""
    uri: str
    bandwidth: int
    average_bandwidth: int
    codecs: str
    resolution: tuple
    video_range: str
    playlist: h.MediaPlaylist


@functools.lru_cache(maxsize=None)
def iframe_streams(master_path: str) -> list[IFrameStream]:
    with open(master_path, encoding="utf-8") as f:
        master = m3u8.loads(f.read())
    out = []
    for ip in master.iframe_playlists:
        info = ip.iframe_stream_info
        out.append(IFrameStream(
            uri=ip.uri, bandwidth=info.bandwidth, average_bandwidth=info.average_bandwidth, codecs=info.codecs,
            resolution=tuple(info.resolution) if info.resolution else None, video_range=info.video_range,
            playlist=h.load_media_playlist(h.resolve(master_path, ip.uri), ip.uri)))
    return out


def streams_by_variant(case) -> list[tuple[h.Variant, IFrameStream]]:
    """Each variant with the I-frame stream in its folder (`<rendition>/iframes.m3u8`)."""
    streams = iframe_streams(case.hls.master_path)
    pairs = []
    for v in case.hls.variants:
        expected = os.path.dirname(v.uri) + "/iframes.m3u8"
        match = [s for s in streams if s.uri == expected]
        assert len(match) == 1, f"{case.id}: {v.uri} has no single I-frame stream {expected}: {[s.uri for s in streams]}"
        pairs.append((v, match[0]))
    return pairs


def video_codecs(codecs: str) -> list[str]:
    return [c.strip() for c in (codecs or "").split(",") if c.strip().startswith(("avc1", "avc3", "hvc1", "hev1"))]


def probe_packets(data: bytes, suffix: str) -> tuple[list[dict], int]:
    """ffprobe's video packets of `data` (pts seconds, flags, pos, size) and the decoded frame count."""
    with h.TempMedia(data, suffix) as path:
        info = h.ffprobe_json(path, "-select_streams", "v:0", "-count_frames",
                              "-show_entries", "stream=nb_read_frames:packet=pts_time,flags,pos,size")
    packets = [{"pts": float(p["pts_time"]), "key": p.get("flags", "").startswith("K"),
                "pos": int(p["pos"]), "size": int(p["size"])}
               for p in info.get("packets", []) if p.get("pts_time") not in (None, "N/A")]
    streams = info.get("streams", [])
    return packets, int(streams[0].get("nb_read_frames", 0)) if streams else 0


def entry_bytes(seg: h.Segment) -> bytes:
    """What a player fetches for an I-frame entry: the init section (fMP4) and the byte range."""
    return (seg.init.data() if seg.init else b"") + seg.data()


# ---------------------------------------------------------------------------
# master
# ---------------------------------------------------------------------------


def test_master_has_one_iframe_stream_per_variant(case):
    streams = iframe_streams(case.hls.master_path)
    assert len(streams) == len(case.hls.variants), \
        f"{case.id}: {len(case.hls.variants)} variants but {len(streams)} EXT-X-I-FRAME-STREAM-INF\n{case.hls.master_text}"
    assert case.hls.master.version is not None and case.hls.master.version >= 4, \
        f"{case.id}: a master with I-frame streams and alternate audio declares EXT-X-VERSION 4"
    for v, s in streams_by_variant(case):
        assert s.resolution == v.resolution, f"{s.uri}: RESOLUTION {s.resolution}, variant has {v.resolution}"
        assert s.codecs and video_codecs(s.codecs) == s.codecs.split(","), f"{s.uri}: CODECS {s.codecs!r} is not video only"
        assert video_codecs(s.codecs) == video_codecs(v.codecs), f"{s.uri}: CODECS {s.codecs} vs variant {v.codecs}"
        assert s.bandwidth and s.bandwidth > 0 and s.average_bandwidth and s.average_bandwidth > 0, s
        assert s.bandwidth >= s.average_bandwidth, f"{s.uri}: BANDWIDTH below AVERAGE-BANDWIDTH"
        assert s.video_range == "SDR", f"{s.uri}: VIDEO-RANGE {s.video_range}"


def test_variants_declare_video_range_and_no_closed_captions(case):
    for pl in case.hls.master.playlists:
        assert pl.stream_info.video_range == "SDR", f"{case.id}: {pl.uri} VIDEO-RANGE {pl.stream_info.video_range}"
        assert pl.stream_info.closed_captions == "NONE", \
            f"{case.id}: {pl.uri} CLOSED-CAPTIONS {pl.stream_info.closed_captions} (no 608 captions are muxed)"


def test_report_names_the_iframe_playlists(case):
    written = {os.path.normpath(s.uri) for s in iframe_streams(case.hls.master_path)}
    for rr in case.report["renditions"]:
        info = rr.get("iFrames")
        assert info, f"{case.id}: rendition {rr['name']} reports no I-frame playlist"
        assert os.path.normpath(info["playlist"]) in written, f"{info['playlist']} not in the master: {written}"


# ---------------------------------------------------------------------------
# the I-frame playlists
# ---------------------------------------------------------------------------


def test_iframe_playlists_are_well_formed(case):
    for v, s in streams_by_variant(case):
        pl = s.playlist
        parsed = pl.parsed
        where = f"{case.id} {s.uri}"
        assert parsed.is_i_frames_only, f"{where}: no EXT-X-I-FRAMES-ONLY"
        assert parsed.playlist_type and parsed.playlist_type.upper() == "VOD", f"{where}: PLAYLIST-TYPE {parsed.playlist_type}"
        assert parsed.is_endlist, f"{where}: no EXT-X-ENDLIST"
        assert parsed.media_sequence == 0
        assert pl.segments, f"{where}: no entries"
        # RFC 8216 section 7: BYTERANGE and I-FRAMES-ONLY need 4; EXT-X-MAP in an I-frames-only playlist 5.
        expected_version = 5 if case.fmt == "fmp4" else 4
        assert pl.version == expected_version, f"{where}: EXT-X-VERSION {pl.version}, lowest needed is {expected_version}"
        assert pl.target_duration >= max(round(d) for d in pl.durations), f"{where}: an EXTINF exceeds the target duration"
        assert sum(pl.durations) == pytest.approx(sum(v.playlist.durations), abs=0.001), \
            f"{where}: I-frame entries last {sum(pl.durations)} s, the variant {sum(v.playlist.durations)} s"
        variant_init = v.playlist.segments[0].init
        for seg in pl.segments:
            assert seg.byterange is not None, f"{where}: {seg.uri} has no EXT-X-BYTERANGE"
            length, offset = seg.byterange
            assert length > 0 and offset >= 0 and offset + length <= os.path.getsize(seg.path), f"{where}: {seg.byterange}"
            assert seg.path in {s2.path for s2 in v.playlist.segments}, f"{where}: {seg.uri} is not one of the variant's segments"
            if case.fmt == "fmp4":
                assert seg.init is not None and seg.init.path == variant_init.path, f"{where}: EXT-X-MAP is not the variant's"
            else:
                assert seg.init is None and length % 188 == 0 and offset % 188 == 0, f"{where}: not whole TS packets"


def test_every_iframe_entry_decodes_alone_to_one_keyframe_at_its_time(case):
    for _, s in streams_by_variant(case):
        pl = s.playlist
        start = 0.0
        first_pts = None
        for i, seg in enumerate(pl.segments):
            where = f"{case.id} {s.uri} entry {i} ({seg.uri} {seg.byterange})"
            packets, decoded = probe_packets(entry_bytes(seg), pl.suffix)
            assert len(packets) == 1, f"{where}: {len(packets)} video packets: {packets}"
            assert packets[0]["key"], f"{where}: the packet is not a keyframe"
            assert decoded == 1, f"{where}: decodes to {decoded} frames"
            if first_pts is None:
                first_pts = packets[0]["pts"]
            assert packets[0]["pts"] - first_pts == pytest.approx(start, abs=TIME_TOLERANCE), \
                f"{where}: at {packets[0]['pts'] - first_pts:.4f} s, the EXTINFs before it add up to {start:.4f} s"
            start += seg.duration


def test_every_keyframe_of_the_segments_is_listed(case):
    for v, s in streams_by_variant(case):
        entries = s.playlist.segments
        listed = 0
        for i, seg in enumerate(v.playlist.segments):
            init_size = len(seg.init.data()) if seg.init else 0
            packets, _ = probe_packets(v.playlist.standalone(i), v.playlist.suffix)
            keys = sorted((p for p in packets if p["key"]), key=lambda p: p["pts"])
            mine = [e for e in entries if e.path == seg.path]
            where = f"{case.id} {v.uri} {seg.uri}"
            assert len(mine) == len(keys), f"{where}: ffprobe finds {len(keys)} keyframes, {len(mine)} I-frame entries"
            for entry, key in zip(mine, keys):
                length, offset = entry.byterange
                pos = key["pos"] - init_size  # position in the segment file
                if case.fmt == "fmp4":
                    # moof through the keyframe's sample: the range ends where the sample ends
                    assert offset <= pos and pos + key["size"] == offset + length, f"{where}: {entry.byterange} vs {key}"
                else:
                    assert offset <= pos < offset + length, f"{where}: {entry.byterange} does not hold the PES at {pos}"
            listed += len(mine)
        assert listed == len(entries), f"{case.id} {s.uri}: entries point outside the variant's segments"


def test_iframe_bandwidth_attributes_match_the_byte_ranges(case):
    for _, s in streams_by_variant(case):
        pl = s.playlist
        sizes = [seg.byterange[0] for seg in pl.segments]
        tried = []
        ok_peak = ok_avg = False
        for mode in ("inclusive", "exclusive"):
            peak, avg = h.peak_and_average(pl.durations, sizes, pl.target_duration, mode)
            tried.append((mode, round(peak), round(avg)))
            ok_peak |= h.within(s.bandwidth, peak, BANDWIDTH_TOLERANCE)
            ok_avg |= h.within(s.average_bandwidth, avg, BANDWIDTH_TOLERANCE)
        assert ok_peak, f"{case.id} {s.uri}: BANDWIDTH {s.bandwidth}, measured (mode, peak, avg) {tried}"
        assert ok_avg, f"{case.id} {s.uri}: AVERAGE-BANDWIDTH {s.average_bandwidth}, measured {tried}"
