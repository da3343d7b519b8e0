"""Enums for every closed vocabulary a tool reads, built from the words the server stores.

Each enum is made from the tuple the database constraints and the engine use, so a new word added
there appears here and in the committed schema (whose drift test then asks for it to be exported).
"""
from __future__ import annotations

from enum import Enum
from typing import get_args

import strawberry

from server.assessment import codes
from server.assessment.outturn import OUTTURN_METHODS
from server.assessment.spectrum import SPECTRUM_LEVELS
from server.db.models.escalations import ESCALATION_STATUSES
from server.db.models.indicators import FREQUENCIES, ROLLUPS, SOURCES, UNITS
from server.db.models.measurements import STATUSES as MEASUREMENT_STATUSES
from server.tenants.spec import DataQualityRating as _DataQualityRatings
from server.db.models.plans import ACCOUNTABILITIES, ACTION_STATUSES, PLAN_KINDS, PLAN_STATUSES


DATA_QUALITY_RATINGS: tuple[str, ...] = get_args(_DataQualityRatings)


def _enum(name: str, words: tuple[str, ...], description: str) -> type[Enum]:
    return strawberry.enum(Enum(name, {word.upper(): word for word in words}), description=description)  # type: ignore[return-value]


Rag = _enum("Rag", ("red", "amber", "green", "none"), "Rating against target and trajectory (none: no target or no value).")
Variation = _enum("Variation", codes.VARIATIONS, "Making Data Count variation verdict of a series' latest point.")
Assurance = _enum("Assurance", codes.ASSURANCES, "Making Data Count assurance: can the process be relied on to meet the target?")
PointType = _enum("PointType", codes.POINT_TYPES, "SPC type of one point (NHSRplotthedots point_type).")
Polarity = _enum("Polarity", ("higher_is_better", "lower_is_better", "neutral"), "Which direction is better.")
Rollup = _enum("Rollup", ROLLUPS, "How values roll up from units to the organisation (DOMAIN 4.2).")
Frequency = _enum("Frequency", FREQUENCIES, "How often the indicator is measured.")
IndicatorSource = _enum("IndicatorSource", SOURCES, "Where the indicator comes from.")
MeasureUnit = _enum("MeasureUnit", UNITS, "The unit of an indicator's values (percentages are fractions: 0.95 = 95%).")
MeasurementStatus = _enum("MeasurementStatus", MEASUREMENT_STATUSES, "Whether a measurement has been validated.")
EscalationStatus = _enum("EscalationStatus", ESCALATION_STATUSES, "Where an escalation stands.")
PlanStatus = _enum("PlanStatus", PLAN_STATUSES, "Where an improvement plan stands in its lifecycle (SPIP: seed 004).")
PlanKind = _enum("PlanKind", PLAN_KINDS, "Recovery plan, exception action plan or System Performance Improvement Plan.")
Accountability = _enum("Accountability", ACCOUNTABILITIES, "Sole (one organisation), joint (several) or system.")
ActionStatus = _enum("ActionStatus", ACTION_STATUSES, "Where an action on a plan's or meeting's log stands.")
OutturnMethod = _enum(
    "OutturnMethod", OUTTURN_METHODS,
    "How a forecast outturn is made: run_rate (the months to come at this year's average) or linear (a least-squares line projected).",
)
Spectrum = _enum("Spectrum", SPECTRUM_LEVELS, "STW performance spectrum of an organisation (DOMAIN 4.4).")
DataQualityRating = _enum("DataQualityRating", DATA_QUALITY_RATINGS, "A data-quality kitemark rating (ULHT PMF 2.5 and 10).")
