"""What the judgement form partial (templates/partials/judgement_form.html) needs on a page.

The escalation page offers the kinds of judgement its subject can be given; a meeting page offers
the kinds its forum makes, about the meeting's subject or, for a forum that meets about many (System
QPC), about any subject on the organisation's live escalation register. Only kinds the person may
record are offered; with none, the partial shows nothing.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer, Principal, acting_domain
from server.judgements.kinds import value_code, value_word
from server.judgements.record import recording_roles_here
from server.judgements.store import CurrentJudgement, current_judgements, declared
from server.tenants.spec import JudgementKindSpec, TenantFile


@dataclass(frozen=True)
class KindOffered:
    code: str
    spec: JudgementKindSpec
    subjects: list[tuple[str, str]]  # (subject key, name) this kind may be recorded about here
    choices: list[tuple[str, str]]  # (form value, words)

    def subject_items(self, selected: str | None) -> list[dict[str, object]]:
        """Items for the NHS.UK select macro."""
        return [{"value": key, "text": name, "selected": key == selected} for key, name in self.subjects]

    def choice_items(self) -> list[dict[str, str]]:
        """Items for the NHS.UK radios macro."""
        return [{"value": value, "text": words} for value, words in self.choices]


@dataclass(frozen=True)
class PastJudgement:
    """One row of the history: a judgement as recorded (superseded, withdrawn or current)."""

    kind_name: str
    subject_name: str
    value_word: str | None  # None: a withdrawal
    reason: str
    recorded_by_name: str
    recorded_role: str
    recorded_at: dt.datetime


HISTORY_ROWS = 20


@dataclass
class JudgementForm:
    action: str  # where the forms post
    returns_to: str  # "escalation:<id>" or "meeting:<id>"
    kinds: list[KindOffered]
    current: list[CurrentJudgement]
    history: list[PastJudgement]
    meeting_version: int | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    values: Mapping[str, str] = field(default_factory=dict)
    failed_kind: str | None = None  # the form the errors belong to


async def judgement_form(
    session: AsyncSession, authorizer: Authorizer, principal: Principal | None, *, organisation_code: str, org_id: int,
    framework: TenantFile | None, subjects: Sequence[tuple[str, str]], returns_to: str, forum: str | None = None,
    meeting_version: int | None = None,
) -> JudgementForm | None:
    """The form's context, or None when this person may record no judgement here."""
    if principal is None or framework is None or not framework.judgements or not subjects:
        return None
    domain = await acting_domain(session, org_id)
    kinds = []
    for code, kind in framework.judgements.items():
        if forum is not None and kind.forum != forum:
            continue
        fitting = [(key, name) for key, name in subjects if key.partition(":")[0] in kind.subjects]
        if fitting and recording_roles_here(authorizer, principal, domain, kind):
            kinds.append(KindOffered(code, kind, fitting, [(value_code(v), value_word(v).capitalize()) for v in kind.values]))
    if not kinds:
        return None
    keys = sorted({key for offered in kinds for key, _ in offered.subjects})
    current = declared(await current_judgements(session, org_id, at=dt.datetime.now(dt.UTC), subject_keys=keys), framework)
    history = await judgement_history(session, org_id, keys, framework)
    return JudgementForm(f"/organisations/{organisation_code}/judgements", returns_to, kinds, current, history, meeting_version)


async def judgement_history(session: AsyncSession, org_id: int, subject_keys: Sequence[str], framework: TenantFile) -> list[PastJudgement]:
    """The latest judgements recorded about these subjects, newest first, superseded and withdrawn ones too: one statement."""
    rows = (await session.exec(text(
        "select kind, subject_name, value, withdrawn, reason, recorded_by_name, recorded_role, recorded_at from judgement"
        " where org_id = :org and subject_key = any(cast(:keys as text[])) order by recorded_at desc, id desc limit :limit"
    ), params={"org": org_id, "keys": list(subject_keys), "limit": HISTORY_ROWS})).all()
    names = {code: kind.name for code, kind in framework.judgements.items()}
    return [PastJudgement(names.get(kind, kind.replace("_", " ")), subject, None if withdrawn else value_word(value), reason, by, role, at)
            for kind, subject, value, withdrawn, reason, by, role, at in rows]


async def register_subjects(session: AsyncSession, org_id: int) -> list[tuple[str, str]]:
    """(subject key, name) of every live escalation: what a forum meeting about many subjects judges."""
    rows = (await session.exec(text(
        "select distinct subject_key, subject_name from escalation where org_id = :org and status <> 'closed' order by subject_name"
    ), params={"org": org_id})).all()
    return [(key, name) for key, name in rows]

