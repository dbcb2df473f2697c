"""What `hlsify FIXTURE --out DIR` writes, checked with independent readers, for every
video fixture in both segment formats (the `case` fixture in conftest.py)."""

from __future__ import annotations

import math
import os

import pytest

import hlscheck as h
from conftest import MATRIX_PRESET, SEGMENT_DURATION, expected_rungs, fixture_path

BANDWIDTH_TOLERANCE = 0.10
ASPECT_TOLERANCE = 0.01
AAC_FRAME = 1024  # samples per AAC-LC frame
# LANGUAGE is an RFC 5646 tag: for a source tagged "eng" (ISO 639-2) both the 3-letter code
# and its 2-letter ISO 639-1 form (which RFC 5646 prefers) name English.
LANGUAGE_TAGS = {"eng": ("eng", "en"), "und": ("und",)}

REPORT_KEYS = {"input", "output", "durationSeconds", "elapsedSeconds", "source", "decodedVideoFrames",
               "renditions", "audio", "subtitles"}
SOURCE_KEYS = {"width", "height", "frameRate", "videoFrames"}
RENDITION_KEYS = {"name", "width", "height", "codecs", "segments", "bytes", "peakBandwidth",
                  "averageBandwidth", "encodedFrames", "encoder"}
ENCODER_KEYS = {"codec", "preset", "profile", "bitrate", "maxrate", "bufsize"}
AUDIO_KEYS = {"codec", "bitrate", "channels", "sampleRate"}


def frame_interval(case) -> float:
    """The longest gap between two source frames (one frame duration for CFR sources)."""
    if case.fixture.vfr:
        times = h.packet_times(fixture_path(case.fixture.name), "v:0")
        return max(b - a for a, b in zip(times, times[1:]))
    return 1.0 / float(case.source.video.avg_frame_rate)


def video_span(case) -> float:
    """How long the source's video lasts: first to last frame, plus the last frame's own
    duration (taken as the gap before it)."""
    times = h.packet_times(fixture_path(case.fixture.name), "v:0")
    return times[-1] - times[0] + (times[-1] - times[-2])


# ---------------------------------------------------------------------------
# the run and its report
# ---------------------------------------------------------------------------


def test_exit_status_and_report_shape(case):
    case.require_success()
    r = case.report
    missing = REPORT_KEYS - r.keys()
    assert not missing, f"report lacks {sorted(missing)}"
    assert SOURCE_KEYS <= r["source"].keys(), f"report.source lacks {sorted(SOURCE_KEYS - r['source'].keys())}"
    assert isinstance(r["renditions"], list) and r["renditions"], "report has no renditions"
    for rr in r["renditions"]:
        assert RENDITION_KEYS <= rr.keys(), f"rendition {rr.get('name')} lacks {sorted(RENDITION_KEYS - rr.keys())}"
        assert ENCODER_KEYS <= rr["encoder"].keys(), f"encoder lacks {sorted(ENCODER_KEYS - rr['encoder'].keys())}"
        assert "264" in str(rr["encoder"]["codec"]), rr["encoder"]
        assert str(rr["encoder"]["preset"]) == MATRIX_PRESET, f"--preset {MATRIX_PRESET} not used: {rr['encoder']}"
        assert str(rr["encoder"]["profile"]).lower() == "high", rr["encoder"]
    if case.fixture.has_audio:
        assert isinstance(r["audio"], dict) and AUDIO_KEYS <= r["audio"].keys(), f"report.audio: {r['audio']}"
    else:
        assert r["audio"] is None, f"source has no audio but report.audio is {r['audio']}"
    assert r["subtitles"] == [], "no --subtitles given, yet report.subtitles is not empty"
    assert os.path.realpath(r["output"]) == os.path.realpath(case.out), r["output"]
    assert os.path.realpath(r["input"]).endswith(case.fixture.name), r["input"]
    assert r["durationSeconds"] == pytest.approx(case.source.duration, abs=0.1)
    assert r["elapsedSeconds"] >= 0


def test_output_is_in_place_without_staging_leftovers(case):
    case.require_success()
    assert os.listdir(case.parent) == [os.path.basename(case.out)], \
        f"next to --out there should be only the output folder: {os.listdir(case.parent)}"
    assert os.path.isfile(os.path.join(case.out, "master.m3u8"))


