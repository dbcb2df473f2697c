"""A full disk: the run fails with EX_IOERR (74) and one line, its staging folder (with the
segments it committed) stays, and the next run resumes from it, also when the disk fills up
again during that resume. The full disk is a preloaded write(2) that fails with ENOSPC once the
process has written a byte budget to files (a test-only shim built here with gcc)."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

import hlscheck as h
from conftest import hlsify_bin

EX_IOERR = 74

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static _Atomic long long spent;

/* write(2) to files (fd > 2) fails with ENOSPC once HLSIFY_TEST_WRITE_BUDGET bytes are written. */
ssize_t write(int fd, const void *buf, size_t count) {
    static ssize_t (*real)(int, const void *, size_t);
    if (!real) real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    const char *text = getenv("HLSIFY_TEST_WRITE_BUDGET");
    if (fd > 2 && text) {
        long long budget = atoll(text);
        if (atomic_fetch_add(&spent, (long long)count) + (long long)count > budget) {
            errno = ENOSPC;
            return -1;
        }
    }
    return real(fd, buf, count);
}
"""


@pytest.fixture(scope="module")
def shim(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("enospc")
    source = folder / "enospc.c"
    source.write_text(SHIM)
    library = folder / "enospc.so"
    h.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source), "-ldl"], timeout=60)
    return str(library)


@pytest.fixture(scope="module")
def lecture(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("enospc-src") / "lecture.mp4")
    h.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=16",
           "-f", "lavfi", "-i", "sine=frequency=330:duration=16", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path], timeout=120)
    return path


ARGS = ["--ladder", "360p,240p", "--segment-duration", "2", "--json", "--quiet"]


def hlsify(source: str, out: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([hlsify_bin(), source, "--out", out, *ARGS], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def stagings(parent: str) -> list[str]:
    return sorted(n for n in os.listdir(parent) if ".hlsify-staging-" in n)


def committed(parent: str) -> int:
    """Journal lines in the one staging folder beside the output."""
    (staging,) = stagings(parent)
    with open(os.path.join(parent, staging, ".hlsify-resume", "journal")) as f:
        return sum(1 for _ in f)


def assert_disk_full(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == EX_IOERR, f"exit {result.returncode}\n{result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert lines and "No space left on device" in lines[-1], result.stderr


def assert_complete(out: str, result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    hls = h.load_hls_set(os.path.join(out, "master.m3u8"))
    for playlist in hls.media_playlists():
        assert playlist.parsed.is_endlist
        for segment in playlist.segments:
            assert os.path.isfile(segment.path), segment.uri
    decode = subprocess.run(["ffmpeg", "-v", "error", "-i", os.path.join(out, "master.m3u8"), "-map", "0", "-f", "null", "-"],
                            capture_output=True, text=True, timeout=300)
    assert decode.returncode == 0 and not decode.stderr.strip(), decode.stderr[-2000:]
    leftovers = [n for n in h.list_tree(out) if ".part" in n or ".hlsify-resume" in n]
    assert leftovers == [], leftovers
    return report


def test_a_full_disk_keeps_the_staging_and_the_next_run_resumes(shim, lecture, tmp_path):
    out = str(tmp_path / "lecture")
    full = hlsify(lecture, out, {"LD_PRELOAD": shim, "HLSIFY_TEST_WRITE_BUDGET": str(1_200_000)})
    assert_disk_full(full)
    assert not os.path.exists(out)
    assert committed(str(tmp_path)) > 3, "the budget should let some segments through"
    resumed = hlsify(lecture, out)
    report = assert_complete(out, resumed)
    assert report["resume"]["resumed"] and report["resume"]["segmentsReused"] > 0, report["resume"]
    assert stagings(str(tmp_path)) == []


def test_a_disk_that_fills_up_again_during_the_resume(shim, lecture, tmp_path):
    out = str(tmp_path / "lecture")
    killed = hlsify(lecture, out, {"HLSIFY_TEST_KILL_AT": "segment-committed:6"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    before = committed(str(tmp_path))
    # The resume writes a little more, then the disk is full again: the staging stays, grown.
    full = hlsify(lecture, out, {"LD_PRELOAD": shim, "HLSIFY_TEST_WRITE_BUDGET": str(900_000)})
    assert_disk_full(full)
    assert committed(str(tmp_path)) > before, "the resume should have committed more before the disk filled"
    finished = hlsify(lecture, out)
    report = assert_complete(out, finished)
    assert report["resume"]["resumed"], report["resume"]
    assert stagings(str(tmp_path)) == []
