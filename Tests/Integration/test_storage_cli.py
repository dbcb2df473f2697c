"""`hlsify INPUT --out OUT` with s3:// inputs and outputs, against real S3 servers on loopback
(rclone and SeaweedFS, s3servers.py), and through s3servers.FaultProxy in front of rclone for the
faults. What is checked is notes/s3-contract.md:

- a set in a bucket is, byte for byte, the set the same command writes to a folder (plus
  `.hlsify-output.json`, listing every other object with its bytes, SHA-256 and type); an input in
  a bucket gives the same set as the same file on disk; the downloaded set passes every check
  test_output.py and test_apple_rules.py make of a folder output;
- Content-Type and Cache-Control of every object;
- upload order: media, then media playlists, then the master (the publish), then the listing;
- `--progressive`: segments and playlists appear while the command runs;
- an existing set is refused (73) unless `--force`, which also deletes what the new set lacks;
- errors: the exit code of the contract, one `hlsify: ` line on stderr, no secret in the output,
  and nothing left under the output prefix (no object, no open multipart upload); retries
  through 5xx answers, a stalled download and a cut multipart part; Ctrl-C cleans up.

boto3 (through s3servers' helpers, which talk to the server straight, never through the proxy)
is the independent reader. Every run gets a TMPDIR of its own (the CLI keeps its scratch under
$TMPDIR/hlsify-s3) and only the S3 variables of the contract (s3servers.clean_env). Every wait
is for an observed state (a proxy counter, an object in a listing, the process's exit); the
timeouts are upper bounds, never guesses at how long something takes.

The encodes use `--encoder-threads 1`: x264's sliced threads are not always byte-deterministic
from one run to the next, and the comparisons here are between two runs of the same command.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

import apple_rules as ar
import hlscheck as h
import test_apple_rules as apple_checks
import test_output as output_checks
from conftest import (MATRIX_PRESET, SEGMENT_DURATION, FixtureInfo, RunResult, Transcode, expected_rungs,
                      fixture_path, hlsify_bin)
from s3servers import clean_env, unique_bucket_name, wait_for

boto3 = pytest.importorskip("boto3")
m3u8 = pytest.importorskip("m3u8")
from botocore.exceptions import ClientError  # noqa: E402

pytestmark = pytest.mark.timeout(300)

FIXTURE = FixtureInfo("landscape-720p.mp4", "und")
SMALL = "small-320x180.mp4"
LADDER = "480p,360p"
LADDER_RUNGS = [480, 360]
COMMON = ["--ladder", LADDER, "--segment-duration", str(SEGMENT_DURATION), "--preset", MATRIX_PRESET,
          "--encoder-threads", "1", "--quiet", "--json"]
INPUT_KEY = f"uploads/{FIXTURE.name}"
NOT_MEDIA_KEY = "uploads/not-media.mp4"

MANIFEST = ".hlsify-output.json"
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
IMMUTABLE = "public, max-age=31536000, immutable"
MEDIA_TYPES = {"m4s": "video/mp4", "mp4": "video/mp4", "ts": "video/mp2t", "vtt": "text/vtt",
               "jpg": "image/jpeg"}  # the poster and the storyboard sheets

RUN_TIMEOUT = 240   # one run of the binary (a few seconds when the machine is idle)
WAIT = 120          # upper bound for a state that is expected to come
HOLD = 10 ** 6      # "for ever", for a fault that holds an upload until the test releases it
# Knobs for runs through the fault proxy: quick retries (0.05 s, doubling).
FAST_RETRIES = {"HLSIFY_S3_RETRY_DELAY": "0.05"}
# The most retries the CLI takes (20): with FAST_RETRIES' doubling delays (capped at 20 s by the
# client) a held upload keeps the run going for minutes, far longer than a test looks at it.
HOLD_RETRIES = "20"
MULTIPART = {"HLSIFY_S3_MULTIPART_BYTES": "65536"}  # the segments (100-370 kB) go up in parts


# ---------------------------------------------------------------------------
# running the binary
# ---------------------------------------------------------------------------


def own_env(target, tmp_path, extra: Optional[dict] = None) -> dict:
    """The server's (or proxy's) AWS_* variables, a TMPDIR of this run's own, and `extra`."""
    tmpdir = tempfile.mkdtemp(prefix="tmpdir-", dir=str(tmp_path))
    return clean_env(target.env() if target is not None else {}, {"TMPDIR": tmpdir}, extra or {})


def run_cli(target, tmp_path, *args, env: Optional[dict] = None, timeout: float = RUN_TIMEOUT) -> RunResult:
    argv = [hlsify_bin(), *map(str, args)]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              env=own_env(target, tmp_path, env))
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"hlsify did not finish within {timeout}s: {' '.join(argv)}\n{(e.stderr or b'')[-2000:]!r}")
    return RunResult(argv, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)


class Running:
    """The binary started in the background (stdout and stderr to files, so nothing blocks)."""

    def __init__(self, target, tmp_path, *args, env: Optional[dict] = None):
        self.argv = [hlsify_bin(), *map(str, args)]
        folder = tempfile.mkdtemp(prefix="run-", dir=str(tmp_path))
        self._out = open(os.path.join(folder, "stdout"), "w+")
        self._err = open(os.path.join(folder, "stderr"), "w+")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err,
                                     env=own_env(target, tmp_path, env))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_so_far(self) -> str:
        self._err.flush()
        with open(self._err.name) as f:
            return f.read()[-3000:]

    def finish(self, timeout: float = RUN_TIMEOUT) -> RunResult:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"hlsify did not finish within {timeout}s: {' '.join(self.argv)}\n{self.stderr_so_far()}")
        elapsed = time.monotonic() - self.t0
        outputs = []
        for f in (self._out, self._err):
            f.seek(0)
            outputs.append(f.read())
            f.close()
        return RunResult(self.argv, self.proc.returncode, outputs[0], outputs[1], elapsed)

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait()

    def wait_while_running(self, predicate, what: str, timeout: float = WAIT):
        """Waits for predicate() while the process runs; fails at once if it exits first."""
        def check():
            value = predicate()
            if value:
                return value
            if not self.alive():
                raise AssertionError(f"hlsify exited ({self.proc.returncode}) before {what}\n{self.stderr_so_far()}")
            return None
        return wait_for(check, timeout, what, on_timeout=self.stderr_so_far)


