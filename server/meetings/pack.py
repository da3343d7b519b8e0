"""A meeting's data pack: a snapshot of the figures, escalations and actions it reviews, frozen once issued.

ULHT 5.1: "a CQC style 'data pack' approach, so that the focus of the meeting will be on performance
issues"; the pack "will be used to identify key lines of enquiry and key areas of risk". What the
pack covers follows the meeting's subject:

| subject | indicators |
| --- | --- |
| ``unit:<code>`` (a divisional PRM) | the unit's own latest assessments (unit level) and its 5.2 rating |
| ``contract:<provider>`` (an SLA meeting) | the provider's contractual indicators, as far as the reader may see them |
| ``indicator:<code>`` (an escalation meeting) | that indicator at organisation level |
| none (a board or committee) | every indicator at organisation level |

Until issued, the pack is built afresh on every view (a draft). Issuing stores it in ``meeting.pack``
with ``pack_issued_at``; from then on the stored snapshot is what is shown and printed, whatever
happens to the data afterwards.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.audit.trail import record_event
from server.contracts.notices import notices_of
from server.contracts.outturn import contract_outturn
from server.contracts.register import ContractView, contract_of, contracts_of
from server.judgements.store import current_judgements
from server.db.models import Forum, Meeting, Organisation
from server.meetings.actions import STATUS_WORDS, action_log
from server.meetings.calendar import long_date
from server.escalation_store.division import divisions_of
from server.meetings.minutes import Actor, MeetingChanged, Refused, Saved
from server.reporting.data_quality import COHORT_NAMES
from server.autonomy.framework import autonomy_framework
from server.autonomy.store import division_autonomy
from server.tenants.load import framework_of
from server.reporting.board import chart_series
from server.reporting.indicator import SeriesPoint
from server.reporting.scorecard import IndicatorRef

# Schema 2 adds each indicator's frozen SPC series (``series``); a schema 1 pack prints without charts.
PACK_SCHEMA = 2
CONCERNING = {"special_cause_concerning"}


@dataclass(frozen=True)
class PackIssued(Saved):
    pack: dict


async def build_pack(session: AsyncSession, organisation: Organisation, meeting: Meeting, forum: Forum, *, now: dt.datetime) -> dict:
    """The pack as it would be issued now: plain JSON, so it can be frozen as it is."""
    kind, _, code = (meeting.subject_key or "").partition(":")
    subject_name = meeting.cadence_reason.get("subject_name")
    scope = {"kind": "organisation", "name": organisation.name}
    rating = None
    contract = await _contract_reviewed(session, organisation.id, forum, kind, code)
    if contract is not None:
        # A contract's own meeting (an SLA meeting, or the provider's Contract Management Board) reviews that
        # provider's figures, not the commissioner's: those it records at the contract unit and the provider's own.
        kind, code = "contract", contract.provider_code
        scope = {"kind": "contract", "code": code, "name": subject_name or contract.provider_name}
        indicators = await contract_indicators(session, contract)
    elif kind == "unit":
        unit = (await session.exec(text("select id, name from org_unit where org_id = :org and code = :code"),
                                   params={"org": organisation.id, "code": code})).first()
        scope = {"kind": "unit", "code": code, "name": unit[1] if unit else subject_name or code}
        indicators = await _with_series(session, await _unit_indicators(session, unit[0]), unit_id=unit[0]) if unit else []
        division = next((d for d in await divisions_of(session, organisation.id) if d.code == code), None)
        if division is not None and division.rating is not None:
            names = {i["code"]: i["name"] for i in indicators}
            rating = {
                "failed_criteria": division.rating.failed_criteria, "months_sustained": division.months_sustained,
                "criteria": [{"fact": c.fact, "met": c.met, "failing_indicators": [names.get(f, f) for f in c.failing_indicators], "note": c.note}
                             for c in division.rating.criteria],
                "autonomy": await _division_autonomy(session, organisation.id, code),
            }
    elif kind == "indicator":
        scope = {"kind": "indicator", "code": code, "name": subject_name or code}
        chosen = [i for i in await _organisation_indicators(session, organisation.id) if i["code"] == code]
        indicators = await _with_series(session, chosen, unit_id=None)
    else:
        indicators = await _with_series(session, await _organisation_indicators(session, organisation.id), unit_id=None)
    escalations = await _open_escalations(session, organisation.id, f"contract:{code}" if contract else meeting.subject_key, kind)
    actions = [
        {"id": logged.action.id, "description": logged.action.description, "owner": logged.action.owner,
         "due_date": logged.action.due_date.isoformat(), "status": logged.action.status, "status_words": STATUS_WORDS[logged.action.status],
         "raised_on": logged.raised_on.isoformat(), "carried_forward": logged.carried_forward,
         "overdue": logged.is_overdue(meeting.scheduled_for)}
        for logged in await action_log(session, meeting) if logged.action.status != "closed"
    ]
    concerns = [i for i in indicators if i["rag"] in ("red", "amber") or i["variation"] in CONCERNING or i["failure_forecast"]]
    pack = {
        "schema": PACK_SCHEMA,
        "built_at": now.isoformat(),
        "organisation": {"code": organisation.code, "name": organisation.name},
        "forum": {"code": forum.code, "name": forum.name, "chair": forum.chair, "reports_to": forum.reports_to,
                  "reports_to_name": await _forum_name(session, organisation.id, forum.reports_to), "members": list(forum.members)},
        "meeting": {"id": meeting.id, "scheduled_for": meeting.scheduled_for.isoformat(), "subject_key": meeting.subject_key,
                    "subject_name": subject_name},
        "scope": scope,
        "cadence_reason": {k: meeting.cadence_reason.get(k) for k in ("basis", "rule", "frequency", "explanation")},
        "rating": rating,
        "indicators": indicators,
        "concerns": [i["code"] for i in concerns],
        "escalations": escalations,
        "actions": actions,
    }
    if contract is not None:
        pack["contract"] = await contract_section(session, contract, indicators, escalations, now=now)
    pack["agenda"] = agenda(pack, forum)
    return pack


async def _contract_reviewed(session: AsyncSession, org_id: int, forum: Forum, kind: str, code: str) -> ContractView | None:
    """The contract a meeting reviews: its subject's (an SLA meeting), or the one whose board the forum is."""
    if kind == "contract":
        return await contract_of(session, org_id, code)
    if kind:
        return None
    return next((c for c in await contracts_of(session, org_id) if c.forum == forum.code), None)


