"""Jobs split by time (`chunkDuration`) with a bucket input root and a bucket output root
(SplitMirror.swift, SplitJobs.swift), on workers that share nothing but the broker and the buckets:
each has a --work-root of its own, as two machines would.

With a bucket output root the job's split folder lives in the bucket, beside the set:
`<output prefix>/.hlsify-work/split/` holds plan.json, subtitles/, chunks/NAME/... (a chunk counts
as committed once its manifest.json, uploaded last, is there), failed.json and stitch.claim. Each
delivery works in a local folder of its own filled from the bucket; the worker that stitches wins
a write-wait-verify claim (put with If-None-Match: *, read back after 2 s: rclone ignores the
header, SeaweedFS honours it); the work prefix is deleted once the output is published. The
output lock is local to a work root, so with two work roots nothing but that claim keeps two
workers from both stitching.

Everything around the workers is reused, not copied: test_storage_worker's BucketSite (the
buckets, the worker's S3 environment, the independent boto3 reader, leftovers, the secret check),
its assert_complete_output (the marker, the listing, no stale object, no open upload, the
downloaded set plays), test_split_jobs' split job and checks (split_job, start with
--chunk-check-interval 2, assert_chunk_events, assert_same_structure, wait_quiet) and
test_worker's Bus and clips (the 30 s `long` clip: 5 video chunks of 6 s and the audio).

Checked, each time from what the workers left (events, objects, queues, logs, files), waiting
only for observed states:
1. two machines complete a split job once: a job.chunk for every chunk, chunks encoded by both
   (the planner holds its job message, prefetch 1, while it publishes the chunk messages, so the
   first goes to the other worker), the split folder seen in the bucket while the job runs and
   gone afterwards, the output complete and with the structure of the same job run whole, no
   open upload, nothing of the job left in either work root;
2. a chunk worker SIGKILLed mid-chunk (frozen by SIGSTOP once its log says `chunk started`, the
   chunk's manifest checked absent from the bucket, then killed): the other worker encodes that
   chunk and the job completes once;
3. a chunk that always fails (HLSIFY_TEST_FAIL_CHUNK=2, --max-attempts 2) fails the job once:
   one final job.failed, no master, failed.json under the work prefix (or the prefix gone), the
   other chunk messages acknowledged or dead-lettered as `job-failed`;
4. the stitch claim: each worker talks to the server through a proxy of its own (ClaimGate) that
   holds its first GET of stitch.claim, so both workers are made to stand at the claim with every
   chunk committed; then either both are let go at once (`together`: both find no claim and both
   write one; the claim's read-back must leave one stitcher) or one is let go and the other only
   once the job has completed and its work prefix is gone (`late`: a claimer whose server answered
   slowly). Either way: exactly one job.completed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import threading
from dataclasses import dataclass, field
from typing import Optional

import pytest

from s3servers import FaultProxy
from test_split_jobs import (CHUNK_NAMES, JOB_TIMEOUT, assert_chunk_events, assert_same_structure, close_split_site,
                             chunk_events, completions, final_failures, log_lines, split_job, start, wait_quiet)
from test_storage_worker import (IN_PREFIX, SERVER_FIXTURES, BucketSite, assert_complete_output, open_bucket_site)
from test_worker import Worker, clips, close_site, states  # noqa: F401  (clips is a fixture, used by name)

pytestmark = pytest.mark.timeout(300)

WORK = ".hlsify-work/"          # the work prefix under a job's output prefix
SPLIT = WORK + "split/"         # SplitMirror.workPrefix
CLAIM = SPLIT + "stitch.claim"


# ---------------------------------------------------------------------------
# a site with bucket roots and machines of its own
# ---------------------------------------------------------------------------


def open_split_site(request, clips, tmp_path, server_id: str, endpoint=None) -> BucketSite:
    """test_storage_worker's bucket site on `server_id`, with the split tests' clips (`long`,
    `short`) under the input prefix as well."""
    server = request.getfixturevalue(SERVER_FIXTURES[server_id])
    site = open_bucket_site(server, endpoint or server, tmp_path, request.node.name)
    for name in (clips.long, clips.short):
        site.store.put(site.in_bucket, f"{IN_PREFIX}/{name}", os.path.join(clips.folder, name))
    return site


@pytest.fixture
def seaweed_split(request, clips, tmp_path) -> BucketSite:
    site = open_split_site(request, clips, tmp_path, "seaweedfs")
    yield site
    close_split_site(site)


@pytest.fixture
def rclone_split(request, clips, tmp_path) -> BucketSite:
    site = open_split_site(request, clips, tmp_path, "rclone")
    yield site
    close_split_site(site)


def machine(site: BucketSite, name: str, endpoint=None) -> BucketSite:
    """The site as one machine sees it: a work root of its own (and, if given, its own way to the
    server). The same topology, buckets and list of workers (dataclasses.replace shares them)."""
    root = os.path.join(site.tmp, f"work-{name}")
    os.makedirs(root, exist_ok=True)
    return dataclasses.replace(site, work_root=root, endpoint=endpoint or site.endpoint)


def wait_consuming(site: BucketSite, workers: tuple) -> None:
    """Both workers are consumers of the jobs queue (so that the broker spreads the chunks)."""
    site.bus.wait(lambda: site.bus.queue_depth(site.bus.jobs)[1] == len(workers), 60,
                  f"{len(workers)} consumers on the jobs queue", workers)


def work_keys(site: BucketSite, output: str) -> list[str]:
    """Keys under the job's work prefix, relative to the output prefix."""
    p = site.prefix(output)
    return [k[len(p):] for k in site.store.keys(site.out_bucket, p + WORK)]


