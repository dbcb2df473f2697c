"""The preview page's poster, storyboard timeline, chapter list and audio menu
(Sources/HLSCore/Preview/PreviewPage.swift), checked in the served HTML and in headless Chromium.

One short source made here (110 s of 320x180 at 10 fps: cheap to encode, and long enough for the
storyboard to fill more than one sheet at its 1 s interval, so tiles have non-zero x and y and two
sheet URLs), transcoded twice with one 180p rung: `full` (poster, storyboard and chapters, whose
titles hold `&`, `<`, `>`, entities and markup) and `bare` (`--no-storyboard --no-poster`, no
chapters). The server class and HTML helpers come from test_preview.py; the browser is one
module-scoped headless Chromium, and each browser test loads the page afresh and waits for what it
checks (events, polled state) with a deadline, never a guessed sleep. The expected tiles, chapters
and sizes come from webvtt-py, the chapters JSON written here and ffprobe, not from the page.

The audio menu with several renditions has a source of its own (`dubbed`, at the end): two audio
streams (eng 440 Hz, fra 660 Hz) plus an --audio-description file (880 Hz), so the rendition that
plays can be told by ear (a WebAudio analyser on the video) as well as by the segments fetched.
"""

from __future__ import annotations

import json
import math
import os
import time
from html.parser import HTMLParser

import m3u8
import pytest
import webvtt

import hlscheck as h
from conftest import run_hlsify
from test_preview import CHROMEDRIVER, CHROMIUM, Server, fetch

SECONDS = 110
WIDTH, HEIGHT = 320, 180
CHAPTERS = [
    {"start": 0, "title": "Intro"},
    {"start": 30, "title": "Q&A <b>bold</b> & a > b"},
    {"start": 52.5, "title": "Part 3 -- 'single' \"double\""},
    {"start": 75, "title": "R&amp;D &lt;raw&gt; <img src=x onerror=\"window.pwned=1\">"},
]
WINDOW = (1280, 900)


# ---------------------------------------------------------------------------
# outputs, servers, browser
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("learner-src") / "talk.mp4")
    h.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate=10:duration={SECONDS}",
           "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "20",
           "-c:a", "aac", "-b:a", "64k", "-ac", "2", path], timeout=120)
    return path


def make_output(source: str, parent, name: str, *extra: str) -> str:
    out = str(parent / name)
    res = run_hlsify(source, "--out", out, "--ladder", "180p", "--segment-duration", "2", "--preset", "ultrafast",
                     "--quiet", *extra, timeout=180)
    assert res.returncode == 0, res.describe()
    return out


@pytest.fixture(scope="module")
def full(source, tmp_path_factory) -> str:
    parent = tmp_path_factory.mktemp("learner-full")
    chapters = parent / "chapters.json"
    chapters.write_text(json.dumps(CHAPTERS))
    out = make_output(source, parent, "talk", "--chapters", str(chapters))
    for rel in ("poster.jpg", "storyboard/storyboard.vtt", "storyboard/storyboard-000.jpg",
                "storyboard/storyboard-001.jpg", "chapters.vtt"):
        assert os.path.isfile(os.path.join(out, rel)), f"hlsify wrote no {rel}: {sorted(os.listdir(out))}"
    return out


@pytest.fixture(scope="module")
def bare(source, tmp_path_factory) -> str:
    out = make_output(source, tmp_path_factory.mktemp("learner-bare"), "talk", "--no-storyboard", "--no-poster")
    for rel in ("poster.jpg", "storyboard", "chapters.vtt"):
        assert not os.path.exists(os.path.join(out, rel)), f"{rel} written despite the flags"
    return out


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """folder -> a running `hlsify preview` of it (started on first use, stopped after the module)."""
    logs = tmp_path_factory.mktemp("learner-logs")
    started: dict[str, Server] = {}

    def get(folder: str) -> Server:
        if folder not in started:
            started[folder] = Server(folder, str(logs / f"preview-{len(started)}.log"))
        return started[folder]

    yield get
    for s in started.values():
        s.close()


def start_chromium(tmp, *extra: str):
    """A headless Chromium (Debian's, through its chromedriver) with the options of test_preview.py's
    `chromium` fixture and a fixed window (the timeline is then 960 px wide), plus `extra`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} missing: run scripts/install-deps.sh (chromium, chromium-driver)", pytrace=False)
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--disable-gpu",
                "--disable-dev-shm-usage", "--mute-audio", "--no-first-run", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                f"--user-data-dir={tmp / 'profile'}", *extra):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER, log_output=str(tmp / "chromedriver.log")))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(15)
    return driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium for the module's browser tests; each loads the page afresh."""
    driver = start_chromium(tmp_path_factory.mktemp("learner-chromium"))
    try:
        yield driver
    finally:
        driver.quit()


# ---------------------------------------------------------------------------
# independent readings of the output
# ---------------------------------------------------------------------------


def vtt_cues(path: str) -> list[tuple[float, float, str]]:
    return [(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, c.text)
            for c in webvtt.read(path).captions]


