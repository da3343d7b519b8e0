"""The small SPC chart on a board paper's indicator card: the IPR PDF and the data pack PDF draw
the same card (partials/indicator_card.html), so they draw the same chart."""
from __future__ import annotations

from server.reporting.board import BoardIndicator
from server.web.charts.spc import SpcChart, build_spc_chart
from server.web.templating import format_number

# A card's chart is short: two cards sit side by side on a landscape page (the IPR); a portrait
# page (a data pack) has one across, a little shorter, so that three fit on a page.
CARD_WIDTH, CARD_HEIGHT, PORTRAIT_HEIGHT = 760, 250, 200
UNIT_TITLES = {
    "percent": "Percentage", "count": "Count", "rate": "Rate", "minutes": "Minutes", "hours": "Hours", "days": "Days",
    "weeks": "Weeks", "currency": "Pounds (£)", "ratio": "Ratio", "score": "Score",
}


def card_chart(card: BoardIndicator, *, height: int = CARD_HEIGHT) -> SpcChart:
    unit = card.indicator.unit

    def fmt(value: float | None) -> str:
        return compact_money(value) if unit == "currency" else format_number(value, unit)

    return build_spc_chart(
        card.points, title=card.indicator.name, y_title=UNIT_TITLES.get(unit, unit.capitalize()), fmt=fmt,
        short_label=lambda point: point.period.strftime("%b %y"), width=CARD_WIDTH, height=height,
    )


def compact_money(value: float | None) -> str:
    """A small chart's axis has room for '£2.4m', not '£2,400,000'."""
    if value is None or abs(value) < 10_000:
        return format_number(value, "currency")
    sign = "−" if value < 0 else ""
    if abs(value) >= 1_000_000:
        return f"{sign}£{abs(value) / 1_000_000:.1f}m"
    return f"{sign}£{abs(value) / 1_000:.0f}k"
