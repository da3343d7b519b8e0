"""A commissioner's contract units stay out of its own totals (issue 15): WHSSC records its providers'
figures at WHSSC-PROV's units, declared ``rolls_up: false``, and no roll-up path (derivation of the
organisation-level series, the series' numerators, a system's figures from its members', masking)
counts them in WHSSC's own figure."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import text

from server.assessment_store.members import compose_system_figures
from server.assessment_store.recompute import assessment_settings, derive_assessments, runner_access
from server.reporting.series import indicator_series
from server.tenants.spec import TenantFile

# Each of WHSSC's units and whether its measurements count in WHSSC's own figures.
_UNITS = text("select id, code, rollup_top_path = '' from org_unit where org_id = :org")


async def _org_level(session, org_id: int, code: str) -> dict[dt.date, float]:  # type: ignore[no-untyped-def]
    indicator_id = (await session.exec(text("select id from indicator where org_id = :o and code = :c"), params={"o": org_id, "c": code})).scalar_one()
    rows = await derive_assessments(session, org_id, await assessment_settings(session, org_id), [indicator_id])
    return {row["period"]: row["value"] for row in rows if row["unit_id"] is None}


async def _rate_of(session, org_id: int, code: str, *, own_only: bool) -> dict[dt.date, float]:  # type: ignore[no-untyped-def]
    """sum(numerators) / sum(denominators) per period over WHSSC's own units (or over every unit)."""
    rows = (await session.exec(text(
        "select m.period, sum(m.numerator) / sum(m.denominator) from measurement m join indicator i on i.org_id = m.org_id and i.id = m.indicator_id"
        " join org_unit u on u.org_id = m.org_id and u.id = m.unit_id"
        " where m.org_id = :o and i.code = :c and (not cast(:own as boolean) or u.rollup_top_path = '') group by m.period"
    ), params={"o": org_id, "c": code, "own": own_only})).all()
    return {period: float(value) for period, value in rows}


async def test_whssc_own_figure_leaves_out_its_providers_and_did_not_before(database, org_ids):
    org = org_ids["WHSSC"]
    async with database.session(await runner_access(database, org)) as session:
        units = {code: own for _, code, own in (await session.exec(_UNITS, params={"org": org})).all()}
        assert not units["WHSSC-PROV"] and not units["WHSSC-PROV-REM"] and units["WHSSC-CARDIAC-SURG"] and units["WHSSC"]
        after = await _org_level(session, org, "MORT30")
        own, everything = await _rate_of(session, org, "MORT30", own_only=True), await _rate_of(session, org, "MORT30", own_only=False)
        latest = max(after)
        assert after[latest] == pytest.approx(own[latest]) and everything[latest] != pytest.approx(own[latest])
        # Before: the same derivation with the provider units rolling up gives the figure that mixed the providers in.
        await session.exec(text("update org_unit set rolls_up = true, rollup_top_path = '' where org_id = :org"), params={"org": org})
        before = await _org_level(session, org, "MORT30")
        assert before[latest] == pytest.approx(everything[latest]) and before[latest] != pytest.approx(after[latest])
        await session.rollback()
    async with database.session(await runner_access(database, org)) as session:
        # What is stored and shown (the IPR, GraphQL, benchmarking read these rows) is the figure without them.
        stored = (await session.exec(text(
            "select a.value from assessment a join indicator i on i.org_id = a.org_id and i.id = a.indicator_id"
            " where a.org_id = :o and i.code = 'MORT30' and a.unit_id is null and a.period = :p"), params={"o": org, "p": latest})).scalar_one()
        assert float(stored) == pytest.approx(own[latest])
        # A spend recorded only against contracts is no figure of WHSSC's own; the contract units' parent totals it.
        spend = await _org_level(session, org, "CONTRACTSPEND")
        assert spend == {}
        # The series' numerators and denominators (the IPR and GraphQL show them) are summed over the same units.
        indicator_id = (await session.exec(text("select id from indicator where org_id = :o and code = 'MORT30'"), params={"o": org})).scalar_one()
        points = (await indicator_series(session, [indicator_id], start=latest, end=latest))[indicator_id]
        assert points[0].numerator / points[0].denominator == pytest.approx(own[latest])
        provider_parent = (await session.exec(text("select id from org_unit where org_id = :o and code = 'WHSSC-PROV'"), params={"o": org})).scalar_one()
        at_parent = (await indicator_series(session, [indicator_id], unit_id=provider_parent, start=latest, end=latest))[indicator_id]
        assert at_parent and at_parent[0].denominator > 0  # the providers' figures roll up to their own parent unit


async def test_the_providers_failing_is_not_masked_by_the_commissioners_figure(database, org_ids):
    """A failure is masked by the total it rolls into: the contract units by their parent's, never by WHSSC's."""
    org = org_ids["WHSSC"]
    async with database.session(await runner_access(database, org)) as session:
        masked = dict((await session.exec(text(
            "select u.rolls_up, count(*) from assessment a join org_unit u on u.org_id = a.org_id and u.id = a.unit_id"
            " where a.org_id = :o and a.masked_failure and u.rollup_top_path <> '' group by u.rolls_up"), params={"o": org})).all())
    assert masked.get(False, 0) == 0 and masked.get(True, 0) > 0