def tile_at(cues, t: float) -> dict:
    """The storyboard cue covering time t, as sheet file name and rectangle."""
    hits = [c for c in cues if c[0] <= t < c[1]]
    assert len(hits) == 1, f"{len(hits)} storyboard cues cover {t:.3f}s"
    sheet, _, xywh = hits[0][2].partition("#xywh=")
    x, y, w, hgt = map(int, xywh.split(","))
    return {"start": hits[0][0], "end": hits[0][1], "sheet": sheet, "x": x, "y": y, "w": w, "h": hgt}


def picture_size(path: str) -> tuple[int, int]:
    stream = h.ffprobe_json(path, "-select_streams", "v:0", "-show_entries", "stream=width,height")["streams"][0]
    return stream["width"], stream["height"]


# ---------------------------------------------------------------------------
# the served HTML
# ---------------------------------------------------------------------------


class ExtrasParser(HTMLParser):
    """Attributes of the video, the timeline, #thumbnail, #audio-menu and #chapters, and every id."""

    def __init__(self):
        super().__init__()
        self.by_id: dict[str, tuple[str, dict]] = {}
        self.video = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "video":
            self.video = a
        if "id" in a:
            assert a["id"] not in self.by_id, f"id {a['id']!r} twice"
            self.by_id[a["id"]] = (tag, a)


def parse_extras(html: str) -> ExtrasParser:
    p = ExtrasParser()
    p.feed(html)
    return p


def test_page_names_the_poster_storyboard_and_chapters_that_exist(full, servers):
    server = servers(full)
    r = fetch(server.url)
    assert r.status == 200
    page = parse_extras(r.body.decode())
    assert page.video is not None and page.video.get("poster") == "poster.jpg", page.video
    assert page.by_id.get("timeline", (None,))[0] == "div", page.by_id.keys()
    timeline = page.by_id["timeline"][1]
    assert timeline.get("data-storyboard") == "storyboard/storyboard.vtt", timeline
    assert timeline.get("data-chapters") == "chapters.vtt", timeline
    assert page.by_id.get("thumbnail", (None,))[0] == "div"
    assert page.by_id.get("chapters", (None,))[0] == "ol"
    assert page.by_id.get("audio-menu", (None,))[0] == "p"
    # Each one names a file of the output, and the server hands it out as what it is.
    for rel, ctype in ((page.video["poster"], "image/jpeg"), (timeline["data-storyboard"], "text/vtt"),
                       (timeline["data-chapters"], "text/vtt")):
        with open(os.path.join(full, rel), "rb") as f:
            data = f.read()
        got = fetch(server.url + rel)
        assert got.status == 200, rel
        assert got.headers["content-type"].split(";")[0] == ctype, (rel, got.headers)
        assert got.body == data, rel


def test_page_of_a_folder_without_them_names_none(bare, servers):
    page = parse_extras(fetch(servers(bare).url).body.decode())
    assert page.video is not None and "poster" not in page.video, page.video
    timeline = page.by_id.get("timeline", ("div", {}))[1]
    assert "data-storyboard" not in timeline and "data-chapters" not in timeline, timeline
    assert "chapters" not in page.by_id, "a chapter list without chapters.vtt"


# ---------------------------------------------------------------------------
# Chromium
# ---------------------------------------------------------------------------


PAGE_JS = """
var v = document.getElementById('player'), p = window.hlsifyPreview || null;
var th = document.getElementById('thumbnail'), cs = th ? getComputedStyle(th) : null;
return {time: v.currentTime, duration: isFinite(v.duration) ? v.duration : null, paused: v.paused,
        readyState: v.readyState, error: v.error ? {code: v.error.code, message: v.error.message} : null,
        seeks: window.__seeks || [],
        preview: p && {errors: p.errors, storyboard: p.storyboard ? p.storyboard.length : null,
                       chapters: p.chapters || null, thumbnail: p.thumbnail, audioMenu: p.audioMenu},
        thumb: cs && {display: cs.display, image: cs.backgroundImage, position: cs.backgroundPosition,
                      width: cs.width, height: cs.height}};
"""


