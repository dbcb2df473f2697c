"""Raw HTTP/1.1 probes shared by the tests of our two HTTP servers (the worker's metrics port and
`hlsify preview`): exchanges on one connection, heads too large to be read whole, slow clients."""
from __future__ import annotations

import re
import select
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional


def read_response(sock: socket.socket, buffer: bytearray, head_only: bool, timeout: float = 10) -> tuple[int, dict, bytes]:
    """One response from `sock` (bytes already read in `buffer`); its body by Content-Length, none
    for a response to HEAD. What follows stays in `buffer`."""
    deadline = time.monotonic() + timeout
    sock.settimeout(1)

    def fill() -> None:
        assert time.monotonic() < deadline, f"no whole response within {timeout}s: {bytes(buffer[:300])!r}"
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return
        assert chunk, f"connection closed mid-response: {bytes(buffer[:300])!r}"
        buffer.extend(chunk)
    while b"\r\n\r\n" not in buffer:
        fill()
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    del buffer[:len(head) + 4]
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    assert lines[0].startswith("HTTP/1.1 "), lines[0]
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = 0 if head_only else int(headers.get("content-length", "0"))
    while len(buffer) < length:
        fill()
    body = bytes(buffer[:length])
    del buffer[:length]
    return status, headers, body


def exchange(port: int, *requests: tuple[str, str]) -> list[tuple[int, dict, bytes]]:
    """Sends the requests pipelined on one keep-alive connection; reads the responses in order."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"".join(f"{m} {p} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode() for m, p in requests))
        buffer = bytearray()
        responses = [read_response(sock, buffer, head_only=(m == "HEAD")) for m, _ in requests]
        assert not buffer, f"bytes after the last response: {bytes(buffer[:200])!r}"
        return responses


@dataclass
class Refusal:
    status: Optional[int]
    response: bytes
    answered_after: Optional[float]   # seconds to the first response byte
    closed_after: Optional[float]     # seconds to EOF or reset
    sent: int                         # bytes the server took before refusing


def send_oversized(port: int, payload: bytes, watch: float = 5) -> Refusal:
    """Sends `payload` as fast as the server takes it, reading at the same time; stops at EOF, at a
    reset, or after `watch` seconds."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setblocking(False)
    t0 = time.monotonic()
    sent, response = 0, b""
    answered = closed = None
    try:
        while time.monotonic() - t0 < watch and closed is None:
            writable = [sock] if sent < len(payload) else []
            readable, ready, _ = select.select([sock], writable, [], 0.2)
            if readable:
                try:
                    chunk = sock.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    closed = time.monotonic() - t0
                    break
                except BlockingIOError:
                    chunk = None
                if chunk == b"":
                    closed = time.monotonic() - t0
                elif chunk:
                    answered = answered if answered is not None else time.monotonic() - t0
                    response += chunk
            if ready and closed is None:
                try:
                    sent += sock.send(payload[sent:sent + 65536])
                except BlockingIOError:
                    pass
                except (ConnectionResetError, BrokenPipeError):
                    closed = time.monotonic() - t0
    finally:
        sock.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", response)
    return Refusal(int(m.group(1)) if m else None, response, answered, closed, sent)


def time_to_disconnect(port: int, first: bytes, trickle: bytes, every: float, limit: float) -> tuple[Optional[float], bytes]:
    """Connects, sends `first`, then one byte of `trickle` every `every` seconds; returns the seconds
    from connecting to the server's EOF or reset (None if still open after `limit`) and what it sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    received = b""
    try:
        sock.sendall(first)
        sock.settimeout(every)
        i = 0
        while time.monotonic() - t0 < limit:
            try:
                chunk = sock.recv(65536)
                if not chunk:
                    return time.monotonic() - t0, received
                received += chunk
                continue
            except socket.timeout:
                pass
            except OSError:
                return time.monotonic() - t0, received
            if trickle:
                try:
                    sock.send(trickle[i % len(trickle):i % len(trickle) + 1])
                    i += 1
                except OSError:
                    return time.monotonic() - t0, received
        return None, received
    finally:
        sock.close()


class Timed(threading.Thread):
    """Runs a function in the background; .result once joined."""

    def __init__(self, fn: Callable, *args):
        super().__init__(daemon=True)
        self.fn, self.args, self.result, self.error = fn, args, None, None
        self.start()

    def run(self) -> None:
        try:
            self.result = self.fn(*self.args)
        except BaseException as e:  # reported by the test
            self.error = e

    def value(self, timeout: float):
        self.join(timeout)
        assert not self.is_alive(), f"{self.fn.__name__} still running after {timeout}s"
        if self.error:
            raise self.error
        return self.result