async def contract_indicators(session: AsyncSession, contract: ContractView) -> list[dict]:
    """The provider's figures as its commissioner sees them: recorded at the contract unit, and the provider's own contractual ones."""
    recorded: list[dict] = []
    if contract.monitoring_unit_id is not None:
        chosen = [i for i in await _unit_indicators(session, contract.monitoring_unit_id) if i["code"] in contract.indicators]
        recorded = await _with_series(session, chosen, unit_id=contract.monitoring_unit_id)
    return recorded + await _with_series(session, await _provider_contractual_indicators(session, contract.provider_code), unit_id=None)


async def contract_section(session: AsyncSession, contract: ContractView, indicators: list[dict], escalations: list[dict],
                           *, now: dt.datetime) -> dict:
    """What a contract meeting adds to the figures: the contract, its finance outturn, risks and a forward look."""
    outturn = await contract_outturn(session, contract)
    notices = await notices_of(session, contract.commissioner_id, provider_id=contract.provider_id, open_only=True)
    judged = await current_judgements(session, contract.commissioner_id, at=now, subject_keys=[contract.subject_key])
    risks = [{"kind": "escalation", "text": f"{e['level_name']} (level {e['level']}): {e['explanation'] or ''}".strip()} for e in escalations]
    risks += [{"kind": "judgement", "text": f"{j.kind.replace('_', ' ').capitalize()}: {j.value} ({j.recorded_by_name}: {j.reason})"}
              for j in judged]
    risks += [{"kind": "notice", "text": f"{n.title}: {n.status_words.lower()}"} for n in notices]
    forward = [{"text": f"{i['name']}: failure forecast within the next quarter"} for i in indicators if i["failure_forecast"]]
    forward += [{"text": f"{n.title}: remedial action plan due {long_date(n.remedial_plan_due)}"} for n in notices if n.remedial_plan_due]
    if outturn is not None:
        forward.append({"text": f"Forecast outturn for the year from {long_date(outturn.financial_year_start)}: "
                                f"£{outturn.forecast:,.0f} against a contract value of £{outturn.contract_value:,.0f}"})
    return {
        "provider": {"code": contract.provider_code, "name": contract.provider_name, "is_tenant": contract.provider_is_tenant},
        "annual_value": contract.annual_value, "services": list(contract.services), "strategically_important": contract.strategically_important,
        "recorded_at": contract.monitoring_unit, "outturn": outturn.as_dict() if outturn else None,
        "notices": [{"id": n.id, "title": n.title, "status": n.status, "status_words": n.status_words} for n in notices],
        "risks": risks, "forward_look": forward,
    }


