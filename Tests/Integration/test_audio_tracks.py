"""Alternate and described audio renditions: every audio stream of the source and every
`--audio LANG=FILE` / `--audio-description LANG=FILE` becomes a rendition of the one audio group.

Sources are made here with ffmpeg (lavfi): a 6 s 320x180 video with three audio streams (English,
the default; French; an English description with disposition visual_impaired), a Spanish dub
2 s shorter than the video (.m4a) and a German description 3 s longer (.mp3). Every track is a
sine of its own frequency, so what each rendition holds can be told apart by its dominant
frequency; the default one beeps (0.5 s on, 0.5 s off), so it costs fewer AAC bytes than the
others and the variants' BANDWIDTH has to count the largest rendition, not the default one; the
English and Spanish tracks are quiet and the French one loud (`volume=`), so loudness
normalisation has work to do both ways. The set is made in both segment formats and checked
without trusting hlsify's report: the master's EXT-X-MEDIA lines, the language (and, in TS,
the description disposition) each stream carries (ffprobe), where each rendition starts and ends
against the video (ffprobe on the joined segments), what it sounds like (numpy on the decoded
audio), its loudness (ffmpeg's ebur128), the variants' BANDWIDTH, playback in GStreamer (the
master, then each audio playlist alone) and in headless Chromium (through `hlsify preview`,
which lists every rendition), and apple_rules.py. The report's `audioTracks` is compared with
all of that. A second, 4 s source checks the default taken from the disposition (not the first
stream), duplicate languages, a description in a language without its own wording, and
`--audio-only-variant` made from the default track. Bad input (a file without audio, a language
that is not BCP 47, a missing file, an audio-only source, `plan`) must exit with its code and one
line, leaving no output and an existing output as it was.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from dataclasses import dataclass

import numpy as np
import pytest

import apple_rules as ar
import hlscheck as h
from conftest import FORMATS, MATRIX_PRESET, FixtureInfo, Transcode, fixture_path, run_hlsify
from test_apple_rules import PENDING
from test_cli import EX_DATAERR, EX_NOINPUT, EX_USAGE, assert_one_line
from test_playback import HANG_TIMEOUT, play, pts_span
from test_preview import STATE_JS, Server
from test_preview import wait_for as wait_for_page
from test_preview_learner import start_chromium

SECONDS = 6            # the video
SEGMENT = 2            # --segment-duration: three segments
SAMPLES_PER_AAC_FRAME = 1024
TARGET_LUFS = -16      # the engine's default loudness
EPS = 1e-3             # playlists and ffprobe print times to the microsecond or millisecond


@dataclass(frozen=True)
class Track:
    """One audio rendition the main set must have, in master order."""
    folder: str
    language: str            # LANGUAGE (BCP 47)
    name: str                # NAME, in the track's own language
    default: bool
    describes: bool          # CHARACTERISTICS="public.accessibility.describes-video"
    iso639_2: str            # the language the stream itself carries
    frequency: int           # of its sine, Hz
    tone_end: float          # where its sound stops, seconds from the video's start
    source: str              # "stream N" or the file ("from" in the report)
    padded: bool = False     # the file ends early: silence from tone_end to the video's end
    autoselect: bool = True  # NO for a second track of the same language and kind

    @property
    def uri(self) -> str:
        return f"{self.folder}/index.m3u8"

    def media_line(self, channels: str = "2") -> str:
        characteristics = 'CHARACTERISTICS="public.accessibility.describes-video",' if self.describes else ""
        return (f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="{self.language}",NAME="{self.name}",'
                f'DEFAULT={"YES" if self.default else "NO"},AUTOSELECT={"YES" if self.autoselect else "NO"},{characteristics}'
                f'CHANNELS="{channels}",URI="{self.uri}"')


# ---------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------


def ffmpeg(*args: str) -> None:
    h.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], timeout=120)


def sine(freq: int, seconds: float, rate: int, gain_db: float = 0) -> str:
    return f"sine=frequency={freq}:sample_rate={rate}:duration={seconds},volume={gain_db}dB"


def video_with_audio(path: str, seconds: float, streams: list[tuple[str, str, str]]) -> None:
    """A 320x180 25 fps clip with one AAC stream per (lavfi audio, language, disposition)."""
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:duration={seconds}"]
    maps, tags = ["-map", "0:v"], []
    for i, (audio, language, disposition) in enumerate(streams):
        inputs += ["-f", "lavfi", "-i", audio]
        maps += ["-map", f"{i + 1}:a"]
        tags += [f"-metadata:s:a:{i}", f"language={language}", f"-disposition:a:{i}", disposition]
    ffmpeg(*inputs, *maps, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25",
           "-c:a", "aac", "-b:a", "128k", "-ac", "2", *tags, path)


@dataclass
class Media:
    folder: str
    source: str            # the 6 s video with three audio streams
    dub: str               # es, 4 s (.m4a)
    description: str       # de, 9 s (.mp3)
    tracks: list[Track]


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Media:
    folder = str(tmp_path_factory.mktemp("audio-tracks-src"))
    source = os.path.join(folder, "lecture.mp4")
    dub = os.path.join(folder, "dub.m4a")
    description = os.path.join(folder, "description.mp3")
    beeps = "aevalsrc=0.125*sin(2*PI*440*t)*lt(mod(t\\,1)\\,0.5):s=48000:d=%d,volume=-12dB" % SECONDS
    video_with_audio(source, SECONDS, [
        (beeps, "eng", "default"),                            # quiet, beeping: the cheapest rendition
        (sine(660, SECONDS, 48000, 18), "fra", "0"),          # loud: a sine near full scale
        (sine(880, SECONDS, 48000), "eng", "visual_impaired"),
    ])
    ffmpeg("-f", "lavfi", "-i", sine(1100, SECONDS - 2, 44100, -6), "-ac", "2", "-c:a", "aac", dub)
    ffmpeg("-f", "lavfi", "-i", sine(1320, SECONDS + 3, 44100, 6), "-ac", "2", "-c:a", "libmp3lame", description)
    indices = [s["index"] for s in h.ffprobe_json(source, "-show_streams")["streams"] if s["codec_type"] == "audio"]
    assert len(indices) == 3, indices
    tracks = [
        Track("audio", "en", "English", True, False, "eng", 440, SECONDS - 0.5, f"stream {indices[0]}"),
        Track("audio-fr", "fr", "Français", False, False, "fra", 660, SECONDS, f"stream {indices[1]}"),
        Track("audio-en-ad", "en", "English (audio description)", False, True, "eng", 880, SECONDS,
              f"stream {indices[2]}"),
        Track("audio-es", "es", "Español", False, False, "spa", 1100, SECONDS - 2, dub, padded=True),
        Track("audio-de-ad", "de", "Deutsch (Audiodeskription)", False, True, "deu", 1320, SECONDS, description),
    ]
    return Media(folder, source, dub, description, tracks)


def make_set(tmp_path_factory, source: str, fmt: str, *extra: str, name: str) -> Transcode:
    """One hlsify run into a fresh folder, wrapped as conftest's Transcode (for .report, .hls)."""
    parent = str(tmp_path_factory.mktemp(f"{name}-{fmt}"))
    out = os.path.join(parent, "out")
    res = run_hlsify(source, "--out", out, "--segment-format", fmt, "--segment-duration", str(SEGMENT),
                     "--preset", MATRIX_PRESET, "--json", "--quiet", *extra)
    return Transcode(FixtureInfo(os.path.basename(source), "und"), fmt, parent, out, res, tuple(extra))


