"""transcode-worker against a real RabbitMQ broker, with pika as an independent AMQP peer.

The broker is the private node `make test` starts (scripts/rabbitmq-test-node.sh) and names in
HLSIFY_TEST_AMQP_URL; HLSIFY_TEST_RABBITMQCTL runs rabbitmqctl against it (broker restarts,
consumer_timeout). Without them these tests fail, they never skip.

Each test gets its own topology (queue and exchange names with a random prefix, passed to the
worker with --jobs-queue & co.), its own input and output roots, and its own worker processes,
so tests cannot see each other's messages. Events are read from a durable queue bound to the
test's events exchange with `job.#`, so they survive a broker restart; what the worker wrote is
checked with the m3u8 parser (hlscheck), ffprobe and a full decode by ffmpeg, never with the
worker's own report.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Optional

import pika
import pytest

import hlscheck as h
from conftest import FIXTURES, ROOT

pytestmark = pytest.mark.timeout(240)

SUBMIT_TIMEOUT = 60


# ---------------------------------------------------------------------------
# environment
# ---------------------------------------------------------------------------


def amqp_url() -> str:
    url = os.environ.get("HLSIFY_TEST_AMQP_URL")
    if not url:
        pytest.fail("HLSIFY_TEST_AMQP_URL is not set: run the suite through `make test` (it starts a private "
                    "RabbitMQ node), or start one with scripts/rabbitmq-test-node.sh and source its env file",
                    pytrace=False)
    return url


def rabbitmqctl(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    command = os.environ.get("HLSIFY_TEST_RABBITMQCTL")
    if not command:
        pytest.fail("HLSIFY_TEST_RABBITMQCTL is not set (make test sets it)", pytrace=False)
    proc = subprocess.run([*shlex.split(command), *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"rabbitmqctl {' '.join(args)} failed: {proc.stdout}\n{proc.stderr}"
    return proc


def worker_bin() -> str:
    path = os.environ.get("HLSIFY_WORKER_BIN")
    if not path and os.environ.get("HLSIFY_BIN"):
        path = os.path.join(os.path.dirname(os.environ["HLSIFY_BIN"]), "transcode-worker")
    path = path or os.path.join(ROOT, ".build", "debug", "transcode-worker")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"transcode-worker not found at {path}: build it (`swift build`) or set HLSIFY_WORKER_BIN", pytrace=False)
    return path


# ---------------------------------------------------------------------------
# media
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Clips:
    folder: str
    tiny: str = "tiny.mp4"      # 2 s 192x108: fast jobs
    short: str = "short.mp4"    # 6 s 320x180 with audio
    long: str = "long.mp4"      # 30 s 640x360: ~10 s of work with the `medium` preset, long enough to interrupt


def make_clip(path: str, size: str, seconds: int, rate: int = 25) -> None:
    h.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path], timeout=120)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Clips:
    folder = str(tmp_path_factory.mktemp("worker-clips"))
    c = Clips(folder)
    make_clip(os.path.join(folder, c.tiny), "192x108", 2)
    make_clip(os.path.join(folder, c.short), "320x180", 6)
    make_clip(os.path.join(folder, c.long), "640x360", 30, rate=30)
    return c


LONG_JOB = {"ladder": ["360p", "240p"], "preset": "medium", "segmentDuration": 2}


def assert_plays(out: str) -> h.HLSSet:
    """The output is a complete HLS set: parsed independently, probed, and decoded to the end."""
    master = os.path.join(out, "master.m3u8")
    assert os.path.isfile(master), f"no master.m3u8 in {out}: {h.list_tree(out) if os.path.isdir(out) else 'no folder'}"
    hls = h.load_hls_set(master)
    assert hls.variants, "no variant in the master playlist"
    for playlist in hls.media_playlists():
        assert playlist.segments, f"{playlist.uri} has no segment"
        assert playlist.parsed.is_endlist, f"{playlist.uri} is not finished (no EXT-X-ENDLIST)"
        for segment in playlist.segments:
            assert os.path.isfile(segment.path), f"{segment.uri} is missing"
    probe = h.ffprobe_json(master, "-show_streams")
    assert any(s.get("codec_type") == "video" for s in probe.get("streams", [])), f"ffprobe sees no video in {master}"
    decode = subprocess.run(["ffmpeg", "-v", "error", "-i", master, "-map", "0", "-f", "null", "-"],
                            capture_output=True, text=True, timeout=180)
    assert decode.returncode == 0 and not decode.stderr.strip(), f"ffmpeg could not decode {master}: {decode.stderr[-2000:]}"
    return hls


def work_leftovers(output_root: str) -> list[str]:
    """What is in the worker's work folder besides lock files."""
    work = os.path.join(output_root, ".hlsify-work")
    if not os.path.isdir(work):
        return []
    return sorted(n for n in os.listdir(work) if not n.endswith(".lock"))


# ---------------------------------------------------------------------------
# one test's broker topology, events and dead letters, seen through pika
# ---------------------------------------------------------------------------


