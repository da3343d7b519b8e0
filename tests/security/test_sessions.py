"""People's sessions: no fixation, logout ends them, idle and absolute timeouts, throttled logins."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest_asyncio
from sqlalchemy import text

from server.auth.sessions import SESSION_COOKIE
from tests.conftest import csrf_from, login
from tests.security.people import create_person, remove_people

PERSON = "sessions.person@security.example"


@pytest_asyncio.fixture(loop_scope="session")
async def person(database):
    user_id = await create_person(database, PERSON, home="RXW", roles=[("viewer", "org:RXW")])
    yield user_id
    await remove_people(database, [PERSON])


async def _set(database, cookie: str, **columns: dt.datetime) -> None:
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    async with database.session() as session:
        await session.exec(text(f"update web_session set {assignments} where id_hash = :h"),
                           params={"h": hashlib.sha256(cookie.encode()).hexdigest(), **columns})


def _plant(client, value: str) -> None:
    """Put a session cookie in the jar as the browser would hold it (replacing any other)."""
    for cookie in [c for c in client.cookies.jar if c.name == SESSION_COOKIE]:
        client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
    client.cookies.set(SESSION_COOKIE, value, domain="testserver.local")


async def test_a_planted_session_cookie_is_replaced_at_login_and_stays_useless(client, person):
    _plant(client, "attacker-chosen-value")
    assert (await client.get("/")).status_code == 303  # an unknown id is no session
    await login(client, PERSON)
    issued = client.cookies.get(SESSION_COOKIE)
    assert issued and issued != "attacker-chosen-value"
    _plant(client, "attacker-chosen-value")
    assert (await client.get("/")).status_code == 303


async def test_logging_in_again_ends_the_previous_session(client, person):
    await login(client, PERSON)
    first = client.cookies.get(SESSION_COOKIE)
    home = await client.get("/")
    response = await client.post("/login", data={"email": PERSON, "password": "accord-demo-2026", "csrf_token": csrf_from(home.text)})
    assert response.status_code == 303
    second = client.cookies.get(SESSION_COOKIE)
    assert second != first
    _plant(client, first)
    assert (await client.get("/")).status_code == 303
    _plant(client, second)
    assert (await client.get("/")).status_code == 200


async def test_logout_ends_the_session_on_the_server_not_only_in_the_browser(client, database, person):
    await login(client, PERSON)
    cookie = client.cookies.get(SESSION_COOKIE)
    home = await client.get("/")
    assert (await client.post("/logout", data={"csrf_token": csrf_from(home.text)})).status_code == 303
    async with database.session() as session:
        ended = (await session.exec(text("select ended_at from web_session where id_hash = :h"),
                                    params={"h": hashlib.sha256(cookie.encode()).hexdigest()})).scalar_one()
    assert ended is not None
    _plant(client, cookie)
    assert (await client.get("/")).status_code == 303
    assert (await client.get("/organisations/RXW")).status_code == 303


async def test_an_idle_session_times_out(client, database, person, test_settings):
    await login(client, PERSON)
    cookie = client.cookies.get(SESSION_COOKIE)
    idle = dt.timedelta(minutes=test_settings.session_idle_minutes)
    await _set(database, cookie, last_seen_at=dt.datetime.now(dt.UTC) - idle + dt.timedelta(minutes=2))
    assert (await client.get("/")).status_code == 200  # inside the limit, and the visit counts as activity
    await _set(database, cookie, last_seen_at=dt.datetime.now(dt.UTC) - idle - dt.timedelta(seconds=5))
    assert (await client.get("/")).status_code == 303
    await _set(database, cookie, last_seen_at=dt.datetime.now(dt.UTC))  # once ended, it stays ended
    assert (await client.get("/")).status_code == 303


async def test_a_busy_session_still_ends_at_its_absolute_lifetime(client, database, person, test_settings):
    await login(client, PERSON)
    cookie = client.cookies.get(SESSION_COOKIE)
    now = dt.datetime.now(dt.UTC)
    await _set(database, cookie, created_at=now - dt.timedelta(hours=test_settings.session_absolute_hours) + dt.timedelta(minutes=1), last_seen_at=now)
    assert (await client.get("/")).status_code == 200
    await _set(database, cookie, created_at=now - dt.timedelta(hours=test_settings.session_absolute_hours, seconds=5), last_seen_at=now)
    assert (await client.get("/")).status_code == 303


async def test_logins_are_throttled_after_repeated_failures_even_with_the_right_password(client, database, person, test_settings):
    for _ in range(test_settings.login_max_failures):
        client.cookies.clear()
        assert (await login(client, PERSON, "wrong-password")).status_code == 400
    client.cookies.clear()
    response = await login(client, PERSON)
    assert response.status_code == 429
    assert SESSION_COOKIE not in response.cookies
    async with database.session() as session:
        await session.exec(text("update login_attempt set at = at - make_interval(mins => :m) where email = :e"),
                           params={"m": test_settings.login_lockout_minutes + 1, "e": PERSON})
    client.cookies.clear()
    assert (await login(client, PERSON)).status_code == 303  # the window has passed


async def test_unknown_accounts_are_throttled_alike_so_throttling_reveals_nothing(client, test_settings, database):
    email = "no.such.account@security.example"
    try:
        responses = []
        for _ in range(test_settings.login_max_failures + 1):
            client.cookies.clear()
            responses.append((await login(client, email, "whatever")).status_code)
        assert responses == [400] * test_settings.login_max_failures + [429]
    finally:
        async with database.session() as session:
            await session.exec(text("delete from login_attempt where email = :e"), params={"e": email})


async def test_many_failures_from_one_address_across_accounts_are_throttled(database, test_settings):
    """Password spraying: one address trying many accounts is throttled like one account."""
    from server.auth.sessions import attempt_login

    settings = test_settings.model_copy(update={"login_max_failures_per_address": 3})
    outcomes = []
    for index in range(5):
        async with database.session() as session:
            outcomes.append(await attempt_login(
                session, settings, email=f"spray{index}@accord.example", password="guess", ip="203.0.113.9", previous_token=None))
    assert [o.throttled for o in outcomes] == [False, False, False, True, True]
