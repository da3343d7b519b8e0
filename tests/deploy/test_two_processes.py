"""Two app processes on one PostgreSQL behave as one service: nothing a request relies on lives in a process.

Each process is a real ``accord serve`` (uvicorn, the app's own lifespan, its own pools, caches and
access watcher); the test is the load balancer, sending each request to the process it chooses.
"""
from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete, func, select, text

from server.db.session import AccessContext
from server.db.models import AppUser, HealthSystem, LoginAttempt, Organisation, RoleAssignment, SystemMembership
from tests.conftest import csrf_from, database_urls_for, seeded_database
from tests.deploy.replicas import Replica, replica_environment, running_replicas
from tests.security.people import create_person, remove_people

ADMIN = "replica.admin@deploy.example"
NEWCOMER = "replica.newcomer@deploy.example"
EXECUTIVE = "replica.exec@deploy.example"
SYSTEM_LEAD = "replica.lead@deploy.example"
PER_ADDRESS_LIMIT = 8
PROPAGATION_SECONDS = 1.0


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def database(postgres_server, test_settings):  # type: ignore[no-untyped-def]
    """A database of their own: the processes' daily tick and these tests' changes stay out of the shared one."""
    replica_database = await seeded_database(database_urls_for(postgres_server, "accord_replicas"), test_settings)
    yield replica_database
    await replica_database.dispose()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def org_ids(database):  # type: ignore[no-untyped-def]
    async with database.session() as session:
        return dict((await session.exec(select(Organisation.code, Organisation.id))).all())


@pytest.fixture(scope="module")
def replicas(database, tmp_path_factory):  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("replicas")
    environment = replica_environment(
        database.urls, directory, forwarded_allow_ips="127.0.0.1", login_max_failures_per_address=str(PER_ADDRESS_LIMIT),
        metrics_enabled="true",
    )
    with running_replicas(["a", "b"], environment, directory) as started:
        yield started


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def people(database):  # type: ignore[no-untyped-def]
    await create_person(database, ADMIN, home="RL1", roles=[("tenant_admin", "org:RL1")])
    await create_person(database, NEWCOMER, home="RL1")
    await create_person(database, EXECUTIVE, home="RL1", roles=[("executive", "org:RL1")])
    await create_person(database, SYSTEM_LEAD, home="QOC", roles=[("system_planning_lead", "system:STW")])
    yield
    await remove_people(database, [ADMIN, NEWCOMER, EXECUTIVE, SYSTEM_LEAD])


def browser(address: str) -> httpx.AsyncClient:
    """One person's browser behind the balancer at ``address`` (X-Forwarded-For, believed from 127.0.0.1)."""
    return httpx.AsyncClient(headers={"x-forwarded-for": address}, follow_redirects=False, timeout=30)


async def sign_in(client: httpx.AsyncClient, replica: Replica, email: str, password: str = "accord-demo-2026") -> httpx.Response:
    page = await client.get(f"{replica.url}/login")
    return await client.post(f"{replica.url}/login", data={"email": email, "password": password, "csrf_token": csrf_from(page.text), "next": "/"})


async def post_form(client: httpx.AsyncClient, replica: Replica, path: str, data: dict[str, str], page_path: str = "/") -> httpx.Response:
    page = await client.get(f"{replica.url}{page_path}")
    return await client.post(f"{replica.url}{path}", data={**data, "csrf_token": csrf_from(page.text)})


async def status_within(client: httpx.AsyncClient, url: str, wanted: int, seconds: float = PROPAGATION_SECONDS) -> float:
    """Seconds from now (just after the change committed) until ``url`` answers ``wanted``.

    Fails if a request *sent* more than ``seconds`` after the change still got the old answer: how
    long a page takes to render on a busy machine is not what is being measured."""
    changed_at = time.monotonic()
    while True:
        sent_at = time.monotonic()
        status = (await client.get(url)).status_code
        if status == wanted:
            return sent_at - changed_at
        assert sent_at - changed_at < seconds, f"{url} still answered {status} to a request sent {sent_at - changed_at:.2f} s after the change"
        await asyncio.sleep(0.02)


async def test_a_session_started_on_one_process_is_valid_on_the_other_and_ends_on_both(replicas, people):
    a, b = replicas
    async with browser("203.0.113.10") as person:
        assert (await sign_in(person, a, EXECUTIVE)).status_code == 303
        home = await person.get(f"{b.url}/")
        assert home.status_code == 200 and "Replica Exec" in home.text
        assert (await person.get(f"{b.url}/organisations/RL1")).status_code == 200
        assert (await post_form(person, b, "/logout", {})).status_code == 303
        assert (await person.get(f"{a.url}/organisations/RL1")).status_code in (302, 303)