@pytest.fixture(scope="module", params=FORMATS)
def alt(request, tmp_path_factory, media) -> Transcode:
    """The main set: three source streams, a dub and a description file."""
    tr = make_set(tmp_path_factory, media.source, request.param,
                  "--audio", f"es={media.dub}", "--audio-description", f"de={media.description}", name="alt")
    tr.require_success()
    return tr


# ---------------------------------------------------------------------------
# independent readings
# ---------------------------------------------------------------------------


def media_lines(master_text: str) -> list[str]:
    return [l for l in master_text.splitlines() if l.startswith("#EXT-X-MEDIA:")]


def stream_inf(master_text: str) -> list[tuple[dict, str]]:
    """(attributes, URI) of every EXT-X-STREAM-INF, in order."""
    return [(t.attrs, t.uri) for t in ar.master_tags(master_text) if t.name == "EXT-X-STREAM-INF"]


@functools.lru_cache(maxsize=None)
def timeline(playlist_path: str) -> ar.Timeline:
    return ar.probe_timeline(h.load_media_playlist(playlist_path))


@dataclass
class Decoded:
    """A rendition as a player hears it: the joined segments decoded to mono floats."""
    samples: np.ndarray
    rate: int
    first_pts: float       # presentation time of the first sample (the first packet's)

    @property
    def aac_frame(self) -> float:
        return SAMPLES_PER_AAC_FRAME / self.rate

    def at(self, seconds: float) -> int:
        """Sample index of a presentation time."""
        return int(round((seconds - self.first_pts) * self.rate))

    def time_of(self, index: int) -> float:
        return self.first_pts + index / self.rate

    def sounding(self) -> np.ndarray:
        """Indices of the samples above a tenth of the peak."""
        return np.nonzero(np.abs(self.samples) > 0.1 * np.abs(self.samples).max())[0]


