"""A series' SPC points stored column-wise in one bytea (spc_points), no longer as JSON objects in its evidence (issue 10)

The latest assessment of a series carried every point of its chart in its evidence: 60 JSON objects
of 15 fields, four fifths of a 30 kB document. Parsing and compressing those documents was over
half of PostgreSQL's work when a national trust's month is derived (250 series). The points are
now one binary value per series, each field a run of fixed-size numbers (the layout is documented
in server/assessment_store/points.py), and the evidence keeps the rest. Readers rebuild the same
document (points.evidence_document), so what they answer is unchanged.

Stored evidence is rewritten here, in SQL (float8send writes a float8's big-endian bytes), so that
no reader needs to know two forms. The row-level security the owner is subject to (FORCE) is
lifted for these statements, inside the migration's transaction. The downgrade puts the points
back into the documents, decoding the bytes in Python (SQL cannot read a float8 from bytes).

Revision ID: 0028
Revises: 0025
"""
import struct
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: Union[str, Sequence[str], None] = "0025"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# As the layout is today (a migration must not change when the code does).
RULES = ("none", "astronomical", "trend", "two_in_three", "shift")
POINT_TYPES = ("common_cause", "special_cause_improvement", "special_cause_concern", "special_cause_neutral", "missing", "not_assessed")
FLAGS = ("in_baseline", "moving_range_excluded")
RULE_FLAGS = ("astronomical", "trend", "two_in_three", "shift")
FLOATS = ("value", "mean", "lower_limit", "upper_limit", "lower_two_sigma", "upper_two_sigma", "moving_range")
BYTES_PER_POINT = 3 + 2 + len(FLAGS) + len(RULE_FLAGS) + 8 * len(FLOATS)


def _sql_array(words: tuple[str, ...]) -> str:
    return "array[" + ", ".join(f"'{word}'" for word in words) + "]"


def _byte(value: str, width: int = 2) -> str:
    return f"decode(lpad(to_hex({value}), {width}, '0'), 'hex')"


def _runs() -> list[str]:
    """Each field's bytes for every point (``p``, in order ``o``), in the stored order."""
    flag = "case when {} then '\\x01'::bytea else '\\x00'::bytea end"
    elements = [
        _byte("(p ->> 'direction')::int + 1"),
        _byte(f"array_position({_sql_array(POINT_TYPES)}, p ->> 'point_type') - 1"),
        _byte(f"array_position({_sql_array(RULES)}, p ->> 'deciding_rule') - 1"),
        _byte("(p ->> 'segment')::int", width=4),
        *(flag.format(f"(p ->> '{name}')::bool") for name in FLAGS),
        *(flag.format(f"p -> 'rules' ? '{name}'") for name in RULE_FLAGS),
        *(f"float8send(coalesce((p ->> '{name}')::float8, 'NaN'))" for name in FLOATS),
    ]
    return [f"string_agg({element}, ''::bytea order by o)" for element in elements]


def upgrade() -> None:
    op.execute("alter table assessment add column spc_points bytea")
    op.execute("alter table assessment no force row level security")
    op.execute(f"""
        update assessment a
        set spc_points = (select {' || '.join(_runs())} from jsonb_array_elements(a.evidence #> '{{spc,points}}') with ordinality e(p, o)),
            evidence = a.evidence #- '{{spc,points}}'
        where a.is_latest and jsonb_typeof(a.evidence #> '{{spc,points}}') = 'array'
    """)
    op.execute("alter table assessment force row level security")


def _points(data: bytes) -> list[dict]:  # type: ignore[type-arg]
    n = len(data) // BYTES_PER_POINT
    direction, point_type, rule = data[:n], data[n:2 * n], data[2 * n:3 * n]
    segment = struct.unpack(f">{n}H", data[3 * n:5 * n])
    offset = 5 * n
    flags = {}
    for name in (*FLAGS, *RULE_FLAGS):
        flags[name] = data[offset:offset + n]
        offset += n
    floats = {}
    for name in FLOATS:
        floats[name] = [None if x != x else x for x in struct.unpack(f">{n}d", data[offset:offset + 8 * n])]
        offset += 8 * n
    return [
        {"index": t, "value": floats["value"][t], "segment": segment[t], "in_baseline": bool(flags["in_baseline"][t]),
         **{name: floats[name][t] for name in FLOATS[1:6]}, "moving_range": floats["moving_range"][t],
         "moving_range_excluded": bool(flags["moving_range_excluded"][t]),
         "rules": [name for name in RULE_FLAGS if flags[name][t]], "deciding_rule": RULES[rule[t]], "direction": direction[t] - 1,
         "point_type": POINT_TYPES[point_type[t]]}
        for t in range(n)
    ]


def downgrade() -> None:
    connection = op.get_bind()
    op.execute("alter table assessment no force row level security")
    rows = connection.execute(sa.text("select org_id, id, period, spc_points from assessment where spc_points is not null and evidence ? 'spc'"))
    update = sa.text("update assessment set evidence = jsonb_set(evidence, '{spc,points}', cast(:points as jsonb))"
                     " where org_id = :org_id and id = :id and period = :period")
    import json

    for org_id, row_id, period, data in rows.all():
        connection.execute(update, {"points": json.dumps(_points(bytes(data))), "org_id": org_id, "id": row_id, "period": period})
    op.execute("alter table assessment force row level security")
    op.execute("alter table assessment drop column spc_points")
