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
PROGRAMME = "the programme record: its milestones, QIPP benefits by month and risks (server/programmes/facts.py)"
CONTRACT = "contract register (the commissioner's tenant file)"
NOTICE = "contract performance notices (raised, issued, remedial action plan agreed, closed)"
SCORECARD = "assessment: organisation or unit scorecard"
LIFECYCLE = "escalation lifecycle (the subject's open escalation)"


def _fact(name: str, fact_type: FactType, produced_by: str, description: str, choices: tuple[str, ...] = ()) -> FactDefinition:
    return FactDefinition(name, fact_type, produced_by, description, choices)


_DEFINITIONS = (
    # --- an indicator series, or the indicators of a subject together --------------------------------
    # Period counts follow each indicator's own frequency (monthly, quarterly, weekly): a quarterly
    # series counts quarters in periods_*, and the calendar months those quarters span in months_*.
    _fact("target_missed", "boolean", SERIES, "The latest period is on the failing side of its target (for a domain or organisation: any indicator's is)."),
    _fact("periods_under_target", "integer", SERIES,
          "Consecutive periods of the subject's own frequency, up to the latest, that missed target (for a group: with any indicator missing)."),
    _fact("months_under_target", "integer", SERIES, "The calendar months those periods under target span (STW steps 1-2); a quarter is three."),
    _fact("periods_sustained", "integer", SERIES,
          "Consecutive periods of the subject's own frequency, up to the latest, on target (a group: every indicator on target; "
          "a unit: no criterion failed; a contract: every contractual indicator; a programme: no exception)."),
    _fact("months_sustained", "integer", SERIES, "The calendar months those periods on target span (ULHT 5.2 'sustainable period')."),
    _fact("target_shortfall", "number", SERIES,
          "How far the latest value is on the failing side of its target, in the indicator's unit (percentages as fractions); 0 when met."),
    _fact("target_shortfall_percent", "number", SERIES,
          "The same distance as a fraction of the target (0.10: 10% short); for a group, the largest among its indicators."),
    _fact("improved_on_previous_period", "boolean", SERIES,
          "The latest value is better (by polarity) than the previous period's; for a group, fewer targets missed than the period before."),
    _fact("reporting_frequency", "choice", SERIES, "How often the subject's data are reported (a group: its most frequent indicator).",
          ("weekly", "monthly", "quarterly")),
    _fact("failure_forecast_next_quarter", "boolean", SERIES, "Failure is forecast within the next three periods (STW 'proactive forward look')."),
    _fact("national_target_at_risk", "boolean", SERIES, "A current or future national target is forecast to be missed (THGPCG 13)."),
    _fact("masked_failure", "boolean", SERIES, "A child unit fails while the aggregate passes (THGPCG 13, DOMAIN 4.2)."),
    _fact("critical_failure", "boolean", SERIES, "In, or with the potential to be in, significant failure against plan (ULHT 4)."),
    _fact("rag", "choice", SERIES, "RAG rating of the latest period (a group: the worst of its key indicators).", ("red", "amber", "green")),
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
    _fact("plan_status", "choice", PLAN, "Where the plan is in its lifecycle (DOMAIN 4.6).",
          ("critiqued", "agreed", "signed_off", "presented", "in_delivery", "escalated")),
    _fact("plan_actions_overdue", "integer", PLAN, "Actions on the plan's log past their due date and not done."),
    _fact("plan_off_trajectory", "boolean", PLAN, "The latest value is on the failing side of the plan's trajectory for that period."),
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
    _fact("all_indicators_met", "boolean", DIVISION, "Every indicator of the unit (or domain, or organisation), key and non-key, met its target."),
    # --- programmes (Sheffield 3.1) ----------------------------------------------------------------
    _fact("milestone_missed", "boolean", PROGRAMME, "A milestone is past its due date and not achieved."),
    _fact("milestones_overdue", "integer", PROGRAMME, "Milestones past their due date, neither achieved nor dropped."),
    _fact("benefits_at_risk", "boolean", PROGRAMME, "QIPP realised this financial year to date is below the plan for the same months."),
    _fact("qipp_shortfall_ytd", "number", PROGRAMME, "Pounds of QIPP planned and not realised, financial year to date (0 when on or above plan)."),
    _fact("qipp_shortfall_percent_ytd", "number", PROGRAMME,
          "That shortfall as a fraction of the year-to-date plan (0.10: 10% short); 0 when on or above plan."),
    _fact("high_risks", "integer", PROGRAMME, "Open risks scored 15 or more (likelihood x impact on the NHS 5 x 5 matrix: red)."),
    _fact("highest_risk_score", "integer", PROGRAMME, "The highest likelihood x impact score among open risks; 0 with none."),
    _fact("months_exception_unresolved", "integer", PROGRAMME,
          "Months the programme exception (a milestone overdue, QIPP behind plan or a red risk) has stayed unresolved; 0 in its first month."),
    # --- contracts (WHSSC 6, Sheffield 3.3) --------------------------------------------------------
    _fact("contract_value", "number", CONTRACT, "Annual contract value in pounds."),
    _fact("strategically_important", "boolean", CONTRACT, "Sole provider or significant strategic link (WHSSC 6)."),
    _fact("provider_code", "text", CONTRACT, "The provider's organisation code."),
    # --- contract performance notices (Sheffield 3.3; the contract page's notices) -------------------
    _fact("performance_notice_issued", "boolean", NOTICE,
          "A contract performance notice has been issued to the provider and is neither closed nor withdrawn."),
    _fact("months_since_notice_issued", "integer", NOTICE, "Whole months since the open notice was issued (0 without one)."),
    # --- organisation scorecard (STW performance spectrum) -------------------------------------------
    _fact("kpi_targets_missed", "integer", SCORECARD, "KPI targets missed in the latest period."),
    _fact("targets_missed", "integer", SCORECARD, "Targets missed in the latest period, key indicators or not."),
    _fact("domains_with_missed_targets", "integer", SCORECARD, "Domains with at least one missed KPI target."),
    _fact("requirements_breached", "boolean", SCORECARD, "A regulatory or contractual requirement is breached."),
    _fact("improvement_targets_missed", "boolean", SCORECARD, "Improvement standards or improvement targets are not met."),
    _fact("all_targets_exceeded", "boolean", SCORECARD, "Every KPI target is exceeded."),
    _fact("continued_improvement", "boolean", SCORECARD, "Benchmarking shows continued improvement."),
    _fact("maturity_level", "integer", "self-assessment (STW 'performance improvement culture')", "Maturity level 1-5."),
    # --- the escalation itself -------------------------------------------------------------------------
    _fact("current_level", "integer", LIFECYCLE, "Level of the subject's open escalation on this ladder; 0 when none."),
    _fact("months_in_level", "integer", LIFECYCLE, "Whole months since the open escalation reached its current level."),
    _fact("periods_in_level", "integer", LIFECYCLE,
          "Reporting periods of the subject's frequency since the open escalation reached its current level (de-escalation counts these)."),
)

