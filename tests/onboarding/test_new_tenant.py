"""A new organisation, in no seed, is onboarded by one tenant file and commands, and its ladder runs.

Fenland Community Dental CIC (tests/onboarding/fixtures/fenland-dental.yaml) is a community interest
company outside any system, reporting quarterly, escalating per scorecard domain with declared
de-escalation and a Board judgement step. In a database of its own: the file is loaded with
``accord load-tenants``, its first administrator given the role, its performance lead's token
issued with ``accord issue-token``; then quarter by quarter its data go in through GraphQL
(``importMeasurements``) and its domains' levels are read back through GraphQL (``escalations``),
with the Board's judgement recorded through ``recordJudgement``. No Python in server/ knows FCD.
"""
from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from server.db.session import Database
from tests.conftest import database_urls_for

FIXTURE = Path(__file__).parent / "fixtures" / "fenland-dental.yaml"
ORG = "FCD"
ADMIN = "admin@fenland-dental.example"
LEAD = "performance@fenland-dental.example"
CLINICS = ("FCD-WIS", "FCD-MAR")
DENOMINATOR = 200

# Quarter by quarter, the organisation-level values (each clinic reports the same): urgent patients
# seen in 24 hours (target 95%), routine within 18 weeks (92%), incidents with harm per clinic
# (organisation target 4 in all), would recommend (90%), staff turnover (at most 5%).
ON_TARGET = {"URGENT24": 0.96, "ROUTINE18": 0.93, "INCIDENTS": 1, "RECOMMEND": 0.93, "TURNOVER": 0.04}
QUARTERS = [
    # quarter       values that differ from ON_TARGET        open escalations afterwards: domain -> (level, level code, forum)
    ("2024-01-01", {"URGENT24": 0.97, "ROUTINE18": 0.94},    {}),
    # Access misses once (2% short): an exception. Quality's incidents are 50% over target: straight to recovery.
    ("2024-04-01", {"URGENT24": 0.93, "INCIDENTS": 3},       {"access": (1, "exception", "OPS"), "quality": (2, "recovery", "QPC")}),
    # Access misses a second quarter: recovery. Quality is back on target but holds its level (1 of 2 quarters).
    ("2024-07-01", {"URGENT24": 0.90},                        {"access": (2, "recovery", "QPC"), "quality": (2, "recovery", "QPC")}),
    # -- here the Board records that it is not assured by access's recovery: access goes to the Board (below).
    ("2024-10-01", {},                                        {"access": (3, "board", "BOARD"), "quality": (1, "exception", "OPS")}),
    ("2025-01-01", {},                                        {"access": (2, "recovery", "QPC"), "quality": (1, "exception", "OPS")}),
    ("2025-04-01", {},                                        {"access": (2, "recovery", "QPC")}),
    ("2025-07-01", {},                                        {"access": (1, "exception", "OPS")}),
    ("2025-10-01", {},                                        {"access": (1, "exception", "OPS")}),
    ("2026-01-01", {},                                        {}),
]
JUDGED_AFTER = "2024-07-01"

ESCALATIONS = """query($orgs: [String!]) { escalations(organisationCodes: $orgs) { nodes {
  subjectType subjectKey level levelName forumCode status requires explanation history { event fromLevel toLevel } } } }"""
IMPORT = """mutation($org: String!, $file: String!) { importMeasurements(organisationCode: $org, file: $file, filename: "fenland.csv") {
  __typename ... on ImportSucceeded { stored } ... on ImportRejected { message errors { row column message } } } }"""
JUDGE = """mutation($org: String!, $subject: String!) { recordJudgement(organisationCode: $org, kind: "board_assured", subject: $subject,
  value: "no", reason: "Recovery trajectory for urgent access not credible") {
  __typename ... on JudgementRecorded { escalationsChanged judgement { kind subject value recordedRole } }
  ... on JudgementRefusedResult { reason message argument } } }"""


