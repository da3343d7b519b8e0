"""A graphql-core executor that completes lists of plain objects in one tight loop.

Per-field resolution dominates GraphQL's cost for the lists tools ask for (a system position is
thousands of cells of a handful of scalar fields; TECH_NOTES: ~9 ms of CPU per 500 objects x 5
fields). For a list whose items are an object type and whose whole sub-selection is *basic*
fields — no resolver, no arguments, no directives deferring anything, only attribute reads of
scalars, enums and nested plain objects — the result is fully determined by the items' attributes.
Such a selection is planned once per list (fields collected by graphql-core itself, so fragments,
aliases, ``@skip`` and ``@include`` behave as the spec says) and then completed item by item
without building a resolve-info, a path and an awaitable check for every leaf.

Anything outside that shape (a resolver, arguments, an abstract type, a null where the schema
promises a value, a failed ``is_type_of`` check) takes graphql-core's own path for the whole list,
so errors, their paths and null propagation are exactly the spec's. The fast path never changes a
result: tests/graphql/test_executor.py compares both on the same documents.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from types import CodeType
from typing import Any, NamedTuple

import orjson
from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_BUILT_IN_SCALARS = (GraphQLString, GraphQLInt, GraphQLFloat, GraphQLBoolean)

Completer = Callable[[Any], Any]


class _Fallback(Exception):
    pass


class FastListExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with a planned completion for lists of plain objects."""

    def complete_list_value(self, return_type, field_details_list, info, path, result, position_context):  # type: ignore[no-untyped-def, override]
        if type(result) is orjson.Fragment:
            return result  # a list PostgreSQL wrote as JSON for exactly this selection (schema/prerender.py)
        if isinstance(result, list) and result:
            plan = self._list_plan(return_type, field_details_list)
            if plan is not None:
                try:
                    return plan(result)
                except Exception:  # noqa: BLE001 - any surprise is graphql-core's to report, with its path
                    pass
        return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)

    def _list_plan(self, return_type: GraphQLList, field_details_list: Any) -> Completer | None:
        cache: dict[tuple[int, int], Completer | None] = self.__dict__.setdefault("_accord_plans", {})
        key = (id(return_type), id(field_details_list))
        if key not in cache:
            cache[key] = self._plan(return_type, field_details_list)
        return cache[key]

    def _plan(self, output_type: GraphQLOutputType, field_details_list: Any) -> Completer | None:
        """A function completing a value of ``output_type``, or None when the shape is not plain."""
        if is_non_null_type(output_type):
            inner = self._plan(output_type.of_type, field_details_list)  # type: ignore[union-attr]
            return None if inner is None else _non_null(inner)
        if is_list_type(output_type):
            item = self._plan(output_type.of_type, field_details_list)  # type: ignore[union-attr]
            return None if item is None else _list_of(item)
        if isinstance(output_type, GraphQLEnumType):
            return _enum(output_type)
        if output_type in _BUILT_IN_SCALARS:
            return _built_in_scalar(output_type)  # type: ignore[arg-type]
        if is_leaf_type(output_type):
            return _leaf(output_type.coerce_output_value)  # type: ignore[union-attr]
        if is_object_type(output_type):
            return self._object_plan(output_type, field_details_list)  # type: ignore[arg-type]
        return None  # interfaces and unions resolve their type at run time

    def _object_plan(self, object_type: GraphQLObjectType, field_details_list: Any) -> Completer | None:
        grouped, new_defer_usages, forbidden = self.collect_subfields(object_type, field_details_list)
        if new_defer_usages or forbidden:
            return None
        fields: list[_PlannedField] = []
        for response_name, sub_details in grouped.items():
            node = sub_details[0].node
            name = node.name.value
            if name == "__typename":
                fields.append(_PlannedField(response_name, None, object_type, _constant(object_type.name)))
                continue
            field_def = self.schema.get_field(object_type, name)
            if field_def is None or field_def.args or node.arguments or any(d.node.arguments for d in sub_details[1:]):
                return None
            attribute = _basic_attribute(field_def)
            if attribute is None:
                return None
            completer = self._plan(field_def.type, sub_details)
            if completer is None:
                return None
            fields.append(_PlannedField(response_name, attribute, field_def.type, completer))
        return _compile_object(object_type, fields)


class _PlannedField(NamedTuple):
    response_name: str
    attribute: str | None  # None: __typename
    output_type: GraphQLOutputType
    completer: Completer


