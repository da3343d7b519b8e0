"""System position: members x key indicators, the performance spectrum, maturity (ICS leads).

One screen for a planning lead: compact cells, each row's target, a period selector, sorting by
the worst position, and the Making Data Count summary matrix of every cell. Filters are a GET form
(htmx swaps only the matrix, and the address keeps the choice).
"""
from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response

from server.reporting.indicator import SeriesPoint
from server.reporting.summary import statuses, summary_matrix
from server.reporting.system import (
    MatrixRow,
    SystemPosition,
    cell_trends,
    common_set,
    system_by_code,
    system_position,
    visible_systems,
)
from server.web.charts.sparkline import Sparkline, build_sparkline, sparkline_markup
from server.web.render import (
    access_of,
    login_required,
    not_found,
    read_session,
    render,
    services_of,
)
from server.web.templating import format_number

PERIOD_CHOICES = 12  # the latest period and the eleven before it
SORTS = {"framework": "Framework order", "worst": "Worst first", "reported": "Most members reporting"}
RAG_WEIGHT = {"red": 3, "amber": 1}
_NOT_REPORTED = ('        <td class="nhsuk-table__cell"><span class="accord-muted" aria-hidden="true">–</span>'
                 '<span class="nhsuk-u-visually-hidden">Not reported</span></td>\n')


@login_required
async def system_list(request: Request) -> Response:
    access = access_of(request)
    async with read_session(request) as session:
        systems = await visible_systems(session, access.read_org_ids)
    return render(request, "pages/system_list.html", {"systems": systems})


@login_required
async def system_page(request: Request) -> Response:
    access = access_of(request)
    domain = request.query_params.get("domain") or None
    cohort = request.query_params.get("cohort") or None  # a patient cohort (WHSSC appendix 1), where members declare them
    async with read_session(request) as session:
        system = await system_by_code(session, request.path_params["code"])
        # The system view is for people who may read every member: anything less is a 404, so
        # that a member's staff cannot learn what the system holds about its neighbours.
        if system is None or not system.organisation_ids <= access.read_org_ids:
            return not_found(request)
        # The system's common set (a full matrix) unless the reader asks for every key indicator.
        declared = await common_set(session, system)
        indicator_set = "all" if declared is None or request.query_params.get("set") == "all" else "common"
        common = declared if indicator_set == "common" else None
        position = await system_position(session, system, domain_code=domain, common=common, cohort=cohort)
        periods = period_choices(position.latest_period)
        period = chosen_period(request.query_params.get("period"), periods)
        if period is not None:
            position = await system_position(session, system, domain_code=domain, period=period, common=common, cohort=cohort)
        trends = await cell_trends(session, position, upto=period)
    sort = request.query_params.get("sort") if request.query_params.get("sort") in SORTS else "framework"
    rows = [(row, row_target(row)) for row in sorted_rows(position, sort)]
    context = {
        "position": position, "rows": rows, "domain_items": domain_items(position),
        "cohort_items": cohort_items(position),
        "period_items": period_items(periods, period), "sort_items": [{"value": k, "text": v, "selected": k == sort} for k, v in SORTS.items()],
        "period": period, "sort": sort, "matrix": summary_matrix(statuses(matrix_items(position))),
        "matrix_rows": MatrixCells(services_of(request).templates.env).rows(position, rows, cell_sparklines(position, trends), period),
        "set_items": [] if declared is None else [
            {"value": "common", "text": f"Common to every provider ({len(declared.codes)})", "selected": indicator_set == "common"},
            {"value": "all", "text": "Every key indicator", "selected": indicator_set == "all"}],
    }
    # htmx asks for the whole page when it restores history it has no snapshot of (back button
    # after its cache is gone): that request also carries HX-Request, but wants the full page.
    restoring = request.headers.get("hx-history-restore-request") == "true"
    return render(request, "pages/system.html", context, block=None if restoring else "matrix")