def wait_for(driver, predicate, timeout: float, what: str) -> dict:
    """Polls the page state until predicate holds; fails on a page error or at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        state = driver.execute_script(PAGE_JS)
        if state["error"] or (state["preview"] and state["preview"]["errors"]):
            pytest.fail(f"page or media error while waiting for {what}: {state['error']} {state['preview']}")
        if predicate(state):
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout}s; last state {state}")
        time.sleep(0.1)


def open_page(driver, server: Server, storyboard: int = 0, chapters: int = 0) -> dict:
    """Loads the page and waits until the video knows its duration and the storyboard and
    chapters (this many cues each) are read; records every `seeked` in window.__seeks."""
    driver.get(server.url)
    driver.execute_script("""
        window.__seeks = [];
        var v = document.getElementById('player');
        v.addEventListener('seeked', function () { window.__seeks.push(v.currentTime); });""")
    return wait_for(driver, lambda s: s["preview"] is not None and s["duration"] and s["readyState"] >= 1
                    and s["preview"]["storyboard"] == storyboard and len(s["preview"]["chapters"]) == chapters,
                    30, f"duration, {storyboard} storyboard cues and {chapters} chapters")


def pause(driver) -> None:
    driver.execute_script("document.getElementById('player').pause();")
    wait_for(driver, lambda s: s["paused"], 10, "the video paused")


def timeline_box(driver) -> dict:
    return driver.execute_script("""
        var r = document.getElementById('timeline').getBoundingClientRect();
        return {left: r.left, width: r.width, top: r.top, height: r.height};""")


def offset_for(box: dict, fraction: float) -> tuple[int, float]:
    """The x offset from the timeline's centre (as WebDriver places it: the floored in-view centre)
    of the pixel at `fraction` of its width, and the fraction that pixel really is."""
    centre = math.floor(box["left"] + box["width"] / 2)
    client_x = round(box["left"] + fraction * box["width"])
    return client_x - centre, (client_x - box["left"]) / box["width"]


@pytest.mark.timeout(120)
def test_chromium_loads_the_page_poster_and_storyboard(full, servers, browser):
    server = servers(full)
    browser.get_log("browser")  # drop what earlier pages logged
    state = open_page(browser, server, storyboard=len(vtt_cues(os.path.join(full, "storyboard/storyboard.vtt"))),
                      chapters=len(CHAPTERS))
    assert state["preview"]["errors"] == []
    # The poster attribute resolves to the served poster.jpg, and that picture decodes at its size.
    poster_url = browser.execute_script("return document.getElementById('player').poster;")
    assert poster_url == server.url + "poster.jpg"
    natural = browser.execute_async_script("""
        var done = arguments[arguments.length - 1], img = new Image();
        img.onload = function () { done([img.naturalWidth, img.naturalHeight]); };
        img.onerror = function () { done(null); };
        img.src = arguments[0];""", poster_url)
    assert natural is not None, f"{poster_url} did not load as an image"
    assert tuple(natural) == picture_size(os.path.join(full, "poster.jpg")), natural
    # The cues the page read are the file's, in order.
    cues = browser.execute_script("return window.hlsifyPreview.storyboard;")
    want = vtt_cues(os.path.join(full, "storyboard/storyboard.vtt"))
    assert [(round(c["start"], 3), round(c["end"], 3), c["text"]) for c in cues] == \
           [(round(a, 3), round(b, 3), t) for a, b, t in want]
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe


@pytest.mark.timeout(120)
def test_hovering_the_timeline_shows_the_tile_under_the_pointer(full, servers, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    server = servers(full)
    cues = vtt_cues(os.path.join(full, "storyboard/storyboard.vtt"))
    state = open_page(browser, server, storyboard=len(cues), chapters=len(CHAPTERS))
    duration = state["duration"]
    assert abs(duration - SECONDS) < 0.5, state
    assert state["thumb"]["display"] == "none", "the thumbnail shows before any hover"
    timeline = browser.find_element(By.ID, "timeline")
    ActionChains(browser).move_to_element_with_offset(timeline, 0, 0).perform()  # scrolls it into view
    # A listener added after the page's runs after it: once it has seen a move, the page has handled it.
    browser.execute_script("""window.__moves = []; document.getElementById('timeline')
        .addEventListener('mousemove', function (e) { window.__moves.push(e.clientX); });""")
    sheets_seen = set()
    # Middles of tiles: the first, row 3 col 7 of sheet 0, sheet 1, and the last tile (its cue is the
    # file's last); the pixel grid moves the time by at most 0.12 s, well inside a 1 s tile.
    for target in (0.5, 37.5, 104.5, SECONDS - 0.5):
        box = timeline_box(browser)
        dx, fraction = offset_for(box, target / duration)
        moves = len(browser.execute_script("return window.__moves;"))
        ActionChains(browser).move_to_element_with_offset(timeline, dx, 0).perform()
        deadline = time.monotonic() + 10
        while len(browser.execute_script("return window.__moves;")) == moves:
            assert time.monotonic() < deadline, f"no mousemove reached the timeline for {target}s"
            time.sleep(0.05)
        client_x = browser.execute_script("return window.__moves[window.__moves.length - 1];")
        assert abs(client_x - (box["left"] + fraction * box["width"])) <= 1, (client_x, box, fraction)
        t = fraction * duration
        want = tile_at(cues, t)
        state = browser.execute_script(PAGE_JS)
        thumb, page_thumb = state["thumb"], state["preview"]["thumbnail"]
        sheet_url = server.url + "storyboard/" + want["sheet"]
        assert page_thumb is not None and abs(page_thumb["time"] - t) < 1.5 * duration / box["width"], \
            f"pointer at {t:.2f}s (cue {want}), the page's last thumbnail is {page_thumb}"
        assert thumb["display"] == "block", (t, thumb)
        assert page_thumb["url"] == sheet_url, (t, page_thumb, want)
        assert (page_thumb["x"], page_thumb["y"], page_thumb["w"], page_thumb["h"]) == \
               (want["x"], want["y"], want["w"], want["h"]), (t, page_thumb, want)
        assert thumb["image"] == f'url("{sheet_url}")', (t, thumb)
        assert thumb["position"] == f"{-want['x']}px {-want['y']}px", (t, thumb, want)
        assert (thumb["width"], thumb["height"]) == (f"{want['w']}px", f"{want['h']}px"), (t, thumb, want)
        sheets_seen.add(sheet_url)
    assert len(sheets_seen) == 2, sheets_seen
    # Each sheet loads in the page: 200, a JPEG, the bytes of the file.
    for url in sorted(sheets_seen):
        got = browser.execute_async_script("""
            var done = arguments[arguments.length - 1];
            fetch(arguments[0]).then(function (r) {
              return r.arrayBuffer().then(function (b) { done([r.status, r.headers.get('content-type'), b.byteLength]); });
            }).catch(function (e) { done([0, String(e), 0]); });""", url)
        size = os.path.getsize(os.path.join(full, "storyboard", url.rsplit("/", 1)[1]))
        assert got == [200, "image/jpeg", size], (url, got)
    # Leaving the timeline hides it again.
    ActionChains(browser).move_to_element_with_offset(timeline, 0, -200).perform()
    wait_for(browser, lambda s: s["thumb"]["display"] == "none", 10, "the thumbnail hidden after the pointer left")


def click_and_wait_for_seek(driver, element, what: str) -> dict:
    before = len(driver.execute_script("return window.__seeks;"))
    element.click()
    return wait_for(driver, lambda s: len(s["seeks"]) > before, 15, f"a seeked event after {what}")


@pytest.mark.timeout(120)
def test_chapter_buttons_seek_to_their_start_and_are_marked_on_the_timeline(full, servers, browser):
    from selenium.webdriver.common.by import By

    server = servers(full)
    cues = vtt_cues(os.path.join(full, "storyboard/storyboard.vtt"))
    state = open_page(browser, server, storyboard=len(cues), chapters=len(CHAPTERS))
    duration = state["duration"]
    chapters = state["preview"]["chapters"]
    want_cues = vtt_cues(os.path.join(full, "chapters.vtt"))
    assert [c["start"] for c in chapters] == [c["start"] for c in CHAPTERS]
    assert [round(c["end"], 3) for c in chapters] == [round(e, 3) for _, e, _ in want_cues]
    buttons = browser.find_elements(By.CSS_SELECTOR, "#chapters > li > button")
    assert len(buttons) == len(CHAPTERS)
    assert [float(b.get_attribute("data-start")) for b in buttons] == [c["start"] for c in CHAPTERS]
    # One mark per chapter, at its share of the duration.
    marks = browser.execute_script("""
        var t = document.getElementById('timeline').getBoundingClientRect();
        return Array.prototype.map.call(document.querySelectorAll('#timeline .chapter-mark'), function (m) {
          return (m.getBoundingClientRect().left - t.left) / t.width; });""")
    assert len(marks) == len(CHAPTERS), marks
    for got, chapter in zip(marks, CHAPTERS):
        assert abs(got - chapter["start"] / duration) < 0.002, (marks, duration)
    pause(browser)
    for index in (3, 1, 0, 2):  # every chapter, each one a move
        start = CHAPTERS[index]["start"]
        state = click_and_wait_for_seek(browser, buttons[index], f"a click on chapter {index + 1}")
        assert abs(state["seeks"][-1] - start) < 0.05, (index, state["seeks"])
        assert abs(state["time"] - start) < 0.05, (index, state)


@pytest.mark.timeout(120)
def test_clicking_the_timeline_seeks_to_the_time_under_the_pointer(full, servers, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    server = servers(full)
    state = open_page(browser, server, storyboard=len(vtt_cues(os.path.join(full, "storyboard/storyboard.vtt"))),
                      chapters=len(CHAPTERS))
    duration = state["duration"]
    pause(browser)
    timeline = browser.find_element(By.ID, "timeline")
    ActionChains(browser).move_to_element_with_offset(timeline, 0, 0).perform()
    box = timeline_box(browser)
    dx, fraction = offset_for(box, 0.75)
    before = len(browser.execute_script("return window.__seeks;"))
    ActionChains(browser).move_to_element_with_offset(timeline, dx, 0).click().perform()
    state = wait_for(browser, lambda s: len(s["seeks"]) > before, 15, "a seeked event after a click at 75%")
    pixel = duration / box["width"]
    assert abs(state["time"] - fraction * duration) <= 1.5 * pixel, (state["time"], fraction * duration)
    assert abs(state["time"] - 0.75 * duration) <= 2 * pixel, (state["time"], 0.75 * duration)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("which", ["full", "bare"])
def test_audio_menu_is_a_select_or_a_note_as_the_browser_allows(full, bare, servers, browser, which):
    folder = full if which == "full" else bare
    state = open_page(browser, servers(folder),
                      storyboard=len(vtt_cues(os.path.join(folder, "storyboard/storyboard.vtt"))) if which == "full" else 0,
                      chapters=len(CHAPTERS) if which == "full" else 0)
    menu = browser.execute_script("""
        var m = document.getElementById('audio-menu'), s = document.getElementById('audio-select');
        return {text: m.textContent, selects: m.querySelectorAll('select').length, inMenu: !!(s && m.contains(s)),
                options: s ? s.options.length : null, tracks: document.getElementById('player').audioTracks ?
                document.getElementById('player').audioTracks.length : null};""")
    assert isinstance(state["preview"]["audioMenu"], bool), state["preview"]
    if state["preview"]["audioMenu"]:
        assert menu["inMenu"] and menu["selects"] == 1, menu
        assert menu["options"] >= 1, menu
    else:
        assert menu["selects"] == 0 and menu["options"] is None and menu["tracks"] is None, menu
        assert "does not switch audio renditions" in menu["text"], menu


@pytest.mark.timeout(120)
def test_chapter_titles_are_shown_as_text(full, servers, browser):
    server = servers(full)
    state = open_page(browser, server, storyboard=len(vtt_cues(os.path.join(full, "storyboard/storyboard.vtt"))),
                      chapters=len(CHAPTERS))
    assert [c["title"] for c in state["preview"]["chapters"]] == [c["title"] for c in CHAPTERS]
    got = browser.execute_script("""
        var list = document.getElementById('chapters');
        return {items: Array.prototype.map.call(list.children, function (li) {
                  return {tag: li.tagName, elements: li.querySelectorAll('*').length,
                          button: li.firstElementChild ? li.firstElementChild.tagName : null,
                          text: li.firstElementChild ? li.firstElementChild.textContent : null}; }),
                marks: Array.prototype.map.call(document.querySelectorAll('#timeline .chapter-mark'),
                  function (m) { return {title: m.title, children: m.children.length}; }),
                injected: document.querySelectorAll('#chapters img, #chapters b, #timeline img, #timeline b').length,
                pwned: window.pwned === undefined ? null : window.pwned};""")
    assert [i["text"] for i in got["items"]] == [c["title"] for c in CHAPTERS], got["items"]
    for item in got["items"]:
        assert (item["tag"], item["button"], item["elements"]) == ("LI", "BUTTON", 1), item
    assert [m["title"] for m in got["marks"]] == [c["title"] for c in CHAPTERS], got["marks"]
    assert all(m["children"] == 0 for m in got["marks"]), got["marks"]
    assert got["injected"] == 0 and got["pwned"] is None, got


@pytest.mark.timeout(120)
def test_chromium_page_without_extras_has_no_thumbnail_or_chapters(bare, servers, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    state = open_page(browser, servers(bare))
    assert state["preview"]["errors"] == [] and state["preview"]["chapters"] == []
    assert browser.execute_script("return document.getElementById('player').getAttribute('poster');") is None
    timeline = browser.find_element(By.ID, "timeline")
    ActionChains(browser).move_to_element_with_offset(timeline, 0, 0).perform()
    # The mousemove has been handled once a listener added now (after the page's) has seen one.
    browser.execute_script("""window.__moved = 0; document.getElementById('timeline')
        .addEventListener('mousemove', function () { window.__moved++; });""")
    ActionChains(browser).move_to_element_with_offset(timeline, 40, 0).perform()
    deadline = time.monotonic() + 10
    while not browser.execute_script("return window.__moved;"):
        assert time.monotonic() < deadline, "no mousemove reached the timeline"
        time.sleep(0.1)
    state = browser.execute_script(PAGE_JS)
    assert state["thumb"]["display"] == "none" and state["preview"]["thumbnail"] is None, state
    assert browser.execute_script("return document.querySelectorAll('.chapter-mark').length;") == 0


@pytest.mark.timeout(120)
def test_audio_menu_lists_the_renditions_where_the_browser_exposes_audio_tracks(full, servers, tmp_path):
    """Chromium exposes `video.audioTracks` behind a Blink feature: with it on, the page must take
    the menu branch, one option per audio track, labelled with the rendition's NAME."""
    driver = start_chromium(tmp_path, "--enable-blink-features=AudioVideoTracks")
    try:
        state = open_page(driver, servers(full), storyboard=len(vtt_cues(os.path.join(full, "storyboard/storyboard.vtt"))),
                          chapters=len(CHAPTERS))
        assert state["preview"]["audioMenu"] is True, "the browser has audioTracks but the page took the note branch"
        read = """var v = document.getElementById('player'), s = document.getElementById('audio-select');
            var labels = []; for (var i = 0; i < v.audioTracks.length; i++) { labels.push(v.audioTracks[i].label); }
            return {inMenu: !!(s && document.getElementById('audio-menu').contains(s)), tracks: labels,
                    options: s ? Array.prototype.map.call(s.options, function (o) { return o.textContent; }) : null};"""
        deadline = time.monotonic() + 15
        while True:
            menu = driver.execute_script(read)
            if menu["tracks"] and menu["options"] == menu["tracks"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert menu["inMenu"], menu
        assert menu["tracks"] == ["Main"], menu  # the one AAC rendition hlsify writes, NAME="Main"
        assert menu["options"] == menu["tracks"], menu
    finally:
        driver.quit()


# ---------------------------------------------------------------------------
# several audio renditions: the menu and the table
# ---------------------------------------------------------------------------

# 40 s, not a few: Chromium's native HLS player buffers about 10 s ahead of the play position and a
# switch only changes what it fetches next (audio already buffered keeps playing, even after a seek
# back into it), so each switch is observed past everything buffered so far, twice. At 320x180 and
# 10 fps with one 180p rung this still transcodes in a few seconds.
DUB_SECONDS = 40
DUB_SEGMENT = 2.0
DESCRIBES_VIDEO = "public.accessibility.describes-video"
# What hlsify is asked to write, in master order (default first): NAME in the track's own language,
# LANGUAGE, DEFAULT, CHARACTERISTICS, and the tone each one carries here.
DUB_RENDITIONS = [
    {"name": "English", "language": "en", "default": True, "characteristics": None, "hz": 440},
    {"name": "Français", "language": "fr", "default": False, "characteristics": None, "hz": 660},
    {"name": "English (audio description)", "language": "en", "default": False,
     "characteristics": DESCRIBES_VIDEO, "hz": 880},
]


def tone(path: str, hz: int, seconds: float) -> None:
    h.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", f"sine=frequency={hz}:sample_rate=48000:duration={seconds}",
           "-c:a", "aac", "-b:a", "64k", "-ac", "2", path], timeout=60)


