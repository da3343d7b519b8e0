"""Which forum must meet how often about what: the tenant's forums and cadence rules, applied to facts.

Three sources, all from the tenant file (never from code):

* **fixed** — a forum that no cadence rule names meets at its own ``frequency``, once per sitting
  for the whole organisation (subject ``None``);
* **derived** — a forum named by cadence rules meets per subject, at the frequency of the first rule
  that holds for that subject's facts (ULHT 5.2: divisional rating -> PRM frequency; WHSSC 6:
  contract tier -> SLA and executive-to-executive cadence). If no rule holds (facts missing) the
  forum's own frequency stands, and the reason says which facts were missing;
* **escalation** — each open escalation adds meetings "in line with the level of escalation"
  (WHSSC 6.1-6.3): the tenant's ``applies_to: escalation`` rules on ``current_level``, otherwise
  the level's ``review_frequency`` in the ladder, at the escalation's forum — unless that forum's
  regular sitting is already at least as frequent, in which case the subject is reviewed there.

When two sources ask the same forum to meet about the same subject, the more frequent cadence wins
and the other is kept in the reason (``also_required_by``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.escalation.cadence import CadenceDecision, required_cadence
from server.escalation.conditions import evaluate_condition
from server.escalation.engine import whole_months_between
from server.escalation.facts import check_fact_values
from server.meetings.calendar import FREQUENCY_WORDS, UNSCHEDULED, more_frequent
from server.escalation_store.division import divisions_of
from server.tenants.spec import CadenceRule, TenantFile, walk_conditions


@dataclass(frozen=True)
class MeetingRequirement:
    forum: str
    frequency: str
    subject_key: str | None
    subject_name: str | None
    reason: dict[str, object] = field(default_factory=dict)  # stored as meeting.cadence_reason


@dataclass(frozen=True)
class Subject:
    """Something a derived cadence is about: a division, a contract, an open escalation."""

    key: str
    name: str
    facts: Mapping[str, object]
    details: Mapping[str, object] = field(default_factory=dict)  # kept in the reason, e.g. the criteria


def fixed_requirements(framework: TenantFile) -> list[MeetingRequirement]:
    """Forums that no cadence rule names meet at their own frequency (tenant file ``forums``)."""
    ruled = {rule.forum for rule in framework.escalation.cadence_rules}
    return [
        MeetingRequirement(forum.code, forum.frequency, None, None, {
            "basis": "forum_frequency", "frequency": forum.frequency,
            "explanation": f"{forum.name} meets {FREQUENCY_WORDS[forum.frequency]}, as its terms of reference in the tenant file say.",
        })
        for forum in framework.forums if forum.code not in ruled and forum.frequency not in UNSCHEDULED
    ]


def derived_requirements(
    framework: TenantFile, applies_to: str, subjects: Iterable[Subject], *, evaluated_at: dt.datetime,
) -> list[MeetingRequirement]:
    """Per subject, each forum named by the ``applies_to`` rules at the first rule that holds."""
    rules = [rule for rule in framework.escalation.cadence_rules if rule.applies_to == applies_to]
    forums = {forum.code: forum for forum in framework.forums}
    requirements = []
    for subject in subjects:
        facts = dict(subject.facts)
        decisions = {decision.forum: decision for decision in required_cadence(rules, facts, applies_to={applies_to})}
        for forum_code in dict.fromkeys(rule.forum for rule in rules):
            decision = decisions.get(forum_code)
            base = {"subject": subject.key, "subject_name": subject.name, "facts": _jsonable(facts),
                    "evaluated_at": evaluated_at.isoformat(), **_jsonable(dict(subject.details))}
            if decision is not None:
                requirements.append(MeetingRequirement(forum_code, decision.frequency, subject.key, subject.name, {
                    "basis": "cadence_rule", "applies_to": applies_to, "rule": decision.rule, "description": decision.description,
                    "frequency": decision.frequency, "explanation": _in_words(decision, forums[forum_code].name, subject.name),
                    "engine_explanation": decision.explanation(), **base,
                }))
                continue
            forum = forums[forum_code]
            forum_rules = [r for r in rules if r.forum == forum_code]
            # Every rule definitely false: the forum does not meet about this subject (WHSSC 6.2: a
            # 10m-40m contract has no executive-to-executive meeting). Only when a rule could not be
            # decided for want of facts does the forum's own frequency stand in.
            undecided = [r for r in forum_rules if evaluate_condition(r.when, facts).trace.verdict is None]
            if not undecided or forum.frequency in UNSCHEDULED:
                continue
            missing = sorted(_facts_named(undecided) - facts.keys())
            requirements.append(MeetingRequirement(forum_code, forum.frequency, subject.key, subject.name, {
                "basis": "forum_frequency_no_rule_held", "applies_to": applies_to, "rule": None, "frequency": forum.frequency,
                "missing_facts": missing,
                "explanation": f"No cadence rule for {forum.name} held for {subject.name}"
                               + (f" (facts not known: {', '.join(missing)})" if missing else "")
                               + f"; the forum's own frequency ({FREQUENCY_WORDS[forum.frequency]}) stands.",
                **base,
            }))
    return requirements


@dataclass(frozen=True)
class OpenEscalation:
    id: int
    ladder: str
    subject_key: str
    subject_name: str
    level: int
    level_name: str
    forum: str | None
    months_in_level: int
    recorded_facts: Mapping[str, object]


def escalation_requirements(framework: TenantFile, escalations: Iterable[OpenEscalation], *, evaluated_at: dt.datetime) -> list[MeetingRequirement]:
    """Services in escalation meet in line with the level (WHSSC 6.1-6.3), by rule or the level's review frequency."""
    rules = [rule for rule in framework.escalation.cadence_rules if rule.applies_to == "escalation"]
    ladders = {ladder.code: ladder for ladder in framework.escalation.ladders}
    forum_names = {forum.code: forum.name for forum in framework.forums}
    requirements = []
    for escalation in escalations:
        facts = {**_valid_facts(escalation.recorded_facts), "current_level": escalation.level, "months_in_level": escalation.months_in_level}
        base = {"subject": escalation.subject_key, "subject_name": escalation.subject_name, "escalation_id": escalation.id,
                "ladder": escalation.ladder, "level": escalation.level, "level_name": escalation.level_name,
                "facts": _jsonable(facts), "evaluated_at": evaluated_at.isoformat()}
        decisions: Sequence[CadenceDecision] = required_cadence(rules, facts, applies_to={"escalation"}) if rules else ()
        for decision in decisions:
            requirements.append(MeetingRequirement(decision.forum, decision.frequency, escalation.subject_key, escalation.subject_name, {
                "basis": "escalation_rule", "rule": decision.rule, "description": decision.description,
                "frequency": decision.frequency,
                "explanation": _in_words(decision, forum_names.get(decision.forum, decision.forum), escalation.subject_name)
                               + f" {escalation.subject_name} is escalated at level {escalation.level} ({escalation.level_name}).",
                "engine_explanation": decision.explanation(), **base,
            }))
        if decisions:
            continue
        ladder = ladders.get(escalation.ladder)
        level = next((lvl for lvl in ladder.levels if lvl.level == escalation.level), None) if ladder else None
        forum = escalation.forum or (level.forum if level else None)
        if level is None or level.review_frequency is None or forum is None or level.review_frequency in UNSCHEDULED:
            continue
        requirements.append(MeetingRequirement(forum, level.review_frequency, escalation.subject_key, escalation.subject_name, {
            "basis": "escalation_level", "rule": None, "frequency": level.review_frequency,
            "explanation": f"{escalation.subject_name} is escalated at level {level.level} ({level.name}) of {ladder.name if ladder else escalation.ladder}; "
                           f"that level is reviewed {FREQUENCY_WORDS[level.review_frequency]} at {forum_names.get(forum, forum)}.",
            **base,
        }))
    return requirements


