"""A series' SPC points stored column-wise in one compact binary value, not a JSON object per point.

The latest row of a series carries every point of its SPC chart (server/assessment/evidence.py:
value, limits, rules, point type, ... for each period). As JSON objects inside the evidence that
was four fifths of a 30 kB document per series, and PostgreSQL parsing and compressing it was
over half of its work in deriving a national trust's month. Here they are one ``bytea``
(``assessment.spc_points``, migration 0028): each field one run of fixed-size big-endian numbers,
field after field, so numpy writes and reads a series' points in a few calls, COPY passes them
through untouched, and PostgreSQL has nothing to parse. (Typed arrays were tried first: asyncpg
checks every element of an array it sends, which cost more Python time than the JSON saved.)

Layout for n points, 67 bytes a point (n = length / 67), in this order:
    direction + 1, point type, deciding rule     uint8 x n each (engine codes: server/assessment/codes.py)
    segment                                      uint16 x n
    in baseline, moving range excluded,
    astronomical, trend, two in three, shift     uint8 (0/1) x n each
    value, mean, lower limit, upper limit, lower two sigma, upper two sigma, moving range
                                                 float8 x n each, NaN where the document has null
The direction comes first so that SQL can read one point's with ``get_byte(spc_points, t) - 1``.

Readers see the document they always saw: ``with_points`` puts the points back into the
evidence (evidence.py: ``evidence_document``) in the order PostgreSQL's jsonb keeps keys (by length, then bytes), so the GraphQL evidence
and the indicator page read exactly what the stored JSON used to give them; ``ObservedPoints``
gives the chart readers the k-th observed point (the k-th stored row of the series).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from server.assessment import codes

if TYPE_CHECKING:
    from server.assessment.spc import SpcBatch

CODE_FIELDS = (("direction", np.uint8), ("point_type", np.uint8), ("deciding_rule", np.uint8), ("segment", np.dtype(">u2")))
FLAG_FIELDS = ("in_baseline", "moving_range_excluded", "astronomical", "trend", "two_in_three", "shift")
RULE_FIELDS = FLAG_FIELDS[2:]  # the order of a point's "rules" list
FLOAT_FIELDS = ("value", "mean", "lower_limit", "upper_limit", "lower_two_sigma", "upper_two_sigma", "moving_range")
_FLOAT = np.dtype(">f8")
BYTES_PER_POINT = sum(np.dtype(kind).itemsize for _, kind in CODE_FIELDS) + len(FLAG_FIELDS) + _FLOAT.itemsize * len(FLOAT_FIELDS)


def encode_points(batch: SpcBatch, series: list[int]) -> list[bytes]:
    """Per series (indexes into the batch), its points in the stored layout."""
    rows = np.asarray(series, dtype=np.int64)
    limits = batch.limits
    parts = [
        (batch.direction[rows] + 1).astype(np.uint8), batch.point_type[rows].astype(np.uint8), batch.rule[rows].astype(np.uint8),
        limits.segment[rows].astype(">u2"),
        *(flags[rows].astype(np.uint8) for flags in (limits.baseline, limits.moving_range_excluded, batch.astronomical, batch.trend,
                                                      batch.two_in_three, batch.shift)),
        *(_canonical(values[rows]) for values in (batch.values, limits.mean, limits.lower, limits.upper, limits.lower_two_sigma,
                                                  limits.upper_two_sigma, limits.moving_range)),
    ]
    # One row of bytes per series: every field's run side by side.
    block = np.concatenate([part.view(np.uint8).reshape(len(rows), -1) for part in parts], axis=1)
    return [row.tobytes() for row in block]


def _canonical(values: np.ndarray) -> np.ndarray:
    """Big-endian float8, every NaN the same bytes (arithmetic can leave the sign bit set): equal points, equal bytes."""
    return np.where(np.isnan(values), np.nan, values).astype(_FLOAT)


@dataclass(frozen=True)
class DecodedPoints:
    """One series' stored points as arrays (``decode_points``)."""

    direction: np.ndarray
    point_type: np.ndarray
    deciding_rule: np.ndarray
    segment: np.ndarray
    flags: dict[str, np.ndarray]
    floats: dict[str, np.ndarray]

    @property
    def observed(self) -> np.ndarray:
        """The columns with a value, in order: the k-th is the series' k-th stored row."""
        return np.flatnonzero(~np.isnan(self.floats["value"]))


def decode_points(data: bytes) -> DecodedPoints:
    n, remainder = divmod(len(data), BYTES_PER_POINT)
    if remainder:
        raise ValueError(f"stored SPC points of {len(data)} bytes are not whole points of {BYTES_PER_POINT}")
    offset, fields = 0, {}
    for name, kind in CODE_FIELDS:
        fields[name] = np.frombuffer(data, dtype=kind, count=n, offset=offset).astype(np.int64)
        offset += n * np.dtype(kind).itemsize
    flags = {}
    for name in FLAG_FIELDS:
        flags[name] = np.frombuffer(data, dtype=np.uint8, count=n, offset=offset).astype(bool)
        offset += n
    floats = {}
    for name in FLOAT_FIELDS:
        floats[name] = np.frombuffer(data, dtype=_FLOAT, count=n, offset=offset).astype(np.float64)
        offset += n * _FLOAT.itemsize
    return DecodedPoints(fields["direction"] - 1, fields["point_type"], fields["deciding_rule"], fields["segment"], flags, floats)


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if x != x else x for x in values.tolist()]


