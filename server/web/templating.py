"""Jinja with the NHS.UK frontend macros (nhsuk-frontend-jinja) beside our own templates."""
from __future__ import annotations

import datetime as dt
from typing import Any

from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, pass_context, select_autoescape
from jinja2.filters import do_urlencode
from jinja2_fragments.starlette import Jinja2Blocks
from markupsafe import Markup, escape

from server.settings import Settings
from server.web.charts import mdc
from server.reporting.words import period_label


def make_templates(settings: Settings) -> Jinja2Blocks:
    environment = Environment(
        loader=ChoiceLoader([FileSystemLoader(settings.templates_dir), PackageLoader("nhsuk_frontend_jinja")]),
        undefined=ChainableUndefined,
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # Checking every template file for changes costs a stat() per template import, ~110 for the
        # system position page: only where templates are edited while the server runs.
        auto_reload=settings.environment != "production",
    )
    # URLs are relative (or under the configured origin): Starlette's own url_for builds absolute
    # URLs from the request's Host header, which a client chooses (issue 12).
    origin = settings.public_origin.rstrip("/")
    environment.globals["asset"] = lambda path: f"{origin}/static/vendor/{path}"
    environment.globals["url_for"] = _url_for(origin)
    environment.filters["number"] = format_number
    environment.filters["period_label"] = period_label
    environment.globals["mdc_variation"] = mdc.variation_icon
    environment.globals["mdc_assurance"] = mdc.assurance_icon
    environment.globals["memo"] = MacroMemo()
    # NHS.UK components whose parameters are a few dictionaries (a select of sixty months costs ~2 ms
    # through its macro): fewer, larger outputs, so a smaller bound.
    environment.globals["memo_component"] = MacroMemo(size=256)
    environment.globals["mdc_symbols"] = mdc.symbols
    environment.globals["indicator_href"] = indicator_href
    environment.globals["glance_items"] = glance_items
    environment.globals["summary_names"] = summary_names
    return Jinja2Blocks(env=environment)


class MacroMemo:
    """``memo(macro, *args)``: a pure macro's output (an icon, a tag, an NHS.UK component: it depends
    on its arguments only), made once per arguments. A matrix of 1,000 cells calls the same few icons
    2,000 times, and a macro call costs many times a dictionary look-up. Keyed by the macro object
    itself, so a reloaded template's macros never meet the old ones' output; dictionaries and lists
    among the arguments (a component's parameters) are keyed by their whole content, each value with
    its type (``Markup`` and ``str`` write differently, and ``True == 1``). At most ``size`` outputs
    are kept: the memo starts again empty when full."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.outputs: dict[Any, Any] = {}

    def __call__(self, macro: Any, *args: Any, **kwargs: Any) -> Any:
        key: Any = (macro, args, tuple(kwargs.items()))
        try:
            return self.outputs[key]
        except KeyError:
            pass
        except TypeError:  # a dictionary or list among the arguments: keyed by its content
            try:
                key = (macro, _content(args), _content(kwargs))
                return self.outputs[key]
            except KeyError:
                pass
            except TypeError:  # a value that cannot be a key: made every time
                return macro(*args, **kwargs)
        if len(self.outputs) >= self.size:
            self.outputs.clear()
        output = self.outputs[key] = macro(*args, **kwargs)
        return output


def _content(value: Any) -> Any:
    """A key for ``value`` by content: containers by their items in order, every value with its type
    (TypeError for a value that cannot be a key)."""
    if isinstance(value, dict):
        return (dict, tuple((_content(key), _content(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_content(item) for item in value))
    hash(value)
    return (type(value), value)


def indicator_href(organisation_code: str, indicator_code: str, unit_query: str | None = None, period: dt.date | None = None) -> Markup:
    """The indicator page's address from an IPR: at its unit, and at the IPR's month when it shows an
    earlier one (escaped for an attribute). A function, not a macro: an IPR links 250 rows and its
    glance, and a macro call costs several times this."""
    query = [f"unit={do_urlencode(unit_query)}"] if unit_query else []
    if period:
        query.append(f"period={period:%Y-%m}")
    href = f"/organisations/{escape(organisation_code)}/indicators/{escape(do_urlencode(indicator_code))}"
    return Markup(href + (f"?{escape('&'.join(query))}" if query else ""))


def glance_row(row: Any, organisation_code: str, unit_query: str | None, linked: bool, period: dt.date | None = None) -> Markup:
    """One line of the IPR's 'At a glance' ('<a>Indicator</a>: 88.1% against a target of 92.0% (off
    target, 2 months under target)'): a function, not a macro, for the hundred-odd lines of a national IPR."""
    indicator, status = row.indicator, row.status
    name = escape(indicator.name)
    text = f'<a href="{indicator_href(organisation_code, indicator.code, unit_query, period)}">{name}</a>' if linked else name
    run = f", {escape(status.under_target_words)} under target" if status.periods_under_target else ""
    # f-strings with each value escaped: Markup.format goes through string.Formatter, several times slower.
    return Markup(f"{text}: {escape(format_number(status.value, indicator.unit))} against a target of "
                  f"{escape(format_number(status.target, indicator.unit))} ({escape(status.rag_words.lower())}{run})")


def glance_items(rows: Any, organisation_code: str, unit_query: str | None, linked: bool, period: dt.date | None = None, *,
                 variation: bool = False) -> Markup:
    """One 'At a glance' list's items (``<li>`` each a glance_row; with ``variation``, its variation in words after it)."""
    if variation:
        return Markup("".join([f"<li>{glance_row(row, organisation_code, unit_query, linked, period)}; {escape(row.status.variation_words.lower())}</li>"
                               for row in rows]))
    return Markup("".join([f"<li>{glance_row(row, organisation_code, unit_query, linked, period)}</li>" for row in rows]))


def summary_names(entries: Any, linked: bool) -> Markup:
    """A summary matrix cell's indicators as list items, each linked to its page where it has one
    (partials/summary_matrix.html): a function, not a loop in the template, for a system's 140 names."""
    if linked:
        return Markup("".join([f'<li><a href="{escape(entry.href)}">{escape(entry.name)}</a></li>' if entry.href else f"<li>{escape(entry.name)}</li>"
                               for entry in entries]))
    return Markup("".join([f"<li>{escape(entry.name)}</li>" for entry in entries]))


def _url_for(origin: str):  # type: ignore[no-untyped-def]
    @pass_context
    def url_for(context: Any, name: str, /, **path_params: Any) -> str:
        request = context["request"]
        path = request.app.url_path_for(name, **path_params)
        return f"{origin}{request.scope.get('root_path', '')}{path}"

    return url_for


def format_number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "percent":  # stored as a fraction: 0.953 -> 95.3%
        return f"{value * 100:.1f}%"
    if unit == "currency":  # −£2,441,824: the sign before the pound sign, as finance reports write it
        return f"{'−' if value < 0 else ''}£{abs(value):,.0f}"
    suffix = TIME_UNITS.get(unit)
    if suffix:  # "66.3 weeks": a bare 66.28 against 52 leaves the reader to guess the unit
        number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
        return f"{number}\u00a0{suffix[0] if abs(value) == 1 else suffix[1]}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


TIME_UNITS = {"minutes": ("minute", "minutes"), "hours": ("hour", "hours"), "days": ("day", "days"), "weeks": ("week", "weeks")}