# ---------------------------------------------------------------------------
# reading what a run left
# ---------------------------------------------------------------------------


def bucket_files(server, bucket: str, prefix: str) -> dict[str, bytes]:
    """Relative path under PREFIX/ -> bytes, of every object there (read with boto3)."""
    return {k[len(prefix) + 1:]: server.get(bucket, k) for k in server.keys(bucket, prefix + "/")}


def folder_files(root: str) -> dict[str, bytes]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = f.read()
    return out


def download(files: dict[str, bytes], folder: str) -> str:
    for rel, data in files.items():
        path = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return folder


def assert_same_files(got: dict[str, bytes], want: dict[str, bytes], label: str) -> None:
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differ = sorted(p for p in set(got) & set(want) if got[p] != want[p])
    assert not (missing or extra or differ), (
        f"{label} differs from the folder output of the same command: missing {missing}, extra {extra}, "
        f"different bytes {[(p, len(got[p]), len(want[p])) for p in differ]}")


def expected_headers(rel: str, progressive: bool = False) -> tuple[str, str]:
    ext = rel.rsplit(".", 1)[-1]
    if ext == "m3u8":
        return PLAYLIST_TYPE, "max-age=2" if progressive else "max-age=60"
    return MEDIA_TYPES[ext], IMMUTABLE


def check_headers(server, bucket: str, prefix: str, rels, progressive: bool = False) -> list[str]:
    """Findings: objects whose Content-Type or Cache-Control is not the contract's."""
    findings = []
    for rel in sorted(rels):
        head = server.head(bucket, f"{prefix}/{rel}")
        got = (head.get("ContentType"), head.get("CacheControl"))
        want = expected_headers(rel, progressive)
        if got != want:
            findings.append(f"{rel}: Content-Type/Cache-Control {got}, expected {want}")
    return findings


def check_manifest(server, bucket: str, prefix: str, files: dict[str, bytes]) -> dict:
    """`.hlsify-output.json` lists every other object under PREFIX, with its bytes, SHA-256 and type."""
    assert MANIFEST in files, f"no {MANIFEST} under s3://{bucket}/{prefix}/: {sorted(files)}"
    doc = json.loads(files[MANIFEST])
    assert doc.get("format") == "hlsify-output/1", doc.get("format")
    completed = str(doc.get("completedAt"))
    datetime.fromisoformat(completed.replace("Z", "+00:00"))  # raises unless ISO 8601
    entries = doc.get("objects")
    assert isinstance(entries, list) and entries, f"{MANIFEST}: objects {entries!r}"
    paths = [e["path"] for e in entries]
    assert len(paths) == len(set(paths)), f"{MANIFEST} lists a path twice: {paths}"
    others = set(files) - {MANIFEST}
    assert set(paths) == others, \
        f"{MANIFEST} lists {sorted(set(paths) - others)} that are not there and lacks {sorted(others - set(paths))}"
    wrong = []
    for e in entries:
        data = files[e["path"]]
        head = server.head(bucket, f"{prefix}/{e['path']}")
        got = (e.get("bytes"), e.get("sha256"), e.get("contentType"))
        want = (len(data), hashlib.sha256(data).hexdigest(), head.get("ContentType"))
        if got != want:
            wrong.append(f"{e['path']}: listed {got}, object is {want}")
    assert not wrong, f"{MANIFEST} entries disagree with the objects:\n  " + "\n  ".join(wrong)
    assert server.head(bucket, f"{prefix}/{MANIFEST}")["ContentType"] == "application/json"
    return doc


def check_ladder(case: Transcode) -> None:
    """test_output.test_ladder_has_the_expected_rungs for LADDER (it assumes the default ladder)."""
    src = case.source.video
    want = expected_rungs(*src.display_size, ladder=LADDER_RUNGS)
    got = sorted((min(v.resolution) for v in case.hls.variants), reverse=True)
    assert got == sorted(want, reverse=True), f"rendition short sides {got}, expected {want} for --ladder {LADDER}"
    assert len(case.report["renditions"]) == len(case.hls.variants)


OUTPUT_CHECKS = output_checks.spelled_out(check_ladder)


def validation_findings(result: RunResult, folder: str) -> list[str]:
    """Every check test_output.py and test_apple_rules.py make of a folder output, on a set
    downloaded into `folder` (alone in its parent), with the run's report (its s3:// input and
    output names replaced by the local ones, which the caller checks itself)."""
    report = json.loads(result.stdout)
    t = Transcode(FIXTURE, "fmp4", os.path.dirname(folder), folder, result)
    t.__dict__["report"] = {**report, "output": folder, "input": fixture_path(FIXTURE.name)}
    t.probe_in_parallel(2)
    out = []
    for name, fn, kwargs in OUTPUT_CHECKS:
        try:
            fn(t, **kwargs)
        except pytest.skip.Exception:
            pass
        except AssertionError as e:
            out.append(f"test_output.{name}: {str(e).splitlines()[0] if str(e) else 'assertion failed'}")
    ctx = ar.Context(os.path.join(folder, "master.m3u8"), source=fixture_path(FIXTURE.name),
                     nominal_segment=SEGMENT_DURATION, segment_checks=t.segment_checks)
    for rule, found in ar.check_all(ctx).items():
        if found and rule not in apple_checks.PENDING:
            out.append(f"apple_rules.{rule}: {found[:3]}")
    return out


def ffprobe_master(folder: str) -> None:
    """ffprobe opens the master (HLS demuxer) and finds both video rungs and the audio."""
    doc = h.ffprobe_json(os.path.join(folder, "master.m3u8"), "-show_entries", "stream=codec_type,width,height")
    streams = doc.get("streams", [])
    sizes = sorted((s.get("width"), s.get("height")) for s in streams if s.get("codec_type") == "video")
    assert sizes == [(640, 360), (854, 480)], f"ffprobe of the downloaded master: video streams {sizes}"
    assert any(s.get("codec_type") == "audio" for s in streams), f"ffprobe of the downloaded master: {streams}"