def merge_requirements(requirements: Iterable[MeetingRequirement]) -> list[MeetingRequirement]:
    """One requirement per forum and subject: the most frequent, with the others noted."""
    chosen: dict[tuple[str, str | None], MeetingRequirement] = {}
    for requirement in requirements:
        key = (requirement.forum, requirement.subject_key)
        current = chosen.get(key)
        if current is None:
            chosen[key] = requirement
            continue
        winner, other = (requirement, current) if more_frequent(requirement.frequency, current.frequency) else (current, requirement)
        also = [*winner.reason.get("also_required_by", []), *other.reason.get("also_required_by", []), _summary(other)]  # type: ignore[misc]
        chosen[key] = replace(winner, reason={**winner.reason, "also_required_by": also})
    return list(chosen.values())


async def meeting_requirements(session: AsyncSession, org_id: int, framework: TenantFile, *, at: dt.datetime) -> list[MeetingRequirement]:
    """Every forum's cadence for this organisation now, from its tenant file and stored data."""
    kinds = {rule.applies_to for rule in framework.escalation.cadence_rules}
    escalations = await open_escalations(session, org_id, at=at)
    requirements = fixed_requirements(framework)
    if "unit" in kinds:
        requirements += derived_requirements(framework, "unit", await unit_subjects(session, org_id, framework, escalations), evaluated_at=at)
    if "contract" in kinds:
        requirements += derived_requirements(framework, "contract", await contract_subjects(session, org_id), evaluated_at=at)
    if "organisation" in kinds:
        # No tenant file uses organisation-level cadence rules yet: evaluated with no facts, the
        # forum's own frequency stands and the reason lists the facts a producer would need.
        organisation = Subject("organisation", framework.organisation.name, {})
        requirements += derived_requirements(framework, "organisation", [organisation], evaluated_at=at)
    escalation_ladders = {ladder.code for ladder in framework.escalation.ladders if ladder.purpose == "escalation"}
    escalated = escalation_requirements(framework, [e for e in escalations if e.ladder in escalation_ladders], evaluated_at=at)
    return merge_requirements(requirements + not_covered_by_regular_sittings(escalated, requirements))


