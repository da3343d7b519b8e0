"""Creating a programme (Sheffield 3.1): the PMO opens the record on a form or with ``createProgramme``,
one service behind both; the Senior Responsible Owner is chosen from the organisation's people who may
be one (the policy's ``programme sponsor``: its executives), never typed; the QIPP target becomes the
monthly plan; refusals sit beside the field (or name the argument); audited."""
from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import select, text

from server.db.models import AppUser
from server.db.session import AccessContext
from server.programmes.facts import add_months, financial_year_start, month_start
from tests.conftest import login
from tests.graphql.test_tool_questions import counted_statements
from tests.maturity.test_record import _graphql
from tests.programmes.helpers import CONTRACTS, LEAD, PMO, retire
from tests.web.test_plan_pages import fresh_client, post_form

DIRECTOR = "sheffield.director@accord.example"  # Tom Hale, an executive of the CCG
CREATE = """mutation($org: String!, $code: String!, $sro: Int!, $target: Float!, $starts: Date!) {
  createProgramme(organisationCode: $org, programmeCode: $code, name: "Community services programme", sroUserId: $sro,
                  startsOn: $starts, qippTarget: $target) {
    __typename ... on ProgrammeRecorded { message programme { code sro sroUserId status qipp { month planned } } }
    ... on ProgrammeRefused { reason message argument } } }"""
SPONSORS = "query($org: String!) { organisation(code: $org) { programmeSponsors { userId name } } }"


async def _user_id(database, email: str) -> int:  # type: ignore[no-untyped-def]
    async with database.session() as session:
        return (await session.exec(select(AppUser.id).where(AppUser.email == email))).scalar_one()


def _code() -> str:
    return f"NEW-{uuid.uuid4().hex[:6].upper()}"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_pmo_creates_a_programme_on_the_form_with_errors_beside_each_field(app, database, org_ids):
    director, pmo_id = await _user_id(database, DIRECTOR), await _user_id(database, PMO)
    code, start = _code(), month_start(dt.date.today())
    async with await fresh_client(app) as client:
        await login(client, PMO)
        listing = await client.get("/organisations/03N/programmes")
        assert 'href="/organisations/03N/programmes/new"' in listing.text
        form = await client.get("/organisations/03N/programmes/new")
        assert form.status_code == 200
        sro_select = re.search(r'<select[^>]*id="programme-sro".*?</select>', form.text, re.S).group(0)
        assert f'value="{director}"' in sro_select and "Tom Hale" in sro_select  # an executive may be the SRO
        assert f'value="{pmo_id}"' not in sro_select  # the PMO keeps records; it is no SRO
        empty = await post_form(client, "/organisations/03N/programmes", form.text, {"name": "", "code": "", "sro": "", "starts_on": "", "qipp_target": ""})
        assert empty.status_code == 400 and "There is a problem" in empty.text and 'href="#programme-name"' in empty.text
        assert "Enter the programme&#39;s name" in empty.text or "Enter the programme's name" in empty.text
        filled = {"name": "Community services programme", "code": code, "sro": str(director), "starts_on": start.isoformat(), "qipp_target": "120,000"}
        typed_sro = await post_form(client, "/organisations/03N/programmes", form.text, {**filled, "sro": "Chief Nurse"})
        assert typed_sro.status_code == 400 and 'href="#programme-sro"' in typed_sro.text
        assert 'value="Community services programme"' in typed_sro.text  # what was typed stays
        not_entitled = await post_form(client, "/organisations/03N/programmes", form.text, {**filled, "sro": str(pmo_id)})
        assert not_entitled.status_code == 400 and 'href="#programme-sro"' in not_entitled.text
        taken = await post_form(client, "/organisations/03N/programmes", form.text, {**filled, "code": "UEC"})
        assert taken.status_code == 400 and 'href="#programme-code"' in taken.text and "already has a programme with the code UEC" in taken.text
        no_target = await post_form(client, "/organisations/03N/programmes", form.text, {**filled, "qipp_target": "lots"})
        assert no_target.status_code == 400 and 'href="#programme-qipp"' in no_target.text
        created = await post_form(client, "/organisations/03N/programmes", form.text, filled)
        assert created.status_code == 303 and created.headers["location"].startswith(f"/organisations/03N/programmes/{code}")
        page = _text((await client.get(created.headers["location"])).text)
    try:
        assert "Community services programme created, Tom Hale its Senior Responsible Owner" in page
        months = 12 - (start.month - financial_year_start(start).month) % 12
        async with database.session(AccessContext.for_orgs([org_ids["03N"]])) as session:
            plan = (await session.exec(text(
                "select b.month, b.planned from programme_benefit b join programme p on p.org_id = b.org_id and p.id = b.programme_id"
                " where p.code = :code order by b.month"), params={"code": code})).all()
            stored = (await session.exec(text("select sro_user_id, sro_name, starts_on from programme where code = :code"), params={"code": code})).one()
            audit = (await session.exec(text(
                "select actor_role, after ->> 'sro', after ->> 'qipp_target' from audit_event where org_id = :org and action = 'programme.created'"
                " and after ->> 'programme' = :code"), params={"org": org_ids["03N"], "code": code})).one()
        assert tuple(stored) == (director, "Tom Hale", start)
        assert len(plan) == months and plan[0][0] == start and plan[-1][0] == add_months(financial_year_start(start), 11)
        assert sum(float(amount) for _, amount in plan) == 120000.0  # the target, to the penny, across the months left in the year
        assert tuple(audit) == ("programme_office", "Tom Hale", "120000.00")
    finally:
        await retire(database, org_ids["03N"], code)


