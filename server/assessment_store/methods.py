"""The parts of an evidence document that say how it was derived, stored once for every series that shares them.

Each series' evidence names its method and rule sets in full: the SPC method in words and the
parameters of the SPC, RAG, under-target, forecast and improvement rules (about 3 kB of the 6.5 kB
left once the points moved out: points.py). They are the same for every series derived with the
same settings, so they are stored once in ``assessment_method`` (migration 0028a), keyed by a digest
of their content, and the latest row names that digest in ``method_digest``. Readers put them back
(``merge_method``) where the document had them, keys in jsonb's order, so what they answer is
unchanged. A row stored before 0028a keeps them in its own evidence and names no digest.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.points import jsonb_key_order

# (part of the document, key in it) of every shared description.
SHARED = (("spc", "method"), ("spc", "rule_set"), ("rag", "rule_set"), ("under_target", "rule_set"), ("forecast", "rule_set"),
          ("improvement", "rule_set"))
MethodDescriptions = Mapping[str, bytes]  # digest -> the description as JSON

# The description of a stored row, for a select list (alias ``a`` for the assessment row).
METHOD_OF = "(select m.description from assessment_method m where m.digest = a.method_digest)"


def split_method(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The document without its shared descriptions, and those descriptions (nested as in the document)."""
    rest, method = dict(document), {}
    for part, key in SHARED:
        section = rest.get(part)
        if isinstance(section, dict) and key in section:
            method.setdefault(part, {})[key] = section[key]
            rest[part] = {name: value for name, value in section.items() if name != key}
    return rest, method


def describe(method: dict[str, dict[str, Any]]) -> tuple[str, bytes]:
    """The digest that names a description, and the description as stored."""
    encoded = orjson.dumps(method)
    return hashlib.blake2b(encoded, digest_size=16).hexdigest(), encoded


def merge_method(evidence: dict[str, Any], method: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """The evidence with its shared descriptions put back, each part's keys in jsonb's order."""
    if not method:
        return evidence
    merged = dict(evidence)
    for part, described in method.items():
        whole = {**merged.get(part, {}), **described}
        merged[part] = dict(sorted(whole.items(), key=lambda item: jsonb_key_order(item[0])))
    return merged


async def store_methods(session: AsyncSession, methods: MethodDescriptions) -> None:
    """Store the descriptions not stored yet (their content is their key, so a stored one is the same)."""
    if not methods:
        return
    await session.exec(text(
        "insert into assessment_method (digest, description)"
        " select digest, cast(description as jsonb) from unnest(cast(:digests as text[]), cast(:descriptions as text[])) u(digest, description)"
        " on conflict (digest) do nothing"
    ), params={"digests": list(methods), "descriptions": [described.decode() for described in methods.values()]})
