"""Targets per unit (issue 15): ULHT disaggregates targets to divisions (PMF 2.3). Medicine's own
agency cap rates Medicine and every unit below it; other divisions and the trust are rated against
the trust-wide ceiling. A target naming an unknown unit is refused by the loader, naming the path."""
from __future__ import annotations

import pytest
import yaml
from sqlalchemy import text

from server.assessment_store.recompute import runner_access
from server.tenants.parse import TenantFileError
from server.tenants.load import validate_tenants


async def _latest_targets(database, org_id: int, indicator: str = "AGENCY") -> dict[str | None, float]:  # type: ignore[no-untyped-def]
    async with database.session(await runner_access(database, org_id)) as session:
        rows = (await session.exec(text(
            "select u.code, a.target from assessment a join indicator i on i.id = a.indicator_id left join org_unit u on u.id = a.unit_id"
            " where a.org_id = :org and i.code = :indicator and a.is_latest"
        ), params={"org": org_id, "indicator": indicator})).all()
    return {code: target for code, target in rows}


async def test_a_division_is_rated_against_its_own_target_and_its_units_inherit_it(database, org_ids):
    targets = await _latest_targets(database, org_ids["RWD"])
    assert targets[None] == 2_000_000  # the trust: the national ceiling
    assert targets["RWD-MED"] == 900_000  # Medicine's own share
    below_medicine = [code for code in targets if code and code.startswith("RWD-MED-")]
    assert below_medicine and all(targets[code] == 900_000 for code in below_medicine)  # inherited
    others = [code for code in targets if code and not code.startswith("RWD-MED")]
    assert others and all(targets[code] == 2_000_000 for code in others)


async def test_thgpcg_board_target_is_broken_down_to_each_centre_and_its_teams(database, org_ids):
    """THGPCG strategy 3: the Board's extended-access target set per centre; a centre's teams are rated
    against their centre's share, the service area and the organisation against the Board's."""
    targets = await _latest_targets(database, org_ids["NL4"], "EAUTIL")
    assert targets[None] == pytest.approx(0.85) and targets["NL4-ACCESS"] == pytest.approx(0.85)
    shares = {"NL4-ACCESS-BARK": 0.88, "NL4-ACCESS-STAN": 0.85, "NL4-ACCESS-GOOD": 0.80}
    for centre, share in shares.items():
        assert targets[centre] == pytest.approx(share)
        teams = [code for code in targets if code and code.startswith(centre + "-")]
        assert teams and all(targets[team] == pytest.approx(share) for team in teams)


async def test_the_organisation_level_target_ignores_unit_targets(database, org_ids):
    from server.organisations.queries import current_targets

    async with database.session(await runner_access(database, org_ids["RWD"])) as session:
        agency = (await session.exec(text("select id from indicator where org_id = :org and code = 'AGENCY'"),
                                     params={"org": org_ids["RWD"]})).scalar_one()
        assert float((await current_targets(session, [agency]))[agency].value) == 2_000_000


def test_a_target_for_an_unknown_unit_is_refused_naming_the_path(project_root, tmp_path):
    spec = yaml.safe_load((project_root / "tenants" / "ulht.yaml").read_text(encoding="utf-8"))
    agency = next(i for i in spec["indicators"] if i["code"] == "AGENCY")
    index = spec["indicators"].index(agency)
    agency["targets"].append({"kind": "local", "value": 1, "unit": "RWD-NOWHERE"})
    (tmp_path / "ulht.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(TenantFileError) as refused:
        validate_tenants(tmp_path)
    assert f"ulht.yaml: indicators[{index}].targets[{len(agency['targets']) - 1}].unit: 'RWD-NOWHERE' is not a declared unit" in str(refused.value)
