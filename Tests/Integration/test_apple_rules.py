"""Every rule of apple_rules.py (RFC 8216 and Apple's HLS Authoring Specification) on what hlsify
writes, for every video fixture in both segment formats (the session's `case` transcodes).

The rules share one apple_rules.Context per transcode, which reuses the per-segment video checks
test_output.py computes on the same `case`, so running both costs one probe of each segment.
test_checkers.py shows each rule failing on a set broken on purpose.
"""

from __future__ import annotations

import json
import os

import pytest

import apple_rules as ar
import hlscheck as h
from conftest import MATRIX_PRESET, SEGMENT_DURATION, VIDEO_FIXTURES, fixture_path, run_hlsify, transcode

# Rules our output is known not to follow yet, with the reason: where one of them has findings
# the test is an expected failure (pytest.xfail), where it has none it passes. Remove an entry
# once Sources follows the rule. (Empty: Apple 9.9, multiple video bit rates, was here until the
# default ladder became auto in issue 16, which gives every source with a picture two.)
PENDING: dict[str, str] = {}

_contexts: dict[str, ar.Context] = {}


def rules_context(case) -> ar.Context:
    if case.out not in _contexts:
        case.require_success()
        _contexts.clear()  # one transcode at a time: the tests are grouped by `case`
        _contexts[case.out] = ar.Context(
            os.path.join(case.out, "master.m3u8"), source=fixture_path(case.fixture.name),
            nominal_segment=SEGMENT_DURATION, segment_checks=case.segment_checks)
    return _contexts[case.out]


@pytest.mark.parametrize("rule", [r.id for r in ar.RULES])
def test_apple_rule(case, rule):
    r = ar.RULES_BY_ID[rule]
    findings = ar.run_rule(r, rules_context(case))
    if findings and rule in PENDING:
        pytest.xfail(f"{PENDING[rule]}; {case.id}: {findings[0]}")
    assert not findings, f"{case.id} breaks {r.id} ({r.ref}):\n  " + "\n  ".join(findings)


@pytest.fixture(scope="module")
def subtitled(tmp_path_factory):
    """One set with a WebVTT rendition: the rules that compare every media playlist (target and
    content duration, LANGUAGE, VOD, versions) then see a subtitle playlist too."""
    fixture = next(f for f in VIDEO_FIXTURES if f.name == "landscape-1080p.mp4")
    return transcode(tmp_path_factory, fixture, "fmp4", "--segment-duration", str(SEGMENT_DURATION),
                     "--preset", MATRIX_PRESET, "--subtitles", "en=" + fixture_path("lecture.en.srt"),
                     basename="subtitled")


def test_apple_rules_with_subtitles(subtitled):
    subtitled.require_success()
    ctx = ar.Context(os.path.join(subtitled.out, "master.m3u8"), source=fixture_path(subtitled.fixture.name),
                     nominal_segment=SEGMENT_DURATION)
    assert ctx.subtitle_playlists(), f"no SUBTITLES rendition in\n{ctx.master_text}"
    results = ar.check_all(ctx)
    broken = {k: v for k, v in results.items() if v and k not in PENDING}
    assert not broken, broken
    pending = {k: v for k, v in results.items() if v and k in PENDING}
    if pending:
        pytest.xfail("; ".join(f"{k}: {PENDING[k]}" for k in pending))


# Sources the fixtures do not cover, made here with ffmpeg: a 1080i broadcast-camera recording
# (fields woven into frames, top field first) and a 120 fps phone clip. hlsify must deinterlace
# the first (Apple 1.14) and halve the frame rate of the second (1.19: at most 60 fps; also keeps
# 1080p within High@4.2), so every rule passes on both.
UNUSUAL_SOURCES = {  # (video input, output options)
    "interlaced-1080i25": ("testsrc2=size=1920x1080:rate=50:duration=3",
                           ["-vf", "tinterlace=interleave_top,fieldorder=tff", "-flags", "+ildct+ilme", "-x264opts", "tff=1"]),
    "phone-120fps": ("testsrc2=size=1920x1080:rate=120:duration=2", []),
}


@pytest.fixture(scope="module", params=list(UNUSUAL_SOURCES))
def unusual(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    source = str(folder / f"{request.param}.mp4")
    video, options = UNUSUAL_SOURCES[request.param]
    h.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", video, "-f", "lavfi", "-i", "sine=d=3",
           "-shortest", *options, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", source])
    out = str(folder / "out")
    result = run_hlsify(source, "--out", out, "--segment-duration", str(SEGMENT_DURATION),
                        "--preset", MATRIX_PRESET, "--json", "--quiet")
    return request.param, source, out, result


def test_apple_rules_on_interlaced_and_120fps_sources(unusual):
    name, source, out, result = unusual
    assert result.returncode == 0, result.describe()
    warnings = " ".join(json.loads(result.stdout)["warnings"])
    assert ("deinterlaced" if name.startswith("interlaced") else "dropped to at most 60 fps") in warnings, warnings
    ctx = ar.Context(os.path.join(out, "master.m3u8"), source=source, nominal_segment=SEGMENT_DURATION)
    broken = {k: v for k, v in ar.check_all(ctx).items() if v}
    assert not broken, broken
