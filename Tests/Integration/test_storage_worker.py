"""transcode-worker with a bucket input root and a bucket output root (notes/s3-contract.md,
"Worker"), against real S3 servers on loopback (s3servers.py) and the private RabbitMQ node of
test_worker.py.

The worker runs with `--input-root s3://IN/uploads/2026 --output-root s3://OUT/media/v1
--work-root DIR` and the server's AWS_* variables. Everything around it is test_worker.py's
(imported, not copied): the per-test topology and event capture (Bus), the worker processes
(Site.start_worker, Worker), the producer (`transcode-worker submit`), the playback check
(assert_plays, run on a downloaded copy of the bucket's set). The independent reader of the
buckets is boto3 through s3servers' helpers, which always talk to the server straight (never
through a FaultProxy).

What is checked, for each job: the events (as with folder roots), the objects under the output
prefix (the set, `.hlsify-output.json` listing it, `.hlsify-complete.json`; the set byte for byte
what a worker with folder roots writes for the same job, but for what x264's frame threads make
unrepeatable from one encode to the next: see frame_threaded_rungs), no open multipart upload,
nothing left in the local work root (spooled inputs, work folders), and that no event, dead
letter, worker log line or marker contains the secret key.

The tests without a publish run on both servers (ids rclone, seaweedfs); the publishing ones on
PUBLISHING_SERVERS (SeaweedFS for now: see there why not rclone); the long ones on SeaweedFS,
which also lists open multipart uploads. The fault tests put s3servers.FaultProxy in front of
SeaweedFS (`faulty_site`). Every wait is for an observed state (an event, an object, a log line,
a process exit); timeouts are upper bounds only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
from dataclasses import dataclass, field
from typing import Optional
from unittest import mock

import pytest

import hlscheck as h
from conftest import FIXTURES
from s3servers import FaultProxy, clean_env, unique_bucket_name
from test_worker import (COMMON_FIELDS, Bus, Clips, Site, Worker, amqp_url, assert_plays, close_site,
                         committed_video_segments, rabbitmqctl, states, work_leftovers)

pytestmark = pytest.mark.timeout(240)

CLIP = "landscape-720p.mp4"          # 5 s, 1280x720, with audio
NOT_MEDIA = "not-media.mp4"
SUBTITLE = "lecture.en.srt"
IN_PREFIX = "uploads/2026"           # the input root's prefix in the input bucket
OUT_PREFIX = "media/v1"              # the output root's prefix in the output bucket

# A quick job: two rungs, three 2 s segments each, plus audio and subtitles.
QUICK = {"ladder": ["360p", "240p"], "preset": "ultrafast", "segmentDuration": 2}
# A job long enough to interrupt (about 10 s of work on this machine): 1 s segments, medium preset.
LONG = {"ladder": ["720p", "360p"], "preset": "medium", "segmentDuration": 1}

MARKER = ".hlsify-complete.json"
INVENTORY = ".hlsify-output.json"
WAIT = 180           # upper bound for a state that is expected to come
# The S3 knobs of the contract for these runs: quick retries.
S3_KNOBS = {"HLSIFY_S3_RETRY_DELAY": "0.05"}


# ---------------------------------------------------------------------------
# a test's buckets, work root, topology and workers
# ---------------------------------------------------------------------------


@dataclass
class BucketSite(Site):
    """test_worker's Site with bucket roots. `store` is the S3 server the test reads and writes
    straight; `endpoint` is what the workers talk to (the server itself or a FaultProxy)."""
    store: object = None
    endpoint: object = None
    in_bucket: str = ""
    out_bucket: str = ""
    work_root: str = ""
    other_bucket: str = ""
    secrets: list = field(default_factory=list)

    def start_worker(self, worker_id: str, *extra: str, env: Optional[dict] = None) -> Worker:
        # The worker gets the environment without the caller's AWS_* / HLSIFY_S3_* variables
        # (Site.start_worker starts from os.environ), then the contract's variables for the endpoint.
        s3_env = {**self.endpoint.env(), **S3_KNOBS, **(env or {})}
        with mock.patch.dict(os.environ, clean_env(), clear=True):
            return super().start_worker(worker_id, "--work-root", self.work_root, *extra, env=s3_env)

    # -- the output prefix, read straight from the server --

    def prefix(self, output: str) -> str:
        return f"{OUT_PREFIX}/{output}/"

    def output_objects(self, output: str) -> dict[str, bytes]:
        """relative path -> bytes of every object under the job's output prefix."""
        p = self.prefix(output)
        return {k[len(p):]: self.store.get(self.out_bucket, k) for k in self.store.keys(self.out_bucket, p)}

    def output_keys(self, output: str) -> list[str]:
        p = self.prefix(output)
        return [k[len(p):] for k in self.store.keys(self.out_bucket, p)]

    def open_uploads(self) -> list[tuple[str, str]]:
        """(bucket, key) of every multipart upload open in the test's buckets."""
        from botocore.exceptions import ClientError
        found = []
        for bucket in (self.in_bucket, self.out_bucket):
            try:
                found += [(bucket, u["Key"]) for u in self.store.list_multipart_uploads(bucket)]
            except ClientError as e:
                # rclone answers NoSuchUpload to the listing of a bucket that never had one.
                if not (self.store.kind == "rclone" and e.response["Error"].get("Code") == "NoSuchUpload"):
                    raise
        return found

    def leftovers(self) -> list[str]:
        """What the work root holds besides its empty folders and lock files."""
        found = []
        for folder in ("spool", "inputs"):
            path = os.path.join(self.work_root, folder)
            if os.path.isdir(path):
                found += [f"{folder}/{n}" for n in sorted(os.listdir(path))]
        outputs = os.path.join(self.work_root, "outputs")
        if os.path.isdir(outputs):
            found += [f"outputs/{n}" for n in sorted(os.listdir(outputs)) if n != ".hlsify-work"]
            found += [f"outputs/.hlsify-work/{n}" for n in work_leftovers(outputs)]
        return found

    def assert_no_secret(self) -> None:
        """No event, dead letter, worker log or marker/listing object contains a secret key."""
        self.bus.poll()
        places = {f"event {i} ({e.get('jobId')} {e.get('state')})": json.dumps(e) for i, e in enumerate(self.bus.events)}
        for i, (headers, body, _) in enumerate(self.bus.dead):
            places[f"dead letter {i}"] = repr(headers) + body.decode("utf-8", "replace")
        for w in self.workers:
            places[f"log of {w.worker_id}"] = w.log()
        for key in self.store.keys(self.out_bucket):
            if key.endswith(".json") or key.endswith(".m3u8"):
                places[f"object {key}"] = self.store.get(self.out_bucket, key).decode("utf-8", "replace")
        for secret in self.secrets:
            assert len(secret) >= 16
            leaks = [where for where, text in places.items() if secret in text]
            assert not leaks, f"the secret key appears in: {leaks}"


