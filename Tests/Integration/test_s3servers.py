"""The S3 test harness itself (s3servers.py), checked with boto3 only: both servers start, take
and give back objects, refuse bad signatures, behave as s3servers' table says for the operations
the Swift client uses, and every FaultProxy mode does what it says. No hlsify binary needed.

Every wait is for an observed state (a counter of the proxy, an error the client raised); the
one time constant is the short read timeout of the client that must detect a stall.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
import threading

import pytest

from s3servers import FaultProxy, s3_client, wait_for

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError  # noqa: E402

pytestmark = pytest.mark.timeout(180)

MiB = 1024 * 1024


def error_code(excinfo) -> tuple[str, int]:
    e = excinfo.value
    return e.response["Error"].get("Code"), e.response["ResponseMetadata"]["HTTPStatusCode"]


def pattern(n: int, seed: int = 0) -> bytes:
    """n bytes that differ along the way (a cut or a shift would show)."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    return (block * (n // len(block) + 1))[:n]


# ---------------------------------------------------------------------------
# both servers
# ---------------------------------------------------------------------------


def test_server_starts_and_round_trips(s3_server, s3_bucket):
    assert s3_server.startup_seconds is not None
    env = s3_server.env()
    assert env == {"AWS_ACCESS_KEY_ID": s3_server.access_key, "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
                   "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": s3_server.endpoint}
    assert s3_server.endpoint.startswith("http://127.0.0.1:")

    body = pattern(100_000)
    etag = s3_server.put(s3_bucket, "set/720p/playlist.m3u8", body,
                         ContentType="application/vnd.apple.mpegurl", CacheControl="max-age=2")
    assert etag == f'"{hashlib.md5(body).hexdigest()}"'
    s3_server.put(s3_bucket, "set/master.m3u8", b"#EXTM3U\n")
    s3_server.put(s3_bucket, "other/x", b"x")

    assert s3_server.get(s3_bucket, "set/720p/playlist.m3u8") == body
    head = s3_server.head(s3_bucket, "set/720p/playlist.m3u8")
    assert (head["ContentType"], head["CacheControl"], head["ContentLength"]) == \
        ("application/vnd.apple.mpegurl", "max-age=2", len(body))
    assert s3_server.keys(s3_bucket, "set/") == ["set/720p/playlist.m3u8", "set/master.m3u8"]
    assert s3_server.keys(s3_bucket) == ["other/x", "set/720p/playlist.m3u8", "set/master.m3u8"]
    # a listing's ETag: rclone leaves out the quotes
    listed = s3_server.objects(s3_bucket, "set/720p/")["set/720p/playlist.m3u8"]
    assert listed["Size"] == len(body)
    assert listed["ETag"] == {"rclone": etag.strip('"'), "seaweedfs": etag}[s3_server.kind]

    # a file by path
    path = os.path.join(s3_server.workdir, "upload.bin")
    with open(path, "wb") as f:
        f.write(b"from a file")
    s3_server.put(s3_bucket, "file", path)
    assert s3_server.get(s3_bucket, "file") == b"from a file"


