"""The IPR as a board paper: ratings told as sentences, the summary matrix, and a PDF whose every
page is rendered to an image and checked for content, OFFICIAL marking and page numbers."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pypdfium2
import pytest

from sqlalchemy import text

from server.db.models import Forum, Organisation
from server.db.session import AccessContext
from server.meetings.minutes import Actor
from server.meetings.pack import PackIssued, issue_pack
from server.reporting.board import change_sentence, rating_sentence
from server.reporting.export import pack_csv
from server.reporting.pack_paper import pack_paper
from server.reporting.indicator import SeriesPoint
from server.reporting.scorecard import IndicatorRef, ScorecardRow
from server.reporting.status import IndicatorStatus
from server.reporting.summary import statuses, summary_matrix
from server.web.templating import format_number
from tests.conftest import login
from tests.meetings.helpers import create_meeting
from tests.graphql.test_tool_questions import counted_statements

ULHT = "ulht.performance@accord.example"
RTT = IndicatorRef(1, "RTT18", "RTT within 18 weeks", "percent", "higher_is_better", "monthly", True, "Chief Operating Officer")


def percent(value: float | None) -> str:
    return format_number(value, "percent")


def status(value: float, target: float | None, rag: str, under: int, *, period=dt.date(2026, 11, 1), variation="common_cause",
           assurance="hit_and_miss") -> IndicatorStatus:
    return IndicatorStatus(period, value, target, None, rag, variation, None, assurance, under, False, False)


def points(*values: float, last=dt.date(2026, 11, 1), target=0.92) -> list[SeriesPoint]:
    months = [last.year * 12 + last.month - 1 - back for back in reversed(range(len(values)))]
    periods = [dt.date(month // 12, month % 12 + 1, 1) for month in months]
    return [SeriesPoint(index=i, period=p, label=p.strftime("%b %Y"), value=v, target=target, trajectory=None, rag="red", masked_failure=False)
            for i, (p, v) in enumerate(zip(periods, values, strict=True))]


def test_two_months_under_target_name_both_values_and_months():
    row = ScorecardRow(RTT, status(0.874, 0.92, "red", 2), ())
    assert rating_sentence(row, points(0.93, 0.881, 0.874), percent) == "Two months below the 92.0% target (88.1% in October, 87.4% in November)."


def test_a_long_run_names_its_length_and_the_last_three_values_across_a_year_end():
    row = ScorecardRow(RTT, status(0.81, 0.92, "red", 15, period=dt.date(2027, 1, 1)), ())
    sentence = rating_sentence(row, points(0.82, 0.83, 0.80, 0.81, last=dt.date(2027, 1, 1)), percent)
    assert sentence == "15 months below the 92.0% target; the last three: 83.0% in November 2026, 80.0% in December 2026, 81.0% in January."


def test_lower_is_better_is_above_the_target_and_meeting_it_says_so():
    waits = IndicatorRef(2, "RTT52", "Over 52 weeks", "count", "lower_is_better", "monthly", False, None)
    row = ScorecardRow(waits, status(45, 0, "red", 1), ())
    assert rating_sentence(row, points(0, 45, target=0), lambda v: format_number(v, "count")) == "One month above the 0 target (45 in November)."
    met = ScorecardRow(RTT, status(0.95, 0.92, "green", 0), ())
    assert rating_sentence(met, points(0.95), percent) == "Meets the 92.0% target: 95.0% in November."
    untargeted = ScorecardRow(RTT, status(0.95, None, "none", 0), ())
    assert rating_sentence(untargeted, points(0.95), percent) == "No target is set; 95.0% in November."


def test_change_from_the_previous_period_is_in_percentage_points_and_says_better_or_worse():
    row = ScorecardRow(RTT, status(0.874, 0.92, "red", 2), ())
    assert change_sentence(row, points(0.881, 0.874), percent) == "Down 0.7 percentage points from 88.1% in October (worse)."
    assert change_sentence(row, points(0.874), percent) == ""
    assert change_sentence(row, points(0.874, 0.874), percent) == "Unchanged from October."


def test_summary_matrix_counts_and_names_each_indicator_once():
    matrix = summary_matrix(statuses([
        ("A&E", None, status(0.7, 0.95, "red", 3, variation="special_cause_concerning", assurance="consistently_fail")),
        ("Cancer", None, status(0.9, 0.85, "green", 0, variation="special_cause_improving", assurance="consistently_pass")),
        ("RTT", None, status(0.8, 0.92, "red", 5, variation="special_cause_concerning", assurance="consistently_fail")),
        ("Not yet", None, None),
    ]))
    assert matrix.total == 3
    cells = {(c.variation, c.assurance): [e.name for e in c.entries] for r in matrix.rows for c in r.cells if c.count}
    assert cells == {("special_cause_concerning", "consistently_fail"): ["A&E", "RTT"], ("special_cause_improving", "consistently_pass"): ["Cancer"]}
    assert [code for code, _ in matrix.columns] == ["consistently_pass", "hit_and_miss", "consistently_fail"]
    assert matrix.column_count("consistently_fail") == 2


def _page_is_blank(page: pypdfium2.PdfPage) -> bool:
    image = page.render(scale=0.5).to_pil().convert("L")
    inked = sum(image.histogram()[:200])  # pixels darker than a pale tint
    return inked < image.width * image.height * 0.005


@pytest.mark.parametrize("path", ["/organisations/RWD/ipr.pdf", "/organisations/RWD/ipr.pdf?unit=RWD-MED"])
async def test_ipr_pdf_has_a_summary_cover_and_no_blank_page(client, database, path):
    await login(client, ULHT)
    with counted_statements(database) as statements:
        response = await client.get(path)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    # The board paper reads its charts' series in one statement, whatever the number of indicators.
    assert sum("p.spc_points" in s for s in statements) == 1
    document = pypdfium2.PdfDocument(response.content)
    try:
        check_board_paper(document)
    finally:
        document.close()
    save_pages(response.content, "ipr-pdf" if "unit=" not in path else "ipr-pdf-medicine")


def check_board_paper(document: pypdfium2.PdfDocument) -> None:
    texts = check_every_page(document)
    assert len(texts) >= 3
    assert "Summary: indicators by variation and assurance" in texts[0]
    assert "Consistently failing" in texts[0]
    body = "\n".join(texts)
    assert "Previous" in body and "Latest" in body


def check_every_page(document: pypdfium2.PdfDocument) -> list[str]:
    """Each page: not blank, marked OFFICIAL, numbered; the words are sentences, never the rule trace."""
    pages = len(document)
    texts = [document[i].get_textpage().get_text_range() for i in range(pages)]
    for number, text in enumerate(texts, start=1):
        page = document[number - 1]
        assert not _page_is_blank(page), f"page {number} of {pages} is blank"
        page.close()
        assert text.count("OFFICIAL") >= 1, f"page {number} has no OFFICIAL marking"
        assert f"Page {number} of {pages}" in text
    body = "\n".join(texts)
    assert "below the" in body or "above the" in body  # ratings told as sentences
    assert "levels[" not in body and "held (" not in body and "tenant file" not in body  # never the rule trace
    return texts


async def test_data_pack_pdf_is_a_board_paper_with_the_matrix_and_reasons_in_words(client, database, org_ids):
    async with database.session(AccessContext.for_orgs([org_ids["RWD"]], write=True)) as session:
        meeting = await create_meeting(session, org_ids["RWD"], "FPEC", dt.date(2026, 12, 3))
        # As the scheduler records a forum that meets at its own frequency (server/meetings/requirements.py).
        meeting.cadence_reason = {"basis": "forum_frequency", "frequency": "monthly",
                                  "explanation": "FPEC meets monthly, as its terms of reference in the tenant file say."}
        meeting_id = meeting.id
    await login(client, ULHT)
    response = await client.get(f"/organisations/RWD/meetings/{meeting_id}/pack.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(response.content)
    try:
        texts = check_every_page(document)
    finally:
        document.close()
    body = " ".join(" ".join(texts).split())  # lines wrap anywhere
    assert "Summary: indicators by variation and assurance" in body
    assert "meets monthly under its terms of reference" in body
    # The IPR's cards: latest, previous and target with units, the chart, the rating in words.
    assert "Latest (" in body and "Previous (" in body and "Variation and assurance" in body
    assert sum(text.count("Period") for text in texts) >= 2  # each card's chart names its axis
    save_pages(response.content, "data-pack-pdf")


async def issue_medicine_pack(database, ulht: int, day: dt.date):  # type: ignore[no-untyped-def]
    """A Medicine performance review meeting at ULHT with its data pack issued: (meeting, issued)."""
    async with database.session(AccessContext.for_orgs([ulht], write=True)) as session:
        meeting = await create_meeting(session, ulht, "PRM", day, subject_key="unit:RWD-MED", subject_name="Medicine")
        organisation = await session.get(Organisation, ulht)
        forum = await session.get(Forum, meeting.forum_id)
        issued = await issue_pack(session, organisation, meeting, forum, expected_version=1, now=dt.datetime.now(dt.UTC),
                                  actor=Actor(None, "Mark Wilson", "performance_manager"))
        assert isinstance(issued, PackIssued)
    return meeting, issued


async def get_after_the_data_changes(client, database, ulht: int, code: str, path: str):  # type: ignore[no-untyped-def]
    """GET ``path`` while Medicine's stored values of indicator ``code`` are shifted by 500 (restored after)."""
    shift = text(
        "update assessment set value = value + :by from indicator i, org_unit u where i.id = assessment.indicator_id and u.id = assessment.unit_id"
        " and i.code = :code and u.code = 'RWD-MED' and assessment.org_id = :o"
    )
    async with database.session(AccessContext.for_orgs([ulht], write=True)) as session:
        await session.exec(shift, params={"by": 500, "code": code, "o": ulht})
    try:
        return await client.get(path)
    finally:
        async with database.session(AccessContext.for_orgs([ulht], write=True)) as session:
            await session.exec(shift, params={"by": -500, "code": code, "o": ulht})


async def test_an_issued_data_packs_pdf_does_not_change_when_the_data_does(client, database, org_ids):
    meeting, issued = await issue_medicine_pack(database, org_ids["RWD"], dt.date(2026, 12, 8))
    await login(client, ULHT)
    path = f"/organisations/RWD/meetings/{meeting.id}/pack.pdf"
    before = await client.get(path)
    after = await get_after_the_data_changes(client, database, org_ids["RWD"], issued.pack["indicators"][0]["code"], path)
    pages_before, pages_after = pdf_pages(before.content), pdf_pages(after.content)
    assert pages_after == pages_before  # every word and figure on every page, the chart axes among them
    body = " ".join(" ".join(pages_before).split())
    assert "Issued " in body and "Latest (" in body and "Previous (" in body
    save_pages(before.content, "data-pack-issued-pdf")


def pdf_pages(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return check_every_page(document)
    finally:
        document.close()


def save_pages(pdf: bytes, stem: str) -> None:
    """Every page as a PNG under test-artifacts/ (git-ignored), for people to look at."""
    folder = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "issue14"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"{stem}-p*.png"):
        stale.unlink()  # a shorter document than last time leaves no old pages behind
    document = pypdfium2.PdfDocument(pdf)
    try:
        for number in range(len(document)):
            document[number].render(scale=1.2).to_pil().save(folder / f"{stem}-p{number + 1}.png")
    finally:
        document.close()


