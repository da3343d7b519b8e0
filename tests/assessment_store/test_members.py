"""A system's own figures computed from its members' (issue 15): exact arithmetic on known data, in
the member's own transaction and access context, with the system's ladder reaching its upper levels
under a SPIP and coming down when the members recover.

The fictional system TSY (two trusts, TM1 and TM2, two wards each) is loaded from
``fixtures/members`` beside the real tenants, so the demo organisations are left as they are.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text

from server.assessment_store.recompute import runner_access
from server.db.models import ImprovementPlan, PlanEvent
from server.db.session import AccessContext
from server.measurements.record import MeasurementItem
from server.measurements.submit import submit_measurements
from server.tenants.load import load_tenants
from tests.graphql.test_tool_questions import counted_statements

FIXTURES = Path(__file__).parent / "fixtures" / "members"
MONTHS = [dt.date(2024 + (month - 1) // 12, (month - 1) % 12 + 1, 1) for month in range(1, 21)]  # Jan 2024 - Aug 2025


@pytest.fixture(scope="module")
async def tsy(database) -> dict[str, int]:
    await load_tenants(database, FIXTURES)
    async with database.session() as session:
        return dict((await session.exec(text("select code, id from organisation where code in ('TSY', 'TM1', 'TM2')"))).all())


def _history(member: str, months: list[dt.date], *, waits: tuple[int, int], seen: tuple[tuple[int, int], tuple[int, int]],
             longest: tuple[float, float]) -> list[MeasurementItem]:
    items = []
    for month in months:
        for ward, wait, (numerator, denominator), weeks in zip(("A", "B"), waits, seen, longest):
            unit = f"{member}-{ward}"
            items += [MeasurementItem("WAIT52", unit, month, value=wait),
                      MeasurementItem("SEEN4H", unit, month, numerator=numerator, denominator=denominator),
                      MeasurementItem("LONGEST", unit, month, value=weeks)]
    return items


async def _submit(database, org_id: int, items: list[MeasurementItem]) -> None:
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        outcome = await submit_measurements(session, org_id=org_id, user_id=None, items=items, reason="test")
        assert outcome.ok, outcome.problems
        # The member's context is its own again after the system's work: the system stays out of its sight.
        assert (await session.exec(text("select count(*) from measurement where org_id <> :o"), params={"o": org_id})).scalar_one() == 0


async def _system_series(database, tsy: dict[str, int], code: str) -> dict[dt.date, tuple]:
    async with database.session(await runner_access(database, tsy["TSY"])) as session:
        rows = (await session.exec(text(
            "select m.period, m.value, m.numerator, m.denominator, m.source, a.value, a.rag from measurement m"
            " join indicator i on i.id = m.indicator_id"
            " left join assessment a on a.indicator_id = m.indicator_id and a.unit_id is null and a.period = m.period"
            " where i.org_id = :o and i.code = :c order by m.period"), params={"o": tsy["TSY"], "c": code})).all()
    return {row[0]: tuple(row[1:]) for row in rows}


async def test_system_figures_are_computed_from_the_members_figures_once_every_member_reported(database, tsy) -> None:
    first = MONTHS[:2]
    await _submit(database, tsy["TM1"], _history("TM1", first, waits=(3, 4), seen=((70, 100), (50, 60)), longest=(40, 58)))
    assert await _system_series(database, tsy, "WAIT52") == {}, "TM2 has not reported: no system figure yet"

    with counted_statements(database) as statements:
        await _submit(database, tsy["TM2"], _history("TM2", first, waits=(10, 0), seen=((90, 100), (8, 40)), longest=(61.5, 12)))
    # Set-based: one statement composes every system figure the submission feeds, whatever the periods and indicators.
    assert sum("compose_member_figures" in statement for statement in statements) == 1
    waits = await _system_series(database, tsy, "WAIT52")
    assert set(waits) == set(first)
    # sum: 3 + 4 + 10 + 0; stored through the normal derivation (value and rating) with source 'members'
    assert waits[first[0]] == (17, None, None, "members", 17.0, "red")
    seen = await _system_series(database, tsy, "SEEN4H")
    # rate of sums: (70 + 50 + 90 + 8) / (100 + 60 + 100 + 40) = 218 / 300, never a mean of the rates
    assert seen[first[1]][:4] == (None, 218, 300, "members")
    assert seen[first[1]][4] == pytest.approx(218 / 300) and seen[first[1]][5] == "red"
    longest = await _system_series(database, tsy, "LONGEST")
    assert longest[first[0]][0] == 61.5  # max over both members' wards
    mean = await _system_series(database, tsy, "LONGMEAN")
    assert float(mean[first[0]][0]) == (58 + 61.5) / 2  # mean of each member's own figure (its longest, 58 and 61.5)


async def test_a_members_resubmission_recomposes_the_system_figure_with_a_revision(database, tsy) -> None:
    month = MONTHS[0]
    async with database.session(AccessContext.for_orgs([tsy["TM2"]], write=True)) as session:
        outcome = await submit_measurements(session, org_id=tsy["TM2"], user_id=None, items=[MeasurementItem("WAIT52", "TM2-B", month, value=5)],
                                            reason="late return")
        assert outcome.ok
    assert (await _system_series(database, tsy, "WAIT52"))[month][:2] == (22, None)
    async with database.session(await runner_access(database, tsy["TSY"])) as session:
        revisions = (await session.exec(text(
            "select r.revision, r.value, r.source, r.reason from measurement_history r join measurement m on m.id = r.measurement_id"
            " join indicator i on i.id = m.indicator_id where i.org_id = :o and i.code = 'WAIT52' and m.period = :p order by r.revision"),
            params={"o": tsy["TSY"], "p": month})).all()
    assert [(revision, float(value), source) for revision, value, source, _ in revisions] == [(1, 17, "members"), (2, 22, "members")]


async def test_a_spip_takes_the_system_ladder_up_and_the_members_recovery_brings_it_down(database, tsy) -> None:
    """Twenty months of waits over 52 weeks at both members; a SPIP started seven months before the
    latest month has seen no improvement, so the system's ladder reaches level 4 (System QPC). When
    both members report none, the system's figure meets its target and the escalation closes."""
    async with database.session(await runner_access(database, tsy["TSY"])) as session:
        indicator_id = (await session.exec(text("select id from indicator where org_id = :o and code = 'WAIT52'"), params={"o": tsy["TSY"]})).scalar_one()
        plan = ImprovementPlan(org_id=tsy["TSY"], kind="spip", title="System long waits SPIP", sro="SRO", status="in_delivery", accountability="system",
                               indicator_id=indicator_id, started_on=MONTHS[-7], partner_org_ids=[tsy["TM1"], tsy["TM2"]])
        session.add(plan)
        await session.flush()
        session.add(PlanEvent(plan_id=plan.id, event="created", to_status=plan.status, plan_version=plan.version))
    for member, waits in (("TM1", (6, 6)), ("TM2", (5, 5))):
        await _submit(database, tsy[member], _history(member, MONTHS, waits=waits, seen=((80, 100), (80, 100)), longest=(50, 50)))
    assert (await _system_series(database, tsy, "WAIT52"))[MONTHS[-1]][:2] == (22, None)
    assert await _escalation(database, tsy) == (4, "second-level-escalation", "SQPC", "open")

    recovered = dt.date(2025, 9, 1)
    for member in ("TM1", "TM2"):
        await _submit(database, tsy[member], _history(member, [recovered], waits=(0, 0), seen=((80, 100), (80, 100)), longest=(50, 50)))
    assert (await _system_series(database, tsy, "WAIT52"))[recovered][:2] == (0, None)
    assert await _escalation(database, tsy) is None, "back on target: the system's escalation is closed"


