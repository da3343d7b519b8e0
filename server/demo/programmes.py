"""Demo programme records (Sheffield 3.1), drawn from each declared programme's ``demo`` block.

Dated relative to the month the demo is made in, so the story holds whenever it runs: the financial
year's QIPP plan month by month with what was realised in each whole month so far, milestones due
and achieved (on time, late or not at all) and the risks raised. Its Senior Responsible Owner is the
person holding the post the file names (a demo account, ``DemoUser.post``), chosen as the create form
chooses one: from the organisation's people who may sponsor a programme. A programme that already has
milestones, benefits or risks is left as it is.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer
from server.demo.users import DEMO_USERS
from server.programmes.facts import add_months, financial_year_start, month_start
from server.programmes.record import sro_candidates
from server.tenants.spec import ProgrammeDemoSpec, ProgrammeSpec, TenantFile

_DECLARED = text(
    "select p.id from programme p where p.org_id = :org and p.code = :code and not exists"
    " (select 1 from programme_milestone m where m.org_id = p.org_id and m.programme_id = p.id)"
    " and not exists (select 1 from programme_benefit b where b.org_id = p.org_id and b.programme_id = p.id)"
)


async def generate_demo_programmes(session: AsyncSession, tenants: dict[str, TenantFile], *, today: dt.date | None = None,
                                   authorizer: Authorizer | None = None) -> int:
    """Add the demo records of every declared programme with a ``demo`` block and no record yet; returns how many."""
    from server.settings import PROJECT_ROOT

    today = today or dt.date.today()
    authorizer = authorizer or Authorizer(PROJECT_ROOT / "policies")
    org_ids = dict((await session.exec(text("select code, id from organisation where code = any(:codes)"),
                                       params={"codes": list(tenants)})).all())
    added = 0
    for code, tenant in tenants.items():
        for spec in tenant.programmes:
            if spec.demo is None:
                continue
            programme_id = (await session.exec(_DECLARED, params={"org": org_ids[code], "code": spec.code})).scalar_one_or_none()
            if programme_id is None:
                continue
            await _add_record(session, org_ids[code], programme_id, spec.demo, today)
            await _name_the_sro(session, authorizer, org_ids[code], code, programme_id, spec)
            added += 1
    return added


async def _name_the_sro(session: AsyncSession, authorizer: Authorizer, org_id: int, code: str, programme_id: int, spec: ProgrammeSpec) -> None:
    """The file names the SRO's post (Sheffield 3.1: an executive director is accountable for each programme); the
    record names the person holding it, who must be one the organisation's programmes may have as SRO."""
    holder = next((d for d in DEMO_USERS if d.home == code and d.post is not None and d.post == spec.sro), None)
    user_id = None if holder is None else (await session.exec(text("select id from app_user where email = :email"),
                                                              params={"email": holder.email})).scalar_one_or_none()
    sponsor = next((person for person in await sro_candidates(session, authorizer, org_id) if person.user_id == user_id), None)
    if sponsor is None:
        raise RuntimeError(f"demo programme {code} {spec.code}: no demo account holding the post '{spec.sro}' may be its SRO")
    await session.exec(text("update programme set sro_user_id = :user, sro_name = :name where org_id = :org and id = :id"),
                       params={"user": sponsor.user_id, "name": sponsor.name, "org": org_id, "id": programme_id})


async def _add_record(session: AsyncSession, org_id: int, programme_id: int, demo: ProgrammeDemoSpec, today: dt.date) -> None:
    current = month_start(today)
    year_start = financial_year_start(add_months(current, -1))
    await session.exec(text("update programme set starts_on = :start, ends_on = :end where org_id = :org and id = :id"),
                       params={"start": year_start, "end": add_months(year_start, 24) - dt.timedelta(days=1), "org": org_id, "id": programme_id})
    benefits = []
    for index in range(12):
        month = add_months(year_start, index)
        planned = Decimal(str(demo.monthly_qipp))
        realised = None
        if month < current:
            slipping = month >= add_months(current, -demo.slipping_months) if demo.slipping_months else False
            # On plan: a little above it, varying month to month; slipping: the declared share of it.
            share = demo.realised_share_when_slipping if slipping else 1 + demo.on_plan_margin * ((index * 7) % 5) / 4
            realised = (planned * Decimal(str(share))).quantize(Decimal("1"))
        benefits.append({"org": org_id, "programme": programme_id, "month": month, "planned": planned, "realised": realised})
    await session.exec(text(
        "insert into programme_benefit (org_id, programme_id, month, planned, realised, realised_recorded_at)"
        " values (:org, :programme, :month, :planned, cast(:realised as numeric), case when cast(:realised as numeric) is null then null else now() end)"
    ), params=benefits)
    milestones = []
    for milestone in demo.milestones:
        due = add_months(current, milestone.due_in_months).replace(day=15)
        achieved = {"on_time": due - dt.timedelta(days=3), "late": due + dt.timedelta(days=24), "no": None}[milestone.achieved]
        if achieved is not None and achieved > today:
            achieved = None  # not yet
        milestones.append({"org": org_id, "programme": programme_id, "title": milestone.title, "due": due, "achieved": achieved,
                           "status": "achieved" if achieved else "planned"})
    if milestones:
        await session.exec(text(
            "insert into programme_milestone (org_id, programme_id, title, due_on, achieved_on, status)"
            " values (:org, :programme, :title, :due, :achieved, :status)"
        ), params=milestones)
    risks = [{"org": org_id, "programme": programme_id, "description": r.description, "likelihood": r.likelihood, "impact": r.impact,
              "owner": r.owner, "mitigation": r.mitigation, "raised": add_months(current, -r.raised_months_ago)} for r in demo.risks]
    if risks:
        await session.exec(text(
            "insert into programme_risk (org_id, programme_id, description, likelihood, impact, owner, mitigation, raised_on)"
            " values (:org, :programme, :description, :likelihood, :impact, :owner, :mitigation, :raised)"
        ), params=risks)
