"""Split jobs on the queue: transcode-worker splits a long job by time (SplitJobs.swift).

The worker that takes a job whose source is at least two chunks long plans it into the job's
split folder (OUTPUT_ROOT/.hlsify-work/<key>/split), publishes one `hlsify.chunk` message per
chunk (header `x-hlsify-chunk` = `0`, `1`, ..., `audio`) and a delayed fan-in check (`hlsify.check`,
a per-message TTL in `<jobsQueue>.check` that dead-letters it back to the jobs queue), then acks
the job. Any worker encodes a chunk and commits it by a rename (`job.chunk`, `job.progress`); the
worker that sees every chunk committed publishes `hlsify.stitch`; the stitch (or the check) runs
under the output's lock and reports the job's one `job.completed`. A chunk that cannot succeed
fails the job once (`job.failed`, dead-lettered) and the job's other chunk messages are
dead-lettered (`job-failed`) without an event.

These tests drive the real worker against the private broker of `make test`, and again against the
three-node cluster of `make cluster-test` (node 1, which leads the jobs queue, is where the workers
connect first; test_cluster.py), with test_worker's
helpers (Bus, Site, Worker: one topology, roots and worker processes per test; events read from
a durable capture queue). The source is test_worker's `long` clip (30 s, 640x360 at 30 fps, a
tone); with 2 s segments, 6 s chunks and the ladder 360p,240p a job is 5 video chunks and the
audio. Workers run with `--chunk-check-interval 2`, so the delayed check comes round quickly.

What is checked, each time from what the worker left (events, files, queues), never from sleeps:
- exactly one `job.completed` (or, for a failing chunk, exactly one final `job.failed` and none);
- the stitched output plays (parsed, probed, decoded to the end: test_worker.assert_plays) and
  has the structure of the same job run whole (`"chunkDuration": 0`, the same workers, another output):
  the same files, segment counts and EXTINF values per media playlist, byte-identical audio files
  and, in fMP4, identical init sections (video bytes are not compared: x264 with frame threads is
  not deterministic run to run);
- duplicates of chunk messages (published by hand, one encoded beside the original; redelivered
  after a SIGKILL) are harmless: no job.failed for a job that completes, nothing left behind;
- a planner SIGKILLed halfway through publishing, and the last finisher SIGKILLed between its
  commit and the stitch, still end in one completion (HLSIFY_TEST_KILL_AT);
- a chunk that always fails fails the job once (one final job.failed, its message dead-lettered,
  the job's other chunk messages acked or dead-lettered as `job-failed`, no output), and the same
  job submitted again afterwards still ends with an event;
- afterwards the jobs queue and the check queue are empty (nothing left unacknowledged, no check
  re-arming for ever) and the work folder holds no leftovers.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Optional

import pika
import pytest

from test_cluster import ClusterBus, cluster_ctl, cluster_urls
from test_worker import (  # noqa: F401  (clips is a fixture, used by name)
    Bus,
    Site,
    Worker,
    amqp_url,
    assert_plays,
    clips,
    close_site,
    open_site,
    rabbitmqctl,
    work_leftovers,
)

pytestmark = pytest.mark.timeout(300)

CHUNK_DURATION = 6
VIDEO_CHUNKS = 5  # 30 s of source / 6 s
CHUNK_NAMES = [f"video-{k:03d}" for k in range(VIDEO_CHUNKS)] + ["audio"]
CHUNK_ARGUMENTS = [str(k) for k in range(VIDEO_CHUNKS)] + ["audio"]
CHECK_INTERVAL = "2"

# Generous: a 2-core machine, a debug build, sometimes two jobs at once.
JOB_TIMEOUT = 180


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def split_job(site: Site, job_id: str, segment_format: str = "fmp4", chunk_duration: float = CHUNK_DURATION) -> dict:
    return {"jobId": job_id, "input": site.clips.long, "output": f"split/{job_id}", "ladder": ["360p", "240p"],
            "segmentDuration": 2, "segmentFormat": segment_format, "preset": "veryfast", "chunkDuration": chunk_duration}


def start(site: Site, worker_id: str, *extra: str, env: Optional[dict] = None) -> Worker:
    return site.start_worker(worker_id, "--chunk-check-interval", CHECK_INTERVAL, *extra, env=env)


def check_queue(bus: Bus) -> str:
    return f"{bus.jobs}.check"


def close_split_site(site) -> None:
    """close_site, then the split jobs' check queue deleted (it outlives the jobs)."""
    close_site(site)
    try:
        with site.bus.channel() as ch:
            ch.queue_delete(check_queue(site.bus))
    except Exception:
        pass