class Bus:
    def __init__(self, url: str):
        self.url = url
        self.prefix = f"t-{uuid.uuid4().hex[:10]}"
        self.jobs = f"{self.prefix}.jobs"
        self.dlx = f"{self.prefix}.dead"
        self.dlq = f"{self.prefix}.jobs.dead"
        self.events_exchange = f"{self.prefix}.events"
        self.capture = f"{self.prefix}.capture"
        self.events: list[dict] = []
        self.dead: list[tuple[dict, bytes, pika.BasicProperties]] = []
        with self.channel() as ch:
            # The same declarations as the worker's: if they differed, the worker's own
            # declarations would fail with PRECONDITION_FAILED and the tests with them.
            ch.exchange_declare(self.dlx, exchange_type="fanout", durable=True)
            ch.exchange_declare(self.events_exchange, exchange_type="topic", durable=True)
            ch.queue_declare(self.dlq, durable=True, arguments={"x-queue-type": "quorum"})
            ch.queue_declare(self.jobs, durable=True, arguments={"x-queue-type": "quorum", "x-dead-letter-exchange": self.dlx})
            ch.queue_bind(self.dlq, self.dlx, routing_key=self.jobs)
            ch.queue_declare(self.capture, durable=True)
            ch.queue_bind(self.capture, self.events_exchange, routing_key="job.#")

    def worker_args(self) -> list[str]:
        return ["--amqp-url", self.url, "--jobs-queue", self.jobs, "--dead-letter-exchange", self.dlx,
                "--dead-letter-queue", self.dlq, "--events-exchange", self.events_exchange]

    class _Channel:
        def __init__(self, url: str):
            self.connection = pika.BlockingConnection(pika.URLParameters(url))
            self.channel = self.connection.channel()

        def __enter__(self):
            return self.channel

        def __exit__(self, *exc):
            try:
                self.connection.close()
            except Exception:
                pass

    def channel(self) -> "Bus._Channel":
        return Bus._Channel(self.url)

    def publish(self, body: bytes, message_id: Optional[str] = None, headers: Optional[dict] = None) -> None:
        """Publishes a raw job message with confirms (a producer other than transcode-worker submit)."""
        with self.channel() as ch:
            ch.confirm_delivery()
            ch.basic_publish("", self.jobs, body, pika.BasicProperties(delivery_mode=2, message_id=message_id,
                                                                     content_type="application/json", headers=headers),
                             mandatory=True)

    def poll(self) -> None:
        """Moves newly arrived events and dead letters into self.events / self.dead. Survives a broker outage."""
        try:
            with self.channel() as ch:
                while True:
                    method, properties, body = ch.basic_get(self.capture, auto_ack=True)
                    if method is None:
                        break
                    event = json.loads(body)
                    event["_routingKey"] = method.routing_key
                    event["_messageId"] = properties.message_id
                    event["_persistent"] = properties.delivery_mode == 2
                    self.events.append(event)
        except (pika.exceptions.AMQPError, OSError):
            pass

    def drain_dead_letters(self) -> list[tuple[dict, bytes, pika.BasicProperties]]:
        with self.channel() as ch:
            while True:
                method, properties, body = ch.basic_get(self.dlq, auto_ack=True)
                if method is None:
                    break
                self.dead.append((properties.headers or {}, body, properties))
        return self.dead

    def queue_depth(self, queue: str) -> tuple[int, int]:
        """(ready messages, consumers) of a queue, passively."""
        with self.channel() as ch:
            ok = ch.queue_declare(queue, passive=True).method
            return ok.message_count, ok.consumer_count

    def of(self, job_id: Optional[str], state: Optional[str] = None) -> list[dict]:
        return [e for e in self.events if e.get("jobId") == job_id and (state is None or e.get("state") == state)]

    def wait(self, predicate: Callable[[], bool], timeout: float, what: str, workers: tuple = ()) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll()
            if predicate():
                return
            for w in workers:
                assert w.proc.poll() is None or w.expected_exit, f"worker {w.worker_id} died (exit {w.proc.returncode}):\n{w.log()}"
            time.sleep(0.2)
        self.poll()
        logs = "\n".join(f"--- {w.worker_id} ---\n{w.log()[-4000:]}" for w in workers)
        states = [(e.get("jobId"), e.get("state"), e.get("attempt")) for e in self.events][-40:]
        pytest.fail(f"timed out after {timeout}s waiting for {what}\nlast events: {states}\n{logs}", pytrace=False)

    def delete(self) -> None:
        try:
            with self.channel() as ch:
                for q in (self.jobs, self.dlq, self.capture):
                    ch.queue_delete(q)
                for x in (self.dlx, self.events_exchange):
                    ch.exchange_delete(x)
        except Exception:
            pass


@dataclass
class Worker:
    worker_id: str
    proc: subprocess.Popen
    log_path: str
    expected_exit: bool = False

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        self.expected_exit = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"worker {self.worker_id} did not stop within {timeout}s after signal {sig}:\n{self.log()[-4000:]}")


@dataclass
class Site:
    """A test's broker topology, roots and workers."""
    bus: Bus
    input_root: str
    output_root: str
    clips: Clips
    tmp: str
    workers: list[Worker] = field(default_factory=list)

    def start_worker(self, worker_id: str, *extra: str, env: Optional[dict] = None) -> Worker:
        log_path = os.path.join(self.tmp, f"{worker_id}.log")
        argv = [worker_bin(), "run", *self.bus.worker_args(), "--input-root", self.input_root,
                "--output-root", self.output_root, "--worker-id", worker_id, "--retry-delay", "0.2",
                "--reconnect-max-delay", "1", *extra]
        full_env = {**os.environ, **(env or {})}
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=full_env)
        worker = Worker(worker_id, proc, log_path)
        self.workers.append(worker)
        return worker

    def submit(self, job: dict) -> None:
        """Submits through `transcode-worker submit` (the producer side under test)."""
        proc = subprocess.run([worker_bin(), "submit", *self.bus.worker_args(), "-"],
                              input=json.dumps(job), capture_output=True, text=True, timeout=SUBMIT_TIMEOUT)
        assert proc.returncode == 0, f"submit failed ({proc.returncode}): {proc.stderr}"
        assert proc.stdout.strip() == job["jobId"]

    def output(self, name: str) -> str:
        return os.path.join(self.output_root, name)

    def stop_all_and_assert_drained(self) -> None:
        """Stops every worker (each must exit 0), then checks the jobs queue is empty: a delivery
        left unacknowledged would be back in the queue once its worker's channel closed."""
        for w in self.workers:
            if not w.expected_exit or w.proc.poll() is None:
                assert w.stop() == 0, f"worker {w.worker_id} exited non-zero:\n{w.log()[-4000:]}"
        ready, consumers = self.bus.queue_depth(self.bus.jobs)
        assert (ready, consumers) == (0, 0), f"{ready} message(s) left in the jobs queue"


def open_site(bus: Bus, clips: Clips, tmp_path) -> Site:
    """A site on `bus`: fresh input and output roots under `tmp_path`, the clips and fixtures copied in."""
    input_root = tmp_path / "in"
    output_root = tmp_path / "out"
    input_root.mkdir()
    output_root.mkdir()
    for name in (clips.tiny, clips.short, clips.long):
        shutil.copy(os.path.join(clips.folder, name), input_root / name)
    shutil.copy(os.path.join(FIXTURES, "not-media.mp4"), input_root / "not-media.mp4")
    shutil.copy(os.path.join(FIXTURES, "lecture.en.srt"), input_root / "lecture.en.srt")
    return Site(bus, str(input_root), str(output_root), clips, str(tmp_path))


def close_site(s: Site) -> None:
    """Kills the site's workers still running and deletes its topology."""
    for w in s.workers:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()
    s.bus.delete()


@pytest.fixture
def site(clips, tmp_path) -> Site:
    s = open_site(Bus(amqp_url()), clips, tmp_path)
    yield s
    close_site(s)


def states(events: list[dict]) -> list[str]:
    return [e["state"] for e in events]


COMMON_FIELDS = {"eventId", "jobId", "workerId", "attempt", "state", "timestamp"}


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------