def test_report_source_facts(case):
    src = case.source.video
    r = case.report
    assert r["decodedVideoFrames"] == src.frames, "decodedVideoFrames differs from ffprobe's count of the source"
    assert r["source"]["videoFrames"] == src.frames
    assert (r["source"]["width"], r["source"]["height"]) in {(src.width, src.height), tuple(map(round, src.display_size))}
    rates = [float(src.avg_frame_rate), float(src.r_frame_rate)]  # differ only for the VFR fixture
    assert any(float(r["source"]["frameRate"]) == pytest.approx(x, rel=0.01) for x in rates), \
        f"report.source.frameRate {r['source']['frameRate']}, ffprobe says {rates}"


@pytest.mark.parametrize("kind", ["report", "ffprobe"])
def test_every_source_frame_is_encoded_once(case, kind):
    """No dropped or doubled frames in any rendition: the report's count (CFR sources, as the
    contract says), and ffprobe's count of the rendition's segments put back together."""
    src_frames = case.source.video.frames
    if kind == "report":
        if case.fixture.vfr:
            pytest.skip("encodedFrames is promised equal to the source count for constant-frame-rate sources")
        for rr in case.report["renditions"]:
            assert rr["encodedFrames"] == src_frames, f"{rr['name']}: encodedFrames {rr['encodedFrames']} != {src_frames}"
    else:
        for uri, facts in case.rendition_facts.items():
            assert facts.video is not None, f"{uri}: no video stream"
            assert facts.video.frames == src_frames, f"{uri}: ffprobe decodes {facts.video.frames} frames, source has {src_frames}"


def test_variable_frame_rate_timestamps_are_kept(case):
    if not case.fixture.vfr:
        pytest.skip("only for the variable-frame-rate fixture")
    src = h.packet_times(fixture_path(case.fixture.name), "v:0")
    src = [t - src[0] for t in src]
    for v in case.hls.variants:
        with h.TempMedia(v.playlist.whole(), v.playlist.suffix) as p:
            out = h.packet_times(p, "v:0")
        out = [t - out[0] for t in out]
        assert len(out) == len(src), f"{v.uri}: {len(out)} frames, source {len(src)}"
        worst = max(abs(a - b) for a, b in zip(src, out))
        assert worst <= 0.002, f"{v.uri}: frame times moved by up to {worst * 1000:.1f} ms"


# ---------------------------------------------------------------------------
# segments
# ---------------------------------------------------------------------------


def test_every_segment_starts_with_an_idr_and_decodes_alone(case):
    src_frames = case.source.video.frames
    for uri, checks in case.segment_checks.items():
        total = 0
        for i, c in enumerate(checks):
            where = f"{uri} segment {i}"
            assert c.packets > 0, f"{where}: no video packets"
            assert "K" in c.first_packet_flags, f"{where}: first video packet is not a keyframe ({c.first_packet_flags})"
            slices = [t for t in c.first_nal_types if t in (1, 5)]
            assert slices and slices[0] == 5, f"{where}: first access unit is not an IDR (NAL types {c.first_nal_types})"
            assert c.sps is not None, f"{where}: no SPS before the first IDR"
            assert c.decoded_frames == c.packets, \
                f"{where}: decoding it alone gives {c.decoded_frames} frames of {c.packets} packets (open GOP?)"
            total += c.packets
        assert total == src_frames, f"{uri}: segments hold {total} frames, source has {src_frames}"