def test_listing_pages(s3_server, s3_bucket):
    c = s3_server.client
    for i in range(5):
        s3_server.put(s3_bucket, f"p/{i}", b"x")
    first = c.list_objects_v2(Bucket=s3_bucket, Prefix="p/", MaxKeys=2)
    assert first["IsTruncated"] and [o["Key"] for o in first["Contents"]] == ["p/0", "p/1"]
    second = c.list_objects_v2(Bucket=s3_bucket, Prefix="p/", MaxKeys=2, ContinuationToken=first["NextContinuationToken"])
    assert [o["Key"] for o in second["Contents"]] == ["p/2", "p/3"]
    top = c.list_objects_v2(Bucket=s3_bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["p/"]


def test_bad_credentials_are_refused(s3_server, s3_bucket):
    s3_server.put(s3_bucket, "k", b"original")
    wrong_secret = s3_client(s3_server.endpoint, s3_server.access_key, "not-the-secret", max_attempts=1)
    with pytest.raises(ClientError) as e:
        wrong_secret.put_object(Bucket=s3_bucket, Key="k", Body=b"evil")
    assert error_code(e) == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as e:
        wrong_secret.list_objects_v2(Bucket=s3_bucket)
    assert error_code(e) == ("SignatureDoesNotMatch", 403)

    unknown_key = s3_client(s3_server.endpoint, "nosuchkey", s3_server.secret_key, max_attempts=1)
    with pytest.raises(ClientError) as e:
        unknown_key.get_object(Bucket=s3_bucket, Key="k")
    assert error_code(e) == ("InvalidAccessKeyId", 403)

    from botocore import UNSIGNED
    from botocore.config import Config
    anonymous = boto3.client("s3", endpoint_url=s3_server.endpoint, region_name="us-east-1",
                             config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"},
                                           retries={"max_attempts": 1, "mode": "standard"}))
    with pytest.raises(ClientError) as e:
        anonymous.get_object(Bucket=s3_bucket, Key="k")
    expected = {"rclone": ("UnsupportedAlgorithm", 400), "seaweedfs": ("AccessDenied", 403)}[s3_server.kind]
    assert error_code(e) == expected

    assert s3_server.get(s3_bucket, "k") == b"original"


def test_region_is_not_checked(s3_server, s3_bucket):
    """Neither server checks the region in the credential scope: AWS_REGION cannot be tested
    against them beyond its reaching the signature."""
    for region in ("eu-west-1", "xx-nowhere-9"):
        c = s3_client(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, region=region, max_attempts=1)
        c.put_object(Bucket=s3_bucket, Key=region, Body=b"r")
    assert s3_server.keys(s3_bucket) == ["eu-west-1", "xx-nowhere-9"]


def test_missing_bucket_is_refused(s3_server):
    with pytest.raises(ClientError) as e:
        s3_server.client.put_object(Bucket="no-such-bucket-here", Key="k", Body=b"x")
    assert error_code(e) == ("NoSuchBucket", 404)
    assert "no-such-bucket-here" not in [b["Name"] for b in s3_server.client.list_buckets()["Buckets"]]


def test_copy_delete_and_range(s3_server, s3_bucket):
    c = s3_server.client
    body = pattern(300_000, seed=1)
    s3_server.put(s3_bucket, "src", body, ContentType="video/mp4")

    c.copy_object(Bucket=s3_bucket, Key="dst", CopySource={"Bucket": s3_bucket, "Key": "src"})
    assert s3_server.get(s3_bucket, "dst") == body
    assert s3_server.head(s3_bucket, "dst")["ContentType"] == "video/mp4"
    c.copy_object(Bucket=s3_bucket, Key="dst2", CopySource={"Bucket": s3_bucket, "Key": "src"},
                  MetadataDirective="REPLACE", ContentType="text/plain")
    assert s3_server.head(s3_bucket, "dst2")["ContentType"] == "text/plain"

    r = c.get_object(Bucket=s3_bucket, Key="src", Range="bytes=1000-1999")
    assert r["Body"].read() == body[1000:2000]
    assert r["ContentRange"] == f"bytes 1000-1999/{len(body)}"
    # rclone answers a range with 200 (and the right Content-Range), SeaweedFS with 206
    assert r["ResponseMetadata"]["HTTPStatusCode"] == {"rclone": 200, "seaweedfs": 206}[s3_server.kind]

    deleted = c.delete_objects(Bucket=s3_bucket, Delete={"Objects": [{"Key": "dst"}, {"Key": "dst2"}, {"Key": "absent"}]})
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["absent", "dst", "dst2"]
    assert not deleted.get("Errors")
    assert s3_server.keys(s3_bucket) == ["src"]


