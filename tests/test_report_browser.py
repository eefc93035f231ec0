"""The reference trial's report.html as a reader's browser shows it: headless Chromium
(Debian's ``chromium``; ``$CHROMIUM``, ``chromium``, ``chromium-browser`` or
``google-chrome``) loads the page from disk, and its DOM after the page has run
(``--dump-dom``) holds every section heading of the report and every figure the figures step
wrote, each an <img> with its alt text and a caption; a screenshot is saved beside it. The
network log Chromium writes (``--log-net-log``) shows that the page asks for no URL; a
control page that does fetch shows its requests there.

The workflow runs once, in a copy of the repository (conftest's ``reference_run``: the
whole default target, so report.html is rendered by the workflow's own report rule).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REFERENCE_TRIAL

pytestmark = pytest.mark.e2e

# Every "## " and "### " heading of reports/report.qmd that the reference trial shows (the
# between-arm sections are written only for trials with several arms).
FIGURE_NAMES = ["means_by_visit", "rating_distribution", "trajectories", "subgroup_forest"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--disable-extensions", "--mute-audio"]


def find_chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def section_headings(results: Path) -> list[str]:
    """The ``##``/``###`` headings of the report's Markdown for the trial whose results are
    in ``results``, as its sections write them (trialreport.report.contents)."""
    from trialreport.report.contents import report_markdown
    from trialreport.report.results import Results

    text = report_markdown(Results.load(results, REFERENCE_TRIAL, "jupyter"))
    return [m.group(2).strip() for m in re.finditer(r"^(##|###) (.+)$", text, re.MULTILINE)]


class Page(HTMLParser):
    """Headings' texts, and every <img> (its attributes) with the <figcaption> of its
    <figure>."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.images: list[dict[str, str]] = []
        self.captions: list[str] = []
        self._heading: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = []
        elif tag == "img":
            self.images.append({k: v or "" for k, v in attrs})
        elif tag == "figcaption":
            self._caption = []

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).replace("¶", "").split()))
            self._heading = None
        elif tag == "figcaption" and self._caption is not None:
            self.captions.append(" ".join("".join(self._caption).split()))
            self._caption = None

    def handle_data(self, data: str) -> None:
        for part in (self._heading, self._caption):
            if part is not None:
                part.append(data)


def browse(chromium: str, url: str, out: Path, *args: str) -> subprocess.CompletedProcess:
    """Chromium, headless with a new empty profile in ``out``, on ``url``."""
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={out}", *args, url],
                          capture_output=True, text=True, timeout=180, check=False)


def dump_dom(chromium: str, url: str, out: Path) -> tuple[str, Path]:
    """The DOM after the page ran, and the network log of loading it."""
    netlog = out / "netlog.json"
    done = browse(chromium, url, out / "profile", "--virtual-time-budget=5000",
                  f"--log-net-log={netlog}", "--net-log-capture-mode=Everything",
                  "--dump-dom")
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, netlog


def page_requests(netlog: Path) -> list[str]:
    """The URLs the page asked for, from Chromium's network log: every URL request that has
    the page as its initiator or in its network isolation key (a file: page's origin is
    opaque, "null", and its key "file://"). Chromium's own background requests (time,
    component updates, accounts) are "not an origin"-initiated with no page in the key,
    and are not the page's."""
    log = json.loads(netlog.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] != start or "url" not in params:
            continue
        browser_own = (params.get("initiator") == "not an origin"
                       and not str(params.get("network_isolation_key", "")).startswith(
                           "file:"))
        if not browser_own:
            urls.append(params["url"])
    return urls


def test_the_network_log_catches_a_page_that_fetches(tmp_path) -> None:
    """The control for test_no_request_leaves_the_page: a page with an image, a
    stylesheet and a fetch() from loopback (nothing listens on port 9: refused at once)
    shows exactly those three in page_requests."""
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium found (set $CHROMIUM, or apt-get install -y chromium)")
    page = tmp_path / "fetches.html"
    page.write_text('<!DOCTYPE html><html><body><h1>x</h1>'
                    '<img src="http://127.0.0.1:9/probe.png" alt="p">'
                    '<link rel="stylesheet" href="http://127.0.0.1:9/style.css">'
                    '<script>fetch("http://127.0.0.1:9/api").catch(() => {});</script>'
                    "</body></html>", encoding="utf-8")
    _, netlog = dump_dom(chromium, page.as_uri(), tmp_path)
    assert sorted(page_requests(netlog)) == ["http://127.0.0.1:9/api",
                                             "http://127.0.0.1:9/probe.png",
                                             "http://127.0.0.1:9/style.css"]


@pytest.fixture(scope="module")
def browsed(request, tmp_path_factory):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium found (set $CHROMIUM, or install Debian's chromium: "
                    "apt-get install -y chromium; .ci/run does): the report cannot be opened "
                    "in a browser")
    repo = request.getfixturevalue("reference_run")  # only once Chromium is there
    results = repo / "results" / REFERENCE_TRIAL
    page = results / "report.html"
    out = tmp_path_factory.mktemp("browser")
    dom, netlog = dump_dom(chromium, page.resolve().as_uri(), out)
    # Saved where pytest keeps its temporary folders (pytest --basetemp=DIR to choose).
    screenshot = out / "report.png"
    shot = browse(chromium, page.resolve().as_uri(), out / "shot", "--window-size=1280,2400",
                  f"--screenshot={screenshot}")
    assert shot.returncode == 0, shot.stderr[-3000:]
    parsed = Page()
    parsed.feed(dom)
    return {"results": results, "dom": dom, "page": parsed, "netlog": netlog,
            "screenshot": screenshot, "html": page.read_text(encoding="utf-8")}