def test_segments_are_aligned_across_renditions(case):
    variants = case.hls.variants
    frame = frame_interval(case)
    counts = {v.uri: len(v.playlist.segments) for v in variants}
    assert len(set(counts.values())) == 1, f"segment counts differ: {counts}"
    span = video_span(case)
    expected = math.ceil(span / SEGMENT_DURATION - 1e-3)
    n = next(iter(counts.values()))
    assert n == expected, f"{n} segments for {span:.3f}s of video at {SEGMENT_DURATION}s, expected {expected}"
    ref = variants[0].playlist.durations
    for v in variants[1:]:
        for i, (a, b) in enumerate(zip(ref, v.playlist.durations)):
            assert abs(a - b) <= frame + 1e-3, f"EXTINF of segment {i} differs: {variants[0].uri} {a} vs {v.uri} {b}"
    for v in variants:
        d = v.playlist.durations
        for i, x in enumerate(d[:-1]):
            assert abs(x - SEGMENT_DURATION) <= frame + 1e-3, f"{v.uri} segment {i}: EXTINF {x}, expected {SEGMENT_DURATION}"
        assert 0 < d[-1] <= SEGMENT_DURATION + frame + 1e-3, f"{v.uri}: last EXTINF {d[-1]}"
        assert sum(d) == pytest.approx(span, abs=frame + 0.01), f"{v.uri}: EXTINFs add up to {sum(d)}, video lasts {span}"


def test_segment_boundaries_sit_at_multiples_of_the_duration(case):
    """Boundary k is the first frame at or after k x duration from the first video timestamp.

    Times come from reading the whole rendition in one go (not each segment alone):
    ffmpeg's MP4 reader shifts presentation times by the largest negative composition
    offset it has seen so far, so a segment read on its own can appear a frame early or
    late when its B-frame pattern differs from the others."""
    frame = frame_interval(case)
    for v in case.hls.variants:
        pl = v.playlist
        counts = [c.packets for c in case.segment_checks[v.uri]]
        with h.TempMedia(pl.whole(), pl.suffix) as p:
            pkts = h.video_packets(p)
        assert len(pkts) == sum(counts), f"{v.uri}: {len(pkts)} packets in the whole rendition, {sum(counts)} in its segments"
        starts, i = [], 0
        for n in counts:
            starts.append(min(p["pts"] for p in pkts[i:i + n]))
            i += n
        for k, start in enumerate(starts):
            offset = start - starts[0]
            assert k * SEGMENT_DURATION - 1e-3 <= offset < k * SEGMENT_DURATION + frame, \
                f"{v.uri} segment {k} starts {offset:.4f}s after the first frame, expected [{k * SEGMENT_DURATION}, +1 frame)"


# ---------------------------------------------------------------------------
# playlists
# ---------------------------------------------------------------------------


def test_master_playlist_tags(case):
    text = case.hls.master_text
    assert text.startswith("#EXTM3U"), "master does not start with #EXTM3U"
    assert case.hls.master.is_independent_segments, "master lacks EXT-X-INDEPENDENT-SEGMENTS"
    for v in case.hls.variants:
        for attr in ("bandwidth", "average_bandwidth", "codecs", "resolution", "frame_rate"):
            assert getattr(v, attr), f"variant {v.uri} lacks {attr.upper().replace('_', '-')}"


def test_media_playlist_tags(case):
    fmp4 = case.fmt == "fmp4"
    for pl in case.hls.media_playlists():
        where = pl.uri
        lines = pl.text.splitlines()
        assert lines and lines[0] == "#EXTM3U", f"{where}: no #EXTM3U"
        assert pl.version is not None, f"{where}: no EXT-X-VERSION"
        assert pl.version >= 3, f"{where}: decimal EXTINF needs EXT-X-VERSION 3 or more, has {pl.version}"
        if fmp4:
            assert pl.version >= 6, f"{where}: EXT-X-MAP in a media playlist needs EXT-X-VERSION 6, has {pl.version}"
        assert any(l.startswith("#EXT-X-TARGETDURATION:") for l in lines), f"{where}: no TARGETDURATION"
        assert any(l.startswith("#EXT-X-MEDIA-SEQUENCE:") for l in lines), f"{where}: no MEDIA-SEQUENCE"
        assert pl.parsed.playlist_type and pl.parsed.playlist_type.upper() == "VOD", f"{where}: PLAYLIST-TYPE {pl.parsed.playlist_type}"
        assert pl.parsed.is_endlist, f"{where}: no EXT-X-ENDLIST"
        td = pl.target_duration
        assert isinstance(td, int) and td > 0, f"{where}: TARGETDURATION {td!r}"
        for i, d in enumerate(pl.durations):
            assert math.floor(d + 0.5) <= td, f"{where}: EXTINF {d} rounds above TARGETDURATION {td} (segment {i})"
        assert pl.segments, f"{where}: no segments"
        if fmp4:
            assert all(s.init is not None for s in pl.segments), f"{where}: fMP4 segments without EXT-X-MAP"
        else:
            assert not pl.has_map and "#EXT-X-MAP" not in pl.text, f"{where}: EXT-X-MAP in an MPEG-TS playlist"
        for s in pl.segments:
            assert s.size > 0, f"{where}: empty segment {s.uri}"