@pytest.fixture(params=["node", "cluster"])
def split_site(request, clips, tmp_path):
    """A site on the private node of `make test`, or on the three-node cluster of `make
    cluster-test` (test_cluster.ClusterBus: node 1 leads the jobs queue; without a cluster these
    skip); the check queue the workers declare is removed afterwards."""
    bus = Bus(amqp_url()) if request.param == "node" else ClusterBus(cluster_urls())
    site = open_site(bus, clips, tmp_path)
    yield site
    close_split_site(site)


def queue_totals(bus: Bus) -> dict[str, int]:
    """Messages (ready + unacknowledged) in the test's jobs and check queues, as the broker counts them."""
    ctl = (lambda *args: cluster_ctl(3, *args)) if isinstance(bus, ClusterBus) else rabbitmqctl
    out = ctl("list_queues", "--no-table-headers", "name", "messages").stdout
    wanted = {bus.jobs: 0, check_queue(bus): 0}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in wanted:
            wanted[parts[0]] = int(parts[1])
    return wanted


def wait_quiet(site: Site, workers: tuple, timeout: float = 60) -> None:
    """Waits until the jobs queue and the check queue hold nothing (nothing ready, nothing
    unacknowledged) on two reads in a row: every chunk, stitch and check message is settled and
    no check re-arms itself. (Two reads, because a check expiring from the check queue is
    between the two queues for an instant.)"""
    last: list[dict] = []
    quiet_reads = [0]

    def quiet() -> bool:
        totals = queue_totals(site.bus)
        last[:] = [totals]
        quiet_reads[0] = quiet_reads[0] + 1 if not any(totals.values()) else 0
        return quiet_reads[0] >= 2

    site.bus.wait(quiet, timeout, "the jobs and check queues to be empty (last read: see below)", workers)


def completions(bus: Bus, job_id: str) -> list[dict]:
    return bus.of(job_id, "completed")


def final_failures(bus: Bus, job_id: str) -> list[dict]:
    return [e for e in bus.of(job_id, "failed") if not e.get("willRetry")]


def chunk_events(bus: Bus, job_id: str) -> list[dict]:
    return bus.of(job_id, "chunk")


def publish_chunk(bus: Bus, job: dict, chunk: str) -> None:
    """A chunk message as the worker publishes it (type, header, ids, body = the job), by pika."""
    with bus.channel() as ch:
        ch.confirm_delivery()
        ch.basic_publish("", bus.jobs, json.dumps(job).encode(),
                         pika.BasicProperties(delivery_mode=2, content_type="application/json", type="hlsify.chunk",
                                              message_id=f"{job['jobId']}:chunk:{chunk}", correlation_id=job["jobId"],
                                              headers={"x-hlsify-chunk": chunk, "x-hlsify-job-id": job["jobId"]}),
                         mandatory=True)


def wait_exit(bus: Bus, worker: Worker, timeout: float, what: str) -> int:
    """Waits for a worker that is meant to kill itself (HLSIFY_TEST_KILL_AT)."""
    worker.expected_exit = True
    bus.wait(lambda: worker.proc.poll() is not None, timeout, what, (worker,))
    return worker.proc.returncode


def log_lines(worker: Worker, *needles: str) -> list[str]:
    return [line for line in worker.log().splitlines() if all(n in line for n in needles)]


def extinf(playlist) -> list[str]:
    return [line.strip() for line in playlist.text.splitlines() if line.startswith("#EXTINF")]