def _compile_object(object_type: GraphQLObjectType, fields: list[_PlannedField]) -> Completer:
    """One straight-line function completing an object: each field read once, String/Int/Float/
    Boolean values of the right type and enum values passed or looked up inline, anything else
    (nested objects, lists, custom scalars, wrong types) handed to its planned completer.

    A generated function instead of a loop over (name, completer) pairs: per cell it saves a
    closure call per leaf and the dictionary comprehension's frame (the planned loop spent half
    its time there on a system position of 1,250 indicators).
    """
    namespace: dict[str, Any] = {"_Fallback": _Fallback, "is_type_of": object_type.is_type_of, "_INT_RANGE": _INT_RANGE,
                                 "isfinite": math.isfinite}
    lines = ["def complete_object(source):", "    if source is None:", "        return None"]
    if object_type.is_type_of is not None:
        lines += ["    if is_type_of(source, None) is not True:", "        raise _Fallback"]
    entries = []
    for index, field in enumerate(fields):
        value, completer = f"v{index}", f"c{index}"
        namespace[completer] = field.completer
        entries.append(f"{field.response_name!r}: {value}")
        if field.attribute is None:
            lines.append(f"    {value} = {object_type.name!r}")
            continue
        non_null = is_non_null_type(field.output_type)
        inner = field.output_type.of_type if non_null else field.output_type  # type: ignore[union-attr]
        lines.append(f"    {value} = source.{field.attribute}")
        check = _inline_check(inner, value, namespace, index)
        if check is None and isinstance(inner, GraphQLScalarType):
            # Another scalar (Date, DateTime...): its own serialisation, called directly.
            # As _leaf: a value that does not serialise (None back) is graphql-core's to report.
            namespace[f"s{index}"] = inner.coerce_output_value
            lines += [f"    if {value} is not None:", f"        {value} = s{index}({value})", f"        if {value} is None:",
                      "            raise _Fallback"]
            if non_null:
                lines += ["    else:", "        raise _Fallback"]
            continue
        if check is None:
            lines.append(f"    {value} = {completer}({value})")  # the completer raises _Fallback for a null it must not return
            continue
        lines.append(f"    if {value} is None:")
        lines.append("        raise _Fallback" if non_null else "        pass")
        lines.append(f"    elif not ({check}):")
        lines.append(f"        {value} = {completer}({value})")
        if isinstance(inner, GraphQLEnumType):
            lines.append("    else:")
            lines.append(f"        {value} = n{index}[{value}]")
    lines.append("    return {" + ", ".join(entries) + "}")
    exec(compiled("\n".join(lines)), namespace)  # noqa: S102 - the source is built here from schema names, never from input
    return namespace["complete_object"]  # type: ignore[no-any-return]


@lru_cache(maxsize=1024)
def compiled(source: str, filename: str = "<accord completer>") -> CodeType:
    """Compiled once per shape (plans are made per request; compiling each time cost a third of a
    small query's completion). Also compiles schema/prerender.py's row builders."""
    return compile(source, filename, "exec")


def _inline_check(output_type: Any, value: str, namespace: dict[str, Any], index: int) -> str | None:
    """A Python expression true when ``value`` (not None) completes to itself (or, for an enum, is a known value)."""
    if output_type is GraphQLString:
        return f"type({value}) is str"
    if output_type is GraphQLBoolean:
        return f"type({value}) is bool"
    if output_type is GraphQLInt:
        return f"type({value}) is int and {value} in _INT_RANGE"
    if output_type is GraphQLFloat:
        return f"type({value}) is float and isfinite({value})"
    if isinstance(output_type, GraphQLEnumType):
        namespace[f"n{index}"] = enum_names(output_type)
        return f"{value}.__hash__ is not None and {value} in n{index}"
    return None


def _basic_attribute(field_def: Any) -> str | None:
    """The Python attribute a strawberry field reads, if it is a basic field (no resolver)."""
    if not getattr(field_def.resolve, "_is_default", False):
        return None
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if definition is None or not definition.is_basic_field:
        return None
    return str(definition.python_name)


def _non_null(inner: Completer) -> Completer:
    def complete(value: Any) -> Any:
        completed = inner(value)
        if completed is None:
            raise _Fallback  # graphql-core reports the error with its path and propagates the null
        return completed

    return complete


def _list_of(item: Completer) -> Completer:
    def complete(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, (list, tuple)):
            raise _Fallback
        return [item(entry) for entry in value]

    return complete


def _leaf(coerce: Callable[[Any], Any]) -> Completer:
    def complete(value: Any) -> Any:
        if value is None:
            return None
        coerced = coerce(value)
        if coerced is None:
            raise _Fallback
        return coerced

    return complete


_INT_RANGE = range(-(2**31), 2**31)


def _built_in_scalar(scalar: GraphQLScalarType) -> Completer:
    """String, Int, Float and Boolean values already of the right Python type pass straight through
    (what graphql-core's coercion returns for them); anything else takes that coercion."""
    coerce = _leaf(scalar.coerce_output_value)
    if scalar is GraphQLString:
        return lambda value: value if type(value) is str else coerce(value)
    if scalar is GraphQLBoolean:
        return lambda value: value if type(value) is bool else coerce(value)
    if scalar is GraphQLInt:
        return lambda value: value if type(value) is int and value in _INT_RANGE else coerce(value)
    return lambda value: value if type(value) is float and math.isfinite(value) else coerce(value)


def enum_names(enum_type: GraphQLEnumType) -> dict[Any, str]:
    """Each value (and, for strawberry enums, each Python member) a record may hold, to its name."""
    names: dict[Any, str] = {definition.value: name for name, definition in enum_type.values.items()}
    for member in getattr(enum_type, "wrapped_cls", ()):
        if member.value in names:
            names[member] = names[member.value]
    return names


def _enum(enum_type: GraphQLEnumType) -> Completer:
    """An enum's name by dictionary lookup of the value (or the Python member) a record holds;
    strawberry's own coercion scans the values for a member and costs several microseconds a cell."""
    names = enum_names(enum_type)
    coerce = _leaf(enum_type.coerce_output_value)

    def complete(value: Any) -> Any:
        if value is None:
            return None
        try:
            return names[value]
        except (KeyError, TypeError):
            return coerce(value)

    return complete


def _constant(value: str) -> Completer:
    return lambda _: value

