#!/usr/bin/env python3
"""Split jobs measured (issue 14, "Speed-up"): one lecture on 1 and 2 workers, and a model for more.

    scripts/rabbitmq-test-node.sh run -- python3 Benchmarks/chunks.py            # full run
    scripts/rabbitmq-test-node.sh run -- python3 Benchmarks/chunks.py --quick    # smoke test (< 5 min)
    python3 Benchmarks/chunks.py --quick        # the same: starts the private broker itself
    python3 Benchmarks/chunks.py --render .cache/bench/chunks-results.json   # only rewrite RESULTS.md

Python 3 standard library (reuses run.py's and resume.py's helpers), plus pika for the events: when
the interpreter has no pika the script runs itself again under the test venv's
(.cache/venv/bin/python, `make deps`). Needs root (the private RabbitMQ node), taskset, ffmpeg/ffprobe
and swift. Without HLSIFY_TEST_AMQP_URL in its environment it builds, makes the source, then runs
itself again inside `scripts/rabbitmq-test-node.sh run --`.

What it does, in order:
 1. builds the release binaries (`swift build -c release`, skipped with --no-build);
 2. the source: resume.py's 120 s 1080p clip (run.py's Big Buck Bunny looped to 120 s, a keyframe
    every 2 s), made once under .cache/bench/src/; --quick takes its first 30 s;
 3. runs, in this order: split on N=1, split on N=2, split on N=1, split on N=2, then the same job
    unsplit (chunkDuration 0) on N=1 (--quick: one split run on each N, then the unsplit one).
    A run starts N real `transcode-worker` processes (.build/release), worker i pinned to CPU i
    with `taskset -c i`, on a jobs queue of the run's own against the private broker, with
    `--chunk-check-interval 5`; waits until all N consume; submits the job (default ladder
    1080p,720p,480p, fmp4, `chunkDuration` 30; --quick 12, since a source is split only when it
    is at least two chunks long) with `transcode-worker submit`; and reads the job's events from
    `hlsify.events` through a queue of its own until `job.completed`. T = wall time from starting
    `submit` to receiving `job.completed`. Per run it keeps every event's worker clock timestamp:
    plan = job.started − job.accepted (the planner's split), each chunk's `encodeSeconds` and
    worker (job.chunk), the stitch = the tail from the last job.chunk to job.completed (fan-in,
    stitch message, output lock, stitch, rename, marker); the workers' CPU time
    (/proc), the other processes' load, and what looked wrong (duplicate or retried chunks,
    failures, warnings in the workers' logs, a work folder left behind, no master.m3u8);
 4. the model: T(N) = plan + makespan of the chunks on N workers (LPT: longest first to the least
    loaded worker; the audio chunk one more task) + stitch, from the per-chunk costs, plan
    (submit → job.started) and stitch measured on N=1 (mean of the N=1 runs), checked against
    the measured N=1 and N=2 within ±10%; then a 90-minute lecture (5400 s) with the default
    240 s chunks on 1, 4, 8 and 16 workers: video chunk cost ∝ media seconds including its 6 s
    pre-roll (none before the first chunk), audio ∝ duration, plan as measured, stitch ∝ output
    bytes (∝ duration);
 5. prints the tables, writes .cache/bench/chunks-results.json and the block between the
    `chunks` markers of Benchmarks/RESULTS.md (created just before `## Notes` when absent;
    nothing else in the file is touched).

Criterion (issue 14): T(1) / T(2) ≥ 1.8 for the split job (means over the runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (Benchmarks/run.py: logging, machine description, busy time)
import resume  # noqa: E402  (Benchmarks/resume.py: the 120 s source)

ROOT = run.ROOT
CACHE = run.CACHE
WORK = CACHE / "chunks"
RESULTS_JSON = CACHE / "chunks-results.json"
BEGIN = "<!-- chunks:begin -->"
END = "<!-- chunks:end -->"
VENV_PYTHON = ROOT / ".cache" / "venv" / "bin" / "python"
BROKER_SCRIPT = ROOT / "scripts" / "rabbitmq-test-node.sh"
EVENTS_EXCHANGE = "hlsify.events"
LADDER = ["1080p", "720p", "480p"]
CHECK_INTERVAL = 5.0
PRE_ROLL = 6.0            # seconds of video encoded (and dropped) before every chunk but the first
SPEEDUP_TARGET = 1.8
MODEL_TOL = 0.10
LECTURE = 5400.0          # 90 minutes
LECTURE_CHUNK = 240.0     # the worker's default --chunk-duration
LECTURE_WORKERS = [4, 8, 16]

_procs: list[subprocess.Popen] = []   # the workers we started and have not stopped yet


def log(msg: str) -> None:
    run.log(msg)


# ---------------------------------------------------------------------------- environment

def has_pika() -> bool:
    try:
        import pika  # noqa: F401
        return True
    except ImportError:
        return False


def worker_bin() -> Path:
    return ROOT / ".build" / "release" / "transcode-worker"


def reexec_if_needed(args) -> None:
    """Builds and makes the source outside the broker, then runs again inside
    rabbitmq-test-node.sh (no HLSIFY_TEST_AMQP_URL) and/or under the venv's Python (no pika)."""
    py = sys.executable
    if not has_pika():
        if not VENV_PYTHON.exists():
            sys.exit("pika is needed: run `make deps` (it makes .cache/venv with pika) or install python3-pika")
        py = str(VENV_PYTHON)
    argv = [py, str(Path(__file__).resolve())] + sys.argv[1:]
    if not os.environ.get("HLSIFY_TEST_AMQP_URL"):
        prepare(args)
        os.environ["HLSIFY_CHUNKS_PREPARED"] = "1"
        log("starting a private RabbitMQ node: scripts/rabbitmq-test-node.sh run -- " + " ".join(argv[1:]))
        sys.stdout.flush()
        os.execv(str(BROKER_SCRIPT), [str(BROKER_SCRIPT), "run", "--"] + argv)
    if py != sys.executable:
        log(f"no pika in {sys.executable}: running again under {py}")
        sys.stdout.flush()
        os.execv(py, argv)