def test_every_uri_is_relative_and_inside_the_output(case):
    out = os.path.realpath(case.out)
    for uri in case.hls.all_uris():
        assert h.is_relative_uri(uri), f"URI {uri!r} is not relative"
    for pl in case.hls.media_playlists():
        for path in [pl.path] + [s.path for s in pl.segments] + [s.init.path for s in pl.segments if s.init]:
            real = os.path.realpath(path)
            assert real.startswith(out + os.sep), f"{path} is outside {out}"
            assert os.path.isfile(real), f"{path} named by a playlist does not exist"


# ---------------------------------------------------------------------------
# renditions: ladder, sizes, codecs
# ---------------------------------------------------------------------------


def test_ladder_has_the_expected_rungs(case):
    """The default ladder (auto): its rungs the source allows, two at least (conftest.expected_rungs
    without a ladder). None of these moving clips has a rung the redundancy rule drops."""
    src = case.source.video
    want = expected_rungs(*src.display_size)
    got = sorted((min(v.resolution) for v in case.hls.variants), reverse=True)
    assert got == sorted(want, reverse=True), f"rendition short sides {got}, expected {want} for a {src.display_size} " \
                                              f"source (redundantRungs: {case.report.get('redundantRungs')})"
    assert len(case.report["renditions"]) == len(case.hls.variants)


def test_resolution_and_display_aspect(case):
    src = case.source.video
    for v in case.hls.variants:
        facts = case.rendition_facts[v.uri].video
        where = v.uri
        assert v.resolution == (facts.width, facts.height), f"{where}: RESOLUTION {v.resolution}, stream is {facts.width}x{facts.height}"
        assert facts.width % 2 == 0 and facts.height % 2 == 0, f"{where}: odd size {facts.width}x{facts.height}"
        assert facts.rotation == 0, f"{where}: output still carries rotation {facts.rotation} (should be applied to the pixels)"
        assert facts.display_aspect == pytest.approx(src.display_aspect, rel=ASPECT_TOLERANCE), \
            f"{where}: display aspect {facts.display_aspect:.4f} vs source {src.display_aspect:.4f}"
        assert facts.is_portrait == src.is_portrait, f"{where}: orientation changed"
        w, hgt = facts.display_size
        assert w <= src.display_size[0] + 1 and hgt <= src.display_size[1] + 1, f"{where}: upscaled"
        rr = [r for r in case.report["renditions"] if (r["width"], r["height"]) == v.resolution]
        assert rr, f"{where}: no report rendition with size {v.resolution}"


def test_h264_high_profile_and_codecs_attribute(case):
    audio = case.fixture.has_audio
    for v in case.hls.variants:
        facts = case.rendition_facts[v.uri].video
        where = v.uri
        assert facts.codec == "h264", f"{where}: codec {facts.codec}"
        assert facts.profile == "High", f"{where}: profile {facts.profile}"
        assert facts.pix_fmt == "yuv420p", f"{where}: pixel format {facts.pix_fmt}"
        sps = h.sps_head(case.segment_checks[v.uri][0].sps)
        assert sps.profile_idc == 100
        assert sps.level_idc == facts.level, f"{where}: SPS level {sps.level_idc}, ffprobe {facts.level}"
        codecs = v.codec_list
        avc = [c for c in codecs if c.startswith(("avc1.", "avc3."))]
        assert len(avc) == 1, f"{where}: CODECS {v.codecs}"
        assert avc[0].lower() == sps.rfc6381, f"{where}: CODECS says {avc[0]}, stream is {sps.rfc6381}"
        assert ("mp4a.40.2" in codecs) == audio, f"{where}: CODECS {v.codecs} (source audio: {audio})"
        assert len(codecs) == (2 if audio else 1), f"{where}: CODECS {v.codecs}"
        fps = float(case.source.video.r_frame_rate)
        assert h.level_allows(sps.level_idc, facts.width, facts.height, fps), \
            f"{where}: level {sps.level_idc / 10} is too low for {facts.width}x{facts.height}@{fps}"
        rr = [r for r in case.report["renditions"] if (r["width"], r["height"]) == v.resolution]
        assert rr and sps.rfc6381 in rr[0]["codecs"].lower(), f"{where}: report codecs {rr and rr[0]['codecs']}"