def test_every_section_heading_is_on_the_page(browsed) -> None:
    expected = section_headings(browsed["results"])
    assert len(expected) >= 15  # the report's headings, not an empty list
    shown = browsed["page"].headings
    for heading in expected:
        assert heading in shown, (heading, shown)


def missing_from_contents(page_html: str) -> list[str]:
    """The section (h2) and subsection (h3) headings of the page that its contents list
    (nav#TOC, as Quarto's toc: true writes it) does not link to."""
    nav = re.search(r'<nav id="TOC".*?</nav>', page_html, re.DOTALL)
    linked = set(re.findall(r'href="#([^"]+)"', nav.group(0))) if nav else set()
    rest = page_html.replace(nav.group(0), "") if nav else page_html
    return [
        html.unescape(re.sub(r"<[^>]+>", "", text)).replace("\u00b6", "").strip()
        for _, anchor, text in re.findall(
            r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', rest, re.DOTALL
        )
        if anchor not in linked
    ]


def test_every_section_heading_is_in_the_contents_list(browsed) -> None:
    assert '<nav id="TOC"' in browsed["dom"]
    assert missing_from_contents(browsed["dom"]) == []
    assert len(re.findall(r'<li class="toc-h[23]">', browsed["dom"])) >= 15


def test_the_contents_check_sees_a_heading_left_out() -> None:
    page = (
        '<nav id="TOC"><ul><li><a href="#a">A</a></li></ul></nav>'
        '<h2 id="a">A</h2><h3 id="b">B<a class="anchor-link">\u00b6</a></h3>'
    )
    assert missing_from_contents(page) == ["B"]
    assert missing_from_contents(page.replace("</ul>", '<li><a href="#b">B</a></li></ul>')) == []


def test_tables_are_numbered_in_order_with_their_captions(browsed) -> None:
    numbers = [
        int(n)
        for n in re.findall(
            r'<p class="table-caption" id="tbl-\d+">Table '
            r"(\d+):",
            browsed["dom"],
        )
    ]
    assert len(numbers) >= 15 and numbers == list(range(1, len(numbers) + 1))


def test_every_figure_is_an_image_with_its_alt_text_and_caption(browsed) -> None:
    """One <img> per figure the figures step wrote, in the report's order, each showing
    that PNG (its bytes, as a data: URI) with the alt text and caption of figures.captions,
    and no other image."""
    import base64

    import pandas as pd

    from trialreport.analyse.ard import read_ard
    from trialreport.common.config import as_trial
    from trialreport.figures import captions as figure_captions

    results = browsed["results"]
    cfg = as_trial(json.loads((results / "trial_config.json").read_text(encoding="utf-8")),
                   REFERENCE_TRIAL)
    ard = read_ard(results / "ard.csv")
    texts = figure_captions.captions(cfg, ard)
    # the reference trial draws all four; it configures no MMRM, whose figure is not shown
    assert set(figure_captions.unavailable(cfg, ard)) == {"mmrm_lsmeans"}
    images = browsed["page"].images
    assert len(images) == len(FIGURE_NAMES), [i.get("alt", "")[:60] for i in images]
    for name, image, caption in zip(FIGURE_NAMES, images, browsed["page"].captions,
                                    strict=True):
        wanted_caption, wanted_alt = texts[name]
        assert image["alt"] == " ".join(wanted_alt.split()), name
        assert len(image["alt"]) > 80, name  # a description with the numbers, not a stub
        assert caption.endswith(wanted_caption), (name, caption)
        src = image["src"]
        assert src.startswith("data:image/png;base64,"), name
        png = (results / "figures" / f"{name}.png").read_bytes()
        assert base64.b64decode(src.split(",", 1)[1]) == png, name
    assert pd.Series([c.split(":")[0] for c in browsed["page"].captions]).tolist() == [
        f"Figure {n}" for n in range(1, len(FIGURE_NAMES) + 1)]


def test_a_screenshot_of_the_page_is_saved(browsed) -> None:
    shot = browsed["screenshot"].read_bytes()
    assert shot.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(shot[16:20], "big"), int.from_bytes(shot[20:24], "big")
    assert (width, height) == (1280, 2400)
    assert len(shot) > 50_000  # a page of text and tables, not a blank one


def test_no_request_leaves_the_page(browsed) -> None:
    """Loading the page asked for no URL at all (page_requests, whose control is above),
    and the page links no script, stylesheet, font, frame or image from elsewhere."""
    assert page_requests(browsed["netlog"]) == []
    page = html.unescape(browsed["html"])
    fetched = re.findall(r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*\b"
                         r"(?:src|href|data)=[\"']?((?!data:|#)[^\"'\s>]+)", page,
                         re.IGNORECASE)
    assert fetched == []
    assert not re.search(r"@import|url\((?!\s*[\"']?data:)", page), "CSS fetches a file"