def files_of(folder: str) -> list[str]:
    found = []
    for base, _, names in os.walk(folder):
        for name in names:
            found.append(os.path.relpath(os.path.join(base, name), folder))
    return sorted(f for f in found if f != ".hlsify-complete.json")


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def assert_same_structure(split_out: str, whole_out: str, segment_format: str) -> None:
    """The split job's output against the same job run whole: files, segment counts and EXTINF
    per media playlist, audio bytes, and (fMP4) every init section."""
    split_hls, whole_hls = assert_plays(split_out), assert_plays(whole_out)
    assert files_of(split_out) == files_of(whole_out), "the split output's files differ from the whole run's"
    split_playlists = {p.uri: p for p in split_hls.media_playlists()}
    whole_playlists = {p.uri: p for p in whole_hls.media_playlists()}
    assert sorted(split_playlists) == sorted(whole_playlists)
    assert [(v.uri, v.resolution, v.codecs) for v in split_hls.variants] == \
        [(v.uri, v.resolution, v.codecs) for v in whole_hls.variants]
    for uri, split_pl in split_playlists.items():
        whole_pl = whole_playlists[uri]
        assert len(split_pl.segments) == len(whole_pl.segments), f"{uri}: segment count"
        assert extinf(split_pl) == extinf(whole_pl), f"{uri}: EXTINF values differ"
        assert split_pl.target_duration == whole_pl.target_duration, f"{uri}: EXT-X-TARGETDURATION"
        assert [s.uri for s in split_pl.segments] == [s.uri for s in whole_pl.segments], f"{uri}: segment names"
        assert "#EXT-X-DISCONTINUITY" not in split_pl.text, f"{uri}: a join is visible to players"
        if segment_format == "fmp4":
            inits = {s.init.path: s.init for s in split_pl.segments if s.init}
            assert inits, f"{uri}: fMP4 without EXT-X-MAP"
            for s, w in zip(split_pl.segments, whole_pl.segments):
                assert s.init and w.init and s.init.data() == w.init.data(), f"{uri}: init section differs"
    audio = [m.playlist for m in split_hls.audio_renditions if m.playlist]
    assert audio, "no audio rendition"
    for split_pl in audio:
        whole_pl = whole_playlists[split_pl.uri]
        for s, w in zip(split_pl.segments, whole_pl.segments):
            assert s.data() == w.data(), f"audio segment {s.uri} differs from the whole run's"
        paths = {s.path for s in split_pl.segments} | {s.init.path for s in split_pl.segments if s.init}
        for path in paths:
            rel = os.path.relpath(path, split_out)
            assert read(path) == read(os.path.join(whole_out, rel)), f"audio file {rel} differs from the whole run's"


def assert_chunk_events(bus: Bus, job_id: str) -> None:
    events = chunk_events(bus, job_id)
    names = {e["chunk"]["name"] for e in events}
    assert names == set(CHUNK_NAMES), f"job.chunk events name {sorted(names)}, not every chunk {CHUNK_NAMES}"
    for e in events:
        c = e["chunk"]
        assert c["of"] == len(CHUNK_NAMES) and 1 <= c["committed"] <= c["of"], e
        assert c["encodeSeconds"] >= 0, e
        assert e["_routingKey"] == "job.chunk"
    for p in bus.of(job_id, "progress"):
        assert 0 <= p["progress"]["fraction"] <= 1, p


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("segment_format", ["fmp4", "ts"])
def test_two_workers_complete_a_split_job_once_with_the_structure_of_a_whole_run(split_site: Site, segment_format: str):
    site, bus = split_site, split_site.bus
    workers = (start(site, "w-a"), start(site, "w-b"))
    job = split_job(site, f"split-{segment_format}", segment_format)
    # Split jobs make no storyboard or poster (yet): neither does the whole run compared with.
    whole = {**split_job(site, f"whole-{segment_format}", segment_format), "chunkDuration": 0, "storyboard": False, "poster": False}
    site.submit(job)
    site.submit(whole)
    bus.wait(lambda: completions(bus, job["jobId"]) and completions(bus, whole["jobId"]), JOB_TIMEOUT,
             "both jobs completed", workers)
    wait_quiet(site, workers)
    bus.poll()

    assert len(completions(bus, job["jobId"])) == 1, [e["workerId"] for e in completions(bus, job["jobId"])]
    assert len(completions(bus, whole["jobId"])) == 1
    assert bus.of(job["jobId"], "failed") == [] and bus.of(job["jobId"], "rejected") == []
    assert_chunk_events(bus, job["jobId"])
    # The job is planned once: one job.started, and the whole run is not split at all.
    assert len(bus.of(job["jobId"], "started")) == 1, [e["state"] for e in bus.of(job["jobId"])]
    assert chunk_events(bus, whole["jobId"]) == []
    completed = completions(bus, job["jobId"])[0]
    assert completed["output"] == job["output"] and completed["segmentFormat"] == segment_format
    assert sorted(r["name"] for r in completed["renditions"]) == ["240p", "360p"]

    split_out, whole_out = site.output(job["output"]), site.output(whole["output"])
    assert_same_structure(split_out, whole_out, segment_format)
    marker = json.load(open(os.path.join(split_out, ".hlsify-complete.json")))
    assert marker["jobId"] == job["jobId"] and marker["eventPublished"] is True
    assert work_leftovers(site.output_root) == []
    site.stop_all_and_assert_drained()
    assert bus.drain_dead_letters() == []


