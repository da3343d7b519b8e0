"""What one GraphQL request may ask for, checked before anything runs, and how often a caller may ask.

A request is refused during validation (nothing executes) when it is deeper than the depth limit
(introspection included: a ``__schema { types { fields { type { ofType ... } } } }`` bomb counts
like any other nesting) or when its estimated cost is over budget. The estimate multiplies down each
path the list sizes a query can return: a field's ``first``/``last``/``limit`` argument (from the
query, its variables or the argument's default), else a list field's ``max_items`` metadata
(``strawberry.field(metadata={"max_items": 60})``), else the default list size. Every field counts
once per object it is resolved for, so 30 aliases of a large query cost 30 times one.
"""
from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from server.settings import Settings

T = TypeVar("T")

PAGE_SIZE_ARGUMENTS = ("first", "last", "limit")
LIST_SIZE_METADATA = "max_items"


@dataclass(frozen=True)
class GraphQLLimits:
    max_depth: int = 10
    # The standard introspection query (GraphiQL, codegen) nests about 13 deep through ofType.
    max_introspection_depth: int = 15
    max_cost: int = 500_000
    default_list_size: int = 100
    introspection: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> "GraphQLLimits":
        return cls(
            max_depth=settings.graphql_max_depth,
            max_cost=settings.graphql_max_cost,
            default_list_size=settings.graphql_default_list_size,
            introspection=settings.graphql_introspection_enabled,
        )


# Set by the HTTP view for each request; an operation run outside a request (tests, scripts) gets
# the defaults. A context variable rather than schema state: one schema serves every request.
current_limits: ContextVar[GraphQLLimits] = ContextVar("accord_graphql_limits", default=GraphQLLimits())


@contextlib.contextmanager
def bound(variable: ContextVar[T], value: T) -> Iterator[None]:
    """``variable`` set to ``value`` for the block (this request), then restored."""
    token = variable.set(value)
    try:
        yield
    finally:
        variable.reset(token)


def limits_in_force(limits: GraphQLLimits) -> contextlib.AbstractContextManager[None]:
    return bound(current_limits, limits)


class RequestLimits(SchemaExtension):
    """Adds the depth, cost and (when switched off) introspection rules to this operation's validation."""

    def on_operation(self) -> Iterator[None]:
        limits = current_limits.get()
        context = self.execution_context
        rules: list[type[ValidationRule]] = [
            depth_rule(limits.max_depth, limits.max_introspection_depth),
            cost_rule(limits, context.variables or {}),
        ]
        if not limits.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        context.validation_rules = (*context.validation_rules, *rules)
        yield


# --- depth ---------------------------------------------------------------------------------------


def depth_rule(max_depth: int, max_introspection_depth: int) -> type[ValidationRule]:
    class DepthLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = _fragments(self.context)
            for selected in _fields(node.selection_set, fragments):
                introspection = selected.name.value.startswith("__")
                limit = max_introspection_depth if introspection else max_depth
                if _depth(selected, fragments, limit) > limit:
                    what = "introspection" if introspection else "query"
                    self.report_error(GraphQLError(
                        f"This {what} nests more than {limit} levels deep at '{selected.name.value}'."
                        " Ask for less at once, or split it into several requests.",
                        selected, extensions={"code": "DEPTH_LIMIT_EXCEEDED"},
                    ))

    return DepthLimit


def _depth(field: FieldNode, fragments: Mapping[str, FragmentDefinitionNode], budget: int) -> int:
    """Levels from ``field`` down, counted no further than ``budget`` + 1: enough to refuse, and
    finite for a document whose fragments spread each other (reported by NoFragmentCyclesRule)."""
    if field.selection_set is None or budget <= 0:
        return 1
    return 1 + max((_depth(child, fragments, budget - 1) for child in _fields(field.selection_set, fragments)), default=0)


# --- cost ----------------------------------------------------------------------------------------


def cost_rule(limits: GraphQLLimits, variables: Mapping[str, Any]) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            root = self.context.schema.get_root_type(node.operation)
            if root is None:
                return
            estimate = CostEstimate(self.context.schema, _fragments(self.context), variables, limits.default_list_size)
            cost = estimate.selection(node.selection_set, root, None)
            if cost > limits.max_cost:
                name = f"'{node.name.value}'" if node.name else "This operation"
                self.report_error(GraphQLError(
                    f"{name} could return about {cost:,} values; the limit per request is {limits.max_cost:,}."
                    " Ask for fewer items (first/limit), fewer fields or fewer aliases, and page through the rest.",
                    node, extensions={"code": "COST_LIMIT_EXCEEDED", "cost": cost, "maxCost": limits.max_cost},
                ))

    return CostLimit


