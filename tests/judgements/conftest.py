"""The subject the STW ladder tests judge, and the withdrawal of whatever they left in force."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from server.db.session import AccessContext
from tests.judgements.helpers import LEAD, QPC, withdraw_all


async def _stw_subject(database, org_id) -> str:
    """An STW system indicator whose escalation (if any) is below the ICB level."""
    async with database.session(AccessContext.for_orgs([org_id])) as session:
        code = (await session.exec(text(
            "select i.code from indicator i where i.org_id = :o and i.polarity <> 'neutral' and not exists (select 1 from escalation e"
            " where e.org_id = i.org_id and e.subject_key = 'indicator:' || i.code and e.status <> 'closed' and e.level >= 6)"
            " order by i.position desc limit 1"), params={"o": org_id})).scalar_one()
    return f"indicator:{code}"


@pytest.fixture
async def stw_subject(database, services, org_ids):
    """A subject for one test; whatever judgements the test left in force are withdrawn afterwards."""
    subject = await _stw_subject(database, org_ids["STW"])
    yield subject
    await withdraw_all(database, services, org_ids["STW"], subject, ((QPC, ("qpc_assured", "patient_safety_risk")), (LEAD, ("risk_rating",))))