def open_bucket_site(store, endpoint, tmp_path, name: str) -> BucketSite:
    """Fresh buckets (input, output, and another one jobs must not reach) with the clip and the
    subtitle under the input prefix, a work root, a topology. (Few objects: every PUT into a
    sub-folder costs seconds on rclone as s3servers starts it.)"""
    in_bucket = store.make_bucket(unique_bucket_name(f"in-{name}"))
    out_bucket = store.make_bucket(unique_bucket_name(f"out-{name}"))
    other = store.make_bucket(unique_bucket_name(f"other-{name}"))
    for key in (CLIP, SUBTITLE):
        store.put(in_bucket, f"{IN_PREFIX}/{key}", os.path.join(FIXTURES, key))
    work_root = tmp_path / "work"
    work_root.mkdir()
    return BucketSite(Bus(amqp_url()), f"s3://{in_bucket}/{IN_PREFIX}", f"s3://{out_bucket}/{OUT_PREFIX}",
                      Clips(str(tmp_path)), str(tmp_path), store=store, endpoint=endpoint, in_bucket=in_bucket,
                      out_bucket=out_bucket, work_root=str(work_root), other_bucket=other,
                      secrets=[store.secret_key])


# The servers the publishing tests run on (rclone with its 1 s directory cache: with 0 s one
# publish took 40-180 s of its CPU instead of 2-3 s).
PUBLISHING_SERVERS = ["rclone", "seaweedfs"]
SERVER_FIXTURES = {"rclone": "rclone_s3", "seaweedfs": "seaweed_s3"}


@pytest.fixture
def bsite(s3_server, tmp_path, request) -> BucketSite:
    """A bucket site on each server in turn (rclone, seaweedfs): for the tests without a publish."""
    s = open_bucket_site(s3_server, s3_server, tmp_path, request.node.name)
    yield s
    close_site(s)


@pytest.fixture(params=PUBLISHING_SERVERS)
def psite(request, tmp_path) -> BucketSite:
    """A bucket site on each of PUBLISHING_SERVERS."""
    server = request.getfixturevalue(SERVER_FIXTURES[request.param])
    s = open_bucket_site(server, server, tmp_path, request.node.name)
    yield s
    close_site(s)


@pytest.fixture
def seaweed_site(seaweed_s3, tmp_path, request) -> BucketSite:
    s = open_bucket_site(seaweed_s3, seaweed_s3, tmp_path, request.node.name)
    yield s
    close_site(s)


@pytest.fixture
def faulty_site(seaweed_s3, tmp_path, request):
    """A bucket site whose workers talk to SeaweedFS through a FaultProxy of the test's own (not
    the fault_proxy fixture, which is in front of rclone: see PUBLISHING_SERVERS)."""
    proxy = FaultProxy(seaweed_s3)
    s = open_bucket_site(seaweed_s3, proxy, tmp_path, request.node.name)
    try:
        yield s, proxy
    finally:
        close_site(s)
        proxy.stop()


# ---------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------


def download(files: dict[str, bytes], folder: str) -> str:
    for rel, data in files.items():
        path = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return folder


def folder_files(root: str) -> dict[str, bytes]:
    out = {}
    for rel in h.list_tree(root):
        path = os.path.join(root, rel)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[rel] = f.read()
    return out


def media_set(files: dict[str, bytes]) -> dict[str, bytes]:
    """The HLS set itself: without the worker's marker and the bucket listing."""
    return {k: v for k, v in files.items() if k not in (MARKER, INVENTORY)}


# x264's options SEI, in the first frame of a rendition: " threads=2 lookahead_threads=1 ..."
X264_THREADS = re.compile(rb"x264 - core \d+.*? threads=(\d+) ", re.S)