FACTS: Mapping[str, FactDefinition] = MappingProxyType({definition.name: definition for definition in _DEFINITIONS})


SubjectType = Literal["indicator", "unit", "domain", "organisation", "contract", "programme", "plan"]

# Facts people record about any subject (a risk assessment, a forum's decision): judgements.
JUDGED = frozenset(d.name for d in _DEFINITIONS if d.produced_by in (RISK, DECISION)) | {"plan_robust", "remedial_action_plan_agreed"}
_LIFECYCLE = frozenset({"current_level", "months_in_level", "periods_in_level"})
_RUNS = frozenset({"target_missed", "periods_under_target", "months_under_target", "periods_sustained", "months_sustained",
                   "improved_on_previous_period", "reporting_frequency"})
_SERIES = _RUNS | {"target_shortfall", "target_shortfall_percent", "failure_forecast_next_quarter", "national_target_at_risk",
                   "masked_failure", "critical_failure", "rag", "spc_variation", "spc_assurance"}
_GROUP = _RUNS | {"target_shortfall_percent", "failure_forecast_next_quarter", "rag", "kpi_targets_missed", "targets_missed",
                  "all_indicators_met", "key_indicators_met", "all_targets_exceeded"}
_PLAN_OF_SERIES = frozenset({"improvement_plan_in_place", "recovery_plan_in_place", "months_since_plan_without_improvement", "accountability"})