@dataclass
class CostEstimate:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    default_list_size: int
    _known: dict[tuple[int, str, int | None], int] = field(default_factory=dict, init=False, repr=False)

    def selection(self, selection_set: SelectionSetNode, parent: GraphQLNamedType, page_size: int | None) -> int:
        """Values returned by ``selection_set`` for one ``parent`` object (an upper bound)."""
        key = (id(selection_set), parent.name, page_size)
        if key in self._known:  # a fragment used again; 0 while in progress (a cycle, reported elsewhere)
            return self._known[key]
        self._known[key] = 0
        total = 0
        for selected, owner in self._fields_with_owner(selection_set, parent, set()):
            name = selected.name.value
            if name.startswith("__"):
                total += 1  # __typename, and introspection (bounded by the schema, limited by depth)
                continue
            definition: GraphQLField | None = getattr(owner, "fields", {}).get(name)  # unions have none
            if definition is None:
                continue  # unknown fields are reported by the standard validation rules
            size = self._page_size(selected, definition)
            if is_list_type(get_nullable_type(definition.type)):
                multiplier, inherited = size or page_size or self._list_size(definition), None
            else:
                # A connection: its ``first`` sizes the edges/nodes lists inside it.
                multiplier, inherited = 1, size
            children = 0
            if selected.selection_set is not None:
                children = self.selection(selected.selection_set, get_named_type(definition.type), inherited)
            total += multiplier * (1 + children)
        self._known[key] = total
        return total

    def _fields_with_owner(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, expanded: set[str]
    ) -> Iterator[tuple[FieldNode, GraphQLNamedType]]:
        """Like ``_fields``, with the type each field is selected on (inline fragments and spreads narrow it)."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                owner = self.schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                yield from self._fields_with_owner(selection.selection_set, owner or parent, expanded)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in expanded:
                expanded.add(selection.name.value)
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    owner = self.schema.get_type(fragment.type_condition.name.value) or parent
                    yield from self._fields_with_owner(fragment.selection_set, owner, expanded)

    def _page_size(self, field: FieldNode, definition: GraphQLField) -> int | None:
        given = {argument.name.value: argument.value for argument in field.arguments or ()}
        if "representations" in given:  # federation's _entities: one entity per representation
            representations = self._value(given["representations"])
            return len(representations) if isinstance(representations, list) else None
        for name in PAGE_SIZE_ARGUMENTS:
            if name not in definition.args:
                continue
            value = self._value(given[name]) if name in given else definition.args[name].default_value
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
        return None

    def _value(self, node: Any) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, ListValueNode):
            return list(node.values)
        return None

    def _list_size(self, definition: GraphQLField) -> int:
        strawberry_field = definition.extensions.get("strawberry-definition")
        metadata = getattr(strawberry_field, "metadata", None) or {}
        return int(metadata.get(LIST_SIZE_METADATA, self.default_list_size))


def _fragments(context: ValidationContext) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in context.document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def _fields(selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode], expanded: set[str] | None = None) -> Iterator[FieldNode]:
    """The fields of a selection set, through inline fragments and fragment spreads. A fragment
    spread twice at one level is expanded once: execution merges its fields, and a document that
    repeats spreads cannot make the walk exponential."""
    expanded = set() if expanded is None else expanded
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, expanded)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in expanded:
            expanded.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _fields(fragment.selection_set, fragments, expanded)


# --- rate ----------------------------------------------------------------------------------------


class RateLimiter:
    """A token bucket per caller, in this process: ``burst`` requests at once, refilled at ``rate`` per second."""

    MAX_CALLERS = 10_000

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # caller -> (tokens, when counted)

    def take(self, caller: str, now: float | None = None) -> float | None:
        """None if ``caller`` may go ahead; otherwise the seconds to wait before trying again."""
        now = time.monotonic() if now is None else now
        tokens, counted = self._buckets.get(caller, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - counted) * self.rate)
        if tokens < 1:
            self._buckets[caller] = (tokens, now)
            return (1 - tokens) / self.rate
        if len(self._buckets) >= self.MAX_CALLERS and caller not in self._buckets:
            self._forget_rested(now)
        self._buckets[caller] = (tokens - 1, now)
        return None

    def _forget_rested(self, now: float) -> None:
        """Drop callers whose bucket has refilled: forgetting them changes nothing."""
        for caller, (tokens, counted) in list(self._buckets.items()):
            if tokens + (now - counted) * self.rate >= self.burst:
                del self._buckets[caller]


def retry_after_seconds(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