async def test_a_role_granted_or_revoked_through_one_process_takes_effect_on_the_other_within_a_second(replicas, people, database):
    a, b = replicas
    async with browser("203.0.113.11") as admin, browser("203.0.113.12") as newcomer:
        assert (await sign_in(newcomer, b, NEWCOMER)).status_code == 303
        assert (await newcomer.get(f"{b.url}/organisations/RL1")).status_code == 404
        assert (await sign_in(admin, a, ADMIN)).status_code == 303

        granted = await post_form(admin, a, "/organisations/RL1/admin/roles", {"email": NEWCOMER, "role": "viewer"}, "/organisations/RL1/admin")
        assert granted.status_code == 303, granted.text
        await status_within(newcomer, f"{b.url}/organisations/RL1", 200)

        async with database.session() as session:
            assignment_id = (await session.exec(
                select(RoleAssignment.id).join(AppUser, AppUser.id == RoleAssignment.user_id)
                .where(RoleAssignment.role == "viewer", AppUser.email == NEWCOMER)
            )).scalar_one()
        revoked = await post_form(admin, a, f"/organisations/RL1/admin/roles/{assignment_id}/revoke", {}, "/organisations/RL1/admin")
        assert revoked.status_code == 303, revoked.text
        await status_within(newcomer, f"{b.url}/organisations/RL1", 404)


async def test_a_directory_change_reaches_every_process_cache_within_a_second(replicas, people, database):
    """Access resolved from the directory is cached per process; a committed change empties every cache (NOTIFY)."""
    a, b = replicas
    async with database.session() as session:
        system_id = (await session.exec(select(HealthSystem.id).where(HealthSystem.code == "STW"))).scalar_one()
        rjah_id = (await session.exec(select(Organisation.id).where(Organisation.code == "RL1"))).scalar_one()
    async with browser("203.0.113.13") as lead:
        assert (await sign_in(lead, a, SYSTEM_LEAD)).status_code == 303
        for replica in (a, b):  # both processes now hold the directory in their caches
            assert (await lead.get(f"{replica.url}/organisations/RL1")).status_code == 200
        try:
            async with database.session() as session:
                await session.exec(delete(SystemMembership).where(SystemMembership.system_id == system_id, SystemMembership.organisation_id == rjah_id))
            for replica in (a, b):
                await status_within(lead, f"{replica.url}/organisations/RL1", 404)
        finally:
            async with database.session() as session:
                if not (await session.exec(select(SystemMembership).where(SystemMembership.organisation_id == rjah_id, SystemMembership.system_id == system_id))).first():
                    session.add(SystemMembership(system_id=system_id, organisation_id=rjah_id))
        for replica in (a, b):
            await status_within(lead, f"{replica.url}/organisations/RL1", 200)
    for replica in (a, b):
        heard = [line for line in replica.log_lines() if "access cache emptied" in str(line["message"])]
        assert heard, f"replica {replica.name} logged no notification"


async def test_an_escalation_raised_through_one_process_is_visible_through_the_other(replicas, people, database, org_ids):
    a, b = replicas
    async with database.session(AccessContext.for_orgs([org_ids["RL1"]])) as session:
        levels = dict((await session.exec(text("select id, level from escalation where org_id = :org"), params={"org": org_ids["RL1"]})).all())
    async with browser("203.0.113.14") as executive:
        assert (await sign_in(executive, a, EXECUTIVE)).status_code == 303
        register = await executive.get(f"{a.url}/organisations/RL1/escalations")
        for path in re.findall(r'href="(/organisations/RL1/escalations/(\d+))"', register.text):
            detail = await executive.get(f"{a.url}{path[0]}")
            choices = re.search(r'name="to_level">(.*?)</select>', detail.text, re.S)
            higher = [int(level) for level in re.findall(r'value="(\d+)"', choices.group(1)) if int(level) > levels[int(path[1])]] if choices else []
            if higher:
                break
        else:
            pytest.fail("RJAH has no open escalation below its ladder's top in the test data")
        version = re.search(r'name="version" value="(\d+)"', detail.text).group(1)
        reason = f"Raised through replica a at {time.time():.3f}"
        raised = await executive.post(f"{a.url}{path[0]}", data={
            "kind": "escalated", "version": version, "to_level": str(higher[0]), "reason": reason, "csrf_token": csrf_from(detail.text),
        })
        assert raised.status_code == 303, raised.text
        seen = await executive.get(f"{b.url}{path[0]}")
        again = await executive.get(f"{a.url}{path[0]}")
    assert seen.status_code == 200 and reason in seen.text
    # The notice A signed (ACCORD_SECRET_KEY, the same on every replica) is shown by B, once.
    assert "Escalation escalated" in seen.text and "Escalation escalated" not in again.text