def test_multipart_uploads(s3_server, s3_bucket):
    c = s3_server.client
    parts = [pattern(5 * MiB, seed=2), pattern(123, seed=3)]
    upload = c.create_multipart_upload(Bucket=s3_bucket, Key="seg.m4s", ContentType="video/mp4")["UploadId"]
    assert [(u["Key"], u["UploadId"]) for u in s3_server.list_multipart_uploads(s3_bucket)] == [("seg.m4s", upload)]
    etags = [c.upload_part(Bucket=s3_bucket, Key="seg.m4s", UploadId=upload, PartNumber=i, Body=p)["ETag"]
             for i, p in enumerate(parts, 1)]
    done = c.complete_multipart_upload(Bucket=s3_bucket, Key="seg.m4s", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": i, "ETag": e} for i, e in enumerate(etags, 1)]})
    multipart_etag = '"' + hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + '-2"'
    assert done["ETag"] == multipart_etag
    assert s3_server.get(s3_bucket, "seg.m4s") == b"".join(parts)
    assert s3_server.head(s3_bucket, "seg.m4s")["ContentType"] == "video/mp4"
    assert s3_server.list_multipart_uploads(s3_bucket) == []
    # what HEAD says afterwards: rclone the whole content's MD5, SeaweedFS the multipart ETag
    whole = f'"{hashlib.md5(b"".join(parts)).hexdigest()}"'
    assert s3_server.head(s3_bucket, "seg.m4s")["ETag"] == {"rclone": whole, "seaweedfs": multipart_etag}[s3_server.kind]

    # abort
    upload = c.create_multipart_upload(Bucket=s3_bucket, Key="aborted")["UploadId"]
    c.upload_part(Bucket=s3_bucket, Key="aborted", UploadId=upload, PartNumber=1, Body=b"x" * 1000)
    assert [u["UploadId"] for u in s3_server.list_multipart_uploads(s3_bucket)] == [upload]
    c.abort_multipart_upload(Bucket=s3_bucket, Key="aborted", UploadId=upload)
    assert s3_server.list_multipart_uploads(s3_bucket) == []
    assert "aborted" not in s3_server.keys(s3_bucket)
    with pytest.raises(ClientError) as e:
        c.abort_multipart_upload(Bucket=s3_bucket, Key="aborted", UploadId="no-such-upload")
    assert error_code(e) == ("NoSuchUpload", 404)
    # aborting the same upload again: rclone NoSuchUpload, SeaweedFS 204 (aborting is idempotent there)
    if s3_server.kind == "rclone":
        with pytest.raises(ClientError) as e:
            c.abort_multipart_upload(Bucket=s3_bucket, Key="aborted", UploadId=upload)
        assert error_code(e) == ("NoSuchUpload", 404)
    else:
        c.abort_multipart_upload(Bucket=s3_bucket, Key="aborted", UploadId=upload)


def test_minimum_part_size(s3_server, s3_bucket):
    """rclone completes an upload of 1 KiB parts; SeaweedFS enforces S3's 5 MiB minimum for all
    but the last part (EntityTooSmall at completion, the upload stays open)."""
    c = s3_server.client
    upload = c.create_multipart_upload(Bucket=s3_bucket, Key="small")["UploadId"]
    parts = [{"PartNumber": i, "ETag": c.upload_part(Bucket=s3_bucket, Key="small", UploadId=upload, PartNumber=i,
                                                      Body=bytes([i]) * 1024)["ETag"]} for i in (1, 2)]
    if s3_server.kind == "rclone":
        c.complete_multipart_upload(Bucket=s3_bucket, Key="small", UploadId=upload, MultipartUpload={"Parts": parts})
        assert s3_server.get(s3_bucket, "small") == b"\x01" * 1024 + b"\x02" * 1024
    else:
        with pytest.raises(ClientError) as e:
            c.complete_multipart_upload(Bucket=s3_bucket, Key="small", UploadId=upload, MultipartUpload={"Parts": parts})
        assert error_code(e) == ("EntityTooSmall", 400)
        assert [u["UploadId"] for u in s3_server.list_multipart_uploads(s3_bucket)] == [upload]
        c.abort_multipart_upload(Bucket=s3_bucket, Key="small", UploadId=upload)
    assert s3_server.list_multipart_uploads(s3_bucket) == []


def test_signed_requests_pass_through_a_proxy(s3_server, s3_bucket):
    """The client signs for the proxy's host:port; the proxy forwards that Host; both servers
    check the signature against the Host they receive, so it holds."""
    with FaultProxy(s3_server) as proxy:
        c = proxy.boto3(max_attempts=1)
        c.put_object(Bucket=s3_bucket, Key="a", Body=b"through the proxy")
        assert s3_server.get(s3_bucket, "a") == b"through the proxy"
        assert c.get_object(Bucket=s3_bucket, Key="a")["Body"].read() == b"through the proxy"
        assert [e.headers["host"] for e in proxy.events] == [f"127.0.0.1:{proxy.port}"] * 2


# ---------------------------------------------------------------------------
# rclone specifics
# ---------------------------------------------------------------------------


def test_rclone_objects_are_plain_files(rclone_s3):
    bucket = rclone_s3.make_bucket()
    assert os.path.isdir(os.path.join(rclone_s3.data_dir, bucket))
    rclone_s3.put(bucket, "720p/segment-00000.m4s", b"segment")
    with open(os.path.join(rclone_s3.data_dir, bucket, "720p", "segment-00000.m4s"), "rb") as f:
        assert f.read() == b"segment"
    # with a 1 s directory cache, a bucket made by mkdir and a file written in place show soon
    os.makedirs(os.path.join(rclone_s3.data_dir, "made-by-mkdir", "in"), exist_ok=True)
    with open(os.path.join(rclone_s3.data_dir, "made-by-mkdir", "in", "clip.mp4"), "wb") as f:
        f.write(b"clip")
    def listed():
        try:
            return rclone_s3.keys("made-by-mkdir")
        except Exception:  # NoSuchBucket until rclone's directory cache expires
            return None

    deadline = time.monotonic() + 30
    while listed() != ["in/clip.mp4"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert rclone_s3.keys("made-by-mkdir") == ["in/clip.mp4"]
    assert rclone_s3.get("made-by-mkdir", "in/clip.mp4") == b"clip"


# ---------------------------------------------------------------------------
# the fault proxy (in front of rclone)
# ---------------------------------------------------------------------------


def test_proxy_passes_everything(fault_proxy):
    bucket = fault_proxy.make_bucket()
    c = fault_proxy.boto3(max_attempts=1)
    assert fault_proxy.env()["AWS_ENDPOINT_URL"] == fault_proxy.endpoint
    body = pattern(3 * MiB, seed=4)
    c.put_object(Bucket=bucket, Key="bytes", Body=body)
    c.put_object(Bucket=bucket, Key="file-like", Body=io.BytesIO(body))  # boto3 sends Expect: 100-continue
    assert c.get_object(Bucket=bucket, Key="file-like")["Body"].read() == body
    big = pattern(11 * MiB, seed=5)
    c.upload_fileobj(io.BytesIO(big), bucket, "multipart", Config=boto3.s3.transfer.TransferConfig(
        multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=1))
    assert fault_proxy.get(bucket, "multipart") == big
    assert c.list_objects_v2(Bucket=bucket)["KeyCount"] == 3

    methods = [(e.method, e.fault) for e in fault_proxy.events]
    assert methods == [("PUT", None), ("PUT", None), ("GET", None), ("POST", None), ("PUT", None), ("PUT", None),
                       ("PUT", None), ("POST", None), ("GET", None)]
    assert any(e.headers.get("expect") == "100-continue" for e in fault_proxy.events)
    assert fault_proxy.requests_seen == 9 and fault_proxy.faults_injected == 0
    assert fault_proxy.connections_accepted < fault_proxy.requests_seen  # keep-alive


def test_proxy_fail_5xx_then_recovers(fault_proxy):
    bucket = fault_proxy.make_bucket()
    c = fault_proxy.boto3(max_attempts=1)
    fault_proxy.fail_5xx(2)
    for attempt in range(2):
        with pytest.raises(ClientError) as e:
            c.put_object(Bucket=bucket, Key="k", Body=b"v")
        assert error_code(e) == ("InternalError", 500)
    assert fault_proxy.keys(bucket) == []  # the server never saw them
    c.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert fault_proxy.get(bucket, "k") == b"v"
    assert (fault_proxy.requests_seen, fault_proxy.faults_injected) == (3, 2)
    assert [e.fault for e in fault_proxy.events] == ["fail_5xx 500", "fail_5xx 500", None]

    # a 503 to a client that waits for 100-continue, and a client that retries through it
    fault_proxy.fail_5xx(1, status=503)
    with pytest.raises(ClientError) as e:
        c.put_object(Bucket=bucket, Key="file-like", Body=io.BytesIO(b"w" * 100_000))
    assert error_code(e) == ("ServiceUnavailable", 503)
    fault_proxy.fail_5xx(2, match="GET")
    retrying = fault_proxy.boto3(max_attempts=3)
    assert retrying.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    assert fault_proxy.faults_injected == 5 and fault_proxy.armed == []
    assert [e.fault for e in fault_proxy.events[-3:]] == ["fail_5xx 500", "fail_5xx 500", None]


def test_proxy_stall_is_seen_by_a_client_with_a_read_timeout(fault_proxy):
    bucket = fault_proxy.make_bucket()
    body = pattern(1 * MiB, seed=6)
    fault_proxy.put(bucket, "seg", body)
    fault_proxy.stall_body(10_000)
    # short, but not so short that a busy server's answer to the GET itself would miss it
    c = fault_proxy.boto3(max_attempts=1, read_timeout=3)
    r = c.get_object(Bucket=bucket, Key="seg")  # the head comes through
    assert r["ContentLength"] == len(body)
    assert r["Body"].read(10_000) == body[:10_000]
    with pytest.raises(ReadTimeoutError):
        r["Body"].read()
    r["Body"].close()
    wait_for(lambda: fault_proxy.stalls_ended == 1, 30, "the proxy to see the client give up")
    assert fault_proxy.stalls_started == 1 and fault_proxy.stalled_now == 0
    # one stall only: the next GET is whole
    assert c.get_object(Bucket=bucket, Key="seg")["Body"].read() == body


def test_proxy_reset_releases_a_stall(fault_proxy):
    bucket = fault_proxy.make_bucket()
    fault_proxy.put(bucket, "seg", pattern(200_000, seed=7))
    fault_proxy.stall_body(100, match="/seg")
    c = fault_proxy.boto3(max_attempts=1, read_timeout=120)
    outcome = {}

    def read():
        try:
            outcome["data"] = c.get_object(Bucket=bucket, Key="seg")["Body"].read()
        except Exception as e:  # the body ends short when the proxy lets go
            outcome["error"] = e

    t = threading.Thread(target=read)
    t.start()
    wait_for(lambda: fault_proxy.stalled_now == 1, 30, "the GET to be stalled")
    fault_proxy.reset()
    t.join(60)
    assert not t.is_alive()
    assert "error" in outcome, f"the body was read whole ({len(outcome.get('data', b''))} bytes) despite the stall"
    assert isinstance(outcome["error"], (BotoCoreError, ClientError, OSError)) or "IncompleteRead" in repr(outcome["error"])
    wait_for(lambda: fault_proxy.stalls_ended == 1, 30, "the proxy to let go of the stalled connection")


def test_proxy_cut_upload_leaves_an_open_multipart_upload(fault_proxy):
    bucket = fault_proxy.make_bucket()
    c = fault_proxy.boto3(max_attempts=1)
    part1, part2 = pattern(5 * MiB, seed=8), pattern(MiB, seed=9)
    upload = c.create_multipart_upload(Bucket=bucket, Key="big.m4s")["UploadId"]
    fault_proxy.cut_upload(64 * 1024)
    with pytest.raises((BotoCoreError, ClientError)):
        c.upload_part(Bucket=bucket, Key="big.m4s", UploadId=upload, PartNumber=1, Body=part1)
    assert fault_proxy.events[-1].fault == "cut_upload 65536"
    assert [u["UploadId"] for u in fault_proxy.list_multipart_uploads(bucket)] == [upload]
    assert fault_proxy.keys(bucket) == []

    # the proxy passes again; rclone takes the part again and the upload completes whole
    e1 = c.upload_part(Bucket=bucket, Key="big.m4s", UploadId=upload, PartNumber=1, Body=part1)["ETag"]
    e2 = c.upload_part(Bucket=bucket, Key="big.m4s", UploadId=upload, PartNumber=2, Body=part2)["ETag"]
    c.complete_multipart_upload(Bucket=bucket, Key="big.m4s", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert fault_proxy.get(bucket, "big.m4s") == part1 + part2
    assert fault_proxy.list_multipart_uploads(bucket) == []


def test_proxy_cut_then_abort(fault_proxy):
    bucket = fault_proxy.make_bucket()
    c = fault_proxy.boto3(max_attempts=1)
    upload = c.create_multipart_upload(Bucket=bucket, Key="x")["UploadId"]
    fault_proxy.cut_upload(1000, match=f"uploadId={upload}")
    with pytest.raises((BotoCoreError, ClientError)):
        c.upload_part(Bucket=bucket, Key="x", UploadId=upload, PartNumber=1, Body=io.BytesIO(pattern(2 * MiB)))
    assert [u["UploadId"] for u in fault_proxy.list_multipart_uploads(bucket)] == [upload]
    c.abort_multipart_upload(Bucket=bucket, Key="x", UploadId=upload)
    assert fault_proxy.list_multipart_uploads(bucket) == []
    assert fault_proxy.keys(bucket) == []


def test_proxy_framing_chunked_and_keep_alive():
    """Chunked request and response bodies and several requests on one connection, against a
    plain HTTP/1.1 upstream (no S3 needed)."""
    import http.client
    import http.server
    import types

    class Echo(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_PUT(self):
            if self.headers.get("Transfer-Encoding") == "chunked":
                data = b""
                while (size := int(self.rfile.readline().strip(), 16)) > 0:
                    data += self.rfile.read(size)
                    self.rfile.readline()
                self.rfile.readline()
            else:
                data = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"got ", str(len(data)).encode()):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")

    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    stub = types.SimpleNamespace(host="127.0.0.1", port=upstream.server_address[1])
    try:
        with FaultProxy(stub) as proxy:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
            conn.request("PUT", "/a", body=iter([b"abc", b"defg"]), encode_chunked=True)
            assert conn.getresponse().read() == b"got 7"
            conn.request("PUT", "/b", body=b"12345")
            assert conn.getresponse().read() == b"got 5"
            proxy.fail_5xx(1, match="/c")
            conn.request("PUT", "/c", body=iter([b"x" * 1000]), encode_chunked=True)
            answer = conn.getresponse()
            assert answer.status == 500 and b"<Code>InternalError</Code>" in answer.read()
            assert answer.getheader("Connection") == "close"
            conn.close()
            assert [(e.method, e.target, e.fault) for e in proxy.events] == \
                [("PUT", "/a", None), ("PUT", "/b", None), ("PUT", "/c", "fail_5xx 500")]
            assert proxy.connections_accepted == 1
    finally:
        upstream.shutdown()
        upstream.server_close()
