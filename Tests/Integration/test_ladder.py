"""Issue 16, "Low-bandwidth regions" (README "Low-bandwidth students"): capped constant quality
(`--rate-control capped-crf`, `--crf N`), `--ladder auto`, redundant rungs dropped by their
measured bytes, and `--measure-quality`; the same as job fields of the worker. Capped CRF and
the auto ladder are the defaults (test_output.py and test_apple_rules.py check them on every
fixture); most sets here name them explicitly.

What is checked, with independent readers as everywhere in this suite (the m3u8 parser, ffprobe,
ffmpeg's ssim/psnr filters, x264's own settings SEI read from the first access unit):

- capped-crf sets (five fixtures, both formats) pass every check test_output.py and
  test_apple_rules.py make of a matrix run (their functions, called on these runs); each rung
  says rateControl capped-crf and a crf, and x264 ran with that CRF under the rung's maxrate and
  bufsize; no segment's bit rate exceeds what that VBV lets through; BANDWIDTH covers the peak;
- `--ladder auto` on every video fixture: the contract's rungs (conftest.expected_auto_rungs),
  never larger than the source, two video bit rates or more, Apple's 9.9 rule passing;
- a still title slide (made here) loses the rungs the 90% rule names, checked against the bytes
  the report gives and against the files of a `--keep-redundant-rungs` run of the same source,
  with `--ladder 1080p,720p,480p` (every rung above the smallest is redundant: the largest stays,
  a set never has fewer than two video bit rates) and with the default ladder (auto: three of its
  five rungs are dropped); a text page just under 90% keeps them all; `--keep-redundant-rungs`
  and `--progressive` keep them and say why;
- `--measure-quality`'s SSIM and PSNR against ffmpeg's filters on the written renditions;
- bad values are usage errors (exit 64) that leave nothing behind;
- the worker (at the end; needs the private broker, like test_worker.py): the job fields, its
  ladder and rate control defaults (HLSIFY_LADDER, HLSIFY_RATE_CONTROL, and without them auto and
  capped-crf), and invalid values rejected as invalid-job.

Most sets are made once per module (module-scoped fixtures, cached by what they run) and read
by many tests; clips are the 5 s fixtures, the still slide 12 s.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Callable, Optional

import pytest

import apple_rules as ar
import hlscheck as h
import test_apple_rules as apple_checks
import test_output as output_checks
import test_worker as tw
from conftest import (FIXED_LADDER, FORMATS, MATRIX_PRESET, SEGMENT_DURATION, VIDEO_FIXTURES, FixtureInfo, Transcode,
                      expected_auto_rungs, expected_rungs, fixture_path, run_hlsify)

EX_USAGE = 64


def fixture_named(name: str) -> FixtureInfo:
    return next(f for f in VIDEO_FIXTURES if f.name == name)


# ---------------------------------------------------------------------------
# runs: every set this module reads, made once
# ---------------------------------------------------------------------------


@dataclass
class Run(Transcode):
    """A transcode with the rendition short sides it must have (for test_output's ladder check,
    which otherwise assumes the default ladder), and those its ladder plans before redundant rungs
    are dropped (`planned`; the same unless said otherwise)."""
    rungs: Optional[Callable[["Run"], list[int]]] = None
    planned: Optional[Callable[["Run"], list[int]]] = None

    @property
    def id(self) -> str:
        return f"{os.path.basename(self.fixture.name)}[{self.fmt}]"


_runs: dict[tuple, Run] = {}


def hlsify_set(tmp_path_factory, fixture: FixtureInfo, fmt: str, *extra: str,
               rungs: Callable[[Run], list[int]], planned: Optional[Callable[[Run], list[int]]] = None) -> Run:
    """`hlsify SOURCE --out PARENT/out --json --quiet` with the matrix's segment duration and preset
    plus `extra`, as conftest.transcode runs it but also for a source made here (named by its
    absolute path); run once per module whatever asks for it: the fixtures below share the runs."""
    key = (fixture.name, fmt, extra)
    if key not in _runs:
        parent = str(tmp_path_factory.mktemp(f"{os.path.splitext(os.path.basename(fixture.name))[0]}-{fmt}"))
        out = os.path.join(parent, "out")
        options = ("--segment-duration", str(SEGMENT_DURATION), "--preset", MATRIX_PRESET, *extra)
        res = run_hlsify(fixture_path(fixture.name), "--out", out, "--segment-format", fmt, "--json", "--quiet", *options)
        _runs[key] = Run(fixture, fmt, parent, out, res, options, rungs=rungs, planned=planned or rungs)
    return _runs[key]


def default_rungs(t: Run) -> list[int]:
    """The default ladder's rungs (auto since issue 16: conftest.expected_rungs without a ladder)."""
    return expected_rungs(*t.source.video.display_size)


def auto_rungs(t: Run) -> list[int]:
    return expected_auto_rungs(*t.source.video.display_size)


def fixed_rungs(t: Run) -> list[int]:
    """`--ladder 1080p,720p,480p` (the default ladder before issue 16)."""
    return expected_rungs(*t.source.video.display_size, ladder=FIXED_LADDER)


def but_dropped(planned: Callable[[Run], list[int]]) -> Callable[[Run], list[int]]:
    """The planned rungs less those the report says were dropped as redundant (whether they should
    have been is test_redundant_rungs_*'s business; those kept so that two video bit rates stay,
    listed with dropped false, are not taken out)."""
    def kept(t: Run) -> list[int]:
        dropped = {r["name"] for r in t.report["redundantRungs"] if r["dropped"]}
        return [r for r in planned(t) if f"{r}p" not in dropped]
    return kept


# Capped CRF: the issue's fixtures (16:9 1080p, 4:3, rotation metadata, below every rung, VFR).
CRF_FIXTURES = [fixture_named(n) for n in
                ("landscape-1080p.mp4", "4x3-480p.mp4", "portrait-rotated.mp4", "small-320x180.mp4", "vfr.mp4")]
CRF_MATRIX = [(f, fmt) for f in CRF_FIXTURES for fmt in FORMATS]
CAPPED_CRF = ("--rate-control", "capped-crf")

# `--ladder auto`: every video fixture in fMP4, and in TS the one that gets the added rung.
AUTO_MATRIX = [(f, "fmp4") for f in VIDEO_FIXTURES] + [(fixture_named("small-320x180.mp4"), "ts")]
AUTO = ("--ladder", "auto")


def set_id(fixture: FixtureInfo, fmt: str) -> str:
    return f"{os.path.splitext(fixture.name)[0]}-{fmt}"


@pytest.fixture(scope="module", params=CRF_MATRIX, ids=[set_id(*p) for p in CRF_MATRIX])
def crf_case(request, tmp_path_factory) -> Run:
    """A capped-crf set with the default ladder and each rung's default CRF."""
    return hlsify_set(tmp_path_factory, *request.param, *CAPPED_CRF, rungs=default_rungs)


@pytest.fixture(scope="module", params=AUTO_MATRIX, ids=[set_id(*p) for p in AUTO_MATRIX])
def auto_case(request, tmp_path_factory) -> Run:
    """An `--ladder auto` set with the default rate control."""
    return hlsify_set(tmp_path_factory, *request.param, *AUTO, rungs=auto_rungs)