def test_frame_rate_attribute(case):
    fps = float(case.source.video.r_frame_rate)  # the highest rate for the VFR fixture
    for v in case.hls.variants:
        assert v.frame_rate == pytest.approx(fps, rel=0.01), f"{v.uri}: FRAME-RATE {v.frame_rate}, source {fps}"


def test_bandwidth_attributes_match_the_segments(case):
    audio = case.audio_playlist
    for v in case.hls.variants:
        tried = []
        ok_peak = ok_avg = False
        for mode in ("inclusive", "exclusive"):
            peak, avg = h.variant_bandwidths(v, audio, mode)
            tried.append((mode, round(peak), round(avg)))
            ok_peak |= h.within(v.bandwidth, peak, BANDWIDTH_TOLERANCE)
            ok_avg |= h.within(v.average_bandwidth, avg, BANDWIDTH_TOLERANCE)
        assert ok_peak, f"{v.uri}: BANDWIDTH {v.bandwidth}, measured peak (mode, peak, avg) {tried}"
        assert ok_avg, f"{v.uri}: AVERAGE-BANDWIDTH {v.average_bandwidth}, measured {tried}"
        assert v.bandwidth >= v.average_bandwidth, f"{v.uri}: BANDWIDTH below AVERAGE-BANDWIDTH"


def test_report_agrees_with_what_was_written(case):
    by_size = {v.resolution: v for v in case.hls.variants}
    audio = case.audio_playlist
    for rr in case.report["renditions"]:
        v = by_size.get((rr["width"], rr["height"]))
        assert v is not None, f"report rendition {rr['name']} ({rr['width']}x{rr['height']}) not in the master"
        pl = v.playlist
        assert rr["segments"] == len(pl.segments)
        seg_bytes = sum(s.size for s in pl.segments)
        init_bytes = sum({(s.init.path, s.init.byterange): s.init.size for s in pl.segments if s.init}.values())
        assert seg_bytes <= rr["bytes"] <= seg_bytes + init_bytes + 65536, \
            f"{rr['name']}: bytes {rr['bytes']}, segments hold {seg_bytes} (+{init_bytes} init)"
        fits = []
        for mode in ("inclusive", "exclusive"):
            vp, va = pl.bitrates(mode)
            fits.append((vp, va))
            if audio is not None:
                ap, aa = audio.bitrates(mode)
                fits.append((vp + ap, va + aa))
        assert any(h.within(rr["peakBandwidth"], p, BANDWIDTH_TOLERANCE) for p, _ in fits), \
            f"{rr['name']}: peakBandwidth {rr['peakBandwidth']}, measured {fits}"
        assert any(h.within(rr["averageBandwidth"], a, BANDWIDTH_TOLERANCE) for _, a in fits), \
            f"{rr['name']}: averageBandwidth {rr['averageBandwidth']}, measured {fits}"
        if rr["name"]:
            short = min(rr["width"], rr["height"])
            if str(rr["name"]).rstrip("p").isdigit():
                assert int(str(rr["name"]).rstrip("p")) == short, f"rendition named {rr['name']} has short side {short}"


# ---------------------------------------------------------------------------
# audio
# ---------------------------------------------------------------------------


