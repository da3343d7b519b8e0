"""The IPR page writes its scorecard tables in Python (server/web/scorecard_markup.py): they must read
exactly as the ``scorecard_table`` macro writes them, whatever the rows hold."""
from __future__ import annotations

import datetime as dt
import itertools
import random

from server.reporting.indicator import SeriesPoint
from server.reporting.scorecard import DomainSection, IndicatorRef, ScorecardRow
from server.reporting.status import IndicatorStatus
from server.settings import Settings
from server.web.charts.sparkline import build_sparkline, sparkline_markup
from server.web.scorecard_markup import ScorecardTables
from server.web.templating import format_number, make_templates

UNITS = ("percent", "number", "weeks", "currency", "minutes", "days", "hours", "ratio")
VERDICTS = [("green", "special_cause_improving", 1, "consistently_pass"), ("red", "special_cause_concerning", -1, "consistently_fail"),
            ("amber", "special_cause_neutral", 1, "hit_and_miss"), ("amber", "special_cause_neutral", -1, "none"),
            ("none", "common_cause", None, "none"), ("none", "none", None, "none")]


def random_rows(chance: random.Random, count: int) -> tuple[tuple[ScorecardRow, ...], dict[int, SeriesPoint], dict[int, object]]:
    """Rows of every kind: key or not, kitemarked, of a cohort, with no data, masked, with or without a previous value and a trend."""
    rows, previous, lines = [], {}, {}
    for number in range(1, count + 1):
        unit, frequency = chance.choice(UNITS), chance.choice(("monthly", "quarterly", "weekly"))
        cohort = chance.choice((None, "adult", "paeds_&_<young>"))
        indicator = IndicatorRef(
            number, chance.choice(("AE4H", "R&D<1>", "LONG WAIT", f"C{number}")), chance.choice(("Waits & <things>", 'Beds "open"', f"Indicator {number}")),
            unit, chance.choice(("higher_is_better", "lower_is_better", "neither")), frequency, chance.random() < 0.3, None,
            chance.choice((None, "assured", "partial", "not_assured")), cohort, chance.choice((None, "Adults & <teens>")) if cohort else None)
        status = None
        if chance.random() < 0.9:
            rag, variation, direction, assurance = chance.choice(VERDICTS)
            status = IndicatorStatus(
                dt.date(2026, chance.randint(1, 11), 1), chance.choice((None, chance.uniform(-5e6, 5e6), chance.random(), 12.0, 1.0)),
                chance.choice((None, 0.9, 52.0, 1.0)), None, rag, variation, direction, assurance, chance.choice((0, 1, 3)), False,
                chance.random() < 0.2, frequency)
        points = [SeriesPoint(None, dt.date(2025, 1, 1), f"M{k} & <{k}>", chance.choice((None, chance.uniform(0, 2))), chance.choice((None, 0.9)),
                              None, "none", False) for k in range(chance.randint(0, 24))]
        observed = [point for point in points if point.value is not None]
        if len(observed) > 1 and chance.random() < 0.9:
            previous[number] = observed[-2]
        if chance.random() < 0.9:
            lines[number] = build_sparkline(observed, lambda value, unit=unit: format_number(value, unit))
        rows.append(ScorecardRow(indicator, status, ()))
    return tuple(rows), previous, lines


def test_the_scorecard_tables_read_exactly_as_the_macro_writes_them():
    environment = make_templates(Settings()).env
    macro = environment.get_template("partials/scorecard_table.html").module.scorecard_table
    tables = ScorecardTables(environment)
    chance = random.Random(9)
    compared = 0
    for name, (code, unit_query, period) in itertools.product(
            ("Operational & <performance>", "Quality"),
            itertools.product(("RX1", "R&X"), ("", "MED & <1>"), (None, dt.date(2026, 9, 1)))):
        rows, previous, lines = random_rows(chance, 80)
        domain = DomainSection("ops", name, rows)
        expected = str(macro(domain, code, unit_query, previous=previous, sparklines=lines, period=period, sprite=True))
        written = tables.write(domain, code, unit_query, previous=previous,
                               sparklines={key: sparkline_markup(line) for key, line in lines.items()}, period=period)
        assert written == expected
        compared += len(rows)
    assert compared > 1000
    empty = DomainSection("none", "Empty", ())
    assert tables.write(empty, "RX1", "", previous={}, sparklines={}, period=None) == str(
        macro(empty, "RX1", "", previous={}, sparklines={}, period=None, sprite=True))


# 'At a glance' lists as the template wrote them with its glance_row macro, before both became functions (server/web/templating.py).
GLANCE_LISTS = """
{%- macro glance_row(row, organisation_code, unit_query, linked, period=none) -%}
{%- set status = row.status -%}
{%- if linked -%}<a href="{{ indicator_href(organisation_code, row.indicator.code, unit_query, period) }}">{{ row.indicator.name }}</a>{%- else -%}{{ row.indicator.name }}{%- endif -%}
: {{ status.value | number(row.indicator.unit) }} against a target of {{ status.target | number(row.indicator.unit) }} ({{ status.rag_words | lower }}{% if status.periods_under_target %}, {{ status.under_target_words }} under target{% endif %})
{%- endmacro -%}
{%- if variation -%}
{% for row in rows %}<li>{{ glance_row(row, code, unit_query, linked, period) }}; {{ row.status.variation_words | lower }}</li>{% endfor %}
{%- else -%}
{% for row in rows %}<li>{{ glance_row(row, code, unit_query, linked, period) }}</li>{% endfor %}
{%- endif -%}
"""


def test_the_glance_lists_read_exactly_as_the_macro_wrote_them():
    environment = make_templates(Settings()).env
    lists = environment.from_string(GLANCE_LISTS)
    glance_items = environment.globals["glance_items"]
    chance = random.Random(15)
    rows, _, _ = random_rows(chance, 400)
    rated = [row for row in rows if row.status is not None]
    compared = 0
    for linked, code, unit_query, period, variation in itertools.product(
            (True, False), ("RX1", "R&X"), ("", "MED & <1>"), (None, dt.date(2026, 9, 1)), (False, True)):
        for start in range(0, len(rated), 40):
            chosen = rated[start:start + chance.randint(0, 40)]
            expected = lists.render(rows=chosen, code=code, unit_query=unit_query, linked=linked, period=period, variation=variation)
            assert glance_items(chosen, code, unit_query, linked, period, variation=variation) == expected
            compared += len(chosen)
    assert compared > 5000


SUMMARY_NAMES_LOOP = """{% for entry in entries %}<li>{% if linked and entry.href %}<a href="{{ entry.href }}">{{ entry.name }}</a>{% else %}{{ entry.name }}{% endif %}</li>{% endfor %}"""


def test_a_summary_cells_names_read_as_the_templates_loop_wrote_them():
    from server.reporting.summary import MatrixEntry

    environment = make_templates(Settings()).env
    loop = environment.from_string(SUMMARY_NAMES_LOOP)
    summary_names = environment.globals["summary_names"]
    chance = random.Random(4)
    for _ in range(200):
        entries = tuple(MatrixEntry(chance.choice(("Waits & <more> – R&1", "Beds", 'A "quoted" name')),
                                    chance.choice((None, "", "/organisations/R&1/indicators/A%26E?unit=U&period=2026-09")), None)
                        for _ in range(chance.randint(0, 12)))
        for linked in (True, False):
            assert summary_names(entries, linked) == loop.render(entries=entries, linked=linked)