def test_duplicate_chunk_messages_are_harmless(split_site: Site):
    site, bus = split_site, split_site.bus
    workers = (start(site, "w-a"), start(site, "w-b"))
    job = split_job(site, "dup-1")
    site.submit(job)
    # Copies of the last chunk queued right behind its message, once the planner has published
    # them all: with two workers a copy is encoded beside the original (and is still encoding
    # when the original's worker stitches); then copies of a committed chunk; then copies after
    # the completion.
    bus.wait(lambda: any(log_lines(w, "job planned as a split job") for w in workers), JOB_TIMEOUT,
             "the job planned", workers)
    for _ in range(2):
        publish_chunk(bus, job, "audio")
    bus.wait(lambda: chunk_events(bus, job["jobId"]), JOB_TIMEOUT, "a first job.chunk", workers)
    first = chunk_events(bus, job["jobId"])[0]["chunk"]["name"]
    committed_arg = "audio" if first == "audio" else str(int(first.split("-")[1]))
    for _ in range(3):
        publish_chunk(bus, job, committed_arg)
    bus.wait(lambda: completions(bus, job["jobId"]), JOB_TIMEOUT, "job.completed", workers)
    for chunk in ("0", "audio"):
        publish_chunk(bus, job, chunk)
    wait_quiet(site, workers)
    bus.poll()

    assert len(completions(bus, job["jobId"])) == 1
    failed = [(e["workerId"], e["error"]) for e in bus.of(job["jobId"], "failed")]
    assert failed == [], f"a job that completed reported job.failed (a duplicate chunk failing beside the stitch?): {failed}"
    assert_chunk_events(bus, job["jobId"])
    assert_plays(site.output(job["output"]))
    assert work_leftovers(site.output_root) == [], "a duplicate left something in the work folder"
    site.stop_all_and_assert_drained()
    assert bus.drain_dead_letters() == []
    logs = "\n".join(w.log() for w in workers)
    assert "was committed already" in logs or "duplicate=true" in logs, "no duplicate was seen as one"
    assert "the job has no split folder" in logs, "the copies published after the completion were not seen as late"


def test_a_planner_killed_halfway_through_publishing_still_completes_once(split_site: Site):
    site, bus = split_site, split_site.bus
    planner = start(site, "w-planner", env={"HLSIFY_TEST_KILL_AT": "chunk-published:3"})
    job = split_job(site, "kill-plan-1")
    site.submit(job)
    code = wait_exit(bus, planner, JOB_TIMEOUT, "the planner to kill itself after its 3rd chunk message")
    assert code == -9, f"the planner exited {code}, not by SIGKILL:\n{planner.log()[-3000:]}"
    assert log_lines(planner, "job split by time"), planner.log()[-3000:]
    assert not log_lines(planner, "job planned as a split job"), "the planner acked the job before it died"

    workers = (start(site, "w-b"), start(site, "w-c"))
    bus.wait(lambda: completions(bus, job["jobId"]), JOB_TIMEOUT, "job.completed", workers)
    wait_quiet(site, workers)
    bus.poll()

    assert len(completions(bus, job["jobId"])) == 1
    assert bus.of(job["jobId"], "failed") == []
    # The job message came back and was planned again (the same plan, reused).
    replans = [line for w in workers for line in log_lines(w, "job split by time")]
    assert replans and all("reused=true" in line for line in replans), replans
    assert_chunk_events(bus, job["jobId"])
    assert_plays(site.output(job["output"]))
    assert work_leftovers(site.output_root) == []
    site.stop_all_and_assert_drained()
    assert bus.drain_dead_letters() == []


def test_the_last_finisher_killed_between_commit_and_stitch_is_covered(split_site: Site):
    site, bus = split_site, split_site.bus
    last = start(site, "w-last", env={"HLSIFY_TEST_KILL_AT": f"chunk-committed:{len(CHUNK_NAMES)}"})
    job = split_job(site, "kill-last-1")
    site.submit(job)
    code = wait_exit(bus, last, JOB_TIMEOUT, "the only worker to kill itself after committing the last chunk")
    assert code == -9, f"the worker exited {code}, not by SIGKILL:\n{last.log()[-3000:]}"
    bus.poll()
    assert completions(bus, job["jobId"]) == []
    # It reported every chunk but the last (it died right after that commit, before any event).
    assert len({e["chunk"]["name"] for e in chunk_events(bus, job["jobId"])}) == len(CHUNK_NAMES) - 1
    assert not log_lines(last, "stitch requested")

    fresh = start(site, "w-fresh")
    bus.wait(lambda: completions(bus, job["jobId"]), JOB_TIMEOUT, "job.completed", (fresh,))
    wait_quiet(site, (fresh,))
    bus.poll()

    assert len(completions(bus, job["jobId"])) == 1
    assert completions(bus, job["jobId"])[0]["workerId"] == "w-fresh"
    assert bus.of(job["jobId"], "failed") == []
    assert_plays(site.output(job["output"]))
    assert work_leftovers(site.output_root) == []
    site.stop_all_and_assert_drained()
    assert bus.drain_dead_letters() == []