def test_end_to_end_events_in_order_and_output_plays(site: Site):
    worker = site.start_worker("w-e2e")
    job = {"jobId": "e2e-1", "input": site.clips.short, "output": "courses/c1/e2e-1", "ladder": ["180p", "144p"],
           "segmentDuration": 2, "segmentFormat": "fmp4", "preset": "ultrafast", "progressive": True,
           "subtitles": [{"language": "en", "name": "English", "path": "lecture.en.srt"}]}
    site.submit(job)
    bus = site.bus
    bus.wait(lambda: bus.of("e2e-1", "completed"), 120, "job.completed", (worker,))
    time.sleep(1)
    bus.poll()
    events = bus.of("e2e-1")
    sequence = states(events)
    assert sequence[0] == "accepted" and sequence[1] == "started" and sequence[-1] == "completed", sequence
    middle = sequence[2:-1]
    assert set(middle) <= {"progress", "segment"}, sequence
    assert "segment" in middle, f"no job.segment event: {sequence}"
    assert sequence.count("completed") == 1
    for e in events:
        assert COMMON_FIELDS <= set(e), e
        assert e["workerId"] == "w-e2e" and e["attempt"] == 1
        assert e["_routingKey"] == f"job.{e['state']}"
        assert e["_messageId"] == e["eventId"] and e["_persistent"]
    assert len({e["eventId"] for e in events}) == len(events)
    # Progress and segment events come from different engine threads, so only the frame is ordered in time.
    stamps = [e["timestamp"] for e in events]
    assert stamps[0] <= stamps[1] <= min(stamps[1:]) and max(stamps[:-1]) <= stamps[-1], "events out of time order"
    accepted = events[0]
    assert accepted["job"]["input"] == site.clips.short and accepted["job"]["ladder"] == ["180p", "144p"]
    for p in [e for e in events if e["state"] == "progress"]:
        assert 0 <= p["progress"]["fraction"] <= 1 and {"fps", "speed"} <= set(p["progress"])

    out = site.output("courses/c1/e2e-1")
    hls = assert_plays(out)
    completed = events[-1]
    assert completed["output"] == "courses/c1/e2e-1"
    assert completed["master"] == "courses/c1/e2e-1/master.m3u8"
    assert sorted(r["name"] for r in completed["renditions"]) == ["144p", "180p"]
    assert len(hls.variants) == 2
    assert completed["bytes"] > 0 and completed["durationSeconds"] > 5 and completed["speed"] > 0
    assert completed["subtitles"] == [{"language": "en", "cues": 7}]
    # The learner's files, by default, named relative to the output root; no chapters asked for.
    assert completed["poster"] == "courses/c1/e2e-1/poster.jpg", completed
    assert completed["storyboard"] == "courses/c1/e2e-1/storyboard/storyboard.vtt", completed
    assert "chapters" not in completed, completed
    for rel in (completed["poster"], completed["storyboard"]):
        assert os.path.isfile(os.path.join(site.output_root, rel)), rel
    loudness = completed["audio"]["loudness"]
    assert abs(loudness["integrated"] - (-16)) <= 1 and loudness["truePeak"] <= -1, completed["audio"]
    # Every segment event names a file that is in the output (the paths are relative to it).
    for seg in [e["segment"] for e in events if e["state"] == "segment"]:
        assert os.path.isfile(os.path.join(out, seg["path"])), seg
    marker = json.load(open(os.path.join(out, ".hlsify-complete.json")))
    assert marker["jobId"] == "e2e-1" and marker["eventPublished"] is True
    assert work_leftovers(site.output_root) == []
    site.stop_all_and_assert_drained()
    assert bus.drain_dead_letters() == []
    log = worker.log()
    for state in ("job accepted", "job started", "job completed"):
        assert any(state in line and "jobId=e2e-1" in line for line in log.splitlines()), f"no log line for {state}:\n{log}"
    assert worker.stop() == 0


@pytest.mark.parametrize("progressive", [False, True], ids=["staged", "progressive"])
def test_sigkill_mid_transcode_then_a_second_worker_completes_exactly_once(site: Site, progressive: bool):
    bus = site.bus
    first = site.start_worker("w-killed")
    site.submit({"jobId": "kill-1", "input": site.clips.long, "output": "kill-1", "progressive": progressive, **LONG_JOB})
    partial = site.output("kill-1")
    if progressive:
        bus.wait(lambda: any(e["state"] == "segment" for e in bus.of("kill-1")), 120, "the first segment", (first,))
    else:
        # Every video rendition has committed segments 0 and 1: the next attempt resumes past them.
        bus.wait(lambda: committed_video_segments(bus.of("kill-1"), LONG_JOB["ladder"]) >= 2, 120,
                 "two segments of every video rendition", (first,))
    if progressive:
        bus.wait(lambda: os.path.isfile(os.path.join(partial, "master.m3u8")), 60, "the progressive master playlist", (first,))
    first.expected_exit = True
    first.proc.kill()
    first.proc.wait()
    if progressive:
        # Written in place: players can already follow it, but it is not complete (no marker).
        assert os.path.isfile(os.path.join(partial, "master.m3u8")), h.list_tree(site.output_root)
        assert not os.path.exists(os.path.join(partial, ".hlsify-complete.json"))
    else:
        assert work_leftovers(site.output_root), "the killed worker should have left a partial transcode behind"
        assert not os.path.exists(partial), "nothing may appear at the output path before completion"

    second = site.start_worker("w-second")
    bus.wait(lambda: bus.of("kill-1", "completed"), 180, "job.completed from the second worker", (second,))
    time.sleep(2)
    bus.poll()
    completed = bus.of("kill-1", "completed")
    assert len(completed) == 1, completed
    assert completed[0]["workerId"] == "w-second" and completed[0]["attempt"] == 2
    second_run = [e for e in bus.of("kill-1") if e["workerId"] == "w-second"]
    assert states(second_run)[:2] == ["accepted", "started"] and second_run[0]["redelivered"] is True
    started = second_run[1]
    if progressive:
        # Written in place, a progressive job is not journaled: it starts afresh.
        assert started["resumedFromSegment"] == 0 and started["segmentsReused"] == 0, started
    else:
        # The second worker resumes from the first worker's committed segments, and writes only the rest.
        assert started["resumedFromSegment"] >= 2 and started["segmentsReused"] >= 4, started
        rewritten = {(e["segment"]["rendition"], e["segment"]["index"]) for e in second_run if e["state"] == "segment"}
        assert all(index >= started["resumedFromSegment"] - 1 for rendition, index in rewritten
                   if rendition in LONG_JOB["ladder"]), sorted(rewritten)
    hls = assert_plays(site.output("kill-1"))
    # One whole output: every segment of the second run, none left from the first.
    for playlist in hls.media_playlists():
        names = {os.path.basename(s.path) for s in playlist.segments}
        on_disk = {n for n in os.listdir(os.path.dirname(playlist.path)) if n.startswith("segment-")}
        assert on_disk == names, f"{playlist.uri}: files not in the playlist: {sorted(on_disk - names)}"
    assert work_leftovers(site.output_root) == [], "the leftovers of the killed attempt must be gone"
    assert sorted(os.listdir(site.output_root)) == [".hlsify-work", "kill-1"]
    site.stop_all_and_assert_drained()
    assert bus.drain_dead_letters() == []
    assert second.stop() == 0


def committed_video_segments(events: list[dict], renditions: list[str]) -> int:
    """Segments every one of `renditions` has reported (the smallest count among them)."""
    counts = {r: 0 for r in renditions}
    for e in events:
        if e["state"] == "segment" and e["segment"]["rendition"] in counts:
            counts[e["segment"]["rendition"]] += 1
    return min(counts.values())


def test_broker_restart_mid_job_reconnects_and_completes(site: Site):
    bus = site.bus
    worker = site.start_worker("w-restart", "--heartbeat", "5")
    site.submit({"jobId": "restart-1", "input": site.clips.long, "output": "restart-1", **LONG_JOB})
    bus.wait(lambda: any(e["state"] in ("segment", "progress") for e in bus.of("restart-1")), 120,
             "the transcode to be under way", (worker,))
    rabbitmqctl("stop_app")
    try:
        time.sleep(3)
        assert worker.proc.poll() is None, f"the worker died with the broker:\n{worker.log()}"
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    bus.wait(lambda: bus.of("restart-1", "completed"), 180, "job.completed after the restart", (worker,))
    # The redelivered copy (the first delivery died with the channel) must be acknowledged
    # without a second transcode and without a second job.completed.
    bus.wait(lambda: "acknowledged without work" in worker.log(), 60, "the redelivered copy to be acknowledged", (worker,))
    time.sleep(1)
    bus.poll()
    assert len(bus.of("restart-1", "completed")) == 1, states(bus.of("restart-1"))
    assert len(bus.of("restart-1", "started")) == 1, "the job was transcoded twice"
    assert_plays(site.output("restart-1"))
    log = worker.log()
    assert log.count("connected to the broker") >= 2, f"no reconnection in the log:\n{log[-4000:]}"
    assert "broker unavailable; reconnecting" in log or "the broker closed" in log
    assert work_leftovers(site.output_root) == []
    assert bus.drain_dead_letters() == []
    assert worker.stop() == 0


