"""`--progressive` publishes EVENT playlists while it runs, and finishes them by appending: RFC
8216 §6.2.1 lets an EVENT playlist only gain lines at its end, so a player that loaded one early
must find every later version starting with what it read. The run is watched while it goes: every
version of every media playlist seen is a prefix of the next and of the final one, which stays
EVENT and ends with EXT-X-ENDLIST. The master may change once, at the end: it gains the I-frame
streams and the measured bandwidths (players read the master once, at the start; the I-frame
streams are for trick play, which a player that started early simply does not offer)."""
from __future__ import annotations

import os
import subprocess

import pytest

import apple_rules as ar
import hlscheck as h
from conftest import FORMATS, MATRIX_PRESET, hlsify_bin

SECONDS = 40
SEGMENT = 2


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("progressive-src")
    path = str(folder / "clip.mp4")
    h.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration={SECONDS}",
           "-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}", "-c:v", "libx264", "-preset", "veryfast",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path])
    srt = str(folder / "en.srt")
    with open(srt, "w") as f:
        f.write("".join(f"{k + 1}\n00:00:{2 * k + 1:02d},000 --> 00:00:{2 * k + 2:02d},500\ncue {k}\n\n" for k in range(15)))
    return path, srt


def read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


def watch(argv: list[str], out: str) -> tuple[int, str, dict[str, list[str]]]:
    """Runs hlsify and reads every playlist of `out` as often as it can while it runs; returns the
    exit code, stderr and, per playlist (relative path), every distinct version seen, in order."""
    versions: dict[str, list[str]] = {}
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)

    def look() -> None:
        if not os.path.isdir(out):
            return
        for root, _, files in os.walk(out):
            for name in files:
                if name.endswith(".m3u8"):
                    path = os.path.join(root, name)
                    text = read(path)
                    seen = versions.setdefault(os.path.relpath(path, out), [])
                    if text is not None and (not seen or seen[-1] != text):
                        seen.append(text)

    while proc.poll() is None:
        look()
    look()  # the final versions
    return proc.returncode, proc.stderr.read(), versions


@pytest.mark.parametrize("fmt", FORMATS)
def test_progressive_playlists_are_only_appended_to(clip, tmp_path, fmt):
    source, srt = clip
    out = str(tmp_path / "out")
    code, stderr, versions = watch([hlsify_bin(), source, "--out", out, "--progressive", "--segment-format", fmt,
                                    "--segment-duration", str(SEGMENT), "--preset", MATRIX_PRESET, "--subtitles", f"en={srt}",
                                    "--quiet"], out)
    assert code == 0, stderr
    media = {rel: seen for rel, seen in versions.items() if rel != "master.m3u8" and not rel.endswith("iframes.m3u8")}
    assert {"360p/index.m3u8", "audio/index.m3u8", "subtitles/en/index.m3u8"} <= set(media), sorted(versions)
    grew = 0
    for rel, seen in media.items():
        final = seen[-1]
        assert "#EXT-X-PLAYLIST-TYPE:EVENT\n" in final and final.endswith("#EXT-X-ENDLIST\n"), f"{rel} final:\n{final}"
        for before, after in zip(seen, seen[1:]):
            assert after.startswith(before), f"{rel}: a version was rewritten, not appended to:\n{before}\n---\n{after}"
        for early in seen[:-1]:
            assert "#EXT-X-ENDLIST" not in early, f"{rel}: ENDLIST before the end:\n{early}"
        grew += len(seen) > 2
    assert grew >= 1, f"no playlist was seen growing (versions per playlist: { {k: len(v) for k, v in media.items()} })"
    # Each media playlist lists the whole clip in the end.
    hls = h.load_hls_set(os.path.join(out, "master.m3u8"))
    for pl in hls.media_playlists():
        assert abs(sum(s.duration for s in pl.segments) - SECONDS) < 0.1, pl.path

    # The master: first written once every rendition has a segment, then once more at the end,
    # with the same variants and renditions, gaining the I-frame streams.
    masters = versions["master.m3u8"]
    assert len(masters) == 2, f"{len(masters)} versions of the master"
    first, last = (ar.master_tags(m) for m in masters)
    uris = lambda tags, name: [t.uri or t.attrs.get("URI") for t in tags if t.name == name]
    for name in ("EXT-X-STREAM-INF", "EXT-X-MEDIA"):
        assert uris(first, name) == uris(last, name), name
    assert not uris(first, "EXT-X-I-FRAME-STREAM-INF") and uris(last, "EXT-X-I-FRAME-STREAM-INF")

    ctx = ar.Context(os.path.join(out, "master.m3u8"), source=source, nominal_segment=SEGMENT, progressive=True)
    broken = {k: v for k, v in ar.check_all(ctx).items() if v}
    assert not broken, broken
