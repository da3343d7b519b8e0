"""The IPR page's scorecard tables written by Python: what ``scorecard_table(..., sprite=true)``
(partials/scorecard_table.html) writes for the page, without a macro call per cell.

A national IPR has 250 rows of ten cells; the macro's per-row work (attribute look-ups, filters,
escaping through the template runtime, the sparkline macro) was the largest part of the page's
CPU. The tag, kitemark and icons are still the macros' own, made once per verdict through the
templates' memo; the sparkline is ``sparkline_markup``. The PDF keeps the macro (it prints words
beside the icons). tests/web/test_scorecard_markup.py checks that both write the same text.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

from server.reporting.scorecard import DomainSection
from server.web.charts.sparkline import sparkline_markup
from server.web.templating import format_number, indicator_href

_NAME = "\x00domain\x00"  # no domain is named so
_KEY = '<strong class="nhsuk-tag nhsuk-tag--white accord-rag">Key</strong>'
_MASKED = ' <strong class="nhsuk-tag nhsuk-tag--yellow accord-rag">Masked failure</strong>'
_NUMBER_CELL = '      <td class="nhsuk-table__cell nhsuk-table__cell--numeric accord-value">'


class ScorecardTables:
    """One domain's table at a time, as the page's ``scorecard_table`` call writes it."""

    def __init__(self, environment: Any) -> None:
        self.memo = environment.globals["memo"]
        icons = environment.get_template("partials/mdc_icons.html").module
        quality = environment.get_template("partials/data_quality.html").module
        self.rag_tag = environment.get_template("partials/rag_tag.html").module.rag_tag
        self.variation_icon, self.assurance_icon = icons.variation_icon, icons.assurance_icon
        self.kitemark_tag, self.cohort_note = quality.kitemark_tag, quality.cohort_note
        # The table around the rows is the macro's own: written once with no rows and a stand-in name.
        empty = str(environment.get_template("partials/scorecard_table.html").module.scorecard_table(
            DomainSection("", _NAME, ()), "", "", sprite=True))
        self.start, rest = empty.split(_NAME)
        self.head, self.foot = rest.rsplit("  </tbody>", 1)
        self.foot = "  </tbody>" + self.foot

    def write(self, domain: DomainSection, organisation_code: str, unit_query: str, *, previous: Mapping[int, Any],
              sparklines: Mapping[int, Markup], period: dt.date | None) -> Markup:
        """``scorecard_table(domain, organisation_code, unit_query, previous=..., sparklines=..., period=period, sprite=true)``,
        with each row's sparkline already written (``sparkline_markup``; absent: too few values)."""
        memo, parts = self.memo, [self.start, escape(domain.name), self.head]
        append = parts.append
        for row in domain.rows:
            indicator, status = row.indicator, row.status
            append('    <tr class="nhsuk-table__row">\n      <th scope="row" class="nhsuk-table__header accord-scorecard__indicator"><a href="')
            append(indicator_href(organisation_code, indicator.code, unit_query, period))
            append('">')
            append(escape(indicator.name))
            append("</a>")
            if indicator.is_key:
                append(_KEY)
            append("        ")
            append(memo(self.kitemark_tag, indicator.kitemark))
            if indicator.cohort:
                append(self.cohort_note(indicator))
            append("\n      </th>\n")
            if status is None:
                append('      <td class="nhsuk-table__cell" colspan="9"><span class="accord-muted">No data yet</span></td>\n    </tr>\n')
                continue
            unit = indicator.unit
            before = previous.get(indicator.id)
            append('      <td class="nhsuk-table__cell">')
            append(escape(status.period_label))
            append("</td>\n")
            append(_NUMBER_CELL)
            append(escape(format_number(status.value, unit)))
            append("</td>\n")
            append(_NUMBER_CELL)
            if before:
                append(escape(format_number(before.value, unit)))
                append('<span class="accord-cell-note">')
                append(escape(before.label))
                append("</span>")
            else:
                append("–")
            append('</td>\n      <td class="nhsuk-table__cell">')
            line = sparklines.get(indicator.id)
            append(line if line is not None else sparkline_markup(None))
            append("</td>\n")
            append(_NUMBER_CELL)
            append(escape(format_number(status.target, unit)))
            append('</td>\n      <td class="nhsuk-table__cell">')
            append(memo(self.rag_tag, status.rag))
            if status.masked_failure:
                append(_MASKED)
            append('</td>\n      <td class="nhsuk-table__cell">')
            append(memo(self.variation_icon, status.variation, status.variation_direction, status.variation_words, sprite=True))
            append('</td>\n      <td class="nhsuk-table__cell">')
            append(memo(self.assurance_icon, status.assurance, status.assurance_words, sprite=True))
            append('</td>\n      <td class="nhsuk-table__cell">')
            append(escape(status.under_target_words or "–"))
            append("</td>\n    </tr>\n")
        append(self.foot)
        return Markup("".join(parts))
