#!/usr/bin/env python3
"""What loudness, storyboard and poster add to the 30 s 1080p run (issue 17).

    python3 Benchmarks/learner.py              # full run: 3 rounds of the 4 variants, release binary (~12–15 min)
    python3 Benchmarks/learner.py --quick      # smoke test: 1 round (falls back to .build/debug when the
                                               # release binary is missing or older than Sources/)
    python3 Benchmarks/learner.py --render     # only rewrite RESULTS.md's block from .cache/bench/learner-results.json

Python 3 standard library only (no re-exec into .cache/venv is needed: storage.py does that for
boto3, ladder.py for matplotlib; this script imports neither). Needs ffmpeg (its ebur128 filter).
Reuses run.py's helpers (the clip, busy time, machine description, the RESULTS.md block writer) and
storage.py's (picking a current binary, the other processes' CPU by name). It does not build:
`swift build -c release` first.

What it does, in order:
 1. picks the binary: .build/release/hlsify when it exists and is newer than every file under
    Sources/ and Package.swift/Package.resolved; otherwise a full run stops, and a --quick run
    uses .build/debug/hlsify and says so in its block (a dry run of the script, not a measurement);
 2. the source: run.py's "real" clip (Big Buck Bunny 720p looped to 30 s, lanczos to 1080p, x264
    crf 16 + AAC 192k), made once under .cache/bench/src/; its loudness measured once with ffmpeg's
    `ebur128=peak=true` (not timed), to set beside the engine's input figures;
 3. runs the four variants, each `hlsify CLIP --out DIR --force --quiet --json` with the default
    ladder and settings into a fresh folder, plus:
      A  all three off      --no-storyboard --no-poster --loudness off
      B  defaults           (loudness, storyboard and poster on)
      C  loudness only      --no-storyboard --no-poster
      D  storyboard+poster  --loudness off
    interleaved, N rounds (default 3; --quick 1), the order rotated each round (A B C D, B C D A,
    C D A B, …) so no variant always runs first or after the same neighbour. Per run: wall time
    from spawn to reap, user+sys CPU and peak RSS of the hlsify process from wait4(2)'s rusage
    (ru_maxrss), whether it started any child process (polled every 50 ms), the cores every
    other process kept busy (/proc/stat busy time minus hlsify's CPU, over the wall time; this
    script's polling included), the 1-minute load average at the start, the busiest other
    processes by name (/proc/*/stat, those alive at both ends) and the report's elapsedSeconds;
 4. after each run (not timed): checks the output has what the variant asks for and nothing else
    (storyboard/ and its sheets, poster.jpg, the report's storyboard, poster and audio.loudness),
    records the bytes of the video and audio renditions (the same video work in every variant),
    and for B: the storyboard (interval, tiles, sheets and their bytes), the poster (size, time,
    bytes), the report's loudness (target, gain, input/output integrated, range, true peak,
    limited seconds, shortfall) and ffmpeg's `ebur128=peak=true` on the audio rendition
    (`audio/index.m3u8`: after AAC, as a player hears it); then removes the output (--keep: the
    last round's stay);
 5. prints the block, writes .cache/bench/learner-results.json and the block between the
    `learner` markers of Benchmarks/RESULTS.md (inserted before `## Notes` when absent; nothing
    else in the file is touched; run.py keeps it when it rewrites the file).

Target (issue 17): loudness, storyboard and poster together add under 5% CPU to the 30 s 1080p
run: median CPU(B) / median CPU(A) < 1.05. C/A and D/A split that between loudness and the
pictures. The machine is shared: the per-round ratios (neighbouring runs) are printed beside
the ratio of the medians, and the other processes' load beside every run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (Benchmarks/run.py: the clip, busy time, machine, write_block)
import storage  # noqa: E402  (Benchmarks/storage.py: pick_binary, cpu_table, top_others, reap)

ROOT = run.ROOT
CACHE = run.CACHE
WORK = CACHE / "learner"
RESULTS_JSON = CACHE / "learner-results.json"
BEGIN = "<!-- learner:begin -->"
END = "<!-- learner:end -->"
TITLE = "For the learner: what loudness, storyboard and poster cost (issue 17)"
CPU_TARGET = 1.05          # median CPU(B) / median CPU(A) under this
POLL = 0.05
RUN_TIMEOUT = 1200.0       # a run still going after this is stopped and the benchmark with it

VARIANTS = {
    "A": {"label": "all three off", "flags": ["--no-storyboard", "--no-poster", "--loudness", "off"],
          "loudness": False, "pictures": False},
    "B": {"label": "defaults (all three on)", "flags": [], "loudness": True, "pictures": True},
    "C": {"label": "loudness only", "flags": ["--no-storyboard", "--no-poster"], "loudness": True, "pictures": False},
    "D": {"label": "storyboard + poster only", "flags": ["--loudness", "off"], "loudness": False, "pictures": True},
}
ORDER = list(VARIANTS)

_current: subprocess.Popen | None = None   # the hlsify process we started and have not reaped


def log(msg: str) -> None:
    run.log(msg)


# ---------------------------------------------------------------------------- measuring

def measure(cmd: list[str], tag: str) -> dict:
    """One hlsify run: wall (spawn to reap), CPU and peak RSS from wait4(2), the other processes' load."""
    global _current
    outf, errf = WORK / f"{tag}.json", WORK / f"{tag}.stderr"
    load = os.getloadavg()[0]
    table0 = storage.cpu_table()
    busy0 = run.busy_seconds()
    children = False
    with open(outf, "w") as so, open(errf, "w") as se:
        t0 = time.monotonic()
        _current = subprocess.Popen(cmd, stdout=so, stderr=se, start_new_session=True)
        while True:
            pid, status, ru = os.wait4(_current.pid, os.WNOHANG)
            if pid:
                break
            if not children and run.has_grandchildren(_current.pid):
                children = True
            if time.monotonic() - t0 > RUN_TIMEOUT:
                storage.reap(_current, 30)
                _current = None
                sys.exit(f"{tag}: still running after {RUN_TIMEOUT:.0f} s, stopped: {' '.join(cmd)}")
            time.sleep(POLL)
        wall = time.monotonic() - t0
        busy1 = run.busy_seconds()
        _current.returncode = rc = os.waitstatus_to_exitcode(status)
        hl_pid = _current.pid
        _current = None
    table1 = storage.cpu_table()
    if rc != 0:
        sys.exit(f"{tag} failed ({rc}): {' '.join(cmd)}\n{errf.read_text(errors='replace')[-3000:]}")
    cpu = ru.ru_utime + ru.ru_stime
    text = outf.read_text()
    return {"wall": wall, "cpu": cpu, "user": ru.ru_utime, "sys": ru.ru_stime, "rss_kb": ru.ru_maxrss,
            "had_children": children, "others": max(0.0, busy1 - busy0 - cpu) / max(wall, 1e-9), "load": load,
            "top_others": storage.top_others(table0, table1, {os.getpid(), hl_pid}),
            "report": json.loads(text) if text.strip() else None}


