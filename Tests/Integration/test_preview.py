"""`hlsify preview DIR`: the HTTP server checked with plain HTTP (urllib and raw sockets), and
its page played by headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

The outputs are made here from a 12 s 720p clip (long enough to watch playback advance for
several seconds in real time), in both segment formats, with the English SRT fixture as a
subtitle rendition. Every server and browser started here is stopped by a finalizer.
"""

from __future__ import annotations

import http.client
import os
import re
import select
import selectors
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Optional

import m3u8
import pytest

from http_probes import Timed, exchange, send_oversized, time_to_disconnect
import hlscheck as h
from conftest import expected_rungs, fixture_path, hlsify_bin, run_hlsify

SRT = fixture_path("lecture.en.srt")
SRT_CUES = 7  # cues in lecture.en.srt
CLIP_SECONDS = 12
URL_LINE = re.compile(r"^http://127\.0\.0\.1:(\d+)/$")
SECRET = "TOP-SECRET-outside-the-folder"
HIDDEN = "TOP-SECRET-hidden-inside-the-folder"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


# ---------------------------------------------------------------------------
# outputs to serve
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> str:
    """A 12 s 1280x720 30 fps clip with stereo AAC (the fixtures are 5 s: too short to see
    several seconds of playback after the player has started)."""
    path = str(tmp_path_factory.mktemp("preview-clip") / "lecture-12s.mp4")
    h.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={CLIP_SECONDS}",
           "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={CLIP_SECONDS}",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "60",
           "-c:a", "aac", "-b:a", "96k", "-ac", "2", path], timeout=120)
    return path


@pytest.fixture(scope="module")
def outputs(clip, tmp_path_factory) -> dict[str, str]:
    """fmt -> an hlsify output folder of the clip with English subtitles. Beside each folder:
    secret.txt and .hidden-secret.txt, which the server must never hand out (escape.txt and
    hidden-outside.txt inside link to them). Inside: hidden files (.env, .git/config) and plain
    names linking to them (env.txt, gitconfig.txt, repo -> .git), which must not be served either."""
    made = {}
    for fmt in ("fmp4", "ts"):
        parent = tmp_path_factory.mktemp(f"preview-{fmt}")
        out = str(parent / "lecture")
        res = run_hlsify(clip, "--out", out, "--segment-format", fmt, "--segment-duration", "2",
                         "--preset", "superfast", "--subtitles", f"en={SRT}", "--quiet")
        assert res.returncode == 0, res.describe()
        (parent / "secret.txt").write_text(SECRET)
        os.symlink(str(parent / "secret.txt"), os.path.join(out, "escape.txt"))
        os.symlink("..", os.path.join(out, "up"))
        (parent / ".hidden-secret.txt").write_text(SECRET)
        os.symlink(str(parent / ".hidden-secret.txt"), os.path.join(out, "hidden-outside.txt"))
        os.mkdir(os.path.join(out, ".git"))
        for rel in (".env", ".git/config"):
            with open(os.path.join(out, rel), "w") as f:
                f.write(HIDDEN)
        os.symlink(".env", os.path.join(out, "env.txt"))
        os.symlink(".git/config", os.path.join(out, "gitconfig.txt"))
        os.symlink(os.path.join(out, ".git"), os.path.join(out, "repo"))
        made[fmt] = out
    return made


def master_of(folder: str) -> m3u8.M3U8:
    return m3u8.load(os.path.join(folder, "master.m3u8"))


def rate_text(bps: int) -> str:
    """A bit rate as the page writes it: "2.72 Mb/s" from 1 Mb/s up, "817 kb/s" below (the auto
    ladder's 360p and 240p rungs)."""
    return "%.2f Mb/s" % (bps / 1e6) if bps >= 1_000_000 else "%.0f kb/s" % (bps / 1e3)


def rung_sizes(folder: str) -> set[str]:
    return {"%dx%d" % v.stream_info.resolution for v in master_of(folder).playlists}


# ---------------------------------------------------------------------------
# the server process
# ---------------------------------------------------------------------------


