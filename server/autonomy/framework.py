"""An organisation's earned-autonomy scheme as its tenant file declares it: the ladder whose levels and
rules say what a division earns, the powers each level grants, and the accountability review."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from server.tenants.spec import AutonomyPowerSpec, EarnedAutonomySpec, LadderSpec, LevelSpec, TenantFile


@dataclass(frozen=True)
class AutonomyFramework:
    spec: EarnedAutonomySpec
    ladder: LadderSpec  # purpose autonomy, applies to units
    resets: tuple[LadderSpec, ...]  # the escalation ladders whose level the review agrees

    @property
    def resting_level(self) -> int:
        return self.ladder.levels[0].level

    def level(self, number: int | None) -> LevelSpec | None:
        return next((level for level in self.ladder.levels if level.level == number), None)

    def level_name(self, number: int | None) -> str:
        level = self.level(number)
        return level.name if level else "not yet rated"

    def powers_of(self, number: int | None) -> list[AutonomyPowerSpec]:
        """The powers a level grants, in the order the scheme lists them."""
        level = self.level(number)
        granted = set(level.requires) if level else set()
        return [power for power in self.spec.powers if power.code in granted]

    def next_review_due(self, last_held_on: dt.date | None) -> dt.date | None:
        """The review after the last one, ``every_months`` later (the month's last day where it is shorter); None: none held yet."""
        if last_held_on is None:
            return None
        months = last_held_on.month - 1 + self.spec.review.every_months
        year, month = last_held_on.year + months // 12, months % 12 + 1
        for day in range(last_held_on.day, 0, -1):
            try:
                return dt.date(year, month, day)
            except ValueError:
                continue
        raise AssertionError("unreachable")


def autonomy_framework(framework: TenantFile | None) -> AutonomyFramework | None:
    """The scheme, or None when the tenant declares none (the loader checked its references)."""
    if framework is None or framework.earned_autonomy is None:
        return None
    spec = framework.earned_autonomy
    ladders = {ladder.code: ladder for ladder in framework.escalation.ladders}
    return AutonomyFramework(spec, ladders[spec.ladder], tuple(ladders[code] for code in spec.review.resets))
