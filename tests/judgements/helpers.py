"""Shared steps of the judgement tests: act as a demo user, read as the engine, withdraw what a test left."""
from __future__ import annotations

from sqlalchemy import text

from server.db.session import AccessContext
from server.judgements.record import JudgementInput, record_judgement
from tests.conftest import act_as

QPC, LEAD, DELIVERY, CWG = "stw.qpc@accord.example", "stw.lead@accord.example", "stw.delivery@accord.example", "stw.cwg@accord.example"
ULHT = "ulht.performance@accord.example"  # performance manager and executive at ULHT


async def record(database, services, email, org_id, now=None, **given):  # type: ignore[no-untyped-def]
    principal, access = await act_as(database, services.authorizer, email)
    async with database.session(access) as session:
        return await record_judgement(session, services.authorizer, principal, org_id=org_id, given=JudgementInput(**given), now=now)


async def rows(database, org_id, sql, **params):  # type: ignore[no-untyped-def]
    """Read as the engine does for one organisation (row-level security applies to the owner too)."""
    async with database.session(AccessContext.for_orgs([org_id])) as session:
        return (await session.exec(text(sql), params={"o": org_id, **params})).all()


async def escalation(database, org_id, subject_key):  # type: ignore[no-untyped-def]
    found = await rows(database, org_id, "select level, level_code, explanation from escalation where org_id = :o and subject_key = :k"
                       " and status <> 'closed'", k=subject_key)
    return found[0] if found else None


async def withdraw_all(database, services, org_id, subject_key, kinds_by_user) -> None:  # type: ignore[no-untyped-def]
    """Withdraw whatever judgements of these kinds are in force about the subject (each by someone who may)."""
    for email, kinds in kinds_by_user:
        for kind in kinds:
            await record(database, services, email, org_id, kind=kind, subject_key=subject_key, value=None, withdraw=True, reason="test over")


async def close_by_hand(database, services, org_id, subject) -> None:  # type: ignore[no-untyped-def]
    """Close the subject's escalation by hand (ULHT holds levels until sustained) and let the ladder re-open it from its data."""
    from server.assessment_store.recompute import runner_access
    from server.escalation_store.manual import EscalationChanged, act
    from server.escalation_store.run import run_ladders

    escalation_id, version = (await rows(database, org_id, "select id, version from escalation where org_id = :o and subject_key = :k"
                                         " and status <> 'closed'", k=subject))[0]
    principal, access = await act_as(database, services.authorizer, ULHT)
    async with database.session(access) as session:
        closed = await act(session, services.authorizer, principal, escalation_id=escalation_id, kind="closed", seen_version=version,
                           reason="Test over: decision withdrawn")
    assert isinstance(closed, EscalationChanged), closed
    async with database.session(await runner_access(database, org_id)) as session:
        await run_ladders(session, org_id)
