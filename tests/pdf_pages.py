"""Reading a PDF's pages back, word positions and fonts included (poppler's pdftohtml -xml),
and the page checks a reviewer makes by eye, so tests can make them on every page.

Units are pdftohtml's pixels; ``Page.scale`` converts points to them."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

MARGIN_Y_PT = 2.5 / 2.54 * 72  # reports/_quarto.yml: typst margin y = 2.5cm
BODY_PT = 10


@dataclass
class Text:
    top: float
    left: float
    width: float
    height: float
    size: float  # points
    bold: bool
    text: str

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass
class Page:
    number: int
    width: float
    height: float
    scale: float  # pixels per point
    texts: list[Text] = field(default_factory=list)

    def footer(self) -> list[Text]:
        """The page number: the text in the bottom margin that is the page's number."""
        return [
            t
            for t in self.texts
            if t.text.strip() == str(self.number) and t.top > self.height - MARGIN_Y_PT * self.scale
        ]

    def body(self) -> list[Text]:
        footer = self.footer()
        return [t for t in self.texts if t not in footer]


def read_pages(pdf: Path) -> list[Page]:
    xml = subprocess.run(
        ["pdftohtml", "-xml", "-i", "-stdout", "-q", str(pdf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xml))
    fonts: dict[str, float] = {}
    pages = []
    for page in root.iter("page"):
        for spec in page.iter("fontspec"):
            fonts[spec.get("id")] = float(spec.get("size"))
        width, height = float(page.get("width")), float(page.get("height"))
        scale = width / 595.28  # A4 width in points
        out = Page(int(page.get("number")), width, height, scale)
        for t in page.iter("text"):
            words = "".join(t.itertext())
            if not words.strip():
                continue
            out.texts.append(
                Text(
                    float(t.get("top")),
                    float(t.get("left")),
                    float(t.get("width")),
                    float(t.get("height")),
                    fonts[t.get("font")] / scale,
                    t.find(".//b") is not None,
                    words,
                )
            )
        pages.append(out)
    return pages


def below_margin(page: Page) -> list[Text]:
    """Text of the page's body (not its page number) that runs into the bottom margin."""
    limit = page.height - MARGIN_Y_PT * page.scale
    # a line's box reaches below its baseline by its descent: a third of its height
    return [t for t in page.body() if t.bottom - 0.35 * t.height > limit]


def is_heading(text: Text) -> bool:
    """Part of a section heading: bold (a heading's line is bold throughout, a table row
    with a bold cell is not)."""
    return text.bold


def heading_at_foot(page: Page) -> Text | None:
    """The heading, if the last line of the page's body is one (its content on the next)."""
    body = page.body()
    if not body:
        return None
    last = max(body, key=lambda t: t.bottom)
    line = [t for t in body if abs(t.top - last.top) < 2]
    return last if all(is_heading(t) for t in line) else None


N_SPLIT = re.compile(r"\(N\s*=?\s*$|^\s*=\s*\d+\)|^\s*\d+\)\s*$")


def split_n(page: Page) -> list[Text]:
    """Header cells broken inside "(N = n)": a line ending in "(N =" or beginning "= n)"."""
    return [t for t in page.body() if N_SPLIT.search(t.text)]


def blank_share(page: Page) -> float:
    """The share of the text area's height below the page's last line of body text."""
    top = MARGIN_Y_PT * page.scale
    bottom = page.height - MARGIN_Y_PT * page.scale
    body = page.body()
    last = max((t.bottom for t in body), default=top)
    return max(0.0, (bottom - last) / (bottom - top))


def numbers(pages: list[Page], kind: str) -> list[int]:
    """The numbers of the captions "Table n:" (or "Figure n:") in the order they appear."""
    found = []
    for page in pages:
        for t in sorted(page.body(), key=lambda t: (t.top, t.left)):
            found += [int(n) for n in re.findall(rf"\b{kind}\s(\d+):", t.text)]
    return found
