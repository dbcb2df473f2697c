"""`hlsify preview s3://BUCKET/PREFIX`: a set in a bucket served through the preview page, the
server fetching each object for the player (real S3 servers from s3servers.py; the set is the one
test_preview.py makes, uploaded with boto3).

Checked: the page, a ranged segment equal to the object's bytes, 404 for a missing object, the
start-up errors (no master: 66; refused credentials: 77, no secret printed), and headless
Chromium playing the page to 3 s of real-time playback with the subtitle track loaded.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from conftest import hlsify_bin
from test_preview import (SRT_CUES, chromium, clip, fetch, first_segment, master_of, outputs, rung_sizes,  # noqa: F401
                          serve, wait_for)

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def bucket_set(outputs, s3_server, monkeypatch):
    """The fmp4 set of test_preview uploaded under s3://BUCKET/lectures/preview; the S3 settings
    in the environment the preview server inherits. Returns (address, folder, server)."""
    folder = outputs["fmp4"]
    bucket = s3_server.make_bucket()
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = os.path.join(root, name)
            # The set only: not test_preview's planted links and hidden files.
            if name.startswith(".") or os.path.islink(path):
                continue
            s3_server.put(bucket, "lectures/preview/" + os.path.relpath(path, folder), path)
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    return f"s3://{bucket}/lectures/preview", folder, s3_server


def test_the_page_ranges_and_missing_objects_come_from_the_bucket(bucket_set, serve):
    address, folder, _ = bucket_set
    server = serve(address)
    page = fetch(server.url)
    assert page.status == 200 and "master.m3u8" in page.body.decode(), page.status
    rung = master_of(folder).playlists[0].uri.split("/")[0]
    segment = first_segment(folder, rung)
    with open(os.path.join(folder, segment), "rb") as f:
        whole = f.read()
    part = fetch(server.url + segment, headers={"Range": "bytes=10-109"})
    assert part.status == 206 and part.body == whole[10:110], (part.status, len(part.body))
    assert part.headers.get("content-range") == f"bytes 10-109/{len(whole)}"
    assert fetch(server.url + f"{rung}/segment-99999.m4s").status == 404
    assert server.stop() == 0


def test_a_prefix_without_a_master_exits_66_and_refused_credentials_77(bucket_set, tmp_path):
    address, _, store = bucket_set
    empty = subprocess.run([hlsify_bin(), "preview", address + "/nothing-here", "--port", "0"], capture_output=True,
                           text=True, timeout=60)
    assert empty.returncode == 66, empty
    assert empty.stderr.count("\n") == 1 and empty.stderr.startswith("hlsify: "), empty.stderr
    wrong = {**os.environ, "AWS_SECRET_ACCESS_KEY": "not-the-secret-" + store.secret_key[:4]}
    refused = subprocess.run([hlsify_bin(), "preview", address, "--port", "0"], capture_output=True, text=True, timeout=60,
                             env=wrong)
    assert refused.returncode == 77, refused
    assert "access denied" in refused.stderr and refused.stderr.count("\n") == 1, refused.stderr
    assert wrong["AWS_SECRET_ACCESS_KEY"] not in refused.stderr + refused.stdout
    assert store.secret_key not in refused.stderr + refused.stdout


def test_chromium_plays_a_set_from_the_bucket(bucket_set, serve, chromium):
    address, folder, _ = bucket_set
    server = serve(address)
    chromium.get(server.url)
    start = wait_for(chromium, lambda s: s["time"] > 0.1 and not s["paused"], 60, "playback start")
    advanced = wait_for(chromium, lambda s: s["time"] >= start["time"] + 3, 30, "3 s of playback")
    assert advanced["videoBytes"] > 0 and advanced["audioBytes"] > 0, advanced
    assert f"{advanced['width']}x{advanced['height']}" in rung_sizes(folder), advanced
    loaded = wait_for(chromium, lambda s: s["tracks"] and s["tracks"][0]["cues"] == SRT_CUES, 15, "subtitle cues")
    assert loaded["tracks"][0]["language"] == "en"
    severe = [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe
