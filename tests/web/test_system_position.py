"""The system position as one screen: each row's target, the period selector, sorting by the worst
position, the summary matrix, compact cells linking to each member's series, in few statements."""
from __future__ import annotations

import datetime as dt
import re

from tests.conftest import login
from tests.graphql.test_tool_questions import counted_statements

LEAD = "stw.lead@accord.example"


def row_codes(page: str) -> list[str]:
    return re.findall(r'accord-matrix__indicator">[^<]*<span class="accord-code">([A-Z0-9]+)</span>', page)


async def test_rows_carry_their_target_and_cells_link_to_each_members_series(client):
    await login(client, LEAD)
    page = (await client.get("/systems/STW?set=all")).text
    assert '<th scope="col" class="nhsuk-table__header accord-matrix__target">Target</th>' in page
    assert re.search(r'RTT18</span></th>\s*<td class="nhsuk-table__cell accord-value">(65\.0%|Varies)</td>', page)
    assert 'href="/organisations/RXW/indicators/RTT18"' in page
    assert "Every member&#39;s key indicators by variation and assurance" in page
    assert "accord-cell--compact" in page


async def test_worst_first_puts_the_rows_with_most_members_off_target_at_the_top(client):
    await login(client, LEAD)
    framework = row_codes((await client.get("/systems/STW?set=all")).text)
    worst = (await client.get("/systems/STW", params={"set": "all", "sort": "worst"})).text
    ordered = row_codes(worst)
    assert sorted(ordered) == sorted(framework) and ordered != framework
    reds = [len(re.findall(r"Off target", block)) for block in re.split(r'<tr class="nhsuk-table__row">', worst.split("<tbody")[1].split("</tbody>")[0])[1:]]
    assert reds == sorted(reds, reverse=True)
    assert '<option value="worst" selected>' in worst


async def test_an_earlier_period_shows_that_months_values(client):
    await login(client, LEAD)
    latest = (await client.get("/systems/STW?set=all")).text
    options = re.findall(r'<option value="(\d{4}-\d{2})"', latest)
    assert len(options) == 11  # the latest is the empty value
    earlier = (await client.get("/systems/STW", params={"set": "all", "period": options[0]})).text
    assert f'<option value="{options[0]}" selected>' in earlier
    assert "ratings only" in earlier
    assert earlier.count("accord-cell__value") > 10


async def test_a_period_outside_the_choices_shows_the_latest(client):
    await login(client, LEAD)
    page = (await client.get("/systems/STW", params={"set": "all", "period": "1999-01"})).text
    assert "latest period" in page and "ratings only" not in page


async def test_the_page_costs_a_fixed_number_of_statements(client, database):
    await login(client, LEAD)
    with counted_statements(database) as latest:
        page = (await client.get("/systems/STW", params={"set": "all", "sort": "worst"})).text
    with counted_statements(database) as earlier:
        await client.get("/systems/STW", params={"set": "all", "period": re.findall(r'<option value="(\d{4}-\d{2})"', page)[0]})
    # An earlier period reads the position twice (the latest, for the choices, then the month).
    assert len(earlier) - len(latest) == 2
    assert len(latest) <= 13


