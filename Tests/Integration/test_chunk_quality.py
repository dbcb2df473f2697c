"""--measure-quality on a set split by time (issue 16): each chunk measures the segments it
writes and records the sums in its manifest; the stitch adds them up. The stitched figures must
cover every frame and agree with an unsplit run's (the chunks encode the same pictures, up to
x264's rate control entering each chunk from its pre-roll)."""

import json
import os

import pytest

from test_chunks import encode_chunk, hlsify, make_source, plan, require, stitch, settings_args

SSIM_TOLERANCE = 0.002
PSNR_TOLERANCE = 0.3  # dB


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    return make_source(str(tmp_path_factory.mktemp("chunk-quality-source") / "lecture.mp4"))


@pytest.fixture(scope="module")
def measured(tmp_path_factory, source):
    """The unsplit and the stitched report, both with --measure-quality, and the work folder."""
    root = tmp_path_factory.mktemp("chunk-quality")
    unsplit = require(hlsify(source, "--out", str(root / "unsplit"), "--json", "--quiet", "--measure-quality",
                             *settings_args("fmp4")), "unsplit run")
    work = str(root / "work")
    names = [n.strip() for n in require(plan(source, work, "fmp4", "--measure-quality"), "plan").stdout.splitlines() if n.strip()]
    for name in names:
        require(encode_chunk(source, work, name, "--quiet"), f"encode-chunk {name}")
    stitched = require(stitch(work, str(root / "stitched")), "stitch")
    return json.loads(unsplit.stdout), json.loads(stitched.stdout), work, names


def test_every_video_chunk_records_its_quality(measured):
    _, stitched, work, names = measured
    videos = [n for n in names if n != "audio"]
    assert len(videos) >= 2, f"the source must split into two video chunks at least: {names}"
    totals: dict[str, int] = {}
    for name in videos:
        with open(os.path.join(work, "chunks", f"video-{int(name):03d}", "manifest.json")) as f:
            manifest = json.load(f)
        for rendition in manifest["renditions"]:
            quality = rendition.get("quality")
            assert quality, f"chunk {name} {rendition['folder']}: no quality in its manifest"
            frames = sum(s["frames"] for s in rendition["segments"])
            assert quality["frames"] == frames, f"chunk {name} {rendition['folder']}: measured {quality['frames']} of {frames} frames"
            totals[rendition["folder"]] = totals.get(rendition["folder"], 0) + frames
    for rendition in stitched["renditions"]:
        assert rendition["quality"]["frames"] == rendition["encodedFrames"] == totals[rendition["name"]], rendition


def test_stitched_quality_agrees_with_the_unsplit_run(measured):
    unsplit, stitched, _, _ = measured
    ours = {r["name"]: r["quality"] for r in stitched["renditions"]}
    theirs = {r["name"]: r["quality"] for r in unsplit["renditions"]}
    assert sorted(ours) == sorted(theirs)
    for name, q in ours.items():
        ref = theirs[name]
        assert q["frames"] == ref["frames"], f"{name}: {q['frames']} frames measured, the unsplit run {ref['frames']}"
        assert abs(q["ssim"] - ref["ssim"]) <= SSIM_TOLERANCE, f"{name}: SSIM {q['ssim']:.5f} vs unsplit {ref['ssim']:.5f}"
        assert abs(q["psnr"] - ref["psnr"]) <= PSNR_TOLERANCE, f"{name}: PSNR {q['psnr']:.2f} vs unsplit {ref['psnr']:.2f}"
        assert 0 < q["ssim"] <= 1 and 0 < q["ssimY"] <= 1 and 10 < q["psnr"] <= 100, f"{name}: {q}"


def test_a_plan_without_measuring_stitches_without_quality(tmp_path, source):
    work = str(tmp_path / "work")
    names = [n.strip() for n in require(plan(source, work, "fmp4"), "plan").stdout.splitlines() if n.strip()]
    # The same work folder planned again asking for quality is another plan: refused without --force.
    again = plan(source, work, "fmp4", "--measure-quality")
    assert again.returncode == 73, again.describe()
    for name in names:
        require(encode_chunk(source, work, name, "--quiet"), f"encode-chunk {name}")
    report = json.loads(require(stitch(work, str(tmp_path / "out")), "stitch").stdout)
    assert all("quality" not in r for r in report["renditions"]), report["renditions"]
