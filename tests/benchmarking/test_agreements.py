"""Mutual benchmarking agreements (issue 15, migration 0025): in a declared peer group, an organisation
the caller may not read is compared only when both tenant files declare the group naming each other,
only on the codes it shares, and only with its organisation-level benchmark figures — decided by the
database (``benchmark_peers``), with row-level security still hiding everything else of it.

The demo files agree: ULHT (RWD), SaTH (RXW) and RJAH (RL1) in ACUTE-PEERS; THGPCG (NL4) and SCHT
(R1D) in COMMUNITY-PEERS. SQL tests run as the application role in a transaction rolled back at the end.
"""
from __future__ import annotations

import html
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.app import schema
from schema.context import AccordContext
from server.benchmarking.service import benchmark
from server.db.session import AccessContext
from server.tenants.load import load_tenants
from server.tenants.spec import TenantFile
from tests.benchmarking.test_benchmark import _run, _values_at
from tests.conftest import act_as, login
from tests.db.access import ids_csv, set_access, with_ids
from tests.graphql.test_tool_questions import counted_statements
from tests.web.test_plan_pages import fresh_client

ULHT, THGPCG = "ulht.performance@accord.example", "thgpcg.ops@accord.example"
SATH_NAME = "The Shrewsbury and Telford Hospital NHS Trust"
RJAH_NAME = "The Robert Jones and Agnes Hunt Orthopaedic Hospital NHS Foundation Trust"
ACUTE = "peers:ACUTE-PEERS"
PEERS = "select * from benchmark_peers(:subject, :group, :code, :period) order by organisation_code"


async def test_ulhts_performance_lead_sees_the_trusts_that_agreed_with_quartiles_over_them(database, services, org_ids):
    _, access = await act_as(database, services.authorizer, ULHT)
    assert access.read_org_ids == {org_ids["RWD"]} and not access.contract_org_ids
    found = await _run(database, access, organisation_code="RWD", indicator_code="RTT18", group=ACUTE)
    expected = {code: value for code, value in (await _values_at(database, org_ids, "RTT18", found.period)).items()
                if code in ("RWD", "RXW", "RL1")}
    assert set(expected) == {"RWD", "RXW", "RL1"}
    assert {e.organisation_code: e.value for e in found.entries} == pytest.approx(expected)
    assert found.compared == 3 and found.not_agreed == () and found.agreement_note is None
    ordered = sorted(expected.values())
    assert found.quartiles.median == pytest.approx(ordered[1])
    assert found.position.rank == 1 + sum(value > expected["RWD"] for value in expected.values())


async def test_a_peer_is_compared_only_on_the_codes_it_shares(database, services, org_ids):
    _, access = await act_as(database, services.authorizer, ULHT)
    # A&E: SaTH shares it; RJAH does not report it (so cannot share it).
    found = await _run(database, access, organisation_code="RWD", indicator_code="AE4H", group=ACUTE)
    assert {e.organisation_code for e in found.entries} == {"RWD", "RXW"} and found.not_agreed == (RJAH_NAME,)
    # Inpatient FFT: RJAH shares it, SaTH does not report it.
    found = await _run(database, access, organisation_code="RWD", indicator_code="FFTIP", group=ACUTE)
    assert {e.organisation_code for e in found.entries} == {"RWD", "RL1"} and found.not_agreed == (SATH_NAME,)
    # Sickness absence: every member reports it, none shares it.
    found = await _run(database, access, organisation_code="RWD", indicator_code="SICK", group=ACUTE)
    assert [e.organisation_code for e in found.entries] == ["RWD"] and found.not_agreed == (RJAH_NAME, SATH_NAME)
    assert found.agreement_note == f"{RJAH_NAME} and {SATH_NAME} have not agreed to share this indicator in Acute trust peers (Model Hospital)."
    # Other groups are as they were: ULHT's people read no other organisation.
    everyone = await _run(database, access, organisation_code="RWD", indicator_code="RTT18", group="all")
    assert [e.organisation_code for e in everyone.entries] == ["RWD"] and everyone.not_agreed == ()


