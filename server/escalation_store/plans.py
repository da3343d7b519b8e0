"""Plan subjects: each live improvement plan an organisation owns (recovery plan, exception action plan, SPIP).

A plan ladder reads the plan's own record (status, overdue actions, trajectory) and the series of
the indicator it recovers, so "off trajectory for two months with actions overdue" is a rule in a
tenant file. A SPIP's indicator may belong to a partner: its series facts are then the partner's
to read, and are left out here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.escalation_store.facts import PLAN_IN_PLACE_SQL, Subject, months_without_improvement
from server.escalation_store.history import read_histories


async def plan_subjects(
    session: AsyncSession, org_id: int, *, at: dt.datetime | None = None, indicator_ids: Collection[int] | None = None,
) -> list[Subject]:
    """Each live plan; with ``indicator_ids``, only the plans recovering one of those indicators."""
    today = (at or dt.datetime.now(dt.UTC)).date()
    rows = (await session.exec(text(
        """
        select p.id, p.title, p.status, {in_place}, p.accountability, p.started_on, p.indicator_id,
               a.period, a.value, a.evidence -> 'improvement' ->> 'status', t.planned,
               (select count(*) from action x where x.plan_id = p.id and x.status in ('open', 'in_progress') and x.due_date < :today)
        from improvement_plan p
        left join assessment a on a.indicator_id = p.indicator_id and a.unit_id is null and a.is_latest
        left join plan_trajectory t on t.plan_id = p.id and t.period = a.period
        where p.org_id = :org and p.status not in ('draft', 'closed') {only}
        order by p.id
        """.format(in_place=PLAN_IN_PLACE_SQL.format(p="p"), only="" if indicator_ids is None else "and p.indicator_id = any(:indicators)")
    ), params={"org": org_id, "today": today, **({} if indicator_ids is None else {"indicators": list(indicator_ids)})})).all()
    histories = await read_histories(session, [org_id], indicator_ids=indicator_ids) if rows else {}
    subjects = []
    for plan_id, title, status, in_place, accountability, started_on, indicator_id, period, value, improvement, planned, overdue in rows:
        history = histories.get((indicator_id, None)) if indicator_id else None
        facts: dict[str, object] = history.facts() if history else {}
        facts.update(plan_status=status, plan_actions_overdue=int(overdue), improvement_plan_in_place=bool(in_place),
                     recovery_plan_in_place=bool(in_place), accountability=accountability)
        if period is not None:
            facts["months_since_plan_without_improvement"] = months_without_improvement(started_on if in_place else None, period, improvement)
        if history is not None and planned is not None and value is not None:
            facts["plan_off_trajectory"] = history.polarity * (float(value) - float(planned)) < 0
        evidence = {**(history.evidence() if history else {}), "planned": None if planned is None else float(planned)}
        subjects.append(Subject(f"plan:{plan_id}", title, "plan", facts, indicator_id=indicator_id if history else None,
                                period=history.period if history else None, evidence=evidence))
    return subjects
