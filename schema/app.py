"""The strawberry schema and its ASGI app, with limits and error masking."""
from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.asgi import GraphQL
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from starlette.requests import Request
from starlette.responses import Response

from schema.context import AccordContext, NotAuthenticated, NotAuthorised
from schema.mutation import Mutation
from schema.query import Query

EXPECTED_ERRORS = (NotAuthenticated, NotAuthorised)


def _should_mask(error: GraphQLError) -> bool:
    """Mask only the unexpected: validation and authorisation messages help the caller."""
    original = error.original_error
    return original is not None and not isinstance(original, EXPECTED_ERRORS)


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[
        lambda: QueryDepthLimiter(max_depth=8),
        lambda: MaxTokensLimiter(max_token_count=4000),
        lambda: MaxAliasesLimiter(max_alias_count=30),
        lambda: MaskErrors(should_mask_error=_should_mask),
    ],
)


class AccordGraphQL(GraphQL):
    def __init__(self, services: Any) -> None:
        super().__init__(schema, graphql_ide=None, allow_queries_via_get=True)
        self.services = services

    async def get_context(self, request: Request, response: Response | None = None) -> AccordContext:  # type: ignore[override]
        state = request.state
        return AccordContext(
            request=request, principal=state.principal, access=state.access, database=self.services.database,
            authorizer=self.services.authorizer,
        )


def graphql_app(services: Any) -> AccordGraphQL:
    return AccordGraphQL(services)
