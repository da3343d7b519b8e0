"""Board-paper PDFs of data packs, rendered by WeasyPrint from a print template."""
from __future__ import annotations

from typing import Any

import weasyprint
from jinja2 import Environment
from weasyprint.urls import URLFetcher

PACK_TEMPLATE = "print/meeting_pack.html"


def render_pack_pdf(environment: Environment, context: dict[str, Any]) -> bytes:
    """The pack as a PDF (A4, page numbers, a draft marked as such)."""
    html = environment.get_template(PACK_TEMPLATE).render(**context)
    # The print template is self-contained: nothing is fetched while rendering (no SSRF, no leaks).
    fetcher = URLFetcher(allowed_protocols=frozenset())
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
