#!/usr/bin/env python3
"""Crash-resume measured (issue 13): what a run killed part-way and resumed costs and gives.

    python3 Benchmarks/resume.py              # full: 120 s source, fmp4 and ts, kills at 10/50/70/95%
    python3 Benchmarks/resume.py --quick      # smoke test: 30 s source, fmp4, kill at 50%, W in {0, 6}
    python3 Benchmarks/resume.py --quick --format ts --results /tmp/r.md   # the same in MPEG-TS
    python3 Benchmarks/resume.py --render .cache/bench/resume-results.json   # only rewrite RESULTS.md

Python 3 standard library only (reuses run.py's helpers). Needs ffmpeg/ffprobe and swift.

What it does, in order:
 1. builds the engine (`swift build -c release`, skipped with --no-build);
 2. makes the source once under .cache/bench/src/: run.py's real clip (Big Buck Bunny, 1080p,
    30 s) looped to 120 s and encoded again (x264 medium crf 16, a keyframe every 2 s, AAC 192k),
    so that the pre-roll a resume actually decodes (back to the source keyframe at or before
    K − W) follows W to within 2 s; --quick takes its first 30 s (stream copy up to a keyframe);
 3. per segment format, alternating the formats at every step: an uninterrupted run, kills at
    10% and 50%, a second uninterrupted run, kills at 70% and 95% (--quick: uninterrupted, 50%,
    uninterrupted). A kill is `HLSIFY_TEST_KILL_AT=segment-committed:N` with N = the fraction of
    all segment commits (every rendition, audio too) of the uninterrupted run; the same command is
    then run again and resumes. Wall time is time.monotonic() around each process;
 4. the pre-roll sweep: one kill at 50% (fmp4), its staging folder copied aside, then restored
    and resumed once per W (--resume-pre-roll W), so every W starts from the same kept segments;
 5. per resumed run and video rendition, segments K and K+1 (K = the report's fromSegment):
    bytes, and PSNR against the source scaled to the rung with lanczos (ffmpeg's psnr filter,
    per-frame `stats_file`, PSNR of the mean of the frames' mse_avg, i.e. Y, U, V weighted 4:1:1
    as the filter's own `average`), compared with the first uninterrupted run's same segments;
    the second uninterrupted run against the first on the same segments is the noise;
 6. prints the tables and writes the block between the `resume` markers of Benchmarks/RESULTS.md
    (created just before `## Notes` when absent; nothing else in the file is touched).

Criteria (issue 13): segmentsEncoded − remaining ≤ one per rendition, remaining = all segments
of all renditions − segmentsReused; K and K+1 of every video rendition within 0.3 dB PSNR and
10% bytes of the uninterrupted run; resumed wall ≤ (1 − done + 0.15) × uninterrupted wall, done
= fromSegment / segments per rendition, uninterrupted wall = mean of the two uninterrupted runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (Benchmarks/run.py: inputs, logging, machine description)

ROOT = run.ROOT
CACHE = run.CACHE
WORK = CACHE / "resume"
RESULTS_JSON = CACHE / "resume-results.json"
BEGIN = "<!-- resume:begin (written by resume.py) -->"
END = "<!-- resume:end -->"
DEFAULT_W = 6.0
PSNR_TOL = 0.3      # dB
BYTES_TOL = 0.10    # relative
WALL_SLACK = 0.15   # of the uninterrupted wall

_current: subprocess.Popen | None = None


# ---------------------------------------------------------------------------- source

def make_source(quick: bool) -> Path:
    long = CACHE / "src" / "real-bbb-1080p-120s-gop2s.mp4"
    if not long.exists():
        base = run.make_input("real")
        tmp = long.with_name(long.stem + ".tmp.mp4")
        run.log(f"making {long.name}: {base.name} looped to 120 s, x264 medium crf 16, keyframe every 2 s "
                "(takes several minutes)")
        run.run_checked(run.ffmpeg_base() + [
            "-stream_loop", "3", "-i", str(base), "-t", "120", "-map", "0:v:0", "-map", "0:a:0",
            "-c:v", "libx264", "-preset", "medium", "-crf", "16", "-g", "50", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2", "-movflags", "+faststart", str(tmp)])
        tmp.rename(long)
    if not quick:
        return long
    short = CACHE / "src" / "real-bbb-1080p-30s-gop2s-v2.mp4"
    if not short.exists():
        # Stream copy up to the keyframe at 30 s: the first 750 video packets in decode order are the
        # pictures before it (closed GOPs), so the video ends at 30 s without a stray reordered frame.
        tmp = short.with_name(short.stem + ".tmp.mp4")
        frames = round(30 * probe_source(long)["fps_value"])
        run.run_checked(run.ffmpeg_base() + ["-i", str(long), "-map", "0", "-c", "copy", "-t", "30",
                                             "-frames:v", str(frames), "-movflags", "+faststart", str(tmp)])
        tmp.rename(short)
    return short


def probe_source(src: Path) -> dict:
    p = run.run_checked(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                         "stream=r_frame_rate,width,height", "-of", "json", str(src)])
    st = json.loads(p.stdout)["streams"][0]
    p = run.run_checked(["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
                         "-show_entries", "frame=best_effort_timestamp_time", "-of", "csv=p=0", str(src)])
    first = float(p.stdout.strip().splitlines()[0].strip(","))
    p = run.run_checked(["ffprobe", "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey",
                         "-show_entries", "frame=best_effort_timestamp_time", "-of", "csv=p=0", str(src)])
    keys = [float(x.strip(",")) for x in p.stdout.split() if x.strip(",")]
    gaps = [b - a for a, b in zip(keys, keys[1:])]
    num, den = (int(x) for x in st["r_frame_rate"].split("/"))
    return {"fps": st["r_frame_rate"], "fps_value": num / den, "first_pts": first, "width": st["width"],
            "height": st["height"], "keyframes": len(keys), "max_key_gap": max(gaps) if gaps else 0.0}


# ---------------------------------------------------------------------------- running hlsify

def hlsify_cmd(src: Path, out: Path, fmt: str, w: float) -> list[str]:
    return [str(run.hlsify_bin()), str(src), "--out", str(out), "--json", "--quiet",
            "--segment-format", fmt, "--resume-pre-roll", f"{w:g}"]


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_hlsify(cmd: list[str], label: str, kill_at: int | None = None) -> dict:
    """Runs one hlsify process; returns wall, cpu, rc, the JSON report (when it finished), stderr."""
    global _current
    env = {k: v for k, v in os.environ.items() if k != "HLSIFY_TEST_KILL_AT"}
    if kill_at is not None:
        env["HLSIFY_TEST_KILL_AT"] = f"segment-committed:{kill_at}"
    so_path, se_path = WORK / "stdout.json", WORK / "stderr.txt"
    load = os.getloadavg()[0]
    cpu0, busy0 = child_cpu(), run.busy_seconds()
    with open(so_path, "w") as so, open(se_path, "w") as se:
        t0 = time.monotonic()
        _current = subprocess.Popen(cmd, stdout=so, stderr=se, env=env, start_new_session=True)
        rc = _current.wait()
        wall = time.monotonic() - t0
        _current = None
    cpu = child_cpu() - cpu0
    others = max(0.0, run.busy_seconds() - busy0 - cpu) / wall
    stderr = se_path.read_text()
    res = {"label": label, "wall": wall, "cpu": cpu, "rc": rc, "others": others, "load": load,
           "stderr": stderr[-2000:], "kill_at": kill_at}
    if kill_at is not None:
        if rc != -signal.SIGKILL:
            sys.exit(f"{label}: expected the process to be killed at commit {kill_at}, got rc {rc}\n{stderr[-3000:]}")
    elif rc != 0:
        sys.exit(f"{label}: hlsify failed ({rc}): {' '.join(cmd)}\n{stderr[-3000:]}")
    else:
        res["report"] = json.loads(so_path.read_text())
    run.log(f"{label:28s} wall {wall:6.1f} s  cpu {cpu:6.1f} s  rc {rc}  (others {others:.2f} cores, load {load:.1f})"
            + (f"  resume {res['report']['resume']}" if "report" in res and res["report"]["resume"]["resumed"] else ""))
    return res


def staging_of(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.hlsify-staging-*"))


def fresh(parent: Path) -> None:
    if parent.exists():
        shutil.rmtree(parent)
    parent.mkdir(parents=True)


# ---------------------------------------------------------------------------- output inspection

def parse_playlist(path: Path) -> tuple[Path | None, list[tuple[Path, float]]]:
    init, segs, dur = None, [], None
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-MAP:"):
            init = path.parent / re.search(r'URI="([^"]+)"', line).group(1)
        elif line.startswith("#EXTINF:"):
            dur = float(line[len("#EXTINF:"):].split(",")[0])
        elif line and not line.startswith("#"):
            segs.append((path.parent / line, dur))
            dur = None
    return init, segs


def video_renditions(report: dict) -> list[dict]:
    return report["renditions"]


def total_segments(report: dict) -> int:
    n = sum(r["segments"] for r in report["renditions"])
    if report.get("audio"):
        n += report["audio"]["segments"]
    if report.get("audioOnlyVariant"):
        n += report["audioOnlyVariant"]["segments"]
    return n


def rendition_count(report: dict) -> int:
    return len(report["renditions"]) + (1 if report.get("audio") else 0) + (1 if report.get("audioOnlyVariant") else 0)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def structure(out: Path, report: dict) -> dict:
    """Per rendition (video and audio): segment names, durations, bytes, SHA-256."""
    names = [(r["name"], r["playlist"]) for r in report["renditions"]]
    if report.get("audio"):
        names.append(("audio", report["audio"]["playlist"]))
    s = {}
    for name, pl in names:
        init, segs = parse_playlist(out / pl)
        s[name] = {"init": sha(init) if init else None,
                   "durations": [d for _, d in segs],
                   "bytes": [p.stat().st_size for p, _ in segs],
                   "sha": [sha(p) for p, _ in segs]}
    return s


def concat(init: Path | None, parts: list[Path], dest: Path) -> Path:
    with open(dest, "wb") as f:
        for p in ([init] if init else []) + parts:
            with open(p, "rb") as part:
                shutil.copyfileobj(part, f)
    return dest


def count_frames(init: Path | None, parts: list[Path], scratch: Path) -> int:
    """Video packets (= frames) in init + parts, counted by ffprobe (demuxing only)."""
    f = concat(init, parts, scratch)
    p = run.run_checked(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
                         "stream=nb_read_packets", "-of", "json", str(f)])
    return int(json.loads(p.stdout)["streams"][0]["nb_read_packets"])   # (a TS lists it under its program too)


def window_psnr(src: Path, info: dict, out: Path, report: dict, first: int, count: int, tag: str) -> dict:
    """PSNR and frames of segments first .. first+count-1 of every video rendition of `out`.

    The rendition's init section and those segments are concatenated into one file; the source
    frames they hold (counted by ffprobe in the segments before and in the window, the timeline
    starting at the source's first frame) are cut out by timestamp (-copyts, trim) after a
    coarse seek, scaled to the rung with lanczos, and compared frame by frame (both sides put
    in the time base 1/fps with timestamp N). Returns {rendition: [{"psnr", "frames"} per segment]}."""
    tmp = WORK / "psnr"
    tmp.mkdir(parents=True, exist_ok=True)
    fps, fv = info["fps"], info["fps_value"]
    num, den = fps.split("/")
    tb = f"{den}/{num}"    # one tick per frame
    rungs = video_renditions(report)
    inputs, graph, layout, f0s = [], [], [], []
    ext = "mp4" if report["segmentFormat"] == "fmp4" else "ts"
    for i, r in enumerate(rungs):
        init, segs = parse_playlist(out / r["playlist"])
        if first + count > len(segs):
            sys.exit(f"{out}: {r['name']} has {len(segs)} segments, needs {first + count}")
        dest = tmp / f"{tag}-{r['name']}.{ext}"
        f0 = count_frames(init, [p for p, _ in segs[:first]], dest) if first else 0
        n_seg = [count_frames(init, [p], dest) for p, _ in segs[first:first + count]]
        concat(init, [p for p, _ in segs[first:first + count]], dest)
        inputs.append(dest)
        f0s.append(f0)
        t0 = info["first_pts"] + f0 / fv
        t1 = t0 + sum(n_seg) / fv
        half = 0.5 / fv
        stats = tmp / f"{tag}-{r['name']}.log"
        stats.unlink(missing_ok=True)
        layout.append((r["name"], n_seg, stats, dest))
        # one time base on both sides (psnr pairs frames wrongly when they differ, e.g. TS's 1/90000)
        graph.append(f"[s{i}]trim=start={t0 - half:.6f}:end={t1 - half:.6f},settb={tb},setpts=N,"
                     f"scale={r['width']}:{r['height']}:flags=lanczos[ref{i}]")
        graph.append(f"[{i + 1}:v]settb={tb},setpts=N[dis{i}]")
        graph.append(f"[dis{i}][ref{i}]psnr=stats_file={stats}:shortest=1[o{i}]")
    # seek well before the window (to the source keyframe before it); timestamps kept as they are
    seek = max(0.0, min(f0s) / fv - 3.0)
    n = len(rungs)
    graph.insert(0, f"[0:v]split={n}" + "".join(f"[s{i}]" for i in range(n)))
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-copyts"]
    if seek > 0:
        cmd += ["-ss", f"{seek:.3f}", "-noaccurate_seek"]
    cmd += ["-i", str(src)]
    for f in inputs:
        cmd += ["-i", str(f)]
    cmd += ["-filter_complex", ";".join(graph)]
    for i in range(n):
        cmd += ["-map", f"[o{i}]"]
    cmd += ["-f", "null", "-"]
    run.run_checked(cmd)
    result = {}
    for name, n_seg, stats, dest in layout:
        mse = [float(re.search(r"mse_avg:(\S+)", line).group(1)) for line in stats.read_text().splitlines() if line]
        if len(mse) != sum(n_seg):
            sys.exit(f"{out} {name}: PSNR over {len(mse)} frames, expected {sum(n_seg)} (segments {first}.."
                     f"{first + count - 1}): the cut is misaligned")
        per, k = [], 0
        for nf in n_seg:
            m = sum(mse[k:k + nf]) / nf
            per.append({"psnr": 10 * math.log10(255 ** 2 / m) if m > 0 else float("inf"), "frames": nf})
            k += nf
        result[name] = per
        stats.unlink(missing_ok=True)
        dest.unlink(missing_ok=True)
    return result


# ---------------------------------------------------------------------------- the experiment

class Experiment:
    def __init__(self, args, src: Path, info: dict) -> None:
        self.args, self.src, self.info = args, src, info
        self.full: dict[str, list[dict]] = {}       # format -> uninterrupted runs (with "out", "structure")
        self.kills: dict[str, list[dict]] = {}      # format -> kill/resume records
        self.sweep: list[dict] = []
        self.psnr_cache: dict[tuple[str, int], dict] = {}
        self.noise_data: dict[str, dict] = {}

    def uninterrupted(self, fmt: str, i: int) -> None:
        parent = WORK / fmt / f"full-{i}"
        fresh(parent)
        out = parent / "out"
        res = run_hlsify(hlsify_cmd(self.src, out, fmt, DEFAULT_W), f"{fmt} uninterrupted {i}")
        res["out"] = str(out)
        res["structure"] = structure(out, res["report"])
        res.pop("stderr", None)
        self.full.setdefault(fmt, []).append(res)

    def kill_point(self, fmt: str, fraction: float) -> int:
        total = total_segments(self.full[fmt][0]["report"])
        return max(1, min(total - 1, round(fraction * total)))

    def kill_and_resume(self, fmt: str, fraction: float, w: float = DEFAULT_W, tag: str | None = None,
                        snapshot: Path | None = None) -> dict:
        tag = tag or f"kill-{round(100 * fraction)}"
        parent = WORK / fmt / tag
        out = parent / "out"
        n = self.kill_point(fmt, fraction)
        rec = {"format": fmt, "fraction": fraction, "w": w, "kill_at": n, "tag": tag}
        if snapshot is None or not any(snapshot.iterdir()):
            fresh(parent)
            killed = run_hlsify(hlsify_cmd(self.src, out, fmt, w), f"{fmt} {tag} killed", kill_at=n)
            rec["killed"] = {k: killed[k] for k in ("wall", "cpu", "others", "load")}
            st = staging_of(out)
            if len(st) != 1:
                sys.exit(f"{fmt} {tag}: expected one staging folder beside {out}, found {st}")
            if snapshot is not None:
                shutil.copytree(st[0], snapshot / st[0].name, symlinks=True)
        else:   # restore the killed run's staging folder (name, bytes and times) and resume from it
            for p in staging_of(out):
                shutil.rmtree(p)
            if out.exists():
                shutil.rmtree(out)
            (saved,) = list(snapshot.iterdir())
            shutil.copytree(saved, parent / saved.name, symlinks=True)
            rec["killed"] = None
        res = run_hlsify(hlsify_cmd(self.src, out, fmt, w), f"{fmt} {tag} resumed W={w:g}")
        rep = res["report"]
        rec.update({k: res[k] for k in ("wall", "cpu", "others", "load")})
        rec["stderr"] = res["stderr"]
        rec["resume"] = rep["resume"]
        rec["total"] = total_segments(rep)
        rec["renditions"] = rendition_count(rep)
        rec["segments_per_rendition"] = max(r["segments"] for r in rep["renditions"])
        rec["structure"] = structure(out, rep)
        rec["out"] = str(out)
        rec["report"] = rep
        self.evaluate(fmt, rec)
        if not self.args.keep:
            shutil.rmtree(parent / "out", ignore_errors=True)
        return rec

    def full_psnr(self, fmt: str, i: int, k: int) -> dict:
        key = (f"{fmt}-{i}", k)
        if key not in self.psnr_cache:
            f = self.full[fmt][i]
            self.psnr_cache[key] = window_psnr(self.src, self.info, Path(f["out"]), f["report"], k, 2, f"full{i}")
        return self.psnr_cache[key]

    def evaluate(self, fmt: str, rec: dict) -> None:
        """Deltas of segments K, K+1 against the first uninterrupted run; noise = second against first."""
        r = rec["resume"]
        k = r["fromSegment"]
        rec["anomalies"] = anomalies(rec, self.full[fmt][0])
        if not r["resumed"]:
            rec["anomalies"].append("the second run did not resume (report resume.resumed = false)")
        ref = self.full[fmt][0]
        segs = rec["segments_per_rendition"]
        if k + 2 > segs:
            rec["deltas"] = None
            rec["anomalies"].append(f"fromSegment {k}: fewer than two segments after it, no K/K+1 comparison")
            return
        mine = window_psnr(self.src, self.info, Path(rec["out"]), rec["report"], k, 2, "resumed")
        base = self.full_psnr(fmt, 0, k)
        deltas = {}
        for name, per in mine.items():
            d = {"segments": [k, k + 1], "psnr": [], "psnr_ref": [], "bytes": [], "bytes_ref": [], "frames": [],
                 "tail_bytes": sum(rec["structure"][name]["bytes"][k:]) / sum(ref["structure"][name]["bytes"][k:]) - 1}
            for j in range(2):
                d["psnr"].append(per[j]["psnr"] - base[name][j]["psnr"])
                d["psnr_ref"].append(base[name][j]["psnr"])
                b, b0 = rec["structure"][name]["bytes"][k + j], ref["structure"][name]["bytes"][k + j]
                d["bytes"].append(b / b0 - 1)
                d["bytes_ref"].append(b0)
                d["frames"].append(per[j]["frames"])
                if per[j]["frames"] != base[name][j]["frames"]:
                    rec["anomalies"].append(f"{name} segment {k + j}: {per[j]['frames']} frames, uninterrupted "
                                            f"{base[name][j]['frames']}")
            deltas[name] = d
        rec["deltas"] = deltas
        log_deltas(f"{fmt} {rec['tag']} W={rec['w']:g} K={k}", deltas)

    def noise(self, fmt: str) -> None:
        """Second uninterrupted run against the first: at every K a kill resumed from, and over all segments."""
        if len(self.full.get(fmt, [])) < 2:
            return
        a, b = self.full[fmt]
        ks = sorted({rec["resume"]["fromSegment"] for rec in self.kills.get(fmt, []) + 
                     [s for s in self.sweep if s["format"] == fmt] if rec.get("deltas")})
        per_k = {}
        for k in ks:
            pa, pb = self.full_psnr(fmt, 0, k), self.full_psnr(fmt, 1, k)
            per_k[k] = {name: {"psnr": [pb[name][j]["psnr"] - pa[name][j]["psnr"] for j in range(2)],
                               "bytes": [b["structure"][name]["bytes"][k + j] / a["structure"][name]["bytes"][k + j] - 1
                                         for j in range(2)]} for name in pa}
        overall = {}
        for name, sa in a["structure"].items():
            sb = b["structure"][name]
            rel = [y / x - 1 for x, y in zip(sa["bytes"], sb["bytes"])]
            same = sum(1 for x, y in zip(sa["sha"], sb["sha"]) if x == y)
            overall[name] = {"max_abs_bytes": max(abs(x) for x in rel) if rel else 0.0,
                             "mean_abs_bytes": sum(abs(x) for x in rel) / len(rel) if rel else 0.0,
                             "identical": same, "segments": len(sa["sha"]),
                             "count_equal": len(sa["sha"]) == len(sb["sha"])}
        self.noise_data[fmt] = {"per_k": per_k, "overall": overall,
                                "wall": [a["wall"], b["wall"]]}
        for k, d in per_k.items():
            log_deltas(f"{fmt} noise (run 2 vs 1) K={k}", d)


def anomalies(rec: dict, full: dict) -> list[str]:
    """Differences in shape between the resumed output and the uninterrupted one that should not be."""
    out = []
    a, b = full["structure"], rec["structure"]
    for name in a:
        if name not in b:
            out.append(f"{name}: missing in the resumed output")
            continue
        if len(a[name]["sha"]) != len(b[name]["sha"]):
            out.append(f"{name}: {len(b[name]['sha'])} segments, uninterrupted {len(a[name]['sha'])}")
        elif a[name]["durations"] != b[name]["durations"]:
            out.append(f"{name}: EXTINF durations differ from the uninterrupted run's")
    if "audio" in a and "audio" in b and a["audio"]["sha"] != b["audio"]["sha"]:
        diff = [i for i, (x, y) in enumerate(zip(a["audio"]["sha"], b["audio"]["sha"])) if x != y]
        out.append(f"audio segments differ from the uninterrupted run's (AAC is deterministic): {diff[:10]}")
    r = rec["resume"]
    remaining = rec["total"] - r["segmentsReused"]
    if r["segmentsEncoded"] - remaining > rec["renditions"]:
        out.append(f"segmentsEncoded {r['segmentsEncoded']} > remaining {remaining} + one per rendition")
    return out


def log_deltas(label: str, deltas: dict) -> None:
    run.log(label + ": " + "; ".join(
        f"{n} ΔPSNR {d['psnr'][0]:+.2f}/{d['psnr'][1]:+.2f} dB Δbytes {100 * d['bytes'][0]:+.1f}/{100 * d['bytes'][1]:+.1f}%"
        for n, d in deltas.items()))


# ---------------------------------------------------------------------------- verdicts and report

def wall_row(rec: dict, full_runs: list[dict]) -> dict:
    full_walls = [f["wall"] for f in full_runs]
    done = rec["resume"]["fromSegment"] / rec["segments_per_rendition"]
    full = sum(full_walls) / len(full_walls)
    bound = (1 - done + WALL_SLACK) * full
    cpus = [f["cpu"] for f in full_runs]
    full_cpu = sum(cpus) / len(cpus)
    return {"done": done, "full": full, "bound": bound, "ok": rec["wall"] <= bound, "full_cpu": full_cpu,
            "cpu_ok": rec["cpu"] <= (1 - done + WALL_SLACK) * full_cpu}


def worst(recs: list[dict]) -> tuple[float, float]:
    p = max((abs(x) for r in recs if r.get("deltas") for d in r["deltas"].values() for x in d["psnr"]), default=0.0)
    b = max((abs(x) for r in recs if r.get("deltas") for d in r["deltas"].values() for x in d["bytes"]), default=0.0)
    return p, b


def quality_ok(rec: dict) -> bool | None:
    if not rec.get("deltas"):
        return None
    return all(abs(p) <= PSNR_TOL and abs(b) <= BYTES_TOL for d in rec["deltas"].values()
               for p, b in zip(d["psnr"], d["bytes"]))


def sweep_choice(sweep: list[dict]) -> tuple[float | None, str]:
    ok = sorted({s["w"] for s in sweep if quality_ok(s)})
    bad = sorted({s["w"] for s in sweep if quality_ok(s) is False})
    if not ok:
        return None, "no W met both tolerances at K and K+1"
    w = next((x for x in ok if all(y < x for y in bad) or x == max(ok)), ok[0])
    return w, f"smallest W meeting both tolerances with every larger W meeting them too: {w:g} s"


def fmt_pct(x: float) -> str:
    return f"{100 * x:+.1f}%"


def pair(vals: list[float], f) -> str:
    return " / ".join(f(v) for v in vals)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def block_lines(res: dict) -> list[str]:
    mc = res["machine"]
    info = res["source"]
    L = ["## Crash-resume (issue 13)", ""]
    if res["quick"]:
        L += [f"> **This is a `--quick` smoke run** (30 s source, {' and '.join(res['kills'])} only, one kill at 50%, "
              "W ∈ {" + ", ".join(f"{s['w']:g}" for s in res["sweep"]) + "}): "
              "indicative only, not the issue's figures. Run `python3 Benchmarks/resume.py` for those.", ""]
    L += [f"Command: `python3 Benchmarks/resume.py{res['argv']}`", "",
          f"- date: {mc['date']}",
          f"- machine: {mc['nproc']} cores ({mc['cpu']}), {mc['memory']} memory, Linux {mc['kernel']}; "
          f"**a shared machine** (other engineers' builds and tests ran beside it): other processes kept "
          f"{res['others_range']} cores busy during the measured processes (median {res['others_median']}), so the "
          "wall times and their ratios carry that noise",
          f"- hlsify commit {mc['commit']} when the benchmark ran; the binary measured, .build/release/hlsify, was "
          f"built {res.get('binary_built', '?')}{' (--no-build)' if '--no-build' in res['argv'] else ''}; "
          f"{mc['swift']}; {mc['ffmpeg']}",
          f"- source: `{Path(res['src']).name}` ({info['width']}x{info['height']} @ {info['fps']} fps, "
          f"{res['duration']:g} s, AAC stereo): Big Buck Bunny (run.py's real clip) looped and encoded again "
          f"with a keyframe every 2 s (largest keyframe gap {info['max_key_gap']:.2f} s), so the pre-roll decoded "
          "(from the source keyframe at or before K − W) follows W",
          f"- settings: defaults (ladder {', '.join(r['name'] for r in res['ladder'])}, "
          f"{res['segment_duration']:g} s segments, preset {res['preset']}), x264 threads per rung "
          + ", ".join(f"{r['name']} {r['threads']}" + (" sliced" if r["sliced"] else "") for r in res["ladder"])
          + "; "
          f"W = {DEFAULT_W:g} s (the default) except in the sweep",
          f"- a kill is `HLSIFY_TEST_KILL_AT=segment-committed:N`, N = the fraction × all segment commits of "
          f"the uninterrupted run (audio included, which runs ahead of the video); K = fromSegment; done = K / "
          "segments per rendition",
          "- ΔPSNR, Δbytes: resumed − uninterrupted run 1, on segments K / K+1 of each video rendition; PSNR "
          "against the source scaled to the rung with lanczos, per frame (psnr filter `stats_file`), "
          "10·log10(255²/mean mse_avg) over the segment's frames. *noise*: uninterrupted run 2 − run 1 on the "
          "same segments",
          f"- bound: resumed wall ≤ (1 − done + {WALL_SLACK:.2f}) × uninterrupted wall (mean of the two "
          "uninterrupted runs)", ""]
    for fmt, recs in res["kills"].items():
        full = res["full"][fmt]
        walls = [f["wall"] for f in full]
        L += [f"### {fmt}", "",
              f"Uninterrupted: {', '.join(f'{w:.1f} s' for w in walls)} wall (others "
              + ", ".join(f"{f['others']:.2f}" for f in full) + " cores), "
              + ", ".join(f"{f['cpu']:.1f} s" for f in full) + " CPU; "
              f"{total_segments(full[0]['report'])} segments in all "
              "(" + ", ".join(f"{n} {len(s['sha'])}" for n, s in full[0]["structure"].items()) + ").", "",
              "| kill at (commit N) | K (done) | kept | encoded | remaining | encoded − remaining | "
              "pre-roll s / frames | killed run wall s | resumed wall s (others) | bound s | wall ≤ bound | "
              "resumed / uninterrupted wall | resumed / uninterrupted CPU |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
        for rec in recs:
            r = rec["resume"]
            wr = wall_row(rec, full)
            rem = rec["total"] - r["segmentsReused"]
            kw = rec["killed"]["wall"] if rec.get("killed") else None
            L.append(f"| {100 * rec['fraction']:.0f}% ({rec['kill_at']}) | {r['fromSegment']} ({100 * wr['done']:.0f}%) | "
                     f"{r['segmentsReused']} | {r['segmentsEncoded']} | {rem} | {r['segmentsEncoded'] - rem:+d} | "
                     f"{r['preRollSeconds']:.2f} / {r['preRollFrames']} | {run.fmt(kw)} | {rec['wall']:.1f} "
                     f"({rec['others']:.2f}) | {wr['bound']:.1f} | {verdict(wr['ok'])} | {rec['wall'] / wr['full']:.2f} | "
                     f"{rec['cpu'] / wr['full_cpu']:.2f} |")
        L += ["", "| kill at | rendition | K, K+1 | PSNR run 1 dB | ΔPSNR dB | Δbytes | noise ΔPSNR dB | noise Δbytes | "
              "K, K+1 within 0.3 dB / 10% | Δbytes K..end |", "|---|---|---|---:|---:|---:|---:|---:|---|---:|"]
        nz = res["noise"].get(fmt, {}).get("per_k", {})
        for rec in recs:
            if not rec.get("deltas"):
                L.append(f"| {100 * rec['fraction']:.0f}% | – | – | – | – | – | – | – | n/a | – |")
                continue
            k = rec["resume"]["fromSegment"]
            for name, d in rec["deltas"].items():
                n = nz.get(str(k), nz.get(k, {})).get(name)
                ok = all(abs(p) <= PSNR_TOL and abs(b) <= BYTES_TOL for p, b in zip(d["psnr"], d["bytes"]))
                L.append(f"| {100 * rec['fraction']:.0f}% | {name} | {k}, {k + 1} | {pair(d['psnr_ref'], lambda v: f'{v:.2f}')} | "
                         f"{pair(d['psnr'], lambda v: f'{v:+.2f}')} | {pair(d['bytes'], fmt_pct)} | "
                         f"{pair(n['psnr'], lambda v: f'{v:+.2f}') if n else '–'} | "
                         f"{pair(n['bytes'], fmt_pct) if n else '–'} | {verdict(ok)} | {fmt_pct(d['tail_bytes'])} |")
        ov = res["noise"].get(fmt, {}).get("overall")
        if ov:
            L += ["", "Two uninterrupted runs over every segment: " + "; ".join(
                f"{n}: {o['identical']}/{o['segments']} segments byte-identical, |Δbytes| mean "
                f"{100 * o['mean_abs_bytes']:.2f}% max {100 * o['max_abs_bytes']:.2f}%" for n, o in ov.items()) + "."]
        an = [f"{100 * rec['fraction']:.0f}%: {a}" for rec in recs for a in rec.get("anomalies", [])]
        L += ["", "Checks (segment counts and EXTINF equal to the uninterrupted run's, audio byte-identical to it, "
              "resumed = true): " + ("all passed." if not an else "; ".join(an)), ""]
    if res["sweep"]:
        s0 = res["sweep"][0]
        k = s0["resume"]["fromSegment"]
        nz = res["noise"].get(s0["format"], {}).get("per_k", {})
        nk = nz.get(str(k), nz.get(k))
        L += [f"### Pre-roll W ({s0['format']}, from the {100 * s0['fraction']:.0f}% kill above: its staging folder "
              f"copied after the kill and restored for every other W, so each resumes from the same K = {k}; "
              f"the W = {DEFAULT_W:g} rows are that kill's own resume)", "",
              "| W s | pre-roll decoded s / frames | resumed wall s / CPU s | rendition | ΔPSNR K / K+1 dB | "
              "Δbytes K / K+1 | within 0.3 dB / 10% | Δbytes K..end |", "|---:|---:|---:|---|---:|---:|---|---:|"]
        for s in res["sweep"]:
            r = s["resume"]
            if not s.get("deltas"):
                L.append(f"| {s['w']:g} | {r['preRollSeconds']:.2f} / {r['preRollFrames']} | {s['wall']:.1f} / "
                         f"{s['cpu']:.1f} | – | – | – | n/a | – |")
                continue
            for name, d in s["deltas"].items():
                ok = all(abs(p) <= PSNR_TOL and abs(b) <= BYTES_TOL for p, b in zip(d["psnr"], d["bytes"]))
                L.append(f"| {s['w']:g} | {r['preRollSeconds']:.2f} / {r['preRollFrames']} | {s['wall']:.1f} / "
                         f"{s['cpu']:.1f} | {name} | {pair(d['psnr'], lambda v: f'{v:+.2f}')} | "
                         f"{pair(d['bytes'], fmt_pct)} | {verdict(ok)} | {fmt_pct(d['tail_bytes'])} |")
        if nk:
            for name, d in nk.items():
                L.append(f"| noise | – | – | {name} | {pair(d['psnr'], lambda v: f'{v:+.2f}')} | "
                         f"{pair(d['bytes'], fmt_pct)} | – | – |")
        L += ["", "Worst over the video renditions and both segments, per W: " + "; ".join(
            f"W={s['w']:g}: |ΔPSNR| {worst([s])[0]:.2f} dB, |Δbytes| {100 * worst([s])[1]:.1f}%" for s in res["sweep"]) + ".", ""]
        an = [f"W={s['w']:g}: {a}" for s in res["sweep"] for a in s.get("anomalies", [])]
        if an:
            L += ["Checks: " + "; ".join(an), ""]
    L += ["### Verdicts", ""] + [f"- {v}" for v in res["verdicts"]] + [""]
    return L


def verdicts(res: dict) -> list[str]:
    recs = [r for v in res["kills"].values() for r in v]
    out = []
    diffs = [(r["resume"]["segmentsEncoded"] - (r["total"] - r["resume"]["segmentsReused"]), r["renditions"])
             for r in recs]
    ok = all(d <= n for d, n in diffs)
    out.append(f"segments encoded − remaining ≤ one per rendition ({recs[0]['renditions'] if recs else '?'}): "
               f"{verdict(ok if recs else None)} (largest {max((d for d, _ in diffs), default=0):+d})")
    qs = [quality_ok(r) for r in recs]
    p, b = worst(recs)
    out.append(f"segments K, K+1 within {PSNR_TOL} dB PSNR and {100 * BYTES_TOL:.0f}% bytes of the uninterrupted run "
               f"(W = {DEFAULT_W:g}): {verdict(all(q for q in qs if q is not None) if any(q is not None for q in qs) else None)} "
               f"(worst |ΔPSNR| {p:.2f} dB, |Δbytes| {100 * b:.1f}%; two uninterrupted runs: worst "
               f"|ΔPSNR| {res['noise_worst'][0]:.2f} dB, |Δbytes| {100 * res['noise_worst'][1]:.1f}% on the same segments)")
    ws = [wall_row(r, res["full"][r["format"]]) for r in recs]
    out.append(f"resumed wall ≤ (1 − done + {WALL_SLACK:.2f}) × uninterrupted: {verdict(all(w['ok'] for w in ws) if ws else None)} "
               f"(resumed − bound, largest: {max((r['wall'] - w['bound'] for r, w in zip(recs, ws)), default=0):+.1f} s; "
               "shared machine, see *others*); the same bound on CPU time, which the other load does not inflate: "
               f"{verdict(all(w['cpu_ok'] for w in ws) if ws else None)} (resumed / uninterrupted CPU − (1 − done + "
               f"{WALL_SLACK:.2f}), largest: {max((r['cpu'] / w['full_cpu'] - (1 - w['done'] + WALL_SLACK) for r, w in zip(recs, ws)), default=0):+.3f})")
    if res["sweep"]:
        w, why = sweep_choice(res["sweep"])
        out.append(f"pre-roll W by measurement: {why}" + ("" if w is None else
                   f"; the default {DEFAULT_W:g} s {'is' if w <= DEFAULT_W else 'is not'} at or above it"))
    return out


def finish(res: dict, path: Path) -> None:
    recs = [r for v in res["kills"].values() for r in v]
    vals = [(abs(x), abs(y)) for f, nd in res["noise"].items() for k, per in nd["per_k"].items()
            for d in per.values() for x, y in zip(d["psnr"], d["bytes"])]
    res["noise_worst"] = (max((v[0] for v in vals), default=0.0), max((v[1] for v in vals), default=0.0))
    others = [r["others"] for r in recs + res["sweep"]] + [f["others"] for v in res["full"].values() for f in v]
    others.sort()
    res["others_range"] = f"{others[0]:.2f}–{others[-1]:.2f}" if others else "?"
    res["others_median"] = f"{others[len(others) // 2]:.2f}" if others else "?"
    res["verdicts"] = verdicts(res)
    lines = block_lines(res)
    print("\n".join(lines))
    run.write_block(lines, path, BEGIN, END)
    run.log(f"wrote the resume block of {path}")


def slim(rec: dict) -> dict:
    """A record without the bulky parts, for the saved JSON."""
    r = dict(rec)
    if "report" in r:
        rep = r["report"]
        r["report"] = {k: rep[k] for k in ("renditions", "audio", "audioOnlyVariant", "resume", "segmentFormat",
                                           "segmentDuration", "durationSeconds") if k in rep}
    if "structure" in r:
        r["structure"] = {n: {"bytes": s["bytes"], "durations": s["durations"], "sha": s["sha"]}
                          for n, s in r["structure"].items()}
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="30 s source, fmp4 only, kill at 50%%, W sweep {0, 6}")
    ap.add_argument("--format", choices=["fmp4", "ts"], default="fmp4", help="the one format of --quick (default fmp4)")
    ap.add_argument("--sweep", metavar="W,W,...", help="the pre-roll values of the sweep (default 0,2,4,6,10; "
                    "--quick 0,6); the default W is always one")
    ap.add_argument("--no-build", action="store_true", help="use the existing .build/release/hlsify")
    ap.add_argument("--keep", action="store_true", help="keep every output under .cache/bench/resume/")
    ap.add_argument("--results", type=Path, default=run.RESULTS_MD, help="RESULTS.md to write the block into")
    ap.add_argument("--render", type=Path, metavar="JSON", help="only rewrite the block from a saved results JSON")
    args = ap.parse_args()
    if args.render:
        finish(json.loads(args.render.read_text()), args.results)
        return
    for tool in ("ffmpeg", "ffprobe"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed")
    WORK.mkdir(parents=True, exist_ok=True)
    if not args.no_build:
        run.log("swift build -c release")
        run.run_checked(["swift", "build", "-c", "release"], cwd=ROOT)
    if not run.hlsify_bin().exists():
        sys.exit(f"{run.hlsify_bin()} is missing (run swift build -c release)")
    src = make_source(args.quick)
    info = probe_source(src)
    run.log(f"source {src.name}: {info}")
    formats = [args.format] if args.quick else ["fmp4", "ts"]
    sweep_fmt = formats[0]   # fmp4 (but for --quick --format ts)
    fractions = [0.5] if args.quick else [0.10, 0.50, 0.70, 0.95]
    ws = [0.0, 6.0] if args.quick else [0.0, 2.0, 4.0, 6.0, 10.0]
    if args.sweep:
        ws = sorted({float(x) for x in args.sweep.split(",")} | {DEFAULT_W})
    schedule = (["full-1", 0.5, "full-2"] if args.quick else ["full-1", 0.10, 0.50, "full-2", 0.70, 0.95])

    ex = Experiment(args, src, info)
    snap = WORK / "sweep-snapshot"     # the 50% fmp4 kill's staging folder, for the W sweep
    if snap.exists():
        shutil.rmtree(snap)
    snap.mkdir(parents=True)
    t_start = time.monotonic()
    for step in schedule:
        for fmt in formats:    # alternate the formats at every step
            if isinstance(step, str):
                ex.uninterrupted(fmt, int(step[-1]))
            else:
                ex.kills.setdefault(fmt, []).append(ex.kill_and_resume(
                    fmt, step, snapshot=snap if (fmt, step) == (sweep_fmt, 0.5) else None))
        if step == "full-1":
            w1 = ex.full[formats[0]][0]["wall"]
            est = w1 * len(formats) * (2 + 1.1 * len(fractions)) + w1 * 0.6 * (len(ws) - 1)
            run.log(f"expected duration of the runs: about {est / 60:.0f} min (+ PSNR), from this run's wall")
    for w in ws:   # from the 50% fmp4 kill's staging folder; its own resume is the default W's row
        if w == DEFAULT_W:
            ex.sweep.append(dict(next(r for r in ex.kills[sweep_fmt] if r["fraction"] == 0.5), reused=True))
        else:
            ex.sweep.append(ex.kill_and_resume(sweep_fmt, 0.5, w=w, tag="sweep", snapshot=snap))
    shutil.rmtree(snap, ignore_errors=True)
    for fmt in formats:
        ex.noise(fmt)
    run.log(f"all runs done in {(time.monotonic() - t_start) / 60:.1f} min")

    first = ex.full[formats[0]][0]["report"]
    ladder = [{"name": r["name"], "threads": r["encoder"]["threads"], "sliced": r["encoder"]["slicedThreads"]}
              for r in first["renditions"]]
    res = {"quick": args.quick, "argv": "".join(" " + a for a in sys.argv[1:]), "machine": run.machine(),
           "binary_built": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run.hlsify_bin().stat().st_mtime)),
           "src": str(src), "source": info, "duration": first["durationSeconds"],
           "segment_duration": first["segmentDuration"], "preset": first["renditions"][0]["encoder"]["preset"],
           "ladder": ladder,
           "full": {f: [slim(x) for x in v] for f, v in ex.full.items()},
           "kills": {f: [slim(x) for x in v] for f, v in ex.kills.items()},
           "sweep": [slim(x) for x in ex.sweep], "noise": ex.noise_data,
           "elapsed_min": (time.monotonic() - t_start) / 60}
    RESULTS_JSON.write_text(json.dumps(res, indent=1, default=str))
    res = json.loads(RESULTS_JSON.read_text())    # the same shape --render sees (string keys)
    finish(res, args.results)
    if not args.keep:
        for fmt in formats:
            for i in (1, 2):
                shutil.rmtree(WORK / fmt / f"full-{i}", ignore_errors=True)


def _terminate(signum, frame):
    if _current is not None and _current.poll() is None:
        os.killpg(_current.pid, signal.SIGKILL)
    sys.exit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, _terminate)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        main()
    finally:
        if _current is not None and _current.poll() is None:
            os.killpg(_current.pid, signal.SIGKILL)
