"""The assessment rows of a derivation, built column by column from the engine's arrays.

A national trust has 250 series x 60 periods = 15,000 rows. Building each as a dict field by field
was a third of deriving; here each column is one numpy operation and the rows are zipped from the
columns' Python lists. Only the rows a ``Scope`` selects are built (scope.py), and the evidence
document is made once per series, for its latest row.

The latest row's SPC points go column-wise into ``spc_points`` (points.py), the description of
its method and rule sets into ``assessment_method`` once for all the series that share it (named by
``method_digest``: methods.py), the rest of its evidence into the JSON document, which carries a
``digest`` of all three. The evidence is most of what is written and parsing and compressing it
most of PostgreSQL's work, so a latest row whose stored evidence has the same digest is staged
without any of them and keeps what it has.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import orjson

from server.assessment import codes
from server.assessment.spc import SpcBatch
from server.assessment_store.evidence import evidence_document, split_evidence
from server.assessment_store.methods import MethodDescriptions, describe, split_method
from server.assessment_store.points import encode_points
from server.assessment_store.series import OrganisationSeries

# The stored columns, in the order of a record (store.py stages records in this order).
COLUMNS = (
    ("org_id", "int"), ("indicator_id", "int"), ("unit_id", "int"), ("period", "date"), ("value", "float8"), ("target", "float8"),
    ("trajectory", "float8"), ("rag", "text"), ("variation", "text"), ("assurance", "text"), ("periods_under_target", "int"),
    ("failure_forecast", "bool"), ("masked_failure", "bool"), ("is_latest", "bool"), ("evidence", "jsonb"), ("spc_points", "bytea"),
    ("method_digest", "text"), ("rule_set", "text"), ("computed_at", "timestamptz"),
)
NAMES = tuple(name for name, _ in COLUMNS)
EVIDENCE = NAMES.index("evidence")
NO_EVIDENCE = "{}"  # rows other than a series' latest carry none (and no points)
StoredDigests = Mapping[tuple[int, int | None, dt.date], str]  # (indicator, unit or None, period) -> the stored latest row's digest

_RAG_WORDS = np.array(codes.RAGS, dtype=object)
_VARIATION_WORDS = np.array(codes.VARIATIONS, dtype=object)
_ASSURANCE_WORDS = np.array(codes.ASSURANCES, dtype=object)


class OrganisationLevelSeries(NamedTuple):
    indicator_id: int
    periods: list[dt.date]  # observed periods, newest first
    values: list[float]
    target: float | None  # the same on every row of a series
    rag: str  # the latest row's verdicts
    variation: str
    assurance: str
    failure_forecast: bool


@dataclass(frozen=True)
class Derivation:
    """Everything derived for a set of series; ``records`` turns the selected cells into rows."""

    series: OrganisationSeries
    target: np.ndarray  # per series, NaN = none
    trajectory: np.ndarray  # series x periods
    rag: np.ndarray  # series x periods, codes.RAGS
    variation: np.ndarray  # per series, codes.VARIATIONS (of the latest point)
    assurance: np.ndarray  # per series, codes.ASSURANCES
    periods_under_target: np.ndarray  # per series
    failure_forecast: np.ndarray  # per series
    masked: np.ndarray  # series x periods
    explain: Callable[[int], dict[str, Any]]  # the evidence document of one series, without its SPC points
    spc: SpcBatch  # whose points the latest rows store column-wise
    rule_set: str
    computed_at: dt.datetime
    # The shared descriptions the records made so far name (digest -> JSON), to be stored with them.
    methods: dict[str, bytes] = field(default_factory=dict, compare=False)

    @cached_property  # worked out once: scope.py and records() ask per series
    def observed(self) -> np.ndarray:
        return ~np.isnan(self.series.values)

    @cached_property
    def latest(self) -> np.ndarray:
        """Per series, the column of its latest observed period (-1: no data at all)."""
        observed = self.observed
        last = observed.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1) if observed.shape[1] else np.zeros(len(observed), dtype=int)
        return np.where(observed.any(axis=1), last, -1)

    def organisation_level(self) -> list[OrganisationLevelSeries]:
        """Each organisation-level series as its stored rows say it (every observed period, newest first)."""
        found = []
        latest = self.latest.tolist()
        for s, key in enumerate(self.series.keys):
            t = latest[s]
            if key.depth != 0 or t < 0:
                continue
            columns = np.flatnonzero(self.observed[s])[::-1].tolist()
            target = float(self.target[s])
            found.append(OrganisationLevelSeries(
                key.indicator_id, [self.series.periods[c] for c in columns], self.series.values[s, columns].tolist(),
                None if target != target else target, str(_RAG_WORDS[self.rag[s, t]]), str(_VARIATION_WORDS[self.variation[s]]),
                str(_ASSURANCE_WORDS[self.assurance[s]]), bool(self.failure_forecast[s]),
            ))
        return found

    def records(self, selected: np.ndarray | None = None, stored: StoredDigests | None = None) -> list[tuple]:  # type: ignore[type-arg]
        """One tuple per observed (and, if given, ``selected``) cell, in ``COLUMNS`` order, series by series.

        A latest row whose evidence has the digest ``stored`` holds for it gets evidence and points None: keep the stored ones.
        """
        series = self.series
        cells = self.observed if selected is None else self.observed & selected
        s, t = np.nonzero(cells)
        if s.size == 0:
            return []
        latest = self.latest
        is_latest = latest[s] == t
        indicator_ids = np.array([key.indicator_id for key in series.keys])
        unit_ids = [None if key.depth == 0 else key.unit_id for key in series.keys]
        evidence, points, methods = {}, {}, {}
        latest_series = np.unique(s[is_latest]).tolist()
        for i, encoded in zip(latest_series, encode_points(self.spc, latest_series)):
            rest, method = split_method(self.explain(i))
            method_digest, described = describe(method)
            self.methods[method_digest] = described
            document, digest = with_digest(orjson.dumps(rest, option=orjson.OPT_SERIALIZE_NUMPY), encoded + method_digest.encode())
            unchanged = stored is not None and stored.get((int(indicator_ids[i]), unit_ids[i], series.periods[latest[i]])) == digest
            evidence[i], points[i], methods[i] = (None, None, None) if unchanged else (document, encoded, method_digest)
        count = s.size
        columns = (
            [series.org_id] * count,
            indicator_ids[s].tolist(),
            [unit_ids[i] for i in s.tolist()],
            [series.periods[i] for i in t.tolist()],
            series.values[s, t].tolist(),
            _nullable(self.target[s]),
            _nullable(self.trajectory[s, t]),
            _RAG_WORDS[self.rag[s, t]].tolist(),
            # Verdicts belong to the latest point (R takes the last row); the points' own rule
            # flags are in the latest row's evidence.
            np.where(is_latest, _VARIATION_WORDS[self.variation[s]], "none").tolist(),
            np.where(is_latest, _ASSURANCE_WORDS[self.assurance[s]], "none").tolist(),
            np.where(is_latest, self.periods_under_target[s], 0).tolist(),
            (is_latest & self.failure_forecast[s].astype(bool)).tolist(),
            self.masked[s, t].astype(bool).tolist(),
            is_latest.tolist(),
            [evidence[i] if latest_row else NO_EVIDENCE for i, latest_row in zip(s.tolist(), is_latest.tolist())],
            [points[i] if latest_row else None for i, latest_row in zip(s.tolist(), is_latest.tolist())],
            [methods[i] if latest_row else None for i, latest_row in zip(s.tolist(), is_latest.tolist())],
            [self.rule_set] * count,
            [self.computed_at] * count,
        )
        return list(zip(*columns))


def with_digest(document: bytes, stored_beside: bytes = b"") -> tuple[str, str]:
    """The evidence document (a JSON object) with its ``digest`` (of it and what is stored beside it) added, and the digest."""
    digest = hashlib.blake2b(document + stored_beside, digest_size=16).hexdigest()
    return f'{document[:-1].decode()},"digest":"{digest}"}}', digest


def as_dict(record: tuple, methods: MethodDescriptions) -> dict[str, Any]:  # type: ignore[type-arg]
    """A record as a row dict, the shape ``derive_assessments`` returns: the evidence as readers see
    it (evidence.evidence_document), no ``spc_points`` or ``method_digest``."""
    row = dict(zip(NAMES, record))
    points, method_digest = row.pop("spc_points"), row.pop("method_digest")
    method = orjson.loads(methods[method_digest]) if method_digest else None
    row["evidence"] = evidence_document(orjson.loads(row["evidence"]), points, method)
    return row


def as_records(rows: list[dict[str, Any]]) -> tuple[list[tuple], dict[str, bytes]]:  # type: ignore[type-arg]
    """Row dicts (``as_dict``'s shape) as records, and the shared descriptions they name."""
    records, methods = [], {}
    for row in rows:
        evidence, points, method = split_evidence(row["evidence"])
        method_digest = None
        if method:
            method_digest, methods[method_digest] = describe(method)
        stored = {**row, "evidence": orjson.dumps(evidence, option=orjson.OPT_SERIALIZE_NUMPY).decode(), "spc_points": points,
                  "method_digest": method_digest}
        records.append(tuple(stored[name] for name in NAMES))
    return records, methods


def _nullable(array: np.ndarray) -> list[float | None]:
    return [None if x != x else x for x in array.tolist()]
