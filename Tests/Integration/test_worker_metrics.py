"""transcode-worker's operator side: Prometheus metrics, /healthz and /readyz, and JSON logs.

Needs the private RabbitMQ node `make test` starts (HLSIFY_TEST_AMQP_URL, HLSIFY_TEST_RABBITMQCTL), as
test_worker.py does, whose helpers (Bus, Site, submit, dead letters, held output locks) this file
reuses; and Debian's `prometheus` package (promtool, and the server, which one test starts on
loopback to scrape a worker). Without them these tests fail, they never skip.

What the worker exposes is checked from outside: the exposition is parsed here and linted by
promtool, figures are compared with the job.completed event and with the files on disk, health
with what the broker and the process are doing, and the HTTP server's limits with raw sockets.
The tests at the end are worker bugs this file found: they fail until the worker is fixed.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, Optional

import pytest

import hlscheck as h
from http_probes import Timed, exchange, read_response, send_oversized, time_to_disconnect
from test_worker import (Bus, Clips, HeldOutputLock, Site, Worker, amqp_url, close_site, make_clip, open_site, rabbitmqctl,
                         wait_until_waiting, worker_bin)

pytestmark = pytest.mark.timeout(240)

JOBS = "hlsify_worker_jobs_total"
DURATION = "hlsify_worker_job_duration_seconds"
REALTIME = "hlsify_worker_job_realtime_factor"
FRAMES = "hlsify_worker_video_frames_total"
SEGMENTS = "hlsify_worker_segments_total"
BYTES = "hlsify_worker_written_bytes_total"
REDELIVERED = "hlsify_worker_deliveries_redelivered_total"
DEAD = "hlsify_worker_dead_lettered_total"
RECONNECTS = "hlsify_worker_broker_reconnects_total"
IN_FLIGHT = "hlsify_worker_jobs_in_flight"
MESSAGES = "hlsify_worker_queue_messages"
CONSUMERS = "hlsify_worker_queue_consumers"
CONNECTED = "hlsify_worker_broker_connected"

STATES = ["completed", "failed", "rejected", "retried", "returned", "planned", "chunk", "skipped"]
KINDS = ["video", "audio", "other"]
REASONS = ["not-json", "invalid-job", "unsafe-job-id", "unsafe-path", "too-large", "output-conflict", "bad-media",
           "input-missing", "max-attempts", "job-failed"]
# Every metric, its type, and for a labelled counter the label and the values present from the start.
CATALOGUE: dict[str, tuple[str, Optional[tuple[str, list[str]]]]] = {
    JOBS: ("counter", ("state", STATES)),
    DURATION: ("histogram", None),
    REALTIME: ("histogram", None),
    FRAMES: ("counter", None),
    SEGMENTS: ("counter", None),
    BYTES: ("counter", ("kind", KINDS)),
    REDELIVERED: ("counter", None),
    DEAD: ("counter", ("reason", REASONS)),
    RECONNECTS: ("counter", None),
    IN_FLIGHT: ("gauge", None),
    MESSAGES: ("gauge", None),
    CONSUMERS: ("gauge", None),
    CONNECTED: ("gauge", None),
}
COUNTERS = [name for name, (kind, _) in CATALOGUE.items() if kind == "counter"]
HISTOGRAMS = [name for name, (kind, _) in CATALOGUE.items() if kind == "histogram"]
# The buckets the worker's catalogue gives the two histograms (README: 1 s … 2 h, 0.25 … 64).
BUCKETS = {DURATION: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
           REALTIME: [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64]}

FAST = {"preset": "ultrafast", "segmentDuration": 1}


# ---------------------------------------------------------------------------
# media and sites
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Clips:
    """Two small clips: tiny (2 s 192x108) and short (3 s 320x180), both with audio. open_site copies a
    "long" clip too; these tests need none, so it is the short one again."""
    folder = str(tmp_path_factory.mktemp("metrics-clips"))
    clips = Clips(folder, long="short.mp4")
    make_clip(os.path.join(folder, clips.tiny), "192x108", 2)
    make_clip(os.path.join(folder, clips.short), "320x180", 3)
    return clips


@pytest.fixture
def site(media, tmp_path) -> Site:
    s = open_site(Bus(amqp_url()), media, tmp_path)
    yield s
    close_site(s)


def metrics_worker(site: Site, worker_id: str, *extra: str, env: Optional[dict] = None) -> tuple[Worker, "Endpoint"]:
    """A worker serving metrics on a free port (--metrics-port 0 unless `env` sets HLSIFY_METRICS_PORT),
    reading the queue every 0.5 s, and its endpoint once the start-up line named it."""
    flags = [] if env and "HLSIFY_METRICS_PORT" in env else ["--metrics-port", "0"]
    worker = site.start_worker(worker_id, *flags, "--metrics-interval", "0.5", *extra, env=env)
    return worker, Endpoint(listening_port(site.bus, worker))


def log_records(worker: Worker) -> list[dict]:
    """The worker's log as records: a JSON line as it is, a text line as {"message", "fields", "line"}."""
    records = []
    for line in worker.log().splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
                continue
            except json.JSONDecodeError:
                pass
        fields = dict(re.findall(r"(\w+)=(\S+)", line))
        records.append({"line": line, "fields": fields, "message": line})
    return records


def listening_port(bus: Bus, worker: Worker) -> int:
    """The port of the "metrics and health checks listening" line (text: url=…, JSON: "url")."""
    found: list[str] = []

    def seen() -> bool:
        for record in log_records(worker):
            if "metrics and health checks listening" in record["message"]:
                found.append(record.get("url") or record.get("fields", {}).get("url", ""))
                return True
        return False

    bus.wait(seen, 60, "the metrics start-up line", (worker,))
    match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/metrics", found[0])
    assert match, f"the start-up line names {found[0]!r}, not http://127.0.0.1:PORT/metrics"
    port = int(match.group(1))
    assert 0 < port < 65536, found[0]
    return port