def ebur128(target: str, *, audio_only_input: bool = False) -> dict:
    """ffmpeg's EBU R128 meter with true peak (4x oversampled) on `target`'s first audio stream: the
    summary, and from its per-frame log (one line per 100 ms) the frames whose true peak (FTPK, the
    louder channel) is above the -1 dBTP promise and the loudest few, to say where a peak is."""
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-i", target,
           "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    if p.returncode != 0:
        return {"error": p.stderr[-1500:], "cmd": cmd}
    text = p.stderr[p.stderr.rfind("Summary:"):]
    frames = []
    for line in p.stderr[:p.stderr.rfind("Summary:")].splitlines():
        m = re.search(r"\bt:\s*([\d.]+).*FTPK:((?:\s+(?:-?[\d.]+|-inf))+)\s+dBFS", line)
        if m:
            vals = [float(v) for v in m.group(2).split() if v != "-inf"]
            if vals:
                frames.append((float(m.group(1)), max(vals)))
    loudest = sorted(frames, key=lambda x: -x[1])[:5]

    def num(pattern: str) -> float | None:
        m = re.search(pattern, text)
        if not m:
            return None
        return None if m.group(1) in ("-inf", "inf", "nan") else float(m.group(1))

    return {"integrated": num(r"I:\s+(-?[\d.]+|-inf)\s+LUFS"), "range": num(r"LRA:\s+(-?[\d.]+)\s+LU"),
            "truePeak": num(r"Peak:\s+(-?[\d.]+|-inf)\s+dBFS"),
            "frames": len(frames), "frames_above_promise": sum(1 for _, v in frames if v > -1.0),
            "loudest_frames": [[round(s, 1), v] for s, v in loudest],
            "cmd": " ".join(run._q(c) for c in cmd)}


# ---------------------------------------------------------------------------- checks

def file_bytes(p: Path) -> int | None:
    try:
        return p.stat().st_size
    except OSError:
        return None


def media_bytes(playlist: Path) -> int:
    """Init section + every segment a media playlist names."""
    total = 0
    for line in playlist.read_text().splitlines():
        line = line.strip()
        m = re.search(r'#EXT-X-MAP:URI="([^"]+)"', line)
        if m:
            total += file_bytes(playlist.parent / m.group(1)) or 0
        elif line and not line.startswith("#"):
            total += file_bytes(playlist.parent / line) or 0
    return total