def agenda(pack: dict, forum: Forum) -> list[dict[str, object]]:
    """The running order, from the pack: attendance, actions, exceptions, escalations, onward report."""
    by_code = {i["code"]: i for i in pack["indicators"]}
    items = [
        {"title": "Welcome, apologies and quorum", "detail": f"Chair: {forum.chair}."},
        {"title": "Decisions and minutes of the previous meeting", "detail": "Agree the record of the last sitting."},
        {"title": "Action log", "detail": _count(len(pack["actions"]), "open action") + " to review"
         + (f", {overdue} past the due date." if (overdue := sum(1 for a in pack["actions"] if a["overdue"])) else ".")},
    ]
    if pack.get("rating"):
        failed = pack["rating"]["failed_criteria"]
        items.append({"title": "Divisional rating (ULHT 5.2 criteria)",
                      "detail": f"{_count(failed, 'criterion', 'criteria')} failed; {pack['rating']['months_sustained']} months sustained."})
    # Key lines of enquiry (ULHT 5.1), one item per scorecard domain with something to discuss.
    by_domain: dict[str, list[str]] = {}
    for code in pack["concerns"]:
        indicator = by_code[code]
        by_domain.setdefault(indicator["domain"], []).append(f"{indicator['name']}{' (key)' if indicator['key'] else ''}: {_concern(indicator)}")
    for domain, points in by_domain.items():
        items.append({"title": f"{domain}: key lines of enquiry", "detail": _count(len(points), "indicator") + " to discuss.", "points": points})
    if not pack["concerns"]:
        items.append({"title": "Performance", "detail": "No indicator is off target, forecast to fail or showing concerning variation."})
    items.append({"title": "Escalations", "detail": _count(len(pack["escalations"]), "open escalation") + "."})
    if forum.reports_to:
        # ULHT 5.1: "After each round of PRMs ... a summary paper for the FPEC committee highlighting any areas of escalation".
        items.append({"title": "Summary for the forum above", "detail": f"Agree the areas to escalate to the {pack['forum']['reports_to_name']}."})
    items.append({"title": "Any other business", "detail": ""})
    return items