class Server:
    """A running `hlsify preview`: its URL once printed, stderr in a file."""

    def __init__(self, folder: str, log_path: str, *args: str):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([hlsify_bin(), "preview", folder, "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL, text=True)
        self.url = self._read_url(timeout=15)
        self.port = int(URL_LINE.match(self.url).group(1))

    def _read_url(self, timeout: float) -> str:
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        ready = sel.select(timeout)
        sel.close()
        if not ready:
            self.kill()
            pytest.fail(f"hlsify preview printed no URL within {timeout}s; stderr:\n{self.stderr()}")
        line = self.proc.stdout.readline().rstrip("\n")
        if not URL_LINE.match(line):
            self.kill()
            pytest.fail(f"first stdout line is not the URL: {line!r}; stderr:\n{self.stderr()}")
        return line

    def stderr(self) -> str:
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout: float = 10) -> Optional[int]:
        """Sends `sig` and waits; None when it had to be killed."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def close(self) -> None:
        self.kill()
        self.proc.stdout.close()
        self.log.close()


@pytest.fixture
def serve(tmp_path):
    """serve(folder, *args) -> Server; every server started is stopped after the test."""
    servers = []

    def start(folder: str, *args: str) -> Server:
        s = Server(folder, str(tmp_path / f"preview-{len(servers)}.log"), *args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


@pytest.fixture
def fmp4_server(outputs, serve) -> Server:
    return serve(outputs["fmp4"])


# ---------------------------------------------------------------------------
# HTTP helpers
# ---------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lowercased names
    body: bytes


def fetch(url: str, method: str = "GET", headers: Optional[dict] = None, timeout: float = 10) -> Reply:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Reply(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def raw(port: int, request: bytes, timeout: float = 10) -> Reply:
    """Sends bytes as they are (no client-side path normalisation) and reads to EOF."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0])
    assert m, f"not an HTTP/1.1 status line: {lines[0]!r}"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(int(m.group(1)), headers, body)


def get_raw(port: int, target: str) -> Reply:
    return raw(port, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1"))


def file_bytes(folder: str, rel: str) -> bytes:
    with open(os.path.join(folder, rel), "rb") as f:
        return f.read()


def first_segment(folder: str, rung: str) -> str:
    pl = m3u8.load(os.path.join(folder, rung, "index.m3u8"))
    return f"{rung}/{pl.segments[0].uri}"


# ---------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------


class PageParser(HTMLParser):
    """Collects the video, its tracks, table rows (with their data- attributes and cell
    texts) per table id, and every src/href."""

    def __init__(self):
        super().__init__()
        self.video = None
        self.tracks: list[dict] = []
        self.rows: dict[str, list[dict]] = {}
        self.refs: list[str] = []
        self.scripts = 0
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if a.get(key) is not None:
                self.refs.append(a[key])
        if tag == "video":
            self.video = a
        elif tag == "track":
            self.tracks.append(a)
        elif tag == "script":
            self.scripts += 1
        elif tag == "table":
            self._table = a.get("id")
            self.rows[self._table] = []
        elif tag == "tr" and self._table:
            self._row = {"data": {k[5:]: v for k, v in attrs if k.startswith("data-")}, "cells": []}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row["cells"].append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row["data"]:  # header rows carry no data attributes
                self.rows[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None


def parse_page(html: str) -> PageParser:
    p = PageParser()
    p.feed(html)
    return p


def test_prints_the_url_and_serves_the_page_listing_every_rendition(outputs, fmp4_server):
    folder = outputs["fmp4"]
    r = fetch(fmp4_server.url)
    assert r.status == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    assert int(r.headers["content-length"]) == len(r.body)
    html = r.body.decode()
    assert fetch(fmp4_server.url + "index.html").body.decode() == html
    page = parse_page(html)

    # The native player: no hls.js, nothing fetched from another origin.
    assert page.video is not None
    assert page.video["id"] == "player" and page.video["src"] == "master.m3u8"
    for flag in ("controls", "muted", "autoplay", "playsinline"):
        assert flag in page.video, f"<video> lacks {flag}: {page.video}"
    assert "hls.js" not in html.lower() and "<script src" not in html
    external = [ref for ref in page.refs if re.match(r"^[a-z][a-z0-9+.-]*:", ref, re.I) and not ref.startswith("data:")]
    assert external == [], f"the page refers elsewhere: {external}"
    assert page.scripts == 1

    master = master_of(folder)
    # The default ladder (auto) on a 720p source: 720p, 480p, 360p and 240p.
    want = expected_rungs(1280, 720)
    assert sorted((min(v.stream_info.resolution) for v in master.playlists), reverse=True) == want, \
        f"rendition sizes {sorted(rung_sizes(folder))}, expected the short sides {want}"
    rows = {row["data"]["uri"]: row for row in page.rows.get("variants", [])}
    assert set(rows) == {v.uri for v in master.playlists}
    for v in master.playlists:
        row = rows[v.uri]
        w, hgt = v.stream_info.resolution
        assert row["data"]["resolution"] == f"{w}x{hgt}"
        cells = " | ".join(row["cells"])
        assert f"{w}×{hgt}" in cells
        assert rate_text(v.stream_info.bandwidth) in cells, cells
        assert ", ".join(c.strip() for c in v.stream_info.codecs.split(",")) in cells
        assert "%g" % v.stream_info.frame_rate in row["cells"], cells

    audio = [m for m in master.media if m.type == "AUDIO"]
    subs = [m for m in master.media if m.type == "SUBTITLES"]
    assert [row["data"]["uri"] for row in page.rows.get("audio", [])] == [m.uri for m in audio]
    assert [row["data"]["uri"] for row in page.rows.get("subtitles", [])] == [m.uri for m in subs] == ["subtitles/en/index.m3u8"]
    assert [row["data"]["uri"] for row in page.rows.get("iframes", [])] == [i.uri for i in master.iframe_playlists]
    assert len(master.iframe_playlists) == len(want)

    # One <track> per subtitle rendition with a sidecar file, the first one default.
    assert page.tracks == [{"kind": "subtitles", "src": "subtitles/en.vtt", "srclang": "en", "label": "English",
                            "default": None}]
    assert [row["data"]["src"] for row in page.rows.get("texttracks", [])] == ["subtitles/en.vtt"]
    # Every link on the page leads to a file the server has.
    for ref in page.refs:
        if not ref.startswith("data:") and ref != "master.m3u8":
            assert fetch(fmp4_server.url + ref, method="HEAD").status == 200, ref


def test_page_without_subtitles_has_no_tracks(outputs, serve, tmp_path):
    """A folder whose sidecar is missing gets no <track> (the rendition is still listed)."""
    import shutil
    folder = str(tmp_path / "copy")
    shutil.copytree(outputs["fmp4"], folder, symlinks=True)
    os.remove(os.path.join(folder, "subtitles", "en.vtt"))
    page = parse_page(fetch(serve(folder).url).body.decode())
    assert page.tracks == []
    assert len(page.rows.get("subtitles", [])) == 1


# ---------------------------------------------------------------------------
# files: types, lengths, ranges, HEAD
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["fmp4", "ts"])
def test_files_come_with_their_type_length_and_caching(outputs, serve, fmt):
    folder = outputs[fmt]
    server = serve(folder)
    segment = first_segment(folder, "720p")
    expected = {
        "master.m3u8": "application/vnd.apple.mpegurl",
        "720p/index.m3u8": "application/vnd.apple.mpegurl",
        "720p/iframes.m3u8": "application/vnd.apple.mpegurl",
        "audio/index.m3u8": "application/vnd.apple.mpegurl",
        "subtitles/en/index.m3u8": "application/vnd.apple.mpegurl",
        segment: "video/mp4" if fmt == "fmp4" else "video/mp2t",
        "subtitles/en.vtt": "text/vtt; charset=utf-8",
    }
    if fmt == "fmp4":
        expected["720p/init.mp4"] = "video/mp4"
    for rel, ctype in expected.items():
        r = fetch(server.url + rel)
        assert r.status == 200, rel
        assert r.headers["content-type"] == ctype, rel
        assert r.body == file_bytes(folder, rel), rel
        assert int(r.headers["content-length"]) == len(r.body)
        assert r.headers["accept-ranges"] == "bytes"
        if rel.endswith(".m3u8"):
            assert r.headers["cache-control"] == "no-cache", rel
        else:
            assert "cache-control" not in r.headers, rel


def test_ranges(outputs, fmp4_server):
    folder = outputs["fmp4"]
    rel = first_segment(folder, "720p")
    data = file_bytes(folder, rel)
    size = len(data)
    assert size > 100_000, "a segment big enough to need several chunks"
    url = fmp4_server.url + rel
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=100-": (100, size - 1),
        "bytes=-50": (size - 50, size - 1),
        f"bytes={size - 10}-{size + 1000}": (size - 10, size - 1),
        "bytes=70000-200000": (70000, min(200000, size - 1)),
    }
    for spec, (first, last) in cases.items():
        r = fetch(url, headers={"Range": spec})
        assert r.status == 206, spec
        assert r.headers["content-range"] == f"bytes {first}-{last}/{size}", spec
        assert int(r.headers["content-length"]) == last - first + 1
        assert r.body == data[first:last + 1], spec
    for spec in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}", "bytes=-0"):
        r = fetch(url, headers={"Range": spec})
        assert r.status == 416, spec
        assert r.headers["content-range"] == f"bytes */{size}", spec
    # Malformed or multiple ranges: the whole file.
    for spec in ("bytes=5-1", "lines=0-1", "bytes=0-1,5-6"):
        r = fetch(url, headers={"Range": spec})
        assert r.status == 200 and r.body == data, spec