def frame_threaded_rungs(files: dict[str, bytes]) -> set[str]:
    """The rendition folders x264 encoded with several threads, as its options SEI in the first
    segment says. Their bytes are not repeatable from one run to the next (measured here with
    the hlsify CLI, ladder 360p,240p: the 360p segments (2 threads) differ in 1 run of 3 with
    ultrafast, in every run with veryfast; the 1-thread 240p ones never), and the worker has no
    --encoder-threads; on 2 cores the engine always gives one rung 2 threads."""
    threaded = set()
    for rel, data in files.items():
        if os.path.basename(rel).startswith("segment-00000."):
            m = X264_THREADS.search(data)
            if m and int(m.group(1)) > 1:
                threaded.add(os.path.dirname(rel))
    return threaded


def repeatable(files: dict[str, bytes], threaded: set[str]) -> dict[str, bytes]:
    """The set with what a second encode may change replaced by a placeholder: the media of the
    frame-threaded renditions (segments, their I-frame playlist's byte ranges) and the bandwidth
    figures of the master playlist, which come from segment sizes. Names, init sections, media
    playlists (durations) and everything else stay to be compared byte for byte."""
    out = {}
    for rel, data in files.items():
        if rel == "master.m3u8":
            data = re.sub(rb"BANDWIDTH=\d+", b"BANDWIDTH=*", data)
        elif os.path.dirname(rel) in threaded and os.path.basename(rel) not in ("init.mp4", "index.m3u8"):
            data = b"(encoded with x264 frame threads: not repeatable)"
        out[rel] = data
    return out


def assert_same_set(got: dict[str, bytes], want: dict[str, bytes], label: str) -> None:
    assert sorted(got) == sorted(want), f"{label}: other files: only in the bucket {sorted(set(got) - set(want))}, " \
                                        f"missing {sorted(set(want) - set(got))}"
    differ = sorted(k for k in want if got[k] != want[k])
    assert not differ, f"{label}: these objects differ from the folder output: {differ}"


def assert_complete_output(site: BucketSite, output: str, job_id: str, tmp: str) -> tuple[dict, dict[str, bytes]]:
    """The job's output in the bucket is whole: the master, the marker of this job, the listing
    naming exactly the other objects with their sizes and SHA-256, every file a playlist names
    present, no other object (nothing stale), no open upload, and the downloaded set plays.
    Returns the marker and the set."""
    files = site.output_objects(output)
    assert "master.m3u8" in files, f"no master under {site.prefix(output)}: {sorted(files)}"
    assert MARKER in files and INVENTORY in files, sorted(files)
    marker = json.loads(files[MARKER])
    assert marker["jobId"] == job_id, marker
    inventory = json.loads(files[INVENTORY])
    assert inventory.get("format") == "hlsify-output/1", inventory
    listed = {o["path"]: o for o in inventory["objects"]}
    the_set = media_set(files)
    assert sorted(listed) == sorted(the_set), \
        f"the listing and the objects differ: stale {sorted(set(the_set) - set(listed))}, missing {sorted(set(listed) - set(the_set))}"
    for rel, o in listed.items():
        assert o["bytes"] == len(the_set[rel]) and o["sha256"] == hashlib.sha256(the_set[rel]).hexdigest(), (rel, o)
    assert site.open_uploads() == [], "open multipart uploads left"
    folder = download(the_set, os.path.join(tmp, f"downloaded-{job_id}"))
    hls = assert_plays(folder)
    for playlist in hls.media_playlists():
        names = {os.path.basename(s.path) for s in playlist.segments}
        there = {n for n in os.listdir(os.path.dirname(playlist.path)) if n.startswith("segment-")}
        assert there == names, f"{playlist.uri}: objects no playlist names: {sorted(there - names)}"
    return marker, the_set


def completed_once_after_stop(site: BucketSite, job_id: str) -> dict:
    """Stops every worker (each must exit 0, the jobs queue must be empty) and then counts: every
    event a worker published is confirmed before it exits, so this count is final."""
    site.stop_all_and_assert_drained()
    site.bus.poll()
    completed = site.bus.of(job_id, "completed")
    assert len(completed) == 1, states(site.bus.of(job_id))
    return completed[0]


# ---------------------------------------------------------------------------
# the reference: the same job on a worker with folder roots
# ---------------------------------------------------------------------------

GOOD_OUTPUT = "courses/c1/good-1"


def good_job(job_id: str = "good-1", output: str = GOOD_OUTPUT) -> dict:
    return {"jobId": job_id, "input": CLIP, "output": output,
            "subtitles": [{"language": "en", "name": "English", "path": SUBTITLE}], **QUICK}


@dataclass
class FolderReference:
    files: dict     # the set (relative path -> bytes), without the marker
    marker: dict


@pytest.fixture(scope="module")
def folder_reference(tmp_path_factory) -> FolderReference:
    """The good job as a worker with folder roots writes it: its set and its marker."""
    tmp = tmp_path_factory.mktemp("folder-worker")
    (tmp / "in").mkdir()
    (tmp / "out").mkdir()
    shutil.copy(os.path.join(FIXTURES, CLIP), tmp / "in" / CLIP)
    shutil.copy(os.path.join(FIXTURES, SUBTITLE), tmp / "in" / SUBTITLE)
    site = Site(Bus(amqp_url()), str(tmp / "in"), str(tmp / "out"), Clips(str(tmp)), str(tmp))
    try:
        worker = site.start_worker("w-folder")
        site.submit(good_job())
        site.bus.wait(lambda: site.bus.of("good-1", "completed"), WAIT, "the folder worker's job.completed", (worker,))
        site.stop_all_and_assert_drained()
        files = folder_files(site.output(GOOD_OUTPUT))
    finally:
        close_site(site)
    assert MARKER in files
    return FolderReference(media_set(files), json.loads(files[MARKER]))


