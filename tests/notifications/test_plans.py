"""A plan sign-off waiting for someone tells them: each partner's signers after the critique, the
ICB Commissioning Working Group once every partner has agreed a SPIP (STW SAPF, SPIP process)."""
from __future__ import annotations

from server.plans.create import PlanCreated, PlanDraft, create_plan
from server.plans.workflow import PlanChanged, advance, agree, edit
from tests.notifications.helpers import notifications_of, user_id_of
from tests.plans.test_workflow import CWG, DELIVERY, LEAD, RJAH_EXEC, SATH_EXEC, run


async def test_a_sign_off_waiting_tells_the_awaited_signers_and_no_one_else(database, services):
    draft = PlanDraft(owner_code="STW", kind="spip", title="Notified recovery: diagnostics", sro="Director of Planning",
                      programme="Diagnostics", partner_codes=["RXW", "RL1"], started_on="2026-04-01")
    created = await run(database, services, LEAD, create_plan, draft=draft)
    assert isinstance(created, PlanCreated), created
    plan_id = created.plan.id
    key = f"plan:{plan_id}:"
    critiqued = await run(database, services, DELIVERY, advance, plan_id=plan_id, action="critique", seen_version=created.plan.version)
    assert isinstance(critiqued, PlanChanged), critiqued

    sath, rjah, cwg = [await user_id_of(database, email) for email in (SATH_EXEC, RJAH_EXEC, CWG)]
    [(kind, subject, link, dedupe_key, *_)] = await notifications_of(database, sath, key)
    assert kind == "sign_off" and subject == "Your agreement is awaited: Notified recovery: diagnostics" and link == f"/plans/{plan_id}"
    assert dedupe_key.endswith(":agree:RXW")
    assert [row[3].rsplit(":", 1)[1] for row in await notifications_of(database, rjah, key)] == ["RL1"]
    assert await notifications_of(database, cwg, key) == []  # nothing waits for the working group yet

    version = critiqued.plan.version
    assert isinstance(await run(database, services, SATH_EXEC, agree, plan_id=plan_id, partner_code="RXW", seen_version=version), PlanChanged)
    assert await notifications_of(database, cwg, key) == []
    agreed = await run(database, services, RJAH_EXEC, agree, plan_id=plan_id, partner_code="RL1", seen_version=version)
    assert isinstance(agreed, PlanChanged) and agreed.plan.status == "agreed"

    [(kind, subject, link, dedupe_key, *_)] = await notifications_of(database, cwg, key)
    assert kind == "sign_off" and "formally sign off" in subject and dedupe_key.endswith(":agreed:sign_off")
    assert len(await notifications_of(database, sath, key)) == 1  # told once, not again when others acted


async def test_a_substantive_edit_asks_every_partner_to_agree_the_new_version(database, services):
    draft = PlanDraft(owner_code="STW", kind="spip", title="Notified recovery: cancer", sro="Director of Planning",
                      programme="Cancer", partner_codes=["RXW", "RL1"], started_on="2026-04-01")
    created = await run(database, services, LEAD, create_plan, draft=draft)
    critiqued = await run(database, services, DELIVERY, advance, plan_id=created.plan.id, action="critique", seen_version=created.plan.version)
    version = critiqued.plan.version
    assert isinstance(await run(database, services, SATH_EXEC, agree, plan_id=created.plan.id, partner_code="RXW", seen_version=version), PlanChanged)
    edited = await run(database, services, LEAD, edit, plan_id=created.plan.id, seen_version=version, changes={"sro": "Chief Operating Officer"})
    assert isinstance(edited, PlanChanged) and edited.plan.version == version + 1
    sath = await user_id_of(database, SATH_EXEC)
    keys = [row[3] for row in await notifications_of(database, sath, f"plan:{created.plan.id}:")]
    assert keys == [f"plan:{created.plan.id}:v{version}:agree:RXW", f"plan:{created.plan.id}:v{version + 1}:agree:RXW"]
