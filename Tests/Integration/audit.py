#!/usr/bin/env python3
"""Audit HLS sets against RFC 8216 and Apple's HLS Authoring Specification, check by check.

    python3 Tests/Integration/audit.py OUTDIR [OUTDIR2 ...] [--source FILE] [--segment-duration S]
    python3 Tests/Integration/audit.py --compare SOURCE [--hlsify BIN] [--workdir DIR] [-- HLSIFY_ARGS...]
    make audit SOURCE=lecture.mp4 [AUDIT_ARGS="--segment-format ts"]

The first form runs every rule of apple_rules.py on each folder's master.m3u8 and prints a table
rule x folder (pass/FAIL), each folder's score, then the findings behind every FAIL. --source
(the file the sets were made from) adds the source-duration half of extinf_accuracy;
--segment-duration is the nominal segment length (default: each playlist's TARGETDURATION).

The second form makes both sides itself: hlsify transcodes SOURCE (with HLSIFY_ARGS, --json),
then ffmpeg's own hls muxer makes the reference from the same ladder, with the settings hlsify's
JSON report states (sizes, x264 preset/profile/level/bit rates/GOP, keyframes at every segment
boundary, AAC settings, segment format and duration): the command Benchmarks/run.py builds for
its reference (a), imported from there. Then both folders are audited as above.

Exit status: 0 when the first folder (hlsify's, with --compare) passes every rule, 1 when it fails one
(so `make audit` fails then), 2 on usage or
tool errors. Needs ffmpeg/ffprobe and the m3u8 package (the test venv, .cache/venv, which this
script switches to by itself when the running python lacks it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV_PYTHON = ROOT / ".cache" / "venv" / "bin" / "python"

try:
    import m3u8  # noqa: F401  (apple_rules reads playlists with it)
except ImportError:  # pragma: no cover - depends on the interpreter that runs the script
    if __name__ == "__main__" and VENV_PYTHON.exists() and Path(sys.executable) != VENV_PYTHON:
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])
    raise

sys.path.insert(0, str(HERE))
import apple_rules as ar  # noqa: E402


# ---------------------------------------------------------------------------
# auditing folders
# ---------------------------------------------------------------------------


def audit_folder(folder: str, source: str | None = None, nominal: float | None = None) -> dict[str, list[str]]:
    """Findings per rule id for the HLS set in `folder` (its master.m3u8)."""
    master = os.path.join(folder, "master.m3u8")
    if not os.path.isfile(master):
        return {r.id: [f"no master.m3u8 in {folder}"] for r in ar.RULES}
    return ar.check_all(ar.Context(master, source=source, nominal_segment=nominal))


def score(results: dict[str, list[str]]) -> tuple[int, int]:
    return sum(1 for f in results.values() if not f), len(results)


def table(columns: dict[str, dict[str, list[str]]], findings_per_cell: int = 3) -> str:
    """The rule x folder table, scores, then the findings behind each FAIL."""
    names = list(columns)
    w_rule = max(len(r.id) for r in ar.RULES)
    w_ref = max(len(r.ref) for r in ar.RULES)
    w_col = [max(len(n), 7) for n in names]
    head = f"{'rule':<{w_rule}}  {'clause':<{w_ref}}  " + "  ".join(f"{n:>{w}}" for n, w in zip(names, w_col))
    lines = [head, "-" * len(head)]
    for r in ar.RULES:
        cells = ["pass" if not columns[n].get(r.id) else "FAIL" for n in names]
        lines.append(f"{r.id:<{w_rule}}  {r.ref:<{w_ref}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(cells, w_col)))
    lines.append("-" * len(head))
    scores = ["{}/{}".format(*score(columns[n])) for n in names]
    lines.append(f"{'score':<{w_rule}}  {'':<{w_ref}}  " + "  ".join(f"{s:>{w}}" for s, w in zip(scores, w_col)))
    details = []
    for n in names:
        found = list(columns[n].values())
        if found and found[0] and all(f == found[0] for f in found):
            details.append(f"[{n}] every rule:")
            details += [f"    {f}" for f in found[0][:findings_per_cell]]
            continue
        for r in ar.RULES:
            found = columns[n].get(r.id)
            if found:
                details.append(f"[{n}] {r.id}:")
                details += [f"    {f}" for f in found[:findings_per_cell]]
                if len(found) > findings_per_cell:
                    details.append(f"    ... and {len(found) - findings_per_cell} more")
    if details:
        lines += ["", "findings:"] + details
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# making both sides
# ---------------------------------------------------------------------------


def _bench_module():
    """Benchmarks/run.py, whose ref_a_cmd builds the one-command ffmpeg HLS reference."""
    spec = importlib.util.spec_from_file_location("hlsify_bench_run", ROOT / "Benchmarks" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ffmpeg_reference_cmd(source: str, out: str, report: dict) -> list[str]:
    return _bench_module().ref_a_cmd(Path(source), Path(out), report)


def make_ffmpeg_reference(source: str, out: str, report: dict, timeout: float = 1800) -> str:
    """Writes ffmpeg's own HLS output for `source` into `out` with the ladder and settings of
    hlsify's JSON `report`; returns its master playlist path."""
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    cmd = ffmpeg_reference_cmd(source, out, report)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg reference failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return os.path.join(out, "master.m3u8")


