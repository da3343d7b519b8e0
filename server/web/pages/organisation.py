"""The Integrated Performance Report (IPR) of one organisation, at any unit of its tree, with its
CSV and PDF exports. Every route answers 404 for an organisation the person may not read, so
that nobody learns what exists elsewhere.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from server.assessment.outturn import Outturn
from server.assessment.params import RULE_SET_NAME, RULE_SET_VERSION
from server.auth.authz import acting_domain
from server.autonomy.framework import autonomy_framework
from server.autonomy.store import division_autonomy
from server.commentary import latest_commentary
from server.contracts.register import contracts_with
from server.programmes.records import has_programmes
from server.reporting.board import board_indicator, chart_series, status_as_at
from server.reporting.export import scorecard_csv
from server.reporting.follow_up import FollowUpItem, open_actions, open_escalations
from server.reporting.indicator import SeriesPoint
from server.reporting.outturn import IndicatorOutturn, indicator_outturns
from server.reporting.periods import add_periods
from server.reporting.scorecard import (
    IndicatorRef,
    Scorecard,
    cohorts_of,
    only_cohort,
    organisation_scorecard,
    reported_months,
    with_statuses,
)
from server.reporting.structure import UnknownUnit, organisation_tree
from server.reporting.summary import statuses, summary_matrix
from server.tenants.load import framework_of
from server.web.charts.board import card_chart
from server.web.charts.sparkline import build_sparkline, sparkline_markup
from server.web.render import (
    access_of,
    login_required,
    not_found,
    read_session,
    render,
    services_of,
)
from server.web.scorecard_markup import ScorecardTables
from server.web.templating import format_number


@dataclass(frozen=True)
class Ipr:
    scorecard: Scorecard
    escalations: list[FollowUpItem]
    actions: list[FollowUpItem]
    contractual_only: bool  # a commissioner's view of a provider: its contractual indicators only
    period: dt.date | None  # the month chosen (?period=), None: the latest position
    months: list[dt.date]  # the months on offer, latest first
    series: dict[int, tuple[SeriesPoint, ...]]  # per indicator, its last two years to the chosen month
    organisation_id: int
    outturns: dict[int, IndicatorOutturn]  # indicator id -> year to date and forecast outturn (tenant file outturn:)
    cohort: str | None = None  # the patient cohort chosen (?cohort=), None: every indicator
    cohorts: tuple[tuple[str, str], ...] = ()  # (code, name) of the cohorts the indicators name, on offer

    def context(self) -> dict[str, object]:
        return {"scorecard": self.scorecard, "escalations": self.escalations, "actions": self.actions,
                "contractual_only": self.contractual_only, "period": self.period, "query": self.query, "outturns": self.outturn_rows,
                "cohort": self.cohort,
                "cohort_items": [{"value": "", "text": "All cohorts", "selected": self.cohort is None}] + [
                    {"value": code, "text": name, "selected": code == self.cohort} for code, name in self.cohorts] if self.cohorts else []}

    @property
    def outturn_rows(self) -> list[tuple[IndicatorRef, IndicatorOutturn, Outturn | None]]:
        """The scorecard's indicators that declare an outturn, in scorecard order, as they stood at the chosen month."""
        return [(row.indicator, self.outturns[row.indicator.id], self.outturns[row.indicator.id].as_at(self.before))
                for domain in self.scorecard.domains for row in domain.rows if row.indicator.id in self.outturns]

    @property
    def before(self) -> dt.date | None:
        """The first day after the chosen month: each series as it stood at its last period before it."""
        return add_periods(self.period, 1, "monthly") if self.period else None

    @property
    def query(self) -> str:
        """The level and month as a query string ('?unit=RWD-MED&period=2026-09-01'), for links to the exports."""
        pairs = [("unit", self.scorecard.unit_query), ("period", self.period.isoformat() if self.period else ""), ("cohort", self.cohort or "")]
        return "?" + urlencode([(k, v) for k, v in pairs if v]) if any(v for _, v in pairs) else ""


class NoSuchPeriod(ValueError):
    pass


