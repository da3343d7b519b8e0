"""The templates' memo (server/web/templating.py MacroMemo): a pure macro's output made once per
arguments, components keyed by the whole content of their parameter dictionaries."""
from __future__ import annotations

from markupsafe import Markup

from server.settings import Settings
from server.web.templating import MacroMemo, make_templates


def month_items(chosen: int) -> list[dict[str, object]]:
    return [{"value": "", "text": "Latest", "selected": chosen == 0}] + [
        {"value": f"2026-{month:02}-01", "text": f"Month {month}", "selected": month == chosen} for month in range(1, 13)]


def test_a_component_is_made_once_per_parameters_and_reads_as_the_macro_writes_it():
    environment = make_templates(Settings()).env
    select = environment.get_template("nhsuk/components/select/macro.jinja").module.select
    memo = MacroMemo(size=8)
    calls = [{"id": "ipr-period", "name": "period", "label": {"text": "Reporting month"}, "items": month_items(chosen)} for chosen in (0, 3, 0, 3, 12)]
    assert [memo(select, params) for params in calls] == [select(params) for params in calls]
    assert len(memo.outputs) == 3, "one output per distinct content"


def test_parameters_that_write_differently_are_different_keys():
    """Markup is written as it is and a str escaped; True and 1 are equal in Python but not in a template."""
    environment = make_templates(Settings()).env
    echo = environment.from_string("{% macro echo(params) %}{{ params.text }}/{{ params.flag }}{% endmacro %}").module.echo
    memo = MacroMemo()
    assert str(memo(echo, {"text": "<b>", "flag": True})) == "&lt;b&gt;/True"
    assert str(memo(echo, {"text": Markup("<b>"), "flag": True})) == "<b>/True"
    assert str(memo(echo, {"text": "<b>", "flag": 1})) == "&lt;b&gt;/1"
    assert str(memo(echo, [{"text": "<b>"}][0] | {"flag": [1, 2]})) == "&lt;b&gt;/[1, 2]"


def test_the_memo_stays_within_its_size():
    memo = MacroMemo(size=4)
    for number in range(10):
        memo(lambda params: params["n"], {"n": number})
    assert len(memo.outputs) <= 4