@pytest.fixture(scope="module")
def dubbed(tmp_path_factory) -> dict:
    """An output with three audio renditions: the source's two streams (eng, its default, and fra)
    and an English audio description. No storyboard or poster (not what is checked here).
    -> {"folder", "renditions": DUB_RENDITIONS each with its "uri" from the master}."""
    parent = tmp_path_factory.mktemp("learner-dubbed")
    src, described = str(parent / "dubbed.mp4"), str(parent / "described.m4a")
    h.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate=10:duration={DUB_SECONDS}",
           "-f", "lavfi", "-i", f"sine=frequency={DUB_RENDITIONS[0]['hz']}:sample_rate=48000:duration={DUB_SECONDS}",
           "-f", "lavfi", "-i", f"sine=frequency={DUB_RENDITIONS[1]['hz']}:sample_rate=48000:duration={DUB_SECONDS}",
           "-map", "0:v", "-map", "1:a", "-map", "2:a",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "20",
           "-c:a", "aac", "-b:a", "64k", "-ac", "2",
           "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra", src], timeout=120)
    tone(described, DUB_RENDITIONS[2]["hz"], DUB_SECONDS)
    folder = make_output(src, parent, "dubbed", "--no-storyboard", "--no-poster",
                         "--audio-description", f"en={described}")
    # The master as an HLS parser reads it: the renditions asked for, in this order, one group.
    media = [m for m in m3u8.load(os.path.join(folder, "master.m3u8")).media if m.type == "AUDIO"]
    got = [{"name": m.name, "language": m.language, "default": m.default == "YES",
            "characteristics": m.characteristics, "group": m.group_id} for m in media]
    want = [{**{k: r[k] for k in ("name", "language", "default", "characteristics")}, "group": "audio"}
            for r in DUB_RENDITIONS]
    assert got == want, f"the master's audio renditions: {got}"
    uris = [m.uri for m in media]
    assert len(set(uris)) == len(uris) and all(os.path.isfile(os.path.join(folder, u)) for u in uris), uris
    return {"folder": folder, "renditions": [{**r, "uri": u} for r, u in zip(DUB_RENDITIONS, uris)]}


