"""Record a maturity self-assessment: the one service behind the maturity page and GraphQL.

Who may: the framework's ``maturity.roles`` name the roles that record it, and the Casbin policy
must let the role ``record`` a ``maturity_assessment`` in the organisation's domain (a system's own
in ``system:<code>``). A new assessment supersedes the one in force for its scope (history is never
rewritten), goes into the audit trail, and the organisation's ladders re-run in the same
transaction, since an organisation's ladder may read its maturity level.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.locks import LADDERS, lock_for_transaction
from server.audit.trail import record_event
from server.auth.authz import Authorizer, FieldRefusal, Principal, acting_domain
from server.db.models import MaturityAssessment
from server.escalation_store.run import run_ladders
from server.maturity.framework import MaturityFramework, maturity_framework
from server.maturity.history import latest_assessment_id

EVIDENCE_LIMIT = 4000
UK = ZoneInfo("Europe/London")
RefusalReason = Literal["not_found", "not_allowed", "invalid"]


@dataclass(frozen=True)
class MaturityInput:
    level: int | None
    evidence: str
    programme: str | None = None  # None: the whole organisation


@dataclass(frozen=True)
class MaturityRecorded:
    assessment: MaturityAssessment
    supersedes_id: int | None
    role: str
    message: str


@dataclass(frozen=True)
class MaturityRefused(FieldRefusal):
    reason: RefusalReason


def recording_roles_here(authorizer: Authorizer, principal: Principal | None, domain: str, framework: MaturityFramework) -> list[str]:
    """The principal's roles here that both the framework and the policy let record a self-assessment."""
    return authorizer.roles_entitled(principal, domain, "maturity_assessment", "record", framework.spec.roles)


async def record_maturity(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, org_id: int, given: MaturityInput,
    now: dt.datetime | None = None,
) -> MaturityRecorded | MaturityRefused:
    now = now or dt.datetime.now(dt.UTC)
    framework = await maturity_framework(session, org_id)
    if framework is None:  # row-level security: an organisation this request cannot read has no framework to it
        return MaturityRefused("not_found", "This organisation's framework declares no maturity levels, or you may not see it", "organisation")
    domain = await acting_domain(session, org_id)
    roles = recording_roles_here(authorizer, principal, domain, framework)
    if not roles or not authorizer.allows(principal, domain, "maturity_assessment", "record"):
        return MaturityRefused("not_allowed", "Your role does not allow you to record this organisation's maturity "
                               f"(the framework gives it to: {', '.join(r.replace('_', ' ') for r in framework.spec.roles)})")
    if given.programme is not None and given.programme not in dict(framework.programmes):
        return MaturityRefused("invalid", "Choose the whole organisation or one of its programme areas", "programme")
    level = framework.level(given.level) if given.level is not None else None
    if level is None:
        return MaturityRefused("invalid", f"Choose a level from 1 to {len(framework.spec.levels)}", "level")
    evidence = (given.evidence or "").strip()
    if not evidence:
        return MaturityRefused("invalid", "Give the evidence for this level: it is kept with the assessment", "evidence")
    if len(evidence) > EVIDENCE_LIMIT:
        return MaturityRefused("invalid", f"Keep the evidence to {EVIDENCE_LIMIT:,} characters or fewer", "evidence")
    # One writer of an organisation's ladders at a time; the assessment superseded is the latest.
    await lock_for_transaction(session, LADDERS, [org_id])
    supersedes = await latest_assessment_id(session, org_id, given.programme)
    row = MaturityAssessment(org_id=org_id, programme=given.programme, level=level.level, assessed_on=now.astimezone(UK).date(),
                             assessed_by=principal.user_id, notes=evidence)
    session.add(row)
    await session.flush()
    scope = framework.programme_name(given.programme) or "the organisation"
    await record_event(
        session, action="maturity.assessed", object_type="maturity_assessment", object_id=str(row.id), org_id=org_id,
        actor_user_id=principal.user_id, actor_role=roles[0], before={"supersedes": supersedes} if supersedes else None,
        after={"programme": given.programme, "level": level.level, "level_name": level.name, "evidence": evidence},
    )
    await run_ladders(session, org_id, at=now)
    return MaturityRecorded(row, supersedes, roles[0], f"Maturity recorded for {scope}: level {level.level}, {level.name}.")
