"""Periods as files write them: ISO dates, spreadsheet dates, 'March 2026', 'MSitAE-MARCH-2026'."""
from __future__ import annotations

import datetime as dt

EXCEL_EPOCH = dt.date(1899, 12, 30)
PLAIN_FORMATS = ("%Y-%m-%d", "%Y-%m", "%B %Y", "%b %Y", "%b-%Y", "%b-%y", "%d/%m/%Y")


class NotAPeriod(ValueError):
    pass


def parse_period(raw: object, formats: tuple[str, ...] = PLAIN_FORMATS) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 20000 < raw < 80000:
        return EXCEL_EPOCH + dt.timedelta(days=int(raw))  # an XLSX date cell without a date format
    text = str(raw or "").strip()
    if text.endswith(" 00:00:00"):
        text = text.removesuffix(" 00:00:00")
    for pattern in formats:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    example = dt.date.today().replace(day=1)
    raise NotAPeriod(f"'{text}' is not a month like {example.isoformat()} or {example:%B %Y}")