def run_hlsify(binary: str, source: str, out: str, args: list[str], timeout: float = 3600) -> dict:
    cmd = [binary, source, "--out", out, "--force", "--json", "--quiet", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"hlsify failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def compare(source: str, binary: str, workdir: str, hlsify_args: list[str]) -> dict[str, dict[str, list[str]]]:
    base = os.path.join(workdir, Path(source).stem)
    ours, theirs = os.path.join(base, "hlsify"), os.path.join(base, "ffmpeg")
    print(f"audit: hlsify {source} -> {ours}", file=sys.stderr)
    report = run_hlsify(binary, source, ours, hlsify_args)
    print(f"audit: ffmpeg reference -> {theirs}", file=sys.stderr)
    make_ffmpeg_reference(source, theirs, report)
    nominal = report.get("segmentDuration")
    print("audit: checking", file=sys.stderr)
    return {"hlsify": audit_folder(ours, source, nominal), "ffmpeg": audit_folder(theirs, source, nominal)}


def main(argv: list[str]) -> int:
    passthrough: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, passthrough = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("folders", nargs="*", help="HLS output folders (each with a master.m3u8)")
    ap.add_argument("--source", help="the file the folders were made from")
    ap.add_argument("--segment-duration", type=float, help="nominal segment duration in seconds")
    ap.add_argument("--compare", metavar="SOURCE", help="transcode SOURCE with hlsify and ffmpeg, audit both")
    ap.add_argument("--hlsify", default=os.environ.get("HLSIFY_BIN") or str(ROOT / ".build" / "debug" / "hlsify"),
                    help="the hlsify binary for --compare (default $HLSIFY_BIN or .build/debug/hlsify)")
    ap.add_argument("--workdir", default=str(ROOT / ".cache" / "audit"), help="where --compare writes (default .cache/audit)")
    args = ap.parse_args(argv)
    try:
        if args.compare:
            if args.folders:
                ap.error("--compare makes its own folders; give none")
            columns = compare(args.compare, args.hlsify, args.workdir, passthrough)
        else:
            if not args.folders:
                ap.error("give at least one folder, or --compare SOURCE")
            if passthrough:
                ap.error("arguments after -- are for hlsify and need --compare")
            columns = {}
            for folder in args.folders:
                name = os.path.basename(os.path.normpath(folder)) or folder
                while name in columns:
                    name += "'"
                columns[name] = audit_folder(folder, args.source, args.segment_duration)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        print(f"audit: {e}", file=sys.stderr)
        return 2
    print(table(columns))
    first = next(iter(columns.values()))
    return 0 if not any(first.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
