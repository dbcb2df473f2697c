#!/usr/bin/env python3
"""Fixed-bitrate ladder against capped constant quality (issue 16, "Low-bandwidth regions").

    python3 Benchmarks/ladder.py --sweep       # CRF sweep: abr + capped-crf --crf 16..26 per source (~40 min)
    python3 Benchmarks/ladder.py               # default: abr against capped-crf (engine's CRFs), 3 rounds (~15 min)
    python3 Benchmarks/ladder.py --quick       # smoke test: shorter sources, one round (< 5 min)
    python3 Benchmarks/ladder.py --render      # only rewrite RESULTS.md's block (and the plot) from the JSON

Python 3 standard library (reuses run.py's helpers: the Big Buck Bunny clip, GNU time around the
process, busy time, machine description, the RESULTS.md block writer); matplotlib for the plot
(Benchmarks/ladder.png) when importable here or in .cache/venv (else the plot is skipped). Needs
ffmpeg/ffprobe with libass (Debian's), fonts-dejavu, /usr/bin/time. It does not build: it uses
.build/release/hlsify as it is (`swift build -c release` first) and stops when the binary's
`transcode --help` does not list --rate-control (--no-rate-control: runs the binary without the
issue-16 options, a dry run of the measuring path, not a comparison).

What it does, in order:
 1. makes the sources once and caches them under .cache/bench/src/ (--quick: shorter ones):
      slides  lecture slides, 1920x1080 30 fps, 90 s (--quick 30 s): four pages (title page,
              bullets built one by one, a block diagram with a bar chart, a code listing; 20–25 s
              each) drawn with libass (DejaVu fonts), a 320x180 talking-head inset in the bottom-
              right corner (run.py's Big Buck Bunny 720p clip, looped) and its audio (downmixed);
      editor  a screen recording of a code editor, 1920x1080 30 fps, 60 s (--quick 20 s): a dark
              editor (side bar, tab, line numbers, syntax colours, status bar with Ln/Col, blinking
              cursor) on a Python file: wheel-scrolls, types a function character by character,
              pastes a block, scrolls up and down, types a comment; libass; a 220 Hz sine as audio;
      motion  high motion: run.py's "real" clip (Big Buck Bunny looped to 30 s, lanczos to 1080p,
              25 fps, crf 16; --quick: the same made 12 s long);
    slides and editor are encoded near-lossless (libx264 medium crf 14, yuv420p, AAC);
 2. runs hlsify on each source: `hlsify SRC --out DIR --force --quiet --json --ladder
    1080p,720p,480p --keep-redundant-rungs --rate-control abr|capped-crf [--crf N]
    [--measure-quality]`, each under GNU time (user+sys CPU, wall; run.measure);
      default  per source: 3 rounds of abr, capped-crf (every other round in the other order) without
               --measure-quality (CPU and wall: median over the rounds), then one more run of each
               mode with --measure-quality (the engine's SSIM, a cross-check; its bytes must equal
               the first round's);
      --sweep  per source: abr, then capped-crf with --crf 16, 18, 20, 22, 24, 26 (one run each);
 3. per run and rung (not timed): bytes = the init section + every segment the media playlist
    names; the peak segment bitrate = max over segments of bytes × 8 / EXTINF, against the rung's
    maxrate from the report ("peak above cap" when above); SSIM ("All") and PSNR ("average") of
    the rung against the source scaled to the rung's size (scale=W:H:flags=bicubic), computed by
    ffmpeg from the rendition's playlist, timestamps aligned to each stream's start, frames
    counted (they must equal the source's); the worst frame's SSIM too;
 4. writes .cache/bench/ladder-results.json (sections "default", "sweep", "quick", "quick-sweep";
    a run replaces its own section and keeps the others), prints the tables and the verdicts,
    rewrites the block between the `ladder` markers of Benchmarks/RESULTS.md (inserted before
    `## Notes` when absent; nothing else touched) and plots Benchmarks/ladder.png (bytes against
    SSIM per rung, both modes and the sweep, one panel per source).

Targets (issue 16), capped-crf against abr:
  slides, editor: at least 60% fewer bytes on every rung (and in total) with SSIM at most 0.001
                  below abr's on every rung;
  motion:         bytes at most +10% on every rung (and in total) with SSIM at most 0.001 below;
  every source:   the peak segment bitrate never above the rung's maxrate; CPU at most +10%.
The sweep recommends per rung the highest CRF meeting the byte and SSIM targets on every source.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (Benchmarks/run.py: the clip, measure(), machine, write_block)

ROOT = run.ROOT
CACHE = run.CACHE
WORK = CACHE / "ladder"
RESULTS_JSON = CACHE / "ladder-results.json"
PLOT = ROOT / "Benchmarks" / "ladder.png"
BEGIN = "<!-- ladder:begin -->"
END = "<!-- ladder:end -->"
VENV_PYTHON = ROOT / ".cache" / "venv" / "bin" / "python"
FONTS = Path("/usr/share/fonts/truetype/dejavu")
LADDER = ["1080p", "720p", "480p"]
SWEEP_CRFS = [16, 18, 20, 22, 24, 26]
SOURCES = ["slides", "editor", "motion"]
LOW = {"slides", "editor"}         # the low-motion sources: the bytes target is −60%
SRC_CRF = 14                       # the near-lossless encode of the generated sources
GEN_VERSION = 1                    # in the cached file names: bump when the generators change
TARGET_SAVING = 0.60               # slides, editor: bytes ≤ (1 − 0.60) × abr
TARGET_MOTION_BYTES = 1.10         # motion: bytes ≤ 1.10 × abr
TARGET_SSIM = 0.001                # SSIM ≥ abr − 0.001
TARGET_CPU = 1.10                  # CPU ≤ 1.10 × abr


def log(msg: str) -> None:
    run.log(msg)


# ---------------------------------------------------------------------------- sources: common

ASS_HEAD = """[Script Info]
ScriptType: v4.00+
PlayResX: 1920
PlayResY: 1080
WrapStyle: 2
ScaledBorderAndShadow: yes

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, \
Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, \
MarginV, Encoding
"""


def ass_style(name: str, font: str, size: int, colour: str, bold: bool = False, align: int = 7) -> str:
    c = bgr(colour)
    return (f"Style: {name},{font},{size},{c},{c},&H00000000,&H00000000,{-1 if bold else 0},0,0,0,100,100,0,0,"
            f"1,0,0,{align},0,0,0,1")


def bgr(rgb: str) -> str:
    """'#RRGGBB' → ASS '&H00BBGGRR'."""
    r, g, b = rgb[1:3], rgb[3:5], rgb[5:7]
    return f"&H00{b}{g}{r}".upper()


def col(rgb: str) -> str:
    """An inline colour override for '#RRGGBB'."""
    return "{\\c" + bgr(rgb)[:2] + bgr(rgb)[4:] + "&}"


def ass_time(t: float) -> str:
    cs = int(round(t * 100))
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def esc(text: str) -> str:
    """Literal text for an ASS event: braces and backslashes escaped, spaces kept (\\h)."""
    text = text.replace("\\", "\u29f5").replace("{", "\\{").replace("}", "\\}")
    return text.replace(" ", "\\h")


class Ass:
    def __init__(self, styles: list[str]) -> None:
        self.styles = styles
        self.events: list[str] = []

    def add(self, t0: float, t1: float, style: str, text: str, layer: int = 1) -> None:
        if t1 > t0:
            self.events.append(f"Dialogue: {layer},{ass_time(t0)},{ass_time(t1)},{style},,0,0,0,,{text}")

    def box(self, t0: float, t1: float, x: int, y: int, w: int, h: int, colour: str, layer: int = 0) -> None:
        self.add(t0, t1, "Box", f"{{\\an7\\pos({x},{y})\\bord0\\shad0\\1c{bgr(colour)[:2]}{bgr(colour)[4:]}&\\p1}}"
                 f"m 0 0 l {w} 0 {w} {h} 0 {h}{{\\p0}}", layer)

    def write(self, path: Path) -> None:
        path.write_text(ASS_HEAD + "\n".join(self.styles) + "\n\n[Events]\nFormat: Layer, Start, End, Style, Name, "
                        "MarginL, MarginR, MarginV, Effect, Text\n" + "\n".join(self.events) + "\n")


def source_path(kind: str, quick: bool) -> Path:
    if kind == "motion":
        return run.make_input("real") if not quick else CACHE / "src" / "ladder-motion-bbb-1080p-12s.mp4"
    seconds = {"slides": 90, "editor": 60}[kind] // (3 if quick else 1)
    return CACHE / "src" / f"ladder-{kind}-1080p30-{seconds}s-v{GEN_VERSION}.mp4"


def x264_source_args(audio_bitrate: str) -> list[str]:
    return ["-c:v", "libx264", "-preset", "medium", "-crf", str(SRC_CRF), "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", audio_bitrate, "-ar", "48000", "-ac", "2", "-movflags", "+faststart"]


def make_source(kind: str, quick: bool) -> Path:
    dest = source_path(kind, quick)
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.stem + ".tmp.mp4")
    gen = WORK / "gen"
    gen.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    if kind == "motion":   # --quick only: the default mode takes run.py's 30 s clip as it is
        log(f"making {dest.name}: Big Buck Bunny 720p looped to 12 s, lanczos to 1080p, crf 16")
        cmd = run.ffmpeg_base() + ["-stream_loop", "-1", "-i", str(run.bbb_720p()), "-t", "12",
                                   "-vf", "scale=1920:1080:flags=lanczos", "-c:v", "libx264", "-preset", "medium",
                                   "-crf", "16", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k", "-ar", "48000",
                                   "-ac", "2", "-movflags", "+faststart", str(tmp)]
    elif kind == "slides":
        seconds = 30 if quick else 90
        ass = gen / f"slides-{seconds}.ass"
        slides_ass(seconds).write(ass)
        log(f"making {dest.name}: slides with a talking-head inset, {seconds} s, crf {SRC_CRF} (takes a while)")
        graph = (f"[0:v]ass={ass}:fontsdir={FONTS},"
                 f"drawbox=x={PIP_X - 4}:y={PIP_Y - 4}:w={PIP_W + 8}:h={PIP_H + 8}:color=0x3a3a3a:t=fill[bg];"
                 f"[1:v]fps=30,scale={PIP_W}:{PIP_H}:flags=bicubic,setsar=1[pip];"
                 f"[bg][pip]overlay=x={PIP_X}:y={PIP_Y}:shortest=1,format=yuv420p[v]")
        cmd = run.ffmpeg_base() + [
            "-f", "lavfi", "-i", f"color=c=0xFAFAFA:s=1920x1080:r=30:d={seconds}",
            "-stream_loop", "-1", "-i", str(run.bbb_720p()),
            "-filter_complex", graph, "-map", "[v]", "-map", "1:a:0", "-t", str(seconds)] + \
            x264_source_args("128k") + [str(tmp)]
    else:
        seconds = 20 if quick else 60
        ass = gen / f"editor-{seconds}.ass"
        editor_ass(seconds).write(ass)
        log(f"making {dest.name}: code editor screen recording, {seconds} s, crf {SRC_CRF} (takes a while)")
        cmd = run.ffmpeg_base() + [
            "-f", "lavfi", "-i", f"color=c=0x1E1E1E:s=1920x1080:r=30:d={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=220:sample_rate=48000:duration={seconds}",
            "-filter_complex", f"[0:v]ass={ass}:fontsdir={FONTS},format=yuv420p[v];[1:a]volume=0.3[a]",
            "-map", "[v]", "-map", "[a]", "-t", str(seconds)] + x264_source_args("96k") + [str(tmp)]
    run.run_checked(cmd)
    tmp.rename(dest)
    log(f"  made in {time.monotonic() - t0:.0f} s, {dest.stat().st_size / 1e6:.1f} MB")
    return dest


def probe(src: Path) -> dict:
    p = run.run_checked(["ffprobe", "-v", "error", "-count_packets", "-show_entries",
                         "stream=codec_type,codec_name,width,height,avg_frame_rate,pix_fmt,nb_read_packets,"
                         "sample_rate,channels:format=duration,size,bit_rate", "-of", "json", str(src)])
    j = json.loads(p.stdout)
    v = next(s for s in j["streams"] if s["codec_type"] == "video")
    a = next((s for s in j["streams"] if s["codec_type"] == "audio"), None)
    num, den = (int(x) for x in v["avg_frame_rate"].split("/"))
    return {"path": str(src), "name": src.name, "width": v["width"], "height": v["height"], "fps": num / den,
            "frames": int(v["nb_read_packets"]), "pix_fmt": v["pix_fmt"], "codec": v["codec_name"],
            "duration": float(j["format"]["duration"]), "bytes": int(j["format"]["size"]),
            "bit_rate": int(j["format"].get("bit_rate", 0)),
            "audio": f"{a['codec_name']} {a['sample_rate']} Hz {a['channels']} ch" if a else None}


# ---------------------------------------------------------------------------- sources: slides

PIP_W, PIP_H = 320, 180
PIP_X, PIP_Y = 1920 - PIP_W - 36, 1080 - PIP_H - 72
NAVY, INK, GREY, ACCENT = "#1F3B5C", "#2B2B2B", "#7A7A7A", "#D9822B"


def slides_ass(seconds: int) -> Ass:
    """Four pages (title, bullets built one by one, diagram + bar chart, code), 20–25 s each at
    90 s (scaled down for --quick), a header band, a footer with the page number."""
    a = Ass([ass_style("Box", "DejaVu Sans", 20, "#FFFFFF"),
             ass_style("Big", "DejaVu Sans", 84, NAVY, bold=True, align=5),
             ass_style("Sub", "DejaVu Sans", 44, INK, align=5),
             ass_style("Title", "DejaVu Sans", 60, "#FFFFFF", bold=True),
             ass_style("Body", "DejaVu Sans", 44, INK),
             ass_style("Small", "DejaVu Sans", 28, GREY),
             ass_style("Label", "DejaVu Sans", 30, INK, align=5),
             ass_style("Mono", "DejaVu Sans Mono", 34, INK)])
    lengths = [20, 25, 25, 20]
    scale = seconds / sum(lengths)
    starts = [sum(lengths[:i]) * scale for i in range(len(lengths))]
    ends = starts[1:] + [float(seconds)]

    def chrome(i: int, title: str | None) -> None:
        t0, t1 = starts[i], ends[i]
        if title:
            a.box(t0, t1, 0, 0, 1920, 150, NAVY)
            a.box(t0, t1, 0, 150, 1920, 8, ACCENT)
            a.add(t0, t1, "Title", f"{{\\pos(90,38)}}{esc(title)}")
        a.box(t0, t1, 90, 1000, 1740, 2, "#C8C8C8")
        a.add(t0, t1, "Small", "{\\pos(90,1016)}" + esc("Video Systems · Lecture 7 · Adaptive streaming"))
        a.add(t0, t1, "Small", f"{{\\an9\\pos(1830,1016)}}{i + 1} / {len(lengths)}")

    # 1: title page
    chrome(0, None)
    a.box(starts[0], ends[0], 0, 0, 1920, 24, NAVY)
    a.add(starts[0], ends[0], "Big", "{\\pos(960,380)}" + esc("Adaptive Streaming at Low Bandwidth"))
    a.box(starts[0], ends[0], 660, 470, 600, 6, ACCENT)
    a.add(starts[0], ends[0], "Sub", "{\\pos(960,580)}" + esc("Rate control for lecture recordings"))
    a.add(starts[0], ends[0], "Sub", "{\\pos(960,680)\\fs34\\c&H7A7A7A&}" + esc("Dr. A. Example — Spring term, week 7"))
    # 2: bullets, built one by one
    chrome(1, "Why a fixed bitrate wastes bandwidth")
    bullets = [(0, "A ladder gives every rung one bitrate, whatever the picture"),
               (1, "slides change every 20–40 s: most frames repeat the last one"),
               (1, "a screen recording moves a cursor and a few characters"),
               (0, "x264 in ABR mode spends the budget anyway"),
               (1, "bits go to noise-free pixels that were already perfect"),
               (0, "Constant quality (CRF) spends what the picture needs"),
               (1, "with maxrate / bufsize as the ceiling for hard scenes"),
               (0, "Question: how much smaller, at what quality?")]
    step = (ends[1] - starts[1] - 1) / len(bullets)
    for k, (level, text) in enumerate(bullets):
        x, y = 120 + 70 * level, 220 + 90 * k
        mark = "•" if level == 0 else "–"
        style = "" if level == 0 else "{\\fs38\\c&H505050&}"
        a.add(starts[1] + step * k, ends[1], "Body", f"{{\\pos({x},{y})}}{style}{mark}\\h\\h{esc(text)}")
    # 3: a block diagram and a bar chart
    chrome(2, "The transcoder, one decode for every rung")
    t0, t1 = starts[2], ends[2]
    blocks = [("source", 110, 300), ("decode", 110, 470), ("scale ×3", 110, 640), ("x264 ×3", 110, 810)]
    for k, (label, x, y) in enumerate(blocks):
        a.box(t0, t1, x, y, 300, 110, ["#DCE6F2", "#E2EFDA", "#FCE4D6", "#EDE0F5"][k])
        a.box(t0, t1, x, y, 300, 4, NAVY, layer=1)
        a.add(t0, t1, "Label", f"{{\\pos({x + 150},{y + 55})}}{esc(label)}", layer=2)
        if k + 1 < len(blocks):
            a.box(t0, t1, x + 146, y + 110, 8, 60, GREY, layer=1)
    a.add(t0, t1, "Body", "{\\pos(560,230)\\fs38}" + esc("Bytes per rung, 90-minute lecture (GB)"))
    bars = [("1080p", 3.4, 1.1), ("720p", 1.9, 0.6), ("480p", 0.95, 0.3)]
    for k, (label, fixed, crf) in enumerate(bars):
        base_y, x = 900, 620 + 300 * k
        for j, (v, colour) in enumerate(((fixed, NAVY), (crf, ACCENT))):
            h = int(v * 160)
            a.box(t0, t1, x + 110 * j, base_y - h, 90, h, colour)
            a.add(t0, t1, "Label", f"{{\\pos({x + 110 * j + 45},{base_y - h - 26})\\fs26}}{v:g}", layer=2)
        a.add(t0, t1, "Label", f"{{\\pos({x + 100},{base_y + 30})}}{label}", layer=2)
    a.box(t0, t1, 600, 900, 880, 3, INK, layer=1)
    a.box(t0, t1, 1480, 300, 28, 28, NAVY)
    a.add(t0, t1, "Small", "{\\pos(1520,296)\\c&H2B2B2B&}fixed")
    a.box(t0, t1, 1480, 350, 28, 28, ACCENT)
    a.add(t0, t1, "Small", "{\\pos(1520,346)\\c&H2B2B2B&}capped CRF")
    # 4: code listing
    chrome(3, "Capped constant quality with libx264")
    t0, t1 = starts[3], ends[3]
    a.box(t0, t1, 110, 220, 1380, 560, "#F1F3F5")
    a.box(t0, t1, 110, 220, 8, 560, ACCENT, layer=1)
    code = [("#6A737D", "// one rung: quality first, the cap second"),
            (INK, "av_dict_set(&opts, \"crf\", \"22\", 0);"),
            (INK, "ctx->rc_max_rate    = 5500000;  // maxrate"),
            (INK, "ctx->rc_buffer_size = 11000000; // bufsize"),
            (INK, "ctx->bit_rate       = 0;        // no target"),
            ("#6A737D", "// x264: --crf 22 --vbv-maxrate 5500 --vbv-bufsize 11000"),
            ("#A626A4", "for (rung in ladder) encode(rung, frame);")]
    for k, (colour, line) in enumerate(code):
        a.add(t0, t1, "Mono", f"{{\\pos(150,{250 + 70 * k})}}{col(colour)}{esc(line)}", layer=2)
    a.add(t0, t1, "Body", "{\\pos(110,830)\\fs36}" + esc("Same ceiling as today; the floor goes away."))
    return a


# ---------------------------------------------------------------------------- sources: editor

ED_FS = 26                         # font size = line height (libass, VSFilter metrics)
ED_TOP = 84                        # y of the first code line
ED_ROWS = (1046 - ED_TOP) // ED_FS  # visible lines
ED_GUTTER = 446                    # right edge of the line numbers
ED_CODE_X = 476
KW = {"def", "class", "return", "if", "elif", "else", "for", "in", "import", "from", "as", "with", "while",
      "not", "and", "or", "is", "lambda", "yield", "try", "except", "raise", "pass", "break", "continue"}
CONST = {"None", "True", "False", "self"}
TOKEN = re.compile(r"(#.*$)|(\"[^\"]*\"?|'[^']*'?)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_]\w*)|(\s+)|(.)")


def highlight(line: str) -> str:
    """One line of Python in VS Code Dark+ colours, as ASS text."""
    out = []
    prev = ""
    for m in TOKEN.finditer(line):
        tok = m.group(0)
        if m.group(1):
            colour = "#6A9955"
        elif m.group(2):
            colour = "#CE9178"
        elif m.group(3):
            colour = "#B5CEA8"
        elif m.group(4):
            if tok in KW:
                colour = "#C586C0" if tok in ("return", "if", "elif", "else", "for", "while", "yield", "try",
                                              "except", "raise", "break", "continue", "import", "from") else "#569CD6"
            elif tok in CONST:
                colour = "#569CD6" if tok != "self" else "#9CDCFE"
            elif prev in ("def", "class"):
                colour = "#DCDCAA" if prev == "def" else "#4EC9B0"
            elif line[m.end():m.end() + 1] == "(":
                colour = "#DCDCAA"
            else:
                colour = "#9CDCFE"
            prev = tok
        else:
            colour = "#D4D4D4"
        out.append(col(colour) + esc(tok))
    return "".join(out) or "\\h"


def editor_buffer() -> list[str]:
    """A plausible Python module of about 150 lines."""
    head = ['"""Ladder planning for the lecture archive."""', "",
            "from __future__ import annotations", "", "import json", "import math",
            "from dataclasses import dataclass, field", "from pathlib import Path", "",
            "DEFAULT_SEGMENT = 4.0", "MAX_RUNGS = 6", ""]
    tmpl = [
        "@dataclass",
        "class {C}:",
        '    """{doc}"""',
        "    name: str",
        "    width: int",
        "    height: int",
        "    bitrate: int = {br}",
        "    extras: dict = field(default_factory=dict)",
        "",
        "    def {m1}(self, fps: float) -> float:",
        "        # bits per pixel per frame, the usual sanity check",
        "        return self.bitrate / (self.width * self.height * fps)",
        "",
        "    def {m2}(self, factor: float = {f}) -> int:",
        "        if factor <= 0:",
        '            raise ValueError(f"factor must be positive, got {{factor}}")',
        "        return int(self.bitrate * factor)",
        "",
        "",
        "def {fn}(rungs: list[{C}], budget: int) -> list[{C}]:",
        '    """Keep the rungs whose {what} fits in `budget`."""',
        "    kept = []",
        "    for rung in sorted(rungs, key=lambda r: r.height, reverse=True):",
        "        cost = rung.{m2}()",
        "        if cost > budget and kept:",
        "            continue",
        "        kept.append(rung)",
        "        budget -= cost // {div}",
        "    return kept",
        "",
        "",
        "def load_{fn}(path: Path) -> dict:",
        "    with open(path) as f:",
        "        data = json.load(f)",
        '    return {{k: v for k, v in data.items() if not k.startswith("_")}}',
        "",
        ""]
    vals = [dict(C="Rung", doc="One rendition of the ladder.", br=2800000, m1="bits_per_pixel", m2="peak", f="1.1",
                 fn="fit_budget", what="peak bitrate", div=2),
            dict(C="AudioRung", doc="An audio-only variant.", br=96000, m1="bits_per_sample", m2="ceiling", f="1.25",
                 fn="fit_audio", what="ceiling", div=3),
            dict(C="SubtitleTrack", doc="A WebVTT rendition, kept apart.", br=800, m1="density", m2="overhead",
                 f="2.0", fn="fit_tracks", what="overhead", div=4),
            dict(C="KeyframeTrack", doc="The I-frame playlist of one rung.", br=400000, m1="spacing", m2="share",
                 f="0.5", fn="fit_keyframes", what="share", div=5)]
    lines = list(head)
    for v in vals:
        lines += [t.format(**v) for t in tmpl]
    return lines


TYPED = ["def choose_crf(rung: Rung, motion: float) -> int:",
         '    """Higher CRF for still pictures, lower when things move."""',
         "    base = 23 if rung.height >= 1080 else 22",
         "    if motion < 0.05:",
         "        return base + 3  # slides, editors",
         "    if motion > 0.6:",
         "        return base - 2",
         "    return base",
         ""]
PASTED = ["def plan_rungs(source: Path, ladder: list[Rung]) -> list[dict]:",
          "    motion = estimate_motion(source)",
          "    plans = []",
          "    for rung in ladder:",
          "        plans.append({",
          '            "name": rung.name,',
          '            "crf": choose_crf(rung, motion),',
          '            "maxrate": rung.peak(),',
          '            "bufsize": 2 * rung.peak(),',
          "        })",
          "    return plans",
          "", ""]
COMMENT = "# TODO: measure SSIM per rung before shipping"


class Editor:
    """The buffer, cursor and view of the recorded editor, with a timeline of snapshots."""

    def __init__(self) -> None:
        self.lines = editor_buffer()
        self.row, self.col, self.top = 0, 0, 0
        self.cursor_on = True
        self.t = 0.0
        self.snaps: list[tuple[float, tuple]] = []
        self.rng = random.Random(16)
        self.snap()

    def snap(self) -> None:
        s = (tuple(self.lines[self.top:self.top + ED_ROWS]), self.top, self.row, self.col, self.cursor_on,
             len(self.lines))
        if not self.snaps or self.snaps[-1][1] != s:
            self.snaps.append((self.t, s))

    def wait(self, seconds: float, blink: bool = True) -> None:
        end = self.t + seconds
        while self.t + 0.53 < end and blink:
            self.t += 0.53
            self.cursor_on = not self.cursor_on
            self.snap()
        self.t = end
        self.cursor_on = True
        self.snap()

    def follow(self) -> None:
        if self.row < self.top:
            self.top = self.row
        elif self.row >= self.top + ED_ROWS - 3:
            self.top = self.row - ED_ROWS + 4

    def scroll_to(self, top: int, lines_per_step: int, step: float) -> None:
        top = max(0, min(top, len(self.lines) - ED_ROWS // 2))
        while self.top != top:
            d = max(-lines_per_step, min(lines_per_step, top - self.top))
            self.top += d
            self.t += step
            self.snap()

    def click(self, row: int, col: int) -> None:
        self.row, self.col = row, min(col, len(self.lines[row]))
        self.t += 0.3
        self.snap()

    def key(self, ch: str) -> None:
        line = self.lines[self.row]
        if ch == "\n":
            indent = len(line) - len(line.lstrip(" "))
            self.lines[self.row] = line[:self.col]
            self.lines.insert(self.row + 1, " " * indent + line[self.col:])
            self.row, self.col = self.row + 1, indent
        else:
            self.lines[self.row] = line[:self.col] + ch + line[self.col:]
            self.col += 1
        self.follow()
        self.t += self.rng.uniform(0.045, 0.11) + (self.rng.uniform(0.2, 0.6) if ch in " \n" and
                                                    self.rng.random() < 0.15 else 0)
        self.snap()

    def type_lines(self, lines: list[str]) -> None:
        """Types `lines` from the cursor's (blank) line on; the editor's auto-indent gives each new
        line the previous one's indentation, adjusted here to the text's."""
        for k, text in enumerate(lines):
            want = len(text) - len(text.lstrip(" "))
            self.lines[self.row] = " " * want
            self.col = want
            for ch in text.lstrip(" "):
                self.key(ch)
            if k + 1 < len(lines):
                self.key("\n")

    def paste(self, lines: list[str]) -> None:
        self.lines[self.row:self.row] = lines
        self.row += len(lines)
        self.col = 0
        self.follow()
        self.t += 0.2
        self.snap()

    def script(self, seconds: float) -> None:
        """The recording: what the user does, stretched to fill `seconds` (60 s; 20 s cut short)."""
        self.wait(2.0)
        self.scroll_to(58, 3, 0.08)                    # wheel down to the second class
        self.wait(1.6)
        self.click(84, 0)                               # the blank line after it
        self.key("\n")
        self.key("\n")
        self.type_lines(TYPED)                          # ~ 20 s of typing
        self.wait(1.5)
        self.paste(PASTED)
        self.wait(2.0)
        self.scroll_to(0, 6, 0.05)                      # fast up to the top
        self.wait(1.2)
        self.scroll_to(len(self.lines), 4, 0.06)        # and down to the end
        self.wait(1.0)
        self.click(len(self.lines) - 1, 0)
        self.type_lines([COMMENT])
        self.wait(2.5)
        self.scroll_to(self.top - 45, 1, 0.12)          # reading back up, slowly
        self.wait(1.5)
        row = self.top + 12
        self.click(row, len(self.lines[row]))
        for ch in "  # checked":
            self.key(ch)
        self.wait(max(0.5, seconds - self.t), blink=True)


def editor_ass(seconds: int) -> Ass:
    a = Ass([ass_style("Box", "DejaVu Sans", 20, "#FFFFFF"),
             ass_style("Code", "DejaVu Sans Mono", ED_FS, "#D4D4D4"),
             ass_style("Num", "DejaVu Sans Mono", ED_FS, "#858585", align=9),
             ass_style("UI", "DejaVu Sans", 22, "#CCCCCC"),
             ass_style("Status", "DejaVu Sans", 20, "#FFFFFF")])
    ed = Editor()
    ed.script(60.0)
    T = float(seconds)
    # chrome, all the time
    for x, y, w, h, c in ((0, 0, 56, 1048, "#333333"), (56, 0, 320, 1048, "#252526"), (376, 0, 1544, 44, "#2D2D2D"),
                          (376, 0, 230, 44, "#1E1E1E"), (376, 0, 230, 2, "#007ACC"), (0, 1048, 1920, 32, "#007ACC"),
                          (1790, 84, 2, 960, "#2F2F2F")):
        a.box(0, T, x, y, w, h, c)
    for k in range(5):
        a.box(0, T, 16, 20 + 60 * k, 24, 24, "#858585" if k else "#FFFFFF", layer=1)
    a.add(0, T, "UI", "{\\pos(80,12)\\fs18}EXPLORER")
    tree = ["▾ LECTURE-ARCHIVE", "  ▸ .github", "  ▸ docs", "  ▾ ladder", "      __init__.py", "      ladder.py",
            "      motion.py", "      segments.py", "  ▸ tests", "    README.md", "    pyproject.toml"]
    for k, name in enumerate(tree):
        if name.strip() == "ladder.py":
            a.box(0, T, 56, 48 + 30 * k, 320, 30, "#37373D")
        a.add(0, T, "UI", f"{{\\pos(72,{50 + 30 * k})\\fs21}}{esc(name)}", layer=2)
    a.add(0, T, "UI", "{\\pos(396,10)\\fs21\\c&HFFFFFF&}ladder.py  ×")
    a.add(0, T, "UI", "{\\pos(620,10)\\fs21\\c&H969696&}motion.py")
    a.add(0, T, "UI", "{\\pos(396,52)\\fs19\\c&HA0A0A0&}" + esc("ladder › ladder.py › choose_crf"))
    a.add(0, T, "Status", "{\\pos(16,1052)}" + esc("⎇ main*   ⊗ 0  ⚠ 0"))
    snaps = ed.snaps
    for k, (t0, s) in enumerate(snaps):
        if t0 >= T:
            break
        t1 = min(T, snaps[k + 1][0]) if k + 1 < len(snaps) else T
        lines, top, row, colm, on, total = s
        code = "\\N".join(highlight(line) for line in lines)
        a.add(t0, t1, "Code", f"{{\\pos({ED_CODE_X},{ED_TOP})}}{code}", layer=2)
        nums = "\\N".join((col("#C6C6C6") if top + i == row else col("#858585")) + str(top + i + 1)
                          for i in range(len(lines)))
        a.add(t0, t1, "Num", f"{{\\pos({ED_GUTTER},{ED_TOP})}}{nums}", layer=2)
        if top <= row < top + len(lines):
            y = ED_TOP + (row - top) * ED_FS
            a.box(t0, t1, ED_GUTTER + 10, y, 1790 - ED_GUTTER - 10, ED_FS, "#2A2D2E", layer=1)
            if on:
                prefix = esc(lines[row - top][:colm])
                a.add(t0, t1, "Code", f"{{\\pos({ED_CODE_X},{y})\\alpha&HFF&}}{prefix}{{\\alpha&H00&\\c&HFFFFFF&}}▏",
                      layer=3)
        a.add(t0, t1, "Status", f"{{\\an9\\pos(1900,1052)}}" +
              esc(f"Ln {row + 1}, Col {colm + 1}   Spaces: 4   UTF-8   LF   {total} lines   Python"))
    return a


# ---------------------------------------------------------------------------- one hlsify run

def hlsify_cmd(src: Path, out: Path, mode: str, crf: int | None, mq: bool, legacy: bool) -> list[str]:
    cmd = [str(run.hlsify_bin()), str(src), "--out", str(out), "--force", "--quiet", "--json",
           "--ladder", ",".join(LADDER)]
    if legacy:
        return cmd
    cmd += ["--keep-redundant-rungs", "--rate-control", mode]
    if crf is not None:
        cmd += ["--crf", str(crf)]
    if mq:
        cmd += ["--measure-quality"]
    return cmd


def media_playlist(path: Path) -> dict:
    """Init and segments of a media playlist: bytes, EXTINF durations, peak segment bitrate."""
    base = path.parent
    init = 0
    segs = []
    dur = None
    brange = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-MAP:"):
            init = (base / re.search(r'URI="([^"]+)"', line).group(1)).stat().st_size
        elif line.startswith("#EXTINF:"):
            dur = float(line[8:].split(",")[0])
        elif line.startswith("#EXT-X-BYTERANGE:"):
            brange = int(line.split(":", 1)[1].split("@")[0])
        elif line and not line.startswith("#"):
            size = brange if brange is not None else (base / line).stat().st_size
            segs.append((size, dur))
            dur, brange = None, None
    peak = max((b * 8 / d for b, d in segs if d), default=0.0)
    total_d = sum(d for _, d in segs)
    seg_bytes = sum(b for b, _ in segs)
    return {"init": init, "segment_bytes": seg_bytes, "bytes": init + seg_bytes, "segments": len(segs),
            "duration": total_d, "peak_bps": peak, "avg_bps": seg_bytes * 8 / total_d if total_d else 0.0,
            "segment_bps": [round(b * 8 / d) for b, d in segs if d]}


def quality(src: Path, out: Path, rungs: list[dict]) -> dict[str, dict]:
    """SSIM and PSNR of every rung against the source scaled to its size (bicubic), one ffmpeg
    run: the source decoded once, each rendition from its media playlist."""
    n = len(rungs)
    stats = WORK / "ssim-stats"
    stats.mkdir(parents=True, exist_ok=True)
    graph = [f"[0:v]setpts=PTS-STARTPTS,split={n}" + "".join(f"[s{i}]" for i in range(n))]
    for i, r in enumerate(rungs):
        graph += [f"[s{i}]scale={r['width']}:{r['height']}:flags=bicubic,split[ra{i}][rb{i}]",
                  f"[{i + 1}:v]setpts=PTS-STARTPTS,split[da{i}][db{i}]",
                  f"[da{i}][ra{i}]ssim@s{i}=stats_file={stats / f'{i}.log'}[oa{i}]",
                  f"[db{i}][rb{i}]psnr@p{i}[ob{i}]"]
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-i", str(src)]
    for r in rungs:
        cmd += ["-i", str(out / r["playlist"])]
    cmd += ["-filter_complex", ";".join(graph)]
    for i in range(n):
        cmd += ["-map", f"[oa{i}]", "-map", f"[ob{i}]"]
    cmd += ["-f", "null", "-"]
    p = run.run_checked(cmd)
    res: dict[str, dict] = {}
    for i, r in enumerate(rungs):
        m = re.search(rf"\[ssim@s{i} @ [^\]]*\] SSIM Y:(\S+) .*?All:(\S+)", p.stderr)
        q = re.search(rf"\[psnr@p{i} @ [^\]]*\] PSNR .*?average:(\S+)", p.stderr)
        frames = []
        for line in (stats / f"{i}.log").read_text().splitlines():
            f = re.search(r"All:(\S+)", line)
            if f:
                frames.append(float(f.group(1)))
        srt = sorted(frames)
        res[r["name"]] = {"ssim": float(m.group(2)) if m else None, "ssim_y": float(m.group(1)) if m else None,
                          "psnr": (float(q.group(1)) if q.group(1) != "inf" else 99.0) if q else None,
                          "frames": len(frames), "ssim_min": srt[0] if srt else None,
                          "ssim_p01": srt[len(srt) // 100] if srt else None}
        (stats / f"{i}.log").unlink(missing_ok=True)
    return res


def one_run(src: Path, info: dict, tag: str, mode: str, crf: int | None, mq: bool, args, *,
            measure_quality: bool) -> dict:
    out = WORK / "out" / tag
    run.prepare_out(out)
    jf = WORK / f"{tag}.json"
    cmd = hlsify_cmd(src, out, mode, crf, mq, args.no_rate_control)
    rec = {"tag": tag, "mode": mode, "crf_arg": crf, "measure_quality": mq, "cmd": " ".join(cmd[1:]),
           "load": os.getloadavg()[0], "binary_mtime": run.hlsify_bin().stat().st_mtime}
    try:
        m = run.measure([cmd], out, stdout_file=jf)
    except SystemExit as e:      # run.measure exits on a failed command: keep going, record it
        rec["error"] = str(e)[-2000:]
        log(f"  {tag}: FAILED: {rec['error'][:400]}")
        return rec
    rec.update({"wall": m["wall"], "cpu": m["cpu"], "rss_kb": m["rss_kb"], "others": m["others"]})
    report = json.loads(jf.read_text())
    jf.unlink(missing_ok=True)
    rec["elapsed"] = report.get("elapsedSeconds")
    rec["audio_bytes"] = (report.get("audio") or {}).get("bytes")
    rec["redundant"] = report.get("redundantRungs")
    rec["warnings"] = report.get("warnings")
    rungs = []
    for r in report["renditions"]:
        pl = media_playlist(out / r["playlist"])
        enc = r.get("encoder", {})
        rungs.append({"name": r["name"], "width": r["width"], "height": r["height"], "playlist": r["playlist"],
                      "bytes": pl["bytes"], "report_bytes": r.get("bytes"), "segments": pl["segments"],
                      "init": pl["init"], "duration": pl["duration"], "peak_bps": pl["peak_bps"],
                      "avg_bps": pl["avg_bps"], "segment_bps": pl["segment_bps"],
                      "report_peak": r.get("peakBandwidth"), "report_avg": r.get("averageBandwidth"),
                      "encoder": enc, "maxrate": enc.get("maxrate"), "bitrate": enc.get("bitrate"),
                      "bufsize": enc.get("bufsize"), "rate_control": enc.get("rateControl"), "crf": enc.get("crf"),
                      "engine_quality": r.get("quality")})
    order = {n: i for i, n in enumerate(LADDER)}
    rungs.sort(key=lambda r: order.get(r["name"], 99))
    rec["rungs"] = rungs
    if measure_quality:
        t0 = time.monotonic()
        q = quality(src, out, rungs)
        rec["quality_seconds"] = time.monotonic() - t0
        for r in rungs:
            r.update(q.get(r["name"], {}))
            if r.get("frames") != info["frames"]:
                r["frames_mismatch"] = f"{r.get('frames')} frames compared, the source has {info['frames']}"
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    total = sum(r["bytes"] for r in rungs)
    log(f"  {tag}: wall {rec['wall']:.1f} s, cpu {rec['cpu']:.1f} s (others {rec['others']:.2f}), video "
        f"{total / 1e6:.2f} MB; " + "; ".join(
            f"{r['name']} {r['bytes'] / 1e6:.2f} MB"
            + (f" ssim {r['ssim']:.5f}" if r.get("ssim") is not None else "")
            + (f" (engine {r['engine_quality']['ssim']:.5f})" if r.get("engine_quality") else "")
            + f" peak {r['peak_bps'] / 1e6:.2f}/{(r['maxrate'] or 0) / 1e6:.2f} Mb/s"
            + (f" crf {r['crf']}" if r.get("crf") is not None else "") for r in rungs)
        + (f"; quality {rec['quality_seconds']:.0f} s" if measure_quality else ""))
    return rec


# ---------------------------------------------------------------------------- the modes

def check_binary(args) -> dict:
    b = run.hlsify_bin()
    if not b.exists():
        sys.exit(f"{b} is missing (swift build -c release)")
    helps = ""
    for cmd in ([str(b), "--help"], [str(b), "transcode", "--help"]):
        helps += subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    missing = [o for o in ("--rate-control", "--crf", "--keep-redundant-rungs", "--measure-quality")
               if o not in helps]
    if missing and not args.no_rate_control:
        sys.exit(f"{b} does not know {', '.join(missing)} (issue 16's options): build it first, or pass "
                 "--no-rate-control for a dry run of the measuring path")
    built = b.stat().st_mtime
    newer = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "Sources").rglob("*")
                   if p.is_file() and p.stat().st_mtime > built)
    return {"path": str(b.relative_to(ROOT)), "built": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(built)),
            "newer_than_sources": not newer, "sources_newer": newer, "missing_options": missing}


def sources(args) -> dict[str, dict]:
    out = {}
    for kind in args.sources:
        src = make_source(kind, args.quick)
        info = probe(src)
        info["kind"] = kind
        out[kind] = info
        log(f"source {kind}: {src.name}, {info['width']}x{info['height']} {info['fps']:g} fps, "
            f"{info['duration']:.1f} s, {info['frames']} frames, {info['bytes'] / 1e6:.1f} MB, audio {info['audio']}")
    return out


def do_default(args, srcs: dict) -> list[dict]:
    runs = []
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    for kind, info in srcs.items():
        src = Path(info["path"])
        for rnd in range(1, rounds + 1):
            order = ["abr", "capped-crf"] if rnd % 2 else ["capped-crf", "abr"]
            for mode in order:
                tag = f"{kind}-{mode}-r{rnd}"
                log(f"{tag}")
                rec = one_run(src, info, tag, mode, args.crf, False, args, measure_quality=(rnd == 1))
                rec.update({"source": kind, "round": rnd})
                runs.append(rec)
        if not args.no_engine_quality:
            for mode in ("abr", "capped-crf"):
                tag = f"{kind}-{mode}-mq"
                log(f"{tag}")
                rec = one_run(src, info, tag, mode, args.crf, True, args, measure_quality=False)
                rec.update({"source": kind, "round": 0})
                runs.append(rec)
    return runs


def do_sweep(args, srcs: dict, have: list[dict] | None = None) -> list[dict]:
    """abr then capped-crf per CRF, per source; with `have` (--add: the saved section's runs) the
    abr run and the CRFs already there are not run again."""
    runs = []
    crfs = args.crfs or SWEEP_CRFS
    for kind, info in srcs.items():
        src = Path(info["path"])
        done = {(r["mode"], r.get("crf_arg")) for r in (have or []) if r["source"] == kind and "error" not in r}
        for mode, crf in [("abr", None)] + [("capped-crf", c) for c in crfs]:
            if (mode, crf) in done:
                continue
            tag = f"{kind}-{mode}" + (f"-crf{crf}" if crf is not None else "")
            log(tag)
            rec = one_run(src, info, tag, mode, crf, False, args, measure_quality=True)
            rec.update({"source": kind, "round": 1})
            runs.append(rec)
    return runs


# ---------------------------------------------------------------------------- analysis

def ok_bytes(kind: str, ratio: float | None) -> bool | None:
    if ratio is None:
        return None
    return ratio <= (1 - TARGET_SAVING) + 1e-12 if kind in LOW else ratio <= TARGET_MOTION_BYTES + 1e-12


def byte_target_text(kind: str) -> str:
    return f"≤ {1 - TARGET_SAVING:.2f} × abr" if kind in LOW else f"≤ {TARGET_MOTION_BYTES:.2f} × abr"


def rung_map(rec: dict) -> dict[str, dict]:
    return {r["name"]: r for r in rec.get("rungs", [])}


def analyse_default(sec: dict) -> dict:
    runs = sec["runs"]
    out = {"sources": {}, "verdicts": [], "anomalies": []}
    for kind in sec["sources"]:
        mine = [r for r in runs if r["source"] == kind and "error" not in r]
        failed = [r for r in runs if r["source"] == kind and "error" in r]
        for r in failed:
            out["anomalies"].append(f"{r['tag']} failed: {r['error'][:300]}")
        first = {m: next((r for r in mine if r["mode"] == m and r["round"] == 1), None) for m in ("abr", "capped-crf")}
        mq = {m: next((r for r in mine if r["mode"] == m and r["round"] == 0), None) for m in ("abr", "capped-crf")}
        timed = {m: [r for r in mine if r["mode"] == m and r["round"] >= 1] for m in ("abr", "capped-crf")}
        cpu = {m: statistics.median([r["cpu"] for r in v]) if v else None for m, v in timed.items()}
        wall = {m: statistics.median([r["wall"] for r in v]) if v else None for m, v in timed.items()}
        s = {"cpu": cpu, "wall": wall, "cpu_runs": {m: [round(r["cpu"], 1) for r in v] for m, v in timed.items()},
             "wall_runs": {m: [round(r["wall"], 1) for r in v] for m, v in timed.items()},
             "others": {m: [round(r["others"], 2) for r in v] for m, v in timed.items()},
             "cpu_mq": {m: (mq[m]["cpu"] if mq[m] else None) for m in mq}, "rungs": []}
        s["cpu_ratio"] = cpu["capped-crf"] / cpu["abr"] if cpu["abr"] and cpu["capped-crf"] else None
        # per-round CPU ratios (paired within a round: same load)
        s["cpu_ratio_rounds"] = []
        for rnd in sorted({r["round"] for r in mine if r["round"] >= 1}):
            a_ = next((r for r in timed["abr"] if r["round"] == rnd), None)
            c_ = next((r for r in timed["capped-crf"] if r["round"] == rnd), None)
            if a_ and c_:
                s["cpu_ratio_rounds"].append(round(c_["cpu"] / a_["cpu"], 3))
        a, c = first["abr"], first["capped-crf"]
        if a and c:
            ra, rc = rung_map(a), rung_map(c)
            for name in LADDER:
                if name not in ra or name not in rc:
                    continue
                x, y = ra[name], rc[name]
                row = {"rung": name, "abr_bytes": x["bytes"], "crf_bytes": y["bytes"],
                       "ratio": y["bytes"] / x["bytes"], "abr_ssim": x.get("ssim"), "crf_ssim": y.get("ssim"),
                       "dssim": (y["ssim"] - x["ssim"]) if x.get("ssim") is not None and y.get("ssim") is not None
                       else None, "abr_psnr": x.get("psnr"), "crf_psnr": y.get("psnr"),
                       "abr_ssim_min": x.get("ssim_min"), "crf_ssim_min": y.get("ssim_min"),
                       "abr_peak": x["peak_bps"], "crf_peak": y["peak_bps"], "abr_maxrate": x["maxrate"],
                       "crf_maxrate": y["maxrate"], "abr_bitrate": x["bitrate"], "crf_bitrate": y.get("bitrate"),
                       "crf": y.get("crf"), "rate_control": y.get("rate_control"),
                       "abr_rate_control": x.get("rate_control"), "crf_bufsize": y.get("bufsize"),
                       "abr_bufsize": x.get("bufsize"), "frames": (x.get("frames"), y.get("frames")),
                       "crf_segment_bps": y["segment_bps"], "abr_segment_bps": x["segment_bps"]}
                for m, key in (("abr", "abr"), ("capped-crf", "crf")):
                    rq = mq[m] and rung_map(mq[m]).get(name)
                    eq = rq and rq.get("engine_quality")
                    row[f"{key}_engine_ssim"] = eq.get("ssim") if eq else None
                    row[f"{key}_engine_psnr"] = eq.get("psnr") if eq else None
                    row[f"{key}_engine_frames"] = eq.get("frames") if eq else None
                    sizes = [rung_map(r_)[name]["bytes"] for r_ in mine if r_["mode"] == m and name in rung_map(r_)]
                    if sizes and max(sizes) / min(sizes) - 1 > 0.01:
                        out["anomalies"].append(f"{kind} {m} {name}: bytes vary by {100 * (max(sizes) / min(sizes) - 1):.1f}% "
                                                f"between runs ({min(sizes)}–{max(sizes)})")
                    f1 = rung_map(first[m])[name]
                    if f1.get("frames_mismatch"):
                        out["anomalies"].append(f"{kind} {m} {name}: {f1['frames_mismatch']}")
                s["rungs"].append(row)
            tb = {m: sum(r["bytes"] for r in first[m]["rungs"]) for m in first}
            s["total"] = {"abr_bytes": tb["abr"], "crf_bytes": tb["capped-crf"], "ratio": tb["capped-crf"] / tb["abr"]}
        out["sources"][kind] = s
        # verdicts
        rows = s["rungs"]
        if rows:
            worst = max(r["ratio"] for r in rows)
            out["verdicts"].append({"source": kind, "target": f"bytes {byte_target_text(kind)} on every rung",
                                    "value": f"worst {worst:.3f} (" + ", ".join(f"{r['rung']} {r['ratio']:.3f}"
                                                                                for r in rows) + ")",
                                    "ok": all(ok_bytes(kind, r["ratio"]) for r in rows)})
            out["verdicts"].append({"source": kind, "target": f"bytes {byte_target_text(kind)} in total",
                                    "value": f"{s['total']['ratio']:.3f}", "ok": ok_bytes(kind, s["total"]["ratio"])})
            ds = [r["dssim"] for r in rows if r["dssim"] is not None]
            out["verdicts"].append({"source": kind, "target": f"SSIM ≥ abr − {TARGET_SSIM} on every rung",
                                    "value": "worst " + (f"{min(ds):+.4f}" if ds else "–") + " (" + ", ".join(
                                        f"{r['rung']} {r['dssim']:+.4f}" for r in rows if r["dssim"] is not None)
                                    + ")", "ok": (min(ds) >= -TARGET_SSIM - 1e-12) if ds else None})
            over = [r for r in rows if r["crf_maxrate"] and r["crf_peak"] > r["crf_maxrate"]]
            out["verdicts"].append({"source": kind, "target": "capped-crf peak segment bitrate ≤ the rung's maxrate",
                                    "value": ", ".join(f"{r['rung']} {r['crf_peak'] / r['crf_maxrate']:.3f}×"
                                                       for r in rows if r["crf_maxrate"])
                                    + " (abr: " + ", ".join(f"{r['abr_peak'] / r['abr_maxrate']:.3f}×"
                                                            for r in rows if r["abr_maxrate"]) + ")",
                                    "ok": not over if all(r["crf_maxrate"] for r in rows) else None})
        if s["cpu_ratio"] is not None:
            out["verdicts"].append({"source": kind, "target": f"CPU ≤ {TARGET_CPU:.2f} × abr",
                                    "value": f"{s['cpu_ratio']:.3f} (per round "
                                    + ", ".join(f"{x:.3f}" for x in s["cpu_ratio_rounds"]) + ")",
                                    "ok": s["cpu_ratio"] <= TARGET_CPU})
    return out


def analyse_sweep(sec: dict) -> dict:
    """table[source][rung] = {abr: {bytes, ssim, psnr}, crfs: {crf: {bytes, ssim, ratio, dssim, ok...}}}"""
    table: dict = {}
    for kind in sec["sources"]:
        mine = [r for r in sec["runs"] if r["source"] == kind and "error" not in r]
        abr = next((r for r in mine if r["mode"] == "abr"), None)
        if not abr:
            continue
        table[kind] = {}
        ra = rung_map(abr)
        for name in LADDER:
            if name not in ra:
                continue
            x = ra[name]
            row = {"abr": {"bytes": x["bytes"], "ssim": x.get("ssim"), "psnr": x.get("psnr"), "peak": x["peak_bps"],
                           "maxrate": x["maxrate"], "bitrate": x["bitrate"]}, "crfs": {}}
            for r in mine:
                if r["mode"] != "capped-crf":
                    continue
                y = rung_map(r).get(name)
                if not y:
                    continue
                ratio = y["bytes"] / x["bytes"]
                d = (y["ssim"] - x["ssim"]) if y.get("ssim") is not None and x.get("ssim") is not None else None
                row["crfs"][str(r["crf_arg"])] = {
                    "bytes": y["bytes"], "ssim": y.get("ssim"), "psnr": y.get("psnr"), "ratio": ratio, "dssim": d,
                    "peak": y["peak_bps"], "maxrate": y["maxrate"], "engine_crf": y.get("crf"),
                    "bytes_ok": ok_bytes(kind, ratio), "ssim_ok": (d >= -TARGET_SSIM - 1e-12) if d is not None else None,
                    "peak_ok": (y["peak_bps"] <= y["maxrate"]) if y["maxrate"] else None,
                    "cpu_ratio": r["cpu"] / abr["cpu"]}
            table[kind][name] = row
    # recommendation per rung: the highest CRF meeting bytes and SSIM on every source
    rec = {}
    crfs = sorted({int(c) for k in table.values() for row in k.values() for c in row["crfs"]})
    for name in LADDER:
        ok_all = []
        detail = {}
        for c in crfs:
            cells = [(k, table[k][name]["crfs"].get(str(c))) for k in table if name in table[k]]
            fails = [f"{k}: " + ("bytes" if not cell["bytes_ok"] else "") +
                     (" SSIM" if not cell["ssim_ok"] else "") for k, cell in cells
                     if cell and not (cell["bytes_ok"] and cell["ssim_ok"])]
            missing = [k for k, cell in cells if not cell]
            detail[str(c)] = fails + [f"{k}: not run" for k in missing]
            if not fails and not missing and cells:
                ok_all.append(c)
        per = {}
        for k in table:
            cells = table[k].get(name, {}).get("crfs", {})
            per[k] = {"bytes": sorted(int(c) for c, x in cells.items() if x["bytes_ok"]),
                      "ssim": sorted(int(c) for c, x in cells.items() if x["ssim_ok"]),
                      "peak": sorted(int(c) for c, x in cells.items() if x["peak_ok"] is False)}
        ssim_all = [c for c in crfs if all(c in v["ssim"] for v in per.values())]
        rec[name] = {"crf": max(ok_all) if ok_all else None, "meeting": ok_all, "failures": detail,
                     "per_source": per, "ssim_first": max(ssim_all) if ssim_all else None}
    cpu = {}
    for r in sec["runs"]:
        if "error" not in r:
            cpu.setdefault(r["source"], {})["abr" if r["mode"] == "abr" else str(r["crf_arg"])] = r["cpu"]
    return {"table": table, "crfs": crfs, "recommend": rec, "cpu": cpu}


# ---------------------------------------------------------------------------- report

def mb(b) -> str:
    return "–" if b is None else f"{b / 1e6:.2f}"


def f4(x, nd=4, sign=False) -> str:
    if x is None:
        return "–"
    return f"{x:+.{nd}f}" if sign else f"{x:.{nd}f}"


def verdict(ok) -> str:
    return run.verdict(ok)


def sources_lines(sec: dict) -> list[str]:
    desc = {"slides": "lecture slides: 4 pages (title, bullets built one by one, diagram + bar chart, code) "
                      "changing every 20–25 s, libass text (DejaVu), a 320x180 talking-head inset (Big Buck Bunny "
                      "looped) bottom right, its audio",
            "editor": "screen recording of a dark code editor: wheel scrolls, a function typed character by "
                      "character, a pasted block, a fast scroll up and down, a typed comment; blinking cursor, "
                      "Ln/Col in the status bar; libass (DejaVu Sans Mono); a sine as audio",
            "motion": "run.py's real clip: Big Buck Bunny 720p looped, lanczos to 1080p, crf 16, AAC"}
    L = ["| source | file | size | fps | duration | frames | MB | description |", "|---|---|---|---:|---:|---:|---:|---|"]
    for kind, i in sec["sources"].items():
        L.append(f"| {kind} | `{i['name']}` | {i['width']}x{i['height']} | {i['fps']:g} | {i['duration']:.1f} s | "
                 f"{i['frames']} | {i['bytes'] / 1e6:.1f} | {desc.get(kind, '')} |")
    return L


def default_lines(sec: dict, a: dict) -> list[str]:
    L = []
    L += ["| source | rung | abr MB | crf MB | crf / abr | SSIM abr | SSIM crf | Δ SSIM | PSNR abr | PSNR crf | "
          "engine SSIM abr / crf | worst-frame SSIM abr / crf | peak / maxrate abr | peak / maxrate crf | "
          "crf (engine) |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for kind, s in a["sources"].items():
        for r in s["rungs"]:
            eng = (f"{f4(r['abr_engine_ssim'], 5)} / {f4(r['crf_engine_ssim'], 5)}"
                   if r["abr_engine_ssim"] is not None or r["crf_engine_ssim"] is not None else "–")
            pa = f"{r['abr_peak'] / r['abr_maxrate']:.3f}" if r["abr_maxrate"] else "–"
            pc = f"{r['crf_peak'] / r['crf_maxrate']:.3f}" if r["crf_maxrate"] else "–"
            if r["crf_maxrate"] and r["crf_peak"] > r["crf_maxrate"]:
                pc = f"**{pc}** (above cap)"
            L.append(f"| {kind} | {r['rung']} | {mb(r['abr_bytes'])} | {mb(r['crf_bytes'])} | {r['ratio']:.3f} | "
                     f"{f4(r['abr_ssim'], 5)} | {f4(r['crf_ssim'], 5)} | {f4(r['dssim'], 4, True)} | "
                     f"{f4(r['abr_psnr'], 2)} | {f4(r['crf_psnr'], 2)} | {eng} | "
                     f"{f4(r['abr_ssim_min'], 4)} / {f4(r['crf_ssim_min'], 4)} | {pa} | {pc} | "
                     f"{r['crf'] if r['crf'] is not None else '–'} |")
        if s.get("total"):
            t = s["total"]
            L.append(f"| {kind} | **total** | {mb(t['abr_bytes'])} | {mb(t['crf_bytes'])} | {t['ratio']:.3f} | "
                     "| | | | | | | | | |")
    L += ["", "| source | CPU s abr (runs) | CPU s crf (runs) | crf / abr (per round) | wall s abr | wall s crf | "
          "others (cores) abr / crf | CPU s with --measure-quality abr / crf |", "|---|---:|---:|---:|---:|---:|---|---|"]
    for kind, s in a["sources"].items():
        c, w = s["cpu"], s["wall"]
        L.append(f"| {kind} | {run.fmt(c['abr'])} ({', '.join(map(str, s['cpu_runs']['abr']))}) | "
                 f"{run.fmt(c['capped-crf'])} ({', '.join(map(str, s['cpu_runs']['capped-crf']))}) | "
                 f"{run.fmt(s['cpu_ratio'], 3)} ({', '.join(f'{x:.3f}' for x in s['cpu_ratio_rounds'])}) | "
                 f"{run.fmt(w['abr'])} | {run.fmt(w['capped-crf'])} | "
                 f"{', '.join(map(str, s['others']['abr']))} / {', '.join(map(str, s['others']['capped-crf']))} | "
                 f"{run.fmt(s['cpu_mq']['abr'])} / {run.fmt(s['cpu_mq']['capped-crf'])} |")
    L += ["", "| source | target | measured | verdict |", "|---|---|---|---|"]
    for v in a["verdicts"]:
        L.append(f"| {v['source']} | {v['target']} | {v['value']} | {verdict(v['ok'])} |")
    return L


def sweep_lines(sw: dict) -> list[str]:
    crfs = sw["crfs"]
    L = ["Each cell: bytes ratio capped-crf / abr, Δ SSIM (capped-crf − abr); ✓ = meets the byte and SSIM targets "
         "of that source; ↑ = the peak segment bitrate above the rung's maxrate.", "",
         "| source | rung | abr MB / SSIM | " + " | ".join(f"crf {c}" for c in crfs) + " |",
         "|---|---|---:|" + "---:|" * len(crfs)]
    for kind, rungs in sw["table"].items():
        for name, row in rungs.items():
            cells = []
            for c in crfs:
                x = row["crfs"].get(str(c))
                if not x:
                    cells.append("–")
                    continue
                mark = " ✓" if x["bytes_ok"] and x["ssim_ok"] else ""
                mark += " ↑" if x["peak_ok"] is False else ""
                cells.append(f"{x['ratio']:.3f}, {f4(x['dssim'], 4, True)}{mark}")
            L.append(f"| {kind} | {name} | {mb(row['abr']['bytes'])} / {f4(row['abr']['ssim'], 5)} | "
                     + " | ".join(cells) + " |")
    kinds = list(sw["table"])

    def rng(v: list[int]) -> str:
        return ", ".join(map(str, v)) if v else "none"
    L += ["", "Which CRFs meet each target (bytes: " + "; ".join(f"{k} {byte_target_text(k)}" for k in kinds)
          + f"; SSIM ≥ abr − {TARGET_SSIM}):", "",
          "| rung | " + " | ".join(f"{k}: bytes / SSIM" for k in kinds)
          + " | highest CRF meeting both on every source | highest CRF meeting SSIM on every source |",
          "|---|" + "---|" * len(kinds) + "---:|---:|"]
    for name, r in sw["recommend"].items():
        per = r.get("per_source", {})
        L.append(f"| {name} | " + " | ".join(f"{rng(per[k]['bytes'])} / {rng(per[k]['ssim'])}" if k in per else "–"
                                             for k in kinds)
                 + f" | {r['crf'] if r['crf'] is not None else 'none'} | "
                 + f"{r['ssim_first'] if r.get('ssim_first') is not None else 'none'} |")
    return L


def sweep_detail_lines(sw: dict) -> list[str]:
    crfs = sw["crfs"]
    L = ["| source | rung | abr MB / SSIM / PSNR / peak÷cap | "
         + " | ".join(f"crf {c} MB / SSIM / peak÷cap" for c in crfs) + " |",
         "|---|---|---:|" + "---:|" * len(crfs)]
    for kind, rungs in sw["table"].items():
        for name, row in rungs.items():
            cells = []
            for c in crfs:
                x = row["crfs"].get(str(c))
                cells.append("–" if not x else f"{mb(x['bytes'])} / {f4(x['ssim'], 5)} / "
                             f"{(x['peak'] / x['maxrate']) if x['maxrate'] else float('nan'):.2f}")
            a = row["abr"]
            L.append(f"| {kind} | {name} | {mb(a['bytes'])} / {f4(a['ssim'], 5)} / {f4(a['psnr'], 2)} / "
                     f"{(a['peak'] / a['maxrate']) if a['maxrate'] else float('nan'):.2f} | " + " | ".join(cells) + " |")
    cpu = sw.get("cpu", {})
    if cpu:
        L += ["", "CPU s of hlsify per run (one run each, so only indicative; capped-crf / abr in brackets):", "",
              "| source | abr | " + " | ".join(f"crf {c}" for c in crfs) + " |", "|---|---:|" + "---:|" * len(crfs)]
        for kind, c in cpu.items():
            L.append(f"| {kind} | {run.fmt(c.get('abr'))} | " + " | ".join(
                f"{run.fmt(c.get(str(x)))} ({run.fmt(c[str(x)] / c['abr'], 2)})" if c.get(str(x)) and c.get("abr")
                else "–" for x in crfs) + " |")
    return L


def header_lines(sec: dict, label: str) -> list[str]:
    mc = sec["machine"]
    others = sorted(r["others"] for r in sec["runs"] if r.get("others") is not None)
    b = sec["binary"]
    L = [f"Command: `python3 Benchmarks/ladder.py{sec['argv']}` ({label})", "",
         f"- date: {mc['date']}; whole run {sec['elapsed_min']:.1f} min",
         f"- machine: {mc['nproc']} cores ({mc['cpu']}), {mc['memory']} memory, Linux {mc['kernel']}; other processes "
         f"kept {others[0]:.2f}–{others[-1]:.2f} cores busy during the hlsify runs (median "
         f"{statistics.median(others):.2f}), so wall times carry that noise; CPU = user+sys of hlsify (GNU time)"
         if others else f"- machine: {mc['nproc']} cores",
         f"- hlsify commit {mc['commit']}; binary `{b['path']}` built {b['built']}"
         + ("" if b["newer_than_sources"] else " (older than " + (", ".join(f"`{x}`" for x in b["sources_newer"])
                                                                  if b.get("sources_newer") else "a file under Sources/")
                                          + ")")
         + ("; **dry run**: the issue-16 options not passed (`--no-rate-control`)" if sec.get("no_rate_control") else "")
         + f"; {mc['ffmpeg']}",
         "- every run: `hlsify SRC --out DIR --force --quiet --json --ladder 1080p,720p,480p --keep-redundant-rungs "
         "--rate-control abr|capped-crf [--crf N]`; bytes = init + segments of each rung's media playlist; "
         "SSIM (All) / PSNR (average) by ffmpeg against the source scaled to the rung's size "
         "(`scale=W:H:flags=bicubic`), every frame; peak = max over segments of bytes × 8 / EXTINF"]
    return L


def observations(res: dict) -> list[str]:
    """What the numbers say beyond the tables: caps, the engine's SSIM against ffmpeg's, checks."""
    out = []
    for key in ("sweep", "default", "quick-sweep", "quick"):
        sec = res.get(key)
        if not sec:
            continue
        runs = [r for r in sec["runs"] if "error" not in r]
        over = {}
        for r in runs:
            label = r["mode"] + (f" --crf {r['crf_arg']}" if r.get("crf_arg") is not None else "")
            for g in r["rungs"]:
                if g.get("maxrate") and g["peak_bps"] > g["maxrate"]:
                    d = over.setdefault(label, {})
                    k = (SOURCES.index(r["source"]) if r["source"] in SOURCES else 9,
                         LADDER.index(g["name"]) if g["name"] in LADDER else 9, f"{r['source']} {g['name']}")
                    d[k] = max(d.get(k, 0), g["peak_bps"] / g["maxrate"])
        if over:
            out.append(f"{key}: peak segment bitrate above the rung's maxrate (segment bytes × 8 / EXTINF; the highest "
                       "over the runs): " + "; ".join(f"{lab}: " + ", ".join(f"{k[2]} {v:.3f}×" for k, v in sorted(d.items()))
                                                   for lab, d in over.items())
                       + ". The VBV (maxrate, bufsize = 2 × bitrate) bounds the rate over the buffer's span, "
                         "not over one 4 s segment: a segment may carry up to bufsize more than maxrate × its "
                         "duration, and the fMP4 boxes add to the elementary stream.")
        mism = sorted({f"{r['source']} {g['name']}: {g['frames_mismatch']}" for r in runs for g in r["rungs"]
                       if g.get("frames_mismatch")})
        out.append(f"{key}: frames compared = the source's frames on every rung of every run." if not mism else
                   f"{key}: frame counts differ: " + "; ".join(mism))
        mt = {r.get("binary_mtime") for r in runs if r.get("binary_mtime")}
        if len(mt) > 1:
            out.append(f"{key}: **the binary changed during the run** ({len(mt)} different modification times).")
        red = sorted({f"{r['source']} {r['mode']}{'' if r.get('crf_arg') is None else ' ' + str(r['crf_arg'])}: "
                      f"{x.get('name')} (below {x.get('lower', x.get('lowerRung', '?'))})"
                      for r in runs for x in (r.get("redundant") or []) if isinstance(x, dict)})
        if red:
            out.append(f"{key}: rungs the engine would drop as redundant (kept by --keep-redundant-rungs): "
                       + "; ".join(red))
        if not key.endswith("sweep"):
            diffs = []
            for r in runs:
                if r.get("round") != 0:
                    continue
                first = next((x for x in runs if x["source"] == r["source"] and x["mode"] == r["mode"]
                              and x.get("round") == 1), None)
                if not first:
                    continue
                fm = rung_map(first)
                for g in r["rungs"]:
                    eq, f_ = g.get("engine_quality"), fm.get(g["name"])
                    if eq and f_ and f_.get("ssim") is not None and eq.get("ssim") is not None:
                        diffs.append((eq["ssim"] - f_["ssim"], eq.get("psnr", 0) - (f_.get("psnr") or 0),
                                      f"{r['source']} {r['mode']} {g['name']}"))
            var = []
            for kind in sec["sources"]:
                for m in ("abr", "capped-crf"):
                    mine = [r for r in runs if r["source"] == kind and r["mode"] == m]
                    for name in LADDER:
                        sizes = [rung_map(r)[name]["bytes"] for r in mine if name in rung_map(r)]
                        if len(sizes) > 1:
                            var.append((max(sizes) / min(sizes) - 1, f"{kind} {m} {name}"))
            if var:
                moved = sorted((v for v in var if v[0] > 0), reverse=True)
                out.append(f"{key}: bytes from run to run (the timed rounds and the --measure-quality run): "
                           + ("identical everywhere." if not moved else
                              f"{len(var) - len(moved)} of {len(var)} rungs identical in every run; the others vary "
                              f"by at most {100 * moved[0][0]:.2f}% ({moved[0][1]}; "
                              + ", ".join(f"{lab} {100 * v:.3f}%" for v, lab in moved[1:6])
                              + "): x264's rate control with the 1080p rung's sliced threads, and abr's, is not "
                                "bit-exact from run to run; the tables use round 1."))
            over = []
            for kind in sec["sources"]:
                for m in ("abr", "capped-crf"):
                    mq = next((r for r in runs if r["source"] == kind and r["mode"] == m and r.get("round") == 0), None)
                    timed = [r["cpu"] for r in runs if r["source"] == kind and r["mode"] == m and r.get("round", 0) >= 1]
                    if mq and timed:
                        over.append((mq["cpu"] / statistics.median(timed) - 1, f"{kind} {m}", mq["others"]))
            if over:
                out.append(f"{key}: --measure-quality's CPU against the same mode's median without it: "
                           + ", ".join(f"{lab} {100 * v:+.0f}%" for v, lab, _ in over)
                           + ("" if all(v > 0 for v, _, _ in over) else
                              "; a negative value is an outlier of that single run (CPU seconds cannot drop when "
                              "work is added): " + ", ".join(f"{lab} (others {o:.2f} cores)"
                                                             for v, lab, o in over if v <= 0)))
            if diffs:
                worst = max(diffs, key=lambda d: abs(d[0]))
                worst_p = max(diffs, key=lambda d: abs(d[1]))
                out.append(f"{key}: the engine's --measure-quality SSIM minus ffmpeg's: {min(d[0] for d in diffs):+.5f} "
                           f"to {max(d[0] for d in diffs):+.5f} (largest at {worst[2]}); PSNR "
                           f"{min(d[1] for d in diffs):+.2f} to {max(d[1] for d in diffs):+.2f} dB (largest at "
                           f"{worst_p[2]}). The engine compares "
                           "with the frame it gave the encoder (its own scaler's output); ffmpeg here with the source "
                           "scaled by `scale=W:H:flags=bicubic`.")
    return out


def block_lines(res: dict) -> list[str]:
    L = ["## Low-bandwidth regions: fixed-bitrate ladder against capped constant quality (issue 16)", ""]
    sections = [k for k in ("sweep", "default") if k in res] or [k for k in ("quick-sweep", "quick") if k in res]
    if not sections:
        return L + ["(no results)"]
    if sections[0].startswith("quick"):
        L += ["> **A `--quick` smoke run** (shorter sources, one round): indicative only.", ""]
    first = res[sections[0]]
    L += ["Sources (made by the script, cached under .cache/bench/src/; slides and editor encoded near-lossless, "
          f"libx264 crf {SRC_CRF}):", ""] + sources_lines(first) + [""]
    for key in sections:
        sec = res[key]
        if key.endswith("sweep"):
            sw = analyse_sweep(sec)
            L += ["### CRF sweep", ""] + header_lines(sec, "abr, then capped-crf with --crf "
                                                      + ", ".join(map(str, sw["crfs"])) + ", one run each") + [""]
            L += sweep_lines(sw) + ["", "<details><summary>bytes, SSIM and peak ÷ maxrate per CRF</summary>", ""]
            L += sweep_detail_lines(sw) + ["", "</details>", ""]
        else:
            a = analyse_default(sec)
            crfs = "/".join(str(r["crf"]) for r in next(iter(a["sources"].values()), {}).get("rungs", []))
            L += [f"### abr against capped-crf (the engine's default CRF per rung{': ' + crfs if crfs else ''})", ""] + header_lines(
                sec, f"{sec['rounds']} round(s) of both modes per source, then one --measure-quality run of each") + [""]
            L += default_lines(sec, a) + [""]
            if a["anomalies"]:
                L += ["Seen: " + "; ".join(a["anomalies"]), ""]
    if PLOT.exists():
        L += [f"![bytes against SSIM per rung](ladder.png)", ""]
    obs = observations({k: res[k] for k in sections})
    if obs:
        L += ["### Observations", ""] + [f"- {n}" for n in obs] + [""]
    return L


def print_tables(res: dict, key: str) -> None:
    sec = res[key]
    if key.endswith("sweep"):
        print("\n".join(sweep_lines(analyse_sweep(sec))))
        print()
        print("\n".join(sweep_detail_lines(analyse_sweep(sec))))
    else:
        print("\n".join(default_lines(sec, analyse_default(sec))))


# ---------------------------------------------------------------------------- plot

def plot(res: dict, path: Path, src_json: Path = RESULTS_JSON) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker  # noqa: F401
    except ImportError:
        if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != VENV_PYTHON.parent.parent.resolve():
            log(f"no matplotlib in {sys.executable}: plotting with {VENV_PYTHON}")
            p = subprocess.run([str(VENV_PYTHON), str(Path(__file__).resolve()), "--plot-only", str(src_json)])
            return p.returncode == 0
        log("matplotlib is not importable: no plot")
        return False
    full = [k for k in ("sweep", "default") if k in res] or [k for k in ("quick-sweep", "quick") if k in res]
    kinds = []
    for k in full:
        for kind in res[k]["sources"]:
            if kind not in kinds:
                kinds.append(kind)
    if not kinds:
        return False
    colours = {"1080p": "#1f77b4", "720p": "#2ca02c", "480p": "#d62728"}
    fig, axes = plt.subplots(1, len(kinds), figsize=(6 * len(kinds), 5.2), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        for k in full:
            sec = res[k]
            if k.endswith("sweep"):
                sw = analyse_sweep(sec)["table"].get(kind, {})
                for name, row in sw.items():
                    pts = sorted(((int(c), x) for c, x in row["crfs"].items() if x["ssim"] is not None))
                    if pts:
                        ax.plot([x["bytes"] / 1e6 for _, x in pts], [x["ssim"] for _, x in pts], "-o", ms=3,
                                color=colours.get(name), alpha=0.6, lw=1, label=f"{name} --crf sweep")
                        for c, x in pts:
                            ax.annotate(str(c), (x["bytes"] / 1e6, x["ssim"]), fontsize=7, color=colours.get(name),
                                        xytext=(3, -8), textcoords="offset points")
                    if row["abr"]["ssim"] is not None:
                        ax.plot(row["abr"]["bytes"] / 1e6, row["abr"]["ssim"], "s", ms=8, mfc="none",
                                color=colours.get(name), label=f"{name} abr (sweep run)")
                        ax.axhline(row["abr"]["ssim"] - TARGET_SSIM, color=colours.get(name), ls=":", lw=0.8)
            else:
                a = analyse_default(sec)["sources"].get(kind)
                for r in (a or {}).get("rungs", []):
                    c = colours.get(r["rung"])
                    if r["abr_ssim"] is not None:
                        ax.plot(r["abr_bytes"] / 1e6, r["abr_ssim"], "s", ms=10, color=c,
                                label=f"{r['rung']} abr")
                    if r["crf_ssim"] is not None:
                        ax.plot(r["crf_bytes"] / 1e6, r["crf_ssim"], "*", ms=13, color=c,
                                label=f"{r['rung']} capped-crf (engine CRF {r['crf']})")
        ax.set_xscale("log")
        fmt = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
        ax.xaxis.set_major_formatter(fmt)
        ax.xaxis.set_minor_formatter(fmt)
        ax.tick_params(axis="x", which="minor", labelsize=7)
        ax.set_title(kind)
        ax.set_xlabel("bytes of the rung, MB (log)")
        ax.set_ylabel("SSIM (ffmpeg, All) against the scaled source")
        ax.grid(True, which="both", alpha=0.3)
        h, lab = ax.get_legend_handles_labels()
        if h:
            ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("Issue 16: abr (squares) against capped-crf (stars: the engine's CRFs; lines: the --crf sweep, "
                 "labels = CRF; dotted: abr's SSIM − 0.001)",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    log(f"wrote {path}")
    return True


# ---------------------------------------------------------------------------- main

def load_results() -> dict:
    try:
        return json.loads(RESULTS_JSON.read_text())
    except (OSError, ValueError):
        return {}


def finish(res: dict, results_md: Path, keys: list[str], src_json: Path = RESULTS_JSON) -> None:
    for k in keys:
        if k in res:
            print_tables(res, k)
            print()
    plot(res, PLOT, src_json)
    lines = block_lines(res)
    run.write_block(lines, results_md, BEGIN, END)
    log(f"wrote the ladder block of {results_md}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sweep", action="store_true", help="capped-crf with --crf 16..26 next to abr, per source")
    ap.add_argument("--quick", action="store_true", help="shorter sources (30, 20, 12 s), one round")
    ap.add_argument("--rounds", type=int, default=None, help="timed rounds of both modes (default 3; --quick 1)")
    ap.add_argument("--crf", type=int, default=None, help="default mode: pass --crf N to capped-crf (default: the "
                                                          "engine's CRF per rung)")
    ap.add_argument("--crfs", type=lambda s: [int(x) for x in s.split(",")], default=None,
                    help="--sweep: the CRFs, comma-separated (default 16,18,20,22,24,26)")
    ap.add_argument("--sources", type=lambda s: s.split(","), default=SOURCES, help="slides,editor,motion")
    ap.add_argument("--add", action="store_true", help="--sweep: add the --crfs not yet in the saved sweep to it "
                                                       "(same sources; its abr runs are reused)")
    ap.add_argument("--no-engine-quality", action="store_true", help="skip the --measure-quality runs")
    ap.add_argument("--no-rate-control", action="store_true",
                    help="dry run on a binary without issue 16's options (both modes run the same encode)")
    ap.add_argument("--make-sources", action="store_true", help="only make (and probe) the sources")
    ap.add_argument("--keep", action="store_true", help="keep the outputs under .cache/bench/ladder/out/")
    ap.add_argument("--results", type=Path, default=run.RESULTS_MD, help="RESULTS.md to write the block into")
    ap.add_argument("--render", nargs="?", const=RESULTS_JSON, type=Path, metavar="JSON",
                    help="only rewrite the block (and the plot) from a saved results JSON")
    ap.add_argument("--plot-only", nargs="?", const=RESULTS_JSON, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.plot_only:
        sys.exit(0 if plot(json.loads(args.plot_only.read_text()), PLOT, args.plot_only) else 1)
    if args.render:
        res = json.loads(args.render.read_text())
        finish(res, args.results, [k for k in ("sweep", "default", "quick-sweep", "quick") if k in res], args.render)
        return
    for s in args.sources:
        if s not in SOURCES:
            sys.exit(f"unknown source {s} (slides, editor, motion)")
    for tool in ("ffmpeg", "ffprobe", run.GNU_TIME):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed")
    WORK.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    srcs = sources(args)
    if args.make_sources:
        return
    binary = check_binary(args)
    key = ("quick-" if args.quick else "") + ("sweep" if args.sweep else "default")
    key = key.replace("quick-default", "quick")
    log(f"{key}: sources {', '.join(srcs)}; binary {binary}")
    old = load_results().get(key) if args.add else None
    if args.add and not args.sweep:
        sys.exit("--add goes with --sweep")
    if old:
        changed = [k for k in srcs if k in old["sources"] and old["sources"][k]["bytes"] != srcs[k]["bytes"]]
        if changed:
            sys.exit(f"--add: the sources changed since the saved sweep ({', '.join(changed)})")
    runs = do_sweep(args, srcs, old["runs"] if old else None) if args.sweep else do_default(args, srcs)
    sec = {"argv": "".join(" " + x for x in sys.argv[1:]), "machine": run.machine(), "binary": binary,
           "sources": srcs, "runs": runs, "rounds": args.rounds if args.rounds is not None else (1 if args.quick else 3),
           "no_rate_control": args.no_rate_control, "elapsed_min": (time.monotonic() - t0) / 60}
    if old:
        sec["runs"] = old["runs"] + runs
        sec["sources"] = {**old["sources"], **srcs}
        sec["argv"] = old["argv"] + "`, then `python3 Benchmarks/ladder.py" + sec["argv"]
        sec["elapsed_min"] += old["elapsed_min"]
        sec["machine"] = old["machine"]
        sec["added"] = old.get("added", []) + [{"date": run.machine()["date"], "binary": binary}]
        sec["binary"] = old["binary"]
    sec["analysis"] = analyse_sweep(sec) if args.sweep else analyse_default(sec)
    res = load_results()
    res[key] = sec
    RESULTS_JSON.write_text(json.dumps(res, indent=1, default=str))
    log(f"wrote the {key} section of {RESULTS_JSON} ({sec['elapsed_min']:.1f} min)")
    res = json.loads(RESULTS_JSON.read_text())
    finish(res, args.results, [key])


def _terminate(signum, frame):
    if run._current is not None and run._current.poll() is None:
        os.killpg(run._current.pid, signal.SIGKILL)
    os._exit(128 + signum)    # not sys.exit: one_run catches SystemExit (run.measure's way of failing)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, _terminate)
    signal.signal(signal.SIGTERM, _terminate)
    main()
