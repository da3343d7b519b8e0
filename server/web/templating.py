"""Jinja with the NHS.UK frontend macros (nhsuk-frontend-jinja) beside our own templates."""
from __future__ import annotations

from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from jinja2_fragments.starlette import Jinja2Blocks

from server.settings import Settings


def make_templates(settings: Settings) -> Jinja2Blocks:
    environment = Environment(
        loader=ChoiceLoader([FileSystemLoader(settings.templates_dir), PackageLoader("nhsuk_frontend_jinja")]),
        undefined=ChainableUndefined,
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["asset"] = lambda path: f"/static/vendor/{path}"
    environment.filters["number"] = format_number
    return Jinja2Blocks(env=environment)


def format_number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "percent":  # stored as a fraction: 0.953 -> 95.3%
        return f"{value * 100:.1f}%"
    if unit == "currency":  # −£2,441,824: the sign before the pound sign, as finance reports write it
        return f"{'−' if value < 0 else ''}£{abs(value):,.0f}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"
