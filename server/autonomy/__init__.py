"""Earned autonomy (ULHT PMF 5.2 and 6): the level of the scheme of delegation each division's sustained
performance earns, the level in force, kept in history and recomputed with the ladders; and the
six-monthly accountability review that agrees each division's levels of autonomy and escalation.
Declared under ``earned_autonomy:`` in the tenant file."""
