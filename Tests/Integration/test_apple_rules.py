"""Every rule of apple_rules.py (RFC 8216 and Apple's HLS Authoring Specification) on what hlsify
writes, for every video fixture in both segment formats (the session's `case` transcodes).

The rules share one apple_rules.Context per transcode, which reuses the per-segment video checks
test_output.py computes on the same `case`, so running both costs one probe of each segment.
test_checkers.py shows each rule failing on a set broken on purpose.
"""

from __future__ import annotations

import os

import pytest

import apple_rules as ar
from conftest import MATRIX_PRESET, SEGMENT_DURATION, VIDEO_FIXTURES, fixture_path, transcode

# Rules our output is known not to follow yet, with the reason: where one of them has findings
# the test is an expected failure (pytest.xfail), where it has none it passes. Remove an entry
# once Sources follows the rule.
PENDING = {
    "multiple_video_bitrates": "Apple 9.9 (MUST): a source at or below the 480p rung gets one rendition "
                               "(the ladder contract in DESIGN.md): decide in Sources",
}

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