def prepare(args) -> None:
    """The build and the source, once (before the broker starts, when the script starts it)."""
    if os.environ.get("HLSIFY_CHUNKS_PREPARED") == "1":
        return
    for tool in ("ffmpeg", "ffprobe", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed")
    if not args.no_build:
        log("swift build -c release")
        run.run_checked(["swift", "build", "-c", "release"], cwd=ROOT)
    for b in (worker_bin(), run.hlsify_bin()):
        if not b.exists():
            sys.exit(f"{b} is missing (run swift build -c release)")
    resume.make_source(args.quick)
    os.environ["HLSIFY_CHUNKS_PREPARED"] = "1"


# ---------------------------------------------------------------------------- the source

def keyframes(src: Path) -> list[float]:
    p = run.run_checked(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                         "packet=pts_time,flags", "-of", "csv=p=0", str(src)])
    out = []
    for line in p.stdout.splitlines():
        parts = line.strip().split(",")
        if len(parts) >= 2 and "K" in parts[1] and parts[0] not in ("", "N/A"):
            out.append(float(parts[0]))
    return sorted(out)


def engine_threads(src: Path) -> dict:
    """x264 threads the engine plans for the 1080p rung with and without `taskset -c 0` (a plan
    only: no encoding), to see whether it notices it has one CPU."""
    res = {}
    for tag, pre in (("pinned", ["taskset", "-c", "0"]), ("free", [])):
        d = WORK / f"threads-{tag}"
        shutil.rmtree(d, ignore_errors=True)
        run.run_checked(pre + [str(run.hlsify_bin()), "plan", str(src), "--work", str(d), "--chunk-duration", "0"])
        found = []

        def walk(x):
            if isinstance(x, dict):
                if isinstance(x.get("threads"), int) and "slicedThreads" in x:
                    found.append({"threads": x["threads"], "sliced": bool(x["slicedThreads"])})
                for v in x.values():
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)
        walk(json.loads((d / "plan.json").read_text()))
        if found:
            res[tag] = max(found, key=lambda t: t["threads"])   # the heaviest rung's
        shutil.rmtree(d, ignore_errors=True)
    try:
        res["nproc_pinned"] = int(subprocess.run(["taskset", "-c", "0", "nproc"], stdout=subprocess.PIPE,
                                                 text=True).stdout.strip())
    except (OSError, ValueError):
        pass
    return res


# ---------------------------------------------------------------------------- one run

