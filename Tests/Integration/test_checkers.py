"""Checks of the checkers: the helpers in hlscheck.py and conftest.py run on known inputs,
and on HLS sets written by ffmpeg's own hls muxer (which libavformat makes independently of
hlsify). When one of these fails, the suite's readers are wrong, not the engine."""

from __future__ import annotations

import os
from fractions import Fraction

import pytest

import hlscheck as h
from conftest import expected_rungs, fixture_path
from test_playback import play, pts_span


# ---------------------------------------------------------------------------
# pure helpers
# ---------------------------------------------------------------------------


def test_peak_and_average_follow_rfc8216():
    # target 2: runs lasting 1..3 s count. Sizes in bytes.
    durations = [2.0, 2.0, 1.0]
    sizes = [250_000, 500_000, 200_000]
    peak, avg = h.peak_and_average(durations, sizes, 2, "inclusive")
    assert avg == pytest.approx(950_000 * 8 / 5)
    assert peak == pytest.approx(max(250_000 * 8 / 2, 500_000 * 8 / 2, 200_000 * 8 / 1, 700_000 * 8 / 3))
    # the 1 s run sits exactly on 0.5 x target: out when the edges are excluded
    peak_x, _ = h.peak_and_average(durations, sizes, 2, "exclusive")
    assert peak_x == pytest.approx(max(500_000 * 8 / 2, 700_000 * 8 / 3))
    # nothing qualifies (one short segment): the single segment's rate stands in
    assert h.peak_and_average([0.5], [1000], 4)[0] == pytest.approx(16000)


def test_level_limits():
    assert h.level_allows(40, 1920, 1080, 25)
    assert not h.level_allows(31, 1920, 1080, 25)
    assert h.level_allows(31, 1280, 720, 30)
    assert not h.level_allows(30, 1280, 720, 30)
    assert h.level_allows(30, 854, 480, 25)  # 1620 MBs x 25 = MaxMBPS 40500 exactly
    assert not h.level_allows(30, 854, 480, 30)
    assert h.level_allows(31, 720, 1280, 30)  # portrait: 45x80 MBs, side limit sqrt(8*3600)=169


def test_sps_and_annexb():
    stream = b"\x00\x00\x00\x01\x67\x64\x00\x1f\xac\xd9\x40\x00\x00\x01\x68\xeb\xe3\xcb\x22\xc0\x00\x00\x01\x65\x88\x84"
    nals = h.split_annexb(stream)
    assert [n[0] & 0x1F for n in nals] == [7, 8, 5]
    assert nals[0] == b"\x67\x64\x00\x1f\xac\xd9\x40"
    assert h.sps_head(nals[0]).rfc6381 == "avc1.64001f"


def test_relative_uris():
    assert h.is_relative_uri("720p/index.m3u8") and h.is_relative_uri("seg%2000.m4s")
    for uri in ("/abs/index.m3u8", "http://x/y.m3u8", "file:///tmp/a.ts", "//host/a.ts", ""):
        assert not h.is_relative_uri(uri), uri


def test_expected_rungs():
    assert expected_rungs(1920, 1080) == [1080, 720, 480]
    assert expected_rungs(1280, 720) == [720, 480]
    assert expected_rungs(720, 1280) == [720, 480]
    assert expected_rungs(768, 576) == [480]
    assert expected_rungs(640, 480) == [480]
    assert expected_rungs(320, 180) == [180]
    assert expected_rungs(427, 241) == [240]


# ---------------------------------------------------------------------------
# the fixtures are what make-fixtures.sh says they are
# ---------------------------------------------------------------------------

FIXTURE_FACTS = {
    # name: (coded w, h, SAR, rotation, display w, h, frames, audio language or None)
    "landscape-1080p.mp4": (1920, 1080, Fraction(1), 0, 1920, 1080, 125, "eng"),
    "landscape-720p.mp4": (1280, 720, Fraction(1), 0, 1280, 720, 150, "und"),
    "portrait-rotated.mp4": (1280, 720, Fraction(1), 270, 720, 1280, 150, "und"),
    "portrait-720x1280.mp4": (720, 1280, Fraction(1), 0, 720, 1280, 150, "und"),
    "4x3-480p.mp4": (640, 480, Fraction(1), 0, 640, 480, 125, "und"),
    "anamorphic-576p.mp4": (720, 576, Fraction(16, 15), 0, 768, 576, 125, "und"),
    "no-audio.mp4": (1280, 720, Fraction(1), 0, 1280, 720, 125, None),
    "small-320x180.mp4": (320, 180, Fraction(1), 0, 320, 180, 150, "und"),
    "vfr.mp4": (1280, 720, Fraction(1), 0, 1280, 720, 112, "und"),
}