async def test_ipr_page_shows_the_summary_matrix_and_each_indicators_previous_value(client, database):
    await login(client, ULHT)
    with counted_statements(database) as statements:
        page = (await client.get("/organisations/RWD")).text
    assert "Indicators by variation and assurance" in page
    assert '<th scope="col" class="nhsuk-table__header nhsuk-table__header--numeric">Previous</th>' in page
    assert len(re.findall(r'accord-value">[^<]+<span class="accord-cell-note">[A-Z][a-z]{2} \d{4}</span>', page)) >= 10
    assert sum("order by a.period desc limit" in s for s in statements) == 1  # every row's trend in one statement
    assert not any("p.spc_points" in s for s in statements)  # values only: the trend needs no SPC points


async def test_an_issued_data_packs_csv_carries_its_frozen_figures_and_does_not_change_with_the_data(client, database, org_ids):
    meeting, issued = await issue_medicine_pack(database, org_ids["RWD"], dt.date(2026, 12, 9))
    await login(client, ULHT)
    page = await client.get(f"/organisations/RWD/meetings/{meeting.id}")
    assert f'href="/organisations/RWD/meetings/{meeting.id}/pack.csv"' in page.text
    path = f"/organisations/RWD/meetings/{meeting.id}/pack.csv"
    before = await client.get(path)
    assert before.status_code == 200 and before.headers["content-type"].startswith("text/csv")
    assert before.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(before.text)))
    frozen = {values["code"]: values for values in issued.pack["indicators"]}
    assert sorted(row["indicator_code"] for row in rows) == sorted(frozen)
    reported = [row for row in rows if row["period"]]
    assert reported
    for row in rows:
        values = frozen[row["indicator_code"]]
        assert row["indicator_name"] == values["name"] and row["unit_of_measure"] == (values.get("unit") or "")
        assert row["period"] == (values.get("period") or "")
        assert row["latest"] == ("" if values.get("value") is None else repr(float(values["value"])))
        assert row["target"] == ("" if values.get("target") is None or not values.get("period") else repr(float(values["target"])))
        assert row["commentary"] == ((values.get("commentary") or {}).get("body") or "")
    with_previous = [row for row in reported if row["previous"]]
    assert with_previous, "the frozen series gives the previous value"
    for row in with_previous:
        observed = [p for p in frozen[row["indicator_code"]]["series"] if p.get("value") is not None]
        assert row["previous_period"] == observed[-2]["period"] and row["previous"] == repr(float(observed[-2]["value"]))
    assert all(row["rating"] and row["rating_words"] and row["variation"] and row["assurance"] for row in reported)

    after = await get_after_the_data_changes(client, database, org_ids["RWD"], reported[0]["indicator_code"], path)
    assert after.content == before.content


