"""One indicator's latest stored assessment at one unit, as the pages show it.

``LATEST_STATUS_COLUMNS`` is the select list every reporting query shares (alias ``a`` for the
assessment row), so that ``IndicatorStatus.from_columns`` reads the same shape everywhere. The
direction of the latest point (high / low) follows from the verdict and polarity, read out of
the stored evidence and points in SQL only for neutral indicators, so a page never loads a whole
evidence document just to draw an H or an L.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.reporting.words import ASSURANCE_WORDS, RAG_WORDS, count_of_periods, period_label, variation_sentence

# The side of a special-cause verdict follows from the verdict and the indicator's polarity
# (improvement on a higher-is-better indicator is high); only a neutral indicator's verdict needs
# the stored evidence: reading it for every row dominated the pages' database time. The deciding
# point's direction is a byte of the stored SPC points (direction + 1 at offset t: points.py; the
# evidence and the points of a row are written together, so from_point is always one of its columns).
LATEST_STATUS_COLUMNS = """
    a.period, a.value, a.target, a.trajectory, a.rag, a.variation,
    case
      when a.variation = 'special_cause_improving' then case i.polarity when 'higher_is_better' then 1 when 'lower_is_better' then -1 end
      when a.variation = 'special_cause_concerning' then case i.polarity when 'higher_is_better' then -1 when 'lower_is_better' then 1 end
      when a.variation = 'special_cause_neutral'
        then get_byte(a.spc_points, (a.evidence #>> '{spc,variation,from_point}')::int) - 1
    end,
    a.assurance, a.periods_under_target, a.failure_forecast, a.masked_failure
"""
LATEST_STATUS_WIDTH = 11


# Built for every row of every page (1,250 per system position at national scale): slots and no
# frozen-instance set-up make each one several times cheaper; nothing changes one after it is made.
@dataclass(slots=True)
class IndicatorStatus:
    period: dt.date
    value: float | None
    target: float | None
    trajectory: float | None
    rag: str
    variation: str
    variation_direction: int | None  # +1 high, -1 low: the side the deciding special-cause rule points to
    assurance: str
    periods_under_target: int
    failure_forecast: bool
    masked_failure: bool
    frequency: str = "monthly"

    @classmethod
    def from_columns(cls, columns: Sequence[Any], frequency: str = "monthly") -> IndicatorStatus | None:
        """From the LATEST_STATUS_COLUMNS slice of a row; None when the left join found no assessment."""
        if columns[0] is None:
            return None
        (period, value, target, trajectory, rag, variation, direction, assurance, under, forecast, masked) = columns[:LATEST_STATUS_WIDTH]
        return cls(
            period, None if value is None else float(value), None if target is None else float(target),
            None if trajectory is None else float(trajectory), rag or "none", variation or "none", direction, assurance or "none",
            int(under or 0), bool(forecast), bool(masked), frequency,
        )

    @property
    def period_label(self) -> str:
        return period_label(self.period, self.frequency)

    @property
    def rag_words(self) -> str:
        return RAG_WORDS.get(self.rag, RAG_WORDS["none"])

    @property
    def variation_words(self) -> str:
        return variation_sentence(self.variation, self.variation_direction)

    @property
    def assurance_words(self) -> str:
        return ASSURANCE_WORDS.get(self.assurance, ASSURANCE_WORDS["none"])

    @property
    def off_target(self) -> bool:
        """Red or amber: amber still misses the target (within the band, or only on trajectory)."""
        return self.rag in ("red", "amber")

    @property
    def concerning(self) -> bool:
        return self.variation == "special_cause_concerning"

    @property
    def under_target_words(self) -> str:
        return count_of_periods(self.periods_under_target, self.frequency) if self.periods_under_target else ""


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
