"""Forums, meetings, data packs and the reporting schedule of one organisation.

Every page needs a login and an organisation the request may read in full (otherwise "not found",
never "forbidden", so nothing confirms what exists elsewhere). Every write also needs Casbin's
``meeting manage`` for the organisation (or, for a system's own organisation, for the system),
checked here whatever buttons the page showed; row-level security refuses the write regardless.
Forms post and redirect, so everything works without JavaScript.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import org_domain
from server.db.models import Organisation
from server.judgements.forms import judgement_form, register_subjects
from server.meetings.access import may_manage_meetings, may_mark_reports
from server.meetings.actions import STATUS_WORDS, action_log, add_action, set_action_status
from server.meetings.attendance import AttendanceMark, attendance_record, quorum_status
from server.meetings.calendar import FREQUENCY_WORDS, add_months, long_date, month_label
from server.meetings.deadlines import UK, pack_deadlines, uk_time
from server.meetings.minutes import Actor, MeetingChanged, Refused, record_attendance, record_decision
from server.meetings.pack import build_pack, issue_pack
from server.meetings.pdf import render_pack_pdf
from server.reporting.export import pack_csv
from server.reporting.pack_paper import cadence_words, pack_paper
from server.web.charts.board import PORTRAIT_HEIGHT, card_chart
from server.meetings.queries import (
    MeetingWithForum, attendance_of, forums_of, held_meetings_attendance, meeting_in, meetings_between, previous_meeting,
)
from server.meetings.reports import mark_reports_issued, reporting_schedule
from server.meetings.schedule import schedule_meetings
from server.organisations.queries import visible_organisations
from server.tenants.load import framework_of
from server.web.listing import choose
from server.web.render import access_of, form_date, form_day_month_year, login_required, not_found, principal_of, read_session, readable_organisation, render, services_of
from server.web.templating import format_number

SCHEDULE_MONTHS = 3  # "schedule the next 3 months"
PAST_MONTHS = 12
TIER_WORDS = {"oversight": "Oversight", "assurance": "Assurance sub-committee",
              "management_escalation": "Management escalation", "management_delivery": "Management delivery"}
SAVED_WORDS = {"attendance": "Attendance saved and the meeting recorded as held.", "decision": "Decision recorded.",
               "judgement": "Judgement recorded and minuted as a decision; the ladders have re-run.",
               "action": "Action added to the log.", "action-status": "Action updated.", "pack": "Data pack issued and frozen."}


def _today() -> dt.date:
    return dt.datetime.now(UK).date()


def _actor(request: Request, organisation: Organisation) -> Actor:
    principal = principal_of(request)
    roles = principal.roles_in(org_domain(organisation.code)) if principal else []
    return Actor(principal.user_id if principal else None, principal.name if principal else "unknown", ", ".join(roles) or None)


async def _readable(session: AsyncSession, request: Request) -> Organisation | None:
    """The organisation in the path if this request may read it in full; None otherwise."""
    return await readable_organisation(request, session, request.path_params["code"])


async def _may_manage(session: AsyncSession, request: Request, organisation: Organisation) -> bool:
    return await may_manage_meetings(session, services_of(request).authorizer, principal_of(request), organisation)


def forbidden(request: Request, organisation: Organisation) -> Response:
    return render(request, "pages/meetings/forbidden.html", {"organisation": organisation}, status_code=403)


def _path_id(request: Request, name: str) -> int | None:
    """A numeric id from the path; anything else is simply not found."""
    value = request.path_params.get(name, "")
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 12 else None


async def _meeting(session: AsyncSession, request: Request, organisation: Organisation | None) -> MeetingWithForum | None:
    meeting_id = _path_id(request, "meeting_id")
    if organisation is None or meeting_id is None:
        return None
    return await meeting_in(session, organisation.id, meeting_id)


def _meeting_url(organisation: Organisation, meeting_id: int, **query: str) -> str:
    return f"/organisations/{organisation.code}/meetings/{meeting_id}" + (f"?{urlencode(query)}" if query else "")


# --- index and list ------------------------------------------------------------------------------

@login_required
async def meetings_index(request: Request) -> Response:
    """Each organisation this person may read, with links to its meetings and reporting schedule."""
    access = access_of(request)
    async with services_of(request).database.session(access) as session:
        organisations = await visible_organisations(session, sorted(access.read_org_ids))
    return render(request, "pages/meetings/index.html", {"organisations": organisations})


@login_required
async def organisation_meetings(request: Request) -> Response:
    today = _today()
    async with services_of(request).database.session(access_of(request)) as session:
        organisation = await _readable(session, request)
        if organisation is None:
            return not_found(request)
        forums = await forums_of(session, organisation.id)
        upcoming = await meetings_between(session, organisation.id, today, add_months(today, SCHEDULE_MONTHS))
        past = await meetings_between(session, organisation.id, add_months(today, -PAST_MONTHS), today - dt.timedelta(days=1), newest_first=True)
        may_manage = await _may_manage(session, request, organisation)
        framework = await framework_of(session, organisation.id)
    forum_choice = choose(request, "forum", "Forum", [("all", "Every forum"), *((forum.code, forum.name) for forum in forums)])
    status_choice = choose(request, "status", "Status", [("all", "Any status"), ("scheduled", "Scheduled"), ("held", "Held"), ("cancelled", "Cancelled")])
    forum_ids = {forum.code: forum.id for forum in forums}

    def shown(items):  # type: ignore[no-untyped-def]
        return [item for item in items
                if (forum_choice.value == "all" or item.meeting.forum_id == forum_ids[forum_choice.value])
                and (status_choice.value == "all" or item.meeting.status == status_choice.value)]

    return render(request, "pages/meetings/list.html", {
        "organisation": organisation, "forums": forums, "upcoming": shown(upcoming), "past": shown(past), "may_manage": may_manage,
        "choices": [forum_choice, status_choice], "cadence_words": cadence_words,
        "tier_words": TIER_WORDS, "long_date": long_date, "today": today, "schedule_months": SCHEDULE_MONTHS,
        "scheduled": _schedule_summary(request.query_params), "frequency_words": FREQUENCY_WORDS,
        "forum_names": {forum.code: forum.name for forum in forums},
        "ruled_forums": {rule.forum: rule.applies_to for rule in framework.escalation.cadence_rules} if framework else {},
    })


@login_required
async def schedule_next_months(request: Request) -> Response:
    today = _today()
    async with services_of(request).database.session(access_of(request)) as session:
        organisation = await _readable(session, request)
        if organisation is None:
            return not_found(request)
        if not await _may_manage(session, request, organisation):
            return forbidden(request, organisation)
        outcome = await schedule_meetings(
            session, organisation.id, start=today, end=add_months(today, SCHEDULE_MONTHS), actor_user_id=principal_of(request).user_id,
        )
    counts = {"needed": len(outcome.planned), "created": outcome.created, "reinstated": outcome.reinstated, "superseded": outcome.superseded}
    return RedirectResponse(f"/organisations/{organisation.code}/meetings?{urlencode(counts)}", status_code=303)


def _schedule_summary(query: Mapping[str, str]) -> str | None:
    """The outcome of scheduling, rebuilt from numbers only: the page never reflects free text from a URL."""
    try:
        needed, created, reinstated, superseded = (int(query[name]) for name in ("needed", "created", "reinstated", "superseded"))
    except (KeyError, ValueError):
        return None
    already = max(0, needed - created - reinstated)
    return (f"{needed} meetings are needed in the next {SCHEDULE_MONTHS} months: {created} created, {already} already scheduled"
            + (f", {reinstated} reinstated" if reinstated else "") + (f", {superseded} no longer needed and cancelled" if superseded else "") + ".")


# --- one meeting ----------------------------------------------------------------------------------

async def _meeting_context(session: AsyncSession, request: Request, organisation: Organisation, found: MeetingWithForum) -> dict[str, Any]:
    meeting, forum = found.meeting, found.forum
    now = dt.datetime.now(dt.UTC)
    marks = await attendance_of(session, meeting.id)
    held = await held_meetings_attendance(session, meeting)
    pack = meeting.pack if meeting.pack_issued_at is not None else await build_pack(session, organisation, meeting, forum, now=now)
    previous = await previous_meeting(session, meeting)
    return {
        "organisation": organisation, "meeting": meeting, "forum": forum, "title": found.title, "subject_name": found.subject_name,
        "may_manage": await _may_manage(session, request, organisation),
        "members": list(forum.members), "marks": marks,
        "quorum": quorum_status(forum.members, marks, forum.quorum),
        "attendance_records": attendance_record(forum.members, held, forum.attendance_threshold),
        "held_count": len(held),
        "actions": await action_log(session, meeting), "status_words": STATUS_WORDS,
        "pack": pack, "pack_frozen": meeting.pack_issued_at is not None,
        "deadlines": pack_deadlines(forum.pack_deadlines_days, meeting.scheduled_for, issued_at=meeting.pack_issued_at, now=now),
        "previous": previous, "today": _today(), "long_date": long_date, "tier_words": TIER_WORDS,
        "month_label": month_label, "uk_time": uk_time,
        "issued_on": meeting.pack_issued_at.astimezone(UK) if meeting.pack_issued_at else None,
        "saved": SAVED_WORDS.get(request.query_params.get("saved", "")),
        "errors": [], "values": {},
        "judgement_form": await _judgement_form(session, request, organisation, found),
    }


async def _judgement_form(session: AsyncSession, request: Request, organisation: Organisation, found: MeetingWithForum):  # type: ignore[no-untyped-def]
    """Issue 11: the judgements this forum makes, minuted as decisions, about the meeting's subject or the live register."""
    meeting = found.meeting
    subjects = ([(meeting.subject_key, found.subject_name or meeting.subject_key)] if meeting.subject_key
                else await register_subjects(session, organisation.id))
    return await judgement_form(
        session, services_of(request).authorizer, principal_of(request), organisation_code=organisation.code, org_id=organisation.id,
        framework=await framework_of(session, organisation.id), subjects=subjects, returns_to=f"meeting:{meeting.id}",
        forum=found.forum.code, meeting_version=meeting.version,
    ) if meeting.status != "cancelled" else None