def test_malformed_and_hostile_messages_are_dead_lettered_and_the_worker_keeps_serving(site: Site, tmp_path):
    bus = site.bus
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(open(os.path.join(site.input_root, site.clips.tiny), "rb").read())
    os.symlink(str(outside / "secret.mp4"), os.path.join(site.input_root, "escape.mp4"))
    os.symlink(str(outside), os.path.join(site.input_root, "escape-dir"))
    # A complete output of another job, which a job may not overwrite.
    taken = os.path.join(site.output_root, "taken")
    os.makedirs(taken)
    open(os.path.join(taken, "master.m3u8"), "w").write("#EXTM3U\n")
    json.dump({"jobId": "owner", "workerId": "w", "attempt": 1, "completedAt": "2026-01-01T00:00:00.000Z",
               "eventPublished": True,
               "completion": {"output": "taken", "master": "taken/master.m3u8", "segmentFormat": "fmp4", "segmentDuration": 4,
                              "renditions": [], "audio": None, "subtitles": [], "durationSeconds": 1, "elapsedSeconds": 1,
                              "bytes": 1, "segments": 1, "speed": 1}},
              open(os.path.join(taken, ".hlsify-complete.json"), "w"))

    tiny = site.clips.tiny
    good = {"input": tiny, "ladder": ["108p"], "preset": "ultrafast"}
    # (message id, body, expected reason, expected job id in the event, expected event state)
    cases: list[tuple[str, bytes, str, Optional[str], str]] = [
        ("not-json", b"this is not json", "not-json", None, "rejected"),
        ("empty", b"", "not-json", None, "rejected"),
        ("binary", bytes(range(256)) * 4, "not-json", None, "rejected"),
        ("truncated", b'{"jobId": "t", "input": ', "not-json", None, "rejected"),
        ("array", b"[1, 2, 3]", "invalid-job", None, "rejected"),
        ("no-job-id", json.dumps({"input": tiny, "output": "x"}).encode(), "invalid-job", None, "rejected"),
        ("no-output", json.dumps({"jobId": "h-no-output", "input": tiny}).encode(), "invalid-job", "h-no-output", "rejected"),
        ("wrong-type", json.dumps({"jobId": "h-type", "input": tiny, "output": "h-type", "segmentDuration": "4"}).encode(),
         "invalid-job", "h-type", "rejected"),
        ("ladder-string", json.dumps({"jobId": "h-ladder-str", "input": tiny, "output": "x", "ladder": "720p"}).encode(),
         "invalid-job", "h-ladder-str", "rejected"),
        ("unknown-rung", json.dumps({"jobId": "h-4k", "input": tiny, "output": "h-4k", "ladder": ["4k", "720p"]}).encode(),
         "invalid-job", "h-4k", "rejected"),
        ("bad-format", json.dumps({"jobId": "h-fmt", "input": tiny, "output": "h-fmt", "segmentFormat": "webm"}).encode(),
         "invalid-job", "h-fmt", "rejected"),
        ("absolute", json.dumps({"jobId": "h-abs", "input": "/etc/passwd", "output": "h-abs"}).encode(),
         "unsafe-path", "h-abs", "rejected"),
        ("dotdot", json.dumps({"jobId": "h-up", "input": "../outside/secret.mp4", "output": "h-up"}).encode(),
         "unsafe-path", "h-up", "rejected"),
        ("symlink-file", json.dumps({"jobId": "h-link", "input": "escape.mp4", "output": "h-link"}).encode(),
         "unsafe-path", "h-link", "rejected"),
        ("symlink-dir", json.dumps({"jobId": "h-linkdir", "input": "escape-dir/secret.mp4", "output": "h-linkdir"}).encode(),
         "unsafe-path", "h-linkdir", "rejected"),
        ("output-escape", json.dumps({"jobId": "h-out", "input": tiny, "output": "../../h-out"}).encode(),
         "unsafe-path", "h-out", "rejected"),
        ("output-absolute", json.dumps({"jobId": "h-out-abs", "input": tiny, "output": "/tmp/h-out-abs"}).encode(),
         "unsafe-path", "h-out-abs", "rejected"),
        ("subtitle-escape", json.dumps({"jobId": "h-srt", "input": tiny, "output": "h-srt",
                                        "subtitles": [{"language": "en", "path": "../../etc/passwd"}]}).encode(),
         "unsafe-path", "h-srt", "rejected"),
        ("unsafe-id", json.dumps({"jobId": "../../etc/cron.d/x", "input": tiny, "output": "x"}).encode(),
         "unsafe-job-id", "../../etc/cron.d/x", "rejected"),
        ("too-large", json.dumps({"jobId": "h-big", "input": tiny, "output": "h-big", "pad": "x" * (2 << 20)}).encode(),
         "too-large", None, "rejected"),
        ("conflict", json.dumps({"jobId": "h-conflict", "output": "taken", **good}).encode(), "output-conflict", "h-conflict", "rejected"),
        ("bad-media", json.dumps({"jobId": "h-media", "input": "not-media.mp4", "output": "h-media"}).encode(),
         "bad-media", "h-media", "failed"),
        ("missing-input", json.dumps({"jobId": "h-missing", "input": "nowhere/gone.mp4", "output": "h-missing"}).encode(),
         "input-missing", "h-missing", "failed"),
    ]
    worker = site.start_worker("w-hostile")
    for message_id, body, *_ in cases:
        bus.publish(body, message_id=message_id, headers={"x-test": message_id})
    site.submit({"jobId": "after-the-storm", "output": "after-the-storm", **good})
    bus.wait(lambda: bus.of("after-the-storm", "completed"), 120, "the good job after the bad ones", (worker,))
    bus.wait(lambda: len(bus.drain_dead_letters()) >= len(cases), 60, "every bad message in the dead-letter queue", (worker,))
    assert worker.proc.poll() is None, f"the worker died:\n{worker.log()}"

    dead = {props.message_id: headers for headers, _, props in bus.dead}
    assert len(bus.dead) == len(cases), f"{len(bus.dead)} dead letters for {len(cases)} bad messages: {sorted(dead)}"
    bodies = {props.message_id: body for _, body, props in bus.dead}
    terminal = [e for e in bus.events if e["state"] in ("rejected", "failed") and e.get("deadLettered")]
    for message_id, body, reason, job_id, state in cases:
        headers = dead.get(message_id)
        assert headers is not None, f"{message_id} is not in the dead-letter queue"
        assert headers.get("x-hlsify-reason") == reason, f"{message_id}: {headers}"
        assert headers.get("x-hlsify-error"), f"{message_id}: no error text"
        assert headers.get("x-test") == message_id, "the original headers must be kept"
        assert headers.get("x-hlsify-worker-id") == "w-hostile"
        assert bodies[message_id] == body, f"{message_id}: the dead letter must carry the original body"
        matching = [e for e in terminal if e.get("jobId") == job_id and e["error"]["reason"] == reason]
        assert len(matching) >= 1, f"{message_id}: no job.{state} event with reason {reason} (job id {job_id})"
        assert all(e["state"] == state for e in matching), matching
    assert len(terminal) == len(cases), [(e["jobId"], e["error"]["reason"]) for e in terminal]
    for e in terminal:
        assert COMMON_FIELDS <= set(e) and e["attempt"] == 1
    # Nothing escaped the roots; the other job's output is untouched.
    assert not os.path.exists(os.path.join(str(tmp_path), "h-out"))
    assert sorted(os.listdir(outside)) == ["secret.mp4"]
    assert json.load(open(os.path.join(taken, ".hlsify-complete.json")))["jobId"] == "owner"
    assert_plays(site.output("after-the-storm"))
    site.stop_all_and_assert_drained()
    assert worker.stop() == 0