def rendition_dir(uri: str) -> str:
    return uri.rsplit("/", 1)[0] + "/"


class AudioTableParser(HTMLParser):
    """The header cells and the rows (data-uri and cell texts) of <table id="audio">."""

    def __init__(self):
        super().__init__()
        self.headers: list[str] = []
        self.rows: list[dict] = []
        self._in = False
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "audio":
            self._in = True
        elif self._in and tag == "tr":
            self._row = {"uri": a.get("data-uri"), "cells": []}
        elif self._in and tag in ("td", "th"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if not self._in:
            return
        if tag in ("td", "th") and self._cell is not None:
            self._row["cells"].append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row["uri"] is None:
                self.headers = self._row["cells"]
            else:
                self.rows.append(self._row)
            self._row = None
        elif tag == "table":
            self._in = False


def check_audio_table(headers: list[str], rows: list[dict], renditions: list[dict]) -> None:
    """Every rendition listed once, in master order, with its NAME, LANGUAGE and DEFAULT, and
    CHARACTERISTICS where the table has a column for them."""
    assert [r["uri"] for r in rows] == [r["uri"] for r in renditions], rows
    for column in ("Language", "Name", "Default"):
        assert column in headers, f"the audio table has no {column} column: {headers}"
    # The table has no CHARACTERISTICS column (Playlist, Group, Language, Name, Channels, Default):
    # the description row differs from the main English one only by its NAME. Checked if it gets one.
    characteristics = next((i for i, hd in enumerate(headers) if "haracteristic" in hd), None)
    for row, want in zip(rows, renditions):
        cells = dict(zip(headers, row["cells"]))
        assert cells["Name"] == want["name"], (cells, want)
        assert cells["Language"] == want["language"], (cells, want)
        assert cells["Default"] == ("yes" if want["default"] else "no"), (cells, want)
        assert cells.get("Group") in (None, "audio"), cells
        if characteristics is not None:
            assert (want["characteristics"] or "") in row["cells"][characteristics], (cells, want)


def test_audio_table_lists_every_rendition_of_the_group(dubbed, servers):
    r = fetch(servers(dubbed["folder"]).url)
    assert r.status == 200
    table = AudioTableParser()
    table.feed(r.body.decode())
    check_audio_table(table.headers, table.rows, dubbed["renditions"])
    menu = parse_extras(r.body.decode()).by_id.get("audio-menu")
    assert menu is not None and menu[0] == "p", "no #audio-menu for the script to fill"


# Instrumentation: the video's sound routed through a WebAudio analyser (the page's video is muted,
# so it is unmuted here; Chromium runs with --mute-audio, so nothing is heard outside), and the
# strongest frequency read from it.
EAR_JS = """
var v = document.getElementById('player');
if (!window.__ear) {
  var ctx = new AudioContext(), an = ctx.createAnalyser();
  an.fftSize = 8192;
  ctx.createMediaElementSource(v).connect(an);
  an.connect(ctx.destination);
  window.__ear = {ctx: ctx, an: an};
}
v.muted = false;
return window.__ear.ctx.state;
"""
PEAK_JS = """
var ear = window.__ear, bins = new Float32Array(ear.an.frequencyBinCount), best = 1;
ear.an.getFloatFrequencyData(bins);
for (var i = 2; i < bins.length; i++) { if (bins[i] > bins[best]) { best = i; } }
return {hz: best * ear.ctx.sampleRate / ear.an.fftSize, db: bins[best], ctx: ear.ctx.state};
"""
AUDIO_JS = """
var v = document.getElementById('player'), s = document.getElementById('audio-select');
var tracks = null, buffered = [];
if (v.audioTracks) {
  tracks = [];
  for (var i = 0; i < v.audioTracks.length; i++) {
    var t = v.audioTracks[i];
    tracks.push({label: t.label, language: t.language, kind: t.kind, enabled: t.enabled});
  }
}
for (var j = 0; j < v.buffered.length; j++) { buffered.push([v.buffered.start(j), v.buffered.end(j)]); }
return {tracks: tracks, buffered: buffered, time: v.currentTime, paused: v.paused,
        menu: document.getElementById('audio-menu').textContent,
        inMenu: !!(s && document.getElementById('audio-menu').contains(s)),
        options: s ? Array.prototype.map.call(s.options, function (o) {
          return {text: o.textContent, value: o.value, selected: o.selected}; }) : null,
        value: s ? s.value : null,
        fetched: performance.getEntriesByType('resource').map(function (e) { return e.name; })};
"""


def poll(driver, script: str, predicate, timeout: float, what: str):
    """Runs `script` until predicate holds on its result; fails on a page or media error or at the
    deadline (with the last result)."""
    deadline = time.monotonic() + timeout
    while True:
        page = driver.execute_script(PAGE_JS)
        if page["error"] or (page["preview"] and page["preview"]["errors"]):
            pytest.fail(f"page or media error while waiting for {what}: {page['error']} {page['preview']}")
        got = driver.execute_script(script)
        if predicate(got):
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout}s; last {got}")
        time.sleep(0.1)