async def test_a_commissioner_reading_a_contractual_indicator_is_not_offered_the_providers_agreements(database, org_ids):
    """Agreements are with the organisation's own readers: its declarations are not the commissioner's to read."""
    commissioner = AccessContext(read_org_ids=frozenset({org_ids["QOC"]}), contract_org_ids=frozenset({org_ids["RWD"]}))
    found = await _run(database, commissioner, organisation_code="RWD", indicator_code="AE4H", group=ACUTE)
    assert found is not None and ACUTE not in {g.key for g in found.groups}
    assert [e.organisation_code for e in found.entries] == ["RWD"] and found.not_agreed == ()


async def test_thgpcgs_people_see_scht_on_the_shared_workforce_and_experience_codes(database, services, org_ids):
    _, access = await act_as(database, services.authorizer, THGPCG)
    assert org_ids["R1D"] not in access.read_org_ids
    found = await _run(database, access, organisation_code="NL4", indicator_code="FFT", group="peers:COMMUNITY-PEERS")
    expected = await _values_at(database, org_ids, "FFT", found.period)
    assert {e.organisation_code: e.value for e in found.entries} == pytest.approx({code: expected[code] for code in ("NL4", "R1D")})
    assert (await _run(database, access, organisation_code="NL4", indicator_code="EAUTIL", group="peers:COMMUNITY-PEERS")).compared == 1


# ---------------------------------------------------------------------------------------------
# The function itself, as the application role
# ---------------------------------------------------------------------------------------------
@dataclass
class Scene:
    connection: AsyncConnection
    ids: dict[str, int]  # by lower-case organisation code, for with_ids
    period: object

    async def as_reader(self, *codes: str, write: tuple[str, ...] = (), contract: tuple[str, ...] = ()) -> None:
        await set_access(self.connection, read=ids_csv(self.ids[c.lower()] for c in codes),
                         write=ids_csv(self.ids[c.lower()] for c in write), contract=ids_csv(self.ids[c.lower()] for c in contract))

    async def peers(self, subject: str, code: str, group: str = "ACUTE-PEERS") -> dict[str, tuple]:
        rows = (await self.connection.execute(text(PEERS), {"subject": self.ids[subject.lower()], "group": group, "code": code,
                                                           "period": self.period})).all()
        return {row.organisation_code: tuple(row) for row in rows}

    async def run(self, sql: str) -> int:
        return (await self.connection.execute(text(with_ids(sql, self.ids)))).rowcount


@pytest_asyncio.fixture(loop_scope="session")
async def scene(database, org_ids) -> AsyncIterator[Scene]:
    ids = {code.lower(): org_ids[code] for code in ("RWD", "RXW", "RL1", "NL4", "R1D", "QOC")}
    async with database.app_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            await set_access(connection, read=ids_csv([ids["rwd"]]))
            period = (await connection.execute(text(
                "select max(period) from assessment a join indicator i on i.id = a.indicator_id"
                " where i.org_id = :rwd and i.code = 'RTT18' and a.unit_id is null and a.value is not null"), {"rwd": ids["rwd"]})).scalar_one()
            yield Scene(connection, ids, period)
        finally:
            await transaction.rollback()


async def test_the_function_gives_the_organisation_level_benchmark_of_each_agreed_peer_and_nothing_more(scene, database, org_ids):
    await scene.as_reader("RWD")
    peers = await scene.peers("RWD", "RTT18")
    assert set(peers) == {"RXW", "RL1"}
    expected = await _values_at(database, org_ids, "RTT18", scene.period)
    assert {code: row[4] for code, row in peers.items()} == pytest.approx({code: expected[code] for code in peers})
    # Unit-level figures exist for the same period, and none is returned: one row per peer, the organisation's own.
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        units = (await session.exec(text(
            "select count(*) from assessment a join indicator i on i.id = a.indicator_id"
            " where i.org_id = :o and i.code = 'RTT18' and a.unit_id is not null and a.period = :p"),
            params={"o": org_ids["RXW"], "p": scene.period})).scalar_one()
    assert units > 0
    # What the function can return at all: the benchmark columns, nothing else of the peer.
    columns = (await scene.connection.execute(text(
        "select pg_get_function_result('benchmark_peers(int, text, text, date)'::regprocedure)"))).scalar_one()
    assert columns == ("TABLE(organisation_id integer, organisation_code text, organisation_name text, unit text, value double precision,"
                       " target double precision, rag text)")