def test_passing_failures_are_retried_then_dead_lettered_after_max_attempts(site: Site):
    bus = site.bus
    # A regular file where the output's parent folder should be: every attempt fails to put
    # the output in place, a failure that is not the job's fault and may pass.
    open(os.path.join(site.output_root, "blocked"), "w").write("not a folder")
    worker = site.start_worker("w-retry", "--max-attempts", "2")
    site.submit({"jobId": "retry-1", "input": site.clips.tiny, "output": "blocked/retry-1", "ladder": ["108p"], "preset": "ultrafast"})
    bus.wait(lambda: any(e.get("deadLettered") for e in bus.of("retry-1", "failed")), 120, "the final job.failed", (worker,))
    failed = bus.of("retry-1", "failed")
    assert [(e["attempt"], e["willRetry"]) for e in failed] == [(1, True), (2, False)], failed
    assert failed[-1]["error"]["reason"] == "max-attempts"
    assert [e["attempt"] for e in bus.of("retry-1", "started")] == [1, 2]
    bus.wait(lambda: len(bus.drain_dead_letters()) == 1, 30, "the dead letter", (worker,))
    headers = bus.dead[0][0]
    assert headers["x-hlsify-reason"] == "max-attempts" and headers["x-hlsify-attempt"] == 2
    assert headers.get("x-hlsify-original-queue") == bus.jobs
    assert bus.of("retry-1", "completed") == []
    assert work_leftovers(site.output_root) == []
    site.stop_all_and_assert_drained()
    assert worker.stop() == 0


def test_fifty_jobs_two_workers_all_complete_none_twice_none_lost(site: Site):
    bus = site.bus
    workers = (site.start_worker("w-a"), site.start_worker("w-b"))
    ids = [f"batch-{i:02d}" for i in range(50)]
    for job_id in ids:
        bus.publish(json.dumps({"jobId": job_id, "input": site.clips.tiny, "output": f"batch/{job_id}", "ladder": ["108p"],
                                "preset": "ultrafast", "segmentDuration": 1}).encode(), message_id=job_id)
    bus.wait(lambda: len({e["jobId"] for e in bus.events if e["state"] == "completed"}) >= len(ids), 240,
             "50 completions", workers)
    time.sleep(2)
    bus.poll()
    completed = [e for e in bus.events if e["state"] == "completed"]
    assert sorted(e["jobId"] for e in completed) == ids, "every job exactly once"
    accepted = [e["jobId"] for e in bus.events if e["state"] == "accepted"]
    assert sorted(accepted) == ids, "no job was taken twice"
    assert not [e for e in bus.events if e["state"] in ("failed", "rejected")]
    by_worker = {w.worker_id: sum(1 for e in completed if e["workerId"] == w.worker_id) for w in workers}
    assert all(n > 0 for n in by_worker.values()), f"one worker did everything: {by_worker}"
    for job_id in ids:
        out = site.output(f"batch/{job_id}")
        assert os.path.isfile(os.path.join(out, "master.m3u8")), job_id
        assert json.load(open(os.path.join(out, ".hlsify-complete.json")))["jobId"] == job_id
    assert sorted(os.listdir(site.output("batch"))) == ids
    assert_plays(site.output("batch/batch-00"))
    assert_plays(site.output("batch/batch-49"))
    site.stop_all_and_assert_drained()
    assert bus.drain_dead_letters() == []
    assert work_leftovers(site.output_root) == []
    for w in workers:
        assert w.stop() == 0


def test_sigterm_lets_the_running_job_finish_within_the_grace_period(site: Site):
    bus = site.bus
    # A 2 s heartbeat: the broker drops a connection silent for two intervals, so one connection
    # from start to end shows that heartbeats flowed while the engine kept both cores busy.
    worker = site.start_worker("w-graceful", "--shutdown-grace", "120", "--heartbeat", "2")
    site.submit({"jobId": "graceful-1", "input": site.clips.long, "output": "graceful-1", **LONG_JOB})
    bus.wait(lambda: any(e["state"] == "segment" for e in bus.of("graceful-1")), 120, "the transcode to be under way", (worker,))
    worker.proc.send_signal(signal.SIGTERM)
    worker.expected_exit = True
    # A job submitted after SIGTERM is not taken.
    site.submit({"jobId": "graceful-2", "input": site.clips.tiny, "output": "graceful-2", "ladder": ["108p"], "preset": "ultrafast"})
    assert worker.proc.wait(timeout=120) == 0, worker.log()[-4000:]
    bus.poll()
    assert len(bus.of("graceful-1", "completed")) == 1
    assert bus.of("graceful-2") == [], "a job was taken after SIGTERM"
    assert_plays(site.output("graceful-1"))
    assert bus.queue_depth(bus.jobs)[0] == 1, "the job submitted after SIGTERM must still be queued"
    log = worker.log()
    assert "shutting down" in log
    assert log.count("connected to the broker") == 1 and "reconnecting" not in log, log[-4000:]
    assert "heartbeat=2" in log


def test_sigterm_past_the_grace_period_stops_the_job_and_requeues_it(site: Site):
    bus = site.bus
    worker = site.start_worker("w-impatient", "--shutdown-grace", "0.5")
    site.submit({"jobId": "requeue-1", "input": site.clips.long, "output": "requeue-1", **LONG_JOB})
    bus.wait(lambda: any(e["state"] == "segment" for e in bus.of("requeue-1")), 120, "the transcode to be under way", (worker,))
    t0 = time.monotonic()
    assert worker.stop(signal.SIGTERM, timeout=30) == 0, worker.log()[-4000:]
    assert time.monotonic() - t0 < 15, "the worker must stop soon after the grace period"
    bus.poll()
    interrupted = bus.of("requeue-1", "failed")
    assert len(interrupted) == 1 and interrupted[0]["willRetry"] is True and interrupted[0]["error"]["reason"] == "interrupted"
    assert bus.of("requeue-1", "completed") == []
    assert not os.path.exists(site.output("requeue-1"))
    # The interrupted attempt's committed segments stay in its work folder for the next holder.
    assert work_leftovers(site.output_root) == [work_name("requeue-1")], h.list_tree(site.output_root)
    assert bus.queue_depth(bus.jobs)[0] == 1, "the interrupted job must be back in the queue"
    successor = site.start_worker("w-successor")
    bus.wait(lambda: bus.of("requeue-1", "completed"), 180, "job.completed by the next worker", (successor,))
    assert bus.of("requeue-1", "completed")[0]["attempt"] == 2
    assert_plays(site.output("requeue-1"))
    assert work_leftovers(site.output_root) == [], "the work folder goes once the job is complete"
    assert successor.stop() == 0