async def _readable_meeting_context(request: Request):  # type: ignore[no-untyped-def]
    """(organisation, meeting, page context) for the path's meeting if readable; None answers 404."""
    async with read_session(request) as session:
        organisation = await _readable(session, request)
        found = await _meeting(session, request, organisation)
        if organisation is None or not found:
            return None
        return organisation, found, await _meeting_context(session, request, organisation, found)


@login_required
async def meeting_page(request: Request) -> Response:
    loaded = await _readable_meeting_context(request)
    if loaded is None:
        return not_found(request)
    return render(request, "pages/meetings/meeting.html", loaded[2])


async def _meeting_write(request: Request, write) -> Response:  # type: ignore[no-untyped-def]
    """The shared shape of every meeting form: authorise, act, then redirect or show what went wrong."""
    form = await request.form()
    async with services_of(request).database.session(access_of(request)) as session:
        organisation = await _readable(session, request)
        found = await _meeting(session, request, organisation)
        if organisation is None or not found:
            return not_found(request)
        if not await _may_manage(session, request, organisation):
            return forbidden(request, organisation)
        outcome = await write(session, organisation, found, form)
        if isinstance(outcome, str):
            return RedirectResponse(_meeting_url(organisation, found.meeting.id, saved=outcome), status_code=303)
        status_code, errors, values = outcome
        fresh = await meeting_in(session, organisation.id, found.meeting.id)
        await session.refresh(fresh.meeting)
        context = await _meeting_context(session, request, organisation, fresh)
    return render(request, "pages/meetings/meeting.html", {**context, "errors": errors, "values": values}, status_code=status_code)