async def issue_pack(
    session: AsyncSession, organisation: Organisation, meeting: Meeting, forum: Forum, *, expected_version: int, actor: Actor, now: dt.datetime,
) -> PackIssued | MeetingChanged | Refused:
    """Freeze the pack: build it now, store it with the time of issue; it is never rebuilt afterwards."""
    if meeting.pack_issued_at is not None:
        return Refused(f"The pack was already issued on {long_date(meeting.pack_issued_at.date())} and cannot be changed.")
    if meeting.status == "cancelled":
        return Refused("This meeting was cancelled, so no pack can be issued.")
    pack = await build_pack(session, organisation, meeting, forum, now=now)
    result = await session.exec(text(
        """
        update meeting set pack = cast(:pack as jsonb), pack_issued_at = :now, version = version + 1
        where id = :id and version = :version and pack_issued_at is null returning version
        """
    ), params={"pack": _json(pack), "now": now, "id": meeting.id, "version": expected_version})
    version = result.scalar_one_or_none()
    if version is None:
        return MeetingChanged()
    await record_event(
        session, action="meeting.pack_issued", object_type="meeting", object_id=str(meeting.id), org_id=meeting.org_id,
        actor_user_id=actor.user_id, actor_role=actor.role,
        after={"issued_at": now.isoformat(), "indicators": len(pack["indicators"]), "concerns": pack["concerns"]},
    )
    return PackIssued(version, pack)


async def _division_autonomy(session: AsyncSession, org_id: int, unit_code: str) -> dict | None:
    """ULHT 5.2 and 6: the division's earned autonomy as the PRM reads it (frozen with the pack); None without a scheme."""
    autonomy = autonomy_framework(await framework_of(session, org_id))
    found = await division_autonomy(session, org_id, autonomy, unit_code=unit_code) if autonomy else []
    if not found or found[0].level is None:
        return None
    division = found[0]
    return {"in_force": autonomy.level_name(division.level), "earned": autonomy.level_name(division.earned_level),  # type: ignore[union-attr]
            "powers": [p.name for p in autonomy.powers_of(division.level)],  # type: ignore[union-attr]
            "last_review": division.last_review.held_on.isoformat() if division.last_review else None}


# The owner's commentary on the period, as it stands when the pack is built: issuing freezes it with the rest.
_COMMENTARY = """(select jsonb_build_object('body', c.body, 'author', c.author_name, 'written_at', c.written_at) from commentary c
        where c.indicator_id = a.indicator_id and c.unit_id is not distinct from a.unit_id and c.period = a.period
        order by c.written_at desc, c.id desc limit 1)"""
_INDICATOR_COLUMNS = f"""
    i.id, i.frequency, i.code, i.name, d.name as domain, i.unit, i.polarity, i.is_key, a.period, a.value, a.target, a.trajectory,
    a.rag, a.variation, a.assurance, a.periods_under_target, a.failure_forecast, {_COMMENTARY} as commentary,
    i.kitemark ->> 'overall' as kitemark, i.cohort, cn.name as cohort_name
"""
# The data-quality kitemark and the patient cohort are frozen with the rest (issue 15).
_INDICATOR_FROM = f"""with {COHORT_NAMES.format(orgs="true")}
    select {_INDICATOR_COLUMNS} from assessment a join indicator i on i.id = a.indicator_id join domain d on d.id = i.domain_id
    left join cohort_names cn on cn.org_id = i.org_id and cn.code = i.cohort"""
_INDICATOR_KEYS = ("indicator_id", "frequency", "code", "name", "domain", "unit", "polarity", "key", "period", "value", "target", "trajectory",
                   "rag", "variation", "assurance", "periods_under_target", "failure_forecast", "commentary", "kitemark", "cohort", "cohort_name")


async def _unit_indicators(session: AsyncSession, unit_id: int) -> list[dict]:
    rows = await session.exec(text(
        f"""{_INDICATOR_FROM}
            where a.unit_id = :unit and a.is_latest order by d.position, i.position"""
    ), params={"unit": unit_id})
    return [_indicator(row) for row in rows.all()]


async def _organisation_indicators(session: AsyncSession, org_id: int) -> list[dict]:
    rows = await session.exec(text(
        f"""{_INDICATOR_FROM}
            where a.org_id = :org and a.unit_id is null and a.is_latest order by d.position, i.position"""
    ), params={"org": org_id})
    return [_indicator(row) for row in rows.all()]


