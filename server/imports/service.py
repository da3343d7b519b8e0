"""Import one file for one organisation: read, map, check, compare, then store all or nothing.

Storing goes through ``submit_measurements`` (one transaction with derivation and ladders); only
new and changed lines are submitted, so re-importing a file stores nothing new. Its row problems
are mapped back to the file's own row and column.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from server.imports import template
from server.imports.check import check_lines
from server.imports.compare import IndicatorChange, compare
from server.imports.framework import Framework, load_framework
from server.imports.lines import Line
from server.imports.mapping import detect_format, load_mappings, parse_mapped
from server.imports.problems import ImportProblem, ImportRefused
from server.imports.read import read_file
from server.measurements.record import MeasurementItem
from server.measurements.submit import submit_measurements

MAX_PROBLEMS = 200


@dataclass
class ImportOutcome:
    format: str | None
    dry_run: bool
    problems: list[ImportProblem] = field(default_factory=list)
    changes: list[IndicatorChange] = field(default_factory=list)
    stored: int = 0
    lines: int = 0
    other_providers: int = 0
    not_in_framework: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def format_names() -> list[tuple[str, str]]:
    """(name, title) of every format a person may choose."""
    return [(template.NAME, "Your organisation's template"), *((name, spec.title) for name, spec in load_mappings().formats.items())]


async def import_file(
    session: AsyncSession, *, org_id: int, user_id: int | None, content: bytes, filename: str, format: str | None = None,
    dry_run: bool = False, reason: str | None = None,
) -> ImportOutcome:
    framework = await load_framework(session, org_id=org_id)
    try:
        lines, outcome = _lines_of(content, filename, format, framework)
    except ImportRefused as refused:
        return ImportOutcome(format=format, dry_run=dry_run, problems=refused.problems[:MAX_PROBLEMS])
    outcome.dry_run = dry_run
    if outcome.problems:
        return outcome
    comparison = await compare(session, framework, lines)
    outcome.changes = comparison.changes
    if dry_run or not comparison.to_store:
        return outcome
    items = [_item(line) for line in comparison.to_store]
    submitted = await submit_measurements(
        session, org_id=org_id, user_id=user_id, items=items, source=f"import:{outcome.format}", reason=reason,
    )
    if submitted.problems:
        outcome.problems = [_from_submission(problem, comparison.to_store, framework) for problem in submitted.problems][:MAX_PROBLEMS]
        outcome.changes = []
        return outcome
    outcome.stored = len(submitted.recorded)
    return outcome


def _lines_of(content: bytes, filename: str, format: str | None, framework: Framework) -> tuple[list[Line], ImportOutcome]:
    sheet = read_file(content, filename)
    mappings = load_mappings()
    if format is None:
        format = template.NAME if template.is_template(sheet) else detect_format(sheet, mappings)
        if format is None:
            titles = "; ".join(title for _, title in format_names())
            raise ImportRefused([ImportProblem(1, None, None, f"the header row matches no known format ({titles})")])
    elif format != template.NAME and format not in mappings.formats:
        raise ImportRefused([ImportProblem(None, None, None, f"'{format}' is not a known format")])
    outcome = ImportOutcome(format=format, dry_run=False)
    if format == template.NAME:
        lines, problems = template.parse_template(sheet, framework)
    else:
        mapped = parse_mapped(sheet, framework, format, mappings)
        lines, problems = mapped.lines, mapped.problems
        outcome.other_providers, outcome.not_in_framework = mapped.other_providers, mapped.not_in_framework
    problems = [*problems, *check_lines(lines, framework)]
    if not problems and not lines:
        problems = [ImportProblem(None, None, None, f"the file has no figures for {framework.org_name}")]
    outcome.problems = _unique(problems)[:MAX_PROBLEMS]
    outcome.lines = len(lines)
    return lines, outcome


def _in_file_order(problem: ImportProblem) -> tuple[int, int, str]:
    letters = (problem.column or "").partition(" ")[0]
    return (problem.row or 0, len(letters), letters)


def _unique(problems: list[ImportProblem]) -> list[ImportProblem]:
    """Each problem once, in the order a person reads the file: by row, then column."""
    seen: set[tuple[object, ...]] = set()
    unique = []
    for problem in sorted(problems, key=_in_file_order):
        key = (problem.row, problem.column, problem.message)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return unique


def _item(line: Line) -> MeasurementItem:
    return MeasurementItem(line.indicator_code, line.unit_code, line.period, line.value, line.numerator, line.denominator)


def _from_submission(problem, lines: list[Line], framework: Framework) -> ImportProblem:  # type: ignore[no-untyped-def]
    """The write path counts rows in what it was given; say where that row came from in the file."""
    line = lines[problem.row - 1] if 0 < problem.row <= len(lines) else None
    if line is None:
        return ImportProblem(None, None, None, problem.message)
    indicator = framework.indicators.get(line.indicator_code)
    return ImportProblem.at(line.cell(problem.field), problem.message, indicator.name if indicator else None)
