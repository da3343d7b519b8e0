"""Making Data Count variation and assurance icons as inline SVG, drawn to NHS England's published
design ("Making data count: strengthening your decisions", 2019; the icon files the NHS-R
community publishes with NHSRplotthedots follow it): a white disc in a coloured ring, a small
process chart inside, and a letter.

- Variation: grey dots joined by a line, the last two dots in the verdict's colour. Common cause is
  grey throughout and has no letter; special cause improving is blue, concerning orange, and
  neither-better purple, with "H" (the signal is high, letter at the top) or "L" (low, letter at
  the bottom).
- Assurance: a grey process line and the target as a dashed line: below the process with "P"
  (consistently passing, blue), above it with "F" (consistently failing, orange), through it with
  "?" (hit and miss, grey).

The picture is decoration for sighted readers: it is ``aria-hidden`` and the caller puts the words
beside it (WCAG 1.1.1, 1.4.1). Every icon has its own letter or drawing as well as its colour.

A page that shows hundreds of icons (an IPR of 250 indicators: two each) draws each kind once, in
:func:`symbols`, and each cell refers to it (``Icon.reference``, an SVG ``<use>``): the same
picture, about a fifth of the markup.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

IMPROVEMENT = "#00b0f0"
CONCERN = "#e46c0a"
NEUTRAL = "#490092"
COMMON = "#7f7f7f"
PASS = "#0072c6"
FAIL = "#e46c0a"
HIT_AND_MISS = "#7f7f7f"

VARIATION_COLOURS = {
    "common_cause": COMMON,
    "special_cause_improving": IMPROVEMENT,
    "special_cause_concerning": CONCERN,
    "special_cause_neutral": NEUTRAL,
}
ASSURANCE_DRAWINGS = {
    # verdict: (colour, letter, target line height, process line height)
    "consistently_pass": (PASS, "P", 31.0, 24.5),
    "consistently_fail": (FAIL, "F", 22.0, 29.0),
    "hit_and_miss": (HIT_AND_MISS, "?", 27.0, 27.0),
}
DOT_X = (9.5, 15.0, 20.5, 26.0, 31.5)


@dataclass(frozen=True, slots=True)
class Icon:
    """One drawn icon: its SVG and the short name used in its class (for tests and styling)."""

    name: str
    svg: Markup
    drawing: str = ""  # what the SVG draws, in its 40 x 40 box: the symbol :func:`symbols` defines
    size: int = 28

    @property
    def reference(self) -> Markup:
        """The icon drawn from its symbol (the page must carry :func:`symbols`)."""
        return Markup(f'{_svg(self.name, self.size)}<use href="#{SYMBOL_PREFIX}{self.name}"/></svg>')


SYMBOL_PREFIX = "accord-mdc-"


def _svg(name: str, size: int) -> str:
    return (
        f'<svg class="accord-mdc__icon accord-mdc__icon--{name}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" '
        f'width="{size}" height="{size}" aria-hidden="true" focusable="false">'
    )


def _ring(colour: str) -> str:
    return f'<circle cx="20" cy="20" r="17.5" fill="#ffffff" stroke="{colour}" stroke-width="3"/>'


def _icon(name: str, colour: str, body: str, size: int) -> Icon:
    drawing = _ring(colour) + body
    return Icon(name, Markup(_svg(name, size) + drawing + "</svg>"), drawing, size)


def _letter(text: str, colour: str, baseline: float) -> str:
    return (
        f'<text x="20" y="{baseline}" text-anchor="middle" font-family="Arial, Helvetica, sans-serif" '
        f'font-size="14" font-weight="700" fill="{colour}">{text}</text>'
    )


def _dots(heights: tuple[float, ...], colours: tuple[str, ...]) -> str:
    points = " ".join(f"{x},{y}" for x, y in zip(DOT_X, heights, strict=True))
    line = f'<polyline points="{points}" fill="none" stroke="{COMMON}" stroke-width="1.3"/>'
    dots = "".join(f'<circle cx="{x}" cy="{y}" r="2.7" fill="{c}"/>' for x, y, c in zip(DOT_X, heights, colours, strict=True))
    return line + dots


@lru_cache(maxsize=64)  # a few dozen distinct icons, drawn for every row of a scorecard or matrix
def variation_icon(variation: str, direction: int | None, *, size: int = 28) -> Icon | None:
    """The icon for a variation verdict, or None where there is no verdict (too few points)."""
    colour = VARIATION_COLOURS.get(variation)
    if colour is None:
        return None
    if variation == "common_cause":
        body = _dots((20.0, 23.0, 18.5, 22.5, 19.5), (COMMON,) * 5)
        name = "common-cause"
    else:
        high = direction != -1
        kind = variation.removeprefix("special_cause_")
        if high:  # the run ends above the rest; the letter sits at the top
            body = _letter("H", colour, 17.0) + _dots((27.5, 30.0, 27.5, 24.0, 21.0), (COMMON, COMMON, COMMON, colour, colour))
        else:
            body = _letter("L", colour, 34.5) + _dots((12.5, 10.0, 12.5, 16.0, 19.0), (COMMON, COMMON, COMMON, colour, colour))
        name = f"{kind}-{'high' if high else 'low'}"
    return _icon(name, colour, body, size)


@lru_cache(maxsize=64)
def assurance_icon(assurance: str, *, size: int = 28) -> Icon | None:
    """The icon for an assurance verdict, or None where there is none (no target, too few points)."""
    drawing = ASSURANCE_DRAWINGS.get(assurance)
    if drawing is None:
        return None
    colour, letter, target_y, process_y = drawing
    name = assurance.replace("_", "-")
    process = (
        f'<path d="M8 {process_y} C 12 {process_y - 4}, 15 {process_y - 4}, 19 {process_y} S 26 {process_y + 3}, 32 {process_y - 1}" '
        f'fill="none" stroke="{COMMON}" stroke-width="2"/>'
    )
    target = f'<line x1="6.5" y1="{target_y}" x2="33.5" y2="{target_y}" stroke="{colour}" stroke-width="1.8" stroke-dasharray="3.5 1.5"/>'
    body = _letter(letter, colour, 17.5) + process + target
    return _icon(name, colour, body, size)


@lru_cache(maxsize=1)
def symbols() -> Markup:
    """Every icon's drawing as an SVG symbol, for the icons of a page drawn by ``Icon.reference``.
    Hidden from assistive technology and out of the layout (app.css: .accord-mdc-symbols)."""
    icons = [variation_icon(variation, direction) for variation in VARIATION_COLOURS for direction in ((0,) if variation == "common_cause" else (1, -1))]
    icons += [assurance_icon(assurance) for assurance in ASSURANCE_DRAWINGS]
    defined = "".join(f'<symbol id="{SYMBOL_PREFIX}{icon.name}" viewBox="0 0 40 40">{icon.drawing}</symbol>' for icon in icons if icon)
    return Markup(f'<svg class="accord-mdc-symbols" xmlns="http://www.w3.org/2000/svg" aria-hidden="true" focusable="false">{defined}</svg>')