def inspect(out: Path, variant: str, rep: dict) -> dict:
    """What the run made against what the variant asks for; bytes of the pieces."""
    v = VARIANTS[variant]
    problems = []
    sb, poster = rep.get("storyboard"), rep.get("poster")
    audio = rep.get("audio") or {}
    loud = audio.get("loudness")
    sb_dir, poster_file = out / "storyboard", out / "poster.jpg"
    if v["pictures"]:
        if not sb:
            problems.append("no storyboard in the report")
        if not poster:
            problems.append("no poster in the report")
    else:
        if sb is not None:
            problems.append("a storyboard in the report")
        if poster is not None:
            problems.append("a poster in the report")
        if sb_dir.exists():
            problems.append("a storyboard/ folder")
        if poster_file.exists():
            problems.append("a poster.jpg")
    if v["loudness"] and not loud:
        problems.append("no audio.loudness in the report")
    if not v["loudness"] and loud is not None:
        problems.append("audio.loudness in the report")
    if (rep.get("audioOnlyVariant") or {}).get("loudness") is not None and not v["loudness"]:
        problems.append("audioOnlyVariant.loudness in the report")
    rec = {"problems": problems,
           "video_bytes": {r["name"]: media_bytes(out / r["playlist"]) for r in rep.get("renditions", [])},
           "audio_bytes": media_bytes(out / audio["playlist"]) if audio.get("playlist") else None}
    if sb:
        sheets = [file_bytes(out / s) for s in sb.get("sheets", [])]
        if any(b is None for b in sheets):
            problems.append("a storyboard sheet the report names is missing")
        vtt = file_bytes(out / sb["vtt"])
        if vtt is None:
            problems.append(f"{sb['vtt']} is missing")
        cues = 0
        if vtt:
            cues = sum(1 for line in (out / sb["vtt"]).read_text().splitlines() if "-->" in line)
            if cues != sb.get("tiles"):
                problems.append(f"{sb['vtt']} has {cues} cues, the report {sb.get('tiles')} tiles")
        rec["storyboard"] = {**sb, "sheet_bytes": [b or 0 for b in sheets], "vtt_bytes": vtt, "vtt_cues": cues}
    if poster:
        pb = file_bytes(out / poster["file"])
        if pb is None:
            problems.append(f"{poster['file']} is missing")
        rec["poster"] = {**poster, "bytes": pb}
    if loud:
        rec["loudness"] = loud
    return rec


# ---------------------------------------------------------------------------- analysis

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def analyse(res: dict) -> dict:
    runs = res["runs"]
    by = {k: [r for r in runs if r["variant"] == k] for k in ORDER}
    rounds = sorted({r["round"] for r in runs})
    a = {"rounds": rounds, "variants": {}}
    for k, rs in by.items():
        rs = sorted(rs, key=lambda r: r["round"])
        a["variants"][k] = {"cpu": med(r["cpu"] for r in rs), "wall": med(r["wall"] for r in rs),
                            "rss": med(r["rss_kb"] / 1024 for r in rs), "elapsed": med(r.get("elapsed") for r in rs),
                            "user": med(r["user"] for r in rs), "sys": med(r["sys"] for r in rs),
                            "cpu_rounds": [r["cpu"] for r in rs], "others": [r["others"] for r in rs]}
    base = a["variants"]["A"]["cpu"]
    cpu_a = {r["round"]: r["cpu"] for r in by["A"]}
    for k in ORDER:
        s = a["variants"][k]
        s["ratio"] = s["cpu"] / base if base and s["cpu"] is not None else None
        s["added"] = s["cpu"] - base if base and s["cpu"] is not None else None
        s["ratio_rounds"] = [r["cpu"] / cpu_a[r["round"]] for r in sorted(by[k], key=lambda r: r["round"])
                             if r["round"] in cpu_a]
        s["ratio_rounds_median"] = med(s["ratio_rounds"])
        s["wall_ratio"] = s["wall"] / a["variants"]["A"]["wall"] if s["wall"] and a["variants"]["A"]["wall"] else None
    b = a["variants"]["B"]
    a["medians_ok"] = b["ratio"] is not None and b["ratio"] < CPU_TARGET
    a["rounds_ok"] = [x < CPU_TARGET for x in b["ratio_rounds"]]
    # Met: under the target by the medians and in every round; missed: over it by the medians and in
    # every round; otherwise the rounds straddle the target and the noise decides: not shown (None).
    if a["medians_ok"] and all(a["rounds_ok"]):
        a["ok"] = True
    elif not a["medians_ok"] and not any(a["rounds_ok"]):
        a["ok"] = False
    else:
        a["ok"] = None
    # The quietest round: the least load from other processes during its A and B runs.
    quiet = []
    for rnd in rounds:
        ab = [r for r in runs if r["round"] == rnd and r["variant"] in ("A", "B")]
        if len(ab) == 2:
            quiet.append((max(r["others"] for r in ab), rnd))
    if quiet and len(rounds) > 1:
        o, rnd = min(quiet)
        ca = next(r["cpu"] for r in runs if r["round"] == rnd and r["variant"] == "A")
        cb = next(r["cpu"] for r in runs if r["round"] == rnd and r["variant"] == "B")
        a["quietest"] = {"round": rnd, "others": o, "ratio": cb / ca}
    spread = a["variants"]["A"]["cpu_rounds"]
    a["a_spread"] = (max(spread) - min(spread)) / a["variants"]["A"]["cpu"] if len(spread) > 1 else None
    others = sorted(r["others"] for r in runs)
    a["others_range"] = f"{others[0]:.2f}–{others[-1]:.2f}" if others else "?"
    a["others_median"] = f"{statistics.median(others):.2f}" if others else "?"
    a["loads"] = f"{min(r['load'] for r in runs):.1f}–{max(r['load'] for r in runs):.1f}" if runs else "?"
    busiest: dict[str, float] = {}
    for r in runs:
        for name, v in r.get("top_others", []):
            busiest[name] = busiest.get(name, 0.0) + v
    a["busiest"] = sorted(busiest.items(), key=lambda kv: -kv[1])[:5]
    try:
        a["cpu_others_r"] = statistics.correlation([r["cpu"] for r in by["A"] + by["B"]],
                                                   [r["others"] for r in by["A"] + by["B"]]) \
            if len(by["A"]) + len(by["B"]) >= 3 else None
    except statistics.StatisticsError:
        a["cpu_others_r"] = None
    a["problems"] = [f"round {r['round']} {r['variant']}: {p}" for r in runs for p in r["check"]["problems"]]
    a["children"] = any(r["had_children"] for r in runs)
    vids = {json.dumps(r["check"]["video_bytes"], sort_keys=True) for r in runs}
    a["video_identical"] = len(vids) == 1
    a["video_sizes"] = {}
    for r in runs:
        for name, v in r["check"]["video_bytes"].items():
            a["video_sizes"].setdefault(name, {}).setdefault(v, []).append(f"{r['round']}{r['variant']}")
    a["audio_bytes"] = {k: sorted({r["check"]["audio_bytes"] for r in by[k]}) for k in ORDER}
    mt = {r.get("binary_mtime") for r in runs if r.get("binary_mtime")}
    a["binary_changed"] = len(mt) > 1
    return a