# ---------------------------------------------------------------------------
# the exposition, parsed here (not with a Prometheus library)
# ---------------------------------------------------------------------------

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?$")
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"\s*(?:,|$)')


def parse_labels(text: str) -> tuple:
    labels, pos = [], 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        assert m, f"bad label set {{{text}}}"
        labels.append((m.group(1), m.group(2)))
        pos = m.end()
    return tuple(sorted(labels))


def le_value(le: str) -> float:
    return float("inf") if le == "+Inf" else float(le)


@dataclass
class Scrape:
    text: str
    samples: dict[tuple[str, tuple], float] = field(default_factory=dict)
    help: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def parse(text: str) -> "Scrape":
        s = Scrape(text)
        for line in text.splitlines():
            if not line.strip():
                continue
            if line.startswith("# HELP "):
                name, _, help_text = line[7:].partition(" ")
                assert name not in s.help, f"two HELP lines for {name}"
                s.help[name] = help_text
            elif line.startswith("# TYPE "):
                name, _, kind = line[7:].partition(" ")
                assert name not in s.types, f"two TYPE lines for {name}"
                s.types[name] = kind.strip()
            elif line.startswith("#"):
                continue
            else:
                m = SAMPLE.match(line)
                assert m, f"not a sample line: {line!r}"
                key = (m.group(1), parse_labels(m.group(2) or ""))
                assert key not in s.samples, f"a series twice: {line!r}"
                s.samples[key] = float(m.group(3))
        return s

    def get(self, name: str, default: Optional[float] = None, **labels: str) -> Optional[float]:
        return self.samples.get((name, tuple(sorted(labels.items()))), default)

    def series(self, name: str) -> dict[tuple, float]:
        return {labels: v for (n, labels), v in self.samples.items() if n == name}

    def buckets(self, name: str) -> dict[float, float]:
        return {le_value(dict(labels)["le"]): v for labels, v in self.series(name + "_bucket").items()}


def delta(after: Scrape, before: Scrape, name: str, **labels: str) -> float:
    """How much a counter or histogram series moved (a series not yet there counts as 0)."""
    return (after.get(name, 0.0, **labels) or 0.0) - (before.get(name, 0.0, **labels) or 0.0)


class Endpoint:
    """The worker's metrics port: one request per connection, with http.client."""

    def __init__(self, port: int):
        self.port = port
        self.last: Optional[Scrape] = None

    def request(self, path: str, method: str = "GET", timeout: float = 10) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, headers={"Connection": "close"})
            response = conn.getresponse()
            body = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            conn.close()

    def scrape(self) -> Scrape:
        status, headers, body = self.request("/metrics")
        assert status == 200, (status, body[:500])
        assert headers.get("content-type", "").startswith("text/plain; version=0.0.4"), headers
        self.last = Scrape.parse(body.decode())
        return self.last

    def try_scrape(self) -> Optional[Scrape]:
        try:
            return self.scrape()
        except (OSError, http.client.HTTPException):
            return None

    def wait_for(self, bus: Bus, predicate: Callable[[Scrape], bool], what: str, workers: tuple, timeout: float = 60) -> Scrape:
        """Scrapes until `predicate` holds; returns that scrape. The failure shows the last one."""
        got: list[Scrape] = []

        def check() -> bool:
            s = self.try_scrape()
            if s is not None and predicate(s):
                got.append(s)
                return True
            return False
        try:
            bus.wait(check, timeout, what, workers)
        except BaseException:
            if self.last is not None:
                print("--- last scrape ---\n" + "\n".join(l for l in self.last.text.splitlines() if not l.startswith("#")))
            raise
        return got[0]

    def status(self, path: str) -> Optional[tuple[int, bytes]]:
        try:
            status, _, body = self.request(path, timeout=5)
            return status, body
        except (OSError, http.client.HTTPException):
            return None


def assert_catalogue(s: Scrape) -> None:
    """Every metric with HELP and TYPE, of its type; labelled counters with each of their values."""
    for name, (kind, labelled) in CATALOGUE.items():
        if kind == "histogram" and not s.series(name + "_count"):
            continue  # a histogram appears with its first observation
        assert s.types.get(name) == kind, f"{name}: TYPE {s.types.get(name)!r}, expected {kind}"
        assert s.help.get(name, "").strip(), f"{name} has no HELP text"
        if kind == "counter":
            series = s.series(name)
            if labelled:
                label, values = labelled
                assert sorted(dict(k)[label] for k in series) == sorted(values), f"{name}: {sorted(series)}"
                assert all(len(k) == 1 for k in series), f"{name}: unexpected labels {sorted(series)}"
            else:
                assert list(series) == [()], f"{name}: {sorted(series)}"
    unknown = {n for n in s.types if n not in CATALOGUE}
    assert not unknown, f"metrics the catalogue does not list: {sorted(unknown)}"
    for (name, _), value in s.samples.items():
        base = re.sub(r"_(bucket|sum|count)$", "", name) if re.sub(r"_(bucket|sum|count)$", "", name) in HISTOGRAMS else name
        assert base in CATALOGUE, f"a sample of an unknown metric: {name}"
        assert value == value and value >= 0, f"{name} = {value}"


def promtool_check(text: str) -> None:
    proc = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(), \
        f"promtool check metrics: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------------------
# 1. counters move by exactly what happened; promtool and a real Prometheus read them
# ---------------------------------------------------------------------------


def completion_figures(event: dict) -> dict:
    """What the README says a completed job adds, from its job.completed event."""
    video = sum(r["bytes"] for r in event["renditions"])
    tracks = event.get("audioTracks") or ([event["audio"]] if event.get("audio") else [])
    audio = sum(t["bytes"] for t in tracks)
    return {"frames": sum(r["encodedFrames"] for r in event["renditions"]), "segments": event["segments"],
            "video": video, "audio": audio, "other": event["bytes"] - video - audio}


