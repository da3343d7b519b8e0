"""Import a file on a page: upload (multipart, works without JavaScript; htmx swaps in the answer),
check only or store, and download the organisation's template."""
from __future__ import annotations

import datetime as dt

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from server.auth.authz import org_domain
from server.imports.framework import load_framework
from server.imports.service import format_names, import_file
from server.imports.template import template_csv, template_xlsx
from server.web.render import access_of, login_required, not_found, principal_of, readable_organisation, render, services_of

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _organisation_for_submitter(request: Request, session):  # type: ignore[no-untyped-def]
    organisation = await readable_organisation(request, session, request.path_params["code"])
    if organisation is None:
        return None, not_found(request)
    if not services_of(request).authorizer.allows(principal_of(request), org_domain(organisation.code), "measurement", "submit"):
        return None, render(request, "pages/not_found.html", {"message": "You cannot import data for this organisation"}, status_code=403)
    return organisation, None


def _last_month() -> dt.date:
    return (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@login_required
async def import_page(request: Request) -> Response:
    async with services_of(request).database.session(access_of(request)) as session:
        organisation, refusal = await _organisation_for_submitter(request, session)
        if refusal:
            return refusal
    return render(request, "pages/imports/upload.html", {"organisation": organisation, "formats": format_names(), "values": {}})


@login_required
async def upload(request: Request) -> Response:
    async with request.form() as form:  # closes the spooled upload when read
        upload_file = form.get("file")
        values = {"format": str(form.get("format") or ""), "dry_run": bool(form.get("dry_run"))}
        filename = upload_file.filename if isinstance(upload_file, UploadFile) else None
        content = await upload_file.read() if isinstance(upload_file, UploadFile) else b""
    async with services_of(request).database.session(access_of(request)) as session:
        organisation, refusal = await _organisation_for_submitter(request, session)
        if refusal:
            return refusal
        context = {"organisation": organisation, "formats": format_names(), "values": values}
        if not filename:
            return _answer(request, {**context, "missing_file": True})
        outcome = await import_file(
            session, org_id=organisation.id, user_id=principal_of(request).user_id, content=content, filename=filename,
            format=values["format"] or None, dry_run=values["dry_run"], reason=f"imported {filename}",
        )
    return _answer(request, {**context, "outcome": outcome, "filename": filename})


def _answer(request: Request, context: dict) -> Response:  # type: ignore[type-arg]
    refused = context.get("missing_file") or not context["outcome"].ok
    # htmx 2 does not swap a 4xx answer: the fragment says "refused" in words, with a 200.
    status = 400 if refused and not request.headers.get("hx-request") else 200
    return render(request, "pages/imports/upload.html", context, status_code=status, block="result")


@login_required
async def template_xlsx_download(request: Request) -> Response:
    return await _template(request, "xlsx")


@login_required
async def template_csv_download(request: Request) -> Response:
    return await _template(request, "csv")


async def _template(request: Request, kind: str) -> Response:
    async with services_of(request).database.session(access_of(request)) as session:
        organisation, refusal = await _organisation_for_submitter(request, session)
        if refusal:
            return refusal
        framework = await load_framework(session, org_id=organisation.id)
    period = _last_month()
    name = f"accord-template-{organisation.code}-{period:%Y-%m}.{kind}"
    content, media_type = (template_xlsx(framework, period), XLSX_TYPE) if kind == "xlsx" else (template_csv(framework, period), "text/csv; charset=utf-8")
    return Response(content, media_type=media_type, headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"})