def jsonb_key_order(key: str) -> tuple[int, bytes]:
    """PostgreSQL keeps a jsonb object's keys shortest first, then bytewise: the order readers get them in."""
    encoded = key.encode()
    return len(encoded), encoded


_POINT_KEYS = sorted(
    ("index", "value", "segment", "in_baseline", "mean", "lower_limit", "upper_limit", "lower_two_sigma", "upper_two_sigma",
     "moving_range", "moving_range_excluded", "rules", "deciding_rule", "direction", "point_type"),
    key=jsonb_key_order,
)


def points_document(data: bytes) -> list[dict[str, Any]]:
    """The points as the evidence document lists them (server/assessment/evidence.py), keys in jsonb order."""
    points = decode_points(data)
    n = len(points.direction)
    columns: dict[str, list[Any]] = {name: _nullable(values) for name, values in points.floats.items()}
    columns.update(
        index=list(range(n)), segment=points.segment.tolist(), direction=points.direction.tolist(),
        in_baseline=points.flags["in_baseline"].tolist(), moving_range_excluded=points.flags["moving_range_excluded"].tolist(),
        deciding_rule=[codes.RULES[code] for code in points.deciding_rule.tolist()],
        point_type=[codes.POINT_TYPES[code] for code in points.point_type.tolist()],
    )
    fired = [points.flags[name].tolist() for name in RULE_FIELDS]
    columns["rules"] = [[name for name, flags in zip(RULE_FIELDS, fired) if flags[t]] for t in range(n)]
    ordered = [columns[key] for key in _POINT_KEYS]
    return [dict(zip(_POINT_KEYS, values)) for values in zip(*ordered)]


def with_points(evidence: dict[str, Any], points: bytes | None) -> dict[str, Any]:
    """The evidence with its SPC points put back (keys in jsonb's order), as the whole document was stored before 0028."""
    if points is None or "spc" not in evidence:
        return evidence
    spc = {**evidence["spc"], "points": points_document(points)}
    return {**evidence, "spc": dict(sorted(spc.items(), key=lambda item: jsonb_key_order(item[0])))}


def split_document(evidence: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
    """The inverse of ``with_points``: the evidence without its points, and the points stored."""
    spc = evidence.get("spc") if evidence else None
    if not spc or "points" not in spc:
        return evidence, None
    points = spc["points"]

    def floats(name: str) -> np.ndarray:
        return _canonical(np.array([np.nan if p[name] is None else p[name] for p in points], dtype=np.float64))

    parts = [
        np.array([p["direction"] + 1 for p in points], dtype=np.uint8),
        np.array([codes.POINT_TYPES.index(p["point_type"]) for p in points], dtype=np.uint8),
        np.array([codes.RULES.index(p["deciding_rule"]) for p in points], dtype=np.uint8),
        np.array([p["segment"] for p in points], dtype=">u2"),
        *(np.array([p[name] for p in points], dtype=np.uint8) for name in FLAG_FIELDS[:2]),
        *(np.array([name in p["rules"] for p in points], dtype=np.uint8) for name in RULE_FIELDS),
        *(floats(name) for name in FLOAT_FIELDS),
    ]
    without = {**evidence, "spc": {key: value for key, value in spc.items() if key != "points"}}
    return without, b"".join(part.tobytes() for part in parts)


@dataclass(frozen=True)
class ChartPoint:
    """One observed point as the chart readers take it (server/reporting/series.py, board.py)."""

    index: int
    mean: float | None
    lower_limit: float | None
    upper_limit: float | None
    segment: int
    rules: tuple[str, ...]
    deciding_rule: str
    point_type: str
    direction: int


def observed_points(data: bytes | None) -> list[ChartPoint]:
    """The series' observed points in order (the k-th is its k-th stored row); none without stored points."""
    if data is None:
        return []
    points = decode_points(data)
    columns = points.observed
    mean, lower, upper = (_nullable(points.floats[name][columns]) for name in ("mean", "lower_limit", "upper_limit"))
    fired = [points.flags[name][columns].tolist() for name in RULE_FIELDS]
    return [
        ChartPoint(t, mean[k], lower[k], upper[k], segment, tuple(name for name, flags in zip(RULE_FIELDS, fired) if flags[k]),
                   codes.RULES[rule], codes.POINT_TYPES[point_type], direction)
        for k, (t, segment, rule, point_type, direction) in enumerate(zip(
            columns.tolist(), points.segment[columns].tolist(), points.deciding_rule[columns].tolist(),
            points.point_type[columns].tolist(), points.direction[columns].tolist()))
    ]