async def test_a_declaration_on_one_side_only_exposes_nothing(scene):
    # SaTH stops naming ULHT (its group now names RJAH alone): ULHT's own declaration still names SaTH.
    await scene.as_reader("RXW", write=("RXW",))
    assert await scene.run("update peer_group_declaration set member_ids = array[:rxw, :rl1] where org_id = :rxw") == 1
    await scene.as_reader("RWD")
    assert set(await scene.peers("RWD", "RTT18")) == {"RL1"}
    # RJAH withdraws its declaration altogether; THGPCG's is removed and SCHT's still names it.
    await scene.as_reader("RL1", "NL4", write=("RL1", "NL4"))
    assert await scene.run("delete from peer_group_declaration where org_id in (:rl1, :nl4)") == 2
    await scene.as_reader("RWD", "NL4", "R1D")
    assert await scene.peers("RWD", "RTT18") == {}
    await scene.as_reader("R1D")
    assert await scene.peers("R1D", "FFT", "COMMUNITY-PEERS") == {}
    # A group of the same code that one side declares and the other does not: nothing either.
    assert await scene.peers("R1D", "FFT", "ACUTE-PEERS") == {}


async def test_an_unshared_code_is_not_returned(scene):
    await scene.as_reader("RWD")
    assert await scene.peers("RWD", "SICK") == {}  # both report it, neither shares it
    assert set(await scene.peers("RWD", "FFTIP")) == {"RL1"}
    await scene.as_reader("RXW", write=("RXW",))
    await scene.run("update peer_group_declaration set shares = array['AE4H'] where org_id = :rxw")
    await scene.as_reader("RWD")
    assert set(await scene.peers("RWD", "RTT18")) == {"RL1"} and set(await scene.peers("RWD", "AE4H")) == {"RXW"}


async def test_a_caller_who_cannot_read_the_subject_gets_nothing_from_the_function(scene):
    await scene.as_reader("RXW")  # a peer itself, but not ULHT's reader
    assert await scene.peers("RWD", "RTT18") == {}
    await scene.as_reader("QOC", contract=("RWD", "RXW"))  # contractual reading does not count
    assert await scene.peers("RWD", "RTT18") == {}
    await scene.as_reader()  # no context at all
    assert await scene.peers("RWD", "RTT18") == {}


async def test_row_level_security_still_hides_the_peers_rows_and_the_callers_context_is_restored(scene):
    await scene.as_reader("RWD")
    assert set(await scene.peers("RWD", "RTT18")) == {"RXW", "RL1"}
    after = (await scene.connection.execute(text("select current_setting('app.org_ids', true)"))).scalar_one()
    assert after == str(scene.ids["rwd"])
    for table in ("indicator", "assessment", "measurement", "org_unit", "tenant_framework", "peer_group_declaration", "escalation"):
        seen = (await scene.connection.execute(text(with_ids(f"select count(*) from {table} where org_id in (:rxw, :rl1)", scene.ids)))).scalar_one()
        assert seen == 0, table