async def _provider_contractual_indicators(session: AsyncSession, provider_code: str) -> list[dict]:
    # Row-level security shows a commissioner only the contractual indicators of providers it
    # contracts with (DOMAIN 4.1); a counterparty that is not a tenant simply has none.
    rows = await session.exec(text(
        f"""{_INDICATOR_FROM}
            join organisation o on o.id = i.org_id
            where o.code = :provider and i.source = 'contractual' and a.unit_id is null and a.is_latest order by d.position, i.position"""
    ), params={"provider": provider_code})
    return [_indicator(row) for row in rows.all()]


def _indicator(row: tuple) -> dict:
    values = dict(zip(_INDICATOR_KEYS, row, strict=True))
    values["period"] = values["period"].isoformat() if values["period"] else None
    for key in ("value", "target", "trajectory"):
        values[key] = None if values[key] is None else float(values[key])
    return values


async def _with_series(session: AsyncSession, indicators: list[dict], *, unit_id: int | None) -> list[dict]:
    """Each indicator with its last two years of SPC points, as the chart prints them: one statement.

    Frozen with the pack, so an issued pack's charts never move when data is revised or recomputed."""
    refs = [IndicatorRef(i["indicator_id"], i["code"], i["name"], i["unit"] or "", i["polarity"] or "", i["frequency"], bool(i["key"]), None)
            for i in indicators]  # the series reads only the id, unit and frequency
    series = await chart_series(session, refs, unit_id=unit_id)
    for indicator in indicators:
        indicator["series"] = [_frozen_point(point) for point in series.get(indicator.pop("indicator_id"), ())]
    return indicators


# What a chart needs of a point; its label follows from the period and the indicator's frequency.
FROZEN_POINT_KEYS = ("index", "value", "target", "trajectory", "rag", "mean", "lower_limit", "upper_limit", "segment", "deciding_rule",
                     "point_type", "direction")


def _frozen_point(point: SeriesPoint) -> dict:
    frozen: dict[str, object] = {"period": point.period.isoformat()}
    frozen.update({key: getattr(point, key) for key in FROZEN_POINT_KEYS})
    return frozen


async def _open_escalations(session: AsyncSession, org_id: int, subject_key: str | None, kind: str) -> list[dict]:
    """Open escalations the meeting should see: the subject's own (and, for a unit, its indicators'), or all."""
    rows = (await session.exec(text(
        """
        select e.subject_key, e.subject_name, e.ladder_code, e.level, e.level_name, e.forum_code, e.status, e.opened_at,
               e.explanation ->> 'text', u.code
        from escalation e left join org_unit u on u.id = e.unit_id
        where e.org_id = :org and e.status <> 'closed' order by e.level desc, e.opened_at, e.id
        """
    ), params={"org": org_id})).all()
    unit_code = subject_key.partition(":")[2] if kind == "unit" else None
    chosen = [
        row for row in rows
        if subject_key is None or row[0] == subject_key or (unit_code is not None and row[9] == unit_code)
    ]
    return [
        {"subject_key": key, "subject_name": name, "ladder": ladder, "level": level, "level_name": level_name, "forum": forum,
         "status": status, "opened_at": opened_at.isoformat(), "explanation": explanation}
        for key, name, ladder, level, level_name, forum, status, opened_at, explanation, _unit in chosen
    ]


async def _forum_name(session: AsyncSession, org_id: int, code: str | None) -> str | None:
    if code is None:
        return None
    name = (await session.exec(text("select name from forum where org_id = :org and code = :code"), params={"org": org_id, "code": code})).first()
    return name[0] if name else code


def _concern(indicator: dict) -> str:
    reasons = []
    if indicator["rag"] in ("red", "amber"):
        runs = indicator["periods_under_target"]
        reasons.append(f"{'off target' if indicator['rag'] == 'red' else 'at risk'}"
                       + (f" for {runs} consecutive {'period' if runs == 1 else 'periods'}" if runs else ""))
    if indicator["variation"] in CONCERNING:
        reasons.append("special cause variation of concern")
    if indicator["failure_forecast"]:
        reasons.append("failure forecast within the next quarter")
    return "; ".join(reasons).capitalize() + "."


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def _json(value: object) -> str:
    return json.dumps(value)