def assert_error(res: RunResult, code: int, secrets: list[str]) -> None:
    """The contract's exit code, exactly one stderr line `hlsify: ...`, and no secret anywhere."""
    assert res.returncode == code, f"expected exit {code}\n{res.describe()}"
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("hlsify: "), \
        f"expected one stderr line starting with 'hlsify: ', got {lines!r}"
    for secret in secrets:
        assert secret not in res.stderr and secret not in res.stdout, "a secret appears in the output"


def open_uploads(server, bucket: str) -> list[tuple[str, str]]:
    """(key, upload id) of the open multipart uploads in bucket. rclone answers NoSuchUpload (404)
    to ListMultipartUploads in a bucket that never had a multipart upload: that is none."""
    try:
        return [(u["Key"], u["UploadId"]) for u in server.list_multipart_uploads(bucket)]
    except ClientError as e:
        if getattr(server, "server", server).kind == "rclone" and e.response["Error"].get("Code") == "NoSuchUpload":
            return []
        raise


def assert_nothing_left(server, bucket: str, prefix: str) -> None:
    """No object at or under PREFIX (staging names next to it included) and no open multipart
    upload in the bucket."""
    left = server.keys(bucket, prefix)
    assert left == [], f"objects left under s3://{bucket}/{prefix}: {left}"
    uploads = open_uploads(server, bucket)
    assert uploads == [], f"open multipart uploads left in {bucket}: {uploads}"


def secrets_of(target) -> list[str]:
    return [target.secret_key]


def object_writes(events, bucket: str, prefix: str) -> list[tuple[int, str]]:
    """(request number, relative path) of each request that writes a whole object under PREFIX:
    a PUT that is not an UploadPart, or a CompleteMultipartUpload (POST ?uploadId=)."""
    out = []
    base = f"/{bucket}/{prefix}/"
    for e in events:
        parts = urlsplit(e.target)
        path = unquote(parts.path)
        if not path.startswith(base):
            continue
        query = parse_qs(parts.query, keep_blank_values=True)
        if (e.method == "PUT" and "partNumber" not in query) or (e.method == "POST" and "uploadId" in query):
            out.append((e.n, path[len(base):]))
    return out


def referenced_paths(text: str, base: str = "") -> set[str]:
    """Paths (relative to the set) a playlist names: variants, renditions, segments, maps."""
    parsed = m3u8.loads(text)
    uris = set()
    if parsed.is_variant:
        uris |= {p.uri for p in parsed.playlists} | {m.uri for m in parsed.media if m.uri}
        uris |= {p.uri for p in parsed.iframe_playlists}
    for s in parsed.segments:
        uris.add(s.uri)
        if s.init_section is not None:
            uris.add(s.init_section.uri)
    return {os.path.normpath(os.path.join(base, u)) for u in uris}


def check_complete(files: dict[str, bytes]) -> None:
    """A finished set: a master, every playlist ends with ENDLIST, every URI names an object."""
    assert "master.m3u8" in files, f"no master.m3u8: {sorted(files)}"
    names = set(files)
    for rel, data in files.items():
        if not rel.endswith(".m3u8"):
            continue
        text = data.decode()
        missing = referenced_paths(text, os.path.dirname(rel)) - names
        assert not missing, f"{rel} names {sorted(missing)}, which are not in the bucket"
        if rel != "master.m3u8":
            assert "#EXT-X-ENDLIST" in text, f"{rel} has no EXT-X-ENDLIST:\n{text}"


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    """The files of `hlsify FIXTURE --out FOLDER COMMON` (folder to folder)."""
    tmp = tmp_path_factory.mktemp("reference")
    out = os.path.join(str(tmp), "set")
    res = run_cli(None, tmp, fixture_path(FIXTURE.name), "--out", out, *COMMON)
    assert res.returncode == 0, res.describe()
    files = folder_files(out)
    assert "master.m3u8" in files and MANIFEST not in files, sorted(files)
    return files


@pytest.fixture(scope="module")
def source_bucket(s3_server) -> str:
    """A bucket on s3_server holding the fixture (INPUT_KEY) and not-media.mp4 (NOT_MEDIA_KEY)."""
    bucket = s3_server.make_bucket(unique_bucket_name("inputs"))
    s3_server.put(bucket, INPUT_KEY, fixture_path(FIXTURE.name), ContentType="video/mp4")
    s3_server.put(bucket, NOT_MEDIA_KEY, fixture_path("not-media.mp4"), ContentType="video/mp4")
    return bucket


@dataclass
class Published:
    """The bucket to bucket run of COMMON on one server, and what it left."""
    server: object
    bucket: str
    prefix: str
    result: RunResult
    files: dict[str, bytes]  # everything under PREFIX/, the listing included
    folder: str              # the set downloaded (without the listing), alone in its parent

    @property
    def media(self) -> dict[str, bytes]:
        return {k: v for k, v in self.files.items() if k != MANIFEST}


@pytest.fixture(scope="module")
def published(s3_server, source_bucket, tmp_path_factory) -> Published:
    tmp = tmp_path_factory.mktemp(f"b2b-{s3_server.kind}")
    bucket = s3_server.make_bucket(unique_bucket_name("media"))
    prefix = "sets/clip"
    res = run_cli(s3_server, tmp, f"s3://{source_bucket}/{INPUT_KEY}", "--out", f"s3://{bucket}/{prefix}", *COMMON)
    assert res.returncode == 0, res.describe()
    files = bucket_files(s3_server, bucket, prefix)
    folder = download({k: v for k, v in files.items() if k != MANIFEST},
                      os.path.join(str(tmp_path_factory.mktemp(f"download-{s3_server.kind}")), "set"))
    return Published(s3_server, bucket, prefix, res, files, folder)


# ---------------------------------------------------------------------------
# 1. bucket to bucket, folder to bucket, bucket to folder
# ---------------------------------------------------------------------------


