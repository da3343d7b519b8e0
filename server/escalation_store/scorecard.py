"""Domain and organisation subjects: an organisation's indicators taken together (its balanced scorecard).

A domain subject is one scorecard domain with all its indicators (a ladder per domain: "two key
targets missed in quality for two quarters"); the organisation subject is every indicator. Both
read the same series histories as the indicator subjects (history.py), so a domain's runs and an
indicator's agree on what a period under target is. A domain or organisation with no indicator
that has a target is no subject: there is nothing to rate it on.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.escalation_store.facts import Subject
from server.escalation_store.history import SeriesHistory, group_evidence, group_facts, read_histories


async def domain_subjects(session: AsyncSession, org_id: int, *, at: dt.datetime | None = None) -> list[Subject]:
    """One subject per scorecard domain, all its indicators together."""
    domains = (await session.exec(text("select code, name from domain where org_id = :org order by position, code"),
                                  params={"org": org_id})).all()
    by_domain: dict[str, list[SeriesHistory]] = {}
    for history in (await read_histories(session, [org_id])).values():
        by_domain.setdefault(history.domain, []).append(history)
    subjects = []
    for code, name in domains:
        members = by_domain.get(code, [])
        facts, period = group_facts(members)
        if facts:
            subjects.append(Subject(f"domain:{code}", name, "domain", facts, period=period, evidence=group_evidence(members)))
    return subjects


async def organisation_subjects(session: AsyncSession, org_id: int, *, at: dt.datetime | None = None) -> list[Subject]:
    """The organisation as one subject: every indicator, the domains with missed key targets, its maturity level."""
    code, name, maturity = (await session.exec(text(
        """
        select o.code, o.name, (select m.level from maturity_assessment m where m.org_id = o.id and m.programme is null
                                order by m.assessed_on desc, m.id desc limit 1)
        from organisation o where o.id = :org
        """
    ), params={"org": org_id})).one()
    histories = list((await read_histories(session, [org_id])).values())
    facts, period = group_facts(histories)
    if not facts:
        return []
    # STW spectrum: the domains in which a key (KPI) target was missed in the latest period.
    facts["domains_with_missed_targets"] = len({h.domain for h in histories if h.is_key and h.points and h.fails(h.latest)})
    if maturity is not None:
        facts["maturity_level"] = int(maturity)
    return [Subject(f"organisation:{code}", name, "organisation", facts, period=period, evidence=group_evidence(histories))]
