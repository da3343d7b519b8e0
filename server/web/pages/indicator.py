"""One indicator at the organisation level or at a unit: SPC chart, data table, the reasons for
every verdict, and the revision history of the values behind it."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.reporting.explain import describe_rule_sets, explain_assessment
from server.reporting.export import series_csv
from server.reporting.indicator import IndicatorDetail, SeriesPoint, UnknownIndicator, indicator_detail
from server.reporting.structure import organisation_tree
from server.web.charts.board import UNIT_TITLES
from server.web.charts.spc import build_spc_chart
from server.web.pages.commentary import commentary_context
from server.web.pages.organisation import NoSuchPeriod, chosen_month
from server.web.pages.recalculations import recalculation_context
from server.web.render import access_of, login_required, not_found, read_session, render, services_of
from server.web.templating import format_number



@login_required
async def indicator_page(request: Request) -> Response:
    return await render_indicator(
        request, request.path_params["code"], request.path_params["indicator_code"], request.query_params.get("unit") or None,
    )


async def indicator_page_for(request: Request, session, code: str, indicator_code: str, unit_code: str | None):  # type: ignore[no-untyped-def]
    """The organisation and the indicator's detail as this request may see them (at ``?period=``, a month, when
    one is asked for), or the not-found page."""
    access = access_of(request)
    try:
        month = chosen_month(request.query_params.get("period"))
    except NoSuchPeriod:
        return not_found(request)
    tree = await organisation_tree(session, code)
    if tree is None or tree.organisation.id not in (access.read_org_ids | access.contract_org_ids):
        return not_found(request)
    try:
        return tree.organisation, await indicator_detail(session, tree, indicator_code=indicator_code, unit_code=unit_code, month=month)
    except UnknownIndicator:
        return not_found(request)


async def render_indicator(
    request: Request, code: str, indicator_code: str, unit_code: str | None, *, extra: dict[str, object] | None = None, status_code: int = 200,
) -> Response:
    async with read_session(request) as session:
        found = await indicator_page_for(request, session, code, indicator_code, unit_code)
        if isinstance(found, Response):
            return found
        organisation, detail = found
        recalculation = await recalculation_context(request, session, code, detail)
        commentary = await commentary_context(request, session, code, detail)
    unit = detail.indicator.ref.unit

    def fmt(value: float | None) -> str:
        return format_number(value, unit)

    where = organisation.name if detail.is_organisation_level or detail.unit is None else f"{detail.unit.name}, {organisation.name}"
    chart = build_spc_chart(
        detail.points, title=f"{detail.indicator.ref.name}: {where}", y_title=UNIT_TITLES.get(unit, unit.capitalize()),
        fmt=fmt, short_label=_short_label(detail),
    )
    context = {
        "organisation": organisation, "detail": detail, "chart": chart,
        "explanations": explain_assessment(detail.evidence, detail.periods, fmt),
        "rule_sets": describe_rule_sets(detail.evidence),
        "unit_items": unit_items(detail, organisation.name),
        "recalculation": recalculation, "recalculation_errors": {}, "recalculation_values": {},
        "commentary": commentary, "commentary_errors": {}, "commentary_value": "",
        **(extra or {}),
    }
    return render(request, "pages/indicator.html", context, status_code=status_code)


@login_required
async def series_csv_download(request: Request) -> Response:
    """The indicator's whole series at the organisation or a unit, as CSV (what the chart and the data table show)."""
    code, indicator_code = request.path_params["code"], request.path_params["indicator_code"]
    async with read_session(request) as session:
        found = await indicator_page_for(request, session, code, indicator_code, request.query_params.get("unit") or None)
    if isinstance(found, Response):
        return found
    organisation, detail = found
    at_unit = not detail.is_organisation_level and detail.unit is not None
    unit_code, unit_name = (detail.unit.code, detail.unit.name) if at_unit else (organisation.code, organisation.name)
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in f"{organisation.code}-{unit_code if at_unit else 'all'}-{indicator_code}")
    return Response(
        series_csv(organisation.code, unit_code, unit_name, detail.indicator.ref, detail.points, detail.outturn),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{stem}.csv"', "cache-control": "no-store"},
    )


def unit_items(detail: IndicatorDetail, organisation_name: str) -> list[dict[str, object]]:
    """Options for the "Show for" select: the whole organisation, then every unit with its tier."""
    selected = "" if detail.is_organisation_level or detail.unit is None else detail.unit.code
    return [
        {"value": "" if unit.is_root else unit.code,
         "text": f"{organisation_name} (whole organisation)" if unit.is_root else f"{unit.name} ({unit.tier.lower()})",
         "selected": ("" if unit.is_root else unit.code) == selected}
        # Path order keeps each unit just after its parent, so the list reads as the tree.
        for unit in sorted(detail.units, key=lambda unit: unit.path)
    ]


def _short_label(detail: IndicatorDetail):  # type: ignore[no-untyped-def]
    frequency = detail.indicator.ref.frequency

    def label(point: SeriesPoint) -> str:
        if frequency == "weekly":
            return point.period.strftime("%-d %b")
        if frequency == "quarterly":
            return f"Q{(point.period.month - 1) // 3 + 1} {point.period.strftime('%y')}"
        return point.period.strftime("%b %y")

    return label
