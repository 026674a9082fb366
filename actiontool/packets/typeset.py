"""Set text on US Letter pages with embedded fonts: wrapping, font fallback and right-to-left lines.

fpdf2 draws the pages and embeds a subset of each font. Its own paragraph layout (`multi_cell`) measures
a line again for every character it adds, which took 80 s for 5,000 letters; here each paragraph is
wrapped once with cached glyph widths and each line drawn with `text()`, about 1 ms a letter. Lines
with right-to-left script go through fpdf2's bidi algorithm and HarfBuzz shaping instead (slower, rare).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import TTFFont

PAGE_WIDTH, PAGE_HEIGHT = 612.0, 792.0  # US Letter in points
MARGIN = 72.0  # one inch all round: room for a staple or a hole punch, and what offices expect
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
BOTTOM = PAGE_HEIGHT - MARGIN

_MAIN = "dejavu"
_CJK = "droid"
_FONT_FILES = {
    (_MAIN, ""): "DejaVuSans.ttf",
    (_MAIN, "B"): "DejaVuSans-Bold.ttf",
    (_CJK, ""): "DroidSansFallback.ttf",
}
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_FIRST_STRONG = re.compile("[A-Za-z\u00c0-\u024f\u0370-\u058f\u0590-\u08ff\u3040-\u9fff\uac00-\ud7a3]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\u200b\u2028\u2029\ufeff]")
_TOKEN = re.compile(r"\S+\s*")
_CACHE_LIMIT = 200_000  # entries per cache: bounds memory on a packet of unusually varied letters


def _fonts_dir() -> Path:
    return Path(str(resources.files("actiontool.packets"))) / "fonts"


@cache
def shaping_available() -> bool:
    """Return whether HarfBuzz is installed, so right-to-left lines can be shaped and reordered."""
    return importlib.util.find_spec("uharfbuzz") is not None


def clean(text: str) -> str:
    """Return text with line ends unified, tabs as spaces and invisible control characters removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return _CONTROL.sub("", text)