@pytest.mark.parametrize("name", list(FIXTURE_FACTS))
def test_fixture_facts(name):
    w, hgt, sar, rot, dw, dh, frames, lang = FIXTURE_FACTS[name]
    f = h.probe(fixture_path(name))
    v = f.video
    assert (v.width, v.height, v.sar, v.rotation, v.frames) == (w, hgt, sar, rot, frames)
    assert tuple(round(x) for x in v.display_size) == (dw, dh)
    assert (v.codec, v.profile, v.pix_fmt) == ("h264", "High", "yuv420p")
    assert (f.audio.language if f.audio else None) == lang
    if f.audio:
        assert (f.audio.codec, f.audio.profile, f.audio.channels) == ("aac", "LC", 2)
    assert f.duration == pytest.approx(5.0, abs=0.05)


def test_non_media_fixtures():
    f = h.probe(fixture_path("audio-only.m4a"))
    assert f.video is None and f.audio is not None
    assert h.run(["ffprobe", "-v", "error", fixture_path("not-media.mp4")], check=False).returncode != 0


# ---------------------------------------------------------------------------
# the readers on HLS sets made by ffmpeg's hls muxer
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["fmp4", "ts"])
def ffmpeg_hls(request, tmp_path_factory):
    fmt = request.param
    out = tmp_path_factory.mktemp(f"ffmpeg-hls-{fmt}")
    seg_ext = "m4s" if fmt == "fmp4" else "ts"
    extra = ["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4"] if fmt == "fmp4" \
        else ["-hls_segment_type", "mpegts"]
    h.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", fixture_path("landscape-1080p.mp4"),
           "-filter_complex", "[0:v]split=2[a][b];[a]scale=1280:720[v0];[b]scale=854:480,setsar=1[v1]",
           "-map", "[v0]", "-map", "[v1]", "-map", "0:a",
           "-c:v", "libx264", "-preset", "superfast", "-profile:v", "high",
           "-b:v:0", "1500k", "-maxrate:v:0", "1600k", "-bufsize:v:0", "3000k",
           "-b:v:1", "800k", "-maxrate:v:1", "900k", "-bufsize:v:1", "1600k",
           "-force_key_frames", "expr:gte(t,n_forced*2)", "-sc_threshold", "0",
           "-c:a", "aac", "-b:a", "96k", "-ac", "2",
           "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_flags", "independent_segments",
           *extra, "-master_pl_name", "master.m3u8",
           "-var_stream_map", "v:0,agroup:aud v:1,agroup:aud a:0,agroup:aud,language:eng,name:English,default:yes",
           "-hls_segment_filename", str(out / f"s%v_%03d.{seg_ext}"), str(out / "s%v.m3u8")], timeout=300)
    return fmt, h.load_hls_set(str(out / "master.m3u8"))


def test_readers_on_ffmpeg_hls(ffmpeg_hls):
    fmt, hls = ffmpeg_hls
    assert len(hls.variants) == 2 and len(hls.audio_renditions) == 1
    assert all(h.is_relative_uri(u) for u in hls.all_uris())
    assert hls.audio_renditions[0].language == "eng"
    for v in hls.variants:
        pl = v.playlist
        assert pl.has_map == (fmt == "fmp4")
        assert pl.durations == pytest.approx([2.0, 2.0, 1.0], abs=0.001)
        with h.TempMedia(pl.whole(), pl.suffix) as p:
            facts = h.probe(p)
        assert facts.video.frames == 125 and facts.audio is None
        assert v.resolution == (facts.video.width, facts.video.height)
        total = 0
        for i in range(len(pl.segments)):
            with h.TempMedia(pl.standalone(i), pl.suffix) as p:
                c = h.check_segment_video(p)
            assert "K" in c.first_packet_flags and c.decoded_frames == c.packets
            assert [t for t in c.first_nal_types if t in (1, 5)][0] == 5
            total += c.packets
            # ffmpeg's muxer derives CODECS from the same parameter sets
            assert h.sps_head(c.sps).rfc6381 == v.codec_list[0].lower()
            assert h.sps_head(c.sps).profile_idc == 100 and facts.video.profile == "High"
        assert total == 125
        peak, avg = h.variant_bandwidths(v, hls.audio_renditions[0].playlist, "inclusive")
        assert 0 < avg <= peak
        # ffmpeg declares BANDWIDTH from the configured rates, not from the segments:
        # the measurement must land in the same region, not on the same number
        assert 0.5 * v.bandwidth < peak < 2.0 * v.bandwidth, (v.bandwidth, peak)
    apl = hls.audio_renditions[0].playlist
    assert len(apl.segments) == 3
    with h.TempMedia(apl.whole(), apl.suffix) as p:
        a = h.probe(p)
    assert a.video is None and a.audio.channels == 2


def test_gstreamer_reader_on_ffmpeg_hls(ffmpeg_hls, http_root):
    fmt, hls = ffmpeg_hls
    code, log = play(http_root(hls.master_path), 120)
    assert code == 0 and "Got EOS" in log, log[-2000:]
    video, audio = pts_span(log, "vsink"), pts_span(log, "asink")
    assert video[1] - video[0] >= 4.9 and audio[1] - audio[0] >= 4.9, (video, audio)
