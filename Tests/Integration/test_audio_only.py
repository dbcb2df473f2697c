"""Audio-only HLS: a recorded talk (.m4a) gives an audio-only set instead of an error, and
`--audio-only-variant` adds a low-bandwidth audio-only variant to a video ladder. Checked with
ffprobe, GStreamer and our own playlist reader (hlscheck), not with hlsify's report alone."""

from __future__ import annotations

import os
import subprocess

import pytest

import hlscheck as h
from conftest import FORMATS, VIDEO_FIXTURES, FixtureInfo, fixture_path, source_facts, transcode

TALK = FixtureInfo("audio-only.m4a", "und")
LECTURE = next(f for f in VIDEO_FIXTURES if f.name == "landscape-720p.mp4")
SRT = fixture_path("lecture.en.srt")


def stream_inf_lines(master_text: str) -> list[tuple[str, str]]:
    """(attribute list, URI) of every EXT-X-STREAM-INF in master order."""
    lines = master_text.splitlines()
    return [(lines[i], lines[i + 1]) for i, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF:")]


def audio_facts(playlist: h.MediaPlaylist) -> dict:
    """ffprobe's view of a whole audio rendition: its stream and the summed packet durations."""
    with h.TempMedia(playlist.whole(), playlist.suffix) as p:
        info = h.ffprobe_json(p, "-show_streams", "-show_packets", "-select_streams", "a")
    streams = info.get("streams", [])
    assert len(streams) == 1, f"{playlist.uri}: expected one audio stream, got {streams}"
    packets = info.get("packets", [])
    size = sum(int(p["size"]) for p in packets)
    return {"stream": streams[0], "packets": len(packets), "bytes": size}


@pytest.fixture(scope="module", params=FORMATS)
def talk(request, tmp_path_factory):
    return transcode(tmp_path_factory, TALK, request.param, "--subtitles", f"en={SRT}", "--segment-duration", "2")


@pytest.fixture(scope="module", params=FORMATS)
def lecture_with_audio_variant(request, tmp_path_factory):
    return transcode(tmp_path_factory, LECTURE, request.param, "--audio-only-variant", "64k",
                     "--segment-duration", "2", "--preset", "superfast")


def test_audio_only_source_gives_an_audio_only_master(talk):
    talk.require_success()
    variants = stream_inf_lines(talk.hls.master_text)
    assert [uri for _, uri in variants] == ["audio/index.m3u8"], talk.hls.master_text
    attributes = variants[0][0]
    assert 'CODECS="mp4a.40.2"' in attributes
    for absent in ("RESOLUTION=", "VIDEO-RANGE=", "FRAME-RATE=", "AUDIO=", "CLOSED-CAPTIONS="):
        assert absent not in attributes, f"{absent} on an audio-only variant: {attributes}"
    assert 'SUBTITLES="subs"' in attributes
    assert "#EXT-X-I-FRAME-STREAM-INF" not in talk.hls.master_text
    assert not talk.hls.audio_renditions, "the variant is the audio: no alternate audio group"
    report = talk.report
    assert report["renditions"] == [] and report["decodedVideoFrames"] == 0
    assert report["audio"]["playlist"] == "audio/index.m3u8"


def test_audio_only_set_holds_the_whole_talk(talk):
    talk.require_success()
    source = source_facts(TALK.name)
    variant = talk.hls.variants[0]
    playlist = variant.playlist
    extinf = sum(s.duration for s in playlist.segments)
    aac_frame = 1024 / source.audio.sample_rate
    # within two AAC frames: the encoder's priming frame and a padded last frame
    assert abs(extinf - source.duration) <= 2 * aac_frame + 0.001, f"EXTINF sum {extinf} vs source {source.duration}"
    assert len(playlist.segments) == -(-int(source.duration * 1000) // 2000), [s.duration for s in playlist.segments]
    facts = audio_facts(playlist)
    stream = facts["stream"]
    assert stream["codec_name"] == "aac" and stream.get("profile") == "LC", stream
    assert int(stream["channels"]) == 2
    # ffprobe, reading the rendition as a player does, finds every source frame and the
    # source's span of time (first to last packet, plus one AAC frame).
    with h.TempMedia(playlist.whole(), playlist.suffix) as p:
        got = h.probe(p)
        times = h.packet_times(p, "a")
    assert got.video is None and got.audio is not None
    assert got.audio.frames >= source.audio.frames, f"{got.audio.frames} AAC frames for the source's {source.audio.frames}"
    frame = 1024 / int(stream["sample_rate"])
    span = times[-1] + frame - max(times[0], 10.0)
    assert abs(span - source.duration) < 0.05, f"output spans {span:.3f} s, the source {source.duration} s"
    declared = variant.bandwidth
    measured = facts["bytes"] * 8 / source.duration
    assert 0.9 * measured <= declared <= 1.6 * measured, f"BANDWIDTH {declared} for {measured:.0f} b/s of AAC"


def test_audio_only_subtitles_are_mapped_to_the_audio_timeline(talk):
    talk.require_success()
    subtitles = [m for m in talk.hls.media if m.type == "SUBTITLES"]
    assert len(subtitles) == 1 and subtitles[0].playlist is not None
    first = subtitles[0].playlist.segments[0]
    with open(first.path, encoding="utf-8") as f:
        text = f.read()
    assert "X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000" in text, text[:200]
    # The MPEGTS value is where the talk's first sample is presented: the audio's first
    # packet (ffprobe) is at 10 s, or up to one AAC frame of priming earlier in TS.
    playlist = talk.hls.variants[0].playlist
    with h.TempMedia(playlist.standalone(0), playlist.suffix) as p:
        times = h.packet_times(p, "a")
    assert 10 - 1024 / 44100 - 0.001 <= min(times) <= 10.001, min(times)


def test_gstreamer_plays_the_audio_only_set_to_the_end(talk):
    talk.require_success()
    master = os.path.abspath(os.path.join(talk.out, "master.m3u8"))
    res = subprocess.run(["gst-launch-1.0", "-q", "playbin", f"uri=file://{master}",
                          "audio-sink=fakesink sync=false", "video-sink=fakesink sync=false"],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert res.returncode == 0 and "ERROR" not in res.stdout + res.stderr, res.stdout + res.stderr


def test_audio_only_variant_is_listed_last_beside_the_video_ladder(lecture_with_audio_variant):
    case = lecture_with_audio_variant
    case.require_success()
    variants = stream_inf_lines(case.hls.master_text)
    uris = [uri for _, uri in variants]
    assert uris[-1] == "audio-64k/index.m3u8", uris
    attributes = variants[-1][0]
    assert 'CODECS="mp4a.40.2"' in attributes and "RESOLUTION=" not in attributes and "AUDIO=" not in attributes
    # the video variants keep their alternate audio group (the 128k rendition)
    for attrs, _ in variants[:-1]:
        assert 'AUDIO="audio"' in attrs and "RESOLUTION=" in attrs
    assert case.report["audioOnlyVariant"]["bitrate"] == 64000
    assert case.report["audioOnlyVariant"]["playlist"] == "audio-64k/index.m3u8"


def test_audio_only_variant_is_64k_aac_on_the_same_segments(lecture_with_audio_variant):
    case = lecture_with_audio_variant
    case.require_success()
    low = next(v for v in case.hls.variants if v.uri == "audio-64k/index.m3u8")
    main = case.audio_playlist
    assert main is not None
    # same segment count and boundaries as the main audio, so switching between them is seamless
    assert [round(s.duration, 3) for s in low.playlist.segments] == [round(s.duration, 3) for s in main.segments]
    duration = sum(s.duration for s in low.playlist.segments)
    low_facts, main_facts = audio_facts(low.playlist), audio_facts(main)
    assert low_facts["packets"] == main_facts["packets"], "both renditions hold the same audio frames"
    low_rate = low_facts["bytes"] * 8 / duration
    assert 40_000 <= low_rate <= 72_000, f"the 64k variant's AAC runs at {low_rate:.0f} b/s"
    assert low_rate < 0.7 * main_facts["bytes"] * 8 / duration
    # BANDWIDTH covers the file bytes (container included) but is no wild overestimate
    file_rate = sum(s.size for s in low.playlist.segments) * 8 / duration
    assert low.bandwidth >= 0.9 * file_rate and low.bandwidth <= 2.2 * low_rate, (low.bandwidth, file_rate, low_rate)
    assert low.bandwidth < min(v.bandwidth for v in case.hls.variants if v.resolution)



def check_apple_rules(tr) -> None:
    """Every rule of apple_rules.py (RFC 8216, Apple's authoring spec) on one set: the video rules
    skip the variants without video, the rest apply (test_apple_rules.py does the video fixtures)."""
    import apple_rules as ar
    from test_apple_rules import PENDING

    tr.require_success()
    ctx = ar.Context(os.path.join(tr.out, "master.m3u8"), source=fixture_path(tr.fixture.name), nominal_segment=2)
    results = ar.check_all(ctx)
    broken = {k: v for k, v in results.items() if v and k not in PENDING}
    assert not broken, f"{tr.id}: {broken}"
    pending = {k: v for k, v in results.items() if v and k in PENDING}
    if pending:
        pytest.xfail("; ".join(f"{k}: {PENDING[k]}" for k in pending))


def test_apple_rules_hold_for_the_audio_only_set(talk):
    check_apple_rules(talk)


def test_apple_rules_hold_with_an_audio_only_variant(lecture_with_audio_variant):
    check_apple_rules(lecture_with_audio_variant)