# ---------------------------------------------------------------------------
# 1. a good job
# ---------------------------------------------------------------------------


def test_a_good_job_is_published_like_a_folder_output(psite: BucketSite, folder_reference, tmp_path):
    site, bus = psite, psite.bus
    worker = site.start_worker("w-good")
    site.submit(good_job())
    bus.wait(lambda: bus.of("good-1", "completed"), WAIT, "job.completed", (worker,))
    completed = completed_once_after_stop(site, "good-1")
    events = bus.of("good-1")
    sequence = states(events)
    assert sequence[:2] == ["accepted", "started"] and sequence[-1] == "completed", sequence
    assert set(sequence[2:-1]) <= {"progress", "segment"} and "segment" in sequence, sequence
    for e in events:
        assert COMMON_FIELDS <= set(e), e
        assert e["workerId"] == "w-good" and e["attempt"] == 1
        assert e["_routingKey"] == f"job.{e['state']}" and e["_messageId"] == e["eventId"] and e["_persistent"]
    assert len({e["eventId"] for e in events}) == len(events)
    assert events[0]["job"]["input"] == CLIP and events[0]["job"]["output"] == GOOD_OUTPUT
    assert completed["output"] == GOOD_OUTPUT and completed["master"] == f"{GOOD_OUTPUT}/master.m3u8", completed
    assert sorted(r["name"] for r in completed["renditions"]) == ["240p", "360p"]
    assert completed["subtitles"] == [{"language": "en", "cues": 7}], completed["subtitles"]

    marker, the_set = assert_complete_output(site, GOOD_OUTPUT, "good-1", str(tmp_path))
    assert marker["eventPublished"] is True and marker["eventId"] == completed["eventId"], marker
    assert marker["completion"]["output"] == GOOD_OUTPUT, marker
    # Every segment a job.segment event named is in the bucket (paths relative to the output).
    for seg in [e["segment"] for e in events if e["state"] == "segment"]:
        assert seg["path"] in the_set, seg
    # Byte for byte what the folder-root worker wrote, but for what x264's frame threads make
    # unrepeatable (see frame_threaded_rungs); the 240p rendition, audio and subtitles are whole.
    threaded = frame_threaded_rungs(the_set) | frame_threaded_rungs(folder_reference.files)
    assert "240p" not in threaded and "audio" not in threaded, threaded
    assert_same_set(repeatable(the_set, threaded), repeatable(folder_reference.files, threaded),
                    "bucket output vs folder-root worker")
    # The same marker as in a folder output, but for the run's own times and ids (and the sizes
    # of the frame-threaded renditions); its byte count is the set's.
    want = folder_reference.marker
    assert sorted(marker) == sorted(want), (sorted(marker), sorted(want))
    assert marker["completion"]["bytes"] == sum(len(b) for b in the_set.values()), marker["completion"]["bytes"]

    def repeatable_completion(completion: dict) -> dict:
        out = {k: v for k, v in completion.items() if k not in ("elapsedSeconds", "speed", "bytes")}
        out["renditions"] = [{k: v for k, v in r.items()
                              if r["name"] not in threaded or k not in ("bytes", "bandwidth", "averageBandwidth")}
                             for r in completion["renditions"]]
        return out
    assert repeatable_completion(marker["completion"]) == repeatable_completion(want["completion"]), \
        (marker["completion"], want["completion"])
    head = site.store.head(site.out_bucket, site.prefix(GOOD_OUTPUT) + "master.m3u8")
    assert head["ContentType"] == "application/vnd.apple.mpegurl", head["ContentType"]
    # Nothing else was written: not beside the output, not in the input bucket.
    assert site.store.keys(site.out_bucket) == sorted(site.prefix(GOOD_OUTPUT) + k for k in site.output_keys(GOOD_OUTPUT))
    assert site.store.keys(site.in_bucket) == sorted(f"{IN_PREFIX}/{k}" for k in (CLIP, SUBTITLE))
    assert site.leftovers() == [], "the job's spooled input and work folder must be gone"
    assert bus.drain_dead_letters() == []
    log = worker.log()
    for state in ("job accepted", "job started", "job output published", "job completed"):
        assert any(state in line and "jobId=good-1" in line for line in log.splitlines()), f"no log line for {state}:\n{log}"
    site.assert_no_secret()


# ---------------------------------------------------------------------------
# 2. bad jobs
# ---------------------------------------------------------------------------