def test_bucket_to_bucket_equals_folder_output(published, reference, source_bucket):
    p = published
    report = json.loads(p.result.stdout)
    assert report["output"] == f"s3://{p.bucket}/{p.prefix}", f"report names output {report['output']!r}"
    assert report["input"] == f"s3://{source_bucket}/{INPUT_KEY}", f"report names input {report['input']!r}"
    assert_same_files(p.media, reference, f"s3://{p.bucket}/{p.prefix}/ ({p.server.kind})")
    check_manifest(p.server, p.bucket, p.prefix, p.files)
    assert p.server.keys(p.bucket) == sorted(f"{p.prefix}/{k}" for k in p.files), "objects outside PREFIX/"
    assert open_uploads(p.server, p.bucket) == []
    assert p.server.keys(source_bucket) == sorted([INPUT_KEY, NOT_MEDIA_KEY]), "the input bucket changed"


def test_bucket_to_bucket_passes_the_output_checks(published):
    findings = validation_findings(published.result, published.folder)
    assert not findings, f"the set downloaded from {published.server.kind} fails:\n  " + "\n  ".join(findings)
    ffprobe_master(published.folder)


def test_fmp4_content_type_and_cache_control(published):
    p = published
    findings = check_headers(p.server, p.bucket, p.prefix, p.media)
    assert not findings, f"{p.server.kind}:\n  " + "\n  ".join(findings)
    assert p.server.head(p.bucket, f"{p.prefix}/{MANIFEST}")["ContentType"] == "application/json"


def test_folder_to_bucket(s3_server, reference, tmp_path):
    bucket = s3_server.make_bucket(unique_bucket_name("folder-to-bucket"))
    prefix = "from-folder"
    res = run_cli(s3_server, tmp_path, fixture_path(FIXTURE.name), "--out", f"s3://{bucket}/{prefix}/", *COMMON)
    assert res.returncode == 0, res.describe()
    report = json.loads(res.stdout)
    assert report["output"] in (f"s3://{bucket}/{prefix}", f"s3://{bucket}/{prefix}/"), \
        f"report names output {report['output']!r}"
    files = bucket_files(s3_server, bucket, prefix)
    media = {k: v for k, v in files.items() if k != MANIFEST}
    assert_same_files(media, reference, f"s3://{bucket}/{prefix}/ ({s3_server.kind})")
    check_manifest(s3_server, bucket, prefix, files)
    assert s3_server.keys(bucket) == sorted(f"{prefix}/{k}" for k in files), "objects outside PREFIX/"
    findings = check_headers(s3_server, bucket, prefix, media)
    assert not findings, "\n  ".join(findings)
    ffprobe_master(download(media, str(tmp_path / "download")))


def test_bucket_to_folder(s3_server, source_bucket, reference, tmp_path):
    out = str(tmp_path / "out" / "set")
    res = run_cli(s3_server, tmp_path, f"s3://{source_bucket}/{INPUT_KEY}", "--out", out, *COMMON)
    assert res.returncode == 0, res.describe()
    report = json.loads(res.stdout)
    assert report["input"] == f"s3://{source_bucket}/{INPUT_KEY}", f"report names input {report['input']!r}"
    assert os.path.realpath(report["output"]) == os.path.realpath(out), report["output"]
    files = folder_files(out)
    assert MANIFEST not in files, f"{MANIFEST} belongs in a bucket only, found in the folder output"
    assert_same_files(files, reference, f"folder output of an s3:// input ({s3_server.kind})")
    assert os.listdir(os.path.dirname(out)) == ["set"], os.listdir(os.path.dirname(out))
    assert s3_server.keys(source_bucket) == sorted([INPUT_KEY, NOT_MEDIA_KEY]), "the input bucket changed"


def test_keys_that_need_escaping(s3_server, tmp_path):
    """An input key and an output prefix with a space, `+`, `=`, `&`, parentheses and UTF-8: the
    request paths must be encoded (and signed) as S3 expects."""
    source = s3_server.make_bucket(unique_bucket_name("escape-in"))
    key = "uploads/My Clip+1=a&b (é).mp4"
    s3_server.put(source, key, fixture_path(SMALL))
    bucket = s3_server.make_bucket(unique_bucket_name("escape-out"))
    prefix = "sets/a b+c=d&é"
    res = run_cli(s3_server, tmp_path, f"s3://{source}/{key}", "--out", f"s3://{bucket}/{prefix}", "--json",
                  "--ladder", "180p", "--preset", "ultrafast", "--quiet")
    assert res.returncode == 0, res.describe()
    report = json.loads(res.stdout)
    assert (report["input"], report["output"]) == (f"s3://{source}/{key}", f"s3://{bucket}/{prefix}"), \
        (report["input"], report["output"])
    files = bucket_files(s3_server, bucket, prefix)
    assert s3_server.keys(bucket) == sorted(f"{prefix}/{k}" for k in files), s3_server.keys(bucket)
    check_manifest(s3_server, bucket, prefix, files)
    check_complete({k: v for k, v in files.items() if k != MANIFEST})


# ---------------------------------------------------------------------------
# 2. Content-Type and Cache-Control: MPEG-TS segments and WebVTT subtitles
# ---------------------------------------------------------------------------


def test_ts_and_subtitle_content_type_and_cache_control(s3_server, tmp_path):
    bucket = s3_server.make_bucket(unique_bucket_name("ts-subtitles"))
    prefix = "ts"
    res = run_cli(s3_server, tmp_path, fixture_path(SMALL), "--out", f"s3://{bucket}/{prefix}",
                  "--segment-format", "ts", "--subtitles", "en=" + fixture_path("lecture.en.srt"),
                  "--segment-duration", "2", "--preset", "ultrafast", "--quiet")
    assert res.returncode == 0, res.describe()
    files = bucket_files(s3_server, bucket, prefix)
    media = {k: v for k, v in files.items() if k != MANIFEST}
    kinds = {k.rsplit(".", 1)[-1] for k in media}
    assert {"m3u8", "ts", "vtt"} <= kinds, f"expected playlists, .ts and .vtt objects: {sorted(media)}"
    assert "m4s" not in kinds, sorted(media)
    findings = check_headers(s3_server, bucket, prefix, media)
    assert not findings, f"{s3_server.kind}:\n  " + "\n  ".join(findings)
    check_manifest(s3_server, bucket, prefix, files)
    check_complete(media)