async def test_the_login_throttle_holds_across_processes_under_concurrent_attempts(replicas, database):
    """Failures are counted in PostgreSQL under a per-address and per-email lock: racing attempts
    through both processes record exactly the limit, and every one past it is refused unchecked."""
    a, b = replicas
    email, address = "nobody.throttled@deploy.example", "203.0.113.20"
    async with database.session() as session:
        await session.exec(delete(LoginAttempt).where((LoginAttempt.email == email) | (LoginAttempt.ip == address)))
    async with browser(address) as attacker:
        page = await attacker.get(f"{a.url}/login")
        token = csrf_from(page.text)  # the double-submit cookie from a is as good on b

        async def attempt(replica: Replica, who: str) -> int:
            answer = await attacker.post(f"{replica.url}/login", data={"email": who, "password": "wrong", "csrf_token": token})
            return answer.status_code

        same_account = await asyncio.gather(*(attempt((a, b)[i % 2], email) for i in range(12)))
        assert Counter(same_account) == {400: 5, 429: 7}
        many_accounts = await asyncio.gather(*(attempt((a, b)[i % 2], f"nobody.{i}@deploy.example") for i in range(8)))
        assert Counter(many_accounts) == {400: PER_ADDRESS_LIMIT - 5, 429: 5 + 8 - PER_ADDRESS_LIMIT}
    async with database.session() as session:
        recorded = (await session.exec(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.ip == address))).scalar_one()
        await session.exec(delete(LoginAttempt).where(LoginAttempt.ip == address))
    assert recorded == PER_ADDRESS_LIMIT


async def test_each_process_reports_metrics_and_listens_for_access_changes(replicas):
    async with httpx.AsyncClient(timeout=10) as scraper:
        for replica in replicas:
            # Prometheus scrapes by pod address: /metrics skips the Host check like the probes do.
            exposition = (await scraper.get(f"{replica.url}/metrics", headers={"host": "10.0.0.7:8000"})).text
            assert "accord_access_watcher_listening 1.0" in exposition
            assert 'accord_db_pool_connections{state="size"}' in exposition
            assert 'accord_http_request_duration_seconds_count{method="GET",route="/readyz",status="200"}' in exposition


async def test_the_daily_tick_runs_once_across_processes(replicas, database):
    """Both processes start their scheduler at once; the advisory lock lets one of them run the day."""
    deadline = time.monotonic() + 180
    while True:
        async with database.session() as session:
            finished = (await session.exec(text("select count(*) from ladder_tick where finished_at is not null"))).scalar_one()
        if finished or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert finished == 1
    ran = [replica.name for replica in replicas for line in replica.log_lines() if str(line["message"]).startswith("ladder tick for")]
    assert len(ran) == 1, f"the tick ran in {ran or 'no process'}"


async def test_a_process_told_to_stop_finishes_cleanly_and_lets_go_of_the_database(database, tmp_path):
    """What a rolling update does to each old pod (SIGTERM): a clean shutdown, no traceback, its LISTEN connection closed."""
    from server.app import WATCHER_APPLICATION_NAME

    async def watchers() -> int:
        async with database.owner_engine.connect() as connection:
            return (await connection.execute(text("select count(*) from pg_stat_activity where application_name = :name"),
                                             {"name": WATCHER_APPLICATION_NAME})).scalar_one()

    before = await watchers()
    environment = replica_environment(database.urls, tmp_path)
    with running_replicas(["stopping"], environment, tmp_path) as [replica]:
        assert await watchers() == before + 1
        replica.process.send_signal(signal.SIGTERM)
        exit_code = await asyncio.to_thread(replica.process.wait, 20)
    # uvicorn shuts down gracefully, then raises the signal again so the platform sees why it ended.
    assert exit_code in (0, -signal.SIGTERM)
    log = replica.log_path.read_text()
    assert "Application shutdown complete." in log and "Traceback" not in log, log[-3000:]
    assert await watchers() == before