def test_a_chunk_that_always_fails_fails_the_job_once(split_site: Site):
    site, bus = split_site, split_site.bus
    env = {"HLSIFY_TEST_FAIL_CHUNK": "2"}
    workers = (start(site, "w-a", "--max-attempts", "2", env=env), start(site, "w-b", "--max-attempts", "2", env=env))
    job = split_job(site, "fail-1")
    site.submit(job)
    bus.wait(lambda: final_failures(bus, job["jobId"]), JOB_TIMEOUT, "the job's final job.failed", workers)
    wait_quiet(site, workers)
    bus.poll()

    finals = final_failures(bus, job["jobId"])
    assert len(finals) == 1, finals
    assert finals[0]["deadLettered"] is True and finals[0]["willRetry"] is False
    assert finals[0]["error"]["reason"] == "max-attempts", finals[0]
    # Every other job.failed is the retry of the failing chunk's first attempt.
    retries = [e for e in bus.of(job["jobId"], "failed") if e.get("willRetry")]
    assert all(not e["deadLettered"] for e in retries), retries
    assert len(retries) <= 1, f"--max-attempts 2 allows one retry: {retries}"
    assert completions(bus, job["jobId"]) == []
    assert not os.path.exists(site.output(job["output"])), "a failed split job published an output"
    assert "video-002" not in {e["chunk"]["name"] for e in chunk_events(bus, job["jobId"])}

    site.stop_all_and_assert_drained()
    dead = bus.drain_dead_letters()
    by_chunk = {}
    for headers, body, properties in dead:
        assert properties.type == "hlsify.chunk", (headers, properties)
        assert json.loads(body)["jobId"] == job["jobId"]
        by_chunk.setdefault(headers.get("x-hlsify-chunk"), []).append(headers)
    assert [h["x-hlsify-reason"] for h in by_chunk.get("2", [])] == ["max-attempts"], by_chunk
    for chunk, copies in by_chunk.items():
        if chunk != "2":
            assert [h["x-hlsify-reason"] for h in copies] == ["job-failed"], (chunk, copies)
    # Each chunk message ended once: committed (acked), or dead-lettered.
    committed = {e["chunk"]["name"] for e in chunk_events(bus, job["jobId"])}
    dropped = {f"video-{int(c):03d}" if c != "audio" else "audio" for c in by_chunk if c != "2"}
    assert committed | dropped | {"video-002"} == set(CHUNK_NAMES), (committed, dropped)
    assert not committed & dropped, (committed, dropped)


def test_a_failed_split_job_submitted_again_does_not_end_silently(split_site: Site):
    """Every submitted job ends one way (README): a job.completed or a final job.failed. A split
    job that failed leaves its failed marker in the work folder; the same job submitted again
    (a producer retrying it, the cause fixed) must still end with one of the two."""
    site, bus = split_site, split_site.bus
    failing = start(site, "w-failing", "--max-attempts", "1", env={"HLSIFY_TEST_FAIL_CHUNK": "2"})
    job = split_job(site, "again-1")
    site.submit(job)
    bus.wait(lambda: final_failures(bus, job["jobId"]), JOB_TIMEOUT, "the job's final job.failed", (failing,))
    wait_quiet(site, (failing,))
    assert failing.stop() == 0

    fixed = start(site, "w-fixed")
    site.submit(job)
    bus.wait(lambda: len(bus.of(job["jobId"], "accepted")) >= 2, JOB_TIMEOUT, "the resubmitted job accepted", (fixed,))
    # The second submission must end too: with the failing chunk fixed, a completion.
    bus.wait(lambda: completions(bus, job["jobId"]), JOB_TIMEOUT, "the resubmitted job's job.completed", (fixed,))
    # Quiet queues: every message of the second submission is settled, nothing more is coming.
    wait_quiet(site, (fixed,), timeout=JOB_TIMEOUT)
    bus.poll()
    ends = completions(bus, job["jobId"]) + final_failures(bus, job["jobId"])
    assert len(ends) == 2, (
        "the resubmitted job ended without a job.completed or a final job.failed: "
        f"{[(e['state'], e['workerId']) for e in bus.of(job['jobId']) if e['state'] not in ('progress', 'chunk')]}\n"
        + "\n".join(log_lines(fixed, "jobId=again-1")))
    site.stop_all_and_assert_drained()