def test_audio_rendition_group(case):
    hls = case.hls
    audio = hls.audio_renditions
    if not case.fixture.has_audio:
        assert not audio, "a source without audio gave an audio rendition"
        for v in hls.variants:
            assert not v.audio, f"{v.uri}: AUDIO attribute on a source without audio"
            assert case.rendition_facts[v.uri].audio_streams == 0, f"{v.uri}: audio stream in the video segments"
        return
    assert len(audio) == 1, f"expected one audio rendition, found {len(audio)}"
    a = audio[0]
    assert a.uri and a.playlist is not None, "audio EXT-X-MEDIA has no URI"
    assert a.language in LANGUAGE_TAGS[case.fixture.language], \
        f"LANGUAGE {a.language!r}, expected one of {LANGUAGE_TAGS[case.fixture.language]}"
    assert a.name, "audio EXT-X-MEDIA has no NAME"
    assert (a.default or "").upper() == "YES", f"DEFAULT={a.default}"
    assert (a.autoselect or "").upper() == "YES", f"AUTOSELECT={a.autoselect}"
    assert a.channels == str(case.source.audio.channels) or a.channels == "2", f"CHANNELS={a.channels!r}"
    for v in hls.variants:
        assert v.audio == a.group_id, f"{v.uri}: AUDIO={v.audio!r}, group is {a.group_id!r}"
        assert case.rendition_facts[v.uri].audio_streams == 0, \
            f"{v.uri}: audio muxed into the video segments (it should be its own rendition)"


def test_audio_segments_follow_the_video_boundaries(case):
    if not case.fixture.has_audio:
        pytest.skip("source has no audio")
    apl = case.audio_playlist
    vpl = case.hls.variants[0].playlist
    assert len(apl.segments) == len(vpl.segments), \
        f"audio has {len(apl.segments)} segments, video {len(vpl.segments)}"
    with h.TempMedia(apl.whole(), apl.suffix) as p:
        facts = h.probe(p)
    assert facts.video_streams == 0, "video in the audio rendition"
    assert facts.audio is not None, "audio rendition has no audio stream"
    a = facts.audio
    assert (a.codec, a.profile, a.channels) == ("aac", "LC", 2), f"audio is {a.codec} {a.profile} {a.channels}ch"
    # Audio cuts on whole AAC frames (up to one frame past the video boundary), and the
    # encoder's priming frame may sit in the first segment's EXTINF: two frames of slack.
    tol = 2 * AAC_FRAME / a.sample_rate + 1e-3
    astart = vstart = 0.0
    for i, (ad, vd) in enumerate(zip(apl.durations, vpl.durations)):
        assert abs(astart - vstart) <= tol, f"audio segment {i} starts at {astart:.4f}s, video at {vstart:.4f}s"
        astart += ad
        vstart += vd
    assert sum(apl.durations) == pytest.approx(case.source.duration, abs=0.1)
    ra = case.report["audio"]
    assert ra["channels"] == 2 and ra["sampleRate"] == a.sample_rate, f"report.audio {ra}"
    assert "aac" in str(ra["codec"]).lower(), f"report.audio {ra}"
    for i in range(len(apl.segments)):
        with h.TempMedia(apl.standalone(i), apl.suffix) as p:
            seg = h.probe(p)
        assert seg.audio is not None and seg.audio.frames > 0, f"audio segment {i} does not decode on its own"


def spelled_out(ladder_check) -> list[tuple[str, object, dict]]:
    """This module's checks, each parametrization spelled out, for other files to run on outputs of
    their own (a resumed run, a stitched one). The ladder check assumes the default ladder; it is
    replaced by `ladder_check` (the same check on the caller's ladder)."""
    import inspect
    checks = []
    for name, fn in list(globals().items()):
        if not name.startswith("test_") or not inspect.isfunction(fn):
            continue
        if name == "test_ladder_has_the_expected_rungs":
            checks.append((name, ladder_check, {}))
            continue
        marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
        assert len(marks) <= 1, f"test_output.{name}: more than one parametrize mark; teach spelled_out"
        if not marks:
            checks.append((name, fn, {}))
            continue
        argname, values = marks[0].args[:2]
        assert "," not in argname, f"test_output.{name}: parametrized over several names; teach spelled_out"
        checks.extend((f"{name}[{v}]", fn, {argname: v}) for v in values)
    assert len(checks) > 15, f"found only {len(checks)} checks in test_output.py"
    return checks
