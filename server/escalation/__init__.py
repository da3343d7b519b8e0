"""Escalation engine: tenant ladders, cadence rules and the escalation lifecycle, evaluated from facts.

Pure: no database, no clock, no I/O. See tenants/README.md for the condition language and the level
semantics.
"""
from server.escalation.cadence import CadenceDecision, required_cadence
from server.escalation.conditions import ConditionResult, ConditionTrace, evaluate_condition
from server.escalation.engine import EscalationStep, lifecycle_facts, simulate, step
from server.escalation.facts import FACTS, FactDefinition, check_fact_values
from server.escalation.ladder import InvalidFacts, LadderOutcome, evaluate_ladder
from server.escalation.lifecycle import (
    Actor,
    Escalation,
    Status,
    Transition,
    TransitionEvent,
    TransitionKind,
    TransitionRefused,
    allowed_transitions,
    apply_transition,
    reconcile,
    requires_override_reason,
)
from server.escalation.spectrum import SpectrumRating, rate_on_spectrum
from server.escalation.validation import validate_tenant_conditions

__all__ = [
    "FACTS", "Actor", "CadenceDecision", "ConditionResult", "ConditionTrace", "Escalation", "EscalationStep",
    "FactDefinition", "InvalidFacts", "LadderOutcome", "SpectrumRating", "Status", "Transition", "TransitionEvent",
    "TransitionKind", "TransitionRefused", "allowed_transitions", "apply_transition", "check_fact_values",
    "evaluate_condition", "evaluate_ladder", "lifecycle_facts", "rate_on_spectrum", "reconcile", "required_cadence",
    "requires_override_reason", "simulate", "step", "validate_tenant_conditions",
]
