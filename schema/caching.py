"""Parse and validate each distinct document once: both depend only on the text.

A tool sends the same few documents again and again; parsing one costs about a millisecond.

graphql-core's validation walks the whole document with every rule on each request (tens of ms
for a tool's usual query under load). The specified rules, and limiter rules defined once at
import, depend only on the document, so their errors are kept per query text (bounded LRU).
Rules made per request (schema/limits.py's depth and cost rules, which read this request's
variables and settings) still run on every request. They look only at operation definitions, so
they are called on those directly: a full validation pass walks every node with type information
(~3 ms for a tool's usual query), to give two rules the few operation nodes.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from functools import lru_cache

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    ValidationContext,
    parse,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

MAX_DOCUMENTS = 512
_parsed = lru_cache(maxsize=MAX_DOCUMENTS)(parse)  # a document that fails to parse raises, and is not kept
_verdicts: OrderedDict[tuple[str, tuple[type, ...]], list[GraphQLError]] = OrderedDict()


def _made_per_request(rule: type) -> bool:
    return "<locals>" in rule.__qualname__


class ValidatedDocuments(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is None or context.query is None or context.pre_execution_errors is not None:
            yield
            return
        per_request = tuple(rule for rule in context.validation_rules if _made_per_request(rule))
        fixed = tuple(rule for rule in context.validation_rules if not _made_per_request(rule))
        key = (context.query, fixed)
        errors = _verdicts.get(key)
        if errors is None:
            errors = validate_document(context.schema._schema, document, fixed)
            _verdicts[key] = errors
            if len(_verdicts) > MAX_DOCUMENTS:
                _verdicts.popitem(last=False)
        else:
            _verdicts.move_to_end(key)
        if not errors and per_request:
            errors = operation_rules(context.schema._schema, document, per_request)
        context.pre_execution_errors = list(errors)
        yield


def operation_rules(schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]) -> list[GraphQLError]:
    """The errors of ``rules`` that look only at operation definitions (or at the document as a whole
    when made), without walking the rest; a rule looking at anything else is given graphql-core's
    whole validation pass."""
    direct = tuple(rule for rule in rules if _operations_only(rule))
    errors: list[GraphQLError] = validate(schema, document, [rule for rule in rules if rule not in direct]) if len(direct) < len(rules) else []
    context = ValidationContext(schema, document, TypeInfo(schema), errors.append)
    for rule in direct:
        checker = rule(context)
        if not hasattr(checker, "enter_operation_definition"):
            continue
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                checker.enter_operation_definition(definition, None, None, None, [])
    return errors


def _operations_only(rule: type[ASTValidationRule]) -> bool:
    visits = {name for name in dir(rule) if name.startswith(("enter", "leave"))} - set(dir(ASTValidationRule))
    return visits <= {"enter_operation_definition"}  # or none: strawberry's alias limit counts in __init__


class ParsedDocuments(SchemaExtension):
    """The parsed document for a query text seen before (bounded LRU, with the same parse options:
    MaxTokensLimiter's token limit). A document that does not parse is left to strawberry's own
    parse, which reports the syntax error as the request's error (a 400, not a server error)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            try:
                context.graphql_document = _parsed(context.query, **context.parse_options)
            except GraphQLError:
                pass
        yield