@functools.lru_cache(maxsize=None)
def decoded(playlist_path: str) -> Decoded:
    pl = h.load_media_playlist(playlist_path)
    with h.TempMedia(pl.whole(), pl.suffix) as p:
        rate = int(h.ffprobe_json(p, "-select_streams", "a:0", "-show_streams")["streams"][0]["sample_rate"])
        first = h.packet_times(p, "a:0")[0]
        raw = h.run(["ffmpeg", "-v", "error", "-nostdin", "-i", p, "-map", "0:a:0", "-ac", "1",
                     "-f", "f32le", "-"]).stdout
    return Decoded(np.frombuffer(raw, dtype=np.float32), rate, first)


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


EBUR128_I = re.compile(r"I:\s+(-?[\d.]+|-inf) LUFS")
EBUR128_PEAK = re.compile(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS")


def ebur128(path: str, stream: str = "0:a:0") -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of one audio stream, by ffmpeg's ebur128 filter."""
    log = h.run(["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-i", path, "-map", stream,
                 "-af", "ebur128=peak=true", "-f", "null", "-"]).stderr.decode(errors="replace")
    summary = log[log.rindex("Summary:"):]
    return float(EBUR128_I.search(summary).group(1)), float(EBUR128_PEAK.search(summary).group(1))


def video_span(tr: Transcode) -> tuple[float, float]:
    """(first picture's time, end of the last picture) of the first video variant."""
    tl = timeline(tr.hls.variants[0].playlist.path)
    return min(p.pts for p in tl.packets["video"]), tl.end("video")


def rendition(tr: Transcode, uri: str) -> h.Rendition:
    found = [r for r in tr.hls.audio_renditions if r.uri == uri]
    assert len(found) == 1, f"{tr.id}: {uri} is listed {len(found)} times:\n{tr.hls.master_text}"
    return found[0]


# ---------------------------------------------------------------------------
# 1. the master, the streams, the report, the timeline, the bandwidth
# ---------------------------------------------------------------------------


def test_master_lists_every_rendition_default_first(alt, media):
    master = alt.hls.master_text
    assert media_lines(master) == [t.media_line() for t in media.tracks], master
    renditions = alt.hls.audio_renditions
    assert [r.default for r in renditions].count("YES") == 1, master
    names = [r.name for r in renditions]
    assert len(set(names)) == len(names), f"NAMEs repeat: {names}"
    assert {r.group_id for r in renditions} == {"audio"}
    for attrs, uri in stream_inf(master):
        assert attrs.get("AUDIO") == "audio", (uri, attrs)
        assert "mp4a.40.2" in ar.codec_list(attrs.get("CODECS")), (uri, attrs)
    for t in media.tracks:
        assert os.path.isfile(os.path.join(alt.out, t.uri)), f"{t.uri} missing: {h.list_tree(alt.out)}"


def test_each_stream_carries_its_iso_639_2_language(alt, media):
    """ffprobe on init + first segment: TAG:language is the ISO 639-2/T code; in TS, a description
    is marked visual_impaired (the PMT's ISO 639 descriptor, audio type 3) and nothing else is."""
    for t in media.tracks:
        pl = rendition(alt, t.uri).playlist
        with h.TempMedia(pl.standalone(0), pl.suffix) as p:
            streams = h.ffprobe_json(p, "-show_streams")["streams"]
        assert [s["codec_type"] for s in streams] == ["audio"], (t.uri, streams)
        s = streams[0]
        assert (s.get("tags") or {}).get("language") == t.iso639_2, (t.uri, s.get("tags"))
        assert (s["codec_name"], s.get("profile"), int(s["channels"])) == ("aac", "LC", 2), (t.uri, s)
        if alt.fmt == "ts":
            assert s["disposition"]["visual_impaired"] == int(t.describes), (t.uri, s["disposition"])


def test_report_lists_the_tracks_as_the_master_does(alt, media):
    report = alt.report
    tracks = report["audioTracks"]
    got = [(a["name"], a["language"], a["isDefault"], a["describesVideo"], a["playlist"], a["from"]) for a in tracks]
    want = [(t.name, t.language, t.default, t.describes, t.uri, t.source) for t in media.tracks]
    assert got == want, tracks
    assert report["audio"] == tracks[0], "`audio` is the default track"
    for a in tracks:
        pl = rendition(alt, a["playlist"]).playlist
        assert a["codec"] == "aac" and a["bitrate"] == 128_000, a
        assert a["segments"] == len(pl.segments), (a["playlist"], a["segments"], len(pl.segments))
        assert a["loudness"]["target"] == TARGET_LUFS, a
    # The dub is padded, the description cut, and nothing else is either.
    warnings = report["warnings"]
    lengths = [w for w in warnings if "padded" in w or "cut" in w]
    assert len(lengths) == 2, warnings
    assert any(media.dub in w and "padded" in w for w in lengths), warnings
    assert any(media.description in w and "cut" in w for w in lengths), warnings


def test_each_rendition_is_its_own_track_laid_on_the_video_timeline(alt, media):
    video = alt.hls.variants[0].playlist
    start, end = video_span(alt)
    assert abs((end - start) - SECONDS) < EPS, (start, end)
    for t in media.tracks:
        pl = rendition(alt, t.uri).playlist
        assert len(pl.segments) == len(video.segments), (t.uri, pl.durations, video.durations)
        tl = timeline(pl.path)
        a = decoded(pl.path)
        first, last = min(p.pts for p in tl.packets["audio"]), tl.end("audio")
        # Packets: the first (the encoder's priming frame) and the end within one AAC frame of the video's.
        assert abs(first - start) <= a.aac_frame + EPS, f"{t.uri} starts at {first}, the video at {start}"
        assert abs(last - end) <= a.aac_frame + EPS, f"{t.uri} ends at {last}, the video at {end}"
        # Sound: the right sine, from the video's first frame (a file from its own first sample)...
        chunk = a.samples[a.at(start + 1.05):a.at(start + 1.45)]
        freq = dominant_frequency(chunk, a.rate)
        assert abs(freq - t.frequency) <= 5, f"{t.uri} sounds at {freq:.0f} Hz, its track at {t.frequency} Hz"
        sounding = a.sounding()
        onset, stop = a.time_of(sounding[0]), a.time_of(sounding[-1])
        assert abs(onset - start) <= a.aac_frame, f"{t.uri}: sound from {onset:.4f}, the video from {start:.4f}"
        # ... to where the track stops: the dub's end (then silence), the video's end for the rest.
        assert abs(stop - (start + t.tone_end)) <= a.aac_frame, \
            f"{t.uri}: sound until {stop - start:.4f} s, expected {t.tone_end} s"
        if t.padded:
            rest = a.samples[a.at(start + t.tone_end + 0.05):a.at(end - 0.05)]
            assert len(rest) and float(np.sqrt(np.mean(rest ** 2))) < 1e-3, f"{t.uri}: the padding is not silent"


def test_variant_bandwidth_counts_the_largest_audio_rendition(alt, media):
    audio = {t.uri: rendition(alt, t.uri).playlist.bitrates() for t in media.tracks}
    largest = max(peak for peak, _ in audio.values())
    default_peak = audio[media.tracks[0].uri][0]
    # the fixture's premise: the beeping default rendition is not the largest
    assert largest > 1.1 * default_peak, audio
    for v in alt.hls.variants:
        video_peak, _ = v.playlist.bitrates()
        need = video_peak + largest
        assert v.bandwidth >= 0.99 * need, \
            f"{v.uri}: BANDWIDTH {v.bandwidth} < video {video_peak:.0f} + largest audio {largest:.0f} b/s"
        assert v.bandwidth <= 1.10 * need, f"{v.uri}: BANDWIDTH {v.bandwidth} far above {need:.0f} b/s"


# ---------------------------------------------------------------------------
# 2. loudness
# ---------------------------------------------------------------------------


def test_every_rendition_is_normalised(alt, media):
    # the premise: quiet and loud sources (measured on the source's streams and files)
    src = {t.uri: ebur128(media.source, f"0:a:{i}") for i, t in enumerate(media.tracks[:3])}
    src[media.tracks[3].uri] = ebur128(media.dub)
    src[media.tracks[4].uri] = ebur128(media.description)
    assert src["audio/index.m3u8"][0] < -28 and src["audio-fr/index.m3u8"][0] > -8, src
    report = {a["playlist"]: a["loudness"] for a in alt.report["audioTracks"]}
    for t in media.tracks:
        pl = rendition(alt, t.uri).playlist
        with h.TempMedia(pl.whole(), pl.suffix) as p:
            integrated, peak = ebur128(p)
        assert abs(integrated - TARGET_LUFS) <= 1, f"{t.uri}: {integrated} LUFS (source {src[t.uri][0]})"
        assert peak <= -1, f"{t.uri}: true peak {peak} dBTP (source {src[t.uri][1]})"
        out = report[t.uri]["output"]
        assert abs(out["integrated"] - integrated) <= 0.5, (t.uri, report[t.uri], integrated)


# ---------------------------------------------------------------------------
# 3. playback
# ---------------------------------------------------------------------------


def played(url: str, sinks: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Plays `url` with playbin3 to its end and checks that each named sink's buffers (first to
    last timestamp, from the base sinks' own records: see test_playback.play) span at least the
    given seconds. A play that hangs is tried once more. Spans, not times, are compared:
    hlsdemux2 shifts the timestamps of MPEG-TS."""
    for _ in range(2):
        code, log = play(url, HANG_TIMEOUT)
        if code is not None:
            break
    else:
        pytest.fail(f"{url}: playback hung twice")
    assert code == 0 and "Got EOS" in log and "ERROR" not in log, f"{url}: exit {code}\n{log[-3000:]}"
    spans = {sink: pts_span(log, sink) for sink in sinks}
    for (sink, span), want in zip(spans.items(), sinks.values()):
        assert span is not None and span[1] - span[0] >= want, f"{url}: {sink} spans {span}, expected at least {want:.3f} s"
    return spans


def test_gstreamer_plays_the_set_and_every_audio_rendition(alt, media, http_root):
    start, end = video_span(alt)
    frame = 1 / 25
    # The master: the first video variant's pictures and the default rendition, to the end.
    played(http_root(os.path.join(alt.out, "master.m3u8")),
           {"vsink": end - start - 2 * frame - 0.05, "asink": end - start - 0.25})
    # Selecting another rendition is not possible from gst-launch: each rendition's playlist alone.
    for t in media.tracks:
        pl = rendition(alt, t.uri).playlist
        frame = decoded(pl.path).aac_frame
        played(http_root(pl.path), {"asink": end - start - frame - 0.25})


TRACKS_JS = """
var v = document.getElementById('player'), out = [];
if (!v.audioTracks) { return null; }
for (var i = 0; i < v.audioTracks.length; i++) {
  var t = v.audioTracks[i]; out.push([t.label, t.language, t.enabled]);
}
return out;
"""


@pytest.mark.timeout(180)
def test_chromium_plays_the_set_and_lists_every_rendition(alt, media, tmp_path):
    """The preview page in headless Chromium (audioTracks on): one track per rendition, labelled
    with its NAME and LANGUAGE, the default enabled; the set plays to the end, with sound."""
    server = Server(alt.out, str(tmp_path / "preview.log"))
    driver = None
    try:
        driver = start_chromium(tmp_path, "--enable-blink-features=AudioVideoTracks")
        driver.get(server.url)
        want = [[t.name, t.language, t.default] for t in media.tracks]
        deadline = time.monotonic() + 30
        while (tracks := driver.execute_script(TRACKS_JS)) != want:
            assert time.monotonic() < deadline, f"audioTracks {tracks}, expected {want}"
            time.sleep(0.1)
        final = wait_for_page(driver, lambda s: s["ended"], 60, "the end of the set")
        assert final["time"] >= SECONDS - 0.1, final
        assert final["audioBytes"] > 0 and final["frames"] >= 0.8 * 25 * SECONDS, final
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == [], severe
        log = server.stderr()
        assert not re.search(r" (4\d\d|5\d\d) \d+$", log, re.M), log[-3000:]
    finally:
        if driver is not None:
            driver.quit()
        server.close()


# ---------------------------------------------------------------------------
# 4. Apple's rules
# ---------------------------------------------------------------------------


def test_apple_rules_hold_with_several_renditions(alt, media):
    ctx = ar.Context(os.path.join(alt.out, "master.m3u8"), source=media.source, nominal_segment=SEGMENT)
    assert len(ctx.audio_group("audio")) == len(media.tracks)
    results = ar.check_all(ctx)
    broken = {k: v for k, v in results.items() if v and k not in PENDING}
    assert not broken, broken
    pending = {k: v for k, v in results.items() if v and k in PENDING}
    if pending:
        pytest.xfail("; ".join(f"{k}: {PENDING[k]}" for k in pending))


# ---------------------------------------------------------------------------
# 5. bad input
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_inputs(media) -> dict[str, str]:
    folder = media.folder
    silent_video = os.path.join(folder, "silent.mp4")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10:duration=2", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", silent_video)
    talk = os.path.join(folder, "talk.m4a")
    ffmpeg("-f", "lavfi", "-i", sine(500, 3, 48000), "-ac", "2", "-c:a", "aac", talk)
    return {"silent": silent_video, "talk": talk, "missing": os.path.join(folder, "no-such-dub.m4a")}


# (source, options, exit code, words the one line must hold); {DUB}, {SILENT}, ... are filled in.
BAD_CASES = {
    "file-without-audio": ("{SRC}", ["--audio", "es={SILENT}"], EX_DATAERR,
                           ["{SILENT}", "rejected: no audio stream in this audio file"]),
    "description-without-audio": ("{SRC}", ["--audio-description", "es={SILENT}"], EX_DATAERR,
                                  ["{SILENT}", "no audio stream"]),
    "not-media": ("{SRC}", ["--audio", "es={NOTMEDIA}"], EX_DATAERR, ["{NOTMEDIA}"]),
    "language-not-bcp47": ("{SRC}", ["--audio", "english={DUB}"], EX_DATAERR, ["english"]),
    "description-language-not-bcp47": ("{SRC}", ["--audio-description", "deutsch={DUB}"], EX_DATAERR, ["deutsch"]),
    "missing-file": ("{SRC}", ["--audio", "es={MISSING}"], EX_NOINPUT, ["{MISSING}"]),
    "missing-description-file": ("{SRC}", ["--audio-description", "de={MISSING}"], EX_NOINPUT, ["{MISSING}"]),
    "audio-only-source": ("{TALK}", ["--audio", "es={DUB}"], EX_DATAERR, ["{TALK}"]),
}


@pytest.mark.parametrize("mode", ["fresh", "force-over-existing", "progressive-force-over-existing"])
@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_audio_input_exits_with_one_line_and_leaves_nothing(media, bad_inputs, tmp_path, case, mode):
    names = {"{SRC}": media.source, "{DUB}": media.dub, "{SILENT}": bad_inputs["silent"],
             "{TALK}": bad_inputs["talk"], "{MISSING}": bad_inputs["missing"],
             "{NOTMEDIA}": fixture_path("not-media.mp4")}

    def fill(text: str) -> str:
        for k, v in names.items():
            text = text.replace(k, v)
        return text

    source, options, code, words = BAD_CASES[case]
    parent = tmp_path / "work"
    parent.mkdir()
    out = parent / "out"
    extra = []
    if mode != "fresh":
        out.mkdir()
        (out / "keep.txt").write_text("earlier output")
        extra = ["--force"] + (["--progressive"] if mode.startswith("progressive") else [])
    res = run_hlsify(fill(source), "--out", str(out), "--segment-duration", str(SEGMENT), "--preset", "ultrafast",
                     "--json", "--quiet", *[fill(o) for o in options], *extra, timeout=120)
    assert_one_line(res, code)
    for word in words:
        assert fill(word) in res.stderr_lines[0], res.describe()
    if mode == "fresh":
        assert os.listdir(parent) == [], f"left behind: {os.listdir(parent)}"
    else:
        assert os.listdir(parent) == ["out"], f"left behind: {os.listdir(parent)}"
        assert os.listdir(out) == ["keep.txt"], f"the existing output was touched: {os.listdir(out)}"
        assert (out / "keep.txt").read_text() == "earlier output"


@pytest.mark.parametrize("option", ["--audio", "--audio-description"])
def test_split_transcodes_refuse_added_audio_with_64(media, tmp_path, option):
    work = tmp_path / "work"
    res = run_hlsify("plan", media.source, "--work", str(work), option, f"es={media.dub}", "--ladder", "180p")
    assert res.returncode == EX_USAGE, res.describe()
    assert res.stderr_lines and "--audio" in res.stderr_lines[0], res.describe()
    assert not work.exists(), f"plan left {h.list_tree(str(work))}"


@pytest.mark.parametrize("value", ["es", "=DUB", "es="])
def test_audio_without_lang_and_file_is_a_usage_error(media, tmp_path, value):
    res = run_hlsify(media.source, "--out", str(tmp_path / "out"), "--audio", value.replace("DUB", media.dub))
    assert res.returncode == EX_USAGE, res.describe()
    assert "--audio" in res.stderr, res.describe()
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------
# 6. the audio-only variant, the default from the disposition, names and folders
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=FORMATS)
def with_audio_only_variant(request, tmp_path_factory, media) -> tuple[Transcode, list[Track]]:
    """4 s, Italian first and French second with the default disposition (so the default is not
    the first stream; `fre` is the ISO 639-2/B code), two Spanish dubs (names and folders made
    unique), a Greek description (no Greek wording: the English one) and a 64k audio-only variant."""
    folder = str(tmp_path_factory.mktemp(f"aov-src-{request.param}"))
    source = os.path.join(folder, "seminar.mp4")
    video_with_audio(source, 4, [(sine(500, 4, 48000), "ita", "0"), (sine(700, 4, 48000), "fre", "default")])
    files = {}
    for name, freq in (("dub-a.m4a", 900), ("dub-b.m4a", 1000), ("ad.m4a", 1200)):
        files[name] = os.path.join(folder, name)
        ffmpeg("-f", "lavfi", "-i", sine(freq, 4, 48000), "-ac", "2", "-c:a", "aac", files[name])
    tr = make_set(tmp_path_factory, source, request.param, "--audio-only-variant", "64k", "--ladder", "180p",
                  "--audio", f"es={files['dub-a.m4a']}", "--audio", f"es={files['dub-b.m4a']}",
                  "--audio-description", f"el={files['ad.m4a']}", name="aov")
    tr.require_success()
    tracks = [
        Track("audio", "fr", "Français", True, False, "fra", 700, 4, "stream 2"),
        Track("audio-it", "it", "Italiano", False, False, "ita", 500, 4, "stream 1"),
        Track("audio-es", "es", "Español", False, False, "spa", 900, 4, files["dub-a.m4a"]),
        Track("audio-es-2", "es", "Español 2", False, False, "spa", 1000, 4, files["dub-b.m4a"], autoselect=False),
        Track("audio-el-ad", "el", "Ελληνικά (audio description)", False, True, "ell", 1200, 4, files["ad.m4a"]),
    ]
    return tr, tracks


def test_default_duplicates_and_description_names(with_audio_only_variant):
    tr, tracks = with_audio_only_variant
    assert media_lines(tr.hls.master_text) == [t.media_line() for t in tracks], tr.hls.master_text
    report = [(a["name"], a["from"], a["isDefault"]) for a in tr.report["audioTracks"]]
    assert report == [(t.name, t.source, t.default) for t in tracks], tr.report["audioTracks"]
    for t in tracks:
        a = decoded(rendition(tr, t.uri).playlist.path)
        freq = dominant_frequency(a.samples[a.rate:2 * a.rate], a.rate)
        assert abs(freq - t.frequency) <= 5, f"{t.uri} sounds at {freq:.0f} Hz, its track at {t.frequency} Hz"


def test_audio_only_variant_is_made_from_the_default_track(with_audio_only_variant):
    tr, tracks = with_audio_only_variant
    variants = stream_inf(tr.hls.master_text)
    attrs, uri = variants[-1]
    assert uri == "audio-64k/index.m3u8", variants
    assert ar.codec_list(attrs.get("CODECS")) == ["mp4a.40.2"] and "RESOLUTION" not in attrs, attrs
    for other, _ in variants[:-1]:
        assert other.get("AUDIO") == "audio" and "RESOLUTION" in other, other
    report = tr.report["audioOnlyVariant"]
    assert report["playlist"] == "audio-64k/index.m3u8" and report["bitrate"] == 64_000, report
    default = rendition(tr, tracks[0].uri).playlist
    low = next(v for v in tr.hls.variants if v.uri == uri).playlist
    assert len(low.segments) == len(default.segments), (low.durations, default.durations)
    a = decoded(low.path)
    freq = dominant_frequency(a.samples[a.rate:2 * a.rate], a.rate)
    assert abs(freq - tracks[0].frequency) <= 5, \
        f"the audio-only variant sounds at {freq:.0f} Hz, the default track ({tracks[0].name}) at {tracks[0].frequency} Hz"
    with h.TempMedia(low.standalone(0), low.suffix) as p:
        stream = h.ffprobe_json(p, "-show_streams")["streams"][0]
    assert (stream.get("tags") or {}).get("language") == tracks[0].iso639_2, stream.get("tags")
    duration = sum(low.durations)
    rate = sum(s.size for s in low.segments) * 8 / duration
    assert rate < 100_000, f"the 64k variant's files run at {rate:.0f} b/s"


def test_an_added_file_joined_from_two_recordings_plays_on_without_a_hole(media, tmp_path):
    """A dub made of two MPEG-TS recordings joined byte for byte (the second's clock starts again
    at the first's): the jump back is closed up as in the source's own streams, so the second
    recording follows the first (660 Hz, then 1100 Hz from 3 s) with no silence between."""
    parts = []
    for k, tone in enumerate((660, 1100)):
        part = str(tmp_path / f"dub{k}.ts")
        ffmpeg("-f", "lavfi", "-i", sine(tone, 3, 48000), "-ac", "2", "-c:a", "aac", part)
        parts.append(part)
    dub = str(tmp_path / "joined-dub.ts")
    with open(dub, "wb") as joined:
        for part in parts:
            with open(part, "rb") as f:
                joined.write(f.read())
    out = str(tmp_path / "out")
    res = run_hlsify(media.source, "--out", out, "--segment-duration", str(SEGMENT), "--preset", MATRIX_PRESET,
                     "--json", "--quiet", "--ladder", "180p", "--audio", f"es={dub}")
    assert res.returncode == 0, res.describe()
    a = decoded(os.path.join(out, "audio-es", "index.m3u8"))
    window = int(0.05 * a.rate)
    for t, tone in ((1.0, 660), (2.8, 660), (3.2, 1100), (5.5, 1100)):
        i = a.at(a.first_pts + t)
        assert abs(dominant_frequency(a.samples[i:i + window], a.rate) - tone) < 30, f"at {t} s"
    sounding = np.abs(a.samples[a.at(a.first_pts + 0.2):a.at(a.first_pts + 5.8)])
    quiet = [k for k in range(0, len(sounding) - window, window) if sounding[k:k + window].max() < 0.05]
    assert not quiet, f"silent stretches at {[round(0.2 + k / a.rate, 2) for k in quiet[:5]]} s"


def test_a_jump_in_an_added_files_timestamps_becomes_silence_not_a_long_segment(media, tmp_path):
    """A dub whose timestamps jump 3000 s ahead after 2 s: the audio is laid on the video only as
    the video reaches it, so the jump is silence to the video's end (the file is cut there, with
    a warning), every audio segment stays within the target duration and the set keeps the
    video's segment count."""
    jump = str(tmp_path / "jump.mkv")
    ffmpeg("-f", "lavfi", "-i", sine(1100, 4, 48000), "-af", "asetpts='if(gte(T,2),PTS+3000/TB,PTS)'", "-ac", "2",
           "-c:a", "aac", jump)
    assert float(h.ffprobe_json(jump, "-show_format")["format"]["duration"]) > 3000, "the fixture has no jump"
    out = str(tmp_path / "out")
    res = run_hlsify(media.source, "--out", out, "--segment-format", "ts", "--segment-duration", str(SEGMENT),
                     "--preset", MATRIX_PRESET, "--json", "--quiet", "--ladder", "180p", "--audio", f"es={jump}")
    assert res.returncode == 0, res.describe()
    video = h.load_media_playlist(os.path.join(out, "180p", "index.m3u8"))
    dub = h.load_media_playlist(os.path.join(out, "audio-es", "index.m3u8"))
    assert len(dub.segments) == len(video.segments), (dub.durations, video.durations)
    assert max(dub.durations) <= SEGMENT + 0.1, dub.durations
    assert abs(sum(dub.durations) - sum(video.durations)) < 0.1, (dub.durations, video.durations)
    a = decoded(dub.path)
    assert abs(dominant_frequency(a.samples[:a.rate], a.rate) - 1100) <= 5, "the dub's first second is not its tone"
    assert float(np.abs(a.samples[3 * a.rate:]).max()) < 1e-3, "after the jump the dub must be silent"
    warnings = json.loads(res.stdout)["warnings"]
    assert any("cut" in w and "jump.mkv" in w for w in warnings), warnings