def test_bad_jobs_fail_or_are_rejected_and_write_nothing(bsite: BucketSite):
    site, bus = bsite, bsite.bus
    other = site.other_bucket
    site.store.put(site.in_bucket, f"{IN_PREFIX}/{NOT_MEDIA}", os.path.join(FIXTURES, NOT_MEDIA))
    # Where the escaping keys would lead: real media, so that a worker following one would succeed.
    for bucket, key in ((site.in_bucket, "uploads/x.mp4"), (site.in_bucket, "x.mp4"), (other, "x.mp4")):
        site.store.put(bucket, key, os.path.join(FIXTURES, CLIP))
    site.store.put(other, "x.srt", os.path.join(FIXTURES, SUBTITLE))
    quick = {"preset": "ultrafast", "ladder": ["240p"]}
    missing_address = f"s3://{site.in_bucket}/{IN_PREFIX}/nowhere/gone.mp4"
    # (message id, job, state, reason, text the error message must contain)
    cases = [
        ("missing", {"jobId": "b-missing", "input": "nowhere/gone.mp4", "output": "b-missing"},
         "failed", "input-missing", missing_address),
        ("missing-srt", {"jobId": "b-missing-srt", "input": CLIP, "output": "b-missing-srt",
                         "subtitles": [{"language": "en", "path": "nowhere.srt"}]},
         "failed", "input-missing", f"s3://{site.in_bucket}/{IN_PREFIX}/nowhere.srt"),
        ("not-media", {"jobId": "b-media", "input": NOT_MEDIA, "output": "b-media"}, "failed", "bad-media", NOT_MEDIA),
        ("dotdot", {"jobId": "b-up", "input": "../x.mp4", "output": "b-up"}, "rejected", "unsafe-path", "input"),
        ("url", {"jobId": "b-url", "input": f"s3://{other}/x.mp4", "output": "b-url"}, "rejected", "unsafe-path", "input"),
        ("absolute", {"jobId": "b-abs", "input": "/x.mp4", "output": "b-abs"}, "rejected", "unsafe-path", "input"),
        ("srt-url", {"jobId": "b-srt-url", "input": CLIP, "output": "b-srt-url",
                     "subtitles": [{"language": "en", "path": f"s3://{other}/x.srt"}]},
         "rejected", "unsafe-path", "subtitles[0].path"),
        ("out-dotdot", {"jobId": "b-out-up", "input": CLIP, "output": "../escape"}, "rejected", "unsafe-path", "output"),
        ("out-url", {"jobId": "b-out-url", "input": CLIP, "output": f"s3://{site.out_bucket}/elsewhere"},
         "rejected", "unsafe-path", "output"),
        ("out-absolute", {"jobId": "b-out-abs", "input": CLIP, "output": "/abs"}, "rejected", "unsafe-path", "output"),
    ]
    worker = site.start_worker("w-bad")
    for message_id, job, *_ in cases:
        bus.publish(json.dumps({**quick, **job}).encode(), message_id=message_id)
    bus.wait(lambda: len(bus.drain_dead_letters()) >= len(cases), WAIT, "every bad job in the dead-letter queue", (worker,))
    assert worker.proc.poll() is None, worker.log()
    site.stop_all_and_assert_drained()
    bus.poll()

    dead = {props.message_id: headers for headers, _, props in bus.dead}
    assert sorted(dead) == sorted(c[0] for c in cases), sorted(dead)
    for message_id, job, state, reason, text in cases:
        job_id = job["jobId"]
        (event,) = [e for e in bus.events if e.get("jobId") == job_id and e["state"] in ("failed", "rejected")]
        assert event["state"] == state and event["error"]["reason"] == reason, (message_id, event)
        assert text in event["error"]["message"], (message_id, event["error"]["message"])
        assert event.get("deadLettered") is True, event
        if state == "failed":
            assert event["willRetry"] is False, event
        assert dead[message_id].get("x-hlsify-reason") == reason, (message_id, dead[message_id])
        if state == "rejected":
            assert states(bus.of(job_id)) == ["rejected"], states(bus.of(job_id))
        assert bus.of(job_id, "completed") == []
    # Nothing anywhere in the output bucket (not under the prefix, not beside it), nothing in the
    # other bucket but what the test put there, no open upload, no spooled copy left.
    assert site.store.keys(site.out_bucket) == [], site.store.keys(site.out_bucket)
    assert site.store.keys(other) == ["x.mp4", "x.srt"]
    assert site.open_uploads() == []
    assert site.leftovers() == [], site.leftovers()
    site.assert_no_secret()


# ---------------------------------------------------------------------------
# 3. SIGKILL mid-job, a second worker completes it
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("progressive,elsewhere", [(False, False), (True, False), (False, True)],
                         ids=["staged", "progressive", "staged-other-machine"])