def test_head_gives_the_headers_of_get_and_no_body(outputs, fmp4_server):
    folder = outputs["fmp4"]
    rel = first_segment(folder, "480p")
    size = len(file_bytes(folder, rel))
    req = (f"HEAD /{rel} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").encode()
    r = raw(fmp4_server.port, req)
    assert r.status == 200
    assert int(r.headers["content-length"]) == size
    assert r.headers["content-type"] == "video/mp4"
    assert r.body == b""
    r = raw(fmp4_server.port, f"HEAD /{rel} HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=10-19\r\nConnection: close\r\n\r\n".encode())
    assert r.status == 206 and r.headers["content-range"] == f"bytes 10-19/{size}" and r.body == b""
    r = raw(fmp4_server.port, b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert r.status == 200 and int(r.headers["content-length"]) > 1000 and r.body == b""


def test_missing_files_other_methods_and_malformed_requests(fmp4_server):
    port = fmp4_server.port
    assert fetch(fmp4_server.url + "720p/segment-99999.m4s").status == 404
    assert fetch(fmp4_server.url + "720p").status == 404  # a folder is not a file
    assert fetch(fmp4_server.url + "720p/").status == 404
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        r = fetch(fmp4_server.url + "master.m3u8", method=method)
        assert r.status == 405, method
        assert r.headers["allow"] == "GET, HEAD"
    r = raw(port, b"POST /master.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
    assert r.status == 405
    for bad in (b"GARBAGE\r\n\r\n", b"GET /\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n folded\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"):
        r = raw(port, bad)
        assert r.status == 400, bad
        assert r.headers["connection"] == "close"
    assert raw(port, b"GET / HTTP/3.0\r\nHost: 127.0.0.1\r\n\r\n").status == 505
    # A head larger than 16 KiB is refused without waiting for its end.
    r = raw(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20000)
    assert r.status == 431
    # HTTP/1.0 without Host is fine.
    r = raw(port, b"GET /master.m3u8 HTTP/1.0\r\n\r\n")
    assert r.status == 200 and r.headers["connection"] == "close"


# ---------------------------------------------------------------------------
# never outside the folder
# ---------------------------------------------------------------------------


def test_nothing_outside_the_folder_is_served(outputs, fmp4_server):
    folder = outputs["fmp4"]
    secret_path = os.path.join(os.path.dirname(folder), "secret.txt")
    attempts = [
        "/../secret.txt", "/720p/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
        "/720p/%2e%2e%2f%2e%2e%2fsecret.txt", "/..%2fsecret.txt", "/.%2e/secret.txt", "/..%5csecret.txt",
        "/escape.txt", "/up/secret.txt", "/up/lecture/../secret.txt", "/" + secret_path, "//" + secret_path.lstrip("/"),
        "/%2F" + secret_path.lstrip("/").replace("/", "%2F"), "/master.m3u8%00", "/%00/../secret.txt",
        "http://127.0.0.1/../secret.txt", "/etc/passwd", "/../../../../../../etc/passwd",
    ]
    for target in attempts:
        r = get_raw(fmp4_server.port, target)
        assert r.status in (400, 403, 404), f"{target} -> {r.status}"
        assert SECRET.encode() not in r.body and b"root:" not in r.body, target
    # The expected refusal for each kind: traversal 403, a link leading out 403, bad bytes 400.
    assert get_raw(fmp4_server.port, "/%2e%2e/secret.txt").status == 403
    assert get_raw(fmp4_server.port, "/escape.txt").status == 403
    assert get_raw(fmp4_server.port, "/up/secret.txt").status == 403
    assert get_raw(fmp4_server.port, "/master.m3u8%00").status == 400
    # A link that leads back inside is followed.
    assert get_raw(fmp4_server.port, "/up/lecture/master.m3u8").status == 200


def test_links_to_hidden_files_are_refused_like_the_hidden_names(fmp4_server):
    """What a name leads to is judged, not the name: a plain name linking to a hidden file or
    folder (inside or outside) is 403, as the hidden name itself is."""
    port = fmp4_server.port
    for target in ("/env.txt", "/gitconfig.txt", "/repo/config", "/hidden-outside.txt", "/escape.txt",
                   "/.env", "/.git/config", "/up/.hidden-secret.txt", "/up/lecture/.env", "/up/lecture/env.txt"):
        r = get_raw(port, target)
        assert r.status == 403, f"{target} -> {r.status}"
        assert HIDDEN.encode() not in r.body and SECRET.encode() not in r.body, target
    # Over keep-alive too, with fetch's own Host (127.0.0.1:PORT).
    assert fetch(fmp4_server.url + "env.txt").status == 403
    assert fetch(fmp4_server.url + "master.m3u8").status == 200


def test_only_requests_naming_loopback_are_answered(fmp4_server):
    """DNS rebinding: a page on evil.example resolved to 127.0.0.1 makes the browser send
    `Host: evil.example[:port]`; such requests get 421 and nothing from the folder."""
    port = fmp4_server.port

    def get(host: Optional[str], target: str = "/master.m3u8", version: str = "1.1") -> Reply:
        host_line = f"Host: {host}\r\n" if host is not None else ""
        return raw(port, f"GET {target} HTTP/{version}\r\n{host_line}Connection: close\r\n\r\n".encode("latin-1"))

    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.nip.io:{port}", f"localhost.evil.example:{port}",
                 "", f"user@localhost:{port}", f"0.0.0.0:{port}", f"192.168.1.1:{port}"):
        for target in ("/master.m3u8", "/"):
            r = get(host, target)
            assert r.status == 421, f"Host {host!r} {target} -> {r.status}"
            assert r.headers["connection"] == "close"
            assert b"#EXTM3U" not in r.body and b"<video" not in r.body, host
    # HTTP/1.0 is checked too when it sends a Host; an absolute-form target's authority counts.
    assert get("evil.example", version="1.0").status == 421
    assert get("localhost", target=f"http://evil.example:{port}/master.m3u8").status == 421
    assert get(None).status == 400  # HTTP/1.1 without Host
    # Loopback names, any port (a forwarded port arrives with its own number), any case.
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "127.0.0.1", "LOCALHOST", f"[::1]:{port}", "127.3.2.1:1"):
        r = get(host)
        assert r.status == 200 and r.body.startswith(b"#EXTM3U"), f"Host {host!r} -> {r.status}"
    assert get(None, version="1.0").status == 200  # no browser leaves Host out
    assert get("localhost", target=f"http://127.0.0.1:{port}/master.m3u8").status == 200
    # A refused request closes a keep-alive connection, and nothing after it on that connection is answered.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /master.m3u8 HTTP/1.1\r\nHost: evil.example\r\n\r\nGET /master.m3u8 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 421 ") and data.count(b"HTTP/1.1 ") == 1 and b"#EXTM3U" not in data, data[:300]
    log = fmp4_server.stderr()
    assert re.search(r"^GET /master\.m3u8 421 \d+$", log, re.M), log[-2000:]


