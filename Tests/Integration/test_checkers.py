"""Checks of the checkers: the helpers in hlscheck.py and conftest.py run on known inputs,
and on HLS sets written by ffmpeg's own hls muxer (which libavformat makes independently of
hlsify). When one of these fails, the suite's readers are wrong, not the engine."""

from __future__ import annotations

import math
import os
import shutil
from fractions import Fraction

import pytest

import apple_rules as ar
import hlscheck as h
from conftest import FIXED_LADDER, expected_auto_rungs, expected_rungs, fixture_path
from test_playback import first_video_time, play, played, reached_eos


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
    # An explicit ladder (--ladder 1080p,720p,480p, the default before issue 16).
    assert expected_rungs(1920, 1080, ladder=FIXED_LADDER) == [1080, 720, 480]
    assert expected_rungs(1280, 720, ladder=FIXED_LADDER) == [720, 480]
    assert expected_rungs(720, 1280, ladder=FIXED_LADDER) == [720, 480]
    assert expected_rungs(768, 576, ladder=FIXED_LADDER) == [480]
    assert expected_rungs(640, 480, ladder=FIXED_LADDER) == [480]
    assert expected_rungs(320, 180, ladder=FIXED_LADDER) == [180]
    assert expected_rungs(427, 241, ladder=FIXED_LADDER) == [240]
    # No ladder: the default, auto (the added rung at 2/3 of the smallest, rounded down to even,
    # when fewer than two are left).
    for size, want in [((1920, 1080), [1080, 720, 480, 360, 240]), ((1280, 720), [720, 480, 360, 240]),
                       ((720, 1280), [720, 480, 360, 240]), ((768, 576), [480, 360, 240]),
                       ((640, 480), [480, 360, 240]), ((320, 180), [180, 120]), ((427, 241), [240, 160]),
                       ((200, 112), [112, 74])]:
        assert expected_rungs(*size) == expected_auto_rungs(*size) == want, size


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
    assert code == 0 and reached_eos(log), log[-2000:]
    # every buffer each sink rendered, then its EOS (test_playback.played), not a sample of them
    video, audio = played(log, "vsink"), played(log, "asink")
    assert video and audio and video.eos and audio.eos, (video, audio, log[-2000:])
    start = first_video_time(hls)
    # the 5 s set runs from its first video frame; each sink's last buffer starts within 0.1 s of its end
    assert video.last >= start + 4.9 and audio.last >= start + 4.9, (start, video, audio)


# ---------------------------------------------------------------------------
# apple_rules.py: every rule passes a compliant set and reports a broken one
# ---------------------------------------------------------------------------
#
# The compliant set is built here from ffmpeg's hls muxer (one media playlist per rendition,
# fMP4, 2 s segments) with playlists, I-frame playlists and master rewritten by hand, so that
# it follows every rule without hlsify. Each test below breaks one thing in a copy of it.

SET_SOURCE = fixture_path("landscape-1080p.mp4")  # 5 s, 25 fps, AAC-LC stereo
SET_SEGMENT = 2
LADDER = [  # name, width, height, video bit rate: 2 Mb/s sits on the middle rung
    ("360p", 640, 360, 600_000), ("540p", 960, 540, 1_800_000), ("720p", 1280, 720, 3_000_000)]


def _media_playlist(durations: list[float], uris: list[str], byteranges=None, init: str = "init.mp4") -> str:
    iframes = byteranges is not None
    target = max(math.floor(d + 0.5) for d in durations)
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{5 if iframes else 6}", f"#EXT-X-TARGETDURATION:{target}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if iframes:
        lines.append("#EXT-X-I-FRAMES-ONLY")
    lines.append(f'#EXT-X-MAP:URI="{init}"')
    for i, (d, u) in enumerate(zip(durations, uris)):
        lines.append(f"#EXTINF:{d:.6f},")
        if iframes:
            lines.append(f"#EXT-X-BYTERANGE:{byteranges[i][0]}@{byteranges[i][1]}")
        lines.append(u)
    return "\n".join(lines + ["#EXT-X-ENDLIST", ""])


