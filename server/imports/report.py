"""An import's answer in words, for the command line."""
from __future__ import annotations

import sys

from server.imports.service import ImportOutcome


def summary_lines(outcome: ImportOutcome) -> list[str]:
    lines = [f"  {change.name} ({change.code}): {change.new} new, {change.changed} changed, {change.unchanged} unchanged"
             for change in outcome.changes]
    if outcome.other_providers:
        lines.append(f"  {outcome.other_providers} row(s) for other providers left out")
    if outcome.not_in_framework:
        lines.append(f"  not in this organisation's framework, left out: {', '.join(outcome.not_in_framework)}")
    return lines


def print_outcome(outcome: ImportOutcome, filename: str) -> int:
    """Exit status: 0 stored or checked, 2 refused."""
    if not outcome.ok:
        print(f"{filename}: {len(outcome.problems)} problem(s); nothing was stored:", file=sys.stderr)
        for problem in outcome.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    verb = "would store" if outcome.dry_run else "stored"
    count = sum(change.new + change.changed for change in outcome.changes) if outcome.dry_run else outcome.stored
    print(f"{filename} ({outcome.format}): {verb} {count} measurement(s)")
    for line in summary_lines(outcome):
        print(line)
    return 0