# ---------------------------------------------------------------------------
# connections
# ---------------------------------------------------------------------------


def test_keep_alive_serves_several_requests_on_one_connection(outputs, fmp4_server):
    folder = outputs["fmp4"]
    conn = http.client.HTTPConnection("127.0.0.1", fmp4_server.port, timeout=10)
    try:
        for rel in ("master.m3u8", "720p/index.m3u8", "audio/index.m3u8", "master.m3u8"):
            conn.request("GET", "/" + rel)
            r = conn.getresponse()
            assert r.status == 200 and r.getheader("Connection") == "keep-alive"
            assert r.read() == file_bytes(folder, rel)
        sock_before = conn.sock
        conn.request("GET", "/720p/index.m3u8", headers={"Range": "bytes=0-9"})
        r = conn.getresponse()
        assert r.status == 206 and r.read() == file_bytes(folder, "720p/index.m3u8")[:10]
        assert conn.sock is sock_before, "the connection was reopened"
    finally:
        conn.close()
    # Two pipelined requests in one write get two responses, in order.
    with socket.create_connection(("127.0.0.1", fmp4_server.port), timeout=10) as s:
        s.sendall(b"GET /master.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nHEAD /audio/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 2
    assert file_bytes(folder, "master.m3u8") in data


def test_an_idle_connection_blocks_nobody_and_is_closed_after_the_head_timeout(fmp4_server):
    port = fmp4_server.port
    idle = socket.create_connection(("127.0.0.1", port), timeout=20)
    silent = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        idle.sendall(b"GET /master.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the end of the head
        t0 = time.monotonic()
        r = fetch(fmp4_server.url + "master.m3u8", timeout=5)
        assert r.status == 200 and time.monotonic() - t0 < 3, "a second connection waited for the idle one"
        # The server gives a slow head 10 s: 408 for the started one, a plain close for the silent one.
        idle.settimeout(20)
        data = b""
        while chunk := idle.recv(65536):
            data += chunk
        waited = time.monotonic() - t0
        assert data.startswith(b"HTTP/1.1 408 "), data[:200]
        assert 8 <= waited <= 16, f"closed after {waited:.1f}s"
        assert silent.recv(100) == b""
    finally:
        idle.close()
        silent.close()


def test_connections_beyond_the_cap_get_503_and_the_server_recovers(fmp4_server):
    held = []
    try:
        for _ in range(64):
            held.append(socket.create_connection(("127.0.0.1", fmp4_server.port), timeout=10))
        # The server accepts in order and counts a connection before it accepts the next, so
        # the 65th is over the cap whether or not the first 64 threads have started yet.
        r = raw(fmp4_server.port, b"GET /master.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert r.status == 503
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + 5
    while True:
        r = fetch(fmp4_server.url + "master.m3u8")
        if r.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.status == 200


def test_idle_keep_alive_clients_do_not_lock_out_new_ones(outputs, fmp4_server):
    """64 clients (the cap) each make one keep-alive request and stay connected; new clients are
    still served, each in the place of an idle connection, which is closed. (Which one: the one
    idle the longest by the server's clock, i.e. from when its thread finished the response, so
    the test does not assume the client order.)"""
    body = file_bytes(outputs["fmp4"], "master.m3u8")

    def keep_alive_get(conn: http.client.HTTPConnection) -> None:
        conn.request("GET", "/master.m3u8")
        r = conn.getresponse()
        assert r.status == 200 and r.getheader("Connection") == "keep-alive", r.status
        assert r.read() == body

    def wait_for_one_closed(conns: list[http.client.HTTPConnection]) -> http.client.HTTPConnection:
        """The connection the server shut down (EOF or reset); fails if none is within 10 s."""
        ready, _, _ = select.select([c.sock for c in conns], [], [], 10)
        assert ready, "no idle connection was closed for the newcomer"
        try:
            assert ready[0].recv(1) == b"", "data on an idle connection"
        except ConnectionResetError:
            pass
        return next(c for c in conns if c.sock is ready[0])

    open_conns: list[http.client.HTTPConnection] = []
    closed: list[http.client.HTTPConnection] = []
    try:
        for _ in range(64):
            open_conns.append(http.client.HTTPConnection("127.0.0.1", fmp4_server.port, timeout=10))
            keep_alive_get(open_conns[-1])
        # Newcomers that stay connected too (so no slot frees by itself): 67 clients in all.
        for _ in range(3):
            newcomer = http.client.HTTPConnection("127.0.0.1", fmp4_server.port, timeout=10)
            keep_alive_get(newcomer)
            gone = wait_for_one_closed(open_conns)
            open_conns.remove(gone)
            closed.append(gone)
            open_conns.append(newcomer)
        # The other 64 are all still open and usable, on the same connections.
        assert len(open_conns) == 64
        for conn in open_conns:
            sock = conn.sock
            keep_alive_get(conn)
            assert conn.sock is sock
    finally:
        for conn in open_conns + closed:
            conn.close()
    log = fmp4_server.stderr()
    assert log.count("closed the longest-idle keep-alive connection") == 3, log[-2000:]
    assert " 503 " not in log


def test_a_client_vanishing_mid_download_does_not_hurt_the_server(outputs, fmp4_server):
    rel = first_segment(outputs["fmp4"], "720p")
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", fmp4_server.port), timeout=10)
        s.sendall(f"GET /{rel} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        s.recv(100)
        # RST instead of FIN: the server's next send fails with ECONNRESET/EPIPE (no SIGPIPE).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    time.sleep(0.3)
    assert fmp4_server.proc.poll() is None, fmp4_server.stderr()
    assert fetch(fmp4_server.url + "master.m3u8").status == 200


def test_oversized_heads_and_slow_clients_are_cut_off(outputs, fmp4_server):
    """Heads over 16 KiB (a long request line, a long header, 32 MB of either) are answered 431 at
    once, without reading them whole, and the connection closed; a client sending a header byte a
    second is cut off by the 10 s head deadline; an idle keep-alive connection is closed after
    15 s. The server serves normally throughout."""
    port = fmp4_server.port
    loris = Timed(time_to_disconnect, port, b"GET /master.m3u8 HTTP/1.1\r\nHost: localhost\r\nX-Slow: ", b"abcdefgh", 1.0, 40)
    idle = Timed(time_to_disconnect, port, b"GET /master.m3u8 HTTP/1.1\r\nHost: localhost\r\n\r\n", b"", 0.5, 45)
    oversized = {
        "request line": b"GET /master.m3u8?" + b"a" * 17000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "one header": b"GET /master.m3u8 HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * 17000 + b"\r\n\r\n",
        "32 MB header": b"GET /master.m3u8 HTTP/1.1\r\nHost: localhost\r\nX-Huge: " + b"h" * (32 << 20) + b"\r\n\r\n",
        "32 MB request line": b"GET /" + b"a" * (32 << 20) + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
    }
    master = file_bytes(outputs["fmp4"], "master.m3u8")
    for name, payload in oversized.items():
        r = send_oversized(port, payload)
        assert r.status == 431, f"{name}: {r}"
        assert r.answered_after is not None and r.answered_after < 2, f"{name}: answered after {r.answered_after}s"
        assert r.closed_after is not None and r.closed_after < 3, f"{name}: the connection stayed open ({r})"
        if len(payload) > 1 << 20:
            assert r.sent < len(payload) // 2, f"{name}: the server took {r.sent} of {len(payload)} bytes"
        assert fetch(fmp4_server.url + "master.m3u8").body == master, f"the server after the {name}"
    # A 15 KiB head is still served.
    (status, _, body), = exchange(port, ("GET", "/master.m3u8?" + "q" * 15000))
    assert (status, body) == (200, master)

    seconds, received = loris.value(60)
    assert seconds is not None, "a client sending a byte a second kept its connection for 40 s"
    assert 8 <= seconds <= 25, f"the slow-loris connection was closed after {seconds:.1f}s"
    assert re.match(rb"HTTP/1\.1 408 ", received), received[:200]
    seconds, received = idle.value(60)
    assert received.startswith(b"HTTP/1.1 200 ") and received.endswith(master), received[:200]
    assert seconds is not None and 12 <= seconds <= 40, f"the idle keep-alive connection: closed after {seconds}"
    assert fmp4_server.proc.poll() is None


# ---------------------------------------------------------------------------
# process: signals, exit codes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_it_with_exit_0_even_with_a_client_connected(outputs, serve, sig):
    server = serve(outputs["fmp4"])
    assert fetch(server.url).status == 200
    client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        t0 = time.monotonic()
        code = server.stop(sig)
        assert code == 0, f"exit {code}; stderr:\n{server.stderr()}"
        assert time.monotonic() - t0 < 6
    finally:
        client.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_the_log_names_each_request(outputs, fmp4_server):
    fetch(fmp4_server.url + "master.m3u8")
    fetch(fmp4_server.url + "nope.ts")
    fmp4_server.stop()
    log = fmp4_server.stderr()
    assert "GET /master.m3u8 200 " in log and "GET /nope.ts 404 " in log, log


def test_quiet_logs_nothing(outputs, serve):
    server = serve(outputs["fmp4"], "--quiet")
    fetch(server.url + "master.m3u8")
    assert server.stop() == 0
    assert server.stderr() == ""


def test_a_folder_that_is_not_an_output_exits_66(tmp_path):
    for folder in (str(tmp_path / "missing"), str(tmp_path)):
        res = run_hlsify("preview", folder, "--port", "0", timeout=20)
        assert res.returncode == 66, res.describe()
        assert res.stdout == ""
        assert len(res.stderr_lines) == 1 and folder in res.stderr_lines[0], res.stderr
    file_path = tmp_path / "file.txt"
    file_path.write_text("x")
    res = run_hlsify("preview", str(file_path), "--port", "0", timeout=20)
    assert res.returncode == 66, res.describe()


def test_a_port_in_use_exits_69(outputs):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        res = run_hlsify("preview", outputs["fmp4"], "--port", str(port), timeout=20)
    assert res.returncode == 69, res.describe()
    assert res.stdout == ""
    assert len(res.stderr_lines) == 1 and "Address already in use" in res.stderr, res.stderr


@pytest.mark.parametrize("args", [["--host", "0.0.0.0"], ["--host", "192.168.1.1"], ["--port", "70000"], ["--port", "-1"]])
def test_usage_errors_exit_64(outputs, args):
    res = run_hlsify("preview", outputs["fmp4"], *args, timeout=20)
    assert res.returncode == 64, res.describe()


# ---------------------------------------------------------------------------
# Chromium
# ---------------------------------------------------------------------------


@pytest.fixture
def chromium(tmp_path):
    """A headless Chromium from Debian through its chromedriver; quit after the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} missing: run scripts/install-deps.sh (chromium, chromium-driver)", pytrace=False)
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--disable-gpu",
                "--disable-dev-shm-usage", "--mute-audio", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


STATE_JS = """
var v = document.getElementById('player');
var tracks = [];
for (var i = 0; i < v.textTracks.length; i++) {
  var t = v.textTracks[i];
  tracks.push({kind: t.kind, language: t.language, label: t.label, mode: t.mode,
               cues: t.cues ? t.cues.length : null});
}
var quality = v.getVideoPlaybackQuality();
return {time: v.currentTime, width: v.videoWidth, height: v.videoHeight, paused: v.paused, ended: v.ended,
        frames: quality.totalVideoFrames, dropped: quality.droppedVideoFrames,
        audioBytes: v.webkitAudioDecodedByteCount, videoBytes: v.webkitVideoDecodedByteCount,
        readyState: v.readyState, error: v.error ? {code: v.error.code, message: v.error.message} : null,
        tracks: tracks, preview: window.hlsifyPreview || null};
"""


def wait_for(driver, predicate, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = driver.execute_script(STATE_JS)
        if state["error"] or (state["preview"] and state["preview"]["errors"]):
            pytest.fail(f"media error while waiting for {what}: {state}")
        if predicate(state):
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout}s; last state {state}")
        time.sleep(0.2)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fmt", ["fmp4", "ts"])
def test_chromium_plays_the_preview_page(outputs, serve, chromium, fmt):
    folder = outputs[fmt]
    server = serve(folder)
    rungs = rung_sizes(folder)
    chromium.get(server.url)
    assert chromium.title == "hlsify preview: lecture"

    # Playback starts on its own (muted autoplay), then advances in real time.
    start = wait_for(chromium, lambda s: s["time"] > 0.1 and not s["paused"], 30, "playback start")
    t0 = time.monotonic()
    advanced = wait_for(chromium, lambda s: s["time"] >= start["time"] + 3, 15, "3 s of playback")
    wall = time.monotonic() - t0
    played = advanced["time"] - start["time"]
    assert wall >= played * 0.7, f"{played:.2f}s of media in {wall:.2f}s of wall time: not real-time playback"

    # Pictures and sound were decoded along the way (the clip is 30 fps, with AAC audio).
    assert advanced["frames"] >= 30 * 3 * 0.8, advanced
    assert advanced["videoBytes"] > 0 and advanced["audioBytes"] > 0, advanced

    # The picture is one of the rungs, and so is every size the player went through.
    assert f"{advanced['width']}x{advanced['height']}" in rungs, (advanced, rungs)
    seen = set(advanced["preview"]["sizes"])
    assert seen and seen <= rungs, (seen, rungs)

    # The sidecar track: English, showing (default), every cue loaded.
    loaded = wait_for(chromium, lambda s: s["tracks"] and s["tracks"][0]["cues"] == SRT_CUES, 10, "subtitle cues")
    assert len(loaded["tracks"]) >= 1
    track = loaded["tracks"][0]
    assert (track["kind"], track["language"], track["label"], track["mode"]) == ("subtitles", "en", "English", "showing")

    final = chromium.execute_script(STATE_JS)
    assert final["error"] is None and final["preview"]["errors"] == [], final
    assert not final["paused"] or final["ended"], final
    # Nothing the page or the player asked for failed (no 404s, no media errors in the console).
    severe = [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe
    # Chromium's media stack asked for ranges, and got them.
    log = server.stderr()
    assert re.search(r"^GET /\S+\.(m4s|ts) 206 \d+$", log, re.M), log[-3000:]
    assert not re.search(r" (4\d\d|5\d\d) \d+$", log, re.M), log[-3000:]