async def test_every_cell_shows_its_trend_read_in_one_statement(client, database):
    """Each member x indicator cell carries a sparkline of the member's last twelve values, with its
    words; the series of every cell come from one set-based statement, whatever the matrix's size."""
    await login(client, LEAD)
    trend_reads = []
    for params in ({"set": "all"}, {}):
        with counted_statements(database) as statements:
            page = (await client.get("/systems/STW", params=params)).text
        trend_reads.append([s for s in statements if "order by a.period desc limit" in s and "a.unit_id is null" in s])
        cells = page.split("<tbody")[1].split("</tbody>")[0].count("accord-cell--compact")
        drawn = page.count('<svg class="accord-sparkline__svg"')
        assert cells > 0 and drawn > cells // 2
        assert drawn == page.count("Trend, ")  # every picture has its text alternative
    assert [len(reads) for reads in trend_reads] == [1, 1]
    # At an earlier period, each monthly trend ends at that month.
    earlier = re.findall(r'<option value="(\d{4}-\d{2})"', page)[-1]
    page = (await client.get("/systems/STW", params={"set": "all", "period": earlier})).text
    ends = re.findall(r"Trend, [^:]* to ([A-Z][a-z]{2} \d{4}):", page)
    label = dt.date.fromisoformat(earlier + "-01").strftime("%b %Y")
    assert ends and label in ends
    assert all(dt.datetime.strptime(end, "%b %Y").date() <= dt.date.fromisoformat(earlier + "-01") for end in ends)


async def test_the_system_position_shows_the_common_set_full_for_every_provider(client):
    await login(client, "stw.lead@accord.example")
    page = (await client.get("/systems/STW")).text
    matrix = page.split('id="system-matrix"')[1].split('<h2 class="nhsuk-heading-m')[0]
    members = re.findall(r'<th scope="col" class="nhsuk-table__header accord-matrix__member"><a href="/organisations/([^"]+)">', matrix)
    codes = re.findall(r'<span class="accord-code">([^<]+)</span></th>', matrix)
    assert members == ["RXW", "RL1", "R1D"] or sorted(members) == ["R1D", "RL1", "RXW"]  # the providers, not the ICS or the ICB
    assert sorted(codes) == ["AGENCY", "IEVAR", "LONGWAIT", "SICK"]
    assert "Not reported" not in matrix  # full: every provider reports every common code
    assert "Common indicators by provider" in matrix and '<option value="common" selected>' in page
    # The spectrum still lists every member, the system and the ICB among them.
    assert 'href="/organisations/STW"' in page.split('id="spectrum-caption"')[1]
    everything = (await client.get("/systems/STW", params={"set": "all"})).text
    assert "Not reported" in everything and "Key indicators by member organisation" in everything


async def test_a_common_row_takes_the_sets_own_name_not_the_first_providers(client):
    """SaTH and RJAH call LONGWAIT "Longest RTT wait", SCHT "Longest community wait": stw.yaml names the row itself."""
    await login(client, "stw.lead@accord.example")
    matrix = (await client.get("/systems/STW")).text.split('id="system-matrix"')[1].split('<h2 class="nhsuk-heading-m')[0]
    row = re.search(r'>([^<>]*) <span class="accord-code">LONGWAIT</span>', matrix)
    assert row and row.group(1).strip() == "Longest wait (RTT or community waiting list)"
    everything = (await client.get("/systems/STW", params={"set": "all"})).text  # the key indicators of all members: members' own words
    assert "Longest wait (RTT or community waiting list)" not in everything.split('id="system-matrix"')[1].split('<h2 class="nhsuk-heading-m')[0]


def test_a_status_cell_draws_the_same_markup_with_its_tag_and_icons_made_once_per_verdict():
    """The matrix's cells share a few verdicts: the tag and icon macros run once per verdict (memo),
    and the cell reads exactly as when every macro ran for every cell."""
    from server.reporting.status import IndicatorStatus
    from server.settings import Settings
    from server.web.templating import make_templates

    environment = make_templates(Settings()).env
    cell = environment.get_template("partials/status_cell.html").module.status_cell
    statuses = [IndicatorStatus(dt.date(2026, 10, 1), value, 0.9, None, rag, variation, direction, assurance, 2, False, masked)
                for value, rag, variation, direction, assurance, masked in [
                    (0.95, "green", "special_cause_improving", 1, "consistently_pass", False),
                    (0.5, "red", "special_cause_concerning", -1, "consistently_fail", True),
                    (0.8, "amber", "common_cause", None, "hit_and_miss", False), (None, "none", "none", None, "none", False)]]
    calls = [(status, compact) for status in statuses * 3 for compact in (True, False)]

    def draw(status: IndicatorStatus, compact: bool) -> str:
        return str(cell(status, "percent", dt.date(2026, 11, 1), "/organisations/X/indicators/Y", "Y, X", compact=compact, show_target=compact))

    memoised = [draw(*arguments) for arguments in calls]
    memo = environment.globals["memo"]
    assert len(memo.outputs) == 4 * 3 * 2 - 4  # tag, variation, assurance per verdict and size (one tag per verdict)
    environment.globals["memo"] = lambda macro, *args, **kwargs: macro(*args, **kwargs)  # every macro, every time
    assert memoised == [draw(*arguments) for arguments in calls]
    assert "Off target" in memoised[2] and "accord-mdc__icon--concerning-low" in memoised[2] and "target 90.0%" in memoised[2]


