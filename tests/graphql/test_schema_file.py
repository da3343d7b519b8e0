"""The committed schema is the served schema: a change to the API is a deliberate, reviewed diff."""
from __future__ import annotations

from schema.app import schema
from server.settings import PROJECT_ROOT


def test_committed_schema_matches_the_code():
    committed = (PROJECT_ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8")
    assert committed == schema.as_str() + "\n", "the GraphQL schema changed: review it, then run `accord export-schema`"


def _breaking_changes() -> set[str]:
    from graphql import build_schema, find_breaking_changes

    released = build_schema((PROJECT_ROOT / "schema" / "released.graphql").read_text(encoding="utf-8"))
    served = build_schema(schema.as_str(), assume_valid=True)
    return {f"{change.type.name} | {change.description}" for change in find_breaking_changes(released, served)}


def _acknowledged() -> set[str]:
    lines = (PROJECT_ROOT / "schema" / "breaking_changes.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_no_breaking_change_since_the_release_unless_acknowledged():
    unacknowledged = _breaking_changes() - _acknowledged()
    assert not unacknowledged, (
        "breaking changes to the API since schema/released.graphql; if they are meant, add these lines to "
        "schema/breaking_changes.txt with the reason:\n" + "\n".join(sorted(unacknowledged))
    )


def test_every_acknowledged_breaking_change_is_still_a_change():
    assert not _acknowledged() - _breaking_changes(), "schema/breaking_changes.txt lists a change that no longer happens"
