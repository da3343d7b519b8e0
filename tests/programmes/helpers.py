"""A throwaway Sheffield programme for tests that change records (the demo's stay as they are)."""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text

from server.assessment_store.recompute import runner_access
from server.db.session import AccessContext
from server.escalation_store.run import run_ladders
from server.programmes.facts import add_months, month_start

PMO, LEAD, CONTRACTS = "sheffield.pmo@accord.example", "sheffield.programme@accord.example", "sheffield.contracts@accord.example"


async def slipping_programme(database, org_id: int, *, today: dt.date | None = None) -> str:  # type: ignore[no-untyped-def]
    """A programme whose milestone, due on the 15th two months ago, is still not achieved; QIPP on plan
    (£10,000 a month, realised in full for every whole month so far). Returns its code."""
    today = today or dt.date.today()
    code = f"TEST-{uuid.uuid4().hex[:8].upper()}"
    current = month_start(today)
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        programme_id = (await session.exec(text(
            "insert into programme (org_id, code, name, sro_name, starts_on) values (:org, :code, :name, 'Director of Delivery', :start) returning id"
        ), params={"org": org_id, "code": code, "name": f"Test programme {code}", "start": add_months(current, -6)})).scalar_one()
        await session.exec(text(
            "insert into programme_milestone (org_id, programme_id, title, due_on) values (:org, :id, 'Test hub open', :due)"
        ), params={"org": org_id, "id": programme_id, "due": add_months(current, -2).replace(day=15)})
        for back in range(1, 4):
            await session.exec(text(
                "insert into programme_benefit (org_id, programme_id, month, planned, realised) values (:org, :id, :month, 10000, 10000)"
            ), params={"org": org_id, "id": programme_id, "month": add_months(current, -back)})
    return code


async def retire(database, org_id: int, code: str) -> None:  # type: ignore[no-untyped-def]
    """Resolve the test programme's exception (its escalation closes) and close it, so later tests see only the demo's."""
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        params = {"org": org_id, "code": code}
        where = "org_id = :org and programme_id = (select id from programme where org_id = :org and code = :code)"
        await session.exec(text(f"update programme_milestone set status = 'dropped', achieved_on = null where {where}"), params=params)
        await session.exec(text(f"update programme_risk set status = 'closed', closed_on = current_date - 1 where {where} and status = 'open'"),
                           params=params)
        await session.exec(text(f"update programme_benefit set realised = planned where {where}"), params=params)
    async with database.session(await runner_access(database, org_id)) as session:
        await run_ladders(session, org_id)
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        await session.exec(text("update programme set status = 'closed' where org_id = :org and code = :code"), params={"org": org_id, "code": code})


async def open_escalation(database, org_id: int, code: str):  # type: ignore[no-untyped-def]
    async with database.session(AccessContext.for_orgs([org_id])) as session:
        return (await session.exec(text(
            "select level_code, forum_code, explanation from escalation where org_id = :org and subject_key = :key and status <> 'closed'"
        ), params={"org": org_id, "key": f"programme:{code}"})).first()
