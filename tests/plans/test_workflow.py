"""The SPIP sign-off: each partner signs only for itself, all must agree, edits reset agreement,
stale forms are refused, and two partners signing at once both count."""
from __future__ import annotations

import asyncio

import pytest_asyncio
from sqlalchemy import select

from server.db.models import ImprovementPlan, PlanAgreement, PlanEvent
from server.plans.create import PlanCreated, PlanDraft, PlanInvalid, create_plan
from server.plans.workflow import InvalidStep, NotAllowed, PlanChanged, StaleForm, advance, agree, edit
from tests.conftest import act_as

LEAD, DELIVERY, CWG = "stw.lead@accord.example", "stw.delivery@accord.example", "stw.cwg@accord.example"
SATH_EXEC, RJAH_EXEC = "sath.exec@accord.example", "rjah.exec@accord.example"


async def run(database, services, email, operation, **kwargs):
    principal, access = await act_as(database, services.authorizer, email)
    async with database.session(access) as session:
        return await operation(session, services.authorizer, principal, **kwargs)


async def version_of(database, services, plan_id) -> tuple[int, str]:
    principal, access = await act_as(database, services.authorizer, LEAD)
    async with database.session(access) as session:
        plan = await session.get(ImprovementPlan, plan_id)
        return plan.version, plan.status


@pytest_asyncio.fixture(loop_scope="session")
async def spip(database, services) -> int:
    draft = PlanDraft(owner_code="STW", kind="spip", title="Elective recovery: orthopaedics", sro="Director of Planning",
                      programme="Elective", partner_codes=["RXW", "RL1"], started_on="2026-04-01",
                      trajectory={"2026-04-01": "120", "2026-05-01": "100"})
    result = await run(database, services, LEAD, create_plan, draft=draft)
    assert isinstance(result, PlanCreated), result
    return result.plan.id


async def critiqued(database, services, plan_id) -> int:
    version, _ = await version_of(database, services, plan_id)
    result = await run(database, services, DELIVERY, advance, plan_id=plan_id, action="critique", seen_version=version)
    assert isinstance(result, PlanChanged), result
    return result.plan.version


async def test_a_spip_needs_partners_from_the_system(database, services):
    draft = PlanDraft(owner_code="STW", kind="spip", title="x", sro="y", partner_codes=["RWD"])
    result = await run(database, services, LEAD, create_plan, draft=draft)
    assert isinstance(result, PlanInvalid) and "partners" in result.errors


async def test_only_planning_leads_draft_and_only_the_delivery_group_critiques(database, services, spip):
    draft = PlanDraft(owner_code="STW", kind="spip", title="x", sro="y", partner_codes=["RXW"])
    assert isinstance(await run(database, services, SATH_EXEC, create_plan, draft=draft), PlanInvalid)
    version, _ = await version_of(database, services, spip)
    assert isinstance(await run(database, services, LEAD, advance, plan_id=spip, action="critique", seen_version=version), NotAllowed)


async def test_partner_cannot_sign_for_another_organisation(database, services, spip):
    version = await critiqued(database, services, spip)
    result = await run(database, services, SATH_EXEC, agree, plan_id=spip, partner_code="RL1", seen_version=version)
    assert isinstance(result, NotAllowed)
    assert "RJAH" in result.message or "Robert Jones" in result.message


async def test_every_partner_must_agree_before_formal_sign_off(database, services, spip):
    version = await critiqued(database, services, spip)
    first = await run(database, services, SATH_EXEC, agree, plan_id=spip, partner_code="RXW", seen_version=version)
    assert isinstance(first, PlanChanged) and "Waiting for" in first.message
    early = await run(database, services, CWG, advance, plan_id=spip, action="sign_off", seen_version=version)
    assert isinstance(early, InvalidStep)
    second = await run(database, services, RJAH_EXEC, agree, plan_id=spip, partner_code="RL1", seen_version=version)
    assert isinstance(second, PlanChanged) and second.plan.status == "agreed"
    signed = await run(database, services, CWG, advance, plan_id=spip, action="sign_off", seen_version=version)
    assert isinstance(signed, PlanChanged) and signed.plan.status == "signed_off"


async def test_two_partners_signing_at_the_same_moment_both_count(database, services, spip):
    version = await critiqued(database, services, spip)
    results = await asyncio.gather(
        run(database, services, SATH_EXEC, agree, plan_id=spip, partner_code="RXW", seen_version=version),
        run(database, services, RJAH_EXEC, agree, plan_id=spip, partner_code="RL1", seen_version=version),
    )
    assert all(isinstance(r, PlanChanged) for r in results), results
    _, status = await version_of(database, services, spip)
    assert status == "agreed"
    principal, access = await act_as(database, services.authorizer, LEAD)
    async with database.session(access) as session:
        agreements = (await session.exec(select(PlanAgreement).where(PlanAgreement.plan_id == spip))).scalars().all()
    assert sorted(a.plan_version for a in agreements) == [version, version]


async def test_a_stale_form_is_refused_not_applied(database, services, spip):
    version = await critiqued(database, services, spip)
    await run(database, services, LEAD, edit, plan_id=spip, seen_version=version, changes={"narrative": "Updated"})
    stale = await run(database, services, SATH_EXEC, agree, plan_id=spip, partner_code="RXW", seen_version=version)
    assert isinstance(stale, StaleForm) and "changed by someone else" in stale.message


async def test_editing_after_agreement_withdraws_it_and_says_so(database, services, spip):
    version = await critiqued(database, services, spip)
    await run(database, services, SATH_EXEC, agree, plan_id=spip, partner_code="RXW", seen_version=version)
    await run(database, services, RJAH_EXEC, agree, plan_id=spip, partner_code="RL1", seen_version=version)
    edited = await run(database, services, LEAD, edit, plan_id=spip, seen_version=version, changes={"sro": "Chief Operating Officer"})
    assert isinstance(edited, PlanChanged)
    assert "agreement of 2 partner(s) was withdrawn" in edited.message and edited.plan.status == "critiqued"
    # A delivery update is not substantive: it keeps agreements.
    kept = await run(database, services, LEAD, edit, plan_id=spip, seen_version=edited.plan.version, changes={"delivered_this_month": "Extra lists"})
    assert "withdrawn" not in kept.message


async def test_history_records_who_in_which_role_for_which_organisation(database, services, spip):
    version = await critiqued(database, services, spip)
    await run(database, services, SATH_EXEC, agree, plan_id=spip, partner_code="RXW", seen_version=version)
    principal, access = await act_as(database, services.authorizer, LEAD)
    async with database.session(access) as session:
        events = (await session.exec(select(PlanEvent).where(PlanEvent.plan_id == spip).order_by(PlanEvent.id))).scalars().all()
    assert [e.event for e in events] == ["drafted", "critique", "partner_agreed"]
    assert events[2].actor_role == "executive" and events[2].acting_for_org_id is not None
