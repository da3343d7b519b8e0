"""The indicator page's "Commentary" section: the owner's narrative for the latest period (printed beside
the chart in the IPR) and earlier periods', and the form to write it for people the matrix allows."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.auth.authz import org_domain
from server.commentary import CommentaryRefused, commentary_history, may_write, write_commentary
from server.reporting.indicator import IndicatorDetail
from server.web.render import access_of, form_date, login_required, principal_of, services_of


def series_unit_id(detail: IndicatorDetail) -> int | None:
    """The unit a series' commentary is about: None at the organisation level."""
    return None if detail.is_organisation_level or detail.unit is None else detail.unit.id


async def commentary_context(request: Request, session: AsyncSession, organisation_code: str, detail: IndicatorDetail) -> dict[str, Any]:
    latest = detail.latest
    return {
        "history": await commentary_history(session, detail.indicator.ref.id, series_unit_id(detail)),
        "period": latest.period if latest else None,
        "period_label": latest.period_label if latest else None,
        "may_write": latest is not None and may_write(services_of(request).authorizer, principal_of(request), org_domain(organisation_code)),
    }


@login_required
async def write(request: Request) -> Response:
    from server.web.pages.indicator import indicator_page_for, render_indicator  # the page module imports this one

    code, indicator_code = request.path_params["code"], request.path_params["indicator_code"]
    unit_code = request.query_params.get("unit") or None
    form = await request.form()
    body = str(form.get("commentary", ""))
    period = form_date(form.get("period", ""))
    async with services_of(request).database.session(access_of(request)) as session:
        found = await indicator_page_for(request, session, code, indicator_code, unit_code)
        if isinstance(found, Response):
            return found
        _, detail = found
        outcome = await write_commentary(
            session, services_of(request).authorizer, principal_of(request), indicator_id=detail.indicator.ref.id,
            unit_id=series_unit_id(detail), period=period, body=body,
        )
        if isinstance(outcome, CommentaryRefused):
            await session.rollback()
    if isinstance(outcome, CommentaryRefused):
        return await render_indicator(request, code, indicator_code, unit_code, status_code=outcome.status_code,
                                      extra={"commentary_errors": {outcome.field or "commentary": outcome.message}, "commentary_value": body})
    where = f"/organisations/{quote(code)}/indicators/{quote(indicator_code)}" + (f"?unit={quote(unit_code)}" if unit_code else "")
    return RedirectResponse(f"{where}#commentary", status_code=303)
