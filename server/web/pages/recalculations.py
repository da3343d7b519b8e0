"""Recalculating an indicator's SPC limits from the indicator page: the engine's candidate, the
decisions recorded so far (live and withdrawn), and the forms to record or withdraw one.

The service functions (server/assessment_store/recalculations.py) check the accountability matrix,
keep the history and audit trail, and derive the series again in the same transaction.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.assessment_store.recalculations import (
    RecalculationRefused, may_decide, record_recalculation, recalculations_of, withdraw_recalculation,
)
from server.auth.authz import org_domain
from server.reporting.indicator import IndicatorDetail
from server.reporting.words import period_label
from server.web.render import access_of, form_date, form_int, login_required, principal_of, services_of


async def recalculation_context(request: Request, session: AsyncSession, organisation_code: str, detail: IndicatorDetail) -> dict[str, Any]:
    """What the indicator page's "Recalculated limits" section shows (one query: the decisions)."""
    unit_id = _series_unit_id(detail)
    if unit_id is None:
        return {}
    frequency = detail.indicator.ref.frequency
    candidate = _candidate(detail)
    periods = [point.period for point in detail.points]
    domain = org_domain(organisation_code)
    principal = principal_of(request)
    return {
        "candidate": candidate,
        "decisions": await recalculations_of(session, detail.indicator.ref.id, unit_id),
        "may_record": may_decide(services_of(request).authorizer, principal, domain, "record") and len(periods) > 1,
        "may_withdraw": may_decide(services_of(request).authorizer, principal, domain, "withdraw"),
        "period_items": [
            {"value": period.isoformat(), "text": period_label(period, frequency),
             "selected": candidate is not None and period == candidate["period"]}
            for period in periods[1:]
        ],
        "frequency": frequency,
    }


@login_required
async def record(request: Request) -> Response:
    form = await request.form()
    period = form_date(form.get("period"))

    async def act(session: AsyncSession, detail: IndicatorDetail, unit_id: int):  # type: ignore[no-untyped-def]
        return await record_recalculation(
            session, services_of(request).authorizer, principal_of(request), indicator_id=detail.indicator.ref.id, unit_id=unit_id,
            period=period, reason=str(form.get("reason", "")),
        )

    return await _decide(request, act, {"reason": str(form.get("reason", "")), "period": form.get("period", "")})


@login_required
async def withdraw(request: Request) -> Response:
    form = await request.form()
    recalculation_id = form_int(request.path_params["recalculation_id"])

    async def act(session: AsyncSession, detail: IndicatorDetail, unit_id: int):  # type: ignore[no-untyped-def]
        return await withdraw_recalculation(
            session, services_of(request).authorizer, principal_of(request), recalculation_id=recalculation_id,
            reason=str(form.get("withdrawal_reason", "")),
        )

    return await _decide(request, act, {"withdrawal_reason": str(form.get("withdrawal_reason", "")), "withdrawing": recalculation_id})


async def _decide(request: Request, act, values: dict[str, Any]) -> Response:  # type: ignore[no-untyped-def]
    """Run the decision in the page's own transaction; on a refusal, show the page again with the message."""
    from server.web.pages.indicator import indicator_page_for  # the page module imports this one

    code, indicator_code = request.path_params["code"], request.path_params["indicator_code"]
    unit_code = request.query_params.get("unit") or None
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        found = await indicator_page_for(request, session, code, indicator_code, unit_code)
        if isinstance(found, Response):
            return found
        _, detail = found
        outcome = await act(session, detail, _series_unit_id(detail))
        if isinstance(outcome, RecalculationRefused):
            await session.rollback()
    if isinstance(outcome, RecalculationRefused):
        errors = {outcome.field or "recalculations": outcome.message}
        return await _page_with_errors(request, code, indicator_code, unit_code, errors, values, outcome.status_code)
    where = f"/organisations/{quote(code)}/indicators/{quote(indicator_code)}" + (f"?unit={quote(unit_code)}" if unit_code else "")
    return RedirectResponse(f"{where}#recalculations", status_code=303)


async def _page_with_errors(request: Request, code: str, indicator_code: str, unit_code: str | None,
                            errors: dict[str, str], values: dict[str, Any], status_code: int) -> Response:
    from server.web.pages.indicator import render_indicator

    return await render_indicator(request, code, indicator_code, unit_code, extra={"recalculation_errors": errors, "recalculation_values": values},
                                  status_code=status_code)


def _series_unit_id(detail: IndicatorDetail) -> int | None:
    if detail.unit is not None:
        return detail.unit.id
    root = next((unit for unit in detail.units if unit.is_root), None)
    return root.id if root else None


def _candidate(detail: IndicatorDetail) -> dict[str, Any] | None:
    recalculation = ((detail.evidence.get("spc") or {}).get("recalculation")) or {}
    if not recalculation.get("candidate") or recalculation.get("from_period") is None:
        return None
    period = detail.periods.period(int(recalculation["from_period"]))
    if period is None:
        return None
    return {
        "period": period, "label": period_label(period, detail.indicator.ref.frequency),
        "side": recalculation.get("side") or "", "points": int(recalculation.get("points") or 0),
    }