def test_sigkill_mid_job_then_a_second_worker_completes_it_once(seaweed_site: BucketSite, progressive: bool, elsewhere: bool,
                                                                 tmp_path):
    """`elsewhere`: the second worker has a work root of its own (another machine): it resumes from
    the state the first one kept in the bucket (OUTPUT/.hlsify-work/resume)."""
    site, bus = seaweed_site, seaweed_site.bus
    # The resume state goes to the bucket with every segment (not at most every 5 s), so that the
    # kill below can wait for two segments of every rendition there.
    first = site.start_worker("w-killed", env={"HLSIFY_S3_RESUME_INTERVAL": "0"})
    site.submit({"jobId": "kill-1", "input": CLIP, "output": "kill-1", "progressive": progressive, **LONG})
    if progressive:
        # Segments of the first worker are in the bucket (published as they are written).
        bus.wait(lambda: any(k.endswith(".m4s") for k in site.output_keys("kill-1")), WAIT,
                 "a segment in the bucket", (first,))
    else:
        bus.wait(lambda: committed_video_segments(bus.of("kill-1"), LONG["ladder"]) >= 2, WAIT,
                 "two segments of every video rendition", (first,))
    if elsewhere:
        journal = site.prefix("kill-1") + ".hlsify-work/resume/.hlsify-resume/journal"

        def journaled() -> bool:
            if journal not in site.store.keys(site.out_bucket, site.prefix("kill-1") + ".hlsify-work/"):
                return False
            counts: dict = {}
            for line in site.store.get(site.out_bucket, journal).decode().splitlines():
                # `{json} HASH` per committed file; index -1 is a rendition's init section.
                entry = json.loads(line.rsplit(" ", 1)[0]) if line.startswith("{") else {}
                # The storyboard's tiles are journaled too, as a folder of their own: not a rendition.
                if "r" in entry and entry.get("i", -1) >= 0 and entry["r"] != "storyboard":
                    counts[entry["r"]] = counts.get(entry["r"], 0) + 1
            return len(counts) == len(LONG["ladder"]) + 1 and min(counts.values()) >= 2

        bus.wait(journaled, WAIT, "two segments of every rendition in the bucket's resume journal", (first,))
    first.expected_exit = True
    first.proc.kill()
    first.proc.wait()
    bus.poll()
    assert bus.of("kill-1", "completed") == [], "the job ended before the kill: nothing was tested"
    partial = site.output_keys("kill-1")
    assert MARKER not in partial and INVENTORY not in partial, partial
    if progressive:
        assert partial, "the progressive job published nothing before the kill"
        # An object of the killed attempt that the next one does not write again.
        site.store.put(site.out_bucket, site.prefix("kill-1") + "720p/segment-00099.m4s", b"stale")
    else:
        assert [k for k in partial if not k.startswith(".hlsify-work/")] == [], f"a staged job published before completion: {partial}"
        assert work_leftovers(os.path.join(site.work_root, "outputs")), "the killed attempt left no work folder"
    # A multipart upload the killed worker left open under the output prefix (made by hand: the
    # kill cannot be aimed at one).
    client = site.store.client
    upload = client.create_multipart_upload(Bucket=site.out_bucket, Key=site.prefix("kill-1") + "720p/segment-00001.m4s")
    client.upload_part(Bucket=site.out_bucket, Key=upload["Key"], UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 1024)
    assert site.open_uploads() == [(site.out_bucket, upload["Key"])]

    if elsewhere:
        other_root = tmp_path / "work-elsewhere"
        other_root.mkdir()
        site.work_root = str(other_root)
    second = site.start_worker("w-second")
    bus.wait(lambda: bus.of("kill-1", "completed"), WAIT, "job.completed from the second worker", (second,))
    completed = completed_once_after_stop(site, "kill-1")
    assert completed["workerId"] == "w-second" and completed["attempt"] == 2, completed
    second_run = [e for e in bus.of("kill-1") if e["workerId"] == "w-second"]
    assert states(second_run)[:2] == ["accepted", "started"] and second_run[0]["redelivered"] is True
    marker, _ = assert_complete_output(site, "kill-1", "kill-1", str(tmp_path))
    assert marker["eventPublished"] is True and marker["eventId"] == completed["eventId"]
    assert site.open_uploads() == []
    assert bus.drain_dead_letters() == []
    site.assert_no_secret()
    if not progressive:
        # The second worker resumes past the segments the first one committed: from the shared
        # work root, or from the bucket (the same input object, spooled again).
        assert second_run[1]["resumedFromSegment"] >= 2 and second_run[1]["segmentsReused"] >= 4, json.dumps(second_run[1])
    # Nothing of the killed attempt stays in the work root: its work folder, its spooled input
    # (elsewhere: nothing of the job on the second machine), nor its resume state in the bucket.
    assert site.leftovers() == [], "the leftovers of the killed attempt must be gone"
    assert not [k for k in site.store.keys(site.out_bucket, site.prefix("kill-1")) if ".hlsify-work/" in k]


# ---------------------------------------------------------------------------
# 4. broker restart mid-job
# ---------------------------------------------------------------------------


def test_broker_restart_mid_job_completes_once(seaweed_site: BucketSite, tmp_path):
    site, bus = seaweed_site, seaweed_site.bus
    worker = site.start_worker("w-restart", "--heartbeat", "5")
    site.submit({"jobId": "restart-1", "input": CLIP, "output": "restart-1", **LONG})
    bus.wait(lambda: bus.of("restart-1", "segment"), WAIT, "the transcode to be under way", (worker,))
    # Held while the broker stops, so that the job is surely still running when it is gone.
    worker.proc.send_signal(signal.SIGSTOP)
    try:
        rabbitmqctl("stop_app")
    finally:
        worker.proc.send_signal(signal.SIGCONT)
    try:
        bus.wait(lambda: "broker unavailable; reconnecting" in worker.log() or "the broker closed" in worker.log(),
                 60, "the worker to notice the broker is gone", (worker,))
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    bus.wait(lambda: bus.of("restart-1", "completed"), WAIT, "job.completed after the restart", (worker,))
    # The copy the broker redelivers (the first delivery died with its channel) is acknowledged
    # without a second transcode.
    bus.wait(lambda: "acknowledged without work" in worker.log(), 60, "the redelivered copy to be acknowledged", (worker,))
    completed_once_after_stop(site, "restart-1")
    assert len(bus.of("restart-1", "started")) == 1, "the job was transcoded twice"
    assert worker.log().count("connected to the broker") >= 2
    marker, _ = assert_complete_output(site, "restart-1", "restart-1", str(tmp_path))
    assert marker["eventPublished"] is True
    assert site.leftovers() == []
    assert bus.drain_dead_letters() == []
    site.assert_no_secret()


# ---------------------------------------------------------------------------
# 5. redelivery of a completed job
# ---------------------------------------------------------------------------


