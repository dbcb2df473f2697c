#!/usr/bin/env python3
"""Split vs unsplit on the 120 s 1080p source (issue 14, "Done when", first two items).

    .cache/venv/bin/python Benchmarks/chunk_quality.py [--no-build] [--formats fmp4,ts] [--chunk-duration 32]

For each segment format: the default ladder transcoded whole (`hlsify SRC --out REF`), then the same
split (`hlsify plan`, every `encode-chunk` two at a time as two workers, `hlsify stitch`), both
with the release build; then the stitched set is compared with the whole one by the integration
suite's independent checkers (Tests/Integration/test_chunks.py: m3u8 parsing, box and TS packet
readers, ffprobe, ffmpeg's psnr filter): structure (variants, VERSION, segment counts, EXTINF,
CODECS, no discontinuity), identical init sections and audio bytes, continuous `mfhd` /
continuity counters, ffprobe over each whole rendition (no errors, the same frame count), mean
PSNR per rendition within 0.05 dB, every segment next to a join within 0.5 dB, AVERAGE-BANDWIDTH
within ±2 %, BANDWIDTH within ±5 %. Writes the `chunkquality` block of Benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "Tests" / "Integration"))
import run  # noqa: E402
import resume  # noqa: E402

BEGIN = "<!-- chunkquality:begin -->"
END = "<!-- chunkquality:end -->"
WORK = run.CACHE / "chunk-quality"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--formats", default="fmp4,ts")
    ap.add_argument("--chunk-duration", type=float, default=32)
    ap.add_argument("--results", type=Path, default=run.RESULTS_MD)
    args = ap.parse_args()
    if not args.no_build:
        run.run_checked(["swift", "build", "-c", "release"], cwd=run.ROOT)
    os.environ["HLSIFY_BIN"] = str(run.ROOT / ".build" / "release" / "hlsify")
    import test_chunks as tc  # after HLSIFY_BIN: the suite's runner reads it

    source = str(resume.make_source(quick=False))
    facts = tc.h.probe(source)
    fps = float(facts.video.avg_frame_rate)
    segment = 4
    chunk_segments = int(args.chunk_duration // segment)
    lines = ["## Time chunks: split against whole on the 120 s 1080p source (issue 14)", "",
             f"Command: `.cache/venv/bin/python Benchmarks/chunk_quality.py --chunk-duration {args.chunk_duration:g}`", "",
             "- machine: {nproc} cores ({cpu}), {memory}; hlsify commit {commit}; {ffmpeg}".format(**run.machine()),
             f"- source {Path(source).name}; default ladder, 4 s segments, chunkDuration {args.chunk_duration:g} "
             f"({chunk_segments} segments per chunk), every chunk encoded by one of two parallel `encode-chunk` processes; "
             "release build; checked with the integration suite's own checkers (Tests/Integration/test_chunks.py)", ""]
    for fmt in args.formats.split(","):
        base = WORK / fmt
        if base.exists():
            import shutil
            shutil.rmtree(base)
        base.mkdir(parents=True)
        ref_out, work, out = str(base / "ref"), str(base / "work"), str(base / "out")
        fmt_args = ["--segment-format", fmt]
        ref_res = tc.hlsify(source, "--out", ref_out, "--json", "--quiet", *fmt_args, timeout=3600)
        ref = tc.as_transcode(source, ref_out, fmt, ref_res)
        ref.require_success()
        planned = tc.require(tc.hlsify("plan", source, "--work", work, "--chunk-duration", f"{args.chunk_duration:g}",
                                       *fmt_args), f"plan {fmt}")
        names = [n.strip() for n in planned.stdout.splitlines() if n.strip()]
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda n: tc.hlsify("encode-chunk", source, "--work", work, "--chunk", n, "--quiet",
                                                         timeout=3600), names))
        for name, res in zip(names, results):
            tc.require(res, f"encode-chunk {name}")
        stitched = tc.as_transcode(source, out, fmt, tc.require(tc.stitch(work, out), f"stitch {fmt}"))
        findings = {
            "structure": tc.structure_findings(stitched, ref),
            "identical bytes (init, audio)": tc.identical_bytes_findings(stitched, ref),
            "mfhd / continuity counters": tc.continuity_findings(stitched, ref),
            "ffprobe (errors, frames)": tc.probe_findings(stitched, ref),
            "bandwidth (±2 % average, ±5 % peak)": tc.bandwidth_findings(stitched, ref),
        }
        per_segment = int(round(segment * fps))

        def measure(t):
            out_q = {}
            for v in t.hls.variants:
                values = tc.psnr_per_frame(source, v.playlist, v.resolution)
                out_q[v.uri] = tc.Quality(statistics.fmean(values), tc.segment_means(values, per_segment), len(values))
            return out_q

        q, ref_q = measure(stitched), measure(ref)
        findings["PSNR (mean ±0.05 dB, join segments ≥ −0.5 dB)"] = tc.quality_findings(q, ref_q, chunk_segments)
        lines += [f"### {fmt}", "", "| check | result |", "|---|---|"]
        for name, found in findings.items():
            lines.append(f"| {name} | {'met' if not found else '**missed**: ' + '; '.join(found)[:600]} |")
        lines += ["", "| rendition | mean PSNR split / whole dB | worst join segment Δ dB | AVERAGE-BANDWIDTH split / whole | BANDWIDTH split / whole |",
                  "|---|---:|---:|---:|---:|"]
        theirs = {v.uri: v for v in ref.hls.variants}
        for v in stitched.hls.variants:
            a, b, r = q[v.uri], ref_q[v.uri], theirs[v.uri]
            joins = [i for i in tc.join_segments(len(b.segments), chunk_segments) if i < len(a.segments)]
            worst = min((a.segments[i] - b.segments[i] for i in joins), default=0.0)
            lines.append(f"| {v.uri} | {a.mean:.3f} / {b.mean:.3f} | {worst:+.3f} | {v.average_bandwidth} / {r.average_bandwidth} "
                         f"({(v.average_bandwidth / r.average_bandwidth - 1) * 100:+.2f} %) | {v.bandwidth} / {r.bandwidth} "
                         f"({(v.bandwidth / r.bandwidth - 1) * 100:+.2f} %) |")
        lines.append("")
        print("\n".join(lines), flush=True)
    run.write_block(lines, args.results, BEGIN, END)


if __name__ == "__main__":
    main()