def audio_state(driver, server: Server) -> dict:
    """AUDIO_JS with the fetched URLs made relative to the server."""
    state = driver.execute_script(AUDIO_JS)
    state["fetched"] = [u[len(server.url):] for u in state["fetched"] if u.startswith(server.url)]
    return state


def wait_for_tone(driver, hz: int, what: str, timeout: float = 20) -> dict:
    """Until the strongest frequency of what plays is `hz` (within two analyser bins, 12 Hz)."""
    return poll(driver, PEAK_JS, lambda p: abs(p["hz"] - hz) < 12 and p["db"] > -70, timeout,
                f"a {hz} Hz tone playing ({what})")


def segments_of(fetched: list[str], uri: str) -> list[str]:
    return [u for u in fetched if u.startswith(rendition_dir(uri)) and u.endswith(".m4s")]


@pytest.mark.timeout(180)
def test_without_audio_tracks_the_page_notes_it_and_the_table_lists_every_rendition(dubbed, servers, browser):
    """Chromium without the Blink feature has no `video.audioTracks`: the page takes the note
    branch, the table (the fallback) shows every rendition, and what plays is the default one."""
    server = servers(dubbed["folder"])
    renditions = dubbed["renditions"]
    state = open_page(browser, server)
    assert state["preview"]["audioMenu"] is False, state["preview"]
    audio = audio_state(browser, server)
    assert audio["tracks"] is None and audio["options"] is None and not audio["inMenu"], audio
    assert "does not switch audio renditions" in audio["menu"] and "table below lists them" in audio["menu"], audio
    # The table in the live page (after the script ran): every rendition, shown (laid out, not hidden).
    live = browser.execute_script("""
        var t = document.getElementById('audio');
        if (!t || t.tagName !== 'TABLE') { return null; }
        var rows = Array.prototype.map.call(t.rows, function (tr) {
          return {uri: tr.getAttribute('data-uri'), cells: Array.prototype.map.call(tr.cells, function (c) {
            return c.textContent.trim(); }), shown: tr.getBoundingClientRect().height > 0}; });
        return {headers: rows[0].cells, rows: rows.slice(1), shown: t.getBoundingClientRect().height > 0};""")
    assert live is not None and live["shown"], live
    assert all(r["shown"] for r in live["rows"]), live
    check_audio_table(live["headers"], live["rows"], renditions)
    # The default rendition is the one the player fetches and plays; the others are never fetched.
    assert browser.execute_script(EAR_JS) == "running"
    browser.execute_script("document.getElementById('player').play();")
    wait_for_tone(browser, renditions[0]["hz"], "the default rendition, no menu")
    fetched = audio_state(browser, server)["fetched"]
    assert segments_of(fetched, renditions[0]["uri"]), fetched
    for other in renditions[1:]:
        assert not [u for u in fetched if u.startswith(rendition_dir(other["uri"]))], (other["name"], fetched)