def bytes_on_disk(out: str, event: dict) -> dict:
    """The output's files by kind, measured: the segment files of the video renditions, of the audio
    renditions, and everything else but the completion marker (playlists, init segments, pictures)."""
    video_folders = {os.path.dirname(r["playlist"]) for r in event["renditions"]}
    sizes = {"video": 0, "audio": 0, "other": 0}
    for folder, _, names in os.walk(out):
        relative = os.path.relpath(folder, out)
        for name in names:
            if name == ".hlsify-complete.json":
                continue
            size = os.path.getsize(os.path.join(folder, name))
            if name.startswith("segment-") and relative in video_folders:
                sizes["video"] += size
            elif name.startswith("segment-") and relative != ".":
                sizes["audio"] += size
            else:
                sizes["other"] += size
    return sizes


def frames_decoded(out: str, event: dict) -> int:
    """Video frames in the renditions as ffprobe counts them (the playlists are named relative to the output)."""
    total = 0
    for r in event["renditions"]:
        probe = h.ffprobe_json(os.path.join(out, r["playlist"]), "-count_frames", "-select_streams", "v:0", "-show_streams")
        total += int(probe["streams"][0]["nb_read_frames"])
    return total


class Prometheus:
    """A Prometheus server on loopback scraping one target every second, with its data in `folder`."""

    def __init__(self, folder: str, target: str):
        self.port = free_port()
        self.folder = folder
        config = os.path.join(folder, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
                    "  - job_name: hlsify-worker\n    scrape_interval: 1s\n    scrape_timeout: 1s\n"
                    f"    static_configs:\n      - targets: [\"{target}\"]\n")
        check = subprocess.run(["promtool", "check", "config", config], capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stdout + check.stderr
        self.log_path = os.path.join(folder, "prometheus.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(["prometheus", f"--config.file={config}",
                                          f"--storage.tsdb.path={os.path.join(folder, 'data')}",
                                          f"--web.listen-address=127.0.0.1:{self.port}"],
                                         stdout=log, stderr=log, stdin=subprocess.DEVNULL)

    def get(self, path: str, **params: str) -> dict:
        url = f"http://127.0.0.1:{self.port}{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())

    def query(self, expression: str) -> dict[tuple, float]:
        """An instant query's vector, by label set (without __name__)."""
        try:
            answer = self.get("/api/v1/query", query=expression)
        except OSError:
            return {}
        assert answer["status"] == "success", answer
        return {tuple(sorted((k, v) for k, v in r["metric"].items() if k != "__name__")): float(r["value"][1])
                for r in answer["data"]["result"]}

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def test_counters_move_by_exactly_what_happened(site: Site, tmp_path):
    """One good job, one whose input is missing (failed, input-missing) and one invalid (rejected,
    invalid-job): every counter and histogram moves by what the job.completed event and the two
    dead letters say, and nothing else moves. promtool accepts the exposition, and a Prometheus
    server scraping the worker returns the series through its query API."""
    bus = site.bus
    worker, ep = metrics_worker(site, "w-count")
    before = ep.wait_for(bus, lambda s: s.get(CONNECTED) == 1 and s.get(CONSUMERS) == 1, "the first reading of the broker",
                         (worker,))
    assert_catalogue(before)
    promtool_check(before.text)
    for name in COUNTERS:
        assert all(v == 0 for v in before.series(name).values()), f"{name} is not 0 at start: {before.series(name)}"
    assert before.get(IN_FLIGHT) == 0 and before.get(MESSAGES) == 0

    site.submit({"jobId": "m-good", "input": site.clips.short, "output": "m-good", "ladder": ["180p", "108p"], **FAST})
    bus.publish(json.dumps({"jobId": "m-missing", "input": "nowhere/gone.mp4", "output": "m-missing", **FAST}).encode(),
                message_id="m-missing")
    bus.publish(json.dumps({"jobId": "m-invalid", "input": site.clips.tiny, "output": "m-invalid", "ladder": ["4k"]}).encode(),
                message_id="m-invalid")
    bus.wait(lambda: bus.of("m-good", "completed") and bus.of("m-missing", "failed") and bus.of("m-invalid", "rejected"), 120,
             "the three terminal events", (worker,))
    bus.wait(lambda: len(bus.drain_dead_letters()) >= 2, 60, "the two dead letters", (worker,))
    assert {hdr["x-hlsify-reason"] for hdr, _, _ in bus.dead} == {"input-missing", "invalid-job"}, bus.dead
    # The counters move as each delivery is settled, just after its event went out: wait for them.
    after = ep.wait_for(bus, lambda s: all(delta(s, before, JOBS, state=st) >= 1 for st in ("completed", "failed", "rejected"))
                        and s.get(IN_FLIGHT) == 0 and s.get(MESSAGES) == 0, "the three settlements in the counters and an empty queue",
                        (worker,))
    (event,) = bus.of("m-good", "completed")
    figures = completion_figures(event)

    moved = {}
    for name in COUNTERS:
        for labels in after.series(name):
            d = delta(after, before, name, **dict(labels))
            if d:
                moved[(name, labels)] = d
    expected = {
        (JOBS, (("state", "completed"),)): 1, (JOBS, (("state", "failed"),)): 1, (JOBS, (("state", "rejected"),)): 1,
        (DEAD, (("reason", "input-missing"),)): 1, (DEAD, (("reason", "invalid-job"),)): 1,
        (FRAMES, ()): figures["frames"], (SEGMENTS, ()): figures["segments"],
        (BYTES, (("kind", "video"),)): figures["video"], (BYTES, (("kind", "audio"),)): figures["audio"],
        (BYTES, (("kind", "other"),)): figures["other"],
    }
    assert moved == expected, f"counters moved by {moved}, expected {expected}\nevent: {event}"
    assert figures["frames"] > 0 and figures["segments"] > 0 and figures["audio"] > 0 and figures["other"] > 0, figures

    # The event's figures agree with what is on disk and what a decoder sees (so the counters do too).
    out = site.output("m-good")
    assert bytes_on_disk(out, event) == {k: figures[k] for k in KINDS}, (bytes_on_disk(out, event), figures)
    assert frames_decoded(out, event) == figures["frames"]

    # One observation in each histogram, in the buckets its value belongs to.
    for name, value in ((DURATION, event["elapsedSeconds"]), (REALTIME, event["speed"])):
        assert delta(after, before, name + "_count") == 1, name
        assert abs(delta(after, before, name + "_sum") - value) <= max(0.01, value * 0.01), \
            (name, delta(after, before, name + "_sum"), value)
        buckets = after.buckets(name)
        assert sorted(buckets) == BUCKETS[name] + [float("inf")], (name, sorted(buckets))
        for le, count in buckets.items():
            assert count == (1 if value <= le else 0), f"{name} bucket le={le}: {count} (observed {value})"
        assert after.types.get(name) == "histogram" and after.help.get(name), name
    assert_catalogue(after)
    for name in (CONNECTED, CONSUMERS):
        assert after.get(name) == 1, (name, after.get(name))
    assert after.get(MESSAGES) == 0 and after.get(IN_FLIGHT) == 0
    promtool_check(after.text)

    # A real Prometheus scraping the worker every second returns the series through its API.
    prometheus = Prometheus(str(tmp_path), f"127.0.0.1:{ep.port}")
    try:
        def answered() -> bool:
            assert prometheus.proc.poll() is None, f"prometheus exited {prometheus.proc.returncode}:\n{prometheus.log()[-3000:]}"
            series = prometheus.query(JOBS)
            return len(series) == len(STATES) and all(dict(k).get("state") for k in series)
        bus.wait(answered, 90, "Prometheus to return hlsify_worker_jobs_total", (worker,))
        series = prometheus.query(JOBS)
        instance = f"127.0.0.1:{ep.port}"
        for labels, value in series.items():
            d = dict(labels)
            assert d["job"] == "hlsify-worker" and d["instance"] == instance, labels
            assert value == (1 if d["state"] in ("completed", "failed", "rejected") else 0), (labels, value)
        assert sorted(dict(k)["state"] for k in series) == sorted(STATES)
        assert prometheus.query('up{job="hlsify-worker"}') == {(("instance", instance), ("job", "hlsify-worker")): 1.0}
        assert list(prometheus.query(DURATION + "_count").values()) == [1.0]
        assert list(prometheus.query(f'{BYTES}{{kind="video"}}').values()) == [float(figures["video"])]
        targets = prometheus.get("/api/v1/targets")["data"]["activeTargets"]
        assert [t["health"] for t in targets] == ["up"] and not targets[0]["lastError"], targets
    finally:
        prometheus.stop()
    site.stop_all_and_assert_drained()


