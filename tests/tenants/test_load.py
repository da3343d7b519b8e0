"""Loading tenant files into the database: idempotent, and all-or-nothing on a bad file."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import text

from server.db.session import AccessContext
from server.tenants.load import load_tenants
from server.tenants.parse import TenantFileError


async def _counts(database, org_ids) -> dict[str, int]:
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        result = {}
        for table in ("organisation", "org_unit", "indicator", "target", "forum", "contract", "system_membership"):
            result[table] = (await session.exec(text(f"select count(*) from {table}"))).scalar_one()
        return result


async def test_every_seed_tenant_is_loaded(database, org_ids):
    for code in ("QOC", "RXW", "RL1", "R1D", "RWD", "03N", "WHSSC", "STW"):
        assert code in org_ids, f"{code} missing"
    counts = await _counts(database, org_ids)
    assert counts["indicator"] >= 9 * 8
    assert counts["forum"] >= 9 * 3
    assert counts["system_membership"] >= 4


async def test_loading_twice_changes_nothing(database, org_ids, test_settings):
    before = await _counts(database, org_ids)
    await load_tenants(database, test_settings.tenants_dir)
    assert await _counts(database, org_ids) == before


async def test_a_bad_file_loads_nothing_and_names_file_and_path(database, org_ids, test_settings, tmp_path):
    for path in test_settings.tenants_dir.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    broken = tmp_path / "ulht.yaml"
    broken.write_text(broken.read_text().replace("polarity: higher_is_better", "polarity: upwards", 1))
    (tmp_path / "zz-new.yaml").write_text(
        "organisation: {code: ZZNEW, name: New Trust, kind: trust}\ntiers: [trust]\nunits: [{code: ZZNEW, name: New, tier: trust}]\n"
    )
    before = await _counts(database, org_ids)
    with pytest.raises(TenantFileError) as error:
        await load_tenants(database, tmp_path)
    message = str(error.value)
    assert "ulht.yaml" in message and "indicators[" in message and ".polarity" in message
    assert await _counts(database, org_ids) == before
    async with database.session() as session:
        assert (await session.exec(text("select count(*) from organisation where code = 'ZZNEW'"))).scalar_one() == 0
