"""Lists answered from plain rows straight into JSON, the way PostGraphile plans a query.

A system position is 1,250 indicators with their latest rating. Read through records, each value is
put in a named tuple, read back by the executor leaf by leaf and written out again: ~25 ms of Python
per request. When the selection under a connection's ``nodes`` is made only of fields that map to
columns (a *shape*, declared beside the statement that reads them), the selection is translated
into the list of columns it needs and a generated function turning one row into the answer's
object; the page is written by orjson at once and handed to the response as an ``orjson.Fragment``
that the executor passes through untouched.

The translation follows graphql-core's own field collection (fragments, aliases, ``@skip`` and
``@include`` with variables, ``__typename``). Anything else under ``nodes`` (a field with a
resolver or arguments, ``edges``, a field the shape does not declare, ``@defer``) answers through
the ordinary path instead, which is the reference: tests/graphql/test_prerender.py compares both on
the same documents. Values are written as the GraphQL serialisers write them: enums by name,
floats as float8, dates as ISO dates; a shape declares only columns whose nullability matches the
schema's. Column expressions come from the shape and response names from the parsed document
(GraphQL names), never from argument values.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    get_named_type,
    get_nullable_type,
)
from graphql.execution.collect_fields import FieldDetails, FragmentDetails, collect_subfields
from graphql.execution.values import VariableValues

from schema.executor import compiled, enum_names


@dataclass(frozen=True)
class Column:
    """A field read from one SQL expression of the statement (its aliases)."""

    sql: str


@dataclass(frozen=True)
class Nested:
    """A nullable object field whose fields come from the same row, present when ``present`` holds."""

    present: str
    fields: Mapping[str, Column | Nested]


@dataclass(frozen=True)
class Attribute:
    """A field read from an attribute of a Python object a service made (its value already of the
    field's Python type: float, date, str, int, bool or an enum's value), for :func:`list_plan`."""

    name: str


Shape = Mapping[str, Column | Nested | Attribute]


@dataclass(frozen=True)
class RowPlan:
    """What to read for a selection and how to write one row of it: ``columns`` are SQL
    expressions (the statement's aliases), ``build`` makes the answer's object from a row whose
    first ``offset`` values are the statement's own."""

    columns: tuple[str, ...]
    source: str  # the builder's code: with ``columns``, the plan's identity (a DataLoader key)
    build: Callable[[Sequence[Any]], dict[str, Any]]
    nested: frozenset[str]  # the Nested fields it reads (the statement joins their rows only then)

    def page(self, rows: Sequence[Sequence[Any]]) -> orjson.Fragment:
        build = self.build
        return orjson.Fragment(orjson.dumps([build(row) for row in rows]))


_PLANS: dict[tuple[Any, ...], tuple[Any, RowPlan | None]] = {}
MAX_PLANS = 1024


def nodes_plan(info: Any, shape: Shape, *, offset: int) -> RowPlan | None:
    """The plan for the connection's ``nodes`` as the query selects them, or None when the
    connection's selection must take the ordinary path (``edges``, several ``nodes`` selections,
    a field outside ``shape``). The statement's rows carry ``offset`` values of its own first.

    Planned once per field of a document and set of variables: the parsed document is kept
    (schema/caching.py), so its nodes are the same objects on every request sending the same text;
    the cached entry keeps the operation it was made for, so a recycled id never matches."""
    return _cached(info._raw_info, ("nodes", id(shape), offset), lambda raw: _plan(raw, shape, offset))


def _cached(raw: Any, key: tuple[Any, ...], make: Callable[[Any], RowPlan | None]) -> RowPlan | None:
    """``make(raw)``, kept per field of a document, set of variables and ``key``."""
    try:
        variables = orjson.dumps(raw.variable_values, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return make(raw)
    key = (id(raw.operation), tuple(map(id, raw.field_nodes)), variables, *key)
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is raw.operation:
        return cached[1]
    plan = make(raw)
    if len(_PLANS) >= MAX_PLANS:
        _PLANS.clear()
    _PLANS[key] = (raw.operation, plan)
    return plan


def _plan(raw: Any, shape: Shape, offset: int) -> RowPlan | None:
    connection_type = get_named_type(raw.return_type)
    if not isinstance(connection_type, GraphQLObjectType) or "nodes" not in connection_type.fields:
        return None
    grouped = _collect(raw, connection_type, [FieldDetails(node, None) for node in raw.field_nodes])
    if grouped is None:
        return None
    nodes = [details for details in grouped.values() if details[0].node.name.value == "nodes"]
    if len(nodes) != 1 or any(details[0].node.name.value not in ("nodes", "totalCount", "pageInfo", "__typename") for details in grouped.values()):
        return None
    return _built(raw, connection_type.fields["nodes"].type, nodes[0], shape, offset)


def _built(raw: Any, list_type: Any, details: list[FieldDetails], shape: Shape, offset: int) -> RowPlan | None:
    """The plan writing one item of ``list_type`` as ``details`` select it, or None outside ``shape``."""
    item_type = get_named_type(list_type)
    if not isinstance(item_type, GraphQLObjectType):
        return None
    planner = _Planner(raw, offset)
    expression = planner.object(item_type, details, shape)
    if expression is None:
        return None
    source = f"def build(r):\n    return {expression}\n"
    namespace = dict(planner.names)
    exec(compiled(source, "<accord row plan>"), namespace)  # noqa: S102 - built here from shape columns/attributes and GraphQL names, never from input values
    return RowPlan(tuple(planner.columns), source, namespace["build"], frozenset(planner.nested))


def list_plan(info: Any, field_name: str, shape: Shape) -> RowPlan | None:
    """The plan for the list field ``field_name`` of the object (or each object of the list) this
    resolver returns, its items Python objects read by :class:`Attribute` (a list a service computed
    in Python, such as a comparison's ranked entries); None when the selection must take the
    ordinary path (the field selected under several names or with arguments, a field outside
    ``shape``). ``RowPlan.page(items)`` writes the list. Cached as :func:`nodes_plan` is."""
    return _cached(info._raw_info, ("list", field_name, id(shape)), lambda raw: _list_plan(raw, field_name, shape))


def _list_plan(raw: Any, field_name: str, shape: Shape) -> RowPlan | None:
    parent_type = get_named_type(raw.return_type)
    if not isinstance(parent_type, GraphQLObjectType) or field_name not in parent_type.fields:
        return None
    grouped = _collect(raw, parent_type, [FieldDetails(node, None) for node in raw.field_nodes])
    if grouped is None:
        return None
    chosen = [details for details in grouped.values() if details[0].node.name.value == field_name]
    if len(chosen) != 1 or any(details.node.arguments for details in chosen[0]):
        return None
    return _built(raw, parent_type.fields[field_name].type, chosen[0], shape, 0)


def _collect(raw: Any, object_type: GraphQLObjectType, details: list[FieldDetails]) -> dict[str, list[FieldDetails]] | None:
    fragments = {name: FragmentDetails(definition) for name, definition in raw.fragments.items()}
    variables = raw.variable_values  # strawberry hands resolvers the coerced values as a plain dict
    if not isinstance(variables, VariableValues):
        variables = VariableValues({}, variables)
    grouped, new_defer_usages, forbidden = collect_subfields(raw.schema, fragments, variables, raw.operation, object_type, details)
    if new_defer_usages or forbidden:
        return None
    return dict(grouped)


class _Planner:
    """Collects the columns a selection reads and writes the Python expression of one object."""

    def __init__(self, raw: Any, offset: int) -> None:
        self.raw, self.offset = raw, offset
        self.columns: list[str] = []
        self.names: dict[str, Any] = {}
        self.nested: set[str] = set()

    def column(self, sql: str) -> str:
        if sql not in self.columns:
            self.columns.append(sql)
        return f"r[{self.offset + self.columns.index(sql)}]"

    def object(self, object_type: GraphQLObjectType, details: list[FieldDetails], shape: Shape) -> str | None:
        grouped = _collect(self.raw, object_type, details)
        if not grouped:
            return None
        entries: list[str] = []
        for response_name, field_details in grouped.items():
            node = field_details[0].node
            name = node.name.value
            if name == "__typename":
                entries.append(f"{response_name!r}: {object_type.name!r}")
                continue
            entry, field = shape.get(name), object_type.fields.get(name)
            if entry is None or field is None or any(d.node.arguments for d in field_details):
                return None
            output = get_nullable_type(field.type)
            if isinstance(entry, Nested):
                if not isinstance(output, GraphQLObjectType) or field.type is not output:  # a nested object must be nullable
                    return None
                inner = self.object(output, field_details, entry.fields)
                if inner is None:
                    return None
                self.nested.add(name)
                entries.append(f"{response_name!r}: None if {self.column(entry.present)} is None else {inner}")
                continue
            value = self.attribute(entry.name, output) if isinstance(entry, Attribute) else self.leaf(entry.sql, output)
            if value is None:
                return None
            entries.append(f"{response_name!r}: {value}")
        return "{" + ", ".join(entries) + "}"

    def attribute(self, name: str, output: Any) -> str | None:
        """An object's attribute as the GraphQL serialiser would write it (no casts: it holds its Python type)."""
        if not name.isidentifier():
            return None
        if isinstance(output, GraphQLEnumType):
            enum = f"enum_{output.name}"
            self.names[enum] = enum_names(output)
            return f"(None if r.{name} is None else {enum}[r.{name}])"
        if output in (GraphQLFloat, GraphQLString, GraphQLBoolean, GraphQLInt) or (isinstance(output, GraphQLScalarType) and output.name == "Date"):
            return f"r.{name}"
        return None

    def leaf(self, sql: str, output: Any) -> str | None:
        """The column as the GraphQL serialiser would write it: enums by name, Float as float8."""
        if isinstance(output, GraphQLEnumType):
            name = f"enum_{output.name}"
            self.names[name] = enum_names(output)
            value = self.column(sql)
            return f"(None if {value} is None else {name}[{value}])"
        if output is GraphQLFloat:
            return self.column(f"({sql})::float8")
        if output in (GraphQLString, GraphQLBoolean, GraphQLInt):
            return self.column(sql)
        if isinstance(output, GraphQLScalarType) and output.name == "Date":
            return self.column(f"({sql})::date")  # a date: orjson writes YYYY-MM-DD, as the Date scalar does
        return None