# ---------------------------------------------------------------------------
# made sources: still slides (a lecture's title page, a blank page between sections)
# ---------------------------------------------------------------------------

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
STILL_SECONDS = 12
STILL_SLIDES = {  # 1920x1080 at 30 fps (and a 330 Hz tone)
    # One line of black text on white.
    "title-slide": f"color=c=white:s=1920x1080:r=30:d={STILL_SECONDS},"
                   f"drawtext=fontfile={FONT}:text='Lecture 3':fontsize=96:x=(w-tw)/2:y=(h-th)/2:fontcolor=black",
    # A heading and two bullet lines.
    "text-page": f"color=c=white:s=1920x1080:r=30:d={STILL_SECONDS},"
                 f"drawtext=fontfile={FONT}:text='Lecture 3 - Rate control':fontsize=72:x=120:y=120:fontcolor=black,"
                 f"drawtext=fontfile={FONT}:text='- constant quality under a cap':fontsize=48:x=160:y=320:fontcolor=black,"
                 f"drawtext=fontfile={FONT}:text='- redundant rungs are dropped':fontsize=48:x=160:y=420:fontcolor=black",
    # A plain dark blue page.
    "blank-slide": f"color=c=0x203040:s=1920x1080:r=30:d={STILL_SECONDS}",
}


@pytest.fixture(scope="module")
def still_sources(tmp_path_factory) -> dict[str, FixtureInfo]:
    assert os.path.isfile(FONT), f"{FONT} is missing (Debian's fonts-dejavu-core)"
    folder = tmp_path_factory.mktemp("still-sources")
    out = {}
    for name, video in STILL_SLIDES.items():
        path = str(folder / f"{name}.mp4")
        h.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", video,
               "-f", "lavfi", "-i", f"sine=frequency=330:duration={STILL_SECONDS}", "-shortest",
               "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "aac", path])
        out[name] = FixtureInfo(path, "und")  # fixture_path() of an absolute path is that path
    return out


# One x264 thread per rung: x264 with frame threads under a VBV does not give the same bytes twice
# (seen with the ffmpeg command line too), and the redundant-rung tests compare the bytes of two
# runs of the title slide.
ONE_THREAD = ("--encoder-threads", "1")


# The ladders the slides are made with: `--ladder 1080p,720p,480p` (the default before issue 16:
# the slides' redundant rungs were measured on it, and there the title slide's every rung above
# the smallest is redundant, so the rule that keeps two video bit rates acts), and the default
# ladder (auto; there two rungs of the title slide are left without it).
SLIDE_LADDERS = {"fixed": (("--ladder", "1080p,720p,480p"), fixed_rungs), "default": ((), default_rungs)}


def slide_run(tmp_path_factory, still_sources, slide: str, ladder: str = "fixed", *extra: str) -> Run:
    """A still slide at capped CRF in MPEG-TS (where stills have redundant rungs: see
    test_the_title_slide_has_redundant_rungs) with one of SLIDE_LADDERS."""
    options, planned = SLIDE_LADDERS[ladder]
    return hlsify_set(tmp_path_factory, still_sources[slide], "ts", *CAPPED_CRF, *ONE_THREAD, *options, *extra,
                      rungs=but_dropped(planned), planned=planned)


# ---------------------------------------------------------------------------
# the full validation of an ordinary run (test_output.py, test_apple_rules.py) on these sets
# ---------------------------------------------------------------------------


def check_ladder(case: Run) -> None:
    """test_output.test_ladder_has_the_expected_rungs with the run's own expected rungs."""
    want = case.rungs(case)
    got = sorted((min(v.resolution) for v in case.hls.variants), reverse=True)
    assert got == sorted(want, reverse=True), \
        f"rendition short sides {got}, expected {want} for a {case.source.video.display_size} source ({case.extra_args})"
    assert len(case.report["renditions"]) == len(case.hls.variants)


OUTPUT_CHECKS = {name: (fn, kwargs) for name, fn, kwargs in output_checks.spelled_out(check_ladder)}

# The sets the full validation runs on: every capped-crf set; the auto sets whose added rungs have
# shapes the capped-crf sets lack (the 120p rung, 4:3, non-square pixels, portrait; the other
# fixtures' 360p and 240p are 16:9 like these); the title slide with its redundant rungs dropped,
# with both SLIDE_LADDERS (`fixed`: 1080p kept beside 480p for the two video bit rates).
AUTO_VALIDATED = [p for p in AUTO_MATRIX
                  if p[0].name in ("small-320x180.mp4", "4x3-480p.mp4", "anamorphic-576p.mp4", "portrait-720x1280.mp4")]
VALIDATED = [("crf",) + p for p in CRF_MATRIX] + [("auto",) + p for p in AUTO_VALIDATED] \
    + [("still", ladder, "ts") for ladder in SLIDE_LADDERS]


def validated_id(kind: str, f, fmt: str) -> str:
    return f"{kind}-" + (set_id(f, fmt) if kind != "still" else f"title-slide-{f}-{fmt}")


@pytest.fixture(scope="module", params=VALIDATED, ids=[validated_id(*p) for p in VALIDATED])
def validated(request, tmp_path_factory) -> Run:
    kind, fixture, fmt = request.param
    if kind == "crf":
        return hlsify_set(tmp_path_factory, fixture, fmt, *CAPPED_CRF, rungs=default_rungs)
    if kind == "auto":
        return hlsify_set(tmp_path_factory, fixture, fmt, *AUTO, rungs=auto_rungs)
    return slide_run(tmp_path_factory, request.getfixturevalue("still_sources"), "title-slide", fixture)


@pytest.mark.parametrize("check", list(OUTPUT_CHECKS))
def test_output_checks_hold(validated, check):
    """Every check test_output.py makes of a matrix run (`check` names it)."""
    validated.require_success()
    validated.probe_in_parallel(2)
    fn, kwargs = OUTPUT_CHECKS[check]
    fn(validated, **kwargs)


@pytest.mark.parametrize("rule", [r.id for r in ar.RULES])
def test_apple_rules_hold(validated, rule):
    """Every rule of apple_rules.py, as test_apple_rules.py applies it (rules in its PENDING are
    expected failures; Apple 9.9, several video bit rates, is not among them any more: every ladder
    here plans two rungs or more, and redundant rungs dropped never leave fewer than two)."""
    validated.require_success()
    validated.probe_in_parallel(2)
    assert len(validated.planned(validated)) >= 2, f"{validated.id}: plans {validated.planned(validated)}"
    if rule == "multiple_video_bitrates":  # as test_apple_rule, saying what was found redundant
        findings = ar.run_rule(ar.RULES_BY_ID[rule], apple_checks.rules_context(validated))
        assert not findings, f"{validated.id} {' '.join(validated.extra_args)} breaks {rule}:\n  " + "\n  ".join(findings) \
            + f"\n  redundantRungs: {validated.report['redundantRungs']}"
        return
    apple_checks.test_apple_rule(validated, rule)


# ---------------------------------------------------------------------------
# capped CRF: what x264 ran, the VBV ceiling, BANDWIDTH
# ---------------------------------------------------------------------------

_X264_OPTIONS = re.compile(rb"x264 - core \d+[ -~]*? - options: ([ -~]+)")