def period_choices(latest: dt.date | None) -> list[dt.date]:
    if latest is None:
        return []
    months = latest.year * 12 + latest.month - 1
    return [dt.date((months - back) // 12, (months - back) % 12 + 1, 1) for back in range(PERIOD_CHOICES)]


def chosen_period(value: str | None, choices: list[dt.date]) -> dt.date | None:
    """The ``?period=YYYY-MM`` if it is one of the choices other than the latest; None otherwise (latest)."""
    chosen = next((choice for choice in choices[1:] if value == choice.strftime("%Y-%m")), None)
    return chosen


def period_items(choices: list[dt.date], chosen: dt.date | None) -> list[dict[str, object]]:
    return [
        {"value": "" if index == 0 else choice.strftime("%Y-%m"), "text": choice.strftime("%B %Y") + (" (latest)" if index == 0 else ""),
         "selected": choice == chosen or (chosen is None and index == 0)}
        for index, choice in enumerate(choices)
    ]


def sorted_rows(position: SystemPosition, sort: str) -> list[MatrixRow]:
    rows = list(position.rows)
    if sort == "worst":
        # Red counts three times amber: a row with one member off target outranks two at risk.
        def badness(row: MatrixRow) -> int:
            return sum(RAG_WEIGHT.get(cell.status.rag, 0) for cell in row.cells if cell and cell.status)

        return sorted(rows, key=lambda row: (-badness(row), row.name))
    if sort == "reported":
        return sorted(rows, key=lambda row: (-sum(1 for cell in row.cells if cell), row.name))
    return rows


def cell_sparklines(position: SystemPosition, trends: dict[int, tuple[SeriesPoint, ...]]) -> dict[int, Sparkline | None]:
    """Each cell's trend, by the member's indicator id (None: fewer than two values)."""
    return {
        cell.indicator_id: build_sparkline(trends.get(cell.indicator_id, ()), partial(format_number, unit=cell.unit))
        for row in position.rows for cell in row.cells if cell is not None
    }


def row_target(row: MatrixRow) -> str:
    """The row's target when every member shares it; 'Varies' (each cell then shows its own) otherwise."""
    targets = {(cell.status.target, cell.unit) for cell in row.cells if cell and cell.status and cell.status.target is not None}
    if not targets:
        return "None set"
    if len(targets) > 1:
        return "Varies"
    target, unit = next(iter(targets))
    return format_number(target, unit)


def matrix_items(position: SystemPosition):  # type: ignore[no-untyped-def]
    for row in position.rows:
        for member, cell in zip(position.columns, row.cells, strict=True):
            if cell is not None:
                yield f"{row.name} – {member.label}", f"/organisations/{member.code}/indicators/{row.code}", cell.status


def domain_items(position: SystemPosition) -> list[dict[str, object]]:
    """Options for the NHS.UK select: all domains, then each domain holding a key indicator."""
    selected = position.selected_domain.code if position.selected_domain else ""
    return [{"value": "", "text": "All domains", "selected": not selected}] + [
        {"value": domain.code, "text": domain.name, "selected": domain.code == selected} for domain in position.domains
    ]


def cohort_items(position: SystemPosition) -> list[dict[str, object]]:
    """Options for the cohort select: every cohort, then each patient cohort a member's key indicators name; none when no member has one."""
    if not position.cohorts:
        return []
    selected = position.selected_cohort.code if position.selected_cohort else ""
    return [{"value": "", "text": "All cohorts", "selected": not selected}] + [
        {"value": cohort.code, "text": cohort.name, "selected": cohort.code == selected} for cohort in position.cohorts
    ]


class MatrixCells:
    """Each shown cell's status and trend as markup, by the member's indicator id: the compact
    ``status_cell`` and the ``sparkline`` macros written out here for the matrix, where a national
    system has 140 cells and the two macro calls per cell were the largest part of the page's
    rendering. The tag and icons are still the macros' own (rag_tag.html, mdc_icons.html), made
    once per verdict through the templates' memo. tests/web/test_system_position.py checks that
    these cells read exactly as the macros write them."""

    def __init__(self, environment: Any) -> None:
        self.memo = environment.globals["memo"]
        icons = environment.get_template("partials/mdc_icons.html").module
        self.rag_tag = environment.get_template("partials/rag_tag.html").module.rag_tag
        self.variation_icon, self.assurance_icon = icons.variation_icon, icons.assurance_icon

    def write(self, position: SystemPosition, rows: list[tuple[MatrixRow, str]], sparklines: dict[int, Sparkline | None],
              period: dt.date | None) -> dict[int, tuple[Markup, Markup]]:
        latest = period or position.latest_period
        cells: dict[int, tuple[Markup, Markup]] = {}
        for row, target in rows:
            show_target = target == "Varies"
            for member, cell in zip(position.columns, row.cells, strict=True):
                if cell is not None:
                    status = self.status(cell.status, cell.unit, latest, f"/organisations/{member.code}/indicators/{row.code}",
                                         f"{row.name}, {member.label}", show_target)
                    cells[cell.indicator_id] = (status, sparkline_markup(sparklines.get(cell.indicator_id)))
        return cells

    def rows(self, position: SystemPosition, rows: list[tuple[MatrixRow, str]], sparklines: dict[int, Sparkline | None],
             period: dt.date | None) -> Markup:
        """The matrix's body rows: indicator, target and each member's cell (``write``), as the matrix
        template wrote them in its own loop (a Jinja loop over 140 cells cost more than the cells' text)."""
        cells = self.write(position, rows, sparklines, period)
        parts: list[str] = []
        append = parts.append
        for row, target in rows:
            append('      <tr class="nhsuk-table__row">\n        <th scope="row" class="nhsuk-table__header accord-matrix__indicator">')
            append(escape(row.name))
            append(' <span class="accord-code">')
            append(escape(row.code))
            append('</span></th>\n        <td class="nhsuk-table__cell accord-value">')
            append(escape(target))
            append("</td>\n")
            for cell in row.cells:
                if cell is None:
                    append(_NOT_REPORTED)
                    continue
                status, trend = cells[cell.indicator_id]
                append('        <td class="nhsuk-table__cell">')
                append(status)
                append("\n          ")
                append(trend)
                append("</td>\n")
            append("      </tr>\n")
        return Markup("".join(parts))

    def status(self, status: Any, unit: str, latest_period: dt.date | None, href: str, link_context: str, show_target: bool) -> Markup:
        """``status_cell(status, unit, latest_period, href, link_context, compact=true, show_target=...)``."""
        if status is None:
            return Markup('<span class="accord-muted">No data</span>')
        memo = self.memo
        parts = [
            '<span class="accord-cell accord-cell--compact">\n  <span class="accord-cell__line">  <a class="accord-cell__value accord-value" href="',
            escape(href), '"><span class="nhsuk-u-visually-hidden">', escape(link_context), ": </span>", escape(format_number(status.value, unit)),
            "</a>  ", memo(self.rag_tag, status.rag), '  <span class="accord-cell__icons">',
            memo(self.variation_icon, status.variation, status.variation_direction, status.variation_words, size=22),
            memo(self.assurance_icon, status.assurance, status.assurance_words, size=22), "</span>  </span>",
        ]
        if show_target and status.target is not None:
            parts += ['  <span class="accord-cell__note accord-muted">target ', escape(format_number(status.target, unit)), "</span>"]
        if status.masked_failure:
            parts.append('  <span class="accord-cell__note"><strong class="nhsuk-tag nhsuk-tag--yellow accord-rag">Masked failure</strong></span>')
        if latest_period is not None and status.period != latest_period:
            parts += ['  <span class="accord-cell__note accord-muted">', escape(status.period_label), "</span>"]
        parts.append("</span>")
        return Markup("".join(parts))