def machine_leftovers(machines: dict[str, BucketSite]) -> dict[str, list[str]]:
    """What each machine's work root holds besides empty folders and lock files (the
    split-* folders and the job's work folder are in outputs/.hlsify-work/)."""
    found = {name: m.leftovers() for name, m in machines.items()}
    return {name: left for name, left in found.items() if left}


def tree(root: str) -> list[str]:
    """Every file and folder under `root`, for a failure message."""
    out = []
    for base, dirs, files in os.walk(root):
        for n in dirs + files:
            out.append(os.path.relpath(os.path.join(base, n), root) + ("/" if n in dirs else ""))
    return sorted(out)


def logs(workers, *needles: str) -> list[str]:
    return [f"{w.worker_id}: {line}" for w in workers for line in log_lines(w, *needles)]


CHUNK_IN_LINE = re.compile(r"\bchunk=([a-z0-9-]+)")


def chunks_logged(worker: Worker, message: str) -> list[str]:
    return [m.group(1) for line in log_lines(worker, message) if (m := CHUNK_IN_LINE.search(line))]


# ---------------------------------------------------------------------------
# 1. two machines, one split job
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("server", ["rclone", "seaweedfs"])
def test_two_machines_complete_a_bucket_split_job_once_like_a_whole_run(request, clips, tmp_path, server: str):
    site = open_split_site(request, clips, tmp_path, server)
    request.addfinalizer(lambda: close_split_site(site))
    bus = site.bus
    machines = {"a": machine(site, "a"), "b": machine(site, "b")}
    workers = (start(machines["a"], "w-a"), start(machines["b"], "w-b"))
    wait_consuming(site, workers)
    job = split_job(site, "split-1")
    site.submit(job)

    # While the job runs, its split folder is in the bucket (recorded at every poll).
    seen: set[str] = set()

    def completed_while_recording() -> bool:
        seen.update(work_keys(site, job["output"]))
        return bool(completions(bus, job["jobId"]))

    bus.wait(completed_while_recording, JOB_TIMEOUT, "the split job's job.completed", workers)
    # The same job run whole, on the same machines, into another output of the same bucket.
    # Split jobs make no storyboard or poster (yet): neither does the whole run compared with.
    whole = {**split_job(site, "whole-1"), "chunkDuration": 0, "storyboard": False, "poster": False}
    site.submit(whole)
    bus.wait(lambda: completions(bus, whole["jobId"]), JOB_TIMEOUT, "the whole job's job.completed", workers)
    wait_quiet(site, workers)
    site.stop_all_and_assert_drained()
    bus.poll()

    assert len(completions(bus, job["jobId"])) == 1, [(e["workerId"], e["attempt"]) for e in completions(bus, job["jobId"])]
    assert len(completions(bus, whole["jobId"])) == 1
    assert bus.of(job["jobId"], "failed") == [] and bus.of(job["jobId"], "rejected") == [], states(bus.of(job["jobId"]))
    assert len(bus.of(job["jobId"], "started")) == 1, states(bus.of(job["jobId"]))
    assert_chunk_events(bus, job["jobId"])
    assert chunk_events(bus, whole["jobId"]) == [], "the whole run was split"
    encoders = {e["workerId"] for e in chunk_events(bus, job["jobId"])}
    assert encoders == {"w-a", "w-b"}, (
        f"every chunk was encoded by {encoders}: the planner holds its job message while it publishes the chunk "
        f"messages (prefetch 1), so the first chunk must have gone to the other worker")
    completed = completions(bus, job["jobId"])[0]
    assert completed["output"] == job["output"] and sorted(r["name"] for r in completed["renditions"]) == ["240p", "360p"]

    # The split folder went through the bucket, and is gone now.
    assert f"{SPLIT}plan.json" in seen, f"no plan.json seen under the work prefix while the job ran: {sorted(seen)}"
    manifests = {k for k in seen if re.fullmatch(re.escape(SPLIT) + r"chunks/[^/]+/manifest\.json", k)}
    assert len(manifests) >= 2, f"chunk manifests seen in the bucket: {sorted(manifests)}"
    assert work_keys(site, job["output"]) == [], f"the work prefix is left in the bucket: {work_keys(site, job['output'])}"

    marker, _ = assert_complete_output(site, job["output"], job["jobId"], str(tmp_path))
    assert marker["eventPublished"] is True and marker["eventId"] == completed["eventId"], marker
    assert_complete_output(site, whole["output"], whole["jobId"], str(tmp_path))
    # assert_complete_output downloaded each set (without the marker and the listing) here.
    assert_same_structure(os.path.join(str(tmp_path), f"downloaded-{job['jobId']}"),
                          os.path.join(str(tmp_path), f"downloaded-{whole['jobId']}"), "fmp4")
    assert site.open_uploads() == []
    assert bus.drain_dead_letters() == []
    site.assert_no_secret()
    left = machine_leftovers(machines)
    assert not left, (f"work roots hold leftovers after the job completed: {left}\n"
                      + "\n".join(f"--- work-{n} ---\n{tree(m.work_root)}" for n, m in machines.items()))