def ellipsize(text: str, limit: int) -> str:
    """Return `text` cut to at most `limit` characters at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:.") + "…"


class Document:
    """A PDF being set, with a cursor `y` (top of the next line) that moves down the page."""

    def __init__(self, title: str, on_new_page: Callable[[Document], None] | None = None) -> None:
        pdf = FPDF(unit="pt", format="letter")
        pdf.set_auto_page_break(False)  # pages are broken here, where the letter's header is known
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.c_margin = 0  # shaped lines go through cell(); without this they sit 2.8 pt right of the rest
        pdf.set_title(title)
        pdf.set_creator("actiontool")
        pdf.set_lang("en-US")
        for (family, style), name in _FONT_FILES.items():
            if family == _MAIN:
                pdf.add_font(family, style, _fonts_dir() / name)
        self.pdf = pdf
        self.y = MARGIN
        self.on_new_page = on_new_page
        self._main_chars = frozenset(map(chr, _ttf(pdf, _MAIN).cmap))
        self._cjk_chars: frozenset[str] = frozenset()
        self._widths: dict[str, dict[int, float]] = {key: _ttf(pdf, key).cw for key in pdf.fonts}
        self._style = ""
        self._size = 11.0
        # Widths of words and wrapped paragraphs, per style and size: the letters of a packet share the
        # organisation's suggested text, so most paragraphs are wrapped once for the whole packet.
        self._width_cache: dict[tuple[str, float], dict[str, float]] = {}
        self._wrap_cache: dict[tuple[str, float, float, str], list[str]] = {}

    # Fonts --------------------------------------------------------------------------------------------

    def _load_cjk(self) -> None:
        """Add the CJK fallback font the first time a character needs it (it takes a few hundred ms)."""
        if self._cjk_chars:
            return
        self.pdf.add_font(_CJK, "", _fonts_dir() / _FONT_FILES[(_CJK, "")])
        self.pdf.set_fallback_fonts([_CJK], exact_match=False)  # for the shaped (cell) lines
        self._cjk_chars = frozenset(map(chr, _ttf(self.pdf, _CJK).cmap))
        self._widths[_CJK] = _ttf(self.pdf, _CJK).cw

    def _font_key(self, ch: str) -> str:
        if ch in self._main_chars:
            return _MAIN + self._style
        if not self._cjk_chars:
            self._load_cjk()
        return _CJK if ch in self._cjk_chars else _MAIN + self._style

    def runs(self, text: str) -> Iterator[tuple[str, str]]:
        """Yield (font key, text) runs: each character in the first font that has it."""
        if self._main_chars.issuperset(text):
            yield _MAIN + self._style, text
            return
        start, current = 0, self._font_key(text[0])
        for i, ch in enumerate(text):
            key = self._font_key(ch)
            if key != current:
                yield current, text[start:i]
                start, current = i, key
        yield current, text[start:]

    def set_style(self, size: float, bold: bool = False, grey: bool = False) -> None:
        """Choose the size, weight and colour of the text that follows."""
        self._style = "B" if bold else ""
        self._size = size
        self.pdf.set_font(_MAIN, self._style, size)
        self.pdf.set_text_color(90 if grey else 0)

    def width(self, text: str) -> float:
        """Return the width of `text` in points, in the current style, without shaping."""
        cache = self._width_cache.setdefault((self._style, self._size), {})
        found = cache.get(text)
        if found is not None:
            return found
        total = 0.0
        for key, run in self.runs(text):
            total += sum(map(self._widths[key].__getitem__, map(ord, run)))
        width = total * self._size / 1000
        if len(cache) < _CACHE_LIMIT:
            cache[text] = width
        return width

    # Lines --------------------------------------------------------------------------------------------

    def new_page(self) -> None:
        """Start a page and let the owner draw its header."""
        self.pdf.add_page()
        self.y = MARGIN
        if self.on_new_page is not None:
            self.on_new_page(self)

    def room(self) -> float:
        """Return the height left above the bottom margin."""
        return BOTTOM - self.y

    def ensure(self, height: float) -> None:
        """Start a new page unless `height` points fit below the cursor."""
        if self.y + height > BOTTOM:
            self.new_page()

    def draw(self, x: float, text: str, leading: float, width: float | None = None,
             align: str = "L") -> None:
        """Draw one line at the cursor (no wrapping), in as many fonts as its characters need."""
        if not text:
            return
        if _RTL.search(text) and shaping_available():
            self._draw_shaped(x, text, leading, width or TEXT_WIDTH - (x - MARGIN))
            return
        if align == "R" and width is not None:
            x += width - self.width(text)
        baseline = self.y + 0.5 * leading + 0.3 * self._size  # where fpdf2's cell() puts it
        if self._main_chars.issuperset(text):  # the common case: one font, already set
            self.pdf.text(x, baseline, text)
            return
        for key, run in self.runs(text):
            family = _CJK if key == _CJK else _MAIN
            self.pdf.set_font(family, "" if family == _CJK else self._style, self._size)
            self.pdf.text(x, baseline, run)
            x += sum(map(self._widths[key].__getitem__, map(ord, run))) * self._size / 1000
        self.pdf.set_font(_MAIN, self._style, self._size)

    def _draw_shaped(self, x: float, text: str, leading: float, width: float) -> None:
        """Draw a line holding right-to-left script: bidi reordering and HarfBuzz shaping by fpdf2."""
        rtl = _base_is_rtl(text)
        self.pdf.set_text_shaping(True, direction="rtl" if rtl else "ltr")
        try:
            self.pdf.set_xy(x, self.y)
            self.pdf.cell(w=width, h=leading, text=text, align="R" if rtl else "L")
        finally:
            self.pdf.set_text_shaping(False)

    def line(self, text: str, leading: float, x: float = MARGIN) -> None:
        """Draw one line at the cursor and move down, starting a page first when it would not fit."""
        self.ensure(leading)
        self.draw(x, text, leading)
        self.y += leading

    def paragraphs(self, text: str, leading: float, width: float = TEXT_WIDTH, x: float = MARGIN,
                   max_lines: int | None = None) -> int:
        """Wrap and draw `text` (blank lines kept), breaking pages as needed; return the lines drawn."""
        lines = self.wrap(text, width)
        if max_lines is not None:
            lines = lines[:max_lines]
        for line in lines:
            self.ensure(leading)
            if line:
                self.draw(x, line, leading, width)
            self.y += leading
        return len(lines)

    def wrap(self, text: str, width: float) -> list[str]:
        """Return the lines of `text` within `width` points; a word longer than a line is cut anywhere."""
        lines: list[str] = []
        for paragraph in clean(text).split("\n"):
            key = (self._style, self._size, width, paragraph)
            wrapped = self._wrap_cache.get(key)
            if wrapped is None:
                shaped = bool(_RTL.search(paragraph)) and shaping_available()
                wrapped = self._wrap_shaped(paragraph, width) if shaped else self._wrap(paragraph, width)
                if len(self._wrap_cache) < _CACHE_LIMIT:
                    self._wrap_cache[key] = wrapped
            lines.extend(wrapped)
        return lines

    def _wrap(self, paragraph: str, width: float) -> list[str]:
        lines: list[str] = []
        line, line_width = "", 0.0
        measure = self.width
        for token in _TOKEN.findall(paragraph):
            word = token.rstrip()
            word_width = measure(word)
            if line_width + word_width <= width:
                line += token
                line_width += measure(token) if len(word) < len(token) else word_width
                continue
            if line:
                lines.append(line.rstrip())
                line, line_width = "", 0.0
            if word_width <= width:
                line, line_width = token, measure(token) if len(word) < len(token) else word_width
                continue
            for ch in word:  # a word wider than the line (a URL, a CJK sentence): cut between characters
                ch_width = self.width(ch)
                if line_width + ch_width > width and line:
                    lines.append(line)
                    line, line_width = "", 0.0
                line += ch
                line_width += ch_width
            line += " "
            line_width += self.width(" ")
        lines.append(line.rstrip())
        return lines

    def _wrap_shaped(self, paragraph: str, width: float) -> list[str]:
        """Wrap a paragraph holding right-to-left script, measuring shaped widths (rare, so slower)."""
        self.pdf.set_text_shaping(True, direction="rtl" if _base_is_rtl(paragraph) else "ltr")
        try:
            def shaped_width(text: str) -> float:
                return float(self.pdf.get_string_width(text))

            lines: list[str] = []
            line = ""
            for token in _TOKEN.findall(paragraph):
                candidate = line + token
                if not line or shaped_width(candidate.rstrip()) <= width:
                    line = candidate
                    continue
                lines.append(line.rstrip())
                line = token
            lines.append(line.rstrip())
            return [piece for line in lines for piece in self._cut_overlong(line, width, shaped_width)]
        finally:
            self.pdf.set_text_shaping(False)

    @staticmethod
    def _cut_overlong(line: str, width: float, measure: Callable[[str], float]) -> list[str]:
        """Return `line` cut between characters into pieces no wider than `width`."""
        if measure(line) <= width:
            return [line]
        pieces, piece = [], ""
        for ch in line:
            if piece and measure(piece + ch) > width:
                pieces.append(piece)
                piece = ""
            piece += ch
        return [*pieces, piece]

    def rule(self, gap: float = 6.0) -> None:
        """Draw a thin grey line across the text width and move below it."""
        self.y += gap / 2
        self.pdf.set_draw_color(170)
        self.pdf.set_line_width(0.5)
        self.pdf.line(MARGIN, self.y, PAGE_WIDTH - MARGIN, self.y)
        self.y += gap / 2

    def fit(self, text: str, width: float) -> str:
        """Return `text` cut with an ellipsis so that it fits in `width` points on one line."""
        if self.width(text) <= width:
            return text
        while text and self.width(text + "…") > width:
            text = text[:-1]
        return text.rstrip() + "…"

    def output(self) -> bytes:
        """Return the finished PDF."""
        return bytes(self.pdf.output())


def _base_is_rtl(text: str) -> bool:
    """Return whether the first letter of `text` belongs to a right-to-left script."""
    first = _FIRST_STRONG.search(text)
    return bool(first and _RTL.match(first.group()))


def _ttf(pdf: FPDF, key: str) -> TTFFont:
    """Return one of the document's fonts: always a TrueType font here, never one of PDF's 14 core fonts."""
    font = pdf.fonts[key]
    assert isinstance(font, TTFFont), key
    return font