async def test_a_system_figure_takes_only_what_rolls_up_to_each_member(database, org_ids):
    """STW's RTT18 is SaTH's and RJAH's: a SaTH unit out of SaTH's figures is out of the system's too."""
    system, member = org_ids["STW"], org_ids["RXW"]
    async with database.session(await runner_access(database, system)) as session:
        # The test reads the member and moves its boundary as the loader would (the engine composes under its own access).
        await session.exec(text("select set_config('app.org_ids', :orgs, true), set_config('app.write_org_ids', :orgs, true)"),
                           params={"orgs": f"{system},{member}"})
        query = text("select m.period, m.numerator, m.denominator from measurement m join indicator i on i.org_id = m.org_id and i.id = m.indicator_id"
                     " where m.org_id = :o and i.code = 'RTT18' order by m.period desc limit 1")
        period, numerator, denominator = (await session.exec(query, params={"o": system})).one()
        leaf = (await session.exec(text(
            "select u.id, m.numerator, m.denominator from org_unit u join measurement m on m.org_id = u.org_id and m.unit_id = u.id"
            " join indicator i on i.org_id = m.org_id and i.id = m.indicator_id"
            " where u.org_id = :o and i.code = 'RTT18' and m.period = :p and m.numerator > 0 limit 1"), params={"o": member, "p": period})).one()
        await session.exec(text("update org_unit set rolls_up = false, rollup_top_path = path where org_id = :o and id = :id"),
                           params={"o": member, "id": leaf[0]})
        changed = await compose_system_figures(session, system_org_id=system, periods=[period])
        assert any(period in periods for periods in changed[system].values())
        now = (await session.exec(query, params={"o": system})).one()
        assert (float(now[1]), float(now[2])) == pytest.approx((float(numerator) - float(leaf[1]), float(denominator) - float(leaf[2])))
        await session.rollback()


def _whssc_with_contract_units_rolling_up(project_root) -> dict:  # type: ignore[no-untyped-def]
    import yaml

    data = yaml.safe_load((project_root / "tenants" / "whssc.yaml").read_text())
    provider_parent = next(unit for unit in data["units"][0]["children"] if unit["code"] == "WHSSC-PROV")
    provider_parent.pop("rolls_up")
    return data


def test_the_loader_refuses_a_contract_unit_that_would_roll_into_the_commissioners_figures(project_root) -> None:
    data = _whssc_with_contract_units_rolling_up(project_root)
    with pytest.raises(ValueError, match=r"contracts\[0\]\.monitoring\.unit: 'WHSSC-PROV-7A4' would roll the provider's figures up"):
        TenantFile.model_validate(data)
    data["units"][0]["rolls_up"] = False
    with pytest.raises(ValueError, match=r"units\[0\]\.rolls_up: the organisation's own unit has no parent"):
        TenantFile.model_validate(data)


async def test_the_ipr_says_which_units_are_not_counted_in_the_commissioners_figures(client):
    from tests.conftest import login

    await login(client, "whssc.commissioner@accord.example")
    page = (await client.get("/organisations/WHSSC")).text
    header = re.search(r'\?unit=WHSSC-PROV">Provider contracts</a>(.*?)</th>', page, re.S)
    assert header and "Not counted in this level's figures" in html.unescape(header.group(1))
    cardiac = re.search(r'\?unit=WHSSC-CARDIAC">Cardiac and Thoracic</a>(.*?)</th>', page, re.S)
    assert cardiac and "Not counted" not in cardiac.group(1)


async def test_loading_a_changed_boundary_derives_the_organisation_again(database, org_ids, test_settings):
    """A tenant file that changes a unit's rolls_up: load-tenants reports the organisation and derives it again."""
    from server.cli import _rederive_rollup_changes
    from server.db.session import AccessContext
    from server.tenants.load import load_tenants

    org = org_ids["WHSSC"]
    assert (await load_tenants(database, test_settings.tenants_dir)).rollup_changed == frozenset()  # loading again changes nothing
    async with database.session(AccessContext.for_orgs([org], write=True)) as session:
        # As the database stood before the file said rolls_up: false (migration 0023's defaults).
        await session.exec(text("update org_unit set rolls_up = true, rollup_top_path = '' where org_id = :org"), params={"org": org})
    summary = await load_tenants(database, test_settings.tenants_dir)
    assert summary.rollup_changed == frozenset({org})
    assert await _rederive_rollup_changes(database, summary.rollup_changed) == 1  # WHSSC is in no system
    async with database.session(await runner_access(database, org)) as session:
        units = {code: own for _, code, own in (await session.exec(_UNITS, params={"org": org})).all()}
        assert not units["WHSSC-PROV-REM"] and units["WHSSC-CARDIAC-SURG"]


async def test_tools_read_which_units_stay_out_of_the_roll_up(database, services):
    from tests.maturity.test_record import _graphql

    data = await _graphql(database, services, "whssc.commissioner@accord.example",
                          'query { organisation(code: "WHSSC") { units { code rollsUp } } }', {})
    units = {unit["code"]: unit["rollsUp"] for unit in data["organisation"]["units"]}
    assert units["WHSSC-PROV"] is False and units["WHSSC-PROV-REM"] is True and units["WHSSC"] is True  # the boundary is WHSSC-PROV