def test_retries_redeliveries_and_the_final_failure_are_counted(site: Site):
    """A job that fails in a way that may pass (its output's parent is a file) with --max-attempts 2:
    one retry, then a final failure dead-lettered as max-attempts; the second delivery is a
    redelivery. Those move, and nothing else (no completion, frames, bytes or observations)."""
    bus = site.bus
    with open(os.path.join(site.output_root, "blocked"), "w") as f:
        f.write("not a folder")
    worker, ep = metrics_worker(site, "w-retry", "--max-attempts", "2")
    before = ep.wait_for(bus, lambda s: s.get(CONNECTED) == 1, "the worker connected", (worker,))
    site.submit({"jobId": "retry-1", "input": site.clips.tiny, "output": "blocked/retry-1", "ladder": ["108p"], **FAST})
    bus.wait(lambda: any(e.get("deadLettered") for e in bus.of("retry-1", "failed")), 120, "the final job.failed", (worker,))
    assert [(e["attempt"], e["willRetry"]) for e in bus.of("retry-1", "failed")] == [(1, True), (2, False)]
    bus.wait(lambda: len(bus.drain_dead_letters()) == 1, 60, "the dead letter", (worker,))
    assert bus.dead[0][0]["x-hlsify-reason"] == "max-attempts"
    after = ep.wait_for(bus, lambda s: delta(s, before, JOBS, state="failed") >= 1 and s.get(IN_FLIGHT) == 0,
                        "the final failure in the counters", (worker,))
    redeliveries = [e["redelivered"] for e in bus.of("retry-1", "accepted")]
    assert len(redeliveries) == 2 and redeliveries[1], f"the second delivery should be a redelivery: {redeliveries}"
    moved = {(name, labels): delta(after, before, name, **dict(labels))
             for name in COUNTERS for labels in after.series(name) if delta(after, before, name, **dict(labels))}
    assert moved == {(JOBS, (("state", "retried"),)): 1, (JOBS, (("state", "failed"),)): 1,
                     (DEAD, (("reason", "max-attempts"),)): 1, (REDELIVERED, ()): sum(redeliveries)}, moved
    for name in HISTOGRAMS:
        assert not after.series(name + "_count") or delta(after, before, name + "_count") == 0, name
    promtool_check(after.text)
    site.stop_all_and_assert_drained()


# ---------------------------------------------------------------------------
# 2. the jobs queue's depth and consumers
# ---------------------------------------------------------------------------


