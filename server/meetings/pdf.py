"""Board-paper PDFs of data packs, rendered by WeasyPrint from a print template."""
from __future__ import annotations

from typing import Any

from jinja2 import Environment

PACK_TEMPLATE = "print/meeting_pack.html"


def render_pack_pdf(environment: Environment, context: dict[str, Any]) -> bytes:
    """The pack as a PDF (A4, page numbers, a draft marked as such)."""
    # Imported here: WeasyPrint loads Pango and fonts (about 28 MiB) that only PDF exports need.
    import weasyprint
    from weasyprint.urls import URLFetcher

    html = environment.get_template(PACK_TEMPLATE).render(**context)
    # The print template is self-contained: nothing is fetched while rendering (no SSRF, no leaks).
    fetcher = URLFetcher(allowed_protocols=frozenset())
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