def x264_options(pl: h.MediaPlaylist) -> dict[str, str]:
    """The settings x264 wrote into the SEI of the rendition's first access unit (read with
    ffmpeg from init + first segment), as {name: value}: rc=crf crf=20.0 vbv_maxrate=1540 ..."""
    with h.TempMedia(pl.standalone(0), pl.suffix) as p:
        au = h.first_access_unit(p)
    m = _X264_OPTIONS.search(au)
    assert m, f"{pl.uri}: no x264 settings SEI in the first access unit"
    return dict(kv.split("=", 1) for kv in m.group(1).decode().split() if "=" in kv)


def report_rendition(t: Transcode, v: h.Variant) -> dict:
    rr = [r for r in t.report["renditions"] if (r["width"], r["height"]) == v.resolution]
    assert len(rr) == 1, f"{t.id}: {len(rr)} report renditions of size {v.resolution}"
    return rr[0]


def assert_x264_ran(pl: h.MediaPlaylist, encoder: dict) -> dict[str, str]:
    """x264's own settings agree with the report's encoder: the rate control mode, the CRF, and
    the VBV ceiling (x264 prints kbit/s)."""
    opts = x264_options(pl)
    where = f"{pl.uri}: x264 options {opts.get('rc')=} {opts.get('crf')=} {opts.get('bitrate')=} " \
            f"{opts.get('vbv_maxrate')=} {opts.get('vbv_bufsize')=}, report {encoder}"
    if encoder["rateControl"] == "capped-crf":
        assert opts.get("rc") == "crf", where
        assert float(opts["crf"]) == pytest.approx(float(encoder["crf"]), abs=1e-6), where
    else:
        assert opts.get("rc") == "abr", where
        assert int(opts["bitrate"]) == encoder["bitrate"] // 1000, where
    assert int(opts["vbv_maxrate"]) == encoder["maxrate"] // 1000, where
    assert int(opts["vbv_bufsize"]) == encoder["bufsize"] // 1000, where
    return opts


def test_every_rung_is_capped_crf_as_x264_ran_it(crf_case):
    """Each rung says rateControl capped-crf and a CRF x264 accepts; its cap is the ABR rung's
    (maxrate 1.1 x and bufsize 2 x the nominal bitrate); x264 ran exactly that; no quality
    without --measure-quality."""
    for v in crf_case.hls.variants:
        enc = report_rendition(crf_case, v)["encoder"]
        where = f"{crf_case.id} {v.uri}: encoder {enc}"
        assert enc.get("rateControl") == "capped-crf", where
        assert isinstance(enc.get("crf"), (int, float)) and 1 <= enc["crf"] <= 51, where
        assert abs(enc["maxrate"] - 1.1 * enc["bitrate"]) <= 1, where
        assert enc["bufsize"] == 2 * enc["bitrate"], where
        assert_x264_ran(v.playlist, enc)
    for rr in crf_case.report["renditions"]:
        assert "quality" not in rr, f"{crf_case.id} {rr['name']}: quality {rr['quality']} without --measure-quality"


# Largest peak/maxrate seen, per set: printed (pytest -s) for the issue's record.
PEAK_RATIOS: dict[str, float] = {}


def segment_video_bytes(pl: h.MediaPlaylist, i: int) -> int:
    """The H.264 bytes of segment i: the sizes of its video packets as ffprobe reads them from the
    segment alone (init + segment), without the container around them (TS packet headers, PES
    headers, adaptation fields and padding; moof/mdat boxes)."""
    with h.TempMedia(pl.standalone(i), pl.suffix) as p:
        return sum(pk["size"] for pk in h.video_packets(p))


def test_segment_bit_rates_stay_within_the_vbv_ceiling(crf_case):
    """No video segment carries more than the VBV lets through: over d seconds at most
    maxrate x d plus a full buffer, so bytes x 8 / EXTINF <= maxrate + bufsize / TARGETDURATION
    for a segment of the target's length (a shorter last segment: bufsize over its own EXTINF).
    The VBV bounds what x264 writes, the H.264 bytes of each segment (read with ffprobe from the
    segment's own file), capped by the report's settings, which
    test_every_rung_is_capped_crf_as_x264_ran_it holds to x264's. The container comes on top (in
    MPEG-TS at 180p about 17% of the segment: 478 kb/s of file for 406 kb/s of H.264 under a
    472 kb/s ceiling); test_bandwidth_covers_the_measured_peak holds the files to BANDWIDTH."""
    ratios = []
    for v in crf_case.hls.variants:
        enc = report_rendition(crf_case, v)["encoder"]
        pl = v.playlist
        target = pl.target_duration
        video = [segment_video_bytes(pl, i) for i in range(len(pl.segments))]
        rates = [b * 8 / s.duration for s, b in zip(pl.segments, video)]
        for i, (s, rate) in enumerate(zip(pl.segments, rates)):
            assert 0 < video[i] <= s.size, f"{crf_case.id} {v.uri} segment {i}: {video[i]} H.264 bytes in a {s.size}-byte segment"
            allowed = enc["maxrate"] + enc["bufsize"] / min(s.duration, target)
            assert rate <= allowed, \
                f"{crf_case.id} {v.uri} segment {i}: {rate / 1000:.0f} kb/s of H.264 ({s.size * 8 / s.duration / 1000:.0f} " \
                f"kb/s of file) over {s.duration:.3f} s, the VBV (maxrate {enc['maxrate']}, bufsize {enc['bufsize']}, " \
                f"target {target} s) allows {allowed / 1000:.0f} kb/s"
        peak = max(rates)
        ratios.append((v.uri, peak / enc["maxrate"], peak / (enc["maxrate"] + enc["bufsize"] / target)))
    PEAK_RATIOS[crf_case.id] = max(r for _, r, _ in ratios)
    print(f"\n{crf_case.id}: peak segment / maxrate " + ", ".join(f"{u} {a:.3f} (of the ceiling {b:.3f})" for u, a, b in ratios)
          + f"; largest so far {max(PEAK_RATIOS.values()):.3f} ({max(PEAK_RATIOS, key=PEAK_RATIOS.get)})")


def test_bandwidth_covers_the_measured_peak(crf_case):
    """BANDWIDTH is at least the variant's peak (video + audio) as hlscheck measures it (RFC 8216
    windows, either reading of their edges): a player choosing by BANDWIDTH is never short."""
    audio = crf_case.audio_playlist
    for v in crf_case.hls.variants:
        peaks = {m: h.variant_bandwidths(v, audio, m)[0] for m in ("inclusive", "exclusive")}
        assert v.bandwidth >= max(peaks.values()) * (1 - 1e-6), \
            f"{crf_case.id} {v.uri}: BANDWIDTH {v.bandwidth}, measured peaks {({k: round(p) for k, p in peaks.items()})}"


RATE_CONTROL_RUNS = {  # extra options -> (rateControl, crf) every rung must report
    "abr": (("--rate-control", "abr"), ("abr", None)),
    "crf-30": (("--crf", "30"), ("capped-crf", 30)),
    "capped-crf-17.5": (("--rate-control", "capped-crf", "--crf", "17.5"), ("capped-crf", 17.5)),
}


@pytest.fixture(scope="module")
def rate_control_runs(tmp_path_factory) -> dict[str, Run]:
    small = fixture_named("small-320x180.mp4")
    return {name: hlsify_set(tmp_path_factory, small, "fmp4", *AUTO, *extra, rungs=auto_rungs)
            for name, (extra, _) in RATE_CONTROL_RUNS.items()}