def accord(database: Database, tenants_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run the ``accord`` command against the test database, as an operator would on the server."""
    urls = database.urls
    environment = {**os.environ, "ACCORD_DATABASE_URL": urls.owner, "ACCORD_TENANTS_DIR": str(tenants_dir), "ACCORD_ENVIRONMENT": "test"}
    if not urls.assume_app_role:
        environment["ACCORD_APP_DATABASE_URL"] = urls.app
    command = shutil.which("accord", path=str(Path(sys.executable).parent)) or "accord"
    done = subprocess.run([command, *arguments], capture_output=True, text=True, env=environment, timeout=180)
    assert done.returncode == 0, f"accord {' '.join(arguments)} failed: {done.stderr}"
    return done


async def first_administrator_and_lead(database: Database, tenants_dir: Path, authorizer) -> None:  # type: ignore[no-untyped-def]
    """``accord create-admin`` makes the first administrator (an invitation link, printed once); that
    administrator invites the performance lead with their roles through the same service as the admin page."""
    from server.admin.accounts import Invited, invite
    from server.admin.authority import Actor
    from server.db.models import AppUser, Organisation
    from server.db.session import AccessContext

    link = accord(database, tenants_dir, "create-admin", "--org", ORG, "--email", ADMIN, "--name", "Fenland administrator").stdout.strip()
    assert "/invitations/" in link
    async with database.session() as session:
        org_id = (await session.exec(select(Organisation.id).where(Organisation.code == ORG))).scalar_one()
        admin_id = (await session.exec(select(AppUser.id).where(AppUser.email == ADMIN))).scalar_one()
    # The administrator, in their own name (their page's transaction reads the organisation as them).
    admin = Actor(user_id=admin_id, role="tenant_admin", domain=f"org:{ORG}")
    async with database.session(AccessContext.for_orgs([org_id], user_id=admin_id)) as session:
        for role in ("performance_manager", "board_member"):
            invited = await invite(session, authorizer, admin, email=LEAD, name="Fenland performance lead", role=role,
                                   domain=f"org:{ORG}", home_org_code=ORG)
            assert isinstance(invited, Invited), invited


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def onboarded(postgres_server, test_settings, tmp_path_factory) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A fresh database with only the new tenant, its people, and a client holding the lead's token."""
    from server.app import build_services, create_app
    from server.db import migrate

    await _drop_database(postgres_server, "accord_onboarding")  # a new deployment each run, whatever a previous run left
    database = Database(database_urls_for(postgres_server, "accord_onboarding"), pool_size=3)
    await migrate.upgrade(database.owner_engine)
    tenants = tmp_path_factory.mktemp("new-tenant")
    shutil.copy(FIXTURE, tenants / FIXTURE.name)  # one file: the whole framework
    accord(database, tenants, "load-tenants")
    services = build_services(test_settings, database)
    await first_administrator_and_lead(database, tenants, services.authorizer)
    token = accord(database, tenants, "issue-token", "--email", LEAD, "--org", ORG, "--roles", "performance_manager,board_member",
                   "--name", "Fenland quarterly returns").stdout.strip()
    transport = httpx.ASGITransport(app=create_app(services=services), client=("127.0.0.1", 50100))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers={"Authorization": f"Bearer {token}"}) as client:
        yield client, token
    await database.dispose()