def test_a_progressive_split_job_publishes_its_committed_prefix_then_finishes_in_place(split_site: Site):
    """A progressive job is split too: its audio chunk goes first, and after each commit what is
    committed from the start of the plan is published in place (EVENT playlists, the master once
    the audio and a video chunk are there); the stitch finishes the same folder by appending to
    the EVENT playlists (the last segments and ENDLIST: RFC 8216 §6.2.1), never rewriting them.
    The only worker kills itself after its third commit (audio, video-000, video-001), before it
    publishes the third, so the published prefix is exactly the audio and video-000 until a fresh
    worker takes over."""
    site, bus = split_site, split_site.bus
    first = start(site, "w-prog", env={"HLSIFY_TEST_KILL_AT": "chunk-committed:3"})
    job = {**split_job(site, "prog-1"), "progressive": True}
    site.submit(job)
    code = wait_exit(bus, first, JOB_TIMEOUT, "the worker to kill itself after its third commit")
    assert code == -9, f"the worker exited {code}, not by SIGKILL:\n{first.log()[-3000:]}"
    bus.poll()
    assert completions(bus, job["jobId"]) == []
    assert [e["chunk"]["name"] for e in chunk_events(bus, job["jobId"])] == ["audio", "video-000"], \
        "a progressive job's audio chunk is not published first"

    out = site.output(job["output"])
    master = os.path.join(out, "master.m3u8")
    assert os.path.isfile(master), f"no progressive master after the audio and the first video chunk: {files_of(out)}"
    assert not os.path.exists(os.path.join(out, ".hlsify-complete.json")), "a completion marker before the stitch"
    published = {}
    for rendition in ("360p", "240p"):
        text = open(os.path.join(out, rendition, "index.m3u8")).read()
        published[rendition] = text
        assert "#EXT-X-PLAYLIST-TYPE:EVENT" in text and "#EXT-X-ENDLIST" not in text, text
        uris = [line for line in text.splitlines() if line and not line.startswith("#")]
        # The chunk's last segment waits for the next chunk to measure it (a listed line never changes).
        assert uris == [f"segment-{i:05d}.m4s" for i in range(CHUNK_DURATION // 2 - 1)], (rendition, uris)
        # The published prefix is a stream of its own: probed without errors, frame by frame.
        joined = os.path.join(site.tmp, f"prefix-{rendition}.mp4")
        with open(joined, "wb") as f:
            for name in ["init.mp4", *uris]:
                with open(os.path.join(out, rendition, name), "rb") as part:
                    f.write(part.read())
        probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v",
                                "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", joined],
                               capture_output=True, text=True, timeout=120)
        assert probe.returncode == 0 and not probe.stderr.strip(), probe.stderr
        assert int(probe.stdout.strip()) == (CHUNK_DURATION - 2) * 30, probe.stdout
    audio = open(os.path.join(out, "audio", "index.m3u8")).read()
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in audio, audio
    published["audio"] = audio

    fresh = start(site, "w-fresh")
    bus.wait(lambda: completions(bus, job["jobId"]), JOB_TIMEOUT, "job.completed", (fresh,))
    wait_quiet(site, (fresh,))
    bus.poll()
    assert len(completions(bus, job["jobId"])) == 1
    hls = assert_plays(out)
    for playlist in hls.media_playlists():
        assert "#EXT-X-PLAYLIST-TYPE:EVENT" in playlist.text and playlist.text.rstrip().endswith("#EXT-X-ENDLIST"), playlist.uri
    for rendition, before in published.items():
        after = open(os.path.join(out, rendition, "index.m3u8")).read()
        assert after.startswith(before), f"{rendition}: the finished playlist does not start with the published one:\n{before}\n---\n{after}"
        assert len(after) > len(before), rendition
    assert not os.path.exists(os.path.join(out, ".hlsify-progress.json"))
    assert work_leftovers(site.output_root) == []
    site.stop_all_and_assert_drained()