async def test_the_pmo_chooses_the_sro_from_the_list_when_editing(app, database, org_ids):
    director = await _user_id(database, DIRECTOR)
    code = _code()
    async with database.session(AccessContext.for_orgs([org_ids["03N"]], write=True)) as session:
        await session.exec(text("insert into programme (org_id, code, name, sro_name) values (:org, :code, 'Filed programme', 'Director of Delivery')"),
                           params={"org": org_ids["03N"], "code": code})
    try:
        async with await fresh_client(app) as client:
            await login(client, PMO)
            page = await client.get(f"/organisations/03N/programmes/{code}")
            assert "Director of Delivery (as recorded: choose the person)" in page.text  # the file's post, until a person is chosen
            kept = await post_form(client, f"/organisations/03N/programmes/{code}", page.text,
                                   {"version": "1", "name": "Filed programme", "sro": "", "status": "active", "starts_on": "", "ends_on": ""})
            assert kept.status_code == 303
            page = await client.get(f"/organisations/03N/programmes/{code}")
            chosen = await post_form(client, f"/organisations/03N/programmes/{code}", page.text,
                                     {"version": "2", "name": "Filed programme", "sro": str(director), "status": "active", "starts_on": "", "ends_on": ""})
            assert chosen.status_code == 303
            after = _text((await client.get(chosen.headers["location"])).text)
        assert "Senior Responsible Owner Tom Hale" in after
        async with database.session(AccessContext.for_orgs([org_ids["03N"]])) as session:
            assert (await session.exec(text("select sro_user_id from programme where code = :code"), params={"code": code})).scalar_one() == director
    finally:
        await retire(database, org_ids["03N"], code)


async def test_only_the_pmo_may_create_and_other_organisations_see_nothing(app):
    async with await fresh_client(app) as reader:
        await login(reader, CONTRACTS)
        assert 'programmes/new"' not in (await reader.get("/organisations/03N/programmes")).text
        form = await reader.get("/organisations/03N/programmes/new")
        assert form.status_code == 403 and "Your role does not allow you to create a programme" in form.text and "<form method=\"post\" action=\"/organisations/03N/programmes\"" not in form.text
        refused = await post_form(reader, "/organisations/03N/programmes", form.text,
                                  {"name": "x", "code": _code(), "sro": "1", "starts_on": "2026-12-01", "qipp_target": "0"})
        assert refused.status_code == 403
    async with await fresh_client(app) as outsider:
        await login(outsider, "ulht.performance@accord.example")
        assert (await outsider.get("/organisations/03N/programmes/new")).status_code == 404