def served_paths(server: Server) -> list[str]:
    """The paths of the GETs the preview server logged with 200 or 206, in order."""
    paths = []
    for line in server.stderr().splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "GET" and parts[2] in ("200", "206"):
            paths.append(parts[1].lstrip("/"))
    return paths


@pytest.mark.timeout(240)
def test_audio_menu_switches_between_every_rendition_chromium_exposes(dubbed, servers, tmp_path):
    """With `video.audioTracks` (the AudioVideoTracks Blink feature), Chromium 156's native HLS
    player exposes every rendition of the audio group, not only the default: one track each, in
    master order, label = NAME, language = LANGUAGE, the DEFAULT=YES one enabled (all of kind
    "main", the description included: CHARACTERISTICS is not mapped to "main-desc"). The page must
    give one option per track labelled with its NAME, the enabled one selected, and choosing an
    option must enable that track alone; Chromium then fetches the chosen rendition's playlist and,
    past what it has buffered, its segments, and that rendition is what plays."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server = servers(dubbed["folder"])
    renditions = dubbed["renditions"]
    names = [r["name"] for r in renditions]
    driver = start_chromium(tmp_path, "--enable-blink-features=AudioVideoTracks")
    try:
        state = open_page(driver, server)
        assert state["preview"]["audioMenu"] is True, "the browser has audioTracks but the page took the note branch"
        audio = poll(driver, AUDIO_JS, lambda a: a["tracks"] and len(a["tracks"]) == len(renditions)
                     and a["options"] and len(a["options"]) == len(a["tracks"]), 15,
                     f"{len(renditions)} audio tracks and as many options")
        # What Chromium exposes (the premise of the menu): every rendition, as the master lists it.
        assert [(t["label"], t["language"], t["enabled"]) for t in audio["tracks"]] == \
               [(r["name"], r["language"], r["default"]) for r in renditions], audio["tracks"]
        # What the page makes of it: one option per track, labelled with the NAME, the enabled one selected.
        assert audio["inMenu"], audio
        assert [o["text"] for o in audio["options"]] == names, audio["options"]
        assert [o["selected"] for o in audio["options"]] == [t["enabled"] for t in audio["tracks"]], audio
        assert audio["value"] == audio["options"][0]["value"], audio
        # The table still lists every rendition beside the menu.
        table = AudioTableParser()
        table.feed(driver.page_source)
        check_audio_table(table.headers, table.rows, renditions)

        assert driver.execute_script(EAR_JS) == "running"
        wait_for_tone(driver, renditions[0]["hz"], "the default rendition")
        select = Select(driver.find_element(By.ID, "audio-select"))
        for index in (1, 2):  # French (a stream of the source), then the description (an added file)
            chosen = renditions[index]
            driver.execute_script("document.getElementById('player').pause();")
            wait_for(driver, lambda s: s["paused"], 10, "the video paused")
            fetched_before = audio_state(driver, server)["fetched"]
            select.select_by_visible_text(chosen["name"])  # a user's choice: fires `change`
            enabled = [i == index for i in range(len(renditions))]
            audio = poll(driver, AUDIO_JS, lambda a: [t["enabled"] for t in a["tracks"]] == enabled, 10,
                         f"{chosen['name']} enabled alone")
            assert [o["selected"] for o in audio["options"]] == enabled, audio["options"]
            # Past what is buffered (one segment of margin for a fetch under way at the switch), the
            # player must fetch the chosen rendition; the tone says it is what plays.
            end = max((b[1] for b in audio["buffered"]), default=0.0)
            segment = int(end // DUB_SEGMENT) + 2
            target = segment * DUB_SEGMENT + DUB_SEGMENT / 2
            assert target < DUB_SECONDS - 1, f"the source is too short to switch past the buffer: {audio}"
            seeks = len(driver.execute_script("return window.__seeks;"))
            driver.execute_script("var v = document.getElementById('player'); v.currentTime = arguments[0]; v.play();",
                                  target)
            wait_for(driver, lambda s: len(s["seeks"]) > seeks and not s["paused"], 15, f"a seek to {target}s")
            wanted = f"{rendition_dir(chosen['uri'])}segment-{segment:05d}.m4s"
            audio = poll(driver, AUDIO_JS, lambda a: wanted in [u[len(server.url):] for u in a["fetched"]], 20,
                         f"{wanted} fetched after choosing {chosen['name']}")
            wait_for_tone(driver, chosen["hz"], f"after choosing {chosen['name']} and seeking to {target}s")
            audio = audio_state(driver, server)
            assert [t["enabled"] for t in audio["tracks"]] == enabled, audio["tracks"]
            new = audio["fetched"][len(fetched_before):]
            assert audio["fetched"][:len(fetched_before)] == fetched_before, "performance entries reordered"
            assert chosen["uri"] in new, f"no fresh {chosen['uri']} after the switch: {new}"
            # The segment at the seek target came from the chosen rendition only.
            for other in renditions:
                if other is not chosen:
                    assert f"{rendition_dir(other['uri'])}segment-{segment:05d}.m4s" not in audio["fetched"], \
                        (other["name"], audio["fetched"])
            # The preview server handed it out (its log, independent of the browser's entries).
            assert wanted in served_paths(server), server.stderr()[-2000:]
    finally:
        driver.quit()
