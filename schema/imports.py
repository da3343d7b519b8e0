"""Import a file through GraphQL: the same service as the page and ``accord import``.

The file travels as base64 text (``file``), so CSV and XLSX alike fit in one JSON request.
The lead engineer merges ``ImportMutation`` into the schema's Mutation type.
"""
from __future__ import annotations

import base64
import binascii
from typing import Annotated

import strawberry

from schema.context import Info
from server.imports.service import ImportOutcome, import_file
from server.organisations import queries

MAX_FILE_BYTES = 5 * 1024 * 1024


@strawberry.type
class ImportProblem:
    row: int | None = strawberry.field(description="The file's own row number, as a spreadsheet counts; null for the whole file")
    column: str | None = strawberry.field(description="Column letter and heading, e.g. 'H (Numerator)'")
    indicator: str | None = strawberry.field(description="The indicator's name")
    message: str


@strawberry.type
class ImportIndicatorChange:
    indicator_code: str
    indicator_name: str
    new: int
    changed: int
    unchanged: int


@strawberry.type
class ImportSucceeded:
    format: str
    dry_run: bool
    stored: int = strawberry.field(description="Measurements stored: 0 for a dry run or a file already imported")
    changes: list[ImportIndicatorChange]
    other_providers: int = strawberry.field(description="Rows for providers this organisation does not record, left out")


@strawberry.type
class ImportRejected:
    message: str
    errors: list[ImportProblem]


ImportResult = Annotated[ImportSucceeded | ImportRejected, strawberry.union("ImportResult")]


def import_result(outcome: ImportOutcome) -> ImportSucceeded | ImportRejected:
    if not outcome.ok:
        return ImportRejected(
            message=f"{len(outcome.problems)} problem(s) found; nothing was stored",
            errors=[ImportProblem(row=p.row, column=p.column, indicator=p.indicator, message=p.message) for p in outcome.problems],
        )
    return ImportSucceeded(
        format=outcome.format or "", dry_run=outcome.dry_run, stored=outcome.stored, other_providers=outcome.other_providers,
        changes=[ImportIndicatorChange(indicator_code=c.code, indicator_name=c.name, new=c.new, changed=c.changed, unchanged=c.unchanged)
                 for c in outcome.changes],
    )


def _rejected(message: str) -> ImportRejected:
    return ImportRejected(message=message, errors=[ImportProblem(row=None, column=None, indicator=None, message=message)])


@strawberry.type
class ImportMutation:
    @strawberry.mutation(description="Import a CSV or XLSX file (base64) for one organisation: every row is stored, or none.")
    async def import_measurements(
        self, info: Info, organisation_code: str, file: str, filename: str, format: str | None = None, dry_run: bool = False,
    ) -> ImportResult:
        context = info.context
        principal = context.require(organisation_code, "measurement", "submit")
        if len(file) > MAX_FILE_BYTES * 4 // 3 + 4:
            return _rejected("Send at most 5 MB per file")
        try:
            content = base64.b64decode(file, validate=True)
        except (binascii.Error, ValueError):
            return _rejected("'file' must be the file's bytes in base64")
        async with context.session() as session:
            organisation = await queries.organisation_by_code(session, organisation_code)
            assert organisation is not None  # the policy check above named a known domain
            outcome = await import_file(
                session, org_id=organisation.id, user_id=principal.user_id, content=content, filename=filename,
                format=format, dry_run=dry_run, reason=f"imported {filename}",
            )
        return import_result(outcome)