# ---------------------------------------------------------------------------
# 3. order: media, media playlists, master, listing
# ---------------------------------------------------------------------------


def test_upload_order_in_the_request_log(fault_proxy, tmp_path):
    """From the proxy's log of requests: every media object (segment, init) is written before any
    media playlist, the master after all of them, the listing last. The segments go up in parts
    (a multipart object counts as written at its CompleteMultipartUpload)."""
    bucket = fault_proxy.make_bucket(unique_bucket_name("order"))
    prefix = "ordered"
    res = run_cli(fault_proxy, tmp_path, fixture_path(FIXTURE.name), "--out", f"s3://{bucket}/{prefix}", *COMMON,
                  env=MULTIPART)
    assert res.returncode == 0, res.describe()
    files = bucket_files(fault_proxy, bucket, prefix)
    writes = object_writes(fault_proxy.events, bucket, prefix)
    log = "\n".join(f"  {n} {rel}" for n, rel in writes)
    written = [rel for _, rel in writes]
    assert sorted(set(written)) == sorted(files), f"objects written {sorted(set(written))}, in the bucket {sorted(files)}"
    assert len(written) == len(set(written)), f"an object written twice without a fault:\n{log}"
    assert any(e.method == "POST" and "uploads" in e.target for e in fault_proxy.events), \
        "no multipart upload despite HLSIFY_S3_MULTIPART_BYTES=65536"
    at = {rel: n for n, rel in writes}
    media = [r for r in at if not r.endswith(".m3u8") and r != MANIFEST]
    playlists = [r for r in at if r.endswith(".m3u8") and r != "master.m3u8"]
    assert media and playlists, log
    last_media = max(media, key=at.get)
    first_playlist = min(playlists, key=at.get)
    assert at[last_media] < at[first_playlist], \
        f"media playlist {first_playlist} written before {last_media}:\n{log}"
    assert at["master.m3u8"] > max(at[r] for r in media + playlists), f"master is not the last media object:\n{log}"
    assert at[MANIFEST] > at["master.m3u8"], f"{MANIFEST} written before the master:\n{log}"
    assert writes[-1][1] == MANIFEST, f"something written after {MANIFEST}:\n{log}"


@pytest.mark.parametrize("held", ["360p/index.m3u8", "360p/segment-00002.m4s"])
def test_no_master_while_an_earlier_upload_is_pending(fault_proxy, tmp_path, held):
    """The proxy refuses every PUT of one object (500) while the client keeps retrying; the run is
    then killed (SIGKILL, no clean-up). No master (nor listing) may be in the bucket, and no
    media playlist either when a segment was held."""
    bucket = fault_proxy.make_bucket(unique_bucket_name("held"))
    prefix = "held"
    fault_proxy.fail_5xx(HOLD, match=f"PUT /{bucket}/{prefix}/{held}")
    run = Running(fault_proxy, tmp_path, fixture_path(FIXTURE.name), "--out", f"s3://{bucket}/{prefix}", *COMMON,
                  env={**FAST_RETRIES, "HLSIFY_S3_RETRIES": HOLD_RETRIES})
    try:
        # three refusals: the first attempt and two retries, time for any upload started
        # alongside it to reach the server
        run.wait_while_running(lambda: fault_proxy.faults_injected >= 3, f"three refused PUTs of {held}")
    finally:
        run.kill()
    keys = [k[len(prefix) + 1:] for k in fault_proxy.keys(bucket, prefix + "/")]
    assert any(k.endswith(".m4s") for k in keys), f"no segment was uploaded before {held}: {keys}"
    assert "master.m3u8" not in keys and MANIFEST not in keys, \
        f"published while {held} was not uploaded: {sorted(keys)}"
    if held.endswith(".m4s"):
        playlists = [k for k in keys if k.endswith(".m3u8")]
        assert not playlists, f"media playlists uploaded while {held} was not: {playlists}"


# ---------------------------------------------------------------------------
# 4. --progressive to a bucket
# ---------------------------------------------------------------------------


def test_progressive_publishes_while_running(fault_proxy, tmp_path):
    """The last video segment's upload is held (500s, retried) so the run cannot end; meanwhile
    the bucket must show segments and a media playlist that names only objects already there.
    Released, the run completes a set equal to the folder output of the same command."""
    bucket = fault_proxy.make_bucket(unique_bucket_name("progressive"))
    prefix = "live"
    held = "360p/segment-00002.m4s"
    fault_proxy.fail_5xx(HOLD, match=f"PUT /{bucket}/{prefix}/{held}")
    args = [fixture_path(FIXTURE.name), *COMMON, "--progressive"]
    run = Running(fault_proxy, tmp_path, args[0], "--out", f"s3://{bucket}/{prefix}", *args[1:],
                  env={**FAST_RETRIES, "HLSIFY_S3_RETRIES": HOLD_RETRIES})
    try:
        run.wait_while_running(lambda: fault_proxy.faults_injected >= 1, f"the held PUT of {held}")

        def playlist_and_segment():
            keys = [k[len(prefix) + 1:] for k in fault_proxy.keys(bucket, prefix + "/")]
            playlists = [k for k in keys if k.endswith(".m3u8") and k != "master.m3u8"]
            segments = [k for k in keys if k.endswith(".m4s")]
            return (playlists, segments) if playlists and segments else None

        playlists, segments = run.wait_while_running(playlist_and_segment,
                                                     "a media playlist and a segment in the bucket")
        texts = {p: fault_proxy.get(bucket, f"{prefix}/{p}").decode() for p in playlists}
        heads = {p: fault_proxy.head(bucket, f"{prefix}/{p}") for p in playlists}
        keys_after = {k[len(prefix) + 1:] for k in fault_proxy.keys(bucket, prefix + "/")}
        assert run.alive(), "the observations above must come from before the run ended"
    except BaseException:
        run.kill()
        raise
    for p, text in texts.items():
        missing = referenced_paths(text, os.path.dirname(p)) - keys_after
        assert not missing, f"{p} (uploaded while running) names objects not in the bucket: {sorted(missing)}\n{text}"
        got = (heads[p].get("ContentType"), heads[p].get("CacheControl"))
        assert got == expected_headers(p, progressive=True), f"{p} while running: {got}"
    assert held not in keys_after

    fault_proxy.reset()
    res = run.finish()
    assert res.returncode == 0, res.describe()
    files = bucket_files(fault_proxy, bucket, prefix)
    media = {k: v for k, v in files.items() if k != MANIFEST}
    check_complete(media)
    check_manifest(fault_proxy, bucket, prefix, files)
    ref_out = str(tmp_path / "progressive-folder")
    ref = run_cli(None, tmp_path, args[0], "--out", ref_out, *args[1:])
    assert ref.returncode == 0, ref.describe()
    assert_same_files(media, folder_files(ref_out), f"s3://{bucket}/{prefix}/ after --progressive")
    assert open_uploads(fault_proxy, bucket) == []
    for rel in media:
        head = fault_proxy.head(bucket, f"{prefix}/{rel}")
        if rel.endswith(".m3u8"):
            assert head.get("ContentType") == PLAYLIST_TYPE, (rel, head.get("ContentType"))
            assert head.get("CacheControl") in ("max-age=2", "max-age=60"), (rel, head.get("CacheControl"))
        else:
            assert (head.get("ContentType"), head.get("CacheControl")) == expected_headers(rel), rel