def test_queue_depth_and_consumers_follow_the_broker(site: Site):
    """Two workers (prefetch 1) each hold a delivery that waits for its output lock, so the jobs
    queue keeps what is published next: the metrics worker reads N ready messages and 2 consumers
    (as the broker says), then 0 once the locks go and every job is done."""
    bus = site.bus
    a, ep = metrics_worker(site, "w-depth-a")
    ep.wait_for(bus, lambda s: s.get(CONSUMERS) == 1 and s.get(MESSAGES) == 0, "one consumer, no message", (a,))
    tiny = {"input": site.clips.tiny, "ladder": ["108p"], **FAST}
    held = [HeldOutputLock(site.output_root, "hold-a"), HeldOutputLock(site.output_root, "hold-b")]
    n = 4
    try:
        site.submit({"jobId": "hold-a", "output": "hold-a", **tiny})
        wait_until_waiting(bus, a, "hold-a")
        b = site.start_worker("w-depth-b")
        bus.wait(lambda: "connected to the broker" in b.log(), 60, "the second worker to connect", (a, b))
        site.submit({"jobId": "hold-b", "output": "hold-b", **tiny})  # only b has room for it
        wait_until_waiting(bus, b, "hold-b")
        for i in range(n):
            bus.publish(json.dumps({"jobId": f"queued-{i}", "output": f"queued-{i}", **tiny}).encode(), message_id=f"queued-{i}")
        s = ep.wait_for(bus, lambda s: s.get(MESSAGES) == n and s.get(CONSUMERS) == 2,
                        f"{n} messages and 2 consumers in the metrics", (a, b))
        assert bus.queue_depth(bus.jobs) == (n, 2), "the broker disagrees"
        assert s.get(IN_FLIGHT) == 1, "the delivery waiting for its lock is in flight"
        assert all(s.get(JOBS, state=st) == 0 for st in STATES), "nothing is settled yet"
    finally:
        for lock in held:
            lock.release()
    ids = ["hold-a", "hold-b"] + [f"queued-{i}" for i in range(n)]
    bus.wait(lambda: all(bus.of(j, "completed") for j in ids), 120, "every job done", (a, b))
    a_done = sum(1 for j in ids if bus.of(j, "completed")[0]["workerId"] == "w-depth-a")
    s = ep.wait_for(bus, lambda s: s.get(MESSAGES) == 0 and s.get(IN_FLIGHT) == 0 and s.get(JOBS, state="completed") == a_done,
                    "an empty queue and the metrics worker's completions", (a, b))
    assert s.get(CONSUMERS) == 2
    b.stop()
    ep.wait_for(bus, lambda s: s.get(CONSUMERS) == 1, "one consumer once the second worker stopped", (a,))
    site.stop_all_and_assert_drained()


# ---------------------------------------------------------------------------
# 3. health: the broker goes away and comes back; SIGTERM drains
# ---------------------------------------------------------------------------


def test_readiness_follows_the_broker_and_liveness_does_not(site: Site):
    """Started while the broker is down: not ready, alive, not connected. The broker comes up:
    ready, and that first connection is not a reconnect. Stopped again: /readyz 503 and
    broker_connected 0 while /healthz stays 200; back: ready, one reconnect (as the log has it).
    The worker's metrics port comes from HLSIFY_METRICS_PORT here."""
    bus = site.bus
    rabbitmqctl("stop_app")
    try:
        worker, ep = metrics_worker(site, "w-health", env={"HLSIFY_METRICS_PORT": "0"})
        ep.wait_for(bus, lambda s: s.get(CONNECTED) == 0, "broker_connected 0 with the broker down", (worker,))
        assert ep.status("/readyz") == (503, b"not ready: not connected to the broker\n")
        assert ep.status("/healthz") == (200, b"ok\n")
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    bus.wait(lambda: ep.status("/readyz") == (200, b"ready\n"), 60, "/readyz 200 once the broker is up", (worker,))
    s = ep.wait_for(bus, lambda s: s.get(CONNECTED) == 1, "broker_connected 1", (worker,))
    assert s.get(RECONNECTS) == 0, "the first connection is not a reconnect"

    rabbitmqctl("stop_app")
    try:
        bus.wait(lambda: ep.status("/readyz") == (503, b"not ready: not connected to the broker\n"), 60,
                 "/readyz 503 with the broker stopped", (worker,))
        ep.wait_for(bus, lambda s: s.get(CONNECTED) == 0, "broker_connected 0", (worker,))
        # Alive all along: several observer intervals and reconnect attempts (max delay 1 s) pass.
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3:
            assert ep.status("/healthz") == (200, b"ok\n"), "/healthz must stay 200 while the broker is away"
            assert ep.status("/readyz")[0] == 503
            time.sleep(0.25)
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    bus.wait(lambda: ep.status("/readyz") == (200, b"ready\n"), 60, "/readyz 200 after the restart", (worker,))
    s = ep.wait_for(bus, lambda s: s.get(CONNECTED) == 1 and s.get(RECONNECTS, 0) >= 1, "the reconnect in the metrics", (worker,))
    connections = worker.log().count("connected to the broker")
    assert connections >= 2
    assert s.get(RECONNECTS) == connections - 1, f"{s.get(RECONNECTS)} reconnects, the log has {connections} connections"
    assert ep.status("/healthz") == (200, b"ok\n")
    # Still working: a job after all that.
    site.submit({"jobId": "after-outage", "input": site.clips.tiny, "output": "after-outage", "ladder": ["108p"], **FAST})
    bus.wait(lambda: bus.of("after-outage", "completed"), 120, "a job after the outage", (worker,))
    site.stop_all_and_assert_drained()


