"""One indicator of an organisation compared with its peers: a strip plot, the table (its text
alternative), the quartiles with the method, and the organisation's rank and quarter. The groups
on offer and the figures come from server/benchmarking/service.py, shared with GraphQL's
``benchmark``; only organisations the person may read take part."""
from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response

from server.benchmarking.service import benchmark
from server.reporting.words import period_label
from server.web.charts.benchmark import build_benchmark_chart
from server.web.render import access_of, login_required, not_found, read_session, render, services_of
from server.web.templating import format_number


@login_required
async def benchmark_page(request: Request) -> Response:
    period = _period(request.query_params.get("period"))
    if period is False:
        return not_found(request, "There is no such period: give it as a date, for example 2026-10-01")
    access = access_of(request)
    async with read_session(request) as session:
        found = await benchmark(
            session, organisation_code=request.path_params["code"], indicator_code=request.path_params["indicator_code"],
            readable_org_ids=access.read_org_ids | access.contract_org_ids, group=request.query_params.get("group") or None,
            period=period or None,
        )
    if found is None:
        return not_found(request)

    def fmt(value: float | None) -> str:
        return format_number(value, found.unit)

    context = {
        "benchmark": found, "chart": build_benchmark_chart(found, fmt),
        "period_words": period_label(found.period, found.frequency) if found.period else None,
        "group_items": [{"value": group.key, "text": group.name, "selected": group.key == found.group.key} for group in found.groups],
        "period_items": [{"value": at.isoformat(), "text": period_label(at, found.frequency), "selected": at == found.period}
                         for at in sorted({*found.periods, *([found.period] if found.period else [])}, reverse=True)],
    }
    return render(request, "pages/benchmark.html", context)


def _period(value: str | None) -> dt.date | None | bool:
    """The date asked for, None when none was, False when it is not a date."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return False
