"""The indicator page's address from an IPR (a template global since it replaced a macro): the
code and unit URL-quoted, the month kept, and the whole escaped for an attribute."""
from __future__ import annotations

import datetime as dt

from markupsafe import Markup

from server.web.templating import indicator_href


def test_the_address_keeps_the_unit_and_the_month_quoted_and_escaped():
    assert indicator_href("RWD", "AE4H") == Markup("/organisations/RWD/indicators/AE4H")
    assert indicator_href("RWD", "AE 4H", "RWD-MED", None) == "/organisations/RWD/indicators/AE%204H?unit=RWD-MED"
    assert indicator_href("RWD", "AE4H", "A&B", dt.date(2026, 3, 1)) == "/organisations/RWD/indicators/AE4H?unit=A%26B&amp;period=2026-03"
    assert indicator_href("RWD", "AE4H", None, dt.date(2025, 11, 1)) == "/organisations/RWD/indicators/AE4H?period=2025-11"
    assert isinstance(indicator_href("R<D", "X"), Markup) and "R&lt;D" in indicator_href("R<D", "X")