def chosen_month(value: str | None) -> dt.date | None:
    """'2026-09-01' or '2026-09' as the first of its month; None for none; NoSuchPeriod for anything else."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value if len(value) > 7 else f"{value}-01")
    except ValueError as error:
        raise NoSuchPeriod(value) from error
    return day.replace(day=1)


async def load_ipr(request: Request, *, with_series: bool = True, spc: bool = True) -> Ipr | None:
    """The IPR for the path's organisation, ``?unit=`` and ``?period=`` (a month: each series as it
    stood at its last period in that month); None when it is missing or not readable. Without
    ``spc`` the series carry values only (a trend line's needs), unless a month is chosen: its
    statuses are read from the points' SPC types."""
    access = access_of(request)
    try:
        period = chosen_month(request.query_params.get("period"))
    except NoSuchPeriod:
        return None
    before = add_periods(period, 1, "monthly") if period else None
    async with read_session(request) as session:
        tree = await organisation_tree(session, request.path_params["code"])
        if tree is None or tree.organisation.id not in (access.read_org_ids | access.contract_org_ids):
            return None
        organisation = tree.organisation
        try:
            scorecard = await organisation_scorecard(session, tree, unit_code=request.query_params.get("unit") or None, before=before)
        except UnknownUnit:
            return None
        # WHSSC appendix 1: the scorecard of one patient cohort (an unknown code narrows nothing).
        cohorts = cohorts_of(scorecard)
        cohort = request.query_params.get("cohort") if request.query_params.get("cohort") in dict(cohorts) else None
        if cohort is not None:
            scorecard = only_cohort(scorecard, cohort)
        unit_id = None if scorecard.is_organisation_level or scorecard.unit is None else scorecard.unit.id
        escalations = await open_escalations(session, org_id=organisation.id, unit_id=unit_id)
        actions = await open_actions(session, org_id=organisation.id, unit_id=unit_id)
        months = await reported_months(session, organisation.id, unit_id, latest=scorecard.latest_period)
        indicators = [row.indicator for domain in scorecard.domains for row in domain.rows]
        series = await chart_series(session, indicators, unit_id=unit_id, before=before, spc=spc or before is not None,
                                     org_id=organisation.id) if with_series or before else {}
        outturns = await indicator_outturns(session, org_id=organisation.id, unit_id=unit_id)
    if before is not None:
        scorecard = with_statuses(scorecard, {
            row.indicator.id: status_as_at(row.indicator, row.status, series.get(row.indicator.id, ()))
            for domain in scorecard.domains for row in domain.rows if row.status is not None
        })
    return Ipr(scorecard, escalations, actions, organisation.id not in access.read_org_ids, period, months, series, organisation.id, outturns,
               cohort, cohorts)


# The organisation's other pages, each shown to those the matrix lets use it (the page checks again).
RELATED_PAGES = (
    ("escalations", "Escalation register", "organisation", "read"),
    ("meetings", "Meetings and data packs", "organisation", "read"),
    ("reports", "Reporting schedule", "organisation", "read"),
    ("maturity", "Maturity self-assessment", "organisation", "read"),
    ("contracts", "Contracts and performance notices", "contractual_indicators", "read"),
    ("measurements/new", "Enter data", "measurement", "submit"),
    ("audit", "Audit trail", "audit", "read"),
    ("admin", "Roles and API tokens", "role_assignment", "manage"),
)


def related_pages(request: Request, organisation_code: str, domain: str) -> list[tuple[str, str]]:
    """``domain``: where the organisation's business is decided (acting_domain: a system's organisation by its system roles)."""
    authorizer, principal = services_of(request).authorizer, request.state.principal
    # A system's roles read it as "system" (authz.access_for); any other organisation's as "organisation".
    reads = "system" if domain.startswith("system:") else "organisation"
    return [
        (f"/organisations/{organisation_code}/{path}", label)
        for path, label, obj, act in RELATED_PAGES
        if authorizer.allows(principal, domain, reads if (obj, act) == ("organisation", "read") else obj, act)
    ]


@login_required
async def organisation_page(request: Request) -> Response:
    ipr = await load_ipr(request, spc=False)
    if ipr is None:
        return not_found(request)
    scorecard = ipr.scorecard
    related: list[tuple[str, str]] = []
    if not ipr.contractual_only:
        async with read_session(request) as session:
            acting = await acting_domain(session, ipr.organisation_id)
            related = related_pages(request, scorecard.organisation_code, acting)
            # Sheffield 3.1: its programme records, or the PMO's way to open the first one.
            if related and (await has_programmes(session, scorecard.organisation_code) or services_of(request).authorizer.allows(
                    request.state.principal, acting, "programme", "create")):
                related.insert(1, (f"/organisations/{scorecard.organisation_code}/programmes", "Programmes and QIPP"))
    rows = [row for domain in scorecard.domains for row in domain.rows]
    previous, sparklines = {}, {}
    for row in rows:
        observed = [point for point in ipr.series.get(row.indicator.id, ()) if point.value is not None]
        if len(observed) > 1:
            previous[row.indicator.id] = observed[-2]
        sparklines[row.indicator.id] = sparkline_markup(build_sparkline(observed, partial(format_number, unit=row.indicator.unit)))
    # The indicator pages at this level, and at the month shown when it is an earlier one.
    query = urlencode([(name, value) for name, value in (("unit", scorecard.unit_query), ("period", f"{ipr.period:%Y-%m}" if ipr.period else "")) if value])
    link = "/organisations/" + scorecard.organisation_code + "/indicators/{}" + (f"?{query}" if query else "")
    matrix = summary_matrix(statuses((row.indicator.name, link.format(row.indicator.code), row.status) for row in rows))
    months = sorted({*ipr.months, *([ipr.period] if ipr.period else [])}, reverse=True)
    month_items = [{"value": "", "text": "Latest", "selected": ipr.period is None}] + [
        {"value": month.isoformat(), "text": month.strftime("%B %Y"), "selected": month == ipr.period} for month in months]
    autonomy, division = None, None
    if not ipr.contractual_only:  # ULHT 5.2: the division's earned autonomy, on its own IPR
        async with read_session(request) as session:
            autonomy = autonomy_framework(await framework_of(session, ipr.organisation_id))
            if autonomy is not None and scorecard.unit is not None and scorecard.unit.depth == 1:
                division = next(iter(await division_autonomy(session, ipr.organisation_id, autonomy, unit_code=scorecard.unit.code)), None)
    if autonomy is not None:
        related.append((f"/organisations/{scorecard.organisation_code}/autonomy", "Earned autonomy"))
    contracts = []
    if ipr.contractual_only:  # the contract pages hold what the commissioner records of the provider (issue 15)
        access = access_of(request)
        async with read_session(request) as session:
            contracts = (await contracts_with(session, frozenset({ipr.organisation_id}), access.read_org_ids)).get(ipr.organisation_id, [])
    tables = ScorecardTables(services_of(request).templates.env)
    return render(request, "pages/organisation.html", {
        **ipr.context(), "related": related, "matrix": matrix, "month_items": month_items,
        "scorecard_tables": [tables.write(domain, scorecard.organisation_code, scorecard.unit_query, previous=previous, sparklines=sparklines,
                                          period=ipr.period) for domain in scorecard.domains],
        "autonomy": autonomy, "division": division, "contracts": contracts,
        "indicator_link": link,
    })


@login_required
async def ipr_csv(request: Request) -> Response:
    ipr = await load_ipr(request, with_series=False)
    if ipr is None:
        return not_found(request)
    return Response(
        scorecard_csv(ipr.scorecard), media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{_file_stem(ipr.scorecard)}.csv"', "cache-control": "no-store"},
    )


@login_required
async def ipr_pdf(request: Request) -> Response:
    ipr = await load_ipr(request)
    if ipr is None:
        return not_found(request)
    async with read_session(request) as session:
        paper = await board_paper(session, ipr)
    templates = services_of(request).templates
    html = templates.env.get_template("pages/organisation_print.html").render(
        **ipr.context(), **paper, generated_on=dt.datetime.now(dt.UTC).date(), rule_set=f"{RULE_SET_NAME} {RULE_SET_VERSION}",
    )
    # WeasyPrint is synchronous and CPU-bound: keep it off the event loop.
    pdf = await run_in_threadpool(_render_pdf, html, str(services_of(request).settings.static_dir))
    return Response(
        pdf, media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{_file_stem(ipr.scorecard)}.pdf"', "cache-control": "no-store"},
    )


async def board_paper(session, ipr: Ipr) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What the PDF adds to the page's IPR: each domain's indicators with their chart, sentences and
    the owner's commentary on the period, and the summary matrix. One more statement, whatever the
    number of indicators."""
    scorecard, series = ipr.scorecard, ipr.series
    unit_id = None if scorecard.is_organisation_level or scorecard.unit is None else scorecard.unit.id
    rows = [row for domain in scorecard.domains for row in domain.rows]
    commentary = await latest_commentary(session, [row.indicator.id for row in rows], unit_id, before=ipr.before)
    domains = []
    for domain in scorecard.domains:
        cards = []
        for row in domain.rows:
            if row.status is None:
                continue
            unit = row.indicator.unit

            def fmt(value: float | None, unit: str = unit) -> str:
                return format_number(value, unit)

            card = board_indicator(row, series.get(row.indicator.id, ()), fmt)
            chart = card_chart(card)
            cards.append((card, chart))
        unreported = [row.indicator for row in domain.rows if row.status is None]
        domains.append({"domain": domain, "cards": cards, "unreported": unreported})
    matrix = summary_matrix(statuses((row.indicator.name, None, row.status) for row in rows))
    return {"paper_domains": domains, "matrix": matrix, "commentary": commentary}


def _render_pdf(html: str, base_url: str) -> bytes:
    from weasyprint import (
        HTML,  # imported here: it loads Pango and fonts, which only exports need
    )

    return HTML(string=html, base_url=base_url).write_pdf()


def _file_stem(scorecard: Scorecard) -> str:
    period = scorecard.latest_period.strftime("%Y-%m") if scorecard.latest_period else "no-data"
    unit = f"-{scorecard.unit_query}" if scorecard.unit_query else ""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in f"ipr-{scorecard.organisation_code}{unit}-{period}")

