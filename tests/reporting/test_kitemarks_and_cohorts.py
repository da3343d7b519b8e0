"""Data-quality kitemarks (ULHT PMF 2.5, 10) and patient cohorts (WHSSC appendix 1), stored from the tenant
files and shown: a compact marker with words on the IPR scorecard, the indicator page, the IPR PDF and
the data packs (frozen with them), typed fields in GraphQL, and the IPR, the organisation's indicator
list and the system position filtered by cohort with a plain GET form."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from pydantic import ValidationError

from server.db.session import AccessContext
from server.meetings.pack import build_pack
from server.reporting.data_quality import kitemark_of
from server.reporting.system import DomainOption, SystemPosition, _PositionRow, shape_position
from server.reporting.system import SystemRecord
from server.tenants.spec import TenantFile
from tests.conftest import login
from tests.maturity.test_record import _graphql
from tests.meetings.helpers import create_meeting, rolled_back
from tests.meetings.test_pack import context
from tests.reporting.test_board_paper import pdf_pages

ULHT, WHSSC, LEAD = "ulht.performance@accord.example", "whssc.commissioner@accord.example", "stw.lead@accord.example"
KITEMARKED = ("A&amp;E patients seen within 4 hours", "RTT incomplete pathways within 18 weeks", "Cancer 62-day GP referral to first treatment")


def _row_of(page: str, name: str) -> str:
    """The scorecard's row heading of the indicator (its name, Key tag, kitemark and cohort)."""
    scorecard = page[page.index("accord-scorecard"):]
    return scorecard[scorecard.index(name):].split("</th>", 1)[0]


async def test_the_ipr_marks_each_kitemarked_indicator_in_words_and_leaves_the_others_unmarked(client):
    await login(client, ULHT)
    page = (await client.get("/organisations/RWD")).text
    assert page.count("accord-kitemark") == len(KITEMARKED)
    assert "Data assured" in _row_of(page, KITEMARKED[0])  # overall: assured
    assert "Data partly assured" in _row_of(page, KITEMARKED[1])
    assert "accord-kitemark" not in _row_of(page, "RTT incomplete pathways over 52 weeks")


async def test_the_indicator_page_gives_each_dimension_of_the_kitemark(client):
    await login(client, ULHT)
    page = (await client.get("/organisations/RWD/indicators/AE4H")).text
    assert "Data quality" in page
    assert "Kitemark: data quality assured (timeliness assured, completeness assured, validation assured, audit partly assured)" in page
    assert "Kitemark:" not in (await client.get("/organisations/RWD/indicators/RTT52")).text


async def test_the_ipr_pdf_and_an_issued_data_pack_print_the_marker(client, database, org_ids):
    await login(client, ULHT)
    body = " ".join(" ".join(pdf_pages((await client.get("/organisations/RWD/ipr.pdf")).content)).split())
    assert "Data assured" in body and "Data partly assured" in body
    ulht = org_ids["RWD"]
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        meeting = await create_meeting(session, ulht, "BOARD", dt.date(2031, 5, 6))
        organisation, forum = await context(session, ulht, meeting)
        pack = await build_pack(session, organisation, meeting, forum, now=dt.datetime.now(dt.UTC))
    frozen = {indicator["code"]: (indicator["kitemark"], indicator["cohort"]) for indicator in pack["indicators"]}
    assert frozen["AE4H"] == ("assured", None) and frozen["RTT18"] == ("partial", None) and frozen["RTT52"] == (None, None)


async def test_whssc_indicators_show_their_cohort_and_the_ipr_filters_by_cohort_with_a_get_form(client):
    await login(client, WHSSC)
    page = (await client.get("/organisations/WHSSC")).text
    assert 'id="ipr-cohort"' in page and 'name="cohort"' in page
    for name in ("All patients referred", "Patients undergoing treatment", "Patients referred but not treated",
                 "Patients diverted to alternative treatment"):
        assert f"Cohort: {name}" in page and f">{name}</option>" in page
    every = page.count("accord-cohort")
    diverted = (await client.get("/organisations/WHSSC", params={"cohort": "diverted"})).text
    assert 0 < diverted.count("accord-cohort") < every
    assert diverted.count("Cohort: Patients diverted to alternative treatment") == diverted.count("accord-cohort")
    assert '<option value="diverted" selected>' in diverted
    assert "cohort=diverted" in diverted  # the exports keep the choice
    assert (await client.get("/organisations/WHSSC", params={"cohort": "nobody"})).text.count("accord-cohort") == every
    indicator = re.search(r'/organisations/WHSSC/indicators/([A-Z0-9_-]+)', diverted).group(1)
    detail = (await client.get(f"/organisations/WHSSC/indicators/{indicator}")).text
    assert "Patient cohort" in detail and "Patients diverted to alternative treatment" in detail


