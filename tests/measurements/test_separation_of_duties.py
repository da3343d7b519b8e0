"""Separation of duties in validation (issue 15; ULHT PMF: divisions submit, the Performance Team
validates): where the tenant file sets ``data_validation.separate_from_submission``, the person who
entered a value may not mark it validated; someone else with the right may. Elsewhere (SaTH) the
same person may. Each case runs in a transaction that is rolled back."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from server.db.session import AccessContext
from server.measurements.record import MeasurementItem
from server.measurements.submit import submit_measurements

PERIOD = dt.date(2019, 1, 1)  # before the demo's data: the rows are new


async def _value_series(session, org_id: int) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """An indicator entered as a plain value, and a leaf unit that reports it."""
    row = (await session.exec(text(
        "select i.code, u.code from measurement m join indicator i on i.id = m.indicator_id join org_unit u on u.id = m.unit_id"
        " where m.org_id = :org and m.value is not null and not exists (select 1 from org_unit c where c.parent_id = u.id)"
        " order by i.code, u.code limit 1"
    ), params={"org": org_id})).one()
    return row[0], row[1]


async def _user(session, email: str) -> int:  # type: ignore[no-untyped-def]
    return (await session.exec(text("select id from app_user where email = :e"), params={"e": email})).scalar_one()


async def _as(session, user_id: int) -> int:  # type: ignore[no-untyped-def]
    """The transaction acts for this person from here on, as their request's would (the audit trail checks it)."""
    await session.exec(text("select set_config('app.user_id', :id, true)"), params={"id": str(user_id)})
    return user_id


async def test_who_entered_a_value_may_not_validate_it_where_the_framework_separates_them(database, org_ids):
    rwd = org_ids["RWD"]
    async with database.session(AccessContext.for_orgs([rwd], write=True)) as session:
        indicator, unit = await _value_series(session, rwd)
        submitter, validator = await _user(session, "ulht.performance@accord.example"), await _user(session, "ulht.division@accord.example")

        def item(status: str, value: float = 12.0) -> MeasurementItem:
            return MeasurementItem(indicator, unit, PERIOD, value=value, status=status)

        entered_and_validated = await submit_measurements(session, org_id=rwd, user_id=await _as(session, submitter), items=[item("validated")], may_validate=True)
        assert not entered_and_validated.ok
        assert [(p.row, p.field) for p in entered_and_validated.problems] == [(1, "status")]
        assert "someone else must validate it" in entered_and_validated.problems[0].message

        assert (await submit_measurements(session, org_id=rwd, user_id=await _as(session, submitter), items=[item("provisional")], may_validate=True)).ok
        own = await submit_measurements(session, org_id=rwd, user_id=await _as(session, submitter), items=[item("validated")], may_validate=True)
        assert not own.ok and "you entered this value" in own.problems[0].message
        changed = await submit_measurements(session, org_id=rwd, user_id=await _as(session, validator), items=[item("validated", 13.0)], may_validate=True)
        assert not changed.ok and "you are entering this value" in changed.problems[0].message  # a validator who changes it enters it

        validated = await submit_measurements(session, org_id=rwd, user_id=await _as(session, validator), items=[item("validated")], may_validate=True)
        assert validated.ok
        status = (await session.exec(text(
            "select m.status, m.recorded_by from measurement m join indicator i on i.id = m.indicator_id"
            " where i.org_id = :org and i.code = :code and m.period = :period"
        ), params={"org": rwd, "code": indicator, "period": PERIOD})).one()
        assert status == ("validated", validator)
        await session.rollback()


async def test_without_the_setting_the_submitter_may_validate(database, org_ids):
    rxw = org_ids["RXW"]
    async with database.session(AccessContext.for_orgs([rxw], write=True)) as session:
        indicator, unit = await _value_series(session, rxw)
        submitter = await _user(session, "sath.performance@accord.example")
        outcome = await submit_measurements(session, org_id=rxw, user_id=await _as(session, submitter), may_validate=True,
                                            items=[MeasurementItem(indicator, unit, PERIOD, value=12.0, status="validated")])
        assert outcome.ok
        await session.rollback()
