"""Look-ahead over a field's selection, so a parent loads what its children will read in one go."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def selects(info: Any, name: str) -> bool:
    """Whether ``name`` is selected anywhere below the field being resolved (fragments included)."""
    return any(_contains(field.selections, name) for field in info.selected_fields)


def _contains(selections: Iterable[Any], name: str) -> bool:
    for selection in selections:
        if getattr(selection, "name", None) == name:
            return True
        if _contains(getattr(selection, "selections", ()) or (), name):
            return True
    return False