# ---------------------------------------------------------------------------
# 5. an existing output
# ---------------------------------------------------------------------------


def test_existing_output_is_refused_then_replaced_with_force(s3_server, tmp_path):
    """A second run to the same prefix: 73 and the set untouched. With --force and one rung
    fewer: the new set, and the dropped rung's objects deleted."""
    bucket = s3_server.make_bucket(unique_bucket_name("existing"))
    prefix = "set"
    out = f"s3://{bucket}/{prefix}"
    # neighbours whose keys start with PREFIX but are not under PREFIX/: not this set's
    neighbours = {"set-other/master.m3u8": b"#EXTM3U\n", "set-other/480p/segment-00000.m4s": b"x", "settings.json": b"{}"}
    for key, data in neighbours.items():
        s3_server.put(bucket, key, data)
    first = run_cli(s3_server, tmp_path, fixture_path(FIXTURE.name), "--out", out, *COMMON)
    assert first.returncode == 0, first.describe()
    before = bucket_files(s3_server, bucket, prefix)
    assert any(k.startswith("480p/") for k in before) and any(k.startswith("360p/") for k in before), sorted(before)

    again = run_cli(s3_server, tmp_path, fixture_path(FIXTURE.name), "--out", out, *COMMON)
    assert_error(again, 73, secrets_of(s3_server))
    assert bucket_files(s3_server, bucket, prefix) == before, "a refused run changed the existing set"
    assert open_uploads(s3_server, bucket) == []

    one_rung = [a if a != LADDER else "360p" for a in COMMON]
    forced = run_cli(s3_server, tmp_path, fixture_path(FIXTURE.name), "--out", out, *one_rung, "--force")
    assert forced.returncode == 0, forced.describe()
    after = bucket_files(s3_server, bucket, prefix)
    stale = sorted(k for k in after if k.startswith("480p/"))
    assert not stale, f"objects of the dropped 480p rung are still there: {stale}"
    check_manifest(s3_server, bucket, prefix, after)
    check_complete({k: v for k, v in after.items() if k != MANIFEST})
    master = after["master.m3u8"].decode()
    assert "480p/" not in master and "360p/" in master, master
    assert s3_server.keys(bucket) == sorted([f"{prefix}/{k}" for k in after] + list(neighbours)), \
        "objects outside PREFIX/ changed"
    assert {k: s3_server.get(bucket, k) for k in neighbours} == neighbours
    assert open_uploads(s3_server, bucket) == []


# ---------------------------------------------------------------------------
# 6. errors
# ---------------------------------------------------------------------------


def test_wrong_secret_is_77(s3_server, source_bucket, tmp_path):
    bucket = s3_server.make_bucket(unique_bucket_name("wrong-secret"))
    wrong = "wrongsecret" + s3_server.secret_key[::-1]
    token = "sessiontoken-" + os.urandom(16).hex()
    res = run_cli(s3_server, tmp_path, f"s3://{source_bucket}/{INPUT_KEY}", "--out", f"s3://{bucket}/set", *COMMON,
                  env={"AWS_SECRET_ACCESS_KEY": wrong, "AWS_SESSION_TOKEN": token})
    assert_error(res, 77, [wrong, token, s3_server.secret_key])
    assert_nothing_left(s3_server, bucket, "set")


def test_wrong_secret_for_the_output_only_is_77(s3_server, tmp_path):
    """A local input and a bucket output: refused with 77 before anything is encoded or uploaded."""
    bucket = s3_server.make_bucket(unique_bucket_name("wrong-secret-out"))
    wrong = "wrongsecret" + s3_server.secret_key[::-1]
    res = run_cli(s3_server, tmp_path, fixture_path(FIXTURE.name), "--out", f"s3://{bucket}/set", *COMMON,
                  env={"AWS_SECRET_ACCESS_KEY": wrong})
    assert_error(res, 77, [wrong, s3_server.secret_key])
    assert_nothing_left(s3_server, bucket, "set")


@pytest.mark.parametrize("what", ["missing-input-bucket", "missing-input-key", "not-media"])
def test_bad_input_object(s3_server, source_bucket, tmp_path, what):
    bucket = s3_server.make_bucket(unique_bucket_name(what))
    source, code = {
        "missing-input-bucket": (f"s3://no-such-bucket-{os.urandom(4).hex()}/{INPUT_KEY}", 66),
        "missing-input-key": (f"s3://{source_bucket}/uploads/no-such-clip.mp4", 66),
        "not-media": (f"s3://{source_bucket}/{NOT_MEDIA_KEY}", 65),
    }[what]
    res = run_cli(s3_server, tmp_path, source, "--out", f"s3://{bucket}/set", *COMMON)
    assert_error(res, code, secrets_of(s3_server))
    assert_nothing_left(s3_server, bucket, "set")
    assert s3_server.keys(source_bucket) == sorted([INPUT_KEY, NOT_MEDIA_KEY])