# ---------------------------------------------------------------------------
# 2. a chunk worker SIGKILLed mid-chunk
# ---------------------------------------------------------------------------


def test_a_chunk_worker_killed_mid_chunk_its_chunk_is_encoded_by_the_other(seaweed_split: BucketSite, tmp_path):
    site, bus = seaweed_split, seaweed_split.bus
    victim_machine, survivor_machine = machine(site, "victim"), machine(site, "survivor")
    victim = start(victim_machine, "w-victim")
    survivor = start(survivor_machine, "w-survivor")
    wait_consuming(site, (victim, survivor))
    job = split_job(site, "kill-chunk-1")
    site.submit(job)
    prefix = site.prefix(job["output"])

    # Freeze the victim as soon as its log says a chunk started that it has not committed; then
    # look: the chunk's manifest must not be in the bucket (else let it go on and try the next).
    killed: Optional[str] = None
    too_late: set[str] = set()  # chunks whose manifest was in the bucket when the victim was frozen

    def encoding() -> list[str]:
        committed = set(chunks_logged(victim, "chunk committed")) | too_late
        return [c for c in chunks_logged(victim, "chunk started") if c not in committed]

    while killed is None:
        bus.wait(lambda: encoding() or completions(bus, job["jobId"]), JOB_TIMEOUT,
                 "the victim to start a chunk it has not committed", (victim, survivor))
        assert not completions(bus, job["jobId"]), \
            f"the job completed before the victim was caught mid-chunk (too late for {sorted(too_late)})"
        victim.proc.send_signal(signal.SIGSTOP)
        pending = encoding()
        manifests = set(site.store.keys(site.out_bucket, prefix + SPLIT + "chunks/"))
        for chunk in pending:
            if f"{prefix}{SPLIT}chunks/{chunk}/manifest.json" in manifests:
                too_late.add(chunk)
            else:
                killed = chunk
        if killed is None:
            victim.proc.send_signal(signal.SIGCONT)
    victim.expected_exit = True
    victim.proc.kill()
    victim.proc.wait()
    bus.poll()
    assert killed not in {e["chunk"]["name"] for e in chunk_events(bus, job["jobId"])}, "the killed chunk was reported"

    bus.wait(lambda: completions(bus, job["jobId"]), JOB_TIMEOUT, "job.completed from the survivor", (survivor,))
    wait_quiet(site, (survivor,))
    site.stop_all_and_assert_drained()
    bus.poll()

    done = completions(bus, job["jobId"])
    assert len(done) == 1 and done[0]["workerId"] == "w-survivor", [(e["workerId"], e["attempt"]) for e in done]
    assert bus.of(job["jobId"], "failed") == [], [(e["workerId"], e["error"]) for e in bus.of(job["jobId"], "failed")]
    assert_chunk_events(bus, job["jobId"])
    by = {e["chunk"]["name"]: e for e in chunk_events(bus, job["jobId"])}
    assert by[killed]["workerId"] == "w-survivor" and by[killed]["attempt"] >= 2, \
        f"{killed} was reported by {by[killed]['workerId']}, attempt {by[killed]['attempt']} (not a redelivery)"
    assert killed in chunks_logged(survivor, "chunk committed"), f"the survivor did not encode {killed}:\n" + \
        "\n".join(log_lines(survivor, killed))
    assert work_keys(site, job["output"]) == [], work_keys(site, job["output"])
    assert_complete_output(site, job["output"], job["jobId"], str(tmp_path))
    assert site.open_uploads() == []
    assert bus.drain_dead_letters() == []
    left = machine_leftovers({"survivor": survivor_machine})
    assert not left, f"the survivor's work root holds leftovers: {left}\n{tree(survivor_machine.work_root)}"


