"""The strawberry schema (a Federation v2 subgraph) and its ASGI app, with limits and error codes."""
from __future__ import annotations

import gc
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
    settle_garbage_collection()
    return AccordGraphQL(schema, services)


def settle_garbage_collection() -> None:
    """Keep the garbage collector off the objects every request shares, once they exist.

    A large answer allocates tens of thousands of small objects (records, dictionaries); each few
    hundred allocations start a collection, and now and then a full one walks every object the
    process holds: the schema, the ORM's metadata, every imported module. Measured on the national
    system position (tests/benchmarks/bench_graphql.py, in-process): median CPU per request 36-40 ms
    with everything collectable, 21-23 ms with what start-up loaded frozen out of collection
    (``gc.freeze``). Collection thresholds stay the default: raising them to 10,000 saved another
    2 ms but let cycles live longer, and the server's peak RSS under load rose from ~175 to 232 MiB.
    """
    gc.collect()
    gc.freeze()
