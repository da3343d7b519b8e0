"""Relay-style cursor connections for every list that can grow.

Cursors are opaque to tools (base64 of a position in the list's stable order). ``first`` is
bounded, so a query's size is known before it runs (the cost limit reads the same argument).
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import orjson
import strawberry

from schema.context import BadInput

T = TypeVar("T")

MAX_PAGE = 1000


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(name="Edge")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(name="Connection")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    nodes: list[T]
    page_info: PageInfo
    total_count: int


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p:{position}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The position after which the page starts (-1: from the beginning)."""
    if cursor is None:
        return -1
    try:
        kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "p" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise BadInput(f"'{cursor}' is not a cursor from this API: pass an endCursor you were given")


def page_bounds(first: int, after: str | None) -> tuple[int, int]:
    """(offset, limit) for a page; refuses sizes outside 1..MAX_PAGE."""
    if not 0 < first <= MAX_PAGE:
        raise BadInput(f"first must be between 1 and {MAX_PAGE} (was {first})")
    return decode_cursor(after) + 1, first


def connection(
    items: Sequence[T], *, first: int, after: str | None, total: int | None = None, offset: int | None = None, edges: bool = True,
) -> Connection[T]:
    """A page of ``items``. Given ``offset`` the items are already that page (SQL limited them,
    one extra row fetched to know whether a next page exists); otherwise the page is cut here.
    ``edges=False`` (the query selects no edges) skips making a cursor per item; pageInfo keeps its cursors."""
    if offset is None:
        offset, _ = page_bounds(first, after)
        page, more = list(items[offset:offset + first]), len(items) > offset + first
        total = len(items) if total is None else total
    else:
        page, more = list(items[:first]), len(items) > first
        total = offset + len(items) if total is None else total
    made = [Edge(cursor=encode_cursor(offset + i), node=node) for i, node in enumerate(page)] if edges else []
    return Connection(edges=made, nodes=page, total_count=total, page_info=_page_info(offset, len(page), more))


def prerendered_connection(page: orjson.Fragment, *, offset: int, first: int, total: int) -> Connection[Any]:
    """A page whose nodes are already JSON (schema/prerender.py): the same page info and count as
    ``connection`` gives for the same items; edges are never selected on this path."""
    size = max(0, min(first, total - offset))
    return Connection(edges=[], nodes=page, total_count=total, page_info=_page_info(offset, size, total > offset + first))  # type: ignore[arg-type]


def _page_info(offset: int, size: int, more: bool) -> PageInfo:
    return PageInfo(has_next_page=more, has_previous_page=offset > 0, start_cursor=encode_cursor(offset) if size else None,
                    end_cursor=encode_cursor(offset + size - 1) if size else None)