# ---------------------------------------------------------------------------
# 3. a chunk that fails finally
# ---------------------------------------------------------------------------


def test_a_chunk_that_always_fails_fails_the_bucket_split_job_once(rclone_split: BucketSite):
    site, bus = rclone_split, rclone_split.bus
    env = {"HLSIFY_TEST_FAIL_CHUNK": "2"}
    machines = {"a": machine(site, "a"), "b": machine(site, "b")}
    workers = (start(machines["a"], "w-a", "--max-attempts", "2", env=env),
               start(machines["b"], "w-b", "--max-attempts", "2", env=env))
    wait_consuming(site, workers)
    job = split_job(site, "fail-1")
    site.submit(job)
    bus.wait(lambda: final_failures(bus, job["jobId"]), JOB_TIMEOUT, "the job's final job.failed", workers)
    wait_quiet(site, workers)
    site.stop_all_and_assert_drained()
    bus.poll()

    finals = final_failures(bus, job["jobId"])
    assert len(finals) == 1, [(e["workerId"], e["error"]) for e in finals]
    assert finals[0]["deadLettered"] is True and finals[0]["error"]["reason"] == "max-attempts", finals[0]
    retries = [e for e in bus.of(job["jobId"], "failed") if e.get("willRetry")]
    assert len(retries) <= 1 and all(not e.get("deadLettered") for e in retries), retries
    assert completions(bus, job["jobId"]) == []
    assert "video-002" not in {e["chunk"]["name"] for e in chunk_events(bus, job["jobId"])}

    # No master, nothing of a set: what is under the output prefix is the work prefix only, and
    # it holds the failed marker (or is gone).
    keys = site.output_keys(job["output"])
    assert "master.m3u8" not in keys, f"a failed split job published a master: {keys}"
    assert all(k.startswith(WORK) for k in keys), f"objects outside the work prefix: {[k for k in keys if not k.startswith(WORK)]}"
    if keys:
        assert f"{SPLIT}failed.json" in keys, f"the work prefix is left without failed.json: {keys}"
        failed = json.loads(site.store.get(site.out_bucket, site.prefix(job["output"]) + SPLIT + "failed.json"))
        assert "video-002" in json.dumps(failed), failed
    assert site.open_uploads() == []

    # Each chunk message ended once: committed (acknowledged) or dead-lettered; the failing one as
    # max-attempts, the others as job-failed.
    by_chunk: dict[str, list[str]] = {}
    for headers, body, properties in bus.drain_dead_letters():
        assert properties.type == "hlsify.chunk", (headers, properties.type)
        assert json.loads(body)["jobId"] == job["jobId"]
        by_chunk.setdefault(headers.get("x-hlsify-chunk"), []).append(headers.get("x-hlsify-reason"))
    assert by_chunk.get("2") == ["max-attempts"], by_chunk
    assert all(reasons == ["job-failed"] for c, reasons in by_chunk.items() if c != "2"), by_chunk
    committed = {e["chunk"]["name"] for e in chunk_events(bus, job["jobId"])}
    dropped = {f"video-{int(c):03d}" if c != "audio" else "audio" for c in by_chunk if c != "2"}
    assert committed | dropped | {"video-002"} == set(CHUNK_NAMES) and not committed & dropped, (committed, dropped)
    left = machine_leftovers(machines)
    assert not left, (f"work roots hold leftovers after the job failed: {left}\n"
                      + "\n".join(f"--- work-{n} ---\n{tree(m.work_root)}" for n, m in machines.items()))