async def _drop_database(postgres_server, name: str) -> None:  # type: ignore[no-untyped-def]
    kind, server = postgres_server
    if kind == "embedded":
        server.drop_database(name)
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    connection = await asyncpg.connect(make_url(str(server)).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await connection.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await connection.close()


async def ask(client: httpx.AsyncClient, query: str, variables: dict) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def quarter_file(period: str, values: dict[str, float]) -> str:
    """The tenant's import template for one quarter, filled in for both clinics, as base64."""
    lines = ["Indicator code,Unit code,Period,Value,Numerator,Denominator"]
    for code, value in {**ON_TARGET, **values}.items():
        for clinic in CLINICS:
            if code == "INCIDENTS":
                lines.append(f"{code},{clinic},{period},{value},,")
            else:
                lines.append(f"{code},{clinic},{period},,{round(value * DENOMINATOR)},{DENOMINATOR}")
    return base64.b64encode("\n".join(lines).encode()).decode()


async def open_levels(client: httpx.AsyncClient) -> dict[str, tuple[int, str, str]]:
    nodes = (await ask(client, ESCALATIONS, {"orgs": [ORG]}))["escalations"]["nodes"]
    assert all(node["subjectType"] == "domain" for node in nodes)
    return {node["subjectKey"].removeprefix("domain:"): (node["level"], _level_code(node), node["forumCode"])
            for node in nodes if node["status"] != "CLOSED"}


def _level_code(node: dict) -> str:
    return {"On track": "on-track", "Exception noted at the clinical operations meeting": "exception",
            "Recovery plan overseen by the Quality and Performance Committee": "recovery",
            "Board oversight — the Board is not assured by the recovery": "board"}[node["levelName"]]


async def test_a_new_quarterly_tenant_escalates_and_de_escalates_its_domains_quarter_by_quarter(onboarded) -> None:
    client, _ = onboarded
    seen = []
    for period, values, expected in QUARTERS:
        imported = (await ask(client, IMPORT, {"org": ORG, "file": quarter_file(period, values)}))["importMeasurements"]
        assert imported["__typename"] == "ImportSucceeded" and imported["stored"] == 10, imported
        if period == "2024-10-01":
            held = next(n for n in (await ask(client, ESCALATIONS, {"orgs": [ORG]}))["escalations"]["nodes"]
                        if n["subjectKey"] == "domain:access")
            assert "held at level 3 although the level rules give level 0: 1 of 2 periods on target" in held["explanation"]["text"]
        seen.append((period, await open_levels(client)))
        if period == "2024-04-01":  # the explanation names what missed, and by how much
            nodes = (await ask(client, ESCALATIONS, {"orgs": [ORG]}))["escalations"]["nodes"]
            quality = next(n for n in nodes if n["subjectKey"] == "domain:quality")["explanation"]
            assert quality["evidence"]["missed"] == ["INCIDENTS"] and quality["facts"]["target_shortfall_percent"] == 0.5
            assert "target_shortfall_percent > 0.15 (is 0.5): held" in quality["text"]
        if period == JUDGED_AFTER:
            judged = (await ask(client, JUDGE, {"org": ORG, "subject": "domain:access"}))["recordJudgement"]
            assert judged["__typename"] == "JudgementRecorded", judged
            assert (judged["escalationsChanged"], judged["judgement"]["value"], judged["judgement"]["recordedRole"]) == (1, "no", "board_member")
            board = (await open_levels(client))["access"]
            assert board == (3, "board", "BOARD")
    assert seen == [(period, expected) for period, _, expected in QUARTERS]


async def test_the_new_tenants_escalations_explain_the_rule_the_facts_and_the_parameters(onboarded) -> None:
    client, _ = onboarded
    nodes = (await ask(client, ESCALATIONS, {"orgs": [ORG]}))["escalations"]["nodes"]
    access = next(n for n in nodes if n["subjectKey"] == "domain:access")
    quality = next(n for n in nodes if n["subjectKey"] == "domain:quality")
    assert [(e["event"], e["toLevel"]) for e in access["history"]] == [
        ("opened", 1), ("escalated", 2), ("escalated", 3), ("de_escalated", 2), ("de_escalated", 1), ("closed", 1)]
    assert [(e["event"], e["toLevel"]) for e in quality["history"]] == [("opened", 2), ("de_escalated", 1), ("closed", 1)]
    assert access["status"] == quality["status"] == "CLOSED"
    explanation = access["explanation"]
    assert explanation["facts"]["reporting_frequency"] == "quarterly"
    assert explanation["parameters"]["de_escalation.after_periods_on_target"] == 2
    assert "De-escalation: stepped down from level 1 to level 0 (step 1) after 2 of 2 periods on target" in explanation["text"]