def not_covered_by_regular_sittings(
    escalated: Sequence[MeetingRequirement], others: Sequence[MeetingRequirement],
) -> list[MeetingRequirement]:
    """Escalation reviews that a forum's regular sitting does not already give.

    A forum that meets as a whole at least as often as a level asks reviews the escalated subject
    at its regular sitting (THGPCG 13: exception plans are "monitored through the Operational
    Performance Group meeting", which meets monthly); only a review more frequent than the
    regular sitting, or at a forum with no regular sitting (WHSSC escalation meetings), adds meetings.
    """
    regular = {r.forum: r.frequency for r in others if r.subject_key is None}
    return [r for r in escalated if r.forum not in regular or more_frequent(r.frequency, regular[r.forum])]


async def unit_subjects(session: AsyncSession, org_id: int, framework: TenantFile, escalations: Sequence[OpenEscalation]) -> list[Subject]:
    """Divisions with their ULHT 5.2 rating and their escalation's lifecycle facts."""
    unit_ladders = [ladder for ladder in framework.escalation.ladders if ladder.applies_to == "unit" and ladder.purpose == "escalation"]
    resting = unit_ladders[0].levels[0].level if unit_ladders else 0
    subjects = []
    for division in await divisions_of(session, org_id):
        facts = division.facts()
        mine = [e for e in escalations if e.subject_key == division.subject_key and e.ladder in {ladder.code for ladder in unit_ladders}]
        top = max(mine, key=lambda e: e.level, default=None)
        facts.update(current_level=top.level if top else resting, months_in_level=top.months_in_level if top else 0)
        if top and isinstance(top.recorded_facts.get("risk_rating"), str):
            facts.update(_valid_facts({"risk_rating": top.recorded_facts["risk_rating"]}))  # a person's risk assessment
        details: dict[str, object] = {"period": division.period.isoformat() if division.period else None}
        if division.rating is not None:
            details["criteria"] = [
                {"fact": c.fact, "domain": c.domain, "met": c.met, "failing_indicators": list(c.failing_indicators), "note": c.note}
                for c in division.rating.criteria
            ]
        subjects.append(Subject(division.subject_key, division.name, facts, details))
    return subjects


async def contract_subjects(session: AsyncSession, org_id: int) -> list[Subject]:
    """Each contract this organisation commissions: value and strategic importance (WHSSC 6)."""
    rows = (await session.exec(text(
        """
        select p.code, p.name, c.annual_value, c.strategically_important
        from contract c join organisation p on p.id = c.provider_id
        where c.commissioner_id = :org order by c.annual_value desc, p.code
        """
    ), params={"org": org_id})).all()
    return [
        Subject(f"contract:{code}", name, {"contract_value": float(value), "strategically_important": bool(strategic), "provider_code": code})
        for code, name, value, strategic in rows
    ]


async def open_escalations(session: AsyncSession, org_id: int, *, at: dt.datetime) -> list[OpenEscalation]:
    """The organisation's escalations not closed, with how long each has been at its level."""
    rows = (await session.exec(text(
        """
        select e.id, e.ladder_code, e.subject_key, e.subject_name, e.level, e.level_name, e.forum_code, e.explanation,
               coalesce((select max(ev.at) from escalation_event ev where ev.escalation_id = e.id and ev.to_level = e.level), e.opened_at)
        from escalation e where e.org_id = :org and e.status <> 'closed' order by e.id
        """
    ), params={"org": org_id})).all()
    return [
        OpenEscalation(id_, ladder, key, name, level, level_name, forum, whole_months_between(since, at),
                       (explanation or {}).get("facts", {}) if isinstance(explanation, dict) else {})
        for id_, ladder, key, name, level, level_name, forum, explanation, since in rows
    ]


def _in_words(decision: CadenceDecision, forum_name: str, subject_name: str) -> str:
    """A cadence decision as a sentence a chair can read, with the facts that decided it."""
    facts = "; ".join(f"{leaf.fact.replace('_', ' ')} is {_value_words(leaf.actual)}" for leaf in decision.trace.deciding_comparisons())
    because = f" ({decision.description})" if decision.description else ""
    return f"{forum_name} meets {FREQUENCY_WORDS[decision.frequency]} for {subject_name} under rule '{decision.rule}'{because}: {facts}."


def _value_words(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value >= 1_000_000:
        return f"£{value / 1_000_000:,.1f}m"
    return str(value)


def _facts_named(rules: Sequence[CadenceRule]) -> set[str]:
    return {comparison.fact for rule in rules for comparison in walk_conditions(rule.when)}


def _valid_facts(facts: Mapping[str, object]) -> dict[str, object]:
    """Only recorded facts the registry knows, of the right type: a stale record never breaks scheduling."""
    return {name: value for name, value in facts.items() if not check_fact_values({name: value})}


def _summary(requirement: MeetingRequirement) -> dict[str, object]:
    return {key: requirement.reason.get(key) for key in ("basis", "rule", "frequency", "explanation")}


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value

