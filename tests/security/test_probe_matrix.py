"""The cross-tenant probe matrix: every caller, every GraphQL field and every page route, pointed at
another organisation — zero leaks, zero unauthorised writes.

Generated, not listed: the GraphQL fields come from the schema, the pages from ``page_routes()``,
the callers from the policy and the tenant files (``probe_world``), the values from the registry
(``probe_registry``). A new field, argument, page, path parameter or form field is probed as soon
as it exists — or, if the registry has no foreign value for its name, these tests fail and say
which entry to add.

For each caller the probe logs in once, picks a tenant the caller may not read, and sends every
request with that tenant's code and object ids (and, for nested resources, the caller's own
organisation with the foreign object's id). It then checks that

* no response contains text identifying a tenant the caller may not read (names, titles,
  descriptions and indicator codes no other organisation shares; the probe's own objects carry a
  marker), and no document (PDF) about a foreign organisation is produced at all;
* nothing the target organisation owns changed — every row of every table tied to it, before and
  after, by digest (inserts, updates and deletes alike);
* no request failed with a server error, and the caller was still logged in at the end (so the
  probes were made with its authority, not anonymously).
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from schema.app import schema as strawberry_schema
from server.auth.tokens import issue_token
from server.db.models import AppUser, HealthSystem, Organisation
from server.web.routes import page_routes
from tests.conftest import csrf_from, login
from tests.security.probe_registry import (
    QUERY_PARAMETERS, SESSION_ENDING, Probe, form_entry, graphql_probes, missing_entries, path_parameter_keys, route_probes,
    template_path, template_path_of, PATH_PARAMETERS,
)
from tests.security.probe_world import SYSTEMS, Caller, build_world, callers, fingerprint, tear_down_world

CALLERS = callers()
GRAPHQL_SCHEMA = strawberry_schema._schema
TEXT_TYPES = ("text/", "application/json", "application/graphql-response+json")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(database, services, app):  # type: ignore[no-untyped-def]
    built = await build_world(database, services.authorizer, CALLERS)
    async with _client(app) as http:
        built.boilerplate = (await http.get("/login")).text + (await http.get("/no-such-page")).text
    yield built
    await tear_down_world(database, built, CALLERS)


def test_every_parameter_and_argument_has_a_registry_entry():
    assert missing_entries(page_routes(), GRAPHQL_SCHEMA) == [], "add a foreign value for each to tests/security/probe_registry.py"


async def test_every_form_field_on_every_page_has_a_registry_entry(app, world):
    """Forms are read off the pages as the most privileged callers see their own organisation: a
    system's (every system and organisation role) and two trusts' (every organisation role)."""
    missing: set[str] = set()
    readers = [c for c in CALLERS if c.name.startswith("every-role@") and (c.home in SYSTEMS.values() or c.home in ("RXW", "RWD"))]
    assert len(readers) >= 2
    for caller in readers:
        async with _client(app) as http:
            await login(http, caller.email)
            own = world.orgs[caller.home]
            for route in page_routes():
                if "GET" not in route.methods or route.path == "/login" or route.path.endswith((".pdf", ".csv")):
                    continue
                values = {name: PATH_PARAMETERS[key].value(own) for name, key in path_parameter_keys(route)}
                response = await http.get(template_path(route).format(**values))
                if not response.headers.get("content-type", "").startswith("text/html"):
                    continue
                for method, name in _form_fields(response.text):
                    known = name in QUERY_PARAMETERS if method == "get" else form_entry(name) is not None
                    if not known:
                        missing.add(f"{'QUERY_PARAMETERS' if method == 'get' else 'FORM_FIELDS'}[{name!r}] (form on {route.path})")
    assert not missing, "add a foreign value for each to tests/security/probe_registry.py:\n" + "\n".join(sorted(missing))


@pytest.mark.parametrize("caller", CALLERS, ids=[caller.name for caller in CALLERS])
async def test_no_caller_reads_or_changes_another_organisations_data(app, database, world, caller):
    assert missing_entries(page_routes(), GRAPHQL_SCHEMA) == []
    target = world.target_for(caller, CALLERS.index(caller))
    # "My organisation, your object" variants for the callers with the most authority at home;
    # a single role can reach nothing at home that every role together cannot.
    own = world.orgs.get(caller.home) if caller.home and len(caller.roles) > 1 or caller.kind == "token" else None
    leaks = frozenset(s for s in world.leak_strings(caller) if s not in world.boilerplate)
    assert target.leak_strings & leaks, f"nothing identifies {target.code}: the leak check would be vacuous"
    problems: list[str] = []
    async with _client(app, CALLERS.index(caller)) as http:
        authority = await _authenticate(http, database, caller)
        before = await fingerprint(database, world, target.id)
        probes = route_probes(page_routes(), target, own) + graphql_probes(GRAPHQL_SCHEMA, target, own)
        probes.sort(key=lambda p: (p.method, template_path_of(p)) in SESSION_ENDING)
        for probe in probes:
            if (probe.method, template_path_of(probe)) in SESSION_ENDING and caller.kind == "session":
                still = await http.get("/", headers=authority.headers)
                if still.status_code != 200:
                    problems.append(f"{caller.name} was logged out before the session-ending probes: the probes did not carry its authority")
            response = await _send(http, probe, authority)
            problems.extend(_check(probe, response, leaks))
        after = await fingerprint(database, world, target.id)
    changed = sorted(table for table in before if before[table] != after.get(table))
    problems.extend(f"{target.code}'s {table} rows changed" for table in changed)
    assert not problems, f"{caller.name} probing {target.code} ({len(probes)} requests):\n" + "\n".join(problems)


class _Authority:
    def __init__(self, headers: dict[str, str], csrf_token: str | None):
        self.headers = headers
        self.csrf_token = csrf_token


async def _authenticate(http: httpx.AsyncClient, database, caller: Caller) -> _Authority:  # type: ignore[no-untyped-def]
    if caller.kind == "session":
        response = await login(http, caller.email)
        assert response.status_code == 303, f"{caller.name} could not log in"
        return _Authority({}, csrf_from((await http.get("/")).text))
    if caller.kind == "token":
        kind, _, code = caller.token_domain.partition(":")
        async with database.session() as session:
            user_id = (await session.exec(select(AppUser.id).where(AppUser.email == caller.email))).scalar_one()
            if kind == "org":
                scope = {"org_id": (await session.exec(select(Organisation.id).where(Organisation.code == code))).scalar_one()}
            else:
                scope = {"system_id": (await session.exec(select(HealthSystem.id).where(HealthSystem.code == code))).scalar_one()}
            issued = await issue_token(session, name="probe", user_id=user_id, roles=[r for r, d in caller.roles if d == caller.token_domain], **scope)
        return _Authority({"Authorization": f"Bearer {issued.secret}"}, None)
    return _Authority({}, None)


async def _send(http: httpx.AsyncClient, probe: Probe, authority: _Authority) -> httpx.Response:
    headers = dict(authority.headers)
    if probe.graphql is not None:
        if authority.csrf_token:
            headers["X-CSRF-Token"] = authority.csrf_token
        return await http.post("/graphql", json={"query": probe.graphql}, headers=headers)
    form = dict(probe.form) if probe.form is not None else None
    if form is not None and authority.csrf_token:
        form["csrf_token"] = authority.csrf_token
    return await http.request(probe.method, probe.path, params=probe.query, data=form, headers=headers)


def _check(probe: Probe, response: httpx.Response, leaks: frozenset[str]) -> list[str]:
    found = []
    if response.status_code >= 500:
        found.append(f"{probe.label}: server error {response.status_code}")
    content_type = response.headers.get("content-type", "")
    if content_type.startswith(TEXT_TYPES) or not response.content:
        body = response.text
        found.extend(f"{probe.label} -> {response.status_code}: leaked {text!r}" for text in sorted(leaks - probe.sent) if text in body)
    elif probe.all_foreign and response.status_code < 300:
        found.append(f"{probe.label}: produced a {content_type} document about another organisation")
    return found


def _client(app, caller_index: int = 0) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    """Each caller from an address of its own: the probes' refused sign-ins count against the
    per-address login throttle, and the callers together would exhaust one address's allowance."""
    transport = httpx.ASGITransport(app=app, client=(f"127.0.{caller_index // 250}.{caller_index % 250 + 2}", 50002))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.method: str | None = None
        self.fields: set[tuple[str, str]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.method = (attributes.get("method") or "get").lower()
        elif tag in ("input", "select", "textarea", "button") and self.method and attributes.get("name"):
            self.fields.add((self.method, str(attributes["name"])))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.method = None


def _form_fields(html: str) -> set[tuple[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return parser.fields


def test_the_callers_cover_every_role_in_the_policy_in_every_tenant():
    from tests.security.probe_world import POLICY_ROLES, SYSTEMS, TENANTS

    held = {(role, domain) for caller in CALLERS for role, domain in caller.roles}
    for role, scope in POLICY_ROLES.items():
        domains = [f"org:{code}" for code in TENANTS] if scope == "org" else [f"system:{system}" for system in SYSTEMS]
        assert all((role, domain) in held for domain in domains), role
    assert {"anonymous", "token"} <= {caller.kind for caller in CALLERS}
    assert len({caller.name for caller in CALLERS}) == len(CALLERS)
    assert re.fullmatch(r"[a-z0-9.]+@probe\.example", CALLERS[-1].email)