def _failure(result: MeetingChanged | Refused, field: str, values: Mapping[str, str] | None = None) -> tuple[int, list[dict[str, str]], Mapping[str, str]]:
    if isinstance(result, MeetingChanged):
        return 409, [{"text": result.message, "href": f"#{field}"}], values or {}
    return 400, [{"text": result.message, "href": f"#{field}"}], values or {}


def _version(form: Mapping[str, Any]) -> int:
    try:
        return int(str(form.get("version", "")))
    except ValueError:
        return -1  # never current: refused as stale


@login_required
async def save_attendance(request: Request) -> Response:
    async def write(session, organisation, found, form):  # type: ignore[no-untyped-def]
        marks, errors = [], []
        for index, member in enumerate(found.forum.members):
            status = str(form.get(f"attendance-{index}", "absent"))
            deputy = str(form.get(f"deputy-{index}", "")).strip()
            if status == "deputy" and not deputy:
                errors.append({"text": f"Enter the name of the deputy who attended for {member}", "href": f"#deputy-{index}"})
            marks.append(AttendanceMark(member, present=status == "present", deputy=deputy if status == "deputy" else None))
        if errors:
            return 400, errors, dict(form)
        result = await record_attendance(
            session, found.meeting, expected_version=_version(form), marks=marks, members=found.forum.members,
            actor=_actor(request, organisation), today=_today(),
        )
        return "attendance" if not isinstance(result, (MeetingChanged, Refused)) else _failure(result, "attendance", dict(form))

    return await _meeting_write(request, write)


