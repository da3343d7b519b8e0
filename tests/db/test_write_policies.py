"""Issue 12's findings, replayed as the probe ran them: SQL as ``accord_app`` with a forged context.

The plan is STW's SPIP with SaTH (RXW) and RJAH (RL1) as partners. Each test runs in a transaction
that is rolled back; ``refused`` runs one statement under a savepoint and says whether the database
refused it.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.db.access import INSUFFICIENT_PRIVILEGE, ids_csv, set_access, sqlstate, with_ids


@dataclass
class Scene:
    connection: AsyncConnection
    ids: dict[str, int]  # stw, rxw, rl1, rwd, qoc, plan, user

    async def act_as(self, *codes: str, contract: tuple[str, ...] = ()) -> None:
        org_ids = ids_csv(self.ids[code.lower()] for code in codes)
        await set_access(self.connection, read=org_ids, write=org_ids, contract=ids_csv(self.ids[c.lower()] for c in contract),
                         user=str(self.ids["user"]))

    async def run(self, sql: str) -> int:
        return (await self.connection.execute(text(with_ids(sql, self.ids)))).rowcount

    async def refused(self, sql: str) -> bool:
        savepoint = await self.connection.begin_nested()
        try:
            await self.run(sql)
        except DBAPIError as error:
            await savepoint.rollback()
            assert sqlstate(error) == INSUFFICIENT_PRIVILEGE, error
            return True
        await savepoint.commit()
        return False


@pytest_asyncio.fixture(loop_scope="session")
async def scene(database, org_ids) -> AsyncIterator[Scene]:
    async with database.app_engine.connect() as connection:
        transaction = await connection.begin()
        ids = {code.lower(): org_ids[code] for code in ("STW", "RXW", "RL1", "RWD", "QOC")}
        ids["user"] = (await connection.execute(text("select min(id) from app_user"))).scalar_one()
        scene = Scene(connection, ids)
        await scene.act_as("STW")
        ids["plan"] = (await connection.execute(text(with_ids(
            "insert into improvement_plan (org_id, partner_org_ids, kind, title, status, accountability, sro, leads, version)"
            " values (:stw, array[:rxw, :rl1], 'spip', 'Urgent care SPIP', 'critiqued', 'system', 'ICB chief executive', '[]', 1)"
            " returning id", ids)))).scalar_one()
        try:
            yield scene
        finally:
            await transaction.rollback()


async def _agree(scene: Scene, code: str) -> None:
    await scene.act_as(code)
    await scene.run(
        f"insert into plan_agreement (plan_id, org_id, owner_org_id, user_id, role, plan_version) values (:plan, :{code.lower()}, :stw, :user, 'partner_signatory', 1)"
    )
    await scene.run(
        f"insert into plan_event (plan_id, event, acting_for_org_id, details, plan_version) values (:plan, 'partner_agreed', :{code.lower()}, '{{}}', 1)"
    )


async def test_partner_cannot_rewrite_a_plan_it_does_not_own(scene):
    await scene.act_as("RXW")
    assert await scene.refused("update improvement_plan set title = 'x', status = 'closed' where id = :plan")


async def test_partner_cannot_take_over_a_plan(scene):
    await scene.act_as("RXW")
    assert await scene.refused("update improvement_plan set org_id = :rxw where id = :plan")


async def test_partner_cannot_turn_its_agreement_into_another_partners(scene):
    await _agree(scene, "RXW")
    assert await scene.refused("update plan_agreement set org_id = :rl1 where plan_id = :plan")


async def test_partner_cannot_sign_for_another_partner(scene):
    await scene.act_as("RXW")
    assert await scene.refused(
        "insert into plan_agreement (plan_id, org_id, owner_org_id, user_id, role, plan_version) values (:plan, :rl1, :stw, :user, 'x', 1)"
    )


async def test_partner_cannot_add_events_or_trajectory_to_a_plan_it_does_not_own(scene):
    await scene.act_as("RXW")
    assert await scene.refused("insert into plan_event (plan_id, event, details, plan_version) values (:plan, 'edited', '{}', 1)")
    assert await scene.refused("insert into plan_trajectory (plan_id, period, planned) values (:plan, '2026-01-01', 1)")


async def test_partner_cannot_mark_a_plan_agreed_before_every_partner_has(scene):
    await _agree(scene, "RXW")
    assert await scene.refused("update improvement_plan set status = 'agreed' where id = :plan")


async def test_the_last_partner_to_agree_completes_the_agreement(scene):
    """The legitimate path of workflow.agree: the last signer moves the plan on and records it."""
    await _agree(scene, "RXW")
    await _agree(scene, "RL1")
    assert await scene.run("update improvement_plan set status = 'agreed', updated_at = now() where id = :plan") == 1
    assert not await scene.refused(
        "insert into plan_event (plan_id, event, from_status, to_status, details, plan_version)"
        " values (:plan, 'all_partners_agreed', 'critiqued', 'agreed', '{}', 1)"
    )
    assert not await scene.refused(
        "insert into audit_event (org_id, actor_user_id, action, object_type, object_id, at)"
        " values (:stw, :user, 'plan.all_partners_agreed', 'improvement_plan', ':plan', now())"
    )


async def test_audit_rows_go_only_into_a_trail_the_writer_may_write(scene):
    insert = "insert into audit_event (org_id, actor_user_id, action, object_type, at) values (:rxw, :user, 'forged', 'measurement', now())"
    await scene.act_as("RWD")
    assert await scene.refused(insert)
    await scene.act_as("RXW")
    assert not await scene.refused(insert)


async def test_a_row_cannot_be_moved_to_another_organisation_even_by_someone_who_writes_both(scene):
    await scene.act_as("RXW", "RL1")
    assert await scene.refused("update forum set org_id = :rl1 where id = (select min(id) from forum where org_id = :rxw)")


async def test_commissioner_reads_organisation_level_figures_only(scene):
    await scene.act_as("RXW")
    scene.ids["root"] = (await scene.connection.execute(text(with_ids(
        "select id from org_unit where org_id = :rxw and parent_id is null", scene.ids)))).scalar_one()
    await scene.act_as("QOC", contract=("RXW",))
    counts = (await scene.connection.execute(text(with_ids(
        "select (select count(*) from assessment where org_id = :rxw and unit_id is null),"
        " (select count(*) from assessment where org_id = :rxw and unit_id is not null),"
        " (select count(*) from measurement where org_id = :rxw and unit_id <> :root)",
        scene.ids)))).one()
    organisation_level, unit_level_assessments, unit_level_measurements = counts
    assert organisation_level > 0
    assert (unit_level_assessments, unit_level_measurements) == (0, 0)
