"""The audit of issue 6 in small: our set beside ffmpeg's own HLS output for the same source and
ladder (audit.py, the ffmpeg command Benchmarks/run.py builds from our JSON report), scored rule
by rule with apple_rules.py. Ours must pass every rule and score at least ffmpeg's.

Two short fixtures, one segment format each, reusing the session's `case` transcodes: the
extra cost is one ffmpeg run and one audit per side."""

from __future__ import annotations

import os

import pytest

import apple_rules as ar
import audit
from conftest import SEGMENT_DURATION, VIDEO_FIXTURES, fixture_path
from test_apple_rules import PENDING, rules_context

AUDITED = [("landscape-1080p.mp4", "fmp4"), ("landscape-720p.mp4", "ts")]
CASES = [(f, fmt) for name, fmt in AUDITED for f in VIDEO_FIXTURES if f.name == name]


@pytest.mark.parametrize("case", CASES, indirect=True,
                         ids=[f"{os.path.splitext(f.name)[0]}-{fmt}" for f, fmt in CASES])
def test_ours_passes_every_rule_and_outscores_ffmpeg(case, tmp_path, record_property):
    case.require_success()
    source = fixture_path(case.fixture.name)
    reference = audit.make_ffmpeg_reference(source, str(tmp_path / "ffmpeg"), case.report)
    ours = ar.check_all(rules_context(case))
    theirs = ar.check_all(ar.Context(reference, source=source, nominal_segment=SEGMENT_DURATION))
    columns = {"hlsify": ours, "ffmpeg": theirs}
    report = audit.table(columns)
    (ours_score, total), (their_score, _) = audit.score(ours), audit.score(theirs)
    record_property("hlsify_score", f"{ours_score}/{total}")
    record_property("ffmpeg_score", f"{their_score}/{total}")
    print(f"\n{case.id}\n{report}")
    failing = {k: v for k, v in ours.items() if v and k not in PENDING}
    assert not failing, f"{case.id}: our set fails rules ffmpeg's is scored on:\n{report}"
    assert ours_score >= their_score, f"{case.id}: ffmpeg's output scores higher:\n{report}"
    pending = [k for k, v in ours.items() if v and k in PENDING]
    if pending:
        pytest.xfail(f"scores hlsify {ours_score}/{total}, ffmpeg {their_score}/{total}; pending: "
                     + ", ".join(f"{k} ({PENDING[k]})" for k in pending))
