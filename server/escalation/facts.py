"""The registry of facts a tenant's conditions may name.

A fact is one named, typed value about a subject (an indicator series, a unit, a contract, a
programme, an organisation) that some part of Accord produces: the assessment of a series, a
divisional rating, an improvement plan, a forum's recorded decision, the contract register or the
escalation lifecycle itself. Ladders, cadence rules and spectrum thresholds compare facts; they never
compute them. Adding a fact is a code change here plus whatever produces it; using one is
configuration only.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

FactType = Literal["integer", "number", "boolean", "choice", "text"]

# Which operators make sense for which type of fact.
ORDERING_OPERATORS = (">=", ">", "<=", "<")
EQUALITY_OPERATORS = ("==", "!=")
MEMBERSHIP_OPERATORS = ("in", "not_in")
OPERATORS_BY_TYPE: Mapping[FactType, tuple[str, ...]] = MappingProxyType({
    "integer": ORDERING_OPERATORS + EQUALITY_OPERATORS + MEMBERSHIP_OPERATORS,
    "number": ORDERING_OPERATORS + EQUALITY_OPERATORS,
    "boolean": EQUALITY_OPERATORS,
    "choice": EQUALITY_OPERATORS + MEMBERSHIP_OPERATORS,
    "text": EQUALITY_OPERATORS + MEMBERSHIP_OPERATORS,
})


@dataclass(frozen=True)
class FactDefinition:
    name: str
    type: FactType
    produced_by: str
    description: str
    choices: tuple[str, ...] = ()

    def accepts(self, value: object) -> bool:
        """Whether a single value is of this fact's type (and, for a choice, one of its choices)."""
        if self.type == "boolean":
            return isinstance(value, bool)
        if self.type == "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if self.type == "number":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.type == "choice":
            return isinstance(value, str) and value in self.choices
        return isinstance(value, str)

    def describe_type(self) -> str:
        if self.type == "choice":
            return "one of " + ", ".join(self.choices)
        return {"integer": "a whole number", "number": "a number", "boolean": "true or false", "text": "text"}[self.type]


SERIES = "assessment of the indicator series (server/assessment)"
PLAN = "improvement plans (plan record and its trajectory)"
RISK = "risk assessment recorded with the escalation"
DECISION = "a forum decision recorded in the browser"
DIVISION = "assessment: divisional rating against the four ULHT 5.2 criteria"
PROGRAMME = "programme management office record"
CONTRACT = "contract register (the commissioner's tenant file)"
SCORECARD = "assessment: organisation or unit scorecard"
LIFECYCLE = "escalation lifecycle (the subject's open escalation)"


def _fact(name: str, fact_type: FactType, produced_by: str, description: str, choices: tuple[str, ...] = ()) -> FactDefinition:
    return FactDefinition(name, fact_type, produced_by, description, choices)