def test_sigterm_drains_while_readyz_says_so(site: Site):
    """SIGTERM while a delivery is in flight (held at its output lock, then transcoding once the
    lock goes): /readyz answers 503 "draining" from then on, never 200 again; /healthz and /metrics
    keep answering (no consumer any more, the job still in flight, a job published meanwhile seen
    in the queue and not taken); the job completes within the grace period and the process exits
    0, after which nothing listens on the port."""
    bus = site.bus
    worker, ep = metrics_worker(site, "w-drain", "--shutdown-grace", "120")
    ep.wait_for(bus, lambda s: s.get(CONSUMERS) == 1, "the worker consuming", (worker,))
    held = HeldOutputLock(site.output_root, "drain-1")
    answers: list[tuple[float, Optional[tuple[int, bytes]]]] = []
    try:
        site.submit({"jobId": "drain-1", "input": site.clips.short, "output": "drain-1", "ladder": ["180p", "108p"], **FAST})
        wait_until_waiting(bus, worker, "drain-1")
        assert ep.status("/readyz") == (200, b"ready\n"), "a running job does not make the worker unready"
        worker.expected_exit = True
        worker.proc.send_signal(signal.SIGTERM)
        t_term = time.monotonic()
        bus.wait(lambda: ep.status("/readyz") == (503, b"not ready: draining: shutting down\n"), 10,
                 "/readyz 503 draining after SIGTERM", (worker,))
        assert time.monotonic() - t_term < 5
        site.submit({"jobId": "drain-late", "input": site.clips.tiny, "output": "drain-late", "ladder": ["108p"], **FAST})
        s = ep.wait_for(bus, lambda s: s.get(MESSAGES) == 1, "the late job queued, read during the drain", (worker,))
        assert s.get(IN_FLIGHT) == 1 and s.get(CONNECTED) == 1, "the held delivery is still being handled"
        # The consumer is cancelled, but a quorum queue goes on counting a cancelled consumer until its
        # unacknowledged delivery is settled: the metric says what the broker says.
        assert s.get(CONSUMERS) == bus.queue_depth(bus.jobs)[1], (s.get(CONSUMERS), bus.queue_depth(bus.jobs))
        assert ep.status("/healthz") == (200, b"ok\n"), "draining is not dead"
        assert worker.proc.poll() is None, "the worker must wait for its running job"
    finally:
        held.release()
    # From the release to the exit: every answer is 503 (or no answer once the server stopped).
    deadline = time.monotonic() + 120
    while worker.proc.poll() is None and time.monotonic() < deadline:
        answers.append((time.monotonic(), ep.status("/readyz")))
        time.sleep(0.05)
    assert worker.proc.wait(timeout=10) == 0, worker.log()[-4000:]
    bad = [a for _, a in answers if a is not None and a != (503, b"not ready: draining: shutting down\n")]
    assert not bad, f"/readyz answered {bad[:3]} while draining"
    assert [a for _, a in answers if a is not None], "/readyz did not answer while the released job ran"
    bus.poll()
    assert len(bus.of("drain-1", "completed")) == 1, [e["state"] for e in bus.of("drain-1")]
    assert bus.of("drain-late") == [], "a job was taken after SIGTERM"
    assert bus.queue_depth(bus.jobs) == (1, 0)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", ep.port), timeout=2).close()
    log = worker.log()
    assert log.index("job completed") < log.index("worker stopped"), log[-3000:]


# ---------------------------------------------------------------------------
# 4. what the metrics port does with bad requests
# ---------------------------------------------------------------------------