# What each kind of subject can be told: the loader refuses a ladder whose rules name any other fact
# (server/escalation/validation.py), and the store's readers supply these and no others
# (server/escalation_store/subjects.py). Judgements and the lifecycle apply to every subject.
SUBJECT_FACTS: Mapping[SubjectType, frozenset[str]] = MappingProxyType({
    "indicator": _SERIES | _PLAN_OF_SERIES | {"in_integrated_performance_report"} | JUDGED | _LIFECYCLE,
    "unit": frozenset({"financial_plan_adhered", "key_quality_indicators_met", "key_performance_indicators_met", "policies_adhered",
                       "failed_criteria", "key_indicators_met", "all_indicators_met", "critical_failure", "rag", "recovery_plan_in_place",
                       "periods_sustained", "months_sustained", "reporting_frequency"}) | JUDGED | _LIFECYCLE,
    "domain": _GROUP | JUDGED | _LIFECYCLE,
    "organisation": _GROUP | {"domains_with_missed_targets", "maturity_level"} | JUDGED | _LIFECYCLE,
    "contract": _RUNS | {"contract_value", "strategically_important", "provider_code", "failure_forecast_next_quarter",
                         "months_since_plan_without_improvement", "targets_missed", "performance_notice_issued",
                         "months_since_notice_issued"} | JUDGED | _LIFECYCLE,
    "programme": frozenset({"milestone_missed", "milestones_overdue", "benefits_at_risk", "qipp_shortfall_ytd", "qipp_shortfall_percent_ytd",
                            "high_risks", "highest_risk_score", "months_exception_unresolved", "periods_sustained", "months_sustained",
                            "target_missed", "reporting_frequency"}) | JUDGED | _LIFECYCLE,
    "plan": _SERIES | _PLAN_OF_SERIES | {"plan_status", "plan_actions_overdue", "plan_off_trajectory"} | JUDGED | _LIFECYCLE,
})
# Cadence rules about an escalation (WHSSC 6: meetings at the escalation level's cadence) read its lifecycle.
CADENCE_SUBJECT_FACTS: Mapping[str, frozenset[str]] = MappingProxyType({
    "unit": SUBJECT_FACTS["unit"], "organisation": SUBJECT_FACTS["organisation"], "contract": SUBJECT_FACTS["contract"],
    "escalation": _LIFECYCLE | JUDGED,
})


def subject_types_supplying(name: str) -> tuple[str, ...]:
    """The subject types that can be told this fact (for error messages)."""
    return tuple(kind for kind, names in SUBJECT_FACTS.items() if name in names)


def fact_definition(name: str) -> FactDefinition | None:
    return FACTS.get(name)


def check_fact_values(facts: Mapping[str, object], known: Mapping[str, FactDefinition] = FACTS) -> list[str]:
    """Problems with a subject's facts: unknown names and values of the wrong type.

    ``known`` is the registry, or a tenant's (the registry and its own judgements: server/judgements/kinds.py).
    """
    problems: list[str] = []
    for name, value in facts.items():
        definition = known.get(name)
        if definition is None:
            problems.append(f"'{name}' is not a known fact")
        elif not definition.accepts(value):
            problems.append(f"fact '{name}' must be {definition.describe_type()}, not {value!r}")
    return problems