# ---------------------------------------------------------------------------- the block

def f(x, nd=1, sign=False) -> str:
    if x is None:
        return "–"
    return f"{x:+.{nd}f}" if sign else f"{x:.{nd}f}"


def verdict(ok: bool | None) -> str:
    return run.verdict(ok)


def block_lines(res: dict) -> list[str]:
    a = analyse(res)
    mc, b = res["machine"], res["binary"]
    runs = res["runs"]
    first_b = next((r for r in runs if r["variant"] == "B"), None)
    rep = (first_b or {}).get("report_summary") or {}
    L = [f"## {TITLE}", ""]
    if res["quick"]:
        L += [f"> **This is a `--quick` smoke run** (one round{', the **debug** binary' if b['kind'] == 'debug' else ''}): "
              "it checks the script; its figures are not the issue's. Run the full benchmark on the release build.", ""]
    if b["kind"] == "debug":
        L += [f"> `{b['path']}` was used because {b['why']}; debug code is slower than release, so neither the "
              "times nor the ratios say anything about the release build.", ""]
    argv = re.sub(r" --results(=| )\S+", "", res["argv"])
    src = Path(res["src"]).name
    rungs = ", ".join(f"{r['name']} {r['width']}x{r['height']}" for r in rep.get("renditions", []))
    busiest = ", ".join(f"{n} {v:.0f} s" for n, v in a["busiest"]) or "none above 0.5 s"
    order = ", ".join(" ".join(ORDER[i % 4:] + ORDER[:i % 4]) for i in range(len(a["rounds"])))
    L += [f"Command: `python3 Benchmarks/learner.py{argv}`", "",
          f"- date: {mc['date']}; whole benchmark {res['elapsed_min']:.1f} min",
          f"- machine: {mc['nproc']} cores ({mc['cpu']}), {mc['memory']} memory, Linux {mc['kernel']}; **shared**: "
          f"other processes kept {a['others_range']} cores busy during the runs (median {a['others_median']}; "
          f"this script's polling included, hlsify not), 1-minute load average {a['loads']} at the runs' starts; "
          f"busiest other processes (CPU s summed over the runs, each run's top three): {busiest}. Wall times carry that noise, CPU seconds less so "
          "(contention for caches and memory bandwidth still moves them): compare the per-round ratios",
          f"- hlsify commit {mc['commit']}; binary `{b['path']}` ({b['kind']}, built {b['built']}; "
          + ("newer than every source file" if b["current"] else
             f"**older than** {b['newest_source']} ({b['newest_source_mtime']})")
          + ("; **it changed during the benchmark**" if a["binary_changed"] else "") + f"); {mc['swift']}; {mc['ffmpeg']}",
          f"- source: `{src}` (run.py's real clip: Big Buck Bunny looped to 30 s, lanczos to 1080p, crf 16, AAC 192k; "
          f"{res['src_bytes'] / 1e6:.1f} MB); default ladder ({rungs or '?'}) and settings, "
          f"{rep.get('segmentFormat', '?')} segments of {rep.get('segmentDuration', '?')} s",
          f"- every run: `hlsify {src} --out DIR --force --quiet --json` + the variant's flags, into a fresh folder; "
          f"{len(a['rounds'])} round(s), the order rotated each round ({order}); outputs checked after each run "
          "(not timed) and removed",
          "- wall = spawn to reap; CPU (user+sys) and peak RSS (ru_maxrss) of the hlsify process from wait4(2); "
          + ("**a measured process started a child process**" if a["children"] else
             "no run started a child process (checked every 50 ms), so they cover all its work")
          + "; *engine s* = the report's elapsedSeconds",
          "", "### CPU by variant", "",
          "| variant | flags | CPU s per round | CPU s median | ÷ A (medians) | ÷ A per round | added CPU s | "
          "wall s median | ÷ A wall | peak RSS MB median | engine s median |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for k in ORDER:
        s = a["variants"][k]
        flags = f"`{' '.join(VARIANTS[k]['flags'])}`" if VARIANTS[k]["flags"] else "(none)"
        L.append(f"| {k}: {VARIANTS[k]['label']} | {flags} | {', '.join(f'{x:.1f}' for x in s['cpu_rounds'])} | "
                 f"{f(s['cpu'], 2)} | {f(s['ratio'], 3)} | {', '.join(f'{x:.3f}' for x in s['ratio_rounds'])} | "
                 f"{f(s['added'], 2, True)} | {f(s['wall'])} | {f(s['wall_ratio'], 2)} | {f(s['rss'], 0)} | "
                 f"{f(s['elapsed'])} |")
    vb, vc, vd = a["variants"]["B"], a["variants"]["C"], a["variants"]["D"]
    overall = {True: "met", False: "**missed**", None: "**not shown**"}[a["ok"]]
    L += ["", "### Verdict", "", "| criterion | measured | verdict |", "|---|---:|---|",
          f"| loudness + storyboard + poster add under 5% CPU: median CPU(B) ÷ median CPU(A) < {CPU_TARGET:.2f} | "
          f"{f(vb['ratio'], 3)} ({f(100 * (vb['ratio'] - 1) if vb['ratio'] else None, 1, True)}%) | "
          f"{verdict(a['medians_ok'] if vb['ratio'] is not None else None)} |",
          f"| the same in every round (B ÷ A of the same round < {CPU_TARGET:.2f}) | "
          f"{', '.join(f'{x:.3f}' for x in vb['ratio_rounds'])} | "
          + (verdict(all(a['rounds_ok'])) if a["rounds_ok"] else "n/a")
          + f" ({sum(a['rounds_ok'])} of {len(a['rounds_ok'])} under) |",
          f"| outputs: every variant made what its flags ask for and nothing else | "
          f"{'as asked' if not a['problems'] else str(len(a['problems'])) + ' problem(s)'} | "
          f"{verdict(not a['problems'])} |", "",
          f"**Under 5% CPU together: {overall.strip('*')}**"
          + (" (a --quick run: indicative only)" if res["quick"] else "")
          + (" — met needs the ratio of the medians and every round's ratio under the target, missed needs all of "
             "them over it; here the rounds fall on both sides, so this machine's noise decides, not the cost"
             if a["ok"] is None else "") + ".", ""]
    split = []
    if vc["added"] is not None and vd["added"] is not None and vb["added"] is not None:
        split.append(f"Split (medians): loudness alone (C) adds {f(vc['added'], 2, True)} s "
                     f"({f(100 * (vc['ratio'] - 1), 1, True)}%), storyboard + poster alone (D) {f(vd['added'], 2, True)} s "
                     f"({f(100 * (vd['ratio'] - 1), 1, True)}%); together they would add {f(vc['added'] + vd['added'], 2, True)} s, "
                     f"B measured {f(vb['added'], 2, True)} s.")
    split.append(f"Median of the per-round ratios: B {f(vb['ratio_rounds_median'], 3)}, C {f(vc['ratio_rounds_median'], 3)}, "
                 f"D {f(vd['ratio_rounds_median'], 3)}.")
    sa = a["variants"]["A"]
    if a.get("a_spread") is not None:
        noisy = a["a_spread"] >= CPU_TARGET - 1
        split.append(f"Run-to-run noise of the same work: A's CPU spans {100 * a['a_spread']:.1f}% of its median over "
                     f"{len(sa['cpu_rounds'])} rounds ({', '.join(f'{x:.1f}' for x in sa['cpu_rounds'])} s), "
                     f"{'wider than' if noisy else 'within'} the 5% the target allows"
                     + (f" (CPU and *others* correlate at r = {a['cpu_others_r']:.2f} over A's and B's runs)"
                        if a.get("cpu_others_r") is not None else "")
                     + (f": on this machine, at this load, {len(sa['cpu_rounds'])} rounds cannot resolve a cost that "
                        "small, so the ratio of the medians alone does not settle it" if noisy else "") + ".")
    if a.get("quietest"):
        q = a["quietest"]
        split.append(f"The quietest round for A and B (round {q['round']}, others at most {q['others']:.2f} cores) "
                     f"gives B ÷ A = {q['ratio']:.3f}.")
    L += [" ".join(split), ""]

    L += ["### What B (defaults) made", ""]
    sb, po, loud = (first_b or {}).get("check", {}).get("storyboard"), (first_b or {}).get("check", {}).get("poster"), \
        (first_b or {}).get("check", {}).get("loudness")
    if first_b:
        L.append(f"From round {first_b['round']}'s JSON report and files:")
        L.append("")
    if sb:
        sheets = sb["sheet_bytes"]
        L.append(f"- storyboard: a tile every {sb['intervalSeconds']:g} s, {sb['tiles']} tiles of "
                 f"{sb['tileWidth']}x{sb['tileHeight']} ({sb['columns']} per row), {len(sheets)} sheet(s) "
                 f"({', '.join(Path(s).name for s in sb['sheets'])}) of {sum(sheets) / 1000:.1f} kB in all "
                 f"({', '.join(f'{x / 1000:.1f}' for x in sheets)} kB); `{sb['vtt']}` {sb['vtt_bytes']} bytes, "
                 f"{sb['vtt_cues']} cues")
    else:
        L.append("- storyboard: **none**")
    if po:
        L.append(f"- poster: `{po['file']}` {po['width']}x{po['height']}, from {po['timeSeconds']:.2f} s, "
                 f"{(po['bytes'] or 0) / 1000:.1f} kB")
    else:
        L.append("- poster: **none**")
    fb = (first_b or {}).get("ffmpeg_ebur128") or {}
    fs = res.get("source_ebur128") or {}
    if loud:
        inp, outp = loud["input"], loud["output"]
        L.append(f"- loudness: target {loud['target']:g} LUFS, gain {loud['gain']:+.2f} dB, limiter active "
                 f"{loud['limitedSeconds']:.2f} s, shortfall {('“' + loud['shortfall'] + '”') if loud.get('shortfall') else 'none'}")
        L += ["", "| audio | measured by | integrated LUFS | range LU | true peak dBTP |", "|---|---|---:|---:|---:|",
              f"| source | engine (report's `input`) | {f(inp.get('integrated'), 2)} | {f(inp.get('range'), 2)} | "
              f"{f(inp.get('truePeak'), 2)} |",
              f"| source | ffmpeg `ebur128=peak=true` | {f(fs.get('integrated'), 1)} | {f(fs.get('range'), 1)} | "
              f"{f(fs.get('truePeak'), 1)} |",
              f"| B's audio rendition, the AAC packets decoded by the engine | engine (report's `output`) | {f(outp.get('integrated'), 2)} | "
              f"{f(outp.get('range'), 2)} | {f(outp.get('truePeak'), 2)} |",
              f"| B's audio rendition (`{rep.get('audio', {}).get('playlist', 'audio/index.m3u8')}`, after AAC) | "
              f"ffmpeg `ebur128=peak=true` | {f(fb.get('integrated'), 1)} | {f(fb.get('range'), 1)} | "
              f"{f(fb.get('truePeak'), 1)} |", ""]
        notes = []
        if fb.get("integrated") is not None:
            notes.append(f"By ffmpeg, the rendition's integrated loudness is {fb['integrated'] - loud['target']:+.1f} LU "
                         f"from the target ({'within' if abs(fb['integrated'] - loud['target']) <= 1 else '**outside**'} "
                         "the ±1 LU the engine promises)")
        if fb.get("truePeak") is not None:
            notes.append(f"its true peak {fb['truePeak']:.1f} dBTP is "
                         + ("at or under" if fb["truePeak"] <= -1.0 else "**above**") + " the -1 dBTP promise"
                         + (f", {fb['truePeak'] - outp['truePeak']:+.1f} dB from the engine's "
                            "figure" if outp.get("truePeak") is not None else ""))
        if fb.get("loudest_frames"):
            lf = fb["loudest_frames"]
            notes.append(f"{fb['frames_above_promise']} of its {fb['frames']} 100-ms frames have a true peak above "
                         f"-1 dBTP; the loudest at " + ", ".join(f"{s:g} s ({v:.1f})" for s, v in lf[:3]))
        others_b = [r.get("ffmpeg_ebur128") or {} for r in runs if r["variant"] == "B"]
        if len(others_b) > 1:
            vals = {(x.get("integrated"), x.get("truePeak")) for x in others_b}
            notes.append("the same figures from every round's B" if len(vals) == 1 else
                         "per round: " + "; ".join(f"{f(x.get('integrated'), 1)} LUFS / {f(x.get('truePeak'), 1)} dBTP"
                                                   for x in others_b))
        if fb.get("error"):
            notes.append(f"ffmpeg failed on the rendition: `{fb['error'][-300:]}`")
        if notes:
            L += ["; ".join(notes) + ". ffmpeg reports the true peak in dBFS of "
                  "its 4x-oversampled signal, i.e. dBTP; both read the encoded AAC (the engine decodes every packet "
                  "it writes); the limiter holds -3 dBTP before AAC, whose overshoot the margin is for.", ""]
    else:
        L.append("- loudness: **none in the report**")
        L.append("")

    L += ["### Checks", ""]
    if a["problems"]:
        L += [f"- **{p}**" for p in a["problems"]]
    else:
        L.append("- every run made what its variant asks for: storyboard/ and poster.jpg only in B and D, "
                 "`audio.loudness` only in B and C (the report's fields and the files)")
    if a["video_identical"]:
        L.append("- video renditions (init + segments): the same bytes in every run, so every variant did the same "
                 "video work")
    else:
        same = [n for n, s in a["video_sizes"].items() if len(s) == 1]
        diff = {n: s for n, s in a["video_sizes"].items() if len(s) > 1}
        L.append("- video renditions (init + segments): "
                 + (", ".join(same) + " the same bytes in every run; " if same else "")
                 + "; ".join(f"{n} {len(s)} sizes, {min(s)}–{max(s)} bytes ({100 * (max(s) - min(s)) / min(s):.3f}%: "
                             + ", ".join(f"{v} in {' '.join(rs)}" for v, rs in sorted(s.items())) + ")"
                             for n, s in diff.items())
                 + ": x264's multi-threaded output varies a little from run to run, in variants with and without "
                   "the three alike (runs named round + variant)")
    L.append("- audio rendition bytes: " + ", ".join(
        f"{k} {'/'.join(str(x) for x in v)}" for k, v in a["audio_bytes"].items())
        + " (loudness off in A and D, on in B and C)")
    L.append("")

    L += ["### Every run", "",
          "In the order they ran. *others* = cores kept busy by every other process (busy time from /proc/stat minus "
          "hlsify's CPU, over the wall time); *load* = 1-minute load average at the start (it still counts the "
          "previous run); *busiest others* = CPU seconds of the other processes alive at both ends of the run, by name.",
          "", "| # | round | variant | wall s | CPU s | user s | sys s | peak RSS MB | engine s | others (cores) | load | "
          "busiest others |", "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for i, r in enumerate(runs):
        busiest = ", ".join(f"{c} {v:.1f}" for c, v in r.get("top_others", [])) or "–"
        L.append(f"| {i + 1} | {r['round']} | {r['variant']} | {r['wall']:.1f} | {r['cpu']:.2f} | {r['user']:.2f} | "
                 f"{r['sys']:.2f} | {r['rss_kb'] / 1024:.0f} | {f(r.get('elapsed'))} | {r['others']:.2f} | "
                 f"{r['load']:.1f} | {busiest} |")
    L.append("")
    return L


def finish(res: dict, path: Path) -> None:
    lines = block_lines(res)
    print("\n".join(lines))
    run.write_block(lines, path, BEGIN, END)
    log(f"wrote the learner block of {path}")


# ---------------------------------------------------------------------------- main

def summary(rep: dict) -> dict:
    """The parts of the report the block shows."""
    return {"segmentFormat": rep.get("segmentFormat"), "segmentDuration": rep.get("segmentDuration"),
            "durationSeconds": rep.get("durationSeconds"),
            "renditions": [{k: r.get(k) for k in ("name", "width", "height", "playlist", "bytes")}
                           for r in rep.get("renditions", [])],
            "audio": {k: (rep.get("audio") or {}).get(k) for k in ("playlist", "bitrate", "channels", "sampleRate",
                                                                   "bytes", "loudness")},
            "audioOnlyVariant": rep.get("audioOnlyVariant"), "storyboard": rep.get("storyboard"),
            "poster": rep.get("poster"), "warnings": rep.get("warnings")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one round; may use .build/debug when release is missing or stale")
    ap.add_argument("--rounds", type=int, default=None, help="rounds of the four variants (default 3; --quick 1)")
    ap.add_argument("--keep", action="store_true", help="keep the last round's outputs under .cache/bench/learner/out/")
    ap.add_argument("--results", type=Path, default=run.RESULTS_MD, help="RESULTS.md to write the block into")
    ap.add_argument("--render", nargs="?", const=RESULTS_JSON, type=Path, metavar="JSON",
                    help="only rewrite the block from a saved results JSON")
    args = ap.parse_args()
    if args.render:
        finish(json.loads(args.render.read_text()), args.results)
        return
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    if rounds < 1:
        sys.exit("--rounds must be at least 1")
    if not shutil.which("ffmpeg"):
        sys.exit("ffmpeg is needed")
    binary = storage.pick_binary(args.quick)
    hlsify = ROOT / binary["path"]
    t_start = time.monotonic()
    src = run.make_input("real")
    if WORK.exists():
        shutil.rmtree(WORK)
    (WORK / "out").mkdir(parents=True)

    # Not timed: the source's loudness by ffmpeg, and warming the page cache and the loader alike for all.
    log(f"source {src.name}: ffmpeg ebur128")
    src_loud = ebur128(str(src))
    log(f"  source: {src_loud.get('integrated')} LUFS, LRA {src_loud.get('range')} LU, "
        f"true peak {src_loud.get('truePeak')} dBTP")
    subprocess.run([str(hlsify), "--help"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    src.read_bytes()

    runs = []
    n = 0
    for rnd in range(1, rounds + 1):
        order = ORDER[(rnd - 1) % 4:] + ORDER[:(rnd - 1) % 4]
        for k in order:
            n += 1
            out = WORK / "out" / f"round-{rnd}-{k}"
            run.prepare_out(out)
            cmd = [str(hlsify), str(src), "--out", str(out), "--force", "--quiet", "--json"] + VARIANTS[k]["flags"]
            log(f"round {rnd}/{rounds}, run {n}/{4 * rounds}: {k}, {VARIANTS[k]['label']}")
            x = measure(cmd, f"round-{rnd}-{k}")
            rep = x.pop("report") or {}
            x.update({"round": rnd, "variant": k, "cmd": cmd, "elapsed": rep.get("elapsedSeconds"),
                      "binary_mtime": hlsify.stat().st_mtime, "report_summary": summary(rep)})
            x["check"] = inspect(out, k, rep)
            if k == "B":
                pl = (rep.get("audio") or {}).get("playlist")
                x["ffmpeg_ebur128"] = ebur128(str(out / pl)) if pl else {"error": "no audio rendition in the report"}
            runs.append(x)
            log(f"  wall {x['wall']:.1f} s  cpu {x['cpu']:.2f} s  rss {x['rss_kb'] / 1024:.0f} MB  "
                f"engine {f(x['elapsed'])} s  (others {x['others']:.2f} cores, load {x['load']:.1f}"
                + (f"; {', '.join(f'{c} {v:.1f}' for c, v in x['top_others'])}" if x["top_others"] else "") + ")"
                + (f"  PROBLEMS: {'; '.join(x['check']['problems'])}" if x["check"]["problems"] else "")
                + (f"  ffmpeg on audio: {x['ffmpeg_ebur128'].get('integrated')} LUFS, "
                   f"{x['ffmpeg_ebur128'].get('truePeak')} dBTP" if k == "B" else ""))
            (WORK / f"round-{rnd}-{k}.json").unlink(missing_ok=True)
            if not args.keep or rnd < rounds:
                shutil.rmtree(out, ignore_errors=True)
        el = (time.monotonic() - t_start) / 60
        log(f"round {rnd} done: {el:.1f} min so far" + (f", about {el / rnd * rounds:.0f} min in all" if rnd < rounds else ""))
    elapsed = (time.monotonic() - t_start) / 60
    log(f"all runs done in {elapsed:.1f} min")
    res = {"quick": args.quick, "argv": "".join(" " + x for x in sys.argv[1:]), "machine": run.machine(),
           "binary": binary, "src": str(src), "src_bytes": src.stat().st_size, "source_ebur128": src_loud,
           "runs": runs, "elapsed_min": elapsed}
    RESULTS_JSON.write_text(json.dumps(res, indent=1, default=str))
    log(f"wrote {RESULTS_JSON}")
    finish(json.loads(RESULTS_JSON.read_text()), args.results)


def _cleanup() -> None:
    global _current
    if _current is not None:
        storage.reap(_current, 20)
        _current = None


def _terminate(signum, frame):
    sys.exit(128 + signum)   # SystemExit: main's finally stops hlsify (SIGTERM, then SIGKILL)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, _terminate)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        main()
    finally:
        _cleanup()