def test_the_metrics_port_refuses_what_it_should(site: Site):
    """404 for other paths, 405 with Allow for other methods, HEAD answered with GET's length and no
    body, heads over 8 KiB (a long request line, a long header, or both together) refused at once
    without reading them whole, a slow-loris client cut off by the 10 s head deadline, an idle
    keep-alive connection closed; the worker serves normally throughout."""
    bus = site.bus
    worker, ep = metrics_worker(site, "w-http")
    ep.wait_for(bus, lambda s: s.get(CONNECTED) == 1, "the worker connected", (worker,))
    port = ep.port
    # The two slow checks run in the background meanwhile.
    loris = Timed(time_to_disconnect, port, b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Slow: ", b"abcdefgh", 1.0, 40)
    idle = Timed(time_to_disconnect, port, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", b"", 0.5, 45)

    for path in ("/", "/nope", "/metrics/", "/metrics/x", "/METRICS", "/healthz/x", "/%2e%2e/metrics"):
        status, headers, body = ep.request(path)
        assert status == 404, (path, status, body)
    assert ep.request("/metrics?name=x")[0] == 200, "a query string does not change the path"
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        for path in ("/metrics", "/healthz", "/readyz"):
            status, headers, body = ep.request(path, method=method)
            assert status == 405, (method, path, status)
            assert headers.get("allow") == "GET, HEAD", (method, path, headers)

    # HEAD: GET's status and Content-Length, no body (the next response on the connection follows at once).
    for path in ("/healthz", "/readyz", "/metrics", "/nope"):
        (h_status, h_headers, _), (g_status, g_headers, g_body), (n_status, _, n_body) = \
            exchange(port, ("HEAD", path), ("GET", path), ("GET", "/healthz"))
        assert h_status == g_status, (path, h_status, g_status)
        if path != "/metrics":  # the exposition may change between the two requests; its length is checked below
            assert h_headers.get("content-length") == g_headers.get("content-length") == str(len(g_body)), (path, h_headers, g_headers)
        assert (n_status, n_body) == (200, b"ok\n"), f"HEAD {path} left a body on the connection"
    for _ in range(5):
        (_, h_headers, _), (_, _, g_body) = exchange(port, ("HEAD", "/metrics"), ("GET", "/metrics"))
        if h_headers.get("content-length") == str(len(g_body)):
            break
    else:
        pytest.fail(f"HEAD /metrics Content-Length {h_headers.get('content-length')} != GET's body {len(g_body)}")

    # A head up to 8 KiB is served; over it, refused: 400/431 at once, the connection closed.
    ok = exchange(port, ("GET", "/healthz?" + "q" * 3500))[0]
    assert ok[0] == 200
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Fill: " + b"f" * 7000 + b"\r\n\r\n")
        assert read_response(sock, bytearray(), head_only=False)[:3:2] == (200, b"ok\n"), "a 7 KB head must be served"
    oversized = {
        "request line": b"GET /metrics?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "one header": b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
        "many headers": b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n" +
                        b"".join(b"X-H%02d: %s\r\n" % (i, b"v" * 150) for i in range(60)) + b"\r\n",
        "line and header together": b"GET /metrics?" + b"a" * 4500 + b" HTTP/1.1\r\nHost: localhost\r\nX-Big: " +
                                    b"b" * 4500 + b"\r\n\r\n",
        "32 MB header": b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Huge: " + b"h" * (32 << 20) + b"\r\n\r\n",
        "32 MB request line": b"GET /" + b"a" * (32 << 20) + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
    }
    for name, payload in oversized.items():
        r = send_oversized(port, payload)
        assert r.status in (400, 431), f"{name}: {r}"
        assert r.answered_after is not None and r.answered_after < 2, f"{name}: answered after {r.answered_after}s"
        assert r.closed_after is not None and r.closed_after < 3, f"{name}: the connection stayed open ({r})"
        if len(payload) > 1 << 20:
            assert r.sent < len(payload) // 2, f"{name}: the server took {r.sent} of {len(payload)} bytes"
        assert ep.status("/healthz") == (200, b"ok\n"), f"the server after the {name}"

    # Slow loris: a header byte a second, cut off by the 10 s head deadline (not at once, not never).
    seconds, received = loris.value(60)
    assert seconds is not None, "a client sending a byte a second kept its connection for 40 s"
    assert 8 <= seconds <= 25, f"the slow-loris connection was closed after {seconds:.1f}s"
    assert received == b"" or re.match(rb"HTTP/1\.1 (408|400) ", received), received[:200]
    # An idle keep-alive connection after a response is closed, not kept forever.
    seconds, received = idle.value(60)
    assert received.startswith(b"HTTP/1.1 200 ") and received.endswith(b"ok\n"), received[:200]
    assert seconds is not None and 5 <= seconds <= 40, f"the idle keep-alive connection: closed after {seconds}"
    print(f"slow loris cut after {loris.result[0]:.1f}s; idle keep-alive closed after {seconds:.1f}s")

    assert worker.proc.poll() is None
    assert ep.status("/readyz") == (200, b"ready\n")
    promtool_check(ep.scrape().text)
    site.stop_all_and_assert_drained()


# ---------------------------------------------------------------------------
# 5. --log-format json
# ---------------------------------------------------------------------------

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LEVELS = {"trace", "debug", "info", "notice", "warning", "error", "critical"}
FORGED_TIMESTAMP = "2026-12-02T00:00:00.000Z"
FORGED = json.dumps({"timestamp": FORGED_TIMESTAMP, "level": "info", "message": "job completed", "label": "hlsify.worker",
                     "workerId": "w-json", "jobId": "forged", "attempt": "1"}, separators=(",", ":"))


def test_json_logs_are_one_object_per_line_and_cannot_be_forged(site: Site):
    """A worker run with --log-format json (no metrics port: off by default): every line of its
    output is one JSON object with timestamp (UTC, ms), level, message, label and workerId; the
    records about a job carry its jobId and attempt; a job id, an input path and an output name
    carrying a newline (or U+2028) and a whole forged record stay inside their own record."""
    bus = site.bus
    t_start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    worker = site.start_worker("w-json", "--log-format", "json")
    site.submit({"jobId": "j-good", "input": site.clips.tiny, "output": "j-good", "ladder": ["108p"], **FAST})
    hostile = {
        "j-forged-id": {"jobId": "evil\n" + FORGED, "input": site.clips.tiny, "output": "x1"},
        "j-forged-input": {"jobId": "j-forged-input", "input": "a\n" + FORGED + "\n.mp4", "output": "x2"},
        "j-forged-output": {"jobId": "j-forged-output", "input": site.clips.tiny, "output": "o\u2028" + FORGED},
        "j-missing": {"jobId": "j-missing", "input": "gone\r\n" + FORGED + ".mp4", "output": "x4"},
    }
    for message_id, job in hostile.items():
        bus.publish(json.dumps(job).encode(), message_id=message_id)
    bus.wait(lambda: bus.of("j-good", "completed"), 120, "the good job", (worker,))
    bus.wait(lambda: len(bus.drain_dead_letters()) >= len(hostile), 60, "the hostile jobs dead-lettered", (worker,))
    assert worker.stop() == 0, worker.log()[-4000:]
    t_end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)

    with open(worker.log_path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    assert "\u2028" not in text and "\u2029" not in text and "\r" not in text, "a raw line separator in the log"
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\x80-\x9f]", text), "a raw control character in the log"
    lines = text.split("\n")
    assert lines[-1] == "", "the log must end with a newline"
    records = []
    for number, line in enumerate(lines[:-1], 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            pytest.fail(f"line {number} is not JSON ({e}): {line[:300]!r}")
        assert isinstance(record, dict), f"line {number} is not an object: {line[:300]!r}"
        for key in ("timestamp", "level", "message", "label", "workerId"):
            assert isinstance(record.get(key), str) and record[key], f"line {number} has no {key}: {line[:300]}"
        assert TIMESTAMP.match(record["timestamp"]), record["timestamp"]
        when = datetime.datetime.strptime(record["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
        assert t_start <= when <= t_end, f"line {number}: timestamp {record['timestamp']} outside the run"
        assert record["level"] in LEVELS, record
        assert record["workerId"] == "w-json", record
        assert list(record)[:4] == ["timestamp", "level", "message", "label"], list(record)
        records.append(record)
    assert len(records) >= 8, records

    messages = [r["message"] for r in records]
    assert "worker started" in messages and "worker stopped" in messages and "connected to the broker" in messages, messages
    assert not [r for r in records if "metrics" in r["message"] or r["label"] == "hlsify.metrics"], \
        "no metrics server without --metrics-port"
    # The good job's records: accepted, started, completed, each with its job id and attempt.
    good = [r for r in records if r.get("jobId") == "j-good"]
    for state in ("job accepted", "job started", "job completed"):
        assert [r for r in good if r["message"] == state], f"no {state!r} record for j-good: {good}"
    for r in good:
        assert str(r.get("attempt")) == "1", f"a record of j-good without its attempt: {r}"
    # The hostile ones: one rejection or failure record each, the forged record inside it as data.
    forged_id = hostile["j-forged-id"]["jobId"]
    # (A job id that is refused is logged cut to 160 characters, as its events and dead-letter headers name it.)
    (rejected,) = [r for r in records if r.get("jobId", "").startswith("evil\n")]
    assert forged_id.startswith(rejected["jobId"]) and len(rejected["jobId"]) >= 128, rejected
    assert rejected["reason"] == "unsafe-job-id" and str(rejected["attempt"]) == "1", rejected
    for job_id, reason in (("j-forged-input", "unsafe-path"), ("j-forged-output", "unsafe-path"), ("j-missing", "unsafe-path")):
        ends = [r for r in records if r.get("jobId") == job_id and "dead-lettered" in r["message"]]
        assert len(ends) == 1 and ends[0]["reason"] == reason and str(ends[0]["attempt"]) == "1", (job_id, ends)
        assert FORGED_TIMESTAMP[:19] in ends[0]["error"], ends[0]
    assert not [r for r in records if r["timestamp"] == FORGED_TIMESTAMP or r.get("jobId") == "forged"], "a forged record"
    assert not [line for line in lines if line.startswith(FORGED[:30])], "a forged line"
    assert messages.count("job completed") == 1


# ---------------------------------------------------------------------------
# options
# ---------------------------------------------------------------------------


def run_briefly(site: Site, *extra: str, env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """`transcode-worker run` with `extra`; a run that starts is stopped after 5 s (exit 124 from timeout)."""
    argv = ["timeout", "-s", "TERM", "5", worker_bin(), "run", *site.bus.worker_args(), "--input-root", site.input_root,
            "--output-root", site.output_root, *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("extra, env, fragment", [
    (["--metrics-port", "70000"], None, "--metrics-port must be between 0 and 65535"),
    ([], {"HLSIFY_METRICS_PORT": "abc"}, "--metrics-port takes a whole number"),
    (["--metrics-host", "127.0.0.1"], None, "--metrics-host needs --metrics-port"),
    (["--metrics-port", "0", "--metrics-host", "a b"], None, "--metrics-host must be"),
    (["--metrics-port", "0", "--metrics-interval", "0"], None, "--metrics-interval must be between"),
    (["--log-format", "xml"], None, "--log-format"),
    ([], {"HLSIFY_LOG_FORMAT": "yaml"}, "--log-format must be one of"),
], ids=["port-70000", "port-env-abc", "host-without-port", "host-space", "interval-0", "format-xml", "format-env-yaml"])
def test_bad_metrics_and_log_options_are_usage_errors(site: Site, extra, env, fragment):
    proc = run_briefly(site, *extra, env=env)
    assert proc.returncode == 64, (extra, env, proc.returncode, proc.stderr[-2000:])
    assert fragment in proc.stderr, (extra, env, proc.stderr[-2000:])


# ---------------------------------------------------------------------------
# worker bugs this file found (they fail until the worker is fixed)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_negative_metrics_port_is_refused_not_taken_for_off(site: Site, how):
    """--metrics-port=-5 (or HLSIFY_METRICS_PORT=-5) is outside 0…65535, as 70000 is, and should be the
    same usage error (exit 64, "--metrics-port must be between 0 and 65535"). The worker instead
    takes any negative port for "not served" and runs without metrics and health endpoints, so an
    operator's typo leaves the orchestrator's probes failing with nothing in the log to say why."""
    proc = run_briefly(site, *(["--metrics-port=-5"] if how == "flag" else []),
                       env={"HLSIFY_METRICS_PORT": "-5"} if how == "env" else None)
    assert proc.returncode == 64 and "--metrics-port must be between 0 and 65535" in proc.stderr, \
        f"exit {proc.returncode}:\n{proc.stderr[-1500:]}"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_metrics_port_in_use_is_a_logged_start_failure(site: Site, fmt):
    """--metrics-port naming a port another process listens on cannot work, and the worker does stop
    (exit 1, no job taken). But nothing it logs says why: it logs "worker started", "connected to the
    broker", "shutting down: taking no new jobs" and "worker stopped" at info level, as for a SIGTERM,
    and the reason is only ArgumentParser's last line `Error: bind(descriptor:ptr:bytes:): Address
    already in use) (errno: 98)`: no address or port named, and not a JSON object under
    --log-format json, so a log shipper drops it. Other start-up failures log a critical
    "cannot start: …" record (and exit 78); this one should too, naming the address."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        site.bus.publish(json.dumps({"jobId": "not-taken", "input": site.clips.tiny, "output": "not-taken"}).encode())
        proc = run_briefly(site, "--metrics-port", str(port), "--log-format", fmt, "--worker-id", "w-taken")
    finally:
        holder.close()
    assert proc.returncode not in (0, 124), f"the worker ran with its metrics port taken:\n{proc.stderr[-2000:]}"
    assert site.bus.queue_depth(site.bus.jobs)[0] == 1, "a job was taken by a worker that could not start"
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    if fmt == "json":
        not_json = [l for l in lines if not l.startswith("{")]
        assert not not_json, f"lines that are not JSON records under --log-format json: {not_json}"
    failures = [l for l in lines if re.search(r"critical|error", l) and str(port) in l]
    assert failures, f"no error record names 127.0.0.1:{port}:\n" + "\n".join(lines)