def parse_ts(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def proc_cpu(pid: int) -> float:
    try:
        return run._stat_cpu(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return 0.0


def stop(p: subprocess.Popen, grace: float = 40.0) -> None:
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if p in _procs:
        _procs.remove(p)


def clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("HLSIFY_")}


class Run:
    """One job on N pinned workers, from submit to job.completed."""

    def __init__(self, url: str, src: Path, mode: str, n: int, rnd: int, chunk_duration: float, timeout: float) -> None:
        self.url, self.src, self.mode, self.n, self.rnd = url, src, mode, n, rnd
        self.chunk_duration = chunk_duration if mode == "split" else 0.0
        self.timeout = timeout
        tag = uuid.uuid4().hex[:8]
        self.job_id = f"{mode}-n{n}-r{rnd}-{tag}"
        self.prefix = f"bench-{tag}"
        self.topo = ["--jobs-queue", f"{self.prefix}.jobs", "--dead-letter-exchange", f"{self.prefix}.dead",
                     "--dead-letter-queue", f"{self.prefix}.jobs.dead", "--events-exchange", EVENTS_EXCHANGE]
        self.out_root = WORK / "out"
        self.logs = WORK / "logs"

    def worker_cmd(self, i: int) -> list[str]:
        return ["taskset", "-c", str(i), str(worker_bin()), "run", "--amqp-url", self.url,
                "--input-root", str(self.src.parent), "--output-root", str(self.out_root),
                "--worker-id", f"w{i}", "--chunk-check-interval", f"{CHECK_INTERVAL:g}", "--log-level", "info"] + self.topo

    def execute(self) -> dict:
        import pika
        if self.out_root.exists():
            shutil.rmtree(self.out_root)
        self.out_root.mkdir(parents=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        conn = pika.BlockingConnection(pika.URLParameters(self.url))
        try:
            return self._execute(conn, pika)
        finally:
            for p in list(_procs):
                stop(p)
            try:
                conn.close()
            except Exception:
                pass

    def _execute(self, conn, pika) -> dict:
        ch = conn.channel()
        ch.exchange_declare(EVENTS_EXCHANGE, exchange_type="topic", durable=True)
        q = ch.queue_declare("", exclusive=True, auto_delete=True).method.queue
        ch.queue_bind(q, EVENTS_EXCHANGE, routing_key="job.#")
        workers = []
        for i in range(self.n):
            logf = self.logs / f"{self.job_id}-w{i}.log"
            with open(logf, "w") as lf:
                p = subprocess.Popen(self.worker_cmd(i), stdout=subprocess.DEVNULL, stderr=lf, env=clean_env(),
                                     start_new_session=True)
            _procs.append(p)
            workers.append({"id": f"w{i}", "cpu_list": str(i), "pid": p.pid, "proc": p, "log": str(logf)})
        self._await_consumers(conn, pika, workers)

        job = {"jobId": self.job_id, "input": self.src.name, "output": self.job_id, "ladder": LADDER,
               "segmentFormat": "fmp4", "chunkDuration": self.chunk_duration}
        load = os.getloadavg()[0]
        cpu0 = {w["id"]: proc_cpu(w["pid"]) for w in workers}
        busy0 = run.busy_seconds()
        t_submit_wall = time.time()
        t0 = time.monotonic()
        sp = subprocess.run([str(worker_bin()), "submit", "-", "--amqp-url", self.url] + self.topo,
                            input=json.dumps(job), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=clean_env())
        submit_s = time.monotonic() - t0
        if sp.returncode != 0:
            sys.exit(f"submit failed ({sp.returncode}): {sp.stderr[-2000:]}")

        events, seen, done, wall = [], set(), None, None
        for method, props, body in ch.consume(q, inactivity_timeout=0.5, auto_ack=True):
            now = time.monotonic() - t0
            if method is not None:
                try:
                    ev = json.loads(body)
                except ValueError:
                    continue
                if ev.get("jobId") != self.job_id or ev.get("eventId") in seen:
                    continue
                seen.add(ev.get("eventId"))
                if ev.get("state") in ("progress", "segment"):
                    continue
                rec = {"state": ev["state"], "ts": parse_ts(ev["timestamp"]), "recv": now, "worker": ev.get("workerId"),
                       "attempt": ev.get("attempt")}
                for k in ("chunk", "error", "willRetry", "deadLettered", "redelivered", "warnings"):
                    if k in ev:
                        rec[k] = ev[k]
                if ev["state"] == "completed":
                    rec["completed"] = {k: ev.get(k) for k in ("durationSeconds", "elapsedSeconds", "bytes", "segments",
                                                               "speed", "segmentDuration", "segmentFormat")}
                    rec["completed"]["renditions"] = [{k: r.get(k) for k in ("name", "segments", "bytes", "encodedFrames")}
                                                      for r in ev.get("renditions", [])]
                events.append(rec)
                if ev["state"] == "chunk":
                    c = ev["chunk"]
                    log(f"  {ev['workerId']}: {c['name']} in {c['encodeSeconds']:.1f} s ({c['committed']}/{c['of']}) "
                        f"at {now:.1f} s")
                elif ev["state"] in ("accepted", "started"):
                    log(f"  {ev['workerId']}: job.{ev['state']} at {now:.1f} s")
                if ev["state"] == "completed":
                    done, wall = "completed", now
                    break
                if ev["state"] == "rejected" or (ev["state"] == "failed" and not ev.get("willRetry")):
                    done, wall = ev["state"], now
                    break
            if now > self.timeout:
                done, wall = "timeout", now
                break
            dead = [w for w in workers if w["proc"].poll() is not None]
            if dead:
                done, wall = f"worker {dead[0]['id']} exited ({dead[0]['proc'].returncode})", now
                break
        ch.cancel()
        cpu = {w["id"]: proc_cpu(w["pid"]) - cpu0[w["id"]] for w in workers}
        others = max(0.0, run.busy_seconds() - busy0 - sum(cpu.values())) / max(wall, 1e-9)
        for w in workers:
            stop(w["proc"])
        wrec = []
        for w in workers:
            text = Path(w["log"]).read_text(errors="replace")
            bad = [ln for ln in text.splitlines() if re.search(r"\b(warning|error|critical)\b", ln)]
            wrec.append({"id": w["id"], "cpu_list": w["cpu_list"], "cpu": cpu[w["id"]], "log": w["log"],
                         "log_problems": bad[:20], "exit": w["proc"].returncode})
        if done != "completed":
            tails = "\n".join(f"--- {w['id']}\n" + Path(w["log"]).read_text(errors="replace")[-3000:] for w in workers)
            sys.exit(f"{self.job_id}: {done} after {wall:.1f} s\n{tails}")
        out = self.out_root / self.job_id
        work_left = (self.out_root / ".hlsify-work" / self.job_id).exists()
        rec = {"label": f"{self.mode} N={self.n} #{self.rnd}", "mode": self.mode, "n": self.n, "round": self.rnd,
               "job_id": self.job_id, "chunk_duration": self.chunk_duration, "wall": wall, "submit_s": submit_s,
               "submit_wall": t_submit_wall, "events": events, "workers": wrec, "others": others, "load": load,
               "master": (out / "master.m3u8").exists(), "work_left": work_left}
        rec["anomalies"] = anomalies(rec)
        return rec

    def _await_consumers(self, conn, pika, workers: list[dict], limit: float = 60.0) -> None:
        t = time.monotonic()
        probe = None
        while time.monotonic() - t < limit:
            for w in workers:
                if w["proc"].poll() is not None:
                    sys.exit(f"worker {w['id']} exited ({w['proc'].returncode}) before consuming:\n"
                             + Path(w["log"]).read_text(errors="replace")[-3000:])
            try:
                if probe is None or probe.is_closed:
                    probe = conn.channel()
                n = probe.queue_declare(f"{self.prefix}.jobs", passive=True).method.consumer_count
                if n >= self.n:
                    probe.close()
                    return
            except pika.exceptions.ChannelClosedByBroker:
                probe = None
            conn.sleep(0.2)
        sys.exit(f"the {self.n} workers did not all consume within {limit:.0f} s")


# ---------------------------------------------------------------------------- analysis

def first(events: list[dict], state: str) -> dict | None:
    return next((e for e in events if e["state"] == state), None)


def chunk_events(rec: dict) -> list[dict]:
    return [e for e in rec["events"] if e["state"] == "chunk"]


def anomalies(rec: dict) -> list[str]:
    out = []
    ev = rec["events"]
    for state in ("accepted", "started", "completed"):
        k = sum(1 for e in ev if e["state"] == state)
        if k != 1:
            out.append(f"{k} job.{state} events")
    if any(e["state"] in ("failed", "rejected") for e in ev):
        out.append("job.failed/rejected: " + "; ".join(json.dumps(e.get("error")) for e in ev
                                                       if e["state"] in ("failed", "rejected")))
    if any((e.get("attempt") or 1) > 1 for e in ev):
        out.append("events from a second attempt: " + ", ".join(f"{e['state']} {e.get('chunk', {}).get('name', '')}"
                                                                 for e in ev if (e.get("attempt") or 1) > 1))
    if rec["mode"] == "split":
        names = [e["chunk"]["name"] for e in chunk_events(rec)]
        if not names:
            out.append("no job.chunk events (the job was not split)")
        elif len(names) != len(set(names)):
            out.append("a chunk reported twice: " + ", ".join(sorted(n for n in set(names) if names.count(n) > 1)))
        elif names and len(set(names)) != chunk_events(rec)[0]["chunk"]["of"]:
            out.append(f"{len(set(names))} chunks reported, the job has {chunk_events(rec)[0]['chunk']['of']}")
    elif chunk_events(rec):
        out.append("job.chunk events in an unsplit job")
    if not rec["master"]:
        out.append("no master.m3u8 in the output")
    if rec["work_left"]:
        out.append("the job's work folder was left behind")
    for w in rec["workers"]:
        if w["exit"] not in (0, None):
            out.append(f"{w['id']} exited {w['exit']} on SIGTERM")
        for ln in w["log_problems"]:
            out.append(f"{w['id']} log: {ln.strip()[:300]}")
    return out


def derive(rec: dict) -> dict:
    """Where the run's time went, from the workers' event timestamps (one clock: one machine)."""
    ev = rec["events"]
    acc, sta, com = first(ev, "accepted"), first(ev, "started"), first(ev, "completed")
    d = {"wall": rec["wall"], "submit_to_accepted": acc["ts"] - rec["submit_wall"],
         "plan": sta["ts"] - acc["ts"], "to_started": sta["ts"] - rec["submit_wall"],
         "stitch": com["completed"]["elapsedSeconds"], "duration": com["completed"]["durationSeconds"],
         "bytes": com["completed"]["bytes"], "segment_duration": com["completed"]["segmentDuration"],
         "completed_recv_lag": rec["wall"] - (com["ts"] - rec["submit_wall"])}
    chunks = []
    for e in chunk_events(rec):
        c = e["chunk"]
        chunks.append({"name": c["name"], "worker": e["worker"], "encode": c["encodeSeconds"], "end": e["ts"],
                       "start": e["ts"] - c["encodeSeconds"]})
    d["chunks"] = chunks
    if chunks:
        d["first_chunk_start"] = min(c["start"] for c in chunks) - sta["ts"]
        d["chunks_phase"] = max(c["end"] for c in chunks) - min(c["start"] for c in chunks)
        d["tail"] = com["ts"] - max(c["end"] for c in chunks)   # fan-in, stitch message, lock, stitch, rename
        # A stitched job's elapsedSeconds runs from its plan (README): the stitch is the serial tail.
        d["stitch"] = d["tail"]
        d["encode_sum"] = sum(c["encode"] for c in chunks)
        per = {}
        for c in chunks:
            w = per.setdefault(c["worker"], {"busy": 0.0, "first": c["start"], "last": c["end"], "chunks": []})
            w["busy"] += c["encode"]
            w["first"] = min(w["first"], c["start"])
            w["last"] = max(w["last"], c["end"])
            w["chunks"].append(c["name"])
        d["per_worker"] = per
        # Everything but plan, encoding and stitch: the model's blind spot.
        d["unmodelled"] = rec["wall"] - d["to_started"] - (d["chunks_phase"] if rec["n"] > 1 else d["encode_sum"]) - d["stitch"]
    else:
        d["encode"] = com["completed"]["elapsedSeconds"]
    return d


def layout(duration: float, seg: float, chunk_duration: float, kf: list[float]) -> list[dict]:
    """Video chunks of a split (ChunkLayout): media seconds and the pre-roll each one encodes."""
    per = max(1, int(math.floor(chunk_duration / seg)))
    segments = int(math.ceil(duration / seg - 1e-9))
    k_n = max(1, (segments + per - 1) // per)
    out = []
    for k in range(k_n):
        start = k * per * seg
        end = min((k + 1) * per * seg, duration) if k + 1 < k_n else duration
        pre = 0.0
        if start > 0:
            before = [t for t in kf if t <= start - PRE_ROLL + 1e-6] if kf else []
            pre = start - (max(before) if before else 0.0) if kf else min(PRE_ROLL, start)
        out.append({"name": f"video-{k:03d}", "start": start, "media": end - start, "pre": pre})
    return out


def lpt(costs: list[float], n: int) -> float:
    loads = [0.0] * n
    for c in sorted(costs, reverse=True):
        i = loads.index(min(loads))
        loads[i] += c
    return max(loads)


def fifo(costs: list[float], n: int) -> float:
    """The queue's own order: each task, in publication order, to the first worker free."""
    loads = [0.0] * n
    for c in costs:
        i = loads.index(min(loads))
        loads[i] += c
    return max(loads)


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def analyse(res: dict) -> dict:
    runs = res["runs"]
    for r in runs:
        r["derived"] = derive(r)
    split = {n: [r for r in runs if r["mode"] == "split" and r["n"] == n] for n in (1, 2)}
    unsplit = [r for r in runs if r["mode"] == "unsplit"]
    a = {}
    one = split[1]
    d0 = one[0]["derived"]
    duration, seg = d0["duration"], d0["segment_duration"]
    lay = layout(duration, seg, res["chunk_duration"], res.get("keyframes", []))
    names = [c["name"] for c in lay] + ["audio"]
    cost = {nm: mean([next((c["encode"] for c in r["derived"]["chunks"] if c["name"] == nm), None) for r in one])
            for nm in names}
    cost2 = {nm: mean([next((c["encode"] for c in r["derived"]["chunks"] if c["name"] == nm), None) for r in split[2]])
             for nm in names}
    plan = mean([r["derived"]["to_started"] for r in one])
    stitch = mean([r["derived"]["stitch"] for r in one])
    T = {n: mean([r["wall"] for r in split[n]]) for n in (1, 2)}
    a.update({"layout": lay, "names": names, "cost": cost, "cost2": cost2, "plan": plan, "stitch": stitch, "T": T,
              "duration": duration, "segment_duration": seg,
              "plan_only": mean([r["derived"]["plan"] for r in one]),
              "bytes": mean([r["derived"]["bytes"] for r in one])})
    a["speedup"] = T[1] / T[2] if T[1] and T[2] else None
    a["speedup_ok"] = a["speedup"] is not None and a["speedup"] >= SPEEDUP_TARGET
    a["speedup_runs"] = [r1["wall"] / r2["wall"] for r1, r2 in zip(split[1], split[2])]
    a["T_unsplit"] = mean([r["wall"] for r in unsplit])
    a["encode_unsplit"] = mean([r["derived"].get("encode") for r in unsplit])
    tasks = [cost[nm] for nm in names if cost[nm] is not None]
    model = []
    for n in (1, 2):
        ms, mf = lpt(tasks, n), fifo(tasks, n)
        tm = plan + ms + stitch
        err = (tm - T[n]) / T[n] if T[n] else None
        model.append({"n": n, "makespan": ms, "makespan_fifo": mf, "model": tm, "model_fifo": plan + mf + stitch,
                      "measured": T[n], "error": err, "ok": err is not None and abs(err) <= MODEL_TOL,
                      "error_fifo": (plan + mf + stitch - T[n]) / T[n] if T[n] else None})
    a["model"] = model
    # Contention: the same chunk's encode time on N=2 against N=1.
    ratios = [cost2[nm] / cost[nm] for nm in names if cost2.get(nm) and cost.get(nm)]
    a["contention"] = mean(ratios)
    cpu = {n: mean([sum(w["cpu"] for w in r["workers"]) for r in split[n]]) for n in (1, 2)}
    a["cpu_ratio"] = cpu[2] / cpu[1] if cpu[1] and cpu[2] else None
    # Each N=2 worker's CPU over the span it had chunks to encode (first chunk start to last chunk end).
    shares = []
    for r in split[2]:
        per = r["derived"].get("per_worker", {})
        for w in r["workers"]:
            span = per.get(w["id"])
            if span and span["last"] > span["first"]:
                shares.append(w["cpu"] / (span["last"] - span["first"]))
    a["cpu_share2"] = (min(shares), max(shares)) if shares else None
    # The lecture.
    vids = [(c, cost[c["name"]]) for c in lay if cost.get(c["name"]) is not None]
    rate = sum(x for _, x in vids) / sum(c["media"] + c["pre"] for c, _ in vids)
    a["rate"] = rate
    a["rate_per_chunk"] = {c["name"]: x / (c["media"] + c["pre"]) for c, x in vids}
    a["audio_rate"] = cost["audio"] / duration if cost.get("audio") is not None else 0.0
    lec = layout(LECTURE, seg, LECTURE_CHUNK, [])
    lec_tasks = [rate * (c["media"] + c["pre"]) for c in lec] + [a["audio_rate"] * LECTURE]
    lec_stitch = stitch * LECTURE / duration
    pred = []
    t1 = plan + lpt(lec_tasks, 1) + lec_stitch
    unsplit_one = a["T_unsplit"] * LECTURE / duration if a["T_unsplit"] else None
    for n in [1] + LECTURE_WORKERS:
        ms = lpt(lec_tasks, n)
        t = plan + ms + lec_stitch
        pred.append({"n": n, "makespan": ms, "T": t, "speedup": t1 / t, "speedup_unsplit": unsplit_one / t if unsplit_one else None,
                     "efficiency": t1 / t / n, "ideal": plan + sum(lec_tasks) / n + lec_stitch})
    a["lecture"] = {"chunks": len(lec), "last_chunk": lec[-1]["media"], "tasks": lec_tasks, "stitch": lec_stitch,
                    "pre_share": sum(c["pre"] for c in lec) / LECTURE, "unsplit_one": unsplit_one, "pred": pred}
    a["pre_share"] = sum(c["pre"] for c in lay) / duration
    a["lpt2_vs_ideal"] = model[1]["makespan"] / (sum(tasks) / 2) - 1 if tasks else None
    others = sorted(r["others"] for r in runs)
    a["others_range"] = f"{others[0]:.2f}–{others[-1]:.2f}"
    a["others_median"] = f"{statistics.median(others):.2f}"
    a["anomalies"] = [(r["label"], x) for r in runs for x in r.get("anomalies", [])]
    return a


# ---------------------------------------------------------------------------- report

def f1(x, nd=1):
    return run.fmt(x, nd)


def pct(x):
    return "–" if x is None else f"{100 * x:+.1f}%"


def verdict(ok):
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def block_lines(res: dict, a: dict) -> list[str]:
    mc = res["machine"]
    lay = a["layout"]
    L = ["## Time chunks: split jobs on N workers (issue 14)", ""]
    if res["quick"]:
        L += [f"> **This is a `--quick` smoke run** ({a['duration']:g} s source, chunkDuration "
              f"{res['chunk_duration']:g}, one split run on each N and one unsplit): indicative only, "
              "not the issue's figures. Run the full benchmark on a quiet machine for those.", ""]
    th = res.get("engine_threads", {})
    thread_note = ""
    if th.get("pinned") and th.get("free"):
        p = th["pinned"]
        thread_note = (f"- under `taskset -c 0` (`nproc` {th.get('nproc_pinned', '?')}) the engine plans the 1080p rung on "
                       f"{p['threads']} {'sliced ' if p['sliced'] else ''}x264 thread(s), unpinned on "
                       f"{th['free']['threads']}: " + ("it does not notice the affinity mask (Foundation's "
                       "activeProcessorCount counts the machine's cores), so each pinned worker runs the 2-core "
                       "thread plan on one CPU" if p == th["free"] else "it follows the affinity mask"))
    argv = re.sub(r" --results(=| )\S+", "", res["argv"])
    L += [f"Command: `scripts/rabbitmq-test-node.sh run -- python3 Benchmarks/chunks.py{argv}`", "",
          f"- date: {mc['date']}",
          f"- machine: {mc['nproc']} cores ({mc['cpu']}), {mc['memory']} memory, Linux {mc['kernel']}; other processes "
          f"kept {a['others_range']} cores busy during the runs (median {a['others_median']}: the broker, this script "
          "and whatever else ran), so wall times carry that noise",
          f"- hlsify commit {mc['commit']}; binaries .build/release built {res.get('binary_built', '?')}; {mc['swift']}; "
          f"{mc['ffmpeg']}",
          f"- source: `{Path(res['src']).name}` ({a['duration']:g} s, 1080p25, AAC; resume.py's clip: Big Buck Bunny "
          "looped, a keyframe every 2 s)",
          f"- job: ladder {','.join(LADDER)}, fmp4, {a['segment_duration']:g} s segments, chunkDuration "
          f"{res['chunk_duration']:g} → {len(lay)} video chunks of "
          + ", ".join(f"{c['media']:g}" for c in lay) + f" s (whole segments) + the audio chunk; each video chunk but "
          f"the first also encodes a {PRE_ROLL:g} s pre-roll (+{100 * a['pre_share']:.0f}% video work)",
          f"- workers: real `transcode-worker run` processes (release), worker i pinned with `taskset -c i` (N=1: CPU 0; "
          f"N=2: CPUs 0 and 1; not cgroup quotas), prefetch 1, `--chunk-check-interval {CHECK_INTERVAL:g}`, a fresh jobs "
          "queue per run on a private RabbitMQ node (scripts/rabbitmq-test-node.sh); the job is sent with "
          "`transcode-worker submit`; T = wall from starting `submit` to receiving `job.completed` (own queue on "
          "`hlsify.events`, pika)",
          "- times inside a run come from the events' timestamps: plan = job.started − job.accepted; chunk = "
          "`encodeSeconds`; stitch = tail = last job.chunk → job.completed "
          "(fan-in, stitch message, output lock, stitch, rename, marker)"]
    if thread_note:
        L.append(thread_note)
    L += ["", "### Measured", "",
          "| run | T s | submit → accepted s | plan s | → first chunk s | chunks s | tail s (stitch) | "
          "worker CPU s (/ T) | others (cores) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["runs"]:
        d = r["derived"]
        cpu = " + ".join(f"{w['cpu']:.0f} ({w['cpu'] / r['wall']:.2f})" for w in r["workers"])
        if r["mode"] == "split":
            L.append(f"| {r['label']} | {r['wall']:.1f} | {d['submit_to_accepted']:.2f} | {d['plan']:.2f} | "
                     f"{d['first_chunk_start']:.2f} | {d['chunks_phase']:.1f} | {d['tail']:.2f} ({d['stitch']:.2f}) | "
                     f"{cpu} | {r['others']:.2f} |")
        else:
            L.append(f"| {r['label']} (chunkDuration 0) | {r['wall']:.1f} | {d['submit_to_accepted']:.2f} | – | – | "
                     f"{d['encode']:.1f} (whole) | – | {cpu} | {r['others']:.2f} |")
    L += ["", "| chunk | media s + pre-roll s | encode s, N=1 runs | encode s, N=2 runs (worker) | N=2 / N=1 |",
          "|---|---:|---:|---:|---:|"]
    s1 = [r for r in res["runs"] if r["mode"] == "split" and r["n"] == 1]
    s2 = [r for r in res["runs"] if r["mode"] == "split" and r["n"] == 2]
    for nm in a["names"]:
        c = next((x for x in lay if x["name"] == nm), None)
        med = f"{c['media']:g} + {c['pre']:g}" if c else f"{a['duration']:g} (audio)"
        e1 = ", ".join(f"{x['encode']:.1f}" for r in s1 for x in r["derived"]["chunks"] if x["name"] == nm)
        e2 = ", ".join(f"{x['encode']:.1f} ({x['worker']})" for r in s2 for x in r["derived"]["chunks"] if x["name"] == nm)
        ratio = a["cost2"][nm] / a["cost"][nm] if a["cost2"].get(nm) and a["cost"].get(nm) else None
        L.append(f"| {nm} | {med} | {e1} | {e2} | {f1(ratio, 2)} |")
    L += ["", f"**Speed-up T(1) / T(2) = {f1(a['speedup'], 2)}** (means: {f1(a['T'][1])} s / {f1(a['T'][2])} s; per "
          f"round: {', '.join(f'{x:.2f}' for x in a['speedup_runs'])}); criterion ≥ {SPEEDUP_TARGET}: "
          f"{verdict(a['speedup_ok'])}."]
    if a["T_unsplit"]:
        L.append(f"Unsplit on one worker: {a['T_unsplit']:.1f} s. The split job takes "
                 f"{a['T'][1] / a['T_unsplit']:.2f}× that on one worker; on two, T_unsplit / T(2) = "
                 f"{a['T_unsplit'] / a['T'][2]:.2f}.")
    L += ["", "### Model", "",
          f"T(N) = plan + makespan + stitch, from the N=1 runs: plan {a['plan']:.2f} s (submit → job.started; the "
          f"planning itself {a['plan_only']:.2f} s), stitch {a['stitch']:.2f} s, chunk costs as in the table above "
          "(means of the N=1 runs); makespan: LPT (longest task first to the least loaded worker, the audio one more "
          "task). *queue order*: the same with the tasks in the order the planner publishes them (video-000 …, "
          "audio), each to the first free worker, which is what the queue does.", "",
          "| N | makespan s (LPT) | model T s | measured T s | error | within ±10% | queue-order makespan s | "
          "queue-order model error |", "|---:|---:|---:|---:|---:|---|---:|---:|"]
    for m in a["model"]:
        L.append(f"| {m['n']} | {m['makespan']:.1f} | {m['model']:.1f} | {f1(m['measured'])} | {pct(m['error'])} | "
                 f"{verdict(m['ok'])} | {m['makespan_fifo']:.1f} | {pct(m['error_fifo'])} |")
    lec = a["lecture"]
    L += ["", f"### Prediction: a 90-minute lecture ({LECTURE:g} s, {LECTURE_CHUNK:g} s chunks)", "",
          f"{lec['chunks']} video chunks (the last {lec['last_chunk']:g} s) + audio; video cost {a['rate']:.3f} s per "
          "media second including the pre-roll (N=1 runs; per chunk "
          + ", ".join(f"{v:.3f}" for v in a["rate_per_chunk"].values())
          + f"), {PRE_ROLL:g} s pre-roll before every chunk but the first (+{100 * lec['pre_share']:.1f}% video work); "
          f"audio {a['audio_rate'] * LECTURE:.1f} s ({a['audio_rate']:.4f} s per media second); plan {a['plan']:.2f} s; "
          f"stitch {lec['stitch']:.1f} s ({a['stitch']:.2f} s × {LECTURE / a['duration']:g}, ∝ output bytes). "
          "Same machine class, one CPU per worker, the chunks' costs as on N=1 (no contention).", "",
          "| workers | makespan s | T s | T min | speed-up vs split on 1 | vs unsplit on 1 | efficiency | "
          "perfect split T s |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p in lec["pred"]:
        L.append(f"| {p['n']} | {p['makespan']:.0f} | {p['T']:.0f} | {p['T'] / 60:.1f} | {p['speedup']:.2f} | "
                 f"{f1(p['speedup_unsplit'], 2)} | {100 * p['efficiency']:.0f}% | {p['ideal']:.0f} |")
    if lec["unsplit_one"]:
        L.append("")
        L.append(f"Unsplit on one worker (the measured unsplit run scaled by duration): {lec['unsplit_one']:.0f} s "
                 f"({lec['unsplit_one'] / 60:.0f} min).")
    L += ["", "### What limits the speed-up", ""] + [f"- {x}" for x in notes(res, a)] + [""]
    an = a["anomalies"]
    L += ["### Checks", "", ("Every run: one job.accepted, job.started and job.completed, every chunk reported once, no "
                             "retry or failure, master.m3u8 in place, the work folder removed, no warning in the "
                             "workers' logs." if not an else "Seen: " + "; ".join(f"{lab}: {x}" for lab, x in an)), ""]
    return L


def notes(res: dict, a: dict) -> list[str]:
    lay = a["layout"]
    m2 = a["model"][1]
    out = []
    lec = a["lecture"]
    p16 = next(p for p in lec["pred"] if p["n"] == 16)
    t2 = a["T"][2]
    serial = a["plan"] + a["stitch"]
    if a["T_unsplit"]:
        out.append(f"Extra work: the {PRE_ROLL:g} s pre-roll of every chunk but the first adds "
                   f"{100 * a['pre_share']:.0f}% video encoding here ({len(lay)} chunks in {a['duration']:g} s); on one worker "
                   f"the split job took {pct(a['T'][1] / a['T_unsplit'] - 1)} against the unsplit one. With 240 s chunks "
                   f"the pre-roll is {100 * lec['pre_share']:.1f}% of a 90-minute lecture.")
    sizes = ", ".join(f"{c['media']:g}" for c in lay)
    out.append(f"Granularity: {len(lay)} video chunks + audio on 2 workers cannot be cut evenly "
               f"(chunks of {sizes} s): the best (LPT) makespan is "
               f"{pct(a['lpt2_vs_ideal'])} over half the work. For the lecture, {lec['chunks']} + 1 tasks on 16 workers "
               f"take two rounds: {100 * p16['efficiency']:.0f}% efficiency; chunks of about 5400 / 16 s, or a multiple of "
               "the workers, would fill them.")
    out.append(f"Serial parts: plan ({a['plan']:.2f} s from submit) and stitch ({a['stitch']:.2f} s, I/O only, on a "
               f"local disk here; over NFS it copies every byte across the network) are {100 * serial / t2:.1f}% of T(2).")
    if a["contention"] is not None:
        lo, hi = a["cpu_share2"]
        share = f"{lo:.2f}" if abs(hi - lo) < 0.005 else f"{lo:.2f}–{hi:.2f}"
        out.append(f"Contention: the same chunk took {a['contention']:.2f}× as long on N=2 as on N=1, while the "
                   f"workers' CPU time was {a['cpu_ratio']:.2f}× N=1's: on N=2 each worker got {share} of its "
                   "CPU (its CPU s over the span it had chunks to encode), the rest went to the broker, this script and every other process, which on "
                   f"N=1 had the second core to themselves (others {a['others_range']} cores). What the CPU-time ratio "
                   "shows above 1 is the cost of both cores encoding (shared caches, memory bandwidth). The model, "
                   f"calibrated on N=1, is {pct(m2['error'])} off on N=2; with one worker per machine most of this "
                   "term goes.")
    th = res.get("engine_threads", {})
    if th.get("pinned") and th.get("pinned") == th.get("free"):
        out.append("A worker held to one CPU still plans for every core of the machine (Foundation's "
                   "activeProcessorCount ignores the affinity mask, and would ignore a cgroup quota too): the 1080p "
                   f"rung runs {th['pinned']['threads']} sliced x264 threads time-sharing one CPU; a worker option for "
                   "its cores, or reading sched_getaffinity, would fix that.")
    return out[:5]


def finish(res: dict, path: Path) -> None:
    a = analyse(res)
    lines = block_lines(res, a)
    print("\n".join(lines))
    run.write_block(lines, path, BEGIN, END)
    log(f"wrote the chunks block of {path}")


# ---------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="30 s source, chunkDuration 12, one split run per N, one unsplit")
    ap.add_argument("--rounds", type=int, default=None, help="alternating N=1/N=2 rounds (default 2; --quick 1)")
    ap.add_argument("--chunk-duration", type=float, default=None, help="the job's chunkDuration (default 30; --quick 12)")
    ap.add_argument("--no-unsplit", action="store_true", help="skip the unsplit reference run")
    ap.add_argument("--no-build", action="store_true", help="use the existing .build/release binaries")
    ap.add_argument("--keep", action="store_true", help="keep the last output and the workers' logs under .cache/bench/chunks/")
    ap.add_argument("--results", type=Path, default=run.RESULTS_MD, help="RESULTS.md to write the block into")
    ap.add_argument("--render", type=Path, metavar="JSON", help="only rewrite the block from a saved results JSON")
    args = ap.parse_args()
    if args.render:
        finish(json.loads(args.render.read_text()), args.results)
        return
    reexec_if_needed(args)
    prepare(args)
    url = os.environ["HLSIFY_TEST_AMQP_URL"]
    WORK.mkdir(parents=True, exist_ok=True)
    src = resume.make_source(args.quick)
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 2)
    cd = args.chunk_duration if args.chunk_duration is not None else (12.0 if args.quick else 30.0)
    if rounds < 1 or cd <= 0:
        sys.exit("--rounds must be at least 1 and --chunk-duration more than 0")
    kf = keyframes(src)
    th = engine_threads(src)
    dur_guess = kf[-1] + 2 if kf else 120
    timeout = 30 * dur_guess + 300
    schedule = [("split", n, r) for r in range(1, rounds + 1) for n in (1, 2)]
    if not args.no_unsplit:
        schedule.append(("unsplit", 1, 1))
    log(f"source {src.name}, chunkDuration {cd:g}, {len(schedule)} runs; engine threads {th}")
    t_start = time.monotonic()
    runs = []
    for mode, n, rnd in schedule:
        log(f"run {len(runs) + 1}/{len(schedule)}: {mode} on N={n} (round {rnd})")
        rec = Run(url, src, mode, n, rnd, cd, timeout).execute()
        log(f"  T = {rec['wall']:.1f} s (others {rec['others']:.2f} cores)"
            + ("; " + "; ".join(rec["anomalies"]) if rec["anomalies"] else ""))
        runs.append(rec)
    if not args.keep:
        shutil.rmtree(WORK / "out", ignore_errors=True)
        shutil.rmtree(WORK / "logs", ignore_errors=True)
    log(f"all runs done in {(time.monotonic() - t_start) / 60:.1f} min")
    res = {"quick": args.quick, "argv": "".join(" " + x for x in sys.argv[1:]), "machine": run.machine(),
           "binary_built": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(worker_bin().stat().st_mtime)),
           "src": str(src), "chunk_duration": cd, "keyframes": kf, "engine_threads": th, "pinning": "taskset",
           "check_interval": CHECK_INTERVAL, "runs": runs, "elapsed_min": (time.monotonic() - t_start) / 60}
    RESULTS_JSON.write_text(json.dumps(res, indent=1, default=str))
    log(f"wrote {RESULTS_JSON}")
    finish(json.loads(RESULTS_JSON.read_text()), args.results)


def _terminate(signum, frame):
    for p in list(_procs):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    sys.exit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, _terminate)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        main()
    finally:
        for p in list(_procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