# ---------------------------------------------------------------------------
# 4. the stitch claim
# ---------------------------------------------------------------------------


@dataclass
class Hold:
    """A request held by ClaimGate: the first one whose request line has `match`."""
    match: str
    method: str
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    request: str = ""


class ClaimGate(FaultProxy):
    """s3servers.FaultProxy that can also hold a request until the test lets it go: `hold(match)`
    arms a Hold for the next request (of `method`) whose request line contains `match`; the
    proxy thread serving it waits in `_take` (FaultProxy._serve asks `_take` about each request
    before forwarding it) until `Hold.released` is set (or HOLD_LIMIT passes), then forwards it.
    Stopping the proxy lets every held request go."""

    HOLD_LIMIT = 120

    def __init__(self, server):
        super().__init__(server)
        self._holds: list[Hold] = []
        self._every: list[Hold] = []
        self._hold_lock = threading.Lock()

    def hold(self, match: str, method: str = "GET") -> Hold:
        h = Hold(match, method)
        with self._hold_lock:
            self._holds.append(h)
            self._every.append(h)
        return h

    def _take(self, req):
        with self._hold_lock:
            h = next((h for h in self._holds if req.method == h.method and h.match in req.start), None)
            if h is not None:
                self._holds.remove(h)
                h.request = req.start
                h.arrived.set()
        if h is not None:
            h.released.wait(self.HOLD_LIMIT)
        return super()._take(req)

    def stop(self) -> None:
        with self._hold_lock:
            for h in self._every:
                h.released.set()
        super().stop()


def claim_writes(proxy: FaultProxy, output_key: str) -> list[str]:
    return [e.target for e in proxy.events if e.method == "PUT" and e.target.endswith(output_key + "/" + CLAIM)]


CLAIM_CASES = [("rclone", "together"), ("seaweedfs", "together"), ("seaweedfs", "late")]