def test_a_sparkline_breaks_at_a_missing_value_and_marks_the_latest():
    """Coordinates as drawn before the x positions were made once per number of points."""
    from server.reporting.indicator import SeriesPoint
    from server.web.charts.sparkline import build_sparkline

    values = [0.8, 0.85, None, 0.95, 0.7, None, 0.92]
    points = [SeriesPoint(None, dt.date(2026, month, 1), f"M{month}", value, 0.9, None, "none", False) for month, value in zip(range(1, 8), values, strict=True)]
    line = build_sparkline(points, lambda value: f"{value:.2f}")
    assert line is not None and line.path == "M3.0,18.6 L22.0,13.4 M60.0,3.0 L79.0,29.0 M117.0,6.1"
    assert (line.target_path, line.last_x, line.last_y) == ("M3,8.2 H117", 117.0, 6.1)
    assert line.description == "Trend, M1 to M7: 0.80 to 0.92; lowest 0.70 (M5), highest 0.95 (M4); target 0.90."
    assert build_sparkline(points[:2] + [points[2]], str) is not None and build_sparkline(points[2:4], str) is None


def test_the_matrix_writes_each_cell_as_the_status_cell_and_sparkline_macros_do():
    """The page writes the matrix's cells itself (MatrixCells): they must read exactly as the compact
    status_cell and the sparkline macros write them, whatever the verdicts, notes and trend."""
    import itertools

    from server.reporting.status import IndicatorStatus
    from server.settings import Settings
    from server.web.charts.sparkline import Sparkline, sparkline_markup
    from server.web.pages.system import MatrixCells
    from server.web.templating import make_templates

    environment = make_templates(Settings()).env
    status_cell = environment.get_template("partials/status_cell.html").module.status_cell
    sparkline = environment.get_template("partials/sparkline.html").module.sparkline
    cells = MatrixCells(environment)
    verdicts = [("green", "special_cause_improving", 1, "consistently_pass"), ("red", "special_cause_concerning", -1, "consistently_fail"),
                ("amber", "special_cause_neutral", 1, "hit_and_miss"), ("none", "common_cause", None, "none"), ("none", "none", None, "none")]
    statuses = [None] + [
        IndicatorStatus(dt.date(2026, month, 1), value, target, None, rag, variation, direction, assurance, 3, False, masked, frequency)
        for (rag, variation, direction, assurance), value, target, masked, month, frequency in itertools.product(
            verdicts, (0.953, None, 12.0), (0.9, None), (False, True), (10, 11), ("monthly", "quarterly"))
    ]
    written = 0
    for status, unit, latest, show_target in itertools.product(statuses, ("percent", "weeks"), (dt.date(2026, 11, 1), None), (True, False)):
        href, context = "/organisations/R&X/indicators/A<1>", 'Waits "over 18", R&X'
        expected = status_cell(status, unit, latest, href, context, compact=True, show_target=show_target)
        assert cells.status(status, unit, latest, href, context, show_target) == str(expected)
        written += 1
    lines = [None, Sparkline(120, 32, "M3.0,18.6 L22.0,13.4", "M3,8.2 H117", 117.0, 6.1, "Trend, Jan <2026> & on."),
             Sparkline(120, 32, "M3.0,18.6 L117.0,1.0", "", 117.0, 1.0, "Trend, M1 to M2.")]
    assert all(sparkline_markup(line) == str(sparkline(line)) for line in lines)
    assert written > 500


