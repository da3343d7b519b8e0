"""The GraphQL API page for people who write tools: how to authenticate, examples, the schema,
and an explorer that runs a read-only query as the signed-in person (a GET form: no JavaScript,
no third-party assets, the page's CSP unchanged)."""
from __future__ import annotations

import json

from graphql import OperationType, parse
from graphql.error import GraphQLSyntaxError
from starlette.requests import Request
from starlette.responses import Response

from schema.context import AccordContext
from server.web.render import access_of, login_required, principal_of, render, services_of

EXAMPLES = (
    ("System position", "The members of a system and every key indicator's latest rating.",
     'query($system: String!) {\n  system(code: $system) {\n    name\n    members { code name spectrum { level words } maturityLevel }\n'
     '    position { latestPeriod memberCodes rows { code name unit cells { organisationCode period value target rag variation assurance } } }\n  }\n}',
     '{"system": "STW"}'),
    ("Five years of a trust's key indicators", "Each month's value, target, rating and SPC limits, rolled up to the organisation.",
     'query($org: String!) {\n  organisation(code: $org) {\n    name\n    indicators(filter: {key: true}, first: 5) {\n'
     '      totalCount\n      nodes { code name unit latest { rag variation assurance }\n'
     '        series(from: "2021-12-01") { period value target rag mean lowerLimit upperLimit pointType } }\n    }\n  }\n}',
     '{"org": "RXW"}'),
    ("Benchmark one indicator", "One indicator across every organisation you may read, ranked, with quartiles.",
     'query($code: String!) {\n  indicatorComparison(code: $code) {\n    name unit organisationsReporting lowerQuartile median upperQuartile\n'
     '    entries { organisationCode value rag rank quartile }\n  }\n}', '{"code": "RTT18"}'),
    ("Open escalations", "Level 2 and above, highest first, with their history.",
     '{\n  escalations(minLevel: 2, first: 20) {\n    totalCount\n    pageInfo { hasNextPage endCursor }\n'
     '    nodes { subjectName level levelName forumCode status history { event toLevel at reason } }\n  }\n}', ""),
)
MAX_QUERY = 20_000


@login_required
async def api_page(request: Request) -> Response:
    from schema.app import schema

    query = request.query_params.get("query", "")
    variables_text = request.query_params.get("variables", "")
    answer, problem = None, None
    if query:
        answer, problem = await _run(request, schema, query, variables_text)
    return render(request, "pages/api.html", {
        "examples": EXAMPLES, "query": query or EXAMPLES[0][2], "variables": variables_text if query else EXAMPLES[0][3],
        "answer": answer, "problem": problem, "sdl": schema.as_str(), "ran": bool(query),
    })


async def _run(request: Request, schema, query: str, variables_text: str) -> tuple[str | None, str | None]:  # type: ignore[no-untyped-def]
    if len(query) > MAX_QUERY:
        return None, f"The query is longer than {MAX_QUERY:,} characters."
    try:
        document = parse(query)
    except GraphQLSyntaxError as error:
        return None, f"The query cannot be read: {error.message}"
    if any(getattr(d, "operation", None) not in (None, OperationType.QUERY) for d in document.definitions):
        return None, "The explorer runs queries only. Send mutations from a tool with an API token."
    try:
        variables = json.loads(variables_text) if variables_text.strip() else None
    except json.JSONDecodeError as error:
        return None, f"The variables are not JSON: {error.msg} (line {error.lineno}, column {error.colno})."
    if variables is not None and not isinstance(variables, dict):
        return None, "The variables must be a JSON object, such as {\"system\": \"STW\"}."
    services = services_of(request)
    context = AccordContext(request=request, principal=principal_of(request), access=access_of(request),
                            database=services.database, authorizer=services.authorizer,
                            read_after=getattr(request.state, "read_after", None))
    result = await schema.execute(query, variable_values=variables, context_value=context)
    body: dict = {}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if result.data is not None:
        body["data"] = result.data
    return json.dumps(body, indent=2, default=str), None
