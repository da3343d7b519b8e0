"""The floor for bench_graphql.py: the same reads as plain asyncpg + orjson, no GraphQL, no ORM.

Each request opens a transaction as the application role with the same access setting Accord's
requests carry (row-level security does the same work), runs one SQL statement per read and
shapes the same JSON a tool would receive from Accord. Started by bench_graphql.py as its own
uvicorn process:

    ACCORD_RAW_DSN=postgresql://... ACCORD_RAW_ORG_IDS=1,2,3 uvicorn tests.benchmarks.raw_endpoint:app
"""
from __future__ import annotations

import os
from contextlib import asynccontextmanager

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.assessment.codes import POINT_TYPES
from server.assessment_store.points import decode_points
from server.reporting.series import _SERIES

POOL: dict[str, asyncpg.Pool] = {}
ORG_IDS = os.environ.get("ACCORD_RAW_ORG_IDS", "")

SYSTEM_POSITION = """
select o.code, i.code, i.name, i.unit, a.period, a.value, a.target, a.rag, a.variation, a.assurance, a.periods_under_target
from health_system s
join lateral (select s.organisation_id as id union select m.organisation_id from system_membership m where m.system_id = s.id) members on true
join organisation o on o.id = members.id
join indicator i on i.org_id = o.id
left join assessment a on a.indicator_id = i.id and a.unit_id is null and a.is_latest
where s.code = $1
order by o.id, i.position
"""

COMPARISON = """
select i.code, o.code, a.period, a.value, a.target, a.rag, a.variation, a.assurance
from indicator i join organisation o on o.id = i.org_id
left join assessment a on a.indicator_id = i.id and a.unit_id is null and a.is_latest
where i.code = any($1::text[])
order by i.code, o.name
"""

ORGANISATION_INDICATORS = "select i.id, i.code from indicator i join organisation o on o.id = i.org_id where o.code = $1 order by i.position limit $2"


async def _fetch(sql: str, *args):  # type: ignore[no-untyped-def]
    async with POOL["pool"].acquire() as connection, connection.transaction():
        await connection.execute(f"select set_config('app.org_ids', '{ORG_IDS}', true)")
        return await connection.fetch(sql, *args)


def _number(value: float) -> float | None:
    return None if value != value else value  # NaN: no value at that point


def _json(payload: object) -> Response:
    return Response(orjson.dumps({"data": payload}), media_type="application/json")


async def system_position(request: Request) -> Response:
    """Every member's every indicator with its latest organisation-level rating."""
    rows = await _fetch(SYSTEM_POSITION, request.query_params["code"])
    organisations: dict[str, list] = {}
    for org, code, name, unit, period, value, target, rag, variation, assurance, under in rows:
        organisations.setdefault(org, []).append({"code": code, "name": name, "unit": unit, "latest": {
            "period": period, "value": value, "target": target, "rag": rag, "variation": variation, "assurance": assurance,
            "periodsUnderTarget": under}})
    return _json({"system": {"organisations": [{"code": org, "indicators": {"nodes": nodes}} for org, nodes in organisations.items()]}})


async def organisation_series(request: Request) -> Response:
    code, count = request.query_params["code"], int(request.query_params.get("indicators", "20"))
    indicators = await _fetch(ORGANISATION_INDICATORS, code, count)
    ids = [row[0] for row in indicators]
    sql = _SERIES.format(unit_filter="a.unit_id is null", measurement_unit_filter="").replace(":ids", "$1").replace(":start", "$2").replace(":end", "$3")
    import datetime as dt

    rows = await _fetch(sql, ids, dt.date.min, dt.date.max)
    series: dict[int, list] = {i: [] for i in ids}
    # The SPC points are stored column-wise (assessment.spc_points, migration 0028), on each series'
    # first row: decoded once per series, the k-th observed point for the series' k-th row.
    points: dict[int, tuple] = {}
    for row in rows:
        if row[13] is not None:
            decoded = decode_points(row[13])
            observed = decoded.observed
            points[row[0]] = (decoded.floats["mean"][observed].tolist(), decoded.floats["lower_limit"][observed].tolist(),
                              decoded.floats["upper_limit"][observed].tolist(), decoded.point_type[observed].tolist())
        mean, lower, upper, kind = points.get(row[0], ((), (), (), ()))
        k = row[12]
        present = k < len(mean)
        series[row[0]].append({"period": row[1], "value": row[2], "numerator": row[3], "denominator": row[4], "target": row[5],
                               "rag": row[7], "mean": _number(mean[k]) if present else None,
                               "lowerLimit": _number(lower[k]) if present else None, "upperLimit": _number(upper[k]) if present else None,
                               "pointType": POINT_TYPES[kind[k]] if present else None})
    return _json({"organisation": {"indicators": {"nodes": [{"code": code, "series": series[i]} for i, code in indicators]}}})


async def comparison(request: Request) -> Response:
    codes = request.query_params["codes"].split(",")
    rows = await _fetch(COMPARISON, codes)
    found: dict[str, list] = {}
    for code, org, period, value, target, rag, variation, assurance in rows:
        found.setdefault(code, []).append({"organisationCode": org, "period": period, "value": value, "target": target, "rag": rag,
                                           "variation": variation, "assurance": assurance})
    return _json({"indicatorComparisons": [{"code": code, "entries": entries} for code, entries in found.items()]})


@asynccontextmanager
async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
    # The application login (no BYPASSRLS): row-level security does the same work as for Accord.
    POOL["pool"] = await asyncpg.create_pool(os.environ["ACCORD_RAW_DSN"], min_size=2, max_size=10)
    yield
    await POOL["pool"].close()


app = Starlette(routes=[
    Route("/system-position", system_position), Route("/organisation-series", organisation_series), Route("/comparison", comparison),
], lifespan=lifespan)
