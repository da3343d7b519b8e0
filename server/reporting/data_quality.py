"""An indicator's data-quality kitemark (ULHT PMF 2.5 and 10) and patient cohort (WHSSC appendix 1) as
the pages, the board papers and GraphQL show them. Both are declared per indicator in the tenant file;
cohort names come from the file's ``cohorts:`` (read with the indicators, in the same statement)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from server.tenants.spec import KITEMARK_DIMENSIONS

RATING_WORDS = {"assured": "assured", "partial": "partly assured", "not_assured": "not assured"}

# Cohort names for a statement that reads indicators: ``with {COHORT_NAMES.format(orgs=...)}`` then
# ``left join cohort_names cn on cn.org_id = i.org_id and cn.code = i.cohort``. ``orgs`` narrows the
# frameworks expanded (``f.org_id = :org``; ``true`` for every one the request may read): each is
# expanded once, not once per indicator.
COHORT_NAMES = (
    "cohort_names as (select f.org_id, c ->> 'code' as code, c ->> 'name' as name from tenant_framework f,"
    " jsonb_array_elements(coalesce(f.spec -> 'cohorts', '[]'::jsonb)) c where {orgs})"
)


@dataclass(frozen=True)
class KitemarkView:
    overall: str  # assured, partial or not_assured
    dimensions: tuple[tuple[str, str], ...]  # (timeliness, assured)... for the dimensions rated

    @property
    def words(self) -> str:
        return f"Data quality {RATING_WORDS[self.overall]}"

    @property
    def detail(self) -> str:
        """Each dimension in words: 'timeliness assured, completeness assured, validation partly assured'."""
        return ", ".join(f"{name} {RATING_WORDS[rating]}" for name, rating in self.dimensions)


def kitemark_of(stored: Mapping[str, object] | None) -> KitemarkView | None:
    """The stored kitemark (indicator.kitemark), or None where the indicator is not kitemarked."""
    if not stored or stored.get("overall") not in RATING_WORDS:
        return None
    dimensions = tuple((name, str(stored[name])) for name in KITEMARK_DIMENSIONS if stored.get(name) in RATING_WORDS)
    return KitemarkView(str(stored["overall"]), dimensions)