def build_set(out, ladder=LADDER, audio=("96k", 2), video_args=(), hls_flags="", src=SET_SOURCE,
              order=None) -> str:
    """Writes a compliant-looking HLS set to `out` and returns its master path.

    ladder: [(name, w, h, bit rate)] (empty: an audio-only set); audio: (bit rate, channels) or
    None; video_args replace the keyframe settings (segments start on an IDR by default);
    order: variant names in the order the master lists them (default: the middle rung first)."""
    out = str(out)
    # one hls muxer for every rendition (var_stream_map), so that they share one timeline
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", src]
    streams = []
    if ladder:
        n = len(ladder)
        cmd += ["-filter_complex", f"[0:v]split={n}" + "".join(f"[s{i}]" for i in range(n)) + ";" + ";".join(
            f"[s{i}]scale={w}:{hgt},setsar=1[v{i}]" for i, (_, w, hgt, _) in enumerate(ladder))]
        cmd += [x for i in range(n) for x in ("-map", f"[v{i}]")]
        cmd += ["-c:v", "libx264", "-preset", "superfast", "-profile:v", "high"]
        for i, (name, _, _, rate) in enumerate(ladder):
            cmd += [f"-b:v:{i}", str(rate), f"-maxrate:v:{i}", str(int(rate * 1.1)), f"-bufsize:v:{i}", str(2 * rate)]
            streams.append(f"v:{i},name:{name}")
        cmd += list(video_args) or ["-force_key_frames", f"expr:gte(t,n_forced*{SET_SEGMENT})", "-sc_threshold", "0"]
    if audio:
        cmd += ["-map", "0:a:0", "-c:a", "aac", "-b:a", audio[0], "-ac", str(audio[1]), "-ar", "48000"]
        streams.append("a:0,name:audio")
    cmd += ["-f", "hls", "-hls_time", str(SET_SEGMENT), "-hls_playlist_type", "vod",
            "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
            *(["-hls_flags", hls_flags] if hls_flags else []), "-var_stream_map", " ".join(streams),
            "-hls_segment_filename", os.path.join(out, "%v", "seg%03d.m4s"), os.path.join(out, "%v", "ffmpeg.m3u8")]
    h.run(cmd, timeout=300)

    def rewrite(name: str) -> h.MediaPlaylist:
        d = os.path.join(out, name)
        ff = h.load_media_playlist(os.path.join(d, "ffmpeg.m3u8"))
        with open(os.path.join(d, "index.m3u8"), "w") as f:
            f.write(_media_playlist(ff.durations, [s.uri for s in ff.segments], init=ff.segments[0].init.uri))
        os.unlink(os.path.join(d, "ffmpeg.m3u8"))
        return h.load_media_playlist(os.path.join(d, "index.m3u8"))

    apl = rewrite("audio") if audio else None
    # RFC 8216 section 7: nothing in a master needs more than 1; EXT-X-MEDIA and I-frame streams
    # may say 4 (the version that brought them)
    lines = ["#EXTM3U", "#EXT-X-VERSION:4" if ladder else "#EXT-X-VERSION:1", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if ladder and audio:
        lines.append(f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",LANGUAGE="en",NAME="English",DEFAULT=YES,'
                     f'AUTOSELECT=YES,CHANNELS="{audio[1]}",URI="audio/index.m3u8"')
    variants, iframes = {}, []
    ap, aa = apl.bitrates("inclusive") if apl else (0, 0)
    for name, w, hgt, _ in ladder:
        pl = rewrite(name)
        vp, va = pl.bitrates("inclusive")
        with h.TempMedia(pl.standalone(0), ".mp4") as p:
            sps = h.sps_head(h.check_segment_video(p).sps).rfc6381
        attrs = (f"BANDWIDTH={math.ceil(vp + ap)},AVERAGE-BANDWIDTH={math.ceil(va + aa)},"
                 f'CODECS="{sps}{",mp4a.40.2" if audio else ""}",RESOLUTION={w}x{hgt},FRAME-RATE=25.000,'
                 "VIDEO-RANGE=SDR" + (',AUDIO="aac"' if audio else "") + ",CLOSED-CAPTIONS=NONE")
        variants[name] = [f"#EXT-X-STREAM-INF:{attrs}", f"{name}/index.m3u8"]
        # the I-frame playlist: each segment's first picture, moof through that sample
        init = len(pl.segments[0].init.data())
        ranges = []
        for i in range(len(pl.segments)):
            with h.TempMedia(pl.standalone(i), ".mp4") as p:
                first = h.ffprobe_json(p, "-select_streams", "v:0", "-show_entries", "packet=pos,size",
                                       "-read_intervals", "%+#1")["packets"][0]
            ranges.append((int(first["pos"]) + int(first["size"]) - init, 0))
        with open(os.path.join(out, name, "iframes.m3u8"), "w") as f:
            f.write(_media_playlist(pl.durations, [s.uri for s in pl.segments], ranges, init=pl.segments[0].init.uri))
        ipeak, iavg = h.peak_and_average(pl.durations, [r[0] for r in ranges], SET_SEGMENT)
        iframes.append(f"#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH={math.ceil(ipeak)},AVERAGE-BANDWIDTH={math.ceil(iavg)},"
                       f'CODECS="{sps}",RESOLUTION={w}x{hgt},VIDEO-RANGE=SDR,URI="{name}/iframes.m3u8"')
    if not ladder:
        variants["audio"] = [f'#EXT-X-STREAM-INF:BANDWIDTH={math.ceil(ap)},AVERAGE-BANDWIDTH={math.ceil(aa)},'
                             f'CODECS="mp4a.40.2"', "audio/index.m3u8"]
    names = order or ([ladder[len(ladder) // 2][0]] if len(ladder) >= 3 else []) + [n for n in variants]
    for name in dict.fromkeys(names):
        lines += variants[name]
    lines += iframes
    master = os.path.join(out, "master.m3u8")
    with open(master, "w") as f:
        f.write("\n".join(lines) + "\n")
    return master


@pytest.fixture(scope="module")
def compliant_set(tmp_path_factory) -> str:
    return build_set(tmp_path_factory.mktemp("compliant-set"))


@pytest.fixture(scope="module")
def audio_only_set(tmp_path_factory) -> str:
    return build_set(tmp_path_factory.mktemp("audio-only-set"), ladder=[], src=fixture_path("audio-only.m4a"))


def rule_findings(master: str, rule: str, **kw) -> list[str]:
    return ar.run_rule(ar.RULES_BY_ID[rule], ar.Context(master, **kw))


def broken_copy(master: str, tmp_path, edits: dict[str, list[tuple[str, str]]]) -> str:
    """A copy of the set with text replacements in some playlists ({relative path: [(old, new)]});
    each `old` must be there (a mutation that misses would make a test pass for nothing)."""
    root = str(tmp_path / "broken")
    shutil.copytree(os.path.dirname(master), root)
    for rel, subs in edits.items():
        path = os.path.join(root, rel)
        with open(path) as f:
            text = f.read()
        for old, new in subs:
            assert old in text, f"{rel}: {old!r} not found in\n{text}"
            text = text.replace(old, new, 1)
        with open(path, "w") as f:
            f.write(text)
    return os.path.join(root, "master.m3u8")


def test_compliant_set_passes_every_rule(compliant_set):
    ctx = ar.Context(compliant_set, source=SET_SOURCE, nominal_segment=SET_SEGMENT)
    results = ar.check_all(ctx)
    assert not any(results.values()), {k: v for k, v in results.items() if v}


def test_audio_only_set_passes_every_rule(audio_only_set):
    ctx = ar.Context(audio_only_set, source=fixture_path("audio-only.m4a"), nominal_segment=SET_SEGMENT)
    assert not ctx.video_variants and len(ctx.variants) == 1 and ctx.variants[0].has_audio
    results = ar.check_all(ctx)
    assert not any(results.values()), {k: v for k, v in results.items() if v}


def test_audio_only_set_is_still_checked(audio_only_set, tmp_path):
    """Video rules skip an audio-only variant; the audio and playlist rules still apply to it."""
    text = open(audio_only_set).read()
    bw = text.split("BANDWIDTH=")[1].split(",")[0]
    broken = broken_copy(audio_only_set, tmp_path, {
        "master.m3u8": [(f"BANDWIDTH={bw},", f"BANDWIDTH={int(bw) * 2},"), ('CODECS="mp4a.40.2"', 'CODECS="avc1.64001f"')],
        "audio/index.m3u8": [("#EXT-X-ENDLIST", "")]})
    assert any("BANDWIDTH" in f for f in rule_findings(broken, "peak_bandwidth"))
    assert any("mp4a.40.2" in f for f in rule_findings(broken, "aac_stereo"))
    assert any("no video" in f for f in rule_findings(broken, "variant_attributes"))
    assert rule_findings(broken, "vod_playlists") == ["audio/index.m3u8: no EXT-X-ENDLIST"]
    mono = build_set(tmp_path / "mono", ladder=[], audio=("16k", 1), src=fixture_path("audio-only.m4a"))
    findings = rule_findings(mono, "aac_stereo")
    assert any("1 channel" in f for f in findings) and any("outside 32-160" in f for f in findings), findings


def _first_video(master: str) -> str:
    return next(l for l in open(master).read().splitlines() if l.endswith("/index.m3u8") and not l.startswith("audio"))


def test_rule_idr_at_segment_start(tmp_path):
    # open GOP: segments 1 and 2 start on a keyframe that is a recovery-point I picture, not an IDR
    broken = build_set(tmp_path, ladder=LADDER[:1], audio=None, video_args=[
        "-x264-params", f"keyint={25 * SET_SEGMENT}:min-keyint={25 * SET_SEGMENT}:scenecut=0:open-gop=1"])
    findings = rule_findings(broken, "idr_at_segment_start")
    assert [f.split(":")[0] for f in findings] == ["360p/index.m3u8 segment 1", "360p/index.m3u8 segment 2"], findings


def test_rule_extinf_accuracy(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {"540p/index.m3u8": [("#EXTINF:2.000000,", "#EXTINF:1.900000,")]})
    assert any("540p/index.m3u8: EXTINF sums drift" in f for f in rule_findings(broken, "extinf_accuracy"))
    # the whole playlist against the source: a clip of the first 4 s is one segment short of it
    short = build_set(tmp_path / "short", ladder=LADDER[:1], audio=None, src=_clip(tmp_path, 4))
    findings = rule_findings(short, "extinf_accuracy", source=SET_SOURCE)
    assert findings and "the source's video lasts 5.0000 s" in findings[0], findings


def _clip(tmp_path, seconds: int) -> str:
    path = str(tmp_path / f"clip{seconds}.mp4")
    h.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", SET_SOURCE, "-t", str(seconds), "-c", "copy", path])
    return path


def test_rule_same_target_duration(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {"audio/index.m3u8": [("#EXT-X-TARGETDURATION:2", "#EXT-X-TARGETDURATION:3")]})
    assert rule_findings(broken, "same_target_duration")


def test_rule_same_content_duration(compliant_set, tmp_path):
    apl = open(os.path.join(os.path.dirname(compliant_set), "audio/index.m3u8")).read()
    last = apl.split("#EXTINF:")[-1].split("#EXT-X-ENDLIST")[0]
    broken = broken_copy(compliant_set, tmp_path, {"audio/index.m3u8": [("#EXTINF:" + last, "")]})
    assert rule_findings(broken, "same_content_duration")


def test_rule_target_duration_bounds(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {
        "720p/index.m3u8": [("#EXT-X-TARGETDURATION:2", "#EXT-X-TARGETDURATION:1")],
        "360p/iframes.m3u8": [("#EXT-X-TARGETDURATION:2", "#EXT-X-TARGETDURATION:2.5")]})
    findings = rule_findings(broken, "target_duration_bounds")
    assert any(f.startswith("720p/index.m3u8 segment 0: EXTINF 2.0 exceeds") for f in findings), findings
    assert any(f.startswith("360p/iframes.m3u8: TARGETDURATION") for f in findings), findings


def test_rule_segment_durations(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {"360p/index.m3u8": [("#EXTINF:2.000000,", "#EXTINF:1.500000,")]})
    assert any(f.startswith("360p/index.m3u8 segment 0") for f in rule_findings(broken, "segment_durations"))
    assert rule_findings(compliant_set, "segment_durations", nominal_segment=3)


def _attr(master: str, uri: str, name: str) -> str:
    lines = open(master).read().splitlines()
    i = lines.index(uri)
    return ar.parse_attributes(lines[i - 1].split(":", 1)[1])[name]


def test_rule_peak_bandwidth(compliant_set, tmp_path):
    bw = _attr(compliant_set, "720p/index.m3u8", "BANDWIDTH")
    broken = broken_copy(compliant_set, tmp_path, {"master.m3u8": [(f"BANDWIDTH={bw},", f"BANDWIDTH={int(int(bw) * 1.15)},")]})
    assert [f.split(":")[0] for f in rule_findings(broken, "peak_bandwidth")] == ["720p/index.m3u8"]


def test_rule_average_bandwidth(compliant_set, tmp_path):
    ab = _attr(compliant_set, "540p/index.m3u8", "AVERAGE-BANDWIDTH")
    ab2 = _attr(compliant_set, "360p/index.m3u8", "AVERAGE-BANDWIDTH")
    broken = broken_copy(compliant_set, tmp_path, {"master.m3u8": [
        (f"AVERAGE-BANDWIDTH={ab},", f"AVERAGE-BANDWIDTH={int(int(ab) * 0.85)},"), (f"AVERAGE-BANDWIDTH={ab2},", "")]})
    findings = rule_findings(broken, "average_bandwidth")
    assert [f.split(":")[0] for f in findings] == ["540p/index.m3u8", "360p/index.m3u8"], findings


def test_rule_peak_within_twice_average(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {})
    seg = os.path.join(os.path.dirname(broken), "360p", "seg001.m4s")
    size = os.path.getsize(seg)
    with open(seg, "ab") as f:  # a 'free' box: ignored by readers, fetched by players
        n = 6 * size
        f.write(n.to_bytes(4, "big") + b"free" + bytes(n - 8))
    findings = rule_findings(broken, "peak_within_twice_average")
    assert findings and findings[0].startswith("360p/index.m3u8: measured peak"), findings


@pytest.fixture(scope="module")
def level51_set(tmp_path_factory) -> str:
    """640x360 at 25 fps (level 3.0 would do) signalled as level 5.1."""
    return build_set(tmp_path_factory.mktemp("level51-set"), ladder=LADDER[:1], audio=None,
                     video_args=["-level:v", "5.1", "-force_key_frames", f"expr:gte(t,n_forced*{SET_SEGMENT})"])


def test_rule_h264_profile_level(compliant_set, level51_set, tmp_path):
    codecs = _attr(compliant_set, "360p/index.m3u8", "CODECS")
    broken = broken_copy(compliant_set, tmp_path, {"master.m3u8": [(codecs, codecs.replace("avc1.6400", "avc1.4d00"))]})
    assert any("the SPS says" in f for f in rule_findings(broken, "h264_profile_level"))
    findings = rule_findings(level51_set, "h264_profile_level")
    assert findings and all("level 5.1 is above 4.2" in f for f in findings), findings


def test_rule_h264_lowest_level(level51_set):
    findings = rule_findings(level51_set, "h264_lowest_level")
    assert findings == [f"360p/index.m3u8: level 5.1 where 3.0 fits 640x360@25 at BANDWIDTH "
                        f"{_attr(level51_set, '360p/index.m3u8', 'BANDWIDTH')}"], findings


def test_rule_keyframes_every_two_seconds(tmp_path):
    sparse = build_set(tmp_path, ladder=LADDER[:1], audio=None,
                       video_args=["-force_key_frames", "expr:gte(t,n_forced*4)", "-sc_threshold", "0", "-g", "250"])
    findings = rule_findings(sparse, "keyframes_every_two_seconds")
    assert findings == ["360p/index.m3u8: keyframes up to 4.000 s apart"], findings


def test_rule_multiple_video_bitrates(compliant_set, tmp_path):
    lines = open(compliant_set).read().splitlines()
    drop = []
    for uri in ("360p/index.m3u8", "720p/index.m3u8"):
        i = lines.index(uri)
        drop.append(("\n".join(lines[i - 1:i + 1]) + "\n", ""))
    broken = broken_copy(compliant_set, tmp_path, {"master.m3u8": drop})
    assert rule_findings(broken, "multiple_video_bitrates") == ["one video bit rate only: ['540p/index.m3u8']"]


def test_rule_aac_stereo(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {"master.m3u8": [('CHANNELS="2"', 'CHANNELS="6"')]})
    assert any("CHANNELS='6'" in f for f in rule_findings(broken, "aac_stereo"))
    loud = build_set(tmp_path / "mono", ladder=LADDER[:1], audio=("16k", 1))
    findings = rule_findings(loud, "aac_stereo")
    assert any("1 channel" in f for f in findings) and any("outside 32-160" in f for f in findings), findings


def test_rule_variant_attributes(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {"master.m3u8": [
        (",FRAME-RATE=25.000", ""), (",RESOLUTION=1280x720,", ",RESOLUTION=1280x722,"), (',mp4a.40.2"', '"')]})
    findings = rule_findings(broken, "variant_attributes")
    assert any("no FRAME-RATE" in f for f in findings), findings
    assert any("RESOLUTION 1280x722, pictures are 1280x720" in f for f in findings), findings
    assert any("names no audio codec" in f for f in findings), findings


def test_rule_video_range_and_captions(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {"master.m3u8": [
        (",VIDEO-RANGE=SDR,AUDIO", ",AUDIO"), (",CLOSED-CAPTIONS=NONE", ""),
        ('VIDEO-RANGE=SDR,URI="720p', 'VIDEO-RANGE=PQ,URI="720p')]})
    findings = rule_findings(broken, "video_range_and_captions")
    assert len(findings) == 3, findings


def test_rule_iframe_stream_attributes(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {"master.m3u8": [(",RESOLUTION=960x540,VIDEO-RANGE=SDR,URI", ",VIDEO-RANGE=SDR,URI")]})
    assert rule_findings(broken, "iframe_stream_attributes") == ["540p/iframes.m3u8: I-frame stream without RESOLUTION"]


def test_rule_audio_rendition_attributes(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {"master.m3u8": [('LANGUAGE="en",', ""), (',CHANNELS="2"', "")]})
    assert len(rule_findings(broken, "audio_rendition_attributes")) == 2


def test_rule_lowest_version(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {
        "master.m3u8": [("#EXT-X-VERSION:4", "#EXT-X-VERSION:7")],
        "360p/index.m3u8": [("#EXT-X-VERSION:6", "#EXT-X-VERSION:5")],
        "540p/index.m3u8": [("#EXT-X-VERSION:6", "#EXT-X-VERSION:7")],
        "720p/iframes.m3u8": [("#EXT-X-VERSION:5", "#EXT-X-VERSION:6")],
        "audio/index.m3u8": [("#EXT-X-VERSION:6", "#EXT-X-VERSION:6\n#EXT-X-VERSION:6")]})
    findings = rule_findings(broken, "lowest_version")
    assert sorted(f.split(":")[0] for f in findings) == sorted(
        ["master", "360p/index.m3u8", "540p/index.m3u8", "720p/iframes.m3u8", "audio/index.m3u8"]), findings
    assert ar.required_version("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n", master=False)[0] == 1
    assert ar.required_version("#EXTM3U\n#EXTINF:2.0,\n#EXT-X-BYTERANGE:10@0\na.ts\n", master=False)[0] == 4


def test_rule_independent_segments(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {"master.m3u8": [("#EXT-X-INDEPENDENT-SEGMENTS\n", "")]})
    assert rule_findings(broken, "independent_segments") == []  # every video playlist carries it
    broken = broken_copy(compliant_set, tmp_path / "2", {
        "master.m3u8": [("#EXT-X-INDEPENDENT-SEGMENTS\n", "")], "540p/index.m3u8": [("#EXT-X-INDEPENDENT-SEGMENTS\n", "")]})
    assert "540p/index.m3u8" in rule_findings(broken, "independent_segments")[0]


def test_rule_vod_playlists(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {
        "360p/index.m3u8": [("#EXT-X-PLAYLIST-TYPE:VOD\n", "")], "540p/iframes.m3u8": [("#EXT-X-ENDLIST", "")]})
    assert rule_findings(broken, "vod_playlists") == [
        "360p/index.m3u8: no EXT-X-PLAYLIST-TYPE:VOD", "540p/iframes.m3u8: no EXT-X-ENDLIST"]


def test_rule_vod_playlists_of_a_progressive_set(compliant_set, tmp_path):
    """A progressive set's media playlists stay EVENT (with ENDLIST); its I-frame playlists are VOD."""
    event = broken_copy(compliant_set, tmp_path, {
        rel: [("#EXT-X-PLAYLIST-TYPE:VOD\n", "#EXT-X-PLAYLIST-TYPE:EVENT\n")]
        for rel in ("360p/index.m3u8", "540p/index.m3u8", "720p/index.m3u8", "audio/index.m3u8")})
    assert rule_findings(event, "vod_playlists", progressive=True) == []
    assert sorted(rule_findings(compliant_set, "vod_playlists", progressive=True)) == sorted(
        f"{rel}: no EXT-X-PLAYLIST-TYPE:EVENT" for rel in ("360p/index.m3u8", "540p/index.m3u8", "720p/index.m3u8", "audio/index.m3u8"))


def test_rule_iframe_playlists(compliant_set, tmp_path):
    lines = open(compliant_set).read().splitlines()
    iframe_720 = next(l for l in lines if l.endswith('URI="720p/iframes.m3u8"'))
    broken = broken_copy(compliant_set, tmp_path, {
        "master.m3u8": [(iframe_720 + "\n", "")], "360p/iframes.m3u8": [("#EXT-X-I-FRAMES-ONLY\n", "")]})
    findings = rule_findings(broken, "iframe_playlists")
    assert any(f.startswith("720p/index.m3u8: no EXT-X-I-FRAME-STREAM-INF") for f in findings), findings
    assert "360p/iframes.m3u8: no EXT-X-I-FRAMES-ONLY" in findings, findings
    # an entry whose range is the whole segment: every picture of it, not one keyframe
    root = os.path.dirname(compliant_set)
    first_range = next(l for l in open(os.path.join(root, "540p/iframes.m3u8")).read().splitlines()
                       if l.startswith("#EXT-X-BYTERANGE:"))
    whole = os.path.getsize(os.path.join(root, "540p/seg000.m4s"))
    broken = broken_copy(compliant_set, tmp_path / "2", {
        "540p/iframes.m3u8": [(first_range, f"#EXT-X-BYTERANGE:{whole}@0")]})
    findings = rule_findings(broken, "iframe_playlists")
    assert len(findings) == 1 and findings[0].startswith("540p/iframes.m3u8 entry 0") and "not one keyframe" in findings[0], findings


def test_rule_first_variant_mid_rung(compliant_set, tmp_path):
    lines = open(compliant_set).read().splitlines()
    assert _first_video(compliant_set) == "540p/index.m3u8"
    i = lines.index("720p/index.m3u8")
    broken = broken_copy(compliant_set, tmp_path, {"master.m3u8": [
        ("\n".join(lines[i - 1:i + 1]) + "\n", ""),
        ("#EXT-X-INDEPENDENT-SEGMENTS\n", "#EXT-X-INDEPENDENT-SEGMENTS\n" + "\n".join(lines[i - 1:i + 1]) + "\n")]})
    assert _first_video(broken) == "720p/index.m3u8"
    findings = rule_findings(broken, "first_variant_mid_rung")
    assert findings and "expected 540p/index.m3u8" in findings[0], findings


def _lavfi_clip(tmp_path, name: str, video: str, vf: str = "", extra=()) -> str:
    path = str(tmp_path / name)
    h.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", video,
           *(["-vf", vf] if vf else []), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *extra, path])
    return path


def test_rule_frame_rate_at_most_60(compliant_set, tmp_path):
    broken = broken_copy(compliant_set, tmp_path, {"master.m3u8": [("FRAME-RATE=25.000", "FRAME-RATE=120.000")]})
    assert rule_findings(broken, "frame_rate_at_most_60") == ["540p/index.m3u8: FRAME-RATE 120.000"]
    # a 120 fps picture stream, whatever the master says
    clip = _lavfi_clip(tmp_path, "hfr.mp4", "testsrc2=size=640x360:rate=120:duration=4")
    hfr = build_set(tmp_path / "hfr", ladder=LADDER[:1], audio=None, src=clip)
    findings = rule_findings(hfr, "frame_rate_at_most_60")
    assert len(findings) == 1 and "120.00 fps" in findings[0], findings


def test_rule_progressive_pictures(tmp_path):
    # an interlaced source (50 fields/s, coded as top-field-first fields) whose woven frames are
    # then encoded as if they were progressive: flagged once the source is known
    clip = _lavfi_clip(tmp_path, "interlaced.mp4", "testsrc2=size=640x360:rate=50:duration=4", "interlace=scan=tff",
                       extra=["-flags", "+ildct+ilme", "-x264-params", "tff=1"])
    woven = build_set(tmp_path / "woven", ladder=LADDER[:1], audio=None, src=clip)
    assert rule_findings(woven, "progressive_pictures") == []
    findings = rule_findings(woven, "progressive_pictures", source=clip)
    assert len(findings) == 1 and "not deinterlaced" in findings[0], findings
    # a variant coded as fields is flagged with or without the source
    fields = build_set(tmp_path / "fields", ladder=LADDER[:1], audio=None, src=clip, video_args=[
        "-flags", "+ildct+ilme", "-x264-params", "tff=1", "-force_key_frames", f"expr:gte(t,n_forced*{SET_SEGMENT})"])
    findings = rule_findings(fields, "progressive_pictures")
    assert len(findings) == 1 and "coded as fields" in findings[0], findings


def test_rule_continuous_media(compliant_set, tmp_path):
    # fMP4: the playlist names the third segment where the second belongs
    broken = broken_copy(compliant_set, tmp_path, {"360p/index.m3u8": [("seg001.m4s", "seg002.m4s")]})
    findings = rule_findings(broken, "continuous_media")
    assert findings and findings[0].startswith("360p/index.m3u8: segment 1 starts +2000.0 ms"), findings
    # MPEG-TS: a continuity counter that skips at a segment join
    d = tmp_path / "ts" / "v"
    d.mkdir(parents=True)
    h.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", SET_SOURCE, "-map", "0:v:0", "-vf", "scale=320:180",
           "-c:v", "libx264", "-preset", "ultrafast", "-force_key_frames", f"expr:gte(t,n_forced*{SET_SEGMENT})",
           "-f", "hls", "-hls_time", str(SET_SEGMENT), "-hls_playlist_type", "vod", "-hls_segment_type", "mpegts",
           "-hls_segment_filename", str(d / "seg%03d.ts"), str(d / "index.m3u8")])
    master = tmp_path / "ts" / "master.m3u8"
    master.write_text('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,CODECS="avc1.42c00d",RESOLUTION=320x180\nv/index.m3u8\n')
    assert rule_findings(str(master), "continuous_media") == []
    seg = bytearray((d / "seg001.ts").read_bytes())
    for i in range(0, len(seg), 188):
        pid = ((seg[i + 1] & 0x1F) << 8) | seg[i + 2]
        if pid not in (0, 0x11, 0x1000, 0x1FFF) and seg[i + 3] & 0x10:  # the first video payload packet
            seg[i + 3] = (seg[i + 3] & 0xF0) | ((seg[i + 3] + 5) & 0x0F)
            break
    (d / "seg001.ts").write_bytes(bytes(seg))
    findings = rule_findings(str(master), "continuous_media")
    assert len(findings) == 1 and "(segment 1) PID 0x100: continuity counter" in findings[0], findings
