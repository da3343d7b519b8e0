"""The fields every rating of a series carries, shared by the types that report one."""
from __future__ import annotations

import strawberry

from schema.enums import Assurance, Rag, Variation


@strawberry.type(description="A series' value at one period rated against its target, with Making Data Count verdicts.")
class Rating:
    value: float | None
    target: float | None
    rag: Rag  # type: ignore[valid-type]
    variation: Variation = strawberry.field(description="The series' verdict; NONE except on a series' latest point.")  # type: ignore[valid-type]
    assurance: Assurance = strawberry.field(description="The series' verdict; NONE except on a series' latest point.")  # type: ignore[valid-type]
    periods_under_target: int