def test_a_channel_closed_by_the_consumer_timeout_is_survived(site: Site):
    bus = site.bus
    # consumer_timeout is read when a channel opens: shorten it, start the worker, restore it.
    rabbitmqctl("eval", "application:set_env(rabbit, consumer_timeout, 2500).")
    try:
        worker = site.start_worker("w-timeout")
        bus.wait(lambda: "connected to the broker" in worker.log(), 30, "the worker to connect", (worker,))
        site.submit({"jobId": "timeout-1", "input": site.clips.long, "output": "timeout-1", **LONG_JOB})
        bus.wait(lambda: bus.of("timeout-1", "completed"), 180, "job.completed despite consumer timeouts", (worker,))
        bus.wait(lambda: "acknowledged without work" in worker.log(), 60, "the redelivered copy to be acknowledged", (worker,))
    finally:
        rabbitmqctl("eval", "application:set_env(rabbit, consumer_timeout, 1800000).")
    time.sleep(1)
    bus.poll()
    log = worker.log()
    assert "consumer_timeout" in log, f"the channel was never closed for a consumer timeout:\n{log[-4000:]}"
    assert worker.proc.poll() is None
    assert len(bus.of("timeout-1", "completed")) == 1
    assert len(bus.of("timeout-1", "started")) == 1, "redeliveries must not transcode again"
    assert_plays(site.output("timeout-1"))
    assert bus.drain_dead_letters() == []
    assert worker.stop() == 0