@pytest.mark.parametrize("name", list(RATE_CONTROL_RUNS))
def test_rate_control_and_crf_options(rate_control_runs, name):
    """`--rate-control abr` reports abr and no crf; `--crf N` (also a fraction) sets N on every rung
    and implies capped-crf; x264 ran what each says; the VBV ceiling is the same in every mode."""
    t = rate_control_runs[name]
    want_mode, want_crf = RATE_CONTROL_RUNS[name][1]
    assert len(t.hls.variants) == 2, f"{t.id} {t.extra_args}: {[v.uri for v in t.hls.variants]}"
    ceilings = {}
    for v in t.hls.variants:
        enc = report_rendition(t, v)["encoder"]
        assert enc.get("rateControl") == want_mode, f"{t.id} {t.extra_args} {v.uri}: {enc}"
        if want_crf is None:
            assert "crf" not in enc, f"{t.id} {t.extra_args} {v.uri}: crf with abr: {enc}"
        else:
            assert enc.get("crf") == want_crf, f"{t.id} {t.extra_args} {v.uri}: {enc}"
        assert_x264_ran(v.playlist, enc)
        ceilings[v.resolution] = (enc["bitrate"], enc["maxrate"], enc["bufsize"])
    reference = {v.resolution: (e["bitrate"], e["maxrate"], e["bufsize"])
                 for v in rate_control_runs["abr"].hls.variants
                 for e in [report_rendition(rate_control_runs["abr"], v)["encoder"]]}
    assert ceilings == reference, f"{t.extra_args}: bitrate/maxrate/bufsize {ceilings}, abr has {reference}"


# ---------------------------------------------------------------------------
# --ladder auto
# ---------------------------------------------------------------------------


def test_auto_ladder_has_the_contract_rungs(auto_case):
    """The auto rungs the source's short side allows, plus one at two thirds of the smallest when
    fewer than two are left; named by their short side; none dropped as redundant (in these moving
    clips at the default capped CRF no rung comes near its lower neighbour's bytes: were one
    dropped, this names it)."""
    src = auto_case.source.video
    want = expected_auto_rungs(*src.display_size)
    got = sorted((min(v.resolution) for v in auto_case.hls.variants), reverse=True)
    assert got == want, f"{auto_case.id}: --ladder auto gave short sides {got}, expected {want} for a " \
                        f"{src.display_size} source (redundantRungs: {auto_case.report['redundantRungs']})"
    assert sorted(r["name"] for r in auto_case.report["renditions"]) == sorted(f"{s}p" for s in want)
    assert auto_case.report["redundantRungs"] == []


def test_auto_ladder_never_upscales(auto_case):
    """No rendition is larger than the source's display size on either side, and each keeps its
    shape (the stream's own size, read with ffprobe from its first segment)."""
    src = auto_case.source.video
    sw, sh = src.display_size
    for v in auto_case.hls.variants:
        with h.TempMedia(v.playlist.standalone(0), v.playlist.suffix) as p:
            stream = h.ffprobe_json(p, "-select_streams", "v:0", "-show_entries", "stream=width,height")["streams"][0]
        w, hgt = stream["width"], stream["height"]
        assert (w, hgt) == v.resolution, f"{auto_case.id} {v.uri}: RESOLUTION {v.resolution}, stream {w}x{hgt}"
        assert w <= round(sw) and hgt <= round(sh), f"{auto_case.id} {v.uri}: {w}x{hgt} is larger than the source's {sw}x{sh}"
        assert w / hgt == pytest.approx(sw / sh, rel=0.01), f"{auto_case.id} {v.uri}: {w}x{hgt} for a {sw}x{sh} source"


def test_auto_ladder_gives_several_video_bit_rates(auto_case):
    """Two video variants or more for every source with a picture, with different BANDWIDTHs:
    apple_rules' multiple_video_bitrates (Apple 9.9) passes."""
    variants = auto_case.hls.variants
    assert len(variants) >= 2, f"{auto_case.id}: {len(variants)} video variant(s) with --ladder auto"
    ctx = ar.Context(os.path.join(auto_case.out, "master.m3u8"), source=fixture_path(auto_case.fixture.name),
                     nominal_segment=SEGMENT_DURATION)
    findings = ar.multiple_video_bitrates(ctx)
    assert not findings, f"{auto_case.id}: {findings}"


def test_auto_ladder_keeps_two_video_bit_rates_when_rungs_are_redundant(tmp_path_factory, still_sources):
    """A blank page (a pause between sections) at capped CRF in MPEG-TS: every rung costs about the
    same (the 188-byte TS packet per frame outweighs the pictures), so the 90% rule finds the
    rungs above the smallest redundant. `--ladder auto` still promises two video bit rates for
    any source with a picture (Apple 9.9), so at least two must stay: the smallest and the largest
    (listed with dropped false and the reason), as the rule with its minimum of two says on the
    bytes (the report's for the rungs dropped, the files' for those kept)."""
    t = hlsify_set(tmp_path_factory, still_sources["blank-slide"], "ts", *AUTO, *CAPPED_CRF, rungs=auto_rungs)
    t.require_success()
    variants = [v.uri for v in t.hls.variants]
    redundant = [(r["name"], r["bytes"], r["lowerRung"], r["lowerBytes"], r["dropped"]) for r in t.report["redundantRungs"]]
    assert len(variants) >= 2, \
        f"{t.id} --ladder auto --rate-control capped-crf left {variants} (redundantRungs {redundant})"
    planned = [f"{r}p" for r in auto_rungs(t)]
    sizes = all_rung_sizes(t, planned)
    assert [n for n, *_ in redundant_by_rule(sizes)] == planned[:-1], \
        f"{t.id}: the blank page no longer makes every rung above the smallest redundant: {sizes}"
    assert sorted(rung_name(v) for v in t.hls.variants) == sorted([planned[0], planned[-1]]), \
        f"{t.id}: kept {variants}, redundantRungs {redundant}"
    assert settled_by_rule(sizes) == settled_of(t.report), f"{t.id}: {sizes}: redundantRungs {redundant}"


# ---------------------------------------------------------------------------
# redundant rungs
# ---------------------------------------------------------------------------

# A rung is redundant when the next lower kept rung has at least 90% of its bytes.
REDUNDANT_SHARE = (9, 10)
# ... but a set keeps at least this many video renditions (Apple's authoring spec 9.9): when
# dropping every redundant rung would leave fewer, the largest redundant ones stay (dropped false,
# keptBecause naming 9.9).
MINIMUM_KEPT = 2


def redundant_by_rule(sizes: list[tuple[str, int]]) -> list[tuple[str, int, str, int]]:
    """The rule on (rung, bytes) largest first: walking up from the smallest (never redundant),
    a rung is redundant when the nearest lower rung not itself redundant has >= 90% of its
    bytes. Returns (rung, bytes, lower rung, lower bytes), largest first."""
    num, den = REDUNDANT_SHARE
    found, lower = [], None
    for name, size in reversed(sizes):
        if lower is not None and size > 0 and lower[1] * den >= num * size:
            found.append((name, size, lower[0], lower[1]))
        else:
            lower = (name, size)
    return found[::-1]