async def test_tools_create_a_programme_with_typed_refusals(database, services, org_ids):
    director, lead_id = await _user_id(database, DIRECTOR), await _user_id(database, LEAD)
    sponsors = (await _graphql(database, services, PMO, SPONSORS, {"org": "03N"}))["organisation"]["programmeSponsors"]
    assert {"userId": director, "name": "Tom Hale"} in sponsors and lead_id not in {s["userId"] for s in sponsors}
    code, starts = _code(), month_start(dt.date.today()).isoformat()
    given = {"org": "03N", "code": code, "sro": director, "target": 60000.0, "starts": starts}
    refusals = {
        "not_allowed": (LEAD, given),
        "sroUserId": (PMO, {**given, "sro": lead_id}),
        "programmeCode": (PMO, {**given, "code": "UEC"}),
        "qippTarget": (PMO, {**given, "target": -5.0}),
        "organisationCode": (PMO, {**given, "org": "RWD"}),
    }
    for expected, (who, variables) in refusals.items():
        refused = (await _graphql(database, services, who, CREATE, variables))["createProgramme"]
        assert refused["__typename"] == "ProgrammeRefused" and expected in (refused["reason"], refused["argument"]), (expected, refused)
    try:
        created = (await _graphql(database, services, PMO, CREATE, given))["createProgramme"]
        assert created["__typename"] == "ProgrammeRecorded", created
        programme = created["programme"]
        assert (programme["code"], programme["sro"], programme["sroUserId"], programme["status"]) == (code, "Tom Hale", director, "active")
        assert sum(month["planned"] for month in programme["qipp"]) == 60000.0
    finally:
        await retire(database, org_ids["03N"], code)


async def test_sponsors_of_many_organisations_are_read_in_one_statement(database, services):
    query = "{ organisations { nodes { code programmeSponsors { userId } } } }"
    with counted_statements(database) as sent:
        data = await _graphql(database, services, "stw.lead@accord.example", query, {})
    assert len(data["organisations"]["nodes"]) > 1
    assert len([s for s in sent if "role_assignment" in s and "app_user" in s]) <= 1
    # A reader of organisations outside its own sees nobody's people (identity rows have no row-level security).
    outside = await _graphql(database, services, CONTRACTS, SPONSORS, {"org": "RHQ"})
    assert outside["organisation"] is None or outside["organisation"]["programmeSponsors"] == []


EDIT = """mutation($org: String!, $code: String!, $sro: Int, $version: Int) {
  editProgramme(organisationCode: $org, programmeCode: $code, name: "Filed programme", status: "active", sroUserId: $sro, version: $version) {
    __typename ... on ProgrammeRecorded { programme { sro sroUserId } } ... on ProgrammeRefused { reason argument } } }"""


async def test_tools_choose_the_sro_with_edit_programme(database, services, org_ids):
    director, lead_id = await _user_id(database, DIRECTOR), await _user_id(database, LEAD)
    code = _code()
    async with database.session(AccessContext.for_orgs([org_ids["03N"]], write=True)) as session:
        await session.exec(text("insert into programme (org_id, code, name, sro_name) values (:org, :code, 'Filed programme', 'Director of Delivery')"),
                           params={"org": org_ids["03N"], "code": code})
    try:
        edit = lambda who, **given: _graphql(database, services, who, EDIT, {"org": "03N", "code": code, "sro": None, "version": None, **given})  # noqa: E731
        assert (await edit(PMO, sro=lead_id))["editProgramme"] == {"__typename": "ProgrammeRefused", "reason": "invalid", "argument": "sroUserId"}
        assert (await edit(LEAD, sro=director))["editProgramme"]["reason"] == "not_allowed"
        chosen = (await edit(PMO, sro=director, version=1))["editProgramme"]
        assert chosen == {"__typename": "ProgrammeRecorded", "programme": {"sro": "Tom Hale", "sroUserId": director}}
        assert (await edit(PMO, version=1))["editProgramme"]["reason"] == "stale"  # version 2 now
        kept = (await edit(PMO))["editProgramme"]  # no sroUserId: the SRO stays
        assert kept["programme"] == {"sro": "Tom Hale", "sroUserId": director}
    finally:
        await retire(database, org_ids["03N"], code)