def test_submit_exits_non_zero_without_a_confirm(site: Site):
    # No broker on this port: nothing can confirm.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    job = json.dumps({"jobId": "nowhere", "input": "a.mp4", "output": "nowhere"})
    proc = subprocess.run([worker_bin(), "submit", "--amqp-url", f"amqp://guest:guest@127.0.0.1:{port}/", "-"],
                          input=job, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 69, (proc.returncode, proc.stderr)
    # An invalid job is refused before anything is sent.
    proc = subprocess.run([worker_bin(), "submit", *site.bus.worker_args()[:2], "-"],
                          input=json.dumps({"jobId": "../x", "input": "a.mp4", "output": "x"}), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 65, (proc.returncode, proc.stderr)
    # Flags build the job; the worker's environment variables configure it.
    proc = subprocess.run([worker_bin(), "submit", "--job-id", "flags-1", "--input", "a.mp4", "--ladder", "360p,240p",
                           "--jobs-queue", site.bus.jobs, "--dead-letter-exchange", site.bus.dlx,
                           "--dead-letter-queue", site.bus.dlq, "--events-exchange", site.bus.events_exchange],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "HLSIFY_AMQP_URL": site.bus.url})
    assert proc.returncode == 0, proc.stderr
    with site.bus.channel() as ch:
        method, properties, body = ch.basic_get(site.bus.jobs, auto_ack=True)
    assert method is not None and properties.delivery_mode == 2
    assert json.loads(body) == {"jobId": "flags-1", "input": "a.mp4", "output": "flags-1", "ladder": ["360p", "240p"]}


# ---------------------------------------------------------------------------
# issue 20: what an attacker or an unlucky operator tried
# ---------------------------------------------------------------------------

# The broker's frame_max (RabbitMQ's default, which librabbitmq and pika ask for too).
FRAME_MAX = 131072


def header_padding_just_under_frame_max() -> int:
    """The padding that makes a content header with only delivery_mode and one `x-pad` header fill
    a frame to 100 bytes short: frame header and end 8, class/weight/size/flags 14, delivery mode 1,
    table length 4, key 1+5, type 1, string length 4."""
    return FRAME_MAX - (8 + 14 + 1 + 4 + 1 + 5 + 1 + 4) - 100


def publish_padded(bus: "Bus", body: bytes, padding: int) -> None:
    with bus.channel() as ch:
        ch.confirm_delivery()
        ch.basic_publish("", bus.jobs, body, pika.BasicProperties(delivery_mode=2, headers={"x-pad": "p" * padding}),
                         mandatory=True)


def test_a_message_whose_dead_letter_copy_outgrows_a_frame_is_dead_lettered_once(site: Site):
    """Headers just under the frame limit and an invalid body: the copy with the worker's headers
    added no longer fits a frame. It must still be dead-lettered once (original headers dropped),
    without taking the connection down, and an unrelated job beside it must be done once."""
    bus = site.bus
    workers = (site.start_worker("w-poison-a", "--prefetch", "2"), site.start_worker("w-poison-b", "--prefetch", "2"))
    for w in workers:
        bus.wait(lambda: "connected to the broker" in w.log(), 30, "the workers to connect", workers)
    publish_padded(bus, b"this is not json " * 200, header_padding_just_under_frame_max())
    site.submit({"jobId": "beside-poison", "input": site.clips.tiny, "output": "beside-poison", "ladder": ["108p"],
                 "preset": "ultrafast"})
    bus.wait(lambda: bus.of("beside-poison", "completed"), 120, "the valid job's completion", workers)
    bus.wait(lambda: len(bus.drain_dead_letters()) >= 1, 60, "the poison message's dead letter", workers)
    bus.wait(lambda: [e for e in bus.events if e["state"] == "rejected"], 30, "job.rejected for the poison message", workers)
    time.sleep(1)
    bus.poll()
    assert len(bus.dead) == 1, [h.get("x-hlsify-reason") for h, _, _ in bus.dead]
    headers, body, _ = bus.dead[0]
    assert body == b"this is not json " * 200
    assert headers.get("x-hlsify-reason") == "not-json", headers.keys()
    assert headers.get("x-hlsify-headers-dropped") == 1 and "x-pad" not in headers, sorted(headers)
    rejected = [e for e in bus.events if e["state"] == "rejected"]
    assert len(rejected) == 1 and rejected[0]["attempt"] == 1, rejected
    valid = bus.of("beside-poison")
    assert [e["state"] for e in valid if e["state"] in ("accepted", "completed", "failed")] == ["accepted", "completed"], valid
    assert valid[0]["attempt"] == 1
    for w in workers:
        log = w.log()
        assert log.count("connected to the broker") == 1 and "reconnecting" not in log, log[-4000:]
    assert_plays(site.output("beside-poison"))
    site.stop_all_and_assert_drained()


def test_a_completion_published_again_after_a_crash_keeps_its_event_id(site: Site):
    """A worker killed after job.completed was confirmed but before the marker recorded it: the
    redelivery publishes job.completed again, and it must carry the same eventId (consumers
    de-duplicate on it). The kill is made exact by putting the marker in that state by hand."""
    bus = site.bus
    worker = site.start_worker("w-eventid")
    job = {"jobId": "eid-1", "input": site.clips.tiny, "output": "eid-1", "ladder": ["108p"], "preset": "ultrafast"}
    site.submit(job)
    bus.wait(lambda: bus.of("eid-1", "completed"), 120, "job.completed", (worker,))
    first = bus.of("eid-1", "completed")[0]
    marker_path = os.path.join(site.output("eid-1"), ".hlsify-complete.json")
    marker = json.load(open(marker_path))
    assert marker["eventPublished"] is True and marker["eventId"] == first["eventId"], (marker, first["eventId"])
    marker["eventPublished"] = False
    with open(marker_path, "w") as f:
        json.dump(marker, f)
    site.submit(job)  # the broker's redelivery of the unacknowledged job
    bus.wait(lambda: len(bus.of("eid-1", "completed")) == 2, 60, "job.completed published again", (worker,))
    again = bus.of("eid-1", "completed")[1]
    assert again["eventId"] == first["eventId"] and again["_messageId"] == first["eventId"], (first, again)
    assert len(bus.of("eid-1", "started")) == 1, "the output was complete: no second transcode"
    assert json.load(open(marker_path))["eventPublished"] is True
    site.stop_all_and_assert_drained()


def test_an_output_inside_or_around_a_complete_output_is_an_output_conflict(site: Site):
    """Outputs never nest: a job whose output contains a complete output, or lies inside one (a
    rendition folder, the master playlist's name), is rejected and the complete output stays."""
    bus = site.bus
    worker = site.start_worker("w-nest")
    tiny = {"input": site.clips.tiny, "ladder": ["108p"], "preset": "ultrafast"}
    site.submit({"jobId": "inner-1", "output": "course7/lecture1", **tiny})
    bus.wait(lambda: bus.of("inner-1", "completed"), 120, "the inner output", (worker,))
    site.submit({"jobId": "outer-1", "output": "course7", **tiny})
    site.submit({"jobId": "pc2", "output": "pc2", **tiny})
    bus.wait(lambda: bus.of("pc2", "completed"), 120, "pc2", (worker,))
    renditions = [n for n in os.listdir(site.output("pc2")) if os.path.isdir(os.path.join(site.output("pc2"), n))]
    assert renditions, h.list_tree(site.output("pc2"))
    site.submit({"jobId": "pc2-rendition", "output": f"pc2/{renditions[0]}", **tiny})
    site.submit({"jobId": "pc2-master", "output": "pc2/master.m3u8", **tiny})
    site.submit({"jobId": "pc2-deeper", "output": f"pc2/{renditions[0]}/deeper", **tiny})
    rejected_ids = ("outer-1", "pc2-rendition", "pc2-master", "pc2-deeper")
    bus.wait(lambda: all(bus.of(j, "rejected") for j in rejected_ids), 60, "the nested jobs' rejections", (worker,))
    for job_id in rejected_ids:
        (event,) = bus.of(job_id, "rejected")
        assert event["error"]["reason"] == "output-conflict", event
        assert bus.of(job_id, "started") == [] and bus.of(job_id, "completed") == []
    assert "course7/lecture1" in bus.of("outer-1", "rejected")[0]["error"]["message"] or \
        "contains" in bus.of("outer-1", "rejected")[0]["error"]["message"]
    for out, owner in (("course7/lecture1", "inner-1"), ("pc2", "pc2")):
        assert json.load(open(os.path.join(site.output(out), ".hlsify-complete.json")))["jobId"] == owner
        assert_plays(site.output(out))
    assert os.path.isfile(os.path.join(site.output("pc2"), "master.m3u8"))
    assert sorted(os.listdir(site.output("course7"))) == ["lecture1"]
    bus.wait(lambda: len(bus.drain_dead_letters()) >= len(rejected_ids), 30, "the dead letters", (worker,))
    assert {h["x-hlsify-reason"] for h, _, _ in bus.dead} == {"output-conflict"}
    site.stop_all_and_assert_drained()


def test_outputs_being_written_on_another_worker_do_not_nest_either(site: Site):
    """A parent and a child output on two workers at once: the one that comes second is refused
    while the first is still being written (held mid-transcode by SIGSTOP, so the order is exact)."""
    bus = site.bus
    first = site.start_worker("w-writer")
    site.submit({"jobId": "nest-p", "input": site.clips.long, "output": "nest/p", **LONG_JOB})
    bus.wait(lambda: bus.of("nest-p", "segment"), 120, "nest-p under way", (first,))
    first.proc.send_signal(signal.SIGSTOP)
    try:
        second = site.start_worker("w-second")
        tiny = {"input": site.clips.tiny, "ladder": ["108p"], "preset": "ultrafast"}
        site.submit({"jobId": "nest-child", "output": "nest/p/c", **tiny})
        site.submit({"jobId": "nest-parent", "output": "nest", **tiny})
        site.submit({"jobId": "nest-sibling", "output": "nest/q", **tiny})
        bus.wait(lambda: bus.of("nest-child", "rejected") and bus.of("nest-parent", "rejected")
                 and bus.of("nest-sibling", "completed"), 120, "the nested jobs refused, the sibling done", (second,))
    finally:
        first.proc.send_signal(signal.SIGCONT)
    for job_id in ("nest-child", "nest-parent"):
        (event,) = bus.of(job_id, "rejected")
        assert event["error"]["reason"] == "output-conflict" and "nest/p" in event["error"]["message"], event
        assert event["workerId"] == "w-second"
    assert bus.of("nest-p", "completed") == [], "the first job must still have been running"
    bus.wait(lambda: bus.of("nest-p", "completed"), 180, "nest-p to complete", (first, second))
    assert_plays(site.output("nest/p"))
    assert_plays(site.output("nest/q"))
    assert sorted(os.listdir(site.output("nest"))) == ["p", "q"]
    assert not os.path.exists(os.path.join(site.output("nest/p"), "c"))
    site.stop_all_and_assert_drained()


def work_name(key: str) -> str:
    """OutputLayout.workName: the key's plain characters (others as _), up to 80, then its FNV-1a 64."""
    readable = ""
    for ch in key:
        readable += ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_"
        if len(readable) >= 80:
            break
    value = 0xcbf29ce484222325
    for byte in key.encode():
        value = ((value ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{readable}-{value:016x}"


class HeldOutputLock:
    """Holds an output's lock (flock, as a worker does) so that a job for it waits: the test
    changes the file system meanwhile, then releases it."""

    def __init__(self, output_root: str, key: str):
        import fcntl
        folder = os.path.join(output_root, ".hlsify-work")
        os.makedirs(folder, exist_ok=True)
        self.fd = os.open(os.path.join(folder, work_name(key) + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def wait_until_waiting(bus: "Bus", worker: "Worker", job_id: str) -> None:
    bus.wait(lambda: any("job waiting" in line and f"jobId={job_id}" in line for line in worker.log().splitlines()), 60,
             f"{job_id} to wait for its output lock", (worker,))


def test_inputs_swapped_for_links_while_the_job_waits_are_refused(site: Site, tmp_path):
    """The input folder, or only a subtitle file, swapped for a link to outside the input root
    while the job waits for its output lock: the job is refused, nothing outside is read."""
    bus = site.bus
    outside = tmp_path / "outside-in"
    outside.mkdir()
    shutil.copy(os.path.join(site.clips.folder, site.clips.short), outside / "c.mp4")
    (outside / "c.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nOUTSIDE SECRET\n")
    for folder in ("up2", "up3"):
        os.makedirs(os.path.join(site.input_root, folder))
        shutil.copy(os.path.join(site.clips.folder, site.clips.tiny), os.path.join(site.input_root, folder, "c.mp4"))
        shutil.copy(os.path.join(FIXTURES, "lecture.en.srt"), os.path.join(site.input_root, folder, "c.srt"))
    os.mkfifo(os.path.join(site.input_root, "up3", "fifo.srt"))
    worker = site.start_worker("w-swap-in")
    tiny = {"ladder": ["108p"], "preset": "ultrafast"}
    cases = [
        # (job id, input, subtitle, swap, field named in the error)
        ("swap-folder", "up2/c.mp4", "up2/c.srt",
         lambda: (os.rename(os.path.join(site.input_root, "up2"), os.path.join(site.input_root, "up2-old")),
                  os.symlink(str(outside), os.path.join(site.input_root, "up2"))), "input"),
        ("swap-subtitle", "up3/c.mp4", "up3/c.srt",
         lambda: (os.unlink(os.path.join(site.input_root, "up3", "c.srt")),
                  os.symlink(str(outside / "c.srt"), os.path.join(site.input_root, "up3", "c.srt"))), "subtitles[0].path"),
        ("fifo-subtitle", "up3/c.mp4", "up3/fifo.srt", lambda: None, "subtitles[0].path"),
    ]
    for job_id, video, subtitle, swap, field in cases:
        held = HeldOutputLock(site.output_root, job_id)
        try:
            site.submit({"jobId": job_id, "input": video, "output": job_id,
                         "subtitles": [{"language": "en", "path": subtitle}], **tiny})
            wait_until_waiting(bus, worker, job_id)
            swap()
        finally:
            held.release()
        bus.wait(lambda: bus.of(job_id, "rejected") or bus.of(job_id, "completed") or bus.of(job_id, "failed"), 60,
                 f"{job_id} to end", (worker,))
        (event,) = bus.of(job_id, "rejected")
        assert event["error"]["reason"] == "unsafe-path" and field in event["error"]["message"], event
        assert bus.of(job_id, "started") == [] and not os.path.exists(site.output(job_id))
    assert "regular file" in bus.of("fifo-subtitle", "rejected")[0]["error"]["message"]
    assert sorted(os.listdir(outside)) == ["c.mp4", "c.srt"]
    site.stop_all_and_assert_drained()


@pytest.mark.parametrize("progressive", [False, True], ids=["staged", "progressive"])
def test_an_output_parent_swapped_for_a_link_while_the_job_waits_is_refused(site: Site, tmp_path, progressive: bool):
    """The output's parent folder swapped for a link to an outside folder while the job waits:
    nothing outside is deleted or written, and the job is refused."""
    bus = site.bus
    outside = tmp_path / "outside-out"
    (outside / "x").mkdir(parents=True)
    (outside / "x" / "keep.txt").write_text("not the worker's")
    os.makedirs(site.output("pdir"))
    worker = site.start_worker("w-swap-out")
    held = HeldOutputLock(site.output_root, "pdir/x")
    try:
        site.submit({"jobId": "swap-out", "input": site.clips.tiny, "output": "pdir/x", "ladder": ["108p"],
                     "preset": "ultrafast", "progressive": progressive})
        wait_until_waiting(bus, worker, "swap-out")
        os.rename(site.output("pdir"), site.output("pdir-old"))
        os.symlink(str(outside), site.output("pdir"))
    finally:
        held.release()
    bus.wait(lambda: bus.of("swap-out", "rejected") or bus.of("swap-out", "completed") or bus.of("swap-out", "failed"), 60,
             "the job to end", (worker,))
    (event,) = bus.of("swap-out", "rejected")
    assert event["error"]["reason"] == "unsafe-path" and "symbolic link" in event["error"]["message"], event
    assert bus.of("swap-out", "completed") == [] and bus.of("swap-out", "started") == []
    assert sorted(os.listdir(outside)) == ["x"] and sorted(os.listdir(outside / "x")) == ["keep.txt"]
    assert os.listdir(site.output("pdir-old")) == []
    site.stop_all_and_assert_drained()


def test_control_characters_never_reach_the_log_raw(site: Site):
    """A job id with a newline forging a log line, one with a NUL, and an output name with a C1
    control character: each is rejected, and the log shows them escaped inside their own line."""
    bus = site.bus
    worker = site.start_worker("w-log")
    forged = "evil\n2026-12-02T00:00:00+0000 info hlsify.worker: jobId=forged [TranscodeQueue] job completed"
    bus.publish(json.dumps({"jobId": forged, "input": site.clips.tiny, "output": "x"}).encode(), message_id="forge")
    bus.publish(json.dumps({"jobId": "nul\u0000id", "input": site.clips.tiny, "output": "x"}).encode(), message_id="nul")
    bus.publish(json.dumps({"jobId": "c1-name", "input": site.clips.tiny, "output": "out\u0085put"}).encode(), message_id="c1")
    bus.wait(lambda: len(bus.drain_dead_letters()) >= 3, 60, "three dead letters", (worker,))
    reasons = {p.message_id: hdr["x-hlsify-reason"] for hdr, _, p in bus.dead}
    assert reasons == {"forge": "unsafe-job-id", "nul": "unsafe-job-id", "c1": "unsafe-path"}, reasons
    site.stop_all_and_assert_drained()
    with open(worker.log_path, "rb") as f:
        raw = f.read()
    assert b"\x00" not in raw and "\u0085".encode() not in raw
    lines = raw.decode().splitlines()
    assert not [line for line in lines if line.startswith("2026-12-02T00:00:00+0000")], "a forged log line"
    assert [line for line in lines if "evil\\n2026-12-02T00:00:00" in line], "the newline must show escaped"
    assert [line for line in lines if "nul\\u{0}id" in line], "the NUL must show escaped"


def test_an_oversized_subtitle_file_is_bad_media_not_a_retry(site: Site):
    """The engine's 10 MiB cap on SRT files holds in the worker: one byte over (a sparse file) is a
    final bad-media failure, dead-lettered at once, never read into memory, never retried."""
    bus = site.bus
    big = os.path.join(site.input_root, "big.srt")
    with open(big, "wb") as f:
        f.truncate(10 * 1024 * 1024 + 1)
    worker = site.start_worker("w-big-srt")
    site.submit({"jobId": "big-srt", "input": site.clips.tiny, "output": "big-srt", "ladder": ["108p"], "preset": "ultrafast",
                 "subtitles": [{"language": "en", "path": "big.srt"}]})
    bus.wait(lambda: bus.of("big-srt", "failed"), 60, "the job's failure", (worker,))
    (failed,) = bus.of("big-srt", "failed")
    assert failed["error"]["reason"] == "bad-media" and failed["willRetry"] is False, failed
    assert "10485760" in failed["error"]["message"], failed
    assert "big.srt" in failed["error"]["message"] and "/proc/self/fd" not in failed["error"]["message"], failed
    assert not os.path.exists(site.output("big-srt")) and work_leftovers(site.output_root) == []
    bus.wait(lambda: len(bus.drain_dead_letters()) == 1, 30, "the dead letter", (worker,))
    site.stop_all_and_assert_drained()