@login_required
async def add_decision(request: Request) -> Response:
    async def write(session, organisation, found, form):  # type: ignore[no-untyped-def]
        result = await record_decision(
            session, found.meeting, expected_version=_version(form), decision=str(form.get("decision", "")),
            actor=_actor(request, organisation), now=dt.datetime.now(dt.UTC),
        )
        return "decision" if not isinstance(result, (MeetingChanged, Refused)) else _failure(result, "decision", dict(form))

    return await _meeting_write(request, write)


@login_required
async def add_meeting_action(request: Request) -> Response:
    async def write(session, organisation, found, form):  # type: ignore[no-untyped-def]
        due = form_day_month_year(form, "due")
        if due is None:
            return 400, [{"text": "Enter the due date as a real date, for example 27 3 2027", "href": "#due"}], dict(form)
        result = await add_action(
            session, found.meeting, description=str(form.get("description", "")), owner=str(form.get("owner", "")),
            due_date=due, actor=_actor(request, organisation),
        )
        return "action" if not isinstance(result, Refused) else _failure(result, "description", dict(form))

    return await _meeting_write(request, write)


@login_required
async def update_meeting_action(request: Request) -> Response:
    async def write(session, organisation, found, form):  # type: ignore[no-untyped-def]
        action_id = _path_id(request, "action_id")
        logged = {entry.action.id for entry in await action_log(session, found.meeting)}
        if action_id is None or action_id not in logged:
            return 404, [{"text": "That action is not on this meeting's log.", "href": "#actions"}], {}
        result = await set_action_status(
            session, organisation.id, action_id, status=str(form.get("status", "")), actor=_actor(request, organisation),
            now=dt.datetime.now(dt.UTC),
        )
        return "action-status" if not isinstance(result, Refused) else _failure(result, f"action-{action_id}")

    return await _meeting_write(request, write)


@login_required
async def issue_meeting_pack(request: Request) -> Response:
    async def write(session, organisation, found, form):  # type: ignore[no-untyped-def]
        result = await issue_pack(
            session, organisation, found.meeting, found.forum, expected_version=_version(form),
            actor=_actor(request, organisation), now=dt.datetime.now(dt.UTC),
        )
        return "pack" if not isinstance(result, (MeetingChanged, Refused)) else _failure(result, "pack")

    return await _meeting_write(request, write)