INDICATORS = """query($org: String!, $filter: IndicatorFilter) { organisation(code: $org) { indicators(filter: $filter) {
  nodes { code cohort cohortName kitemark { overall timeliness completeness validation audit } } } } }"""


async def test_graphql_gives_the_kitemark_as_enums_and_filters_indicators_by_cohort(database, services):
    found = (await _graphql(database, services, ULHT, INDICATORS, {"org": "RWD", "filter": {"codes": ["AE4H", "RTT52"]}}))
    nodes = {node["code"]: node for node in found["organisation"]["indicators"]["nodes"]}
    assert nodes["AE4H"]["kitemark"] == {"overall": "ASSURED", "timeliness": "ASSURED", "completeness": "ASSURED", "validation": "ASSURED",
                                         "audit": "PARTIAL"}
    assert nodes["RTT52"]["kitemark"] is None and nodes["RTT52"]["cohort"] is None
    every = (await _graphql(database, services, WHSSC, INDICATORS, {"org": "WHSSC", "filter": None}))["organisation"]["indicators"]["nodes"]
    diverted = (await _graphql(database, services, WHSSC, INDICATORS, {"org": "WHSSC", "filter": {"cohort": "diverted"}}))
    nodes = diverted["organisation"]["indicators"]["nodes"]
    assert 0 < len(nodes) < len(every)
    assert {(n["cohort"], n["cohortName"]) for n in nodes} == {("diverted", "Patients diverted to alternative treatment")}
    assert {n["code"] for n in nodes} == {n["code"] for n in every if n["cohort"] == "diverted"}


POSITION = """{ system(code: "STW") { position(cohort: "referred") { cohorts { code } selectedCohort rows { code } } } }"""


async def test_the_system_position_offers_a_cohort_only_where_members_name_one(client, database, services):
    await login(client, LEAD)
    page = (await client.get("/systems/STW")).text
    assert 'name="domain"' in page and 'name="cohort"' not in page  # no STW member groups indicators by cohort
    position = (await _graphql(database, services, LEAD, POSITION, {}))["system"]["position"]
    assert position["cohorts"] == [] and position["selectedCohort"] is None and position["rows"]  # an unknown cohort narrows nothing


def _position_row(org_id: int, code: str, cohort: str | None) -> _PositionRow:
    named = (org_id, f"O{org_id}", f"Org {org_id}", None, None, None, code, code, "count", "lower_is_better", "monthly", True,
             "quantitative", "Quantitative", cohort)
    return _PositionRow(*named, *([None] * (len(_PositionRow._fields) - len(named))))  # the indicator id and latest status: none


def test_a_cohort_narrows_the_system_matrix_to_the_codes_any_member_files_for_it():
    system = SystemRecord(id=1, code="SYS", name="System", organisation_id=1, member_ids=(1, 2))
    rows = [_position_row(1, "REFERRALS", "referred"), _position_row(1, "WAIT", "undergoing_treatment"),
            _position_row(2, "REFERRALS", None), _position_row(2, "PREM", "diverted")]
    names = {"referred": "All patients referred", "undergoing_treatment": "Patients undergoing treatment", "diverted": "Diverted"}
    every = shape_position(system, rows, None, {}, cohort=None, cohort_names=names)
    assert [c.code for c in every.cohorts] == ["referred", "undergoing_treatment", "diverted"] and every.selected_cohort is None
    referred = shape_position(system, rows, None, {}, cohort="referred", cohort_names=names)
    assert referred.selected_cohort == DomainOption("referred", "All patients referred")
    assert [row.code for row in referred.rows] == ["REFERRALS"]
    assert [cell is not None for cell in referred.rows[0].cells] == [True, True]  # the row shows every member reporting the code


def test_an_indicator_must_name_a_declared_cohort_and_a_kitemark_must_rate_overall():
    base = {"organisation": {"code": "NCH", "name": "Northshire", "kind": "trust"}, "domains": [{"code": "q", "name": "Q"}],
            "cohorts": [{"code": "referred", "name": "Referred"}]}
    indicator = {"code": "X", "name": "X", "unit": "count", "polarity": "lower_is_better", "rollup": "sum", "domain": "q", "source": "local"}
    TenantFile.model_validate({**base, "indicators": [{**indicator, "cohort": "referred"}]})
    with pytest.raises(ValidationError, match=r"indicators\[0\]\.cohort: 'waiting' is not a declared cohort"):
        TenantFile.model_validate({**base, "indicators": [{**indicator, "cohort": "waiting"}]})
    with pytest.raises(ValidationError):
        TenantFile.model_validate({**base, "indicators": [{**indicator, "kitemark": {"timeliness": "assured"}}]})
    assert kitemark_of({}) is None and kitemark_of({"overall": "not_assured"}).words == "Data quality not assured"
