"""The committed schema is the served schema: a change to the API is a deliberate, reviewed diff."""
from __future__ import annotations

from schema.app import schema
from server.settings import PROJECT_ROOT


def test_committed_schema_matches_the_code():
    committed = (PROJECT_ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8")
    assert committed == schema.as_str() + "\n", "the GraphQL schema changed: review it, then run `accord export-schema`"