# ---------------------------------------------------------------------------------------------
# Loading, the page, GraphQL and the statement count
# ---------------------------------------------------------------------------------------------
async def test_removing_the_declaration_from_the_file_withdraws_it_on_reload(database, services, org_ids, test_settings, tmp_path):
    for path in test_settings.tenants_dir.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    sath = tmp_path / "sath.yaml"
    without, count = re.subn(r"\npeer_groups:\n(  .*\n|    .*\n)+", "\n", sath.read_text())
    assert count == 1
    sath.write_text(without)
    _, access = await act_as(database, services.authorizer, ULHT)
    try:
        await load_tenants(database, tmp_path)
        found = await _run(database, access, organisation_code="RWD", indicator_code="RTT18", group=ACUTE)
        assert {e.organisation_code for e in found.entries} == {"RWD", "RL1"} and found.not_agreed == (SATH_NAME,)
    finally:
        await load_tenants(database, test_settings.tenants_dir)
    found = await _run(database, access, organisation_code="RWD", indicator_code="RTT18", group=ACUTE)
    assert {e.organisation_code for e in found.entries} == {"RWD", "RXW", "RL1"}


def test_a_shared_code_must_be_one_the_organisation_reports():
    with pytest.raises(ValidationError) as error:
        TenantFile.model_validate({
            "organisation": {"code": "NCH", "name": "Northshire", "kind": "trust"},
            "peer_groups": [{"code": "P", "name": "Peers", "members": ["NCH", "RL1"], "shares": ["RTT18"]}],
        })
    assert "peer_groups[0].shares[0]: 'RTT18' is not one of this file's indicators" in str(error.value)


QUERY = """query($group: String, $code: String!) { benchmark(organisationCode: "RWD", indicatorCode: $code, group: $group) {
  group { key } organisationsCompared median notAgreed agreementNote entries { organisationCode organisationName value rank } } }"""


async def test_the_page_and_graphql_give_the_same_agreed_peers(app, database, services):
    principal, access = await act_as(database, services.authorizer, ULHT)
    context = AccordContext(request=None, principal=principal, access=access, database=database, authorizer=services.authorizer)
    try:
        shared = await schema.execute(QUERY, variable_values={"group": ACUTE, "code": "RTT18"}, context_value=context)
        unshared = await schema.execute(QUERY, variable_values={"group": ACUTE, "code": "AE4H"}, context_value=context)
    finally:
        await context.close()
    assert shared.errors is None and unshared.errors is None
    answer = shared.data["benchmark"]
    assert answer["organisationsCompared"] == 3 and answer["notAgreed"] == [] and answer["agreementNote"] is None
    assert unshared.data["benchmark"]["notAgreed"] == [RJAH_NAME]
    async with await fresh_client(app) as client:
        await login(client, ULHT)
        page = await client.get(f"/organisations/RWD/indicators/RTT18/benchmark?group={ACUTE}")
        other = await client.get(f"/organisations/RWD/indicators/AE4H/benchmark?group={ACUTE}")
    assert page.status_code == 200 and other.status_code == 200
    rows = re.findall(r'<tr class="nhsuk-table__row">\s*<td class="nhsuk-table__cell">(\d+|–)</td>\s*<td class="nhsuk-table__cell">(.*?)</td>',
                      page.text, re.S)
    names = [re.sub(r"<[^>]+>|\s*\(this organisation\)", "", html.unescape(name)).strip() for _, name in rows]
    assert names == [e["organisationName"] for e in answer["entries"]]
    assert [int(rank) for rank, _ in rows] == [e["rank"] for e in answer["entries"]]
    assert "Quartiles" in page.text and "peers that have agreed to share this indicator" in page.text
    assert f"{RJAH_NAME} has not agreed to share this indicator in Acute trust peers (Model Hospital)." in html.unescape(other.text)


async def test_the_benchmark_stays_two_statements_however_many_peers_agreed(database, org_ids):
    ulht = AccessContext.for_orgs([org_ids["RWD"]])
    counts = {}
    for code in ("SICK", "FFTIP", "RTT18"):  # no peer, one peer and two peers by agreement
        async with database.session(ulht) as session:
            await session.exec(text("select 1"))
            with counted_statements(database) as statements:
                found = await benchmark(session, organisation_code="RWD", indicator_code=code, readable_org_ids=ulht.read_org_ids, group=ACUTE)
            counts[code] = (len(statements), len(found.entries))
    assert counts == {"SICK": (2, 1), "FFTIP": (2, 2), "RTT18": (2, 3)}
