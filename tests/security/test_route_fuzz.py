"""No input reaches a 500: every route in the route table, sent values no page can use, as a logged-in person.

Generated from ``page_routes()``: an id path parameter gets numbers past the integer range, a text
parameter gets NUL and other control characters, and every form and query gets the same in its
fields. A route added later is fuzzed without anyone writing a test for it.
"""
from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest_asyncio
from starlette.routing import Route

from server.web.routes import page_routes
from tests.conftest import csrf_from, login
from tests.security.people import create_person, remove_people

FUZZER = "route.fuzzer@accord.example"
ROLES = [
    ("executive", "org:RXW"), ("performance_manager", "org:RXW"), ("data_submitter", "org:RXW"), ("tenant_admin", "org:RXW"),
    ("system_planning_lead", "system:STW"), ("delivery_group_member", "system:STW"),
]
TOO_LARGE = ("2147483648", "9" * 40)
CONTROL = ("\x00", "RXW\x00", "\x1f", "\x7f")
# What a well-formed request would put in each path parameter, so only one value at a time is bad.
GOOD = {"code": "RXW", "indicator_code": "RTT-18", "int": "1", "str": "RXW"}
# Ids a handler parses from text itself (no converter): sent as numbers too, not as control characters.
TEXT_IDS = ("meeting_id", "action_id")
# Form and query fields the pages read as numbers, and as text.
NUMBER_FIELDS = ("version", "plan_id", "to_level", "action_id", "meeting_id", "indicator_id", "year", "month", "day", "page")
TEXT_FIELDS = ("reason", "title", "description", "email", "unit", "next", "indicator", "status", "role", "name")
SKIPPED = {("/logout", "POST")}  # would end the fuzzer's session half-way
# Routes that act on a well-formed request whatever its fields say: only their bad paths are sent.
ACTS_WHEN_WELL_FORMED = {("/organisations/{code}/meetings/schedule", "POST")}


def fuzzed_requests() -> list[tuple[str, str, str]]:
    """(method, path template, path) for every route, with each path parameter bad in turn."""
    requests: list[tuple[str, str, str]] = []
    for route in page_routes():
        assert isinstance(route, Route)
        parameters = re.findall(r"{(\w+)(?::(\w+))?}", route.path)
        for method in sorted(route.methods or {"GET"}):
            if method == "HEAD" or (route.path, method) in SKIPPED:
                continue
            if (route.path, method) not in ACTS_WHEN_WELL_FORMED:
                requests.append((method, route.path, _fill(route.path, {})))
            for name, kind in parameters:
                for value in TOO_LARGE if kind == "int" or name in TEXT_IDS else CONTROL:
                    requests.append((method, route.path, _fill(route.path, {name: value})))
    return requests


def _fill(template: str, bad: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2) or "str"
        return quote(bad[name], safe="") if name in bad else GOOD.get(name, GOOD[kind])

    return re.sub(r"{(\w+)(?::(\w+))?}", value, template)


REQUESTS = fuzzed_requests()


@pytest_asyncio.fixture(loop_scope="session")
async def fuzzer(app, database) -> httpx.AsyncClient:
    await create_person(database, FUZZER, home="RXW", roles=ROLES)
    # Its own address: its refused logins must not count against the address the other tests share.
    transport = httpx.ASGITransport(app=app, client=("192.0.2.51", 50001), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await login(client, FUZZER)
        yield client
    await remove_people(database, [FUZZER])


def test_every_route_is_fuzzed():
    paths = {path for _, path, _ in REQUESTS}
    assert paths == {route.path for route in page_routes() if isinstance(route, Route)} - {"/logout"}


async def test_no_route_answers_bad_input_with_a_server_error(fuzzer):
    token = csrf_from((await fuzzer.get("/plans/new")).text)
    failures = []
    for method, _template, path in REQUESTS:
        for fields in _bad_fields():
            if method == "GET":
                response = await fuzzer.get(path, params=fields)
            else:
                response = await fuzzer.post(path, data={**fields, "csrf_token": token})
            if response.status_code >= 500:
                failures.append(f"{method} {path} {sorted(fields)[:2]}: {response.status_code}")
    assert not failures, "\n".join(failures)


async def test_bad_values_are_named_on_the_page(fuzzer):
    too_large = await fuzzer.get("/plans/2147483648")
    assert too_large.status_code == 404 and "larger than any record number" in too_large.text
    assert "nhsuk-header" in too_large.text
    nul = await fuzzer.get("/organisations/%00")
    assert nul.status_code == 400 and "control character" in nul.text
    token = csrf_from((await fuzzer.get("/plans/new")).text)
    form = await fuzzer.post("/organisations/RXW/escalations/1", data={"csrf_token": token, "version": "99999999999", "action": "acknowledge"})
    assert form.status_code in (400, 404), form.status_code


def _bad_fields() -> list[dict[str, str]]:
    """Two requests per route: every number field too large, then every text field with NUL in it."""
    return [
        {name: TOO_LARGE[0] for name in NUMBER_FIELDS},
        {name: f"x{CONTROL[0]}y" for name in TEXT_FIELDS},
    ]
