"""The executor's fast path for lists of plain objects answers exactly what graphql-core answers."""
from __future__ import annotations

import datetime as dt
from enum import Enum

import pytest
import strawberry

from schema.executor import FastListExecutor


@strawberry.enum
class Colour(Enum):
    RED = "red"
    GREEN = "green"


@strawberry.type
class Leaf:
    name: str
    colour: Colour
    score: float | None
    tags: list[str]
    rank: int = 0
    flagged: bool = False
    planted: dt.date | None = None


@strawberry.type
class Branch:
    code: str
    leaves: list[Leaf]
    best: Leaf | None

    @strawberry.field
    def shouted(self, suffix: str = "!") -> str:
        return self.code.upper() + suffix


class PlainLeaf:
    """Not a strawberry object: the schema's records are read by attribute, whatever their class."""

    def __init__(self, name: str, colour: str, score: float | None, tags: list[str]):
        self.name, self.colour, self.score, self.tags = name, colour, score, tags
        self.rank, self.flagged = 2**31, True  # an Int out of range: graphql-core's error, with its path
        self.planted = "soon"  # not a date: the Date scalar's own error, with its path


def _branches(broken: bool = False) -> list[Branch]:
    leaves = [Leaf(name=f"leaf{i}", colour=Colour.RED if i % 2 else Colour.GREEN, score=None if i % 3 == 0 else i / 3, tags=["a", str(i)],
                   rank=i * 7, flagged=bool(i % 2), planted=dt.date(2026, 1, i + 1) if i % 2 else None)
              for i in range(5)]
    plain = [PlainLeaf("plain", "green", 1.5, [])]
    if broken:
        plain.append(PlainLeaf(None, "red", 2.0, []))  # type: ignore[arg-type]  # a null where the schema promises a name
    return [Branch(code="b1", leaves=leaves, best=leaves[1]), Branch(code="b2", leaves=plain, best=None)]  # type: ignore[list-item]


@strawberry.type
class Query:
    @strawberry.field
    def branches(self, broken: bool = False) -> list[Branch]:
        return _branches(broken)


DOCUMENTS = [
    "{ branches { code leaves { name colour score tags } best { name } } }",
    "{ branches { code leaves { rank flagged score } } }",
    "{ branches { code best { name planted } leaves { planted } } }",
    "{ branches { ... on Branch { c: code leaves { ...L } } } } fragment L on Leaf { n: name colour __typename }",
    "query($s: Boolean!) { branches { code leaves { name @skip(if: $s) score @include(if: $s) } } }",
    "{ branches { shouted(suffix: \"?\") leaves { name } } }",
    "{ branches(broken: true) { code leaves { name colour } } }",
]


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("skip", [True, False])
async def test_fast_path_answers_exactly_as_graphql_core(document, skip):
    plain = strawberry.Schema(query=Query)
    fast = strawberry.Schema(query=Query, execution_context_class=FastListExecutor)
    variables = {"s": skip} if "$s" in document else None
    expected = await plain.execute(document, variable_values=variables)
    answered = await fast.execute(document, variable_values=variables)
    assert answered.data == expected.data
    assert [(e.message, e.path) for e in answered.errors or []] == [(e.message, e.path) for e in expected.errors or []]


async def test_a_null_for_a_non_null_field_is_reported_with_its_path():
    fast = strawberry.Schema(query=Query, execution_context_class=FastListExecutor)
    result = await fast.execute("{ branches(broken: true) { leaves { name } } }")
    assert result.errors and result.errors[0].path == ["branches", 1, "leaves", 1, "name"]