def test_a_completed_job_delivered_again_is_acknowledged_and_a_lost_completion_reported(psite: BucketSite):
    site, bus = psite, psite.bus
    worker = site.start_worker("w-again")
    job = {"jobId": "again-1", "input": CLIP, "output": "again-1", "ladder": ["240p"], "preset": "ultrafast"}
    site.submit(job)
    bus.wait(lambda: bus.of("again-1", "completed"), WAIT, "job.completed", (worker,))
    first = bus.of("again-1", "completed")[0]
    before = site.output_objects("again-1")
    assert json.loads(before[MARKER])["eventPublished"] is True

    # The same job again: complete, its completion reported: acknowledged, no work, no event.
    seen = len(bus.of("again-1"))
    site.submit(job)
    bus.wait(lambda: worker.log().count("acknowledged without work") >= 1, 60, "the copy to be acknowledged", (worker,))
    bus.wait(lambda: bus.queue_depth(bus.jobs) == (0, 1), 30, "the jobs queue to be empty", (worker,))
    bus.poll()
    assert states(bus.of("again-1"))[seen:] == [], "a complete job delivered again sends no event"
    assert site.output_objects("again-1") == before, "a complete output delivered again is left as it is"

    # The marker says the completion was never confirmed (a worker killed between the publish
    # and the marker's update): the redelivery reports it, with the marker's eventId.
    key = site.prefix("again-1") + MARKER
    marker = json.loads(site.store.get(site.out_bucket, key))
    marker["eventPublished"] = False
    site.store.put(site.out_bucket, key, json.dumps(marker).encode(), ContentType="application/json")
    site.submit(job)
    bus.wait(lambda: len(bus.of("again-1", "completed")) == 2, 60, "job.completed reported again", (worker,))
    bus.wait(lambda: "completion had not been reported: reported now" in worker.log(), 30, "the log of the report", (worker,))
    completed_events = bus.of("again-1", "completed")
    site.stop_all_and_assert_drained()
    bus.poll()
    assert len(bus.of("again-1", "completed")) == 2 == len(completed_events)
    again = completed_events[1]
    assert again["eventId"] == first["eventId"] == marker["eventId"] and again["_messageId"] == first["eventId"], (first, again)
    assert len(bus.of("again-1", "started")) == 1, "the output was complete: no second transcode"
    assert json.loads(site.store.get(site.out_bucket, key))["eventPublished"] is True, "the marker must say it now"
    after = site.output_objects("again-1")
    assert media_set(after) == media_set(before)
    assert bus.drain_dead_letters() == []
    site.assert_no_secret()


# ---------------------------------------------------------------------------
# 6. a progressive job plays from the bucket while it is encoded
# ---------------------------------------------------------------------------


def test_a_progressive_job_is_in_the_bucket_before_it_completes(seaweed_site: BucketSite, tmp_path):
    site, bus = seaweed_site, seaweed_site.bus
    worker = site.start_worker("w-live")
    site.submit({"jobId": "live-1", "input": CLIP, "output": "live-1", "progressive": True, **LONG})
    p = site.prefix("live-1")
    snapshot: dict = {}

    def live_playlist_with_a_segment() -> bool:
        keys = site.output_keys("live-1")
        for playlist in [k for k in keys if k.endswith("/index.m3u8")]:
            text = site.store.get(site.out_bucket, p + playlist).decode()
            folder = os.path.dirname(playlist)
            named = [f"{folder}/{line}" for line in text.splitlines() if line and not line.startswith("#")]
            if named and all(n in keys for n in named):
                snapshot.update(keys=keys, playlist=playlist, text=text,
                                head=site.store.head(site.out_bucket, p + playlist))
                return True
        return False

    bus.wait(live_playlist_with_a_segment, WAIT, "a media playlist and its segments in the bucket", (worker,))
    # Taken before the end: the listing and the marker go up only once the whole set is up.
    assert INVENTORY not in snapshot["keys"] and MARKER not in snapshot["keys"], \
        f"the first playlist seen was already the finished set's: {snapshot['keys']}"
    assert "#EXT-X-ENDLIST" not in snapshot["text"], snapshot["text"]
    assert snapshot["head"]["ContentType"] == "application/vnd.apple.mpegurl"
    bus.wait(lambda: bus.of("live-1", "completed"), WAIT, "job.completed", (worker,))
    completed = completed_once_after_stop(site, "live-1")
    marker, the_set = assert_complete_output(site, "live-1", "live-1", str(tmp_path))
    assert marker["eventId"] == completed["eventId"] and marker["eventPublished"] is True
    assert b"#EXT-X-ENDLIST" in the_set[snapshot["playlist"]]
    assert site.leftovers() == []
    site.assert_no_secret()
    # Cache-Control (the contract): max-age=2 for a playlist that still changes, max-age=60 for
    # the playlists of the finished set, whichever upload (a live sync or the final publish)
    # put their last bytes there.
    findings = []
    if snapshot["head"].get("CacheControl") != "max-age=2":
        findings.append(f"live {snapshot['playlist']}: Cache-Control {snapshot['head'].get('CacheControl')!r}")
    for rel in sorted(r for r in the_set if r.endswith(".m3u8")):
        got = site.store.head(site.out_bucket, p + rel).get("CacheControl")
        if got != "max-age=60":
            findings.append(f"finished {rel}: Cache-Control {got!r}")
    assert not findings, findings


# ---------------------------------------------------------------------------
# 7. a worker that cannot use its buckets stops at start
# ---------------------------------------------------------------------------