def test_a_packs_csv_defuses_formula_like_text_as_the_ipr_csv_does():
    pack = {"indicators": [{
        "code": "X1", "name": "=HYPERLINK(\"http://evil\")", "unit": "count", "domain": "+Domain", "polarity": "higher_is_better",
        "period": "2026-11-01", "value": 3.0, "target": 5.0, "rag": "red", "variation": "common_cause", "assurance": "hit_and_miss",
        "commentary": {"body": "@SUM(A1)", "author": "-Owner", "written_at": "2026-11-20T10:00:00+00:00"},
    }]}
    text_out = pack_csv(pack_paper(pack, format_number))
    row = next(csv.DictReader(io.StringIO(text_out)))
    assert row["indicator_name"] == "'=HYPERLINK(\"http://evil\")" and row["domain"] == "'+Domain"
    assert row["commentary"] == "'@SUM(A1)" and row["commentary_author"] == "'-Owner"
    assert row["latest"] == "3.0" and row["target"] == "5.0" and row["commentary_written_on"] == "2026-11-20"


@pytest.mark.parametrize("before", [None, dt.date(2026, 6, 1)])
async def test_the_pages_values_only_series_equal_the_board_papers_series_without_their_spc(database, org_ids, before):
    """The IPR page reads its trend lines without the SPC evidence; every point it draws is the board paper's."""
    from server.reporting.board import chart_series
    from server.reporting.scorecard import organisation_scorecard
    from server.reporting.structure import organisation_tree

    async with database.session(AccessContext.for_orgs([org_ids["RWD"]])) as session:
        tree = await organisation_tree(session, "RWD")
        scorecard = await organisation_scorecard(session, tree)
        indicators = [row.indicator for domain in scorecard.domains for row in domain.rows]
        units = [None] + [unit.id for unit in scorecard.children][:1]
        for unit_id in units:
            with_spc = await chart_series(session, indicators, unit_id=unit_id, before=before)
            values_only = await chart_series(session, indicators, unit_id=unit_id, before=before, spc=False, org_id=org_ids["RWD"])
            stored = [(p.period, p.label, p.value, p.target, p.trajectory, p.rag, p.masked_failure) for series in with_spc.values() for p in series]
            assert [(p.period, p.label, p.value, p.target, p.trajectory, p.rag, p.masked_failure)
                    for series in values_only.values() for p in series] == stored
            assert list(values_only) == list(with_spc) and len(stored) > 10
            assert all(p.index is None and p.point_type == "not_assessed" for series in values_only.values() for p in series)
