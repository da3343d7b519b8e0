"""A latest assessment's evidence read back whole, as the engine explained it (server/assessment/evidence.py).

What is stored is split three ways: the evidence document itself, the series' SPC points column-wise
(points.py) and the descriptions of the method and rule sets shared by every series derived alike
(methods.py). ``evidence_document`` puts them together, keys in jsonb's order: readers (the GraphQL
evidence, the indicator page) answer exactly as when the whole document was one jsonb value.
"""
from __future__ import annotations

from typing import Any

from server.assessment_store.methods import merge_method, split_method
from server.assessment_store.points import split_document, with_points


def evidence_document(evidence: dict[str, Any] | None, points: bytes | None, method: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole document from the stored evidence, points and shared description (each may be missing)."""
    if not evidence:
        return {}
    return with_points(merge_method(evidence, method), points)


def split_evidence(document: dict[str, Any]) -> tuple[dict[str, Any], bytes | None, dict[str, Any]]:
    """The inverse of ``evidence_document``: the evidence as stored, its points and its shared description."""
    rest, points = split_document(document)
    rest, method = split_method(rest)
    return rest, points, method
