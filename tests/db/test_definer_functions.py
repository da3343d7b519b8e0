"""Functions that run with their owner's rights (SECURITY DEFINER) and that the application role may
call: each is known here with the reason it exists, pins its search_path, is not owned by the
application role and is not executable by PUBLIC (the application role holds EXECUTE alone). A new one fails ``test_every_definer_function_the_application_may_call_is_known``
until it is added — with a probe of its own (tests/benchmarking/test_agreements.py probes
benchmark_peers as the application role; the one below sends it forged contexts).
"""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.db.access import INVALID_TEXT, ids_csv, set_access, sqlstate

KNOWN = {
    "compose_member_figures": "a member's submission composes its system's figures (0019); returns only which changed",
    "create_period_partitions": "adds a bounded range of yearly partitions (0020)",
    "benchmark_peers": "the benchmark of peers that agreed to share it with an organisation the caller reads (0025)",
}


async def test_every_definer_function_the_application_may_call_is_known(database):
    async with database.owner_engine.connect() as connection:
        rows = (await connection.execute(text(
            "select p.proname, p.proconfig, pg_get_userbyid(p.proowner), has_function_privilege('public', p.oid, 'execute') from pg_proc p"
            " where p.pronamespace = 'public'::regnamespace and p.prosecdef and has_function_privilege('accord_app', p.oid, 'execute')"))).all()
    assert {name for name, _, _, _ in rows} == set(KNOWN)
    for name, config, owner, everyone_may_call in rows:
        assert config == ["search_path=pg_catalog, public"], name
        assert owner != "accord_app" and not everyone_may_call, name


@pytest.mark.parametrize(("read", "contract"), [("", ""), ("RXW", ""), ("QOC", "RWD"), ("RXW,RL1", "RWD")],
                         ids=["no context", "a peer's reader", "a commissioner of the subject", "both peers' reader"])
async def test_benchmark_peers_gives_nothing_to_a_caller_who_does_not_read_the_subject(database, org_ids, read, contract):
    def ids(codes: str) -> str:
        return ids_csv(org_ids[code] for code in codes.split(",") if code)

    async with database.app_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            await set_access(connection, read=ids(read), contract=ids(contract))
            rows = (await connection.execute(text("select * from benchmark_peers(:subject, 'ACUTE-PEERS', 'RTT18', null)"),
                                             {"subject": org_ids["RWD"]})).all()
        finally:
            await transaction.rollback()
    assert rows == []


async def test_benchmark_peers_refuses_a_malformed_context(database, org_ids):
    async with database.app_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            await set_access(connection, read=f"x,{org_ids['RWD']}")
            with pytest.raises(DBAPIError) as error:
                await connection.execute(text("select * from benchmark_peers(:subject, 'ACUTE-PEERS', 'RTT18', null)"),
                                         {"subject": org_ids["RWD"]})
        finally:
            await transaction.rollback()
    assert sqlstate(error.value) == INVALID_TEXT