def settled_by_rule(sizes: list[tuple[str, int]]) -> dict[str, bool]:
    """Which redundant rungs (redundant_by_rule) are dropped: {rung: dropped}. All of them, unless
    that leaves fewer than MINIMUM_KEPT video renditions (or than the ladder has, if fewer): then
    the largest redundant rungs stay, as many as it takes."""
    found = [name for name, *_ in redundant_by_rule(sizes)]  # largest first
    kept = len(sizes) - len(found)
    settled = {}
    for name in found:
        if kept < min(MINIMUM_KEPT, len(sizes)):
            settled[name] = False
            kept += 1
        else:
            settled[name] = True
    return settled


def settled_of(report: dict) -> dict[str, bool]:
    return {r["name"]: r["dropped"] for r in report["redundantRungs"]}


def rung_name(v: h.Variant) -> str:
    return os.path.dirname(v.uri)


def files_bytes(pl: h.MediaPlaylist) -> int:
    """A rendition's bytes as written: its init section (once) and every segment its playlist names."""
    inits = {(s.init.path, s.init.byterange): s.init.size for s in pl.segments if s.init}
    return sum(s.size for s in pl.segments) + sum(inits.values())


def rung_sizes(t: Run) -> list[tuple[str, int]]:
    """(rung, bytes) of every video variant of the set from its files, largest rung first."""
    by_short = sorted(t.hls.variants, key=lambda v: min(v.resolution), reverse=True)
    return [(rung_name(v), files_bytes(v.playlist)) for v in by_short]


def all_rung_sizes(t: Run, planned: list[str]) -> list[tuple[str, int]]:
    """(rung, bytes) of every rung the ladder planned, largest first: from the files for those the
    set has, from report.redundantRungs for those it dropped (nothing else may be missing)."""
    kept = dict(rung_sizes(t))
    dropped = {r["name"]: r["bytes"] for r in t.report["redundantRungs"] if r["dropped"]}
    missing = [n for n in planned if n not in kept and n not in dropped]
    assert not missing and set(kept) <= set(planned), \
        f"{t.id}: the ladder plans {planned}, the set has {sorted(kept)}, dropped {sorted(dropped)}"
    return [(n, kept[n] if n in kept else dropped[n]) for n in planned]


def findings_of(report: dict) -> list[tuple[str, int, str, int]]:
    return [(r["name"], r["bytes"], r["lowerRung"], r["lowerBytes"]) for r in report["redundantRungs"]]


# The slide runs with redundant rungs dropped (the default): (slide, SLIDE_LADDERS key).
SLIDES = [("title-slide", "fixed"), ("text-page", "fixed"), ("title-slide", "default"), ("blank-slide", "default")]


@pytest.fixture(scope="module", params=SLIDES, ids=[f"{s}-{ladder}" for s, ladder in SLIDES])
def slide(request, tmp_path_factory, still_sources) -> Run:
    """A slide with redundant rungs dropped (the default)."""
    return slide_run(tmp_path_factory, still_sources, *request.param)