async def _escalation(database, tsy: dict[str, int]) -> tuple | None:
    async with database.session(await runner_access(database, tsy["TSY"])) as session:
        return (await session.exec(text(
            "select level, level_code, forum_code, status from escalation where org_id = :o and subject_key = 'indicator:WAIT52'"
            " and status <> 'closed'"), params={"o": tsy["TSY"]})).first()


async def test_the_demo_systems_figures_come_from_its_members(database, org_ids) -> None:
    """STW's declared indicators are its members' figures combined, for every period the members report."""
    from server.tenants.load import validate_tenants
    from server.settings import PROJECT_ROOT

    stw = validate_tenants(PROJECT_ROOT / "tenants")["STW"]
    composed = {spec.code: spec.from_members for spec in stw.indicators if spec.from_members}
    assert {"AE4H", "RTT18", "RTT65", "LONGWAIT", "SYSIEVAR"} <= set(composed)
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        def series(org: str, code: str, expression: str):  # type: ignore[no-untyped-def]
            return session.exec(text(
                f"select m.period, {expression} from measurement m join indicator i on i.id = m.indicator_id"
                " where i.org_id = :o and i.code = :c group by m.period order by m.period"), params={"o": org_ids[org], "c": code})

        for code, spec in composed.items():
            aggregate = {"sum": "sum(m.value), null", "max": "max(m.value), null", "rate": "sum(m.numerator), sum(m.denominator)"}[spec.combine]
            system = {row[0]: tuple(row[1:]) for row in (await series("STW", code, aggregate)).all()}
            members = [{row[0]: tuple(row[1:]) for row in (await series(member, member_code, aggregate)).all()}
                       for member, member_code in spec.indicators.items()]
            assert system and set(system) == set.intersection(*(set(m) for m in members)), code
            for period, (first, second) in system.items():
                parts = [m[period] for m in members]
                if spec.combine == "rate":
                    assert (first, second) == (sum(p[0] for p in parts), sum(p[1] for p in parts)), (code, period)
                else:
                    assert first == {"sum": sum, "max": max}[spec.combine](p[0] for p in parts), (code, period)
        stored = (await session.exec(text(
            "select count(distinct a.indicator_id) from assessment a join indicator i on i.id = a.indicator_id"
            " where i.org_id = :o and i.from_members is not null and a.unit_id is null and a.is_latest"), params={"o": org_ids["STW"]})).scalar_one()
        sources = set((await session.exec(text(
            "select distinct m.source from measurement m join indicator i on i.id = m.indicator_id where i.org_id = :o and i.from_members is not null"),
            params={"o": org_ids["STW"]})).scalars())
    assert stored == len(composed) and sources == {"members"}


async def test_a_system_figure_computed_from_members_is_never_entered_by_hand(database, tsy) -> None:
    async with database.session(AccessContext.for_orgs([tsy["TSY"]], write=True)) as session:
        outcome = await submit_measurements(session, org_id=tsy["TSY"], user_id=None, items=[MeasurementItem("WAIT52", "TSY", MONTHS[0], value=1)])
    assert not outcome.ok
    assert [(p.field, p.message) for p in outcome.problems] == [
        ("indicator", "'Patients waiting over 52 weeks (system)' (WAIT52) is computed from the members' figures; submit them to the members")]


async def test_the_system_indicator_page_says_which_members_figures_make_it(client) -> None:
    from tests.conftest import login

    await login(client, "stw.lead@accord.example")
    import html

    page = html.unescape((await client.get("/organisations/STW/indicators/RTT18")).text)
    assert "Computed from members" in page
    assert "the sum of the numerators over the sum of the denominators of RL1's RTT18 and RXW's RTT18, once every one" in " ".join(page.split())
