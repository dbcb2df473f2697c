"""The worker's `"collapseGaps": true` (and `transcode-worker submit --collapse-gaps`): the job is
transcoded whole, never split, even with a small chunkDuration, and the hole in the source's
video timestamps is removed (test_collapse_gaps.py checks the removal itself on the CLI).

One worker on local roots takes three jobs of test_timestamp_gaps's `pause` source (20 s of
video with a 60 s hole after 10 s) with chunkDuration 4: one in JSON, one built by `submit
--collapse-gaps`, and a control without the field, which the worker splits (so chunkDuration 4
would split this source) and finishes with the hole kept. Needs the private RabbitMQ node `make test` starts
(HLSIFY_TEST_AMQP_URL), as test_worker.py does. Every wait is for an observed state (an event,
empty queues); timeouts are upper bounds only.
"""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass

import pytest

import hlscheck as h
from test_collapse_gaps import BY_NAME, Run, SourceFiles, frame_problems, output_duration, tone_problems
from test_split_jobs import close_split_site, wait_quiet
from test_timestamp_gaps import make_source
from test_worker import Bus, Clips, Site, amqp_url, assert_plays, states, work_leftovers, work_name, worker_bin
from test_worker_audio import planned_split

pytestmark = pytest.mark.timeout(300)

SOURCE = BY_NAME["pause"]
JOB = {"input": "pause.mkv", "ladder": ["180p"], "preset": "ultrafast", "segmentDuration": 2, "chunkDuration": 4,
       "storyboard": False, "poster": False}
COLLAPSED = {"json": "set/json", "flags": "flags"}  # job id -> output
CONTROL = "control"


@dataclass
class Jobs:
    site: Site
    worker: object  # test_worker.Worker, stopped
    frames: int     # the source's decoded video frames


@pytest.fixture(scope="module")
def jobs(tmp_path_factory) -> Jobs:
    """The three jobs on one worker (`--chunk-duration 4` for the one from flags); returns once
    each has an outcome (completed, rejected or failed for good), the jobs and check queues are
    empty and the worker has stopped."""
    tmp = tmp_path_factory.mktemp("collapse-worker")
    input_root, output_root = tmp / "in", tmp / "out"
    input_root.mkdir()
    output_root.mkdir()
    path = make_source(str(input_root), SOURCE)
    assert os.path.basename(path) == JOB["input"], path
    frames = h.probe(path).video.frames
    site = Site(Bus(amqp_url()), str(input_root), str(output_root), Clips(str(input_root)), str(tmp))
    bus = site.bus
    try:
        worker = site.start_worker("w-collapse", "--chunk-duration", "4", "--chunk-check-interval", "2")
        proc = subprocess.run([worker_bin(), "submit", *bus.worker_args(), "--job-id", "flags", "--input", JOB["input"],
                               "--ladder", "180p", "--preset", "ultrafast", "--segment-duration", "2",
                               "--no-storyboard", "--no-poster", "--collapse-gaps"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and proc.stdout.strip() == "flags", f"submit: {proc.returncode} {proc.stdout} {proc.stderr}"
        site.submit({"jobId": "json", "output": COLLAPSED["json"], **JOB, "collapseGaps": True})
        site.submit({"jobId": CONTROL, "output": CONTROL, **JOB})
        every = (*COLLAPSED, CONTROL)
        bus.wait(lambda: all(bus.of(j, "completed") or bus.of(j, "rejected") or
                             [e for e in bus.of(j, "failed") if not e.get("willRetry")] for j in every),
                 240, "an outcome for every job", (worker,))
        wait_quiet(site, (worker,))
        site.stop_all_and_assert_drained()
        bus.poll()
        yield Jobs(site, worker, frames)
    finally:
        close_split_site(site)


def completed(jobs: Jobs, job_id: str) -> dict:
    events = jobs.site.bus.of(job_id)
    done = [e for e in events if e["state"] == "completed"]
    assert len(done) == 1 and not [e for e in events if e["state"] in ("failed", "rejected")], (job_id, states(events))
    return done[0]


def test_submit_collapse_gaps_sets_the_job_field(jobs):
    bus = jobs.site.bus
    assert bus.of("flags", "accepted")[0]["job"].get("collapseGaps") is True, bus.of("flags", "accepted")[0]["job"]
    assert bus.of("json", "accepted")[0]["job"].get("collapseGaps") is True, bus.of("json", "accepted")[0]["job"]
    assert not bus.of(CONTROL, "accepted")[0]["job"].get("collapseGaps"), bus.of(CONTROL, "accepted")[0]["job"]


@pytest.mark.parametrize("job_id", list(COLLAPSED))
def test_a_collapse_gaps_job_is_transcoded_whole_without_the_hole(jobs, job_id):
    """Never split (no plan in the log, no job.chunk, one start, no work left); the output and
    job.completed (and its marker) last 20 s, not the source's 80; every source frame one frame
    after the last; the tone switches at the cut."""
    bus, worker = jobs.site.bus, jobs.worker
    done = completed(jobs, job_id)
    assert not planned_split(worker, job_id), f"the job {job_id} was split"
    assert not [e for e in bus.of(job_id) if e["state"] == "chunk"], f"job.chunk events for {job_id}"
    assert len(bus.of(job_id, "started")) == 1, states(bus.of(job_id))
    assert work_name(COLLAPSED[job_id]) not in work_leftovers(jobs.site.output_root), work_leftovers(jobs.site.output_root)

    out, want = jobs.site.output(COLLAPSED[job_id]), output_duration(SOURCE)
    frame = 1 / SOURCE.rate
    assert abs(done["durationSeconds"] - want) <= frame, done["durationSeconds"]
    with open(os.path.join(out, ".hlsify-complete.json")) as f:
        marker = json.load(f)
    assert abs(marker["completion"]["durationSeconds"] - want) <= frame, marker["completion"]
    hls = assert_plays(out)
    for pl in hls.media_playlists():
        assert abs(sum(pl.durations) - want) <= frame, f"{pl.path}: EXTINF sum {sum(pl.durations):.3f} s, not {want}"
    r = Run(SourceFiles(SOURCE, os.path.join(jobs.site.input_root, JOB["input"]), "", "", "", jobs.frames, 0.0), "fmp4", out,
            {}, hls, "")
    assert frame_problems(r) == [], job_id
    assert tone_problems(r, r.audio("audio"), 440, 880, running=False) == [], job_id


def test_the_control_without_the_field_is_split_and_keeps_the_hole(jobs):
    """The same job without collapseGaps is planned as a split job and its chunks run (so
    chunkDuration 4 would split this source: the whole-job checks above prove something), and
    its stitched set keeps the hole: chunks ending, lying and starting in it hold the picture."""
    assert planned_split(jobs.worker, CONTROL), "the control was not split: the test proves nothing"
    assert [e for e in jobs.site.bus.of(CONTROL) if e["state"] == "chunk"], "no job.chunk for the control"
    done = completed(jobs, CONTROL)
    assert abs(done["durationSeconds"] - SOURCE.duration) <= 1 / SOURCE.rate, done["durationSeconds"]
    assert work_name(CONTROL) not in work_leftovers(jobs.site.output_root), work_leftovers(jobs.site.output_root)
    hls = assert_plays(jobs.site.output(CONTROL))
    for pl in hls.media_playlists():
        assert abs(sum(pl.durations) - SOURCE.duration) <= 1 / SOURCE.rate, pl.path