# The matrix's body as its template wrote it in its own loop, before the page wrote the rows (MatrixCells.rows).
MATRIX_ROWS_LOOP = """
      {% for row, target in rows %}
      <tr class="nhsuk-table__row">
        <th scope="row" class="nhsuk-table__header accord-matrix__indicator">{{ row.name }} <span class="accord-code">{{ row.code }}</span></th>
        <td class="nhsuk-table__cell accord-value">{{ target }}</td>
        {% for cell in row.cells %}
        <td class="nhsuk-table__cell">
          {%- if cell is none -%}
          <span class="accord-muted" aria-hidden="true">–</span><span class="nhsuk-u-visually-hidden">Not reported</span>
          {%- else -%}
          {%- set status, trend = cells[cell.indicator_id] -%}
          {{ status }}
          {{ trend }}
          {%- endif -%}
        </td>
        {% endfor %}
      </tr>
      {% endfor %}
"""


def test_the_matrix_rows_read_as_the_templates_loop_wrote_them():
    import random

    from server.reporting.indicator import SeriesPoint
    from server.reporting.status import IndicatorStatus
    from server.reporting.system import MatrixCell, MatrixRow, Member, SystemPosition
    from server.settings import Settings
    from server.web.charts.sparkline import build_sparkline
    from server.web.pages.system import MatrixCells, row_target
    from server.web.templating import make_templates

    environment = make_templates(Settings()).env
    loop = environment.from_string(MATRIX_ROWS_LOOP)
    cells = MatrixCells(environment)
    chance = random.Random(9)
    members = tuple(Member(f"R&{n}", f"Member <{n}>", chance.choice((None, f"M{n}")), n == 0, None, None, None) for n in range(5))  # type: ignore[arg-type]
    next_id, compared = iter(range(1, 100_000)), 0
    for _ in range(20):
        rows, trends = [], {}
        for number in range(chance.randint(0, 30)):
            row_cells = []
            for _ in members:
                if chance.random() < 0.2:
                    row_cells.append(None)
                    continue
                status = None if chance.random() < 0.1 else IndicatorStatus(
                    dt.date(2026, chance.choice((10, 11)), 1), chance.random(), chance.choice((0.9, None, 0.8)), None,
                    chance.choice(("red", "amber", "green", "none")), chance.choice(("common_cause", "special_cause_concerning", "none")),
                    chance.choice((1, -1, None)), chance.choice(("consistently_pass", "hit_and_miss", "none")), 2, False, chance.random() < 0.2)
                cell = MatrixCell(f"Indicator {number}", chance.choice(("percent", "weeks")), status, next(next_id))
                trends[cell.indicator_id] = build_sparkline(
                    [SeriesPoint(None, dt.date(2026, m, 1), f"M{m}", chance.choice((None, chance.random())), 0.9, None, "none", False)
                     for m in range(1, chance.randint(1, 12))], str)
                row_cells.append(cell)
            rows.append(MatrixRow(chance.choice((f"C{number}", "A&E<4>")), chance.choice(("Waits & <more>", f"Row {number}")), tuple(row_cells)))
        position = SystemPosition("S&1", "System", members, tuple(rows), (), None, members)
        period = chance.choice((None, dt.date(2026, 10, 1)))
        shown = [(row, row_target(row)) for row in rows]
        expected = loop.render(rows=shown, cells=cells.write(position, shown, trends, period))
        assert cells.rows(position, shown, trends, period) == expected.removeprefix("\n")
        compared += sum(len(row.cells) for row in rows)
    assert compared > 1000