_DEFINITIONS = (
    # --- an indicator series at a unit -----------------------------------------------------------
    _fact("target_missed", "boolean", SERIES, "The latest period is on the failing side of its target."),
    _fact("months_under_target", "integer", SERIES, "Consecutive periods, up to the latest, that missed target (STW steps 1-2)."),
    _fact("months_sustained", "integer", SERIES, "Consecutive periods, up to the latest, that met target; for a unit, that met all criteria (ULHT 5.2)."),
    _fact("failure_forecast_next_quarter", "boolean", SERIES, "Failure is forecast within the next three periods (STW 'proactive forward look')."),
    _fact("national_target_at_risk", "boolean", SERIES, "A current or future national target is forecast to be missed (THGPCG 13)."),
    _fact("masked_failure", "boolean", SERIES, "A child unit fails while the aggregate passes (THGPCG 13, DOMAIN 4.2)."),
    _fact("critical_failure", "boolean", SERIES, "In, or with the potential to be in, significant failure against plan (ULHT 4)."),
    _fact("rag", "choice", SERIES, "RAG rating of the latest period.", ("red", "amber", "green")),
    _fact("spc_variation", "choice", SERIES, "Making Data Count variation verdict.",
          ("common_cause", "special_cause_improving", "special_cause_concerning")),
    _fact("spc_assurance", "choice", SERIES, "Making Data Count assurance verdict.",
          ("consistently_passing", "consistently_failing", "hit_and_miss")),
    # --- plans -----------------------------------------------------------------------------------
    _fact("improvement_plan_in_place", "boolean", PLAN, "An improvement plan (or SPIP, or exception action plan) covers the subject."),
    _fact("recovery_plan_in_place", "boolean", PLAN, "An appropriate recovery plan is in place (ULHT 4: FPEC if not)."),
    _fact("remedial_action_plan_agreed", "boolean", PLAN, "A remedial action plan is agreed with the provider (NHS Standard Contract)."),
    _fact("plan_robust", "boolean", PLAN + "; judged at the monitoring forum", "The action plan is judged sufficiently robust (THGPCG 13)."),
    _fact("months_since_plan_without_improvement", "integer", PLAN,
          "Months since the plan started in which the series has not improved; 0 with no plan or once improving (STW step 3)."),
    # --- risk and accountability -------------------------------------------------------------------
    _fact("risk_rating", "choice", RISK, "Assessed risk of the failure.", ("low", "medium", "high")),
    _fact("accountability", "choice", RISK, "Who can recover it: one organisation, several jointly, or the system (STW).",
          ("sole", "joint", "system")),
    _fact("patient_safety_risk", "boolean", RISK, "The failure carries a patient-safety (or estates/fire-safety) risk (STW, WHSSC)."),
    _fact("quality_monitoring_at_risk", "boolean", RISK, "Arrangements to monitor and improve quality are at risk (THGPCG 13)."),
    _fact("sustainability_in_question", "boolean", RISK, "The service's sustainability is in question (THGPCG 13)."),
    _fact("in_integrated_performance_report", "boolean", "indicator configuration / IPR content",
          "The indicator is reported in the Integrated Performance Report (THGPCG 13)."),
    # --- forum decisions ---------------------------------------------------------------------------
    _fact("qpc_assured", "boolean", DECISION, "System QPC is assured by the rate of improvement (STW 'assurance not received')."),
    _fact("months_since_assurance_report_without_improvement", "integer", DECISION,
          "Months since the delivery group's risks-and-mitigations report without improvement (STW)."),
    _fact("executive_team_decision", "choice", DECISION, "Further action decided by the ULHT Executive Team (ULHT 4).",
          ("none", "audit", "special_measures")),
    _fact("material_deviation", "boolean", DECISION, "The Corporate Directors Group judged the deviation material (WHSSC 8.2)."),
    _fact("requires_cet_decision", "boolean", DECISION, "The IPDB refers the exception for CET sign-off (Sheffield 3.2.1)."),
    _fact("quality_concern", "boolean", DECISION, "A service concern raised, e.g. from a regulator report or QPS (WHSSC 2)."),
    _fact("intelligence_concern", "boolean", DECISION,
          "Triangulated quality, contract, finance or performance intelligence raises a concern (Sheffield 3.2)."),
    # --- divisional rating (ULHT 5.2) --------------------------------------------------------------
    _fact("financial_plan_adhered", "boolean", DIVISION, "Criterion 1: adherence to financial plan."),
    _fact("key_quality_indicators_met", "boolean", DIVISION, "Criterion 2: all key quality indicators met."),
    _fact("key_performance_indicators_met", "boolean", DIVISION, "Criterion 3: all key performance indicators met."),
    _fact("policies_adhered", "boolean", DIVISION, "Criterion 4: full adherence to Trust policies and protocols."),
    _fact("failed_criteria", "integer", DIVISION, "How many of the four criteria failed (0-4)."),
    _fact("key_indicators_met", "boolean", DIVISION, "Every key indicator of the unit met its target."),
    _fact("all_indicators_met", "boolean", DIVISION, "Every indicator of the unit, key and non-key, met its target."),
    # --- programmes (Sheffield 3.1) ----------------------------------------------------------------
    _fact("milestone_missed", "boolean", PROGRAMME, "A key milestone was not delivered."),
    _fact("benefits_at_risk", "boolean", PROGRAMME, "Benefits (incl. QIPP savings) are below plan or forecast to be."),
    _fact("months_exception_unresolved", "integer", PROGRAMME, "Months the programme exception has stayed unresolved."),
    # --- contracts (WHSSC 6, Sheffield 3.3) --------------------------------------------------------
    _fact("contract_value", "number", CONTRACT, "Annual contract value in pounds."),
    _fact("strategically_important", "boolean", CONTRACT, "Sole provider or significant strategic link (WHSSC 6)."),
    _fact("provider_code", "text", CONTRACT, "The provider's organisation code."),
    # --- organisation scorecard (STW performance spectrum) -------------------------------------------
    _fact("kpi_targets_missed", "integer", SCORECARD, "KPI targets missed in the latest period."),
    _fact("domains_with_missed_targets", "integer", SCORECARD, "Domains with at least one missed KPI target."),
    _fact("requirements_breached", "boolean", SCORECARD, "A regulatory or contractual requirement is breached."),
    _fact("improvement_targets_missed", "boolean", SCORECARD, "Improvement standards or improvement targets are not met."),
    _fact("all_targets_exceeded", "boolean", SCORECARD, "Every KPI target is exceeded."),
    _fact("continued_improvement", "boolean", SCORECARD, "Benchmarking shows continued improvement."),
    _fact("maturity_level", "integer", "self-assessment (STW 'performance improvement culture')", "Maturity level 1-5."),
    # --- the escalation itself -------------------------------------------------------------------------
    _fact("current_level", "integer", LIFECYCLE, "Level of the subject's open escalation on this ladder; 0 when none."),
    _fact("months_in_level", "integer", LIFECYCLE, "Whole months since the open escalation reached its current level."),
)

FACTS: Mapping[str, FactDefinition] = MappingProxyType({definition.name: definition for definition in _DEFINITIONS})


def fact_definition(name: str) -> FactDefinition | None:
    return FACTS.get(name)


def check_fact_values(facts: Mapping[str, object]) -> list[str]:
    """Problems with a subject's facts: unknown names and values of the wrong type."""
    problems: list[str] = []
    for name, value in facts.items():
        definition = FACTS.get(name)
        if definition is None:
            problems.append(f"'{name}' is not a known fact")
        elif not definition.accepts(value):
            problems.append(f"fact '{name}' must be {definition.describe_type()}, not {value!r}")
    return problems
