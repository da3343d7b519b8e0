"""Making Data Count icons: one drawing per verdict, told apart by letter and drawing as well as colour."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import pytest

from server.web.charts import mdc

SVG = "{http://www.w3.org/2000/svg}"
VARIATIONS = [
    ("common_cause", 0, "common-cause", None, mdc.COMMON),
    ("special_cause_improving", 1, "improving-high", "H", mdc.IMPROVEMENT),
    ("special_cause_improving", -1, "improving-low", "L", mdc.IMPROVEMENT),
    ("special_cause_concerning", 1, "concerning-high", "H", mdc.CONCERN),
    ("special_cause_concerning", -1, "concerning-low", "L", mdc.CONCERN),
    ("special_cause_neutral", 1, "neutral-high", "H", mdc.NEUTRAL),
    ("special_cause_neutral", -1, "neutral-low", "L", mdc.NEUTRAL),
]
ASSURANCES = [("consistently_pass", "P", mdc.PASS), ("consistently_fail", "F", mdc.FAIL), ("hit_and_miss", "?", mdc.HIT_AND_MISS)]


def parsed(icon: mdc.Icon) -> ElementTree.Element:
    return ElementTree.fromstring(str(icon.svg))


@pytest.mark.parametrize(("variation", "direction", "name", "letter", "colour"), VARIATIONS)
def test_each_variation_has_its_ring_colour_letter_and_coloured_last_two_points(variation, direction, name, letter, colour):
    icon = mdc.variation_icon(variation, direction)
    assert icon is not None and icon.name == name
    svg = parsed(icon)
    assert svg.get("aria-hidden") == "true" and svg.get("focusable") == "false"
    ring = svg.find(f"{SVG}circle")
    assert ring is not None and ring.get("stroke") == colour
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts == ([] if letter is None else [letter])
    points = [c for c in svg.iter(f"{SVG}circle")][1:]
    assert len(points) == 5
    expected = [mdc.COMMON] * 3 + [colour] * 2
    assert [p.get("fill") for p in points] == expected
    if letter is not None:
        heights = [float(p.get("cy")) for p in points]
        # A high signal ends above (smaller y) the earlier points; a low one below them.
        assert (heights[-1] < min(heights[:3])) == (letter == "H")


@pytest.mark.parametrize(("assurance", "letter", "colour"), ASSURANCES)
def test_each_assurance_has_its_letter_and_a_dashed_target_line(assurance, letter, colour):
    icon = mdc.assurance_icon(assurance)
    assert icon is not None
    svg = parsed(icon)
    assert [t.text for t in svg.iter(f"{SVG}text")] == [letter]
    target = svg.find(f"{SVG}line")
    assert target is not None and target.get("stroke") == colour and target.get("stroke-dasharray")


def test_pass_target_is_below_the_process_and_fail_target_above_it():
    def target_and_process(assurance: str) -> tuple[float, float]:
        svg = parsed(mdc.assurance_icon(assurance))  # type: ignore[arg-type]
        start = re.match(r"M\S+ (\S+)", svg.find(f"{SVG}path").get("d"))  # type: ignore[union-attr]
        return float(svg.find(f"{SVG}line").get("y1")), float(start.group(1))  # type: ignore[union-attr]

    target, process = target_and_process("consistently_pass")
    assert target > process  # SVG y grows downwards: the target is lower on the picture
    target, process = target_and_process("consistently_fail")
    assert target < process


def test_every_icon_is_different():
    drawings = [str(mdc.variation_icon(v, d).svg) for v, d, *_ in VARIATIONS] + [str(mdc.assurance_icon(a).svg) for a, *_ in ASSURANCES]  # type: ignore[union-attr]
    assert len(set(drawings)) == len(drawings)


@pytest.mark.parametrize("verdict", ["none", "", "insufficient_data"])
def test_no_verdict_draws_no_icon(verdict):
    assert mdc.variation_icon(verdict, None) is None
    assert mdc.assurance_icon(verdict) is None


def test_each_icon_drawn_by_reference_draws_its_own_symbol_at_its_size():
    """A page of hundreds of icons draws each once (symbols) and refers to it: the symbol holds
    exactly what the inline icon draws, so both pictures are the same."""
    symbols = ElementTree.fromstring(str(mdc.symbols()))
    defined = {symbol.get("id"): symbol for symbol in symbols.iter(f"{SVG}symbol")}
    icons = [mdc.variation_icon(v, d, size=22) for v, d, *_ in VARIATIONS] + [mdc.assurance_icon(a, size=22) for a, *_ in ASSURANCES]
    assert len(defined) == len(icons) and symbols.get("aria-hidden") == "true"
    for icon in icons:
        reference = ElementTree.fromstring(str(icon.reference))  # type: ignore[union-attr]
        use = reference.find(f"{SVG}use")
        symbol = defined[use.get("href").removeprefix("#")]  # type: ignore[union-attr]
        inline = parsed(icon)  # type: ignore[arg-type]
        assert [ElementTree.tostring(e) for e in symbol] == [ElementTree.tostring(e) for e in inline]
        assert {k: reference.get(k) for k in ("class", "width", "height", "viewBox", "aria-hidden")} == \
            {k: inline.get(k) for k in ("class", "width", "height", "viewBox", "aria-hidden")}
        assert symbol.get("viewBox") == inline.get("viewBox") and inline.get("width") == "22"