@pytest.fixture(scope="module", params=list(SLIDE_LADDERS))
def title_ladder(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def title_slide(tmp_path_factory, still_sources, title_ladder) -> Run:
    return slide_run(tmp_path_factory, still_sources, "title-slide", title_ladder)


@pytest.fixture(scope="module")
def title_slide_kept(tmp_path_factory, still_sources, title_ladder) -> dict[str, Run]:
    """The title slide keeping every rung: on request, and progressive."""
    return {"keep": slide_run(tmp_path_factory, still_sources, "title-slide", title_ladder, "--keep-redundant-rungs"),
            "progressive": slide_run(tmp_path_factory, still_sources, "title-slide", title_ladder, "--progressive")}


# What the rule makes of the title slide's rungs (every rung kept), per SLIDE_LADDERS key:
# (the redundant ones, the ones it drops).
TITLE_SLIDE_REDUNDANT = {"fixed": (["1080p", "720p"], ["720p"]),
                         "default": (["1080p", "480p", "360p"], ["1080p", "480p", "360p"])}


def test_the_title_slide_has_redundant_rungs(title_slide_kept, title_ladder):
    """The fixture works: with every rung kept, the rule finds redundant rungs in the files, and
    with `--ladder 1080p,720p,480p` every rung above the smallest, so that the set would be left
    with one video rendition: the 1080p stays (the largest), the 720p goes. Why in TS and not
    fMP4: a TS stream spends at least one 188-byte packet per frame (plus the PES header) whatever
    the picture, about 68 KB for 360 frames in every rung, while a still page costs little more
    than one IDR per 2 s segment; in fMP4 a frame's overhead is a few bytes of `trun`, so the
    rungs keep the ratio of their pictures. Measured with this slide (one x264 thread, the
    default CRFs): TS 1080p 147 KB, 720p 143 KB, 480p 133 KB, 360p 130 KB, 240p 126 KB; so with
    the three rungs 720p (0.94) and 1080p (0.91) are redundant against 480p, and with auto 360p
    (0.97) and 480p (0.94) against 240p, 720p (0.88) is not, 1080p (0.97) is against 720p."""
    sizes = rung_sizes(title_slide_kept["keep"])
    planned = [f"{r}p" for r in title_slide_kept["keep"].planned(title_slide_kept["keep"])]
    assert [s for s, _ in sizes] == planned, sizes
    redundant, dropped = TITLE_SLIDE_REDUNDANT[title_ladder]
    assert [n for n, *_ in redundant_by_rule(sizes)] == redundant, f"the rule on the title slide's files {sizes}"
    assert sorted(n for n, d in settled_by_rule(sizes).items() if d) == sorted(dropped), sizes


def test_the_text_page_comes_close_to_the_rule_and_keeps_every_rung(tmp_path_factory, still_sources):
    """The other side of the 90%: three lines of text cost a little more per rung (measured: TS
    1080p 266 KB, 720p 229 KB, 480p 185 KB with `--ladder 1080p,720p,480p`, shares 0.86 and 0.81),
    so no rung is redundant and every one stays; a rule at 85% would drop the 720p rung."""
    t = slide_run(tmp_path_factory, still_sources, "text-page")
    t.require_success()
    sizes = rung_sizes(t)
    assert [s for s, _ in sizes] == ["1080p", "720p", "480p"], f"rungs {sizes}, redundantRungs {t.report['redundantRungs']}"
    shares = [lower / upper for (_, upper), (_, lower) in zip(sizes, sizes[1:])]
    assert max(shares) >= 0.8, f"the text page is not near the rule (shares {shares} of {sizes})"
    assert redundant_by_rule(sizes) == findings_of(t.report) == [], f"{sizes}: redundantRungs {findings_of(t.report)}"


def test_redundant_rungs_follow_the_rule(slide):
    """The run's own account holds together: the bytes of every rung (from the report for those
    dropped, from the files for those kept) give by the rule exactly the redundantRungs listed,
    each lower rung's bytes are its files'; those the minimum of two video renditions keeps are
    listed with dropped false and keptBecause naming Apple's 9.9, their files, master entry and
    report rendition there, their bytes the files'; every other one listed was dropped: its folder
    gone, not in the master nor in report.renditions, nothing else beside the set's folders."""
    t = slide
    t.require_success()
    report = t.report
    listed = findings_of(report)
    by_name = {r["name"]: r for r in report["redundantRungs"]}
    kept = dict(rung_sizes(t))
    planned = [f"{r}p" for r in t.planned(t)]
    sizes = all_rung_sizes(t, planned)
    assert len(kept) >= min(MINIMUM_KEPT, len(planned)), f"{t.id}: {len(kept)} video rendition(s) left: {sizes}"
    assert sorted(listed) == sorted(redundant_by_rule(sizes)), \
        f"{t.id}: redundantRungs {listed}, the rule on {sizes} gives {redundant_by_rule(sizes)}"
    assert settled_of(report) == settled_by_rule(sizes), \
        f"{t.id}: dropped {settled_of(report)}, the rule with its minimum of {MINIMUM_KEPT} on {sizes} says {settled_by_rule(sizes)}"
    for name, size, lower, lower_bytes in listed:
        assert lower in kept and kept[lower] == lower_bytes, \
            f"{t.id}: {name}'s lower rung {lower} has {kept.get(lower)} bytes in its files, the report says {lower_bytes}"
        r = by_name[name]
        if r["dropped"]:
            assert r.get("keptBecause") is None, f"{t.id}: {r}"
            assert name not in kept and not os.path.exists(os.path.join(t.out, name)), \
                f"{t.id}: the dropped rung's folder {name} is still there"
            assert f"{name}/" not in t.hls.master_text, f"{t.id}: the master still names the dropped {name}:\n{t.hls.master_text}"
        else:
            assert isinstance(r.get("keptBecause"), str) and "9.9" in r["keptBecause"], \
                f"{t.id}: {r}: keptBecause should say it stays for Apple's 9.9 (two video bit rates)"
            assert name in kept and kept[name] == size, \
                f"{t.id}: {name} kept for the minimum has {kept.get(name)} bytes in its files, the report says {size}"
    assert sorted(r["name"] for r in report["renditions"]) == sorted(kept), \
        f"{t.id}: report.renditions {[r['name'] for r in report['renditions']]}"
    # Besides the renditions: the audio, the master, and the default storyboard and poster.
    assert sorted(os.listdir(t.out)) == sorted(list(kept) + ["audio", "master.m3u8", "poster.jpg", "storyboard"]), \
        f"{t.id}: {os.listdir(t.out)}"


def test_dropped_rungs_are_those_the_kept_run_shows_redundant(title_slide, title_slide_kept):
    """Against the files of the --keep-redundant-rungs run of the same source and options: the rule
    (with its minimum of two) on every rung's bytes there names what the default run listed and
    dropped, with those bytes; the rungs both runs keep are the same size (the comparison is fair)."""
    t, keep = title_slide, title_slide_kept["keep"]
    sizes = rung_sizes(keep)
    want = redundant_by_rule(sizes)
    assert sorted(findings_of(t.report)) == sorted(want), \
        f"listed {findings_of(t.report)}; the rule on the kept run's files {sizes} gives {want}"
    assert settled_of(t.report) == settled_by_rule(sizes), \
        f"dropped {settled_of(t.report)}; the rule on the kept run's files {sizes} says {settled_by_rule(sizes)}"
    both = dict(rung_sizes(t))
    assert all(both[n] == dict(sizes)[n] for n in both), f"kept rungs differ between the runs: {both} vs {sizes}"


@pytest.mark.parametrize("how", ["keep", "progressive"])
def test_redundant_rungs_are_kept_with_a_reason(title_slide_kept, how):
    """--keep-redundant-rungs and --progressive keep every rung (folders, master, report) and list
    the redundant ones as the rule finds them in their files, dropped false, keptBecause saying why
    (the request or progressive, also for a rung the minimum of two would have kept anyway)."""
    t = title_slide_kept[how]
    t.require_success()
    sizes = rung_sizes(t)
    all_rungs = [f"{r}p" for r in t.planned(t)]
    assert [n for n, _ in sizes] == all_rungs, f"{t.id} {t.extra_args}: variants {[n for n, _ in sizes]}"
    assert sorted(r["name"] for r in t.report["renditions"]) == sorted(all_rungs)
    assert sorted(findings_of(t.report)) == sorted(redundant_by_rule(sizes)), \
        f"{t.id} {t.extra_args}: redundantRungs {findings_of(t.report)}, the rule on the files {sizes}"
    assert t.report["redundantRungs"], f"{t.id} {t.extra_args}: no redundant rung listed"
    word = "request" if how == "keep" else "progressive"
    for r in t.report["redundantRungs"]:
        assert r["dropped"] is False, r
        assert isinstance(r.get("keptBecause"), str) and word in r["keptBecause"].lower(), \
            f"{t.extra_args}: keptBecause {r.get('keptBecause')!r} should say it was kept because of {word}"
        assert os.path.isfile(os.path.join(t.out, r["name"], "index.m3u8")), f"{t.id}: {r['name']} is gone"


def test_redundant_rungs_is_always_in_the_report(crf_case):
    """report.redundantRungs is there, a list, also when nothing is redundant (then it is empty);
    with ABR rungs or moving pictures at capped CRF nothing is (checked against the files)."""
    r = crf_case.report
    assert isinstance(r.get("redundantRungs"), list), f"{crf_case.id}: redundantRungs {r.get('redundantRungs')!r}"
    assert findings_of(r) == redundant_by_rule(rung_sizes(crf_case)) == [], \
        f"{crf_case.id}: redundantRungs {findings_of(r)}, the rule on the files {rung_sizes(crf_case)}"


# ---------------------------------------------------------------------------
# --measure-quality
# ---------------------------------------------------------------------------

SSIM_TOLERANCE = 0.002
PSNR_TOLERANCE = 0.3  # dB
# CRF 40 so that the rungs' SSIM differ by more than the tolerance (0.985 and 0.979 at 720p and
# 480p; at the default CRFs both are near 0.9988, and a wrong rung would pass unnoticed).
QUALITY_ARGS = ("--ladder", "720p,480p", "--crf", "40", "--measure-quality")


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> Run:
    return hlsify_set(tmp_path_factory, fixture_named("landscape-1080p.mp4"), "fmp4", *QUALITY_ARGS,
                      rungs=lambda t: [720, 480])


def ffmpeg_quality(source: str, pl: h.MediaPlaylist, width: int, height: int) -> dict[str, float]:
    """ffmpeg's ssim ("All", "Y") and psnr ("average") of a rendition (its segments joined) against
    the source scaled to its size with bicubic swscale, both timelines starting at 0."""
    with h.TempMedia(pl.whole(), pl.suffix) as rendition:
        graph = (f"[0:v]setpts=PTS-STARTPTS,scale={width}:{height}:flags=bicubic,split[ra][rb];"
                 f"[1:v]setpts=PTS-STARTPTS,split[da][db];[da][ra]ssim[oa];[db][rb]psnr[ob]")
        err = h.run(["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-i", source, "-i", rendition,
                     "-filter_complex", graph, "-map", "[oa]", "-map", "[ob]", "-f", "null", "-"]).stderr.decode()
    ssim = re.search(r"\] SSIM Y:([\d.]+) .*All:([\d.]+)", err)
    psnr = re.search(r"\] PSNR .*average:([\d.]+|inf)", err)
    assert ssim and psnr, f"no SSIM/PSNR summary from ffmpeg:\n{err[-2000:]}"
    return {"ssimY": float(ssim.group(1)), "ssim": float(ssim.group(2)), "psnr": float(psnr.group(1))}


@pytest.fixture(scope="module")
def ffmpeg_measured(measured) -> dict[str, dict[str, float]]:
    measured.require_success()
    return {rung_name(v): ffmpeg_quality(fixture_path(measured.fixture.name), v.playlist, *v.resolution)
            for v in measured.hls.variants}


@pytest.mark.parametrize("rung", ["720p", "480p"])
def test_measured_quality_agrees_with_ffmpeg(measured, ffmpeg_measured, rung):
    """The report's ssim, ssimY and psnr of a rung are ffmpeg's ssim/psnr filters' on what was
    written (within 0.002 and 0.3 dB); frames is the rendition's decoded frame count."""
    v = next((v for v in measured.hls.variants if rung_name(v) == rung), None)
    assert v is not None, f"no {rung} variant: {[x.uri for x in measured.hls.variants]}"
    q = report_rendition(measured, v).get("quality")
    assert isinstance(q, dict), f"{rung}: no quality in the report with --measure-quality: {report_rendition(measured, v)}"
    ref = ffmpeg_measured[rung]
    print(f"\n{rung}: engine {q}, ffmpeg {ref}")
    for key, tol in (("ssim", SSIM_TOLERANCE), ("ssimY", SSIM_TOLERANCE), ("psnr", PSNR_TOLERANCE)):
        assert q.get(key) == pytest.approx(ref[key], abs=tol), f"{rung}: {key} {q.get(key)}, ffmpeg says {ref[key]}"
    frames = measured.rendition_facts[v.uri].video.frames
    assert q.get("frames") == frames == measured.source.video.frames, \
        f"{rung}: quality.frames {q.get('frames')}, ffprobe counts {frames} (source {measured.source.video.frames})"


def test_the_quality_fixture_tells_the_rungs_apart(ffmpeg_measured):
    """The two rungs differ by more than the tolerances, so a figure measured on the wrong rung (or
    a constant) cannot pass test_measured_quality_agrees_with_ffmpeg."""
    a, b = ffmpeg_measured["720p"], ffmpeg_measured["480p"]
    assert abs(a["ssim"] - b["ssim"]) > 2 * SSIM_TOLERANCE and abs(a["psnr"] - b["psnr"]) > 2 * PSNR_TOLERANCE, (a, b)


# ---------------------------------------------------------------------------
# bad values: usage errors
# ---------------------------------------------------------------------------

USAGE_CASES = {  # name: (arguments, the option the error line names)
    "rate-control-unknown": (["--rate-control", "foo"], "--rate-control"),
    "rate-control-empty": (["--rate-control", ""], "--rate-control"),
    "crf-zero": (["--crf", "0"], "--crf"),
    "crf-52": (["--crf", "52"], "--crf"),
    "crf-below-one": (["--crf", "0.5"], "--crf"),
    "crf-negative": (["--crf", "-1"], "--crf"),
    "crf-nan": (["--crf", "nan"], "--crf"),
    "crf-inf": (["--crf", "inf"], "--crf"),
    "crf-text": (["--crf", "twenty"], "--crf"),
    "crf-with-abr": (["--crf", "20", "--rate-control", "abr"], "--crf"),
    "abr-with-crf": (["--rate-control", "abr", "--crf", "20"], "--crf"),
    "ladder-auto-and-rung": (["--ladder", "auto,720p"], "--ladder"),
    "ladder-rung-and-auto": (["--ladder", "720p,auto"], "--ladder"),
    "ladder-auto-with-bitrate": (["--ladder", "auto@400k"], "--ladder"),
    "ladder-automatic": (["--ladder", "automatic"], "--ladder"),
    "ladder-auto-twice": (["--ladder", "auto,auto"], "--ladder"),
}

# What swift-argument-parser prints after the error line: the option's help and the usage.
USAGE_BLOCK = re.compile(r"^(Help: |Usage: |  See '|\s{2,}\S)")


@pytest.mark.parametrize("case", list(USAGE_CASES), ids=list(USAGE_CASES))
def test_bad_values_are_usage_errors(tmp_path, case):
    """Exit 64, nothing on stdout, one error line naming the option (then only the usage block
    the argument parser adds), and no output folder nor staging folder."""
    args, option = USAGE_CASES[case]
    parent = tmp_path / "work"
    parent.mkdir()
    res = run_hlsify(fixture_path("small-320x180.mp4"), "--out", str(parent / "out"), "--quiet", *args, timeout=60)
    assert res.returncode == EX_USAGE, res.describe()
    assert res.stdout.strip() == "", res.describe()
    lines = res.stderr_lines
    errors = [l for l in lines if not USAGE_BLOCK.match(l)]
    assert len(errors) == 1, f"expected one error line, got {errors}\n{res.describe()}"
    assert option in errors[0], f"the error line does not name {option}: {errors[0]!r}"
    assert os.listdir(parent) == [], f"left behind: {os.listdir(parent)}"


@pytest.mark.parametrize("setting", ["option", "environment"])
def test_worker_refuses_a_bad_rate_control_default(tmp_path, setting):
    """`transcode-worker run --rate-control x` (or HLSIFY_RATE_CONTROL=x) is a usage error before
    it ever connects (the broker address here answers nothing)."""
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    argv = [tw.worker_bin(), "run", "--amqp-url", "amqp://guest:guest@127.0.0.1:9/", "--input-root", str(tmp_path / "in"),
            "--output-root", str(tmp_path / "out")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLSIFY_")}
    if setting == "option":
        argv += ["--rate-control", "x"]
    else:
        env["HLSIFY_RATE_CONTROL"] = "x"
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert proc.returncode == EX_USAGE, f"exit {proc.returncode}\n{proc.stderr}"
    assert "rate-control" in proc.stderr.lower() or "RATE_CONTROL" in proc.stderr, proc.stderr


# ---------------------------------------------------------------------------
# the worker: the job fields (needs the private broker, as test_worker.py)
# ---------------------------------------------------------------------------

WORKER_INPUT = "small.mp4"  # small-320x180.mp4 under the input root
# The first worker's defaults for jobs that name none (capped-crf and auto are the built-in ones,
# which the second worker, started without these, applies to BUILTIN_JOB).
WORKER_ENV = {"HLSIFY_RATE_CONTROL": "abr", "HLSIFY_LADDER": "180p"}
GOOD_JOBS = {  # job id -> the job's own fields (input, output and the rest are added)
    # Everything at once: the auto ladder (180p and the added 120p), capped CRF, quality.
    "auto-crf-quality": {"ladder": "auto", "rateControl": "capped-crf", "measureQuality": True},
    # No ladder nor rateControl: the worker's defaults, here 180p and abr from WORKER_ENV.
    "worker-default": {},
    "capped-crf": {"ladder": ["180p"], "rateControl": "capped-crf"},
    # A CRF means capped-crf, also where the worker's default is abr.
    "crf-26": {"ladder": ["auto"], "crf": 26, "keepRedundantRungs": True},
}
BUILTIN_JOB = "builtin-default"  # no ladder nor rateControl, to a worker without WORKER_ENV
INVALID_JOBS = {  # message id -> the job's bad fields
    "crf-99": {"crf": 99},
    "crf-0": {"crf": 0},
    "crf-text": {"crf": "20"},
    "crf-with-abr": {"crf": 20, "rateControl": "abr"},
    "rate-control-x": {"rateControl": "x"},
    "rate-control-number": {"rateControl": 1},
    "ladder-auto-and-rung": {"ladder": ["auto", "720p"]},
    "ladder-string": {"ladder": "automatic"},
    "measure-quality-text": {"measureQuality": "yes"},
    "keep-redundant-number": {"keepRedundantRungs": 1},
}


@dataclass
class WorkerOutcome:
    site: object
    completed: dict[str, dict]  # job id -> its job.completed event


@pytest.fixture(scope="module")
def worker_outcome(tmp_path_factory) -> WorkerOutcome:
    """One worker (WORKER_ENV) given the good jobs, then the invalid ones as raw messages; when every
    good job completed and every invalid one is dead-lettered, it stops and a second worker without
    WORKER_ENV (the built-in defaults) is given BUILTIN_JOB."""
    leaked = [k for k in WORKER_ENV if k in os.environ]
    assert not leaked, f"{leaked} set in the suite's environment: the built-in defaults cannot be seen"
    bus = tw.Bus(tw.amqp_url())
    tmp = tmp_path_factory.mktemp("ladder-worker")
    (tmp / "in").mkdir()
    (tmp / "out").mkdir()
    shutil.copy(fixture_path("small-320x180.mp4"), tmp / "in" / WORKER_INPUT)
    site = tw.Site(bus, str(tmp / "in"), str(tmp / "out"), clips=None, tmp=str(tmp))
    try:
        worker = site.start_worker("w-ladder", env=WORKER_ENV)
        for job_id, fields in GOOD_JOBS.items():
            site.submit({"jobId": job_id, "input": WORKER_INPUT, "output": job_id, "segmentDuration": SEGMENT_DURATION,
                         "preset": MATRIX_PRESET, **fields})
        for message_id, fields in INVALID_JOBS.items():
            body = {"jobId": f"bad-{message_id}", "input": WORKER_INPUT, "output": f"bad-{message_id}", **fields}
            bus.publish(json.dumps(body).encode(), message_id=message_id)
        bus.wait(lambda: all(bus.of(j, "completed") for j in GOOD_JOBS), 240, "every good job's job.completed", (worker,))
        bus.wait(lambda: len(bus.drain_dead_letters()) >= len(INVALID_JOBS), 60, "every invalid job dead-lettered", (worker,))
        assert worker.stop() == 0, worker.log()[-4000:]
        builtin = site.start_worker("w-builtin")
        site.submit({"jobId": BUILTIN_JOB, "input": WORKER_INPUT, "output": BUILTIN_JOB,
                     "segmentDuration": SEGMENT_DURATION, "preset": MATRIX_PRESET})
        bus.wait(lambda: bus.of(BUILTIN_JOB, "completed"), 240, "the built-in default job's job.completed", (builtin,))
        yield WorkerOutcome(site, {j: bus.of(j, "completed")[0] for j in [*GOOD_JOBS, BUILTIN_JOB]})
        site.stop_all_and_assert_drained()
    finally:
        tw.close_site(site)


def worker_set(outcome: WorkerOutcome, job_id: str) -> h.HLSSet:
    return h.load_hls_set(os.path.join(outcome.site.output_root, job_id, "master.m3u8"))


def test_worker_job_with_auto_capped_crf_and_quality(worker_outcome):
    """"ladder": "auto" on a 320x180 source gives 180p and 120p; "rateControl": "capped-crf" is what
    x264 ran in both; the job.completed renditions are the files (sizes, segments, bytes)."""
    completed = worker_outcome.completed["auto-crf-quality"]
    hls = worker_set(worker_outcome, "auto-crf-quality")
    assert sorted((min(v.resolution) for v in hls.variants), reverse=True) == [180, 120], [v.uri for v in hls.variants]
    by_name = {r["name"]: r for r in completed["renditions"]}
    assert sorted(by_name) == ["120p", "180p"], completed["renditions"]
    for v in hls.variants:
        r = by_name[rung_name(v)]
        assert (r["width"], r["height"]) == v.resolution and r["segments"] == len(v.playlist.segments), (r, v.uri)
        seg_bytes = sum(s.size for s in v.playlist.segments)
        assert seg_bytes <= r["bytes"] <= files_bytes(v.playlist) + 65536, (r, seg_bytes)
        opts = x264_options(v.playlist)
        assert opts.get("rc") == "crf", f"{v.uri}: x264 ran rc={opts.get('rc')} for rateControl capped-crf"


def test_worker_reports_the_measured_quality(worker_outcome):
    """"measureQuality": true: the completion says each rendition's measured quality (what the
    report's renditions[].quality holds), else the job asked for a measurement nobody sees."""
    completed = worker_outcome.completed["auto-crf-quality"]
    for r in completed["renditions"]:
        q = r.get("quality")
        assert isinstance(q, dict) and 0 < q.get("ssim", 0) <= 1 and q.get("psnr", 0) > 0 and q.get("frames") == 150, \
            f"{r['name']}: no measured quality in job.completed: {r}"


# The default CRF of the rungs at or below 480p (issue 16; the worker's jobs here are 180p and 120p).
DEFAULT_CRF_SMALL = 17.0


@pytest.mark.parametrize("job_id,rungs,rc,crf", [
    ("worker-default", [180], "abr", None),
    ("capped-crf", [180], "crf", DEFAULT_CRF_SMALL),
    ("crf-26", [180, 120], "crf", 26.0),
    (BUILTIN_JOB, [180, 120], "crf", DEFAULT_CRF_SMALL),
])
def test_worker_rate_control_default_and_fields(worker_outcome, job_id, rungs, rc, crf):
    """Without "ladder" and "rateControl" the worker's defaults apply: HLSIFY_LADDER=180p and
    HLSIFY_RATE_CONTROL=abr where set, else the built-in auto (180p and 120p for this source) and
    capped-crf at the default CRF; a job's "rateControl" overrides the worker's; "crf" sets the CRF
    of every rung (capped-crf also under a worker whose default is abr); x264's settings say so,
    and job.completed names the rungs written."""
    hls = worker_set(worker_outcome, job_id)
    got = sorted((min(v.resolution) for v in hls.variants), reverse=True)
    assert got == rungs, f"{job_id}: rendition short sides {got}, expected {rungs}"
    assert sorted(r["name"] for r in worker_outcome.completed[job_id]["renditions"]) == sorted(f"{r}p" for r in rungs)
    for v in hls.variants:
        opts = x264_options(v.playlist)
        assert opts.get("rc") == rc, f"{job_id} {v.uri}: x264 ran rc={opts.get('rc')}"
        if crf is not None:
            assert float(opts["crf"]) == crf, f"{job_id} {v.uri}: x264 ran crf={opts.get('crf')}"


def test_worker_rejects_invalid_rate_control_crf_and_ladder(worker_outcome):
    """Each invalid value is dead-lettered as invalid-job with a job.rejected event naming the job,
    and nothing is written for it."""
    bus = worker_outcome.site.bus
    dead = {props.message_id: headers for headers, _, props in bus.dead}
    for message_id in INVALID_JOBS:
        headers = dead.get(message_id)
        assert headers is not None, f"{message_id} ({INVALID_JOBS[message_id]}) is not in the dead-letter queue"
        assert headers.get("x-hlsify-reason") == "invalid-job", f"{message_id}: {headers}"
        events = bus.of(f"bad-{message_id}", "rejected")
        assert events and events[0]["error"]["reason"] == "invalid-job", f"{message_id}: {bus.of(f'bad-{message_id}')}"
        assert not os.path.exists(os.path.join(worker_outcome.site.output_root, f"bad-{message_id}"))