@login_required
async def meeting_pack_pdf(request: Request) -> Response:
    loaded = await _readable_meeting_context(request)
    if loaded is None:
        return not_found(request)
    organisation, found, context = loaded
    environment = services_of(request).templates.env
    paper = pack_paper(context["pack"], format_number)
    charts = {item.values["code"]: card_chart(item.card, height=PORTRAIT_HEIGHT) for item in paper.indicators if item.card is not None}
    cadence = cadence_words(context["pack"].get("cadence_reason"), found.forum.name, FREQUENCY_WORDS)
    pdf = await run_in_threadpool(render_pack_pdf, environment, {
        **context, "paper": paper, "charts": charts, "cadence": cadence, "printed_at": dt.datetime.now(UK), "date_from_iso": dt.date.fromisoformat,
    })
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'inline; filename="{_pack_filename(organisation, found, "pdf")}"', "cache-control": "no-store",
    })


@login_required
async def meeting_pack_csv(request: Request) -> Response:
    """The pack's indicators as CSV: the figures and words the PDF prints, under the same authorisation."""
    loaded = await _readable_meeting_context(request)
    if loaded is None:
        return not_found(request)
    organisation, found, context = loaded
    return Response(pack_csv(pack_paper(context["pack"], format_number)), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="{_pack_filename(organisation, found, "csv")}"', "cache-control": "no-store",
    })


def _pack_filename(organisation: Organisation, found, extension: str) -> str:  # type: ignore[no-untyped-def]
    return f"{organisation.code}-{found.forum.code}-{found.meeting.scheduled_for.isoformat()}-pack.{extension}"


# --- reporting schedule ----------------------------------------------------------------------------

@login_required
async def reports_page(request: Request) -> Response:
    async with services_of(request).database.session(access_of(request)) as session:
        organisation = await _readable(session, request)
        if organisation is None:
            return not_found(request)
        schedule = await reporting_schedule(session, organisation.id, today=_today())
        may_mark = await may_mark_reports(session, services_of(request).authorizer, principal_of(request), organisation)
    return render(request, "pages/meetings/reports.html", {
        "organisation": organisation, "schedule": schedule, "may_manage": may_mark, "long_date": long_date,
        "saved": _marked_words(request.query_params.get("issued")), "error": None,
    })


@login_required
async def report_issued(request: Request) -> Response:
    """Mark one due date of a report issued, or a batch of them (the ``due`` field repeated)."""
    form = await request.form()
    async with services_of(request).database.session(access_of(request)) as session:
        organisation = await _readable(session, request)
        if organisation is None:
            return not_found(request)
        if not await may_mark_reports(session, services_of(request).authorizer, principal_of(request), organisation):
            return forbidden(request, organisation)
        code = str(form.get("report", ""))
        dues = [form_date(value) for value in form.getlist("due")]
        result = (Refused("There is no such report due on that day.") if None in dues else
                  await mark_reports_issued(session, organisation.id, code=code, dues=[d for d in dues if d is not None],
                                            actor=_actor(request, organisation), today=_today()))
        if isinstance(result, Refused):
            schedule = await reporting_schedule(session, organisation.id, today=_today())
            return render(request, "pages/meetings/reports.html", {
                "organisation": organisation, "schedule": schedule, "may_manage": True, "long_date": long_date,
                "saved": None, "error": result.message,
            }, status_code=400)
    return RedirectResponse(f"/organisations/{organisation.code}/reports?{urlencode({'issued': len(result)})}", status_code=303)


def _marked_words(count: str | None) -> str | None:
    """The outcome, rebuilt from a number only: the page never reflects free text from a URL."""
    if not count or not count.isdigit():
        return None
    return "Report marked as issued." if count == "1" else f"{int(count)} reports marked as issued."
