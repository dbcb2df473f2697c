"""Split jobs on a three-node RabbitMQ cluster on loopback (scripts/rabbitmq-test-cluster.sh, which
`make test` runs these tests under and which names the nodes in HLSIFY_TEST_CLUSTER_URLS).

The jobs queue is a quorum queue replicated on all three nodes. Its leader is the node the queue
was declared through (node 1 here, checked with rabbitmqctl); the workers are given all three
URLs with node 1 first, so they start on the leader. The test's own AMQP peer (pika: events,
dead letters) talks to node 3, which stays up. Mid-job the leader is stopped (`stop_app`) and
started again later: the workers must reconnect to the surviving nodes and the job must end
with exactly one job.completed, every chunk committed and a complete output.

Without HLSIFY_TEST_CLUSTER_URLS these tests skip, unless HLSIFY_REQUIRE_CLUSTER=1 (as `make
cluster-test` sets), when they fail.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time

import pika
import pytest

from test_worker import Bus, Site, assert_plays, clips, close_site, open_site, work_leftovers  # noqa: F401 (clips: a fixture)

pytestmark = pytest.mark.timeout(420)

SPLIT_JOB = {"ladder": ["360p", "240p"], "segmentDuration": 2, "preset": "veryfast", "chunkDuration": 6}
CHUNKS = {"video-000", "video-001", "video-002", "video-003", "video-004", "audio"}


def cluster_urls() -> list[str]:
    text = os.environ.get("HLSIFY_TEST_CLUSTER_URLS")
    if not text:
        if os.environ.get("HLSIFY_REQUIRE_CLUSTER") == "1":
            pytest.fail("HLSIFY_TEST_CLUSTER_URLS is not set: run through `make cluster-test`", pytrace=False)
        pytest.skip("no RabbitMQ cluster (scripts/rabbitmq-test-cluster.sh run -- ... sets HLSIFY_TEST_CLUSTER_URLS)")
    return text.split(",")


def cluster_ctl(node: int, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    command = os.environ["HLSIFY_TEST_CLUSTER_CTL"]
    proc = subprocess.run([*shlex.split(command), str(node), *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"rabbitmqctl on node {node} {' '.join(args)} failed: {proc.stdout}\n{proc.stderr}"
    return proc


def node_name(node: int) -> str:
    return os.environ[f"HLSIFY_TEST_CLUSTER_NODE_{node}"]


class ClusterBus(Bus):
    """The test's topology, declared through node 1 (so node 1 leads the jobs queue), with the
    test's own peer then talking to node 3."""

    def __init__(self, urls: list[str]):
        super().__init__(urls[2])
        self.urls = urls
        # The jobs queue again, through node 1: deleted and declared there, so that node 1 leads
        # it (a quorum queue is led by the node it was declared through).
        connection = pika.BlockingConnection(pika.URLParameters(urls[0]))
        try:
            channel = connection.channel()
            channel.queue_delete(self.jobs)
            channel.queue_declare(self.jobs, durable=True, arguments={"x-queue-type": "quorum", "x-dead-letter-exchange": self.dlx})
        finally:
            connection.close()

    def worker_args(self) -> list[str]:
        args = super().worker_args()
        args[args.index("--amqp-url") + 1] = ",".join(self.urls)
        return args


def queue_leader(queue: str) -> str:
    listing = cluster_ctl(3, "list_queues", "name", "leader", "members", "--formatter", "json").stdout
    for entry in json.loads(listing):
        if entry["name"] == queue:
            return entry
    pytest.fail(f"queue {queue} not found in {listing}")


@pytest.fixture
def cluster_site(clips, tmp_path):
    site = open_site(ClusterBus(cluster_urls()), clips, tmp_path)
    yield site
    close_site(site)


def chunk_names(bus: Bus, job_id: str) -> set[str]:
    return {e["chunk"]["name"] for e in bus.of(job_id, "chunk")}


def test_the_jobs_queue_leader_stopped_mid_split_job(cluster_site: Site):
    site = cluster_site
    bus = site.bus
    leader = queue_leader(bus.jobs)
    assert leader["leader"] == node_name(1), f"node 1 should lead the jobs queue: {leader}"
    assert len(leader["members"]) == 3, f"the jobs queue is not replicated on all three nodes: {leader}"

    workers = [site.start_worker(f"c{i}", "--chunk-check-interval", "2", "--heartbeat", "5") for i in (1, 2)]
    job = {"jobId": "cluster-1", "input": site.clips.long, "output": "cluster-1", **SPLIT_JOB}
    site.submit(job)
    bus.wait(lambda: len(chunk_names(bus, "cluster-1")) >= 1, 240, "the first chunk of the split job", tuple(workers))
    assert not bus.of("cluster-1", "completed"), "the job finished before the leader could be stopped: make it longer"

    cluster_ctl(1, "stop_app")
    try:
        # The job goes on without node 1: at least one more chunk is committed meanwhile.
        done_before = len(chunk_names(bus, "cluster-1"))
        bus.wait(lambda: len(chunk_names(bus, "cluster-1")) > done_before or bus.of("cluster-1", "completed"), 240,
                 "a chunk committed while the leader is down", tuple(workers))
        moved = queue_leader(bus.jobs)
        assert moved["leader"] != node_name(1), f"the jobs queue still names the stopped node as its leader: {moved}"
    finally:
        cluster_ctl(1, "start_app")
        cluster_ctl(1, "await_startup")

    bus.wait(lambda: bus.of("cluster-1", "completed"), 300, "job.completed", tuple(workers))
    # Redeliveries and the fan-in check settle; nothing may complete the job a second time.
    bus.wait(lambda: bus.queue_depth(bus.jobs)[0] == 0, 60, "the jobs queue to drain", tuple(workers))
    time.sleep(3)
    bus.poll()
    assert len(bus.of("cluster-1", "completed")) == 1, [(e["state"], e.get("workerId")) for e in bus.of("cluster-1")]
    assert chunk_names(bus, "cluster-1") == CHUNKS
    assert not bus.of("cluster-1", "failed")
    assert_plays(site.output("cluster-1"))
    for worker in workers:
        log = worker.log()
        assert "broker unavailable; reconnecting" in log or "the broker closed" in log or log.count("connected to the broker") >= 2, \
            f"{worker.worker_id} never lost node 1:\n{log[-3000:]}"
    survivors = {os.environ["HLSIFY_TEST_CLUSTER_URL_2"].split("@")[1].rstrip("/"),
                 os.environ["HLSIFY_TEST_CLUSTER_URL_3"].split("@")[1].rstrip("/")}
    reconnected = [w.worker_id for w in workers if any(f"127.0.0.1:{p.split(':')[1]}" in w.log() for p in survivors)]
    assert reconnected, "no worker connected to a surviving node"
    assert work_leftovers(site.output_root) == []
    site.stop_all_and_assert_drained()
