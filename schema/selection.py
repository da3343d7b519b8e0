"""Look-ahead over a field's selection, so a parent loads what its children will read in one go."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment


def selects(info: Any, name: str, *, selected: Sequence[Any] | None = None) -> bool:
    """Whether ``name`` is selected anywhere below the field being resolved (fragments included).
    ``selected``: ``info.selected_fields`` when the caller already has it (strawberry builds it anew
    on every access: a resolver asking several questions reads it once)."""
    return any(_contains(field.selections, name) for field in (info.selected_fields if selected is None else selected))


def selects_at(info: Any, path: Sequence[str], name: str, *, selected: Sequence[Any] | None = None) -> bool:
    """Whether ``name`` is selected on the objects ``path`` leads to below the field being resolved
    (``("nodes",)``: a connection's items), through fragments and aliases, not deeper down."""
    level = [selection for field in (info.selected_fields if selected is None else selected) for selection in _fields(field.selections)]
    for step in path:
        level = [selection for field in level if field.name == step for selection in _fields(field.selections)]
    return any(field.name == name for field in level)


def _fields(selections: Iterable[Any]) -> list[Any]:
    """The fields of one level, with fragment spreads and inline fragments opened."""
    found = []
    for selection in selections:
        if isinstance(selection, (FragmentSpread, InlineFragment)):
            found.extend(_fields(selection.selections))
        else:
            found.append(selection)
    return found


def _contains(selections: Iterable[Any], name: str) -> bool:
    for selection in selections:
        if getattr(selection, "name", None) == name:
            return True
        if _contains(getattr(selection, "selections", ()) or (), name):
            return True
    return False
