"""The demo's maturity self-assessments (issue 15, STW "Achieving a performance improvement culture"):
recorded through the maturity service by a person the framework entitles, with evidence, for the system,
each member and the system's programme areas, so that the system position shows a spread of levels."""
from __future__ import annotations

from sqlalchemy import text

from server.db.session import AccessContext
from server.maturity.framework import maturity_framework
from server.reporting.system import system_by_code, system_position


async def test_the_system_and_each_member_self_assessed_a_different_level_with_evidence(database, org_ids) -> None:
    stw = ["STW", "QOC", "RXW", "RL1", "R1D"]
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        system = await system_by_code(session, "STW")
        assert system is not None
        position = await system_position(session, system)
        # The demo's own assessments, the first of each scope: tests that record more come later.
        demo = (await session.exec(text(
            "select o.code, m.programme, m.level, u.email, e.actor_role, length(m.notes) from maturity_assessment m"
            " join organisation o on o.id = m.org_id join app_user u on u.id = m.assessed_by"
            " join audit_event e on e.org_id = m.org_id and e.object_type = 'maturity_assessment' and e.object_id = m.id::text"
            " where m.id in (select min(id) from maturity_assessment group by org_id, programme) order by o.code, m.programme nulls first"))).all()
        frameworks = {code: await maturity_framework(session, org_ids[code]) for code in stw}
        latest = dict((await session.exec(text(
            "select distinct on (o.code) o.code, m.level from maturity_assessment m join organisation o on o.id = m.org_id"
            " where m.programme is null and o.code = any(:codes) order by o.code, m.id desc"), params={"codes": stw})).all())
    whole = {code: level for code, programme, level, *_ in demo if programme is None}
    assert whole == {"STW": 3, "QOC": 4, "RXW": 2, "RL1": 3, "R1D": 3}
    assert {programme: level for code, programme, level, *_ in demo if programme} == {
        "STW-UEC": 3, "STW-PLANNED": 2, "STW-CANCER": 4, "STW-MH": 2}
    for code, _, _, email, role, evidence in demo:
        assert role in frameworks[code].spec.roles, (code, role)  # type: ignore[union-attr]  # a role the framework names, audited
        assert evidence > 150, code  # evidence written out, not a placeholder
    assert {row[3] for row in demo} == {"stw.lead@accord.example", "sath.performance@accord.example",
                                        "rjah.performance@accord.example", "scht.performance@accord.example"}
    # The system position's maturity column: every member at its latest self-assessment (the demo's
    # spread above, unless a test that ran earlier recorded a newer one).
    shown = {member.code: member.maturity_level for member in position.members}
    assert set(shown) == set(stw) and shown == latest
