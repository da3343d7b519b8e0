"""Path converters that refuse what no row can have, before a handler or the database sees it.

An id in a path is a PostgreSQL ``integer``: a longer number used to reach the database, which
answered with an error and the visitor with a 500 (issue 12). These converters answer 404 instead,
naming the problem, as for any other address that leads nowhere.
"""
from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

from server.web.errors import INT32_MAX, AddressNotFound


def bounded_id(name_value: str) -> int:
    """The id, or AddressNotFound when it is larger than any stored id can be."""
    number = int(name_value)
    if number > INT32_MAX:
        raise AddressNotFound(f"There is nothing at this address: {name_value[:20]} is larger than any record number")
    return number


class IdConvertor(Convertor[int]):
    """``{plan_id:int}``: digits naming a row, at most 2,147,483,647."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return bounded_id(value)

    def to_string(self, value: int) -> str:
        return str(value)


def register_converters() -> None:
    """Replace Starlette's ``int`` for every route built after this call (create_app calls it first)."""
    register_url_convertor("int", IdConvertor())