# (what is wrong, the root the reason names, what the reason says)
BAD_SETUPS = [
    ("wrong-secret", "input", "access denied (SignatureDoesNotMatch)"),
    ("unknown-key", "input", "access denied (InvalidAccessKeyId)"),
    ("missing-output-bucket", "output", "no such bucket"),
    ("missing-input-bucket", "input", "no such bucket"),
]


@pytest.mark.parametrize("what,root,reason", BAD_SETUPS, ids=[b[0] for b in BAD_SETUPS])
def test_a_worker_that_cannot_use_its_buckets_exits_78(bsite: BucketSite, what: str, root: str, reason: str):
    site = bsite
    wrong_secret = "WrongSecret" + hashlib.sha256(what.encode()).hexdigest()[:24]
    site.secrets.append(wrong_secret)
    env = {}
    if what == "wrong-secret":
        env = {"AWS_SECRET_ACCESS_KEY": wrong_secret}
    elif what == "unknown-key":
        env = {"AWS_ACCESS_KEY_ID": "nobody-" + what}
    elif what == "missing-output-bucket":
        site.output_root = f"s3://{unique_bucket_name('gone')}/{OUT_PREFIX}"
    else:
        site.input_root = f"s3://{unique_bucket_name('gone')}/{IN_PREFIX}"
    worker = site.start_worker("w-misconfigured", env=env)
    worker.expected_exit = True
    try:
        code = worker.proc.wait(timeout=60)
    except Exception:
        worker.proc.kill()
        pytest.fail(f"the worker did not stop:\n{worker.log()}")
    log = worker.log()
    assert code == 78, f"exit {code}:\n{log}"
    lines = [line for line in log.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, the reason:\n{log}"
    named = site.input_root if root == "input" else site.output_root
    assert f"cannot start: {root} root {named}: " in lines[0] and reason in lines[0], lines[0]
    # It never consumed: nothing declared a consumer on the jobs queue.
    assert site.bus.queue_depth(site.bus.jobs) == (0, 0)
    site.assert_no_secret()


# ---------------------------------------------------------------------------
# 8. server errors
# ---------------------------------------------------------------------------


def test_two_5xx_answers_during_the_job_are_retried_and_it_completes(faulty_site, tmp_path):
    site, proxy = faulty_site
    bus = site.bus
    worker = site.start_worker("w-5xx", env={"HLSIFY_S3_RETRIES": "3"})
    proxy.fail_5xx(2, match="PUT ")
    site.submit({"jobId": "flaky-1", "input": CLIP, "output": "flaky-1", "ladder": ["240p"], "preset": "ultrafast"})
    bus.wait(lambda: bus.of("flaky-1", "completed") or bus.of("flaky-1", "failed"), WAIT, "the job to end", (worker,))
    completed = completed_once_after_stop(site, "flaky-1")
    assert proxy.faults_injected == 2 and proxy.armed == [], (proxy.faults_injected, proxy.armed)
    faulted = [e for e in proxy.events if e.fault]
    assert [e.method for e in faulted] == ["PUT", "PUT"], [(e.method, e.target) for e in faulted]
    assert bus.of("flaky-1", "failed") == [] and len(bus.of("flaky-1", "started")) == 1, states(bus.of("flaky-1"))
    marker, _ = assert_complete_output(site, "flaky-1", "flaky-1", str(tmp_path))
    assert marker["eventId"] == completed["eventId"]
    assert site.leftovers() == []
    site.assert_no_secret()


def test_a_publish_that_keeps_failing_is_retried_by_redelivery(faulty_site, tmp_path):
    site, proxy = faulty_site
    bus = site.bus
    # Enough attempts that the job is never dead-lettered while the proxy fails every upload.
    worker = site.start_worker("w-down", "--max-attempts", "20", env={"HLSIFY_S3_RETRIES": "1"})
    proxy.fail_5xx(10 ** 6, match="PUT ")
    site.submit({"jobId": "down-1", "input": CLIP, "output": "down-1", "ladder": ["240p"], "preset": "ultrafast"})
    bus.wait(lambda: bus.of("down-1", "failed"), WAIT, "job.failed", (worker,))
    failed = bus.of("down-1", "failed")[0]
    assert failed["willRetry"] is True and not failed.get("deadLettered"), failed
    assert f"s3://{site.out_bucket}/{OUT_PREFIX}/down-1/" in failed["error"]["message"], failed["error"]
    assert failed["error"]["reason"] == "transient", failed["error"]
    assert bus.of("down-1", "completed") == []
    # Nothing was published: no master, no object at all, no open upload.
    assert site.output_keys("down-1") == [], site.output_keys("down-1")
    assert site.open_uploads() == []
    passed_from = proxy.requests_seen
    proxy.passthrough()
    bus.wait(lambda: bus.of("down-1", "completed"), WAIT, "job.completed once the server answers again", (worker,))
    completed = completed_once_after_stop(site, "down-1")
    # Every upload before passthrough() was refused by the proxy: nothing went up while it failed.
    assert all(e.fault for e in proxy.events[:passed_from] if e.method == "PUT")
    for e in bus.of("down-1", "failed"):
        assert e["willRetry"] is True and e["attempt"] < completed["attempt"], e
    assert completed["attempt"] >= 2
    marker, _ = assert_complete_output(site, "down-1", "down-1", str(tmp_path))
    assert marker["eventId"] == completed["eventId"] and marker["eventPublished"] is True
    assert site.leftovers() == []
    assert bus.drain_dead_letters() == []
    site.assert_no_secret()