def test_missing_output_bucket_is_73(s3_server, tmp_path):
    name = f"no-such-output-{os.urandom(4).hex()}"
    res = run_cli(s3_server, tmp_path, fixture_path(FIXTURE.name), "--out", f"s3://{name}/set", *COMMON)
    assert_error(res, 73, secrets_of(s3_server))
    assert name not in [b["Name"] for b in s3_server.client.list_buckets()["Buckets"]], "the bucket was created"


def test_5xx_a_few_times_then_recovering(fault_proxy, reference, tmp_path):
    """500s on the first requests (listing), on two PUTs and on the master's PUT: retried, the set
    is complete and equal to the folder output."""
    bucket = fault_proxy.make_bucket(unique_bucket_name("flaky"))
    prefix = "flaky"
    fault_proxy.fail_5xx(2)
    fault_proxy.fail_5xx(2, match="PUT ")
    fault_proxy.fail_5xx(1, status=503, match=f"PUT /{bucket}/{prefix}/master.m3u8")
    res = run_cli(fault_proxy, tmp_path, fixture_path(FIXTURE.name), "--out", f"s3://{bucket}/{prefix}", *COMMON,
                  env=FAST_RETRIES)
    assert res.returncode == 0, res.describe()
    assert fault_proxy.faults_injected == 5 and fault_proxy.armed == [], \
        f"{fault_proxy.faults_injected} faults injected, still armed: {fault_proxy.armed}"
    files = bucket_files(fault_proxy, bucket, prefix)
    assert_same_files({k: v for k, v in files.items() if k != MANIFEST}, reference, "the set after 5xx answers")
    check_manifest(fault_proxy, bucket, prefix, files)
    assert open_uploads(fault_proxy, bucket) == []


FAILING_PUT = {"every-request": None, "media-playlist-put": "360p/index.m3u8", "master-put": "master.m3u8",
               "listing-put": MANIFEST}


@pytest.mark.parametrize("where", list(FAILING_PUT))
def test_5xx_for_ever_is_69(fault_proxy, tmp_path, where):
    """A server that keeps answering 500: to everything, or to the PUT of one object (a media
    playlist, the master, the listing: the segments are up by then, and the master too for the
    listing): 69 after HLSIFY_S3_RETRIES retries, and nothing of the run left under PREFIX."""
    bucket = fault_proxy.make_bucket(unique_bucket_name(f"down-{where}"))
    prefix = "down"
    retries = 2
    match = None if FAILING_PUT[where] is None else f"PUT /{bucket}/{prefix}/{FAILING_PUT[where]}"
    fault_proxy.fail_5xx(HOLD, match=match)
    res = run_cli(fault_proxy, tmp_path, fixture_path(FIXTURE.name), "--out", f"s3://{bucket}/{prefix}", *COMMON,
                  env={**FAST_RETRIES, "HLSIFY_S3_RETRIES": str(retries)})
    assert_error(res, 69, secrets_of(fault_proxy))
    if match is not None:
        refused = [e for e in fault_proxy.events if e.fault]
        assert len(refused) == retries + 1, \
            f"{len(refused)} attempts of the PUT of {FAILING_PUT[where]}, expected 1 + HLSIFY_S3_RETRIES={retries}"
        assert any(e.method == "PUT" and ".m4s" in e.target and not e.fault for e in fault_proxy.events), \
            f"no segment was uploaded before {FAILING_PUT[where]} (the clean-up was not put to the test)"
    assert_nothing_left(fault_proxy, bucket, prefix)


@pytest.mark.parametrize("retries", [None, 0], ids=["retried", "no-retries"])
def test_stalled_input_download(fault_proxy, reference, tmp_path, retries):
    """The input's GET stalls mid-body (the proxy sends 100 kB of it, then nothing). With
    HLSIFY_S3_STALL_SECONDS=2 the transfer is cut and retried: the set is the folder output's.
    With HLSIFY_S3_RETRIES=0: 69 and nothing under the output prefix."""
    source = fault_proxy.make_bucket(unique_bucket_name("stall-in"))
    fault_proxy.put(source, INPUT_KEY, fixture_path(FIXTURE.name))
    bucket = fault_proxy.make_bucket(unique_bucket_name("stall-out"))
    prefix = "stalled"
    fault_proxy.stall_body(100_000, match=f"GET /{source}/{INPUT_KEY}")
    env = {**FAST_RETRIES, "HLSIFY_S3_STALL_SECONDS": "2"}
    if retries is not None:
        env["HLSIFY_S3_RETRIES"] = str(retries)
    res = run_cli(fault_proxy, tmp_path, f"s3://{source}/{INPUT_KEY}", "--out", f"s3://{bucket}/{prefix}", *COMMON,
                  env=env)
    assert fault_proxy.stalls_started == 1, f"the input GET was not stalled ({fault_proxy.events})"
    if retries == 0:
        assert_error(res, 69, secrets_of(fault_proxy))
        assert_nothing_left(fault_proxy, bucket, prefix)
        return
    assert res.returncode == 0, res.describe()
    files = bucket_files(fault_proxy, bucket, prefix)
    assert_same_files({k: v for k, v in files.items() if k != MANIFEST}, reference, "the set after a stalled download")
    check_manifest(fault_proxy, bucket, prefix, files)
    assert open_uploads(fault_proxy, bucket) == []


