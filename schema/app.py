"""The strawberry schema (a Federation v2 subgraph) and its ASGI app, with limits and error codes."""
from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter
from strawberry.types import ExecutionContext

from schema.context import RequestTransaction
from schema.caching import ParsedDocuments, ValidatedDocuments
from schema.executor import FastListExecutor
from schema.http import AccordGraphQL, ErrorCodes
from schema.limits import RequestLimits
from schema.mutation import Mutation
from schema.query import Query


class AccordSchema(strawberry.federation.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log nothing here: ErrorCodes logs the unexpected errors with their request id, and the
        caller's own mistakes (a bad query, a refused permission) are not the server's errors."""


schema = AccordSchema(
    query=Query,
    mutation=Mutation,
    federation_version="2.11",
    # Lists of plain records complete in one planned loop instead of a resolver per leaf.
    execution_context_class=FastListExecutor,
    extensions=[
        RequestLimits,
        lambda: MaxTokensLimiter(max_token_count=4000),
        lambda: MaxAliasesLimiter(max_alias_count=30),
        ErrorCodes,
        RequestTransaction,
        # Validate each distinct document once (per-request limit rules still run each time), and
        # parse it once: a tool sends the same few documents again and again.
        ValidatedDocuments,
        ParsedDocuments,
    ],
)


def graphql_app(services: Any) -> AccordGraphQL:
    return AccordGraphQL(schema, services)
