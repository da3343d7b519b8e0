"""Filters and sorting for the lists people work from (plans, escalations, meetings, the audit
trail): plain GET forms, so a filtered list works without JavaScript and has an address to share.

A value that is not one of the offered choices falls back to the default: a list is never an
error page because a link was edited by hand.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request


@dataclass(frozen=True)
class Choice:
    """One select of a filter form: its name, label, (value, text) options and the chosen value."""

    name: str
    label: str
    options: tuple[tuple[str, str], ...]
    value: str

    @property
    def items(self) -> list[dict[str, object]]:
        """Options for the NHS.UK select macro."""
        return [{"value": value, "text": text, "selected": value == self.value} for value, text in self.options]

    @property
    def is_default(self) -> bool:
        return self.value == self.options[0][0]


def choose(request: Request, name: str, label: str, options: Sequence[tuple[str, str]]) -> Choice:
    """The request's ``?name=`` if it is one of ``options``; the first option otherwise."""
    offered = tuple(options)
    asked = request.query_params.get(name, "")
    value = asked if any(asked == value for value, _ in offered) else offered[0][0]
    return Choice(name, label, offered, value)