@pytest.mark.parametrize("retries", [None, 0], ids=["retried", "no-retries"])
def test_connection_cut_during_a_multipart_part(fault_proxy, reference, tmp_path, retries):
    """Segments go up in 64 KiB parts; the proxy forwards 10 kB of one part, then resets both
    connections. Retried: the set is complete and equal to the folder output. With
    HLSIFY_S3_RETRIES=0: 69, no object and no open multipart upload."""
    bucket = fault_proxy.make_bucket(unique_bucket_name("cut"))
    prefix = "cut"
    fault_proxy.cut_upload(10_000, match="partNumber=2")
    env = {**FAST_RETRIES, **MULTIPART}
    if retries is not None:
        env["HLSIFY_S3_RETRIES"] = str(retries)
    res = run_cli(fault_proxy, tmp_path, fixture_path(FIXTURE.name), "--out", f"s3://{bucket}/{prefix}", *COMMON,
                  env=env)
    cut = [e for e in fault_proxy.events if e.fault]
    assert len(cut) == 1 and cut[0].method == "PUT", f"no part upload was cut: {[(e.method, e.target) for e in fault_proxy.events]}"
    if retries == 0:
        assert_error(res, 69, secrets_of(fault_proxy))
        assert_nothing_left(fault_proxy, bucket, prefix)
        return
    assert res.returncode == 0, res.describe()
    files = bucket_files(fault_proxy, bucket, prefix)
    assert_same_files({k: v for k, v in files.items() if k != MANIFEST}, reference, "the set after a cut part")
    check_manifest(fault_proxy, bucket, prefix, files)
    assert open_uploads(fault_proxy, bucket) == []


@pytest.mark.parametrize("limit", ["below", "equal"])
def test_max_input_bytes(fault_proxy, tmp_path, limit):
    """An input object larger than --max-input-bytes: 65, and its body never requested (HEAD or
    a listing may say how large it is). One exactly at the limit is accepted."""
    source = fault_proxy.make_bucket(unique_bucket_name("big-in"))
    fault_proxy.put(source, INPUT_KEY, fixture_path(SMALL))
    size = os.path.getsize(fixture_path(SMALL))
    bucket = fault_proxy.make_bucket(unique_bucket_name("big-out"))
    prefix = "big"
    max_bytes = size - 1 if limit == "below" else size
    res = run_cli(fault_proxy, tmp_path, f"s3://{source}/{INPUT_KEY}", "--out", f"s3://{bucket}/{prefix}",
                  "--max-input-bytes", str(max_bytes), "--ladder", "180p", "--preset", "ultrafast", "--quiet")
    if limit == "equal":
        assert res.returncode == 0, res.describe()
        assert "master.m3u8" in [k[len(prefix) + 1:] for k in fault_proxy.keys(bucket, prefix + "/")]
        return
    assert_error(res, 65, secrets_of(fault_proxy))
    gets = [e.target for e in fault_proxy.events if e.method == "GET" and urlsplit(e.target).path == f"/{source}/{INPUT_KEY}"]
    assert not gets, f"the input was requested although it is over --max-input-bytes: {gets}"
    assert_nothing_left(fault_proxy, bucket, prefix)


# ---------------------------------------------------------------------------
# 7. Ctrl-C
# ---------------------------------------------------------------------------


def test_ctrl_c_during_a_progressive_upload_cleans_up(fault_proxy, tmp_path):
    """--progressive to a bucket, segments in parts; the parts of the last video segment are held
    (500s, retried), so a multipart upload is open and playlists are up. SIGINT: exit 130, and
    everything the run uploaded is deleted, its open upload aborted."""
    bucket = fault_proxy.make_bucket(unique_bucket_name("ctrl-c"))
    prefix = "interrupted"
    held = "360p/segment-00002.m4s"
    fault_proxy.fail_5xx(HOLD, match=f"PUT /{bucket}/{prefix}/{held}?")
    run = Running(fault_proxy, tmp_path, fixture_path(FIXTURE.name), "--out", f"s3://{bucket}/{prefix}", *COMMON,
                  "--progressive", env={**FAST_RETRIES, **MULTIPART, "HLSIFY_S3_RETRIES": HOLD_RETRIES})
    try:
        run.wait_while_running(lambda: fault_proxy.faults_injected >= 1, f"a held part of {held}")

        def uploading():
            keys = [k[len(prefix) + 1:] for k in fault_proxy.keys(bucket, prefix + "/")]
            uploading_keys = [k for k, _ in open_uploads(fault_proxy, bucket)]
            playlists = [k for k in keys if k.endswith(".m3u8")]
            segments = [k for k in keys if k.endswith(".m4s")]
            return (keys, uploading_keys) if playlists and segments and uploading_keys else None

        keys, uploading_keys = run.wait_while_running(
            uploading, "segments, a playlist and an open multipart upload in the bucket")
        assert f"{prefix}/{held}" in uploading_keys, uploading_keys
        run.proc.send_signal(signal.SIGINT)
        res = run.finish()
    finally:
        run.kill()
    assert res.returncode == 130, f"expected exit 130 after SIGINT\n{res.describe()}"
    for secret in secrets_of(fault_proxy):
        assert secret not in res.stderr + res.stdout
    assert_nothing_left(fault_proxy, bucket, prefix)


def test_ctrl_c_during_a_stalled_input_download(fault_proxy, tmp_path):
    """The input's GET stalls mid-body (no stall timeout for minutes); SIGINT then: exit 130 at
    once, and nothing under the output prefix."""
    source = fault_proxy.make_bucket(unique_bucket_name("ctrl-c-in"))
    fault_proxy.put(source, INPUT_KEY, fixture_path(FIXTURE.name))
    bucket = fault_proxy.make_bucket(unique_bucket_name("ctrl-c-out"))
    prefix = "interrupted"
    fault_proxy.stall_body(100_000, match=f"GET /{source}/{INPUT_KEY}")
    run = Running(fault_proxy, tmp_path, f"s3://{source}/{INPUT_KEY}", "--out", f"s3://{bucket}/{prefix}", *COMMON,
                  env={"HLSIFY_S3_STALL_SECONDS": "600"})
    try:
        run.wait_while_running(lambda: fault_proxy.stalled_now == 1, "the input GET to stall")
        run.proc.send_signal(signal.SIGINT)
        res = run.finish(timeout=60)
    finally:
        run.kill()
    assert res.returncode == 130, f"expected exit 130 after SIGINT\n{res.describe()}"
    assert_nothing_left(fault_proxy, bucket, prefix)