@pytest.mark.parametrize("server,release", CLAIM_CASES, ids=[f"{s}-{r}" for s, r in CLAIM_CASES])
def test_two_machines_at_the_stitch_claim_complete_the_job_once(request, clips, tmp_path, server: str, release: str):
    site = open_split_site(request, clips, tmp_path, server)
    request.addfinalizer(lambda: close_split_site(site))
    gates = {"a": ClaimGate(site.store), "b": ClaimGate(site.store)}
    for g in gates.values():
        request.addfinalizer(g.stop)  # finalizers run last first: the gates stop before the workers are killed
    bus = site.bus
    machines = {n: machine(site, n, endpoint=gates[n]) for n in gates}
    # A cheap job: the 6 s 320x180 clip, 2 s chunks (3 video chunks and the audio). A held GET
    # must not be cut as stalled by the worker's own S3 client (HLSIFY_S3_STALL_SECONDS).
    job = {"jobId": f"claim-{release}", "input": site.clips.short, "output": f"split/claim-{release}", "ladder": ["240p"],
           "segmentDuration": 1, "segmentFormat": "fmp4", "preset": "veryfast", "chunkDuration": 2}
    claim_path = f"/{site.out_bucket}/{site.prefix(job['output'])}{CLAIM}"
    holds = {n: g.hold(claim_path) for n, g in gates.items()}
    env = {"HLSIFY_S3_STALL_SECONDS": "300"}
    workers = {n: start(m, f"w-{n}", env=env) for n, m in machines.items()}
    both = tuple(workers.values())
    wait_consuming(site, both)
    site.submit(job)

    # Both workers stand at the claim: every chunk committed, neither has read stitch.claim. (One
    # holds the stitch message or a check; the other is free and gets the other one: the check
    # comes round every 2 s, --chunk-check-interval.)
    bus.wait(lambda: all(h.arrived.is_set() for h in holds.values()), JOB_TIMEOUT,
             "both workers to ask for stitch.claim", both)
    bus.poll()
    assert completions(bus, job["jobId"]) == []
    committed = {e["chunk"]["name"] for e in chunk_events(bus, job["jobId"])}
    assert committed == {"video-000", "video-001", "video-002", "audio"}, committed
    if release == "together":
        for h in holds.values():
            h.released.set()
        bus.wait(lambda: completions(bus, job["jobId"]), JOB_TIMEOUT, "job.completed", both)
    else:
        first, second = "a", "b"
        holds[first].released.set()
        bus.wait(lambda: completions(bus, job["jobId"]), JOB_TIMEOUT, f"job.completed (w-{first})", both)
        bus.wait(lambda: work_keys(site, job["output"]) == [], 60, "the work prefix removed", both)
        holds[second].released.set()
    wait_quiet(site, both, timeout=JOB_TIMEOUT)
    site.stop_all_and_assert_drained()
    bus.poll()

    done = completions(bus, job["jobId"])
    stitched = logs(both, "job stitched", f"jobId={job['jobId']}")
    assert len(done) == 1, (f"{len(done)} job.completed events ({[(e['workerId'], e['eventId']) for e in done]}); "
                            f"stitched: {stitched}; claims written: "
                            f"{ {n: len(claim_writes(g, site.prefix(job['output']).rstrip('/'))) for n, g in gates.items()} }")
    assert len(stitched) == 1, stitched
    writes = {n: claim_writes(g, site.prefix(job["output"]).rstrip("/")) for n, g in gates.items()}
    if release == "together":
        # Both found no claim and both wrote one (SeaweedFS refuses the second with 412): the
        # read-back after the settle decided.
        assert all(writes.values()), f"not both workers wrote a claim: {writes}"
        assert logs(both, "another worker is stitching"), "the worker that lost the claim did not say so"
    assert bus.of(job["jobId"], "failed") == [], [(e["workerId"], e["error"]) for e in bus.of(job["jobId"], "failed")]
    assert work_keys(site, job["output"]) == [], f"the work prefix is left in the bucket: {work_keys(site, job['output'])}"
    assert_complete_output(site, job["output"], job["jobId"], str(tmp_path))
    assert site.open_uploads() == []
    assert bus.drain_dead_letters() == []
    left = machine_leftovers(machines)
    assert not left, (f"work roots hold leftovers after the job completed: {left}\n"
                      + "\n".join(f"--- work-{n} ---\n{tree(m.work_root)}" for n, m in machines.items()))
