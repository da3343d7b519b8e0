"""importMeasurements: the file as base64, a typed answer, through Accord's own schema."""
from __future__ import annotations

import base64

from schema.app import schema as SCHEMA
from schema.context import AccordContext
from tests.conftest import act_as
from tests.imports.conftest import sample

IMPORT = """
mutation($org: String!, $file: String!, $name: String!, $dry: Boolean!) {
  importMeasurements(organisationCode: $org, file: $file, filename: $name, dryRun: $dry) {
    __typename
    ... on ImportSucceeded { format dryRun stored changes { indicatorCode indicatorName new changed unchanged } }
    ... on ImportRejected { message errors { row column indicator message } }
  }
}"""


async def _run(database, services, email: str, org: str, content: bytes, name: str, *, dry: bool = True):  # type: ignore[no-untyped-def]
    principal, access = await act_as(database, services.authorizer, email)
    context = AccordContext(request=None, principal=principal, access=access, database=database, authorizer=services.authorizer)
    variables = {"org": org, "file": base64.b64encode(content).decode(), "name": name, "dry": dry}
    return await SCHEMA.execute(IMPORT, variable_values=variables, context_value=context)


async def test_a_dry_run_answers_what_would_change(database, services):
    result = await _run(database, services, "sath.performance@accord.example", "RXW", sample("ae-provider-march-2024.csv"), "ae.csv")
    assert result.errors is None, result.errors
    answer = result.data["importMeasurements"]
    assert answer["__typename"] == "ImportSucceeded" and answer["format"] == "nhse-ae" and answer["dryRun"] and answer["stored"] == 0
    assert answer["changes"][0]["indicatorName"] == "A&E patients seen within 4 hours"


async def test_a_bad_file_is_rejected_with_rows_and_columns(database, services):
    bad = b"Indicator code,Indicator,Unit code,Unit,Measured as,Period,Value,Numerator,Denominator\nAE4H,,RXW-MEC-ED-RSH,,,2013-10-01,,1,2,3\n"
    result = await _run(database, services, "sath.performance@accord.example", "RXW", bad, "bad.csv")
    answer = result.data["importMeasurements"]
    assert answer["__typename"] == "ImportRejected"
    assert answer["errors"][0]["row"] == 2 and answer["errors"][0]["column"] == "J"


async def test_a_viewer_may_not_import(database, services):
    result = await _run(database, services, "scht.viewer@accord.example", "R1D", b"x", "x.csv")
    assert result.errors and result.data is None
