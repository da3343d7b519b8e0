"""Store what one ladder run changed, set-based: a statement per kind of write, whatever the subjects.

A run (run.py) hands each subject's result here as it goes: an escalation opened, moved or closed
(its row, its events, an audit entry), or an explanation refreshed with no event. ``store`` then
writes the new escalations (one insert, returning their ids), the changed ones (one update), their
events (one insert) and the audit trail (one insert): at most four statements a run, where writing
subject by subject cost a flush, an insert per event and an audit insert for each subject that moved.
The rows the run loaded stay in step with what was written, so the session never writes them again.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel.ext.asyncio.session import AsyncSession

from server.audit.trail import record_events
from server.db.models import Escalation as EscalationRow
from server.escalation.engine import LIFECYCLE_FACTS
from server.escalation.ladder import LadderOutcome
from server.escalation.lifecycle import Escalation, TransitionEvent
from server.escalation_store.facts import Subject
from server.tenants.spec import LadderSpec

Key = int | tuple[str, str]  # a stored escalation's id, or (ladder, subject) for one this run opens

_INSERT = text(
    """
    insert into escalation (org_id, ladder_code, subject_type, subject_key, subject_name, indicator_id, unit_id, level, level_code,
                            level_name, forum_code, requires, status, explanation, manual_override, updated_at, closed_at, version)
    select :org, b.ladder_code, b.subject_type, b.subject_key, b.subject_name, b.indicator_id, b.unit_id, b.level, b.level_code,
           b.level_name, b.forum_code, b.requires::jsonb, b.status, b.explanation::jsonb, false, :now, b.closed_at, 1
    from unnest(cast(:ladder_code as text[]), cast(:subject_type as text[]), cast(:subject_key as text[]), cast(:subject_name as text[]),
                cast(:indicator_id as int[]), cast(:unit_id as int[]), cast(:level as int[]), cast(:level_code as text[]),
                cast(:level_name as text[]), cast(:forum_code as text[]), cast(:requires as text[]), cast(:status as text[]),
                cast(:explanation as text[]), cast(:closed_at as timestamptz[]))
         as b(ladder_code, subject_type, subject_key, subject_name, indicator_id, unit_id, level, level_code, level_name, forum_code,
              requires, status, explanation, closed_at)
    returning id, ladder_code, subject_key
    """
)
_UPDATE = text(
    """
    update escalation e set level = b.level, level_code = b.level_code, level_name = b.level_name, forum_code = b.forum_code,
           requires = b.requires::jsonb, status = b.status, explanation = b.explanation::jsonb, updated_at = :now,
           closed_at = b.closed_at, version = b.version
    from unnest(cast(:id as int[]), cast(:level as int[]), cast(:level_code as text[]), cast(:level_name as text[]),
                cast(:forum_code as text[]), cast(:requires as text[]), cast(:status as text[]), cast(:explanation as text[]),
                cast(:closed_at as timestamptz[]), cast(:version as int[]))
         as b(id, level, level_code, level_name, forum_code, requires, status, explanation, closed_at, version)
    where e.id = b.id and e.org_id = :org
    """
)
_EVENTS = text(
    """
    insert into escalation_event (org_id, escalation_id, event, from_level, to_level, actor_role, reason, facts, at)
    select :org, b.escalation_id, b.event, b.from_level, b.to_level, b.actor_role, b.reason, b.facts::jsonb, b.at
    from unnest(cast(:escalation_id as int[]), cast(:event as text[]), cast(:from_level as int[]), cast(:to_level as int[]),
                cast(:actor_role as text[]), cast(:reason as text[]), cast(:facts as text[]), cast(:at as timestamptz[]))
         with ordinality as b(escalation_id, event, from_level, to_level, actor_role, reason, facts, at, position)
    order by b.position
    """
)
_ROW_COLUMNS = ("level", "level_code", "level_name", "forum_code", "requires", "status", "explanation", "closed_at", "version")
_NEW_COLUMNS = ("ladder_code", "subject_type", "subject_key", "subject_name", "indicator_id", "unit_id", "level", "level_code",
                "level_name", "forum_code", "requires", "status", "explanation", "closed_at")
_JSON_COLUMNS = frozenset({"requires", "explanation"})


class LadderChanges:
    """What one run changes, gathered subject by subject and stored together."""

    def __init__(self, org_id: int, now: dt.datetime) -> None:
        self.org_id, self.now = org_id, now
        self.new: dict[tuple[str, str], dict[str, Any]] = {}
        self.changed: dict[int, tuple[EscalationRow, dict[str, Any]]] = {}
        self.events: list[tuple[Key, dict[str, Any]]] = []
        self.audit: list[tuple[Key, dict[str, Any]]] = []

    def refresh(self, row: EscalationRow, explanation: dict[str, object]) -> None:
        """A fact changed without moving the level (a judgement recorded, a month on target while held): show it.

        No event: nothing happened to the escalation. Re-running on the same facts writes nothing.
        """
        if _without_lifecycle(row.explanation) != _without_lifecycle(explanation):
            self.changed[row.id] = (row, {**_values_of(row), "explanation": explanation, "version": row.version + 1})  # type: ignore[index]

    def move(
        self, ladder: LadderSpec, subject: Subject, row: EscalationRow | None, escalation: Escalation | None,
        events: tuple[TransitionEvent, ...], outcome: LadderOutcome, explanation: dict[str, object], facts: dict[str, object],
    ) -> None:
        """The escalation opened, moved or closed: its new state, its events with the facts, an audit entry."""
        level = next((lvl for lvl in ladder.levels if escalation and lvl.level == escalation.level), None)
        status = escalation.status.value if escalation else "closed"
        values: dict[str, Any] = {"forum_code": outcome.forum, "requires": list(outcome.requires), "status": status,
                                  "explanation": explanation}
        if row is None:
            key: Key = (ladder.code, subject.key)
            values = {"level": max(escalation.level, 1) if escalation else 1, "level_code": "", "level_name": "", "closed_at": None,
                      **values}
        else:
            key = row.id  # type: ignore[assignment]
            values = {**_values_of(row), **values, "version": row.version + 1}
        if level is not None:
            values.update(level=level.level, level_code=level.code, level_name=level.name)
        if status == "closed":
            values["closed_at"] = self.now
        if row is None:
            self.new[key] = {"ladder_code": ladder.code, "subject_type": subject.kind, "subject_key": subject.key,  # type: ignore[index]
                             "subject_name": subject.name, "indicator_id": subject.indicator_id, "unit_id": subject.unit_id, **values}
        else:
            self.changed[row.id] = (row, values)  # type: ignore[index]
        # The subject's facts when it moved, and its data period: de-escalation counts periods from it.
        stored_facts = {k: _jsonable(v) for k, v in facts.items()}
        for event in events:
            self.events.append((key, {
                "event": event.kind.value, "from_level": event.from_level, "to_level": event.to_level, "actor_role": event.role,
                "reason": event.reason, "at": event.at,
                "facts": {**stored_facts, "actor": event.actor, **({"period": event.period.isoformat()} if event.period else {})},
            }))
        self.audit.append((key, {"action": f"escalation.{events[-1].kind.value}",
                                 "after": {"ladder": ladder.code, "subject": subject.key, "level": values["level"], "status": status}}))

    async def store(self, session: AsyncSession) -> None:
        ids: dict[Key, int] = {}
        if self.new:
            rows = list(self.new.values())
            returned = await session.exec(_INSERT.bindparams(org=self.org_id, now=self.now, **_arrays(rows, _NEW_COLUMNS)))
            ids.update({(ladder, subject): escalation_id for escalation_id, ladder, subject in returned.all()})
        if self.changed:
            rows = [{**values, "id": escalation_id} for escalation_id, (_, values) in self.changed.items()]
            await session.exec(_UPDATE.bindparams(org=self.org_id, now=self.now, **_arrays(rows, ("id", *_ROW_COLUMNS))))
            for row, values in self.changed.values():  # the loaded rows now hold what is stored: nothing left to flush
                for column, value in {**values, "updated_at": self.now}.items():
                    set_committed_value(row, column, value)
        if self.events:
            rows = [{**event, "escalation_id": ids.get(key, key)} for key, event in self.events]
            await session.exec(_EVENTS.bindparams(org=self.org_id, **_arrays(
                rows, ("escalation_id", "event", "from_level", "to_level", "actor_role", "reason", "facts", "at"))))
        if self.audit:
            await record_events(session, [
                {"action": entry["action"], "object_type": "escalation", "object_id": str(ids.get(key, key)), "org_id": self.org_id,
                 "actor_role": "escalation engine", "after": entry["after"]}
                for key, entry in self.audit
            ])


def explanation_of(outcome: LadderOutcome, subject: Subject) -> dict[str, object]:
    """What the register shows of the latest evaluation: the rule, the facts, the parameters, what was not known."""
    return {
        "text": outcome.explanation(), "facts": {k: _jsonable(v) for k, v in outcome.facts.items()},
        "parameters": {k: _jsonable(v) for k, v in outcome.parameters.items()},
        "route": outcome.route, "additional_forums": list(outcome.additional_forums), "missing_facts": list(outcome.missing_facts),
        "source": outcome.source, "period": subject.period.latest.isoformat() if subject.period else None,
        "de_escalation": outcome.de_escalation.describe() if outcome.de_escalation else None,
        "evidence": subject.evidence,
    }


def _values_of(row: EscalationRow) -> dict[str, Any]:
    return {column: getattr(row, column) for column in _ROW_COLUMNS}


def _arrays(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> dict[str, list[Any]]:
    """Column arrays for unnest; JSON travels as text and is cast."""
    return {column: [json.dumps(row[column]) if column in _JSON_COLUMNS or column == "facts" else row[column] for row in rows]
            for column in columns}


def _without_lifecycle(explanation: dict) -> dict:  # type: ignore[type-arg]
    # The lifecycle's own facts differ between the evaluation that moved the level and the next one
    # (current_level was the old level then); they are no news to show.
    facts = {k: v for k, v in (explanation.get("facts") or {}).items() if k not in LIFECYCLE_FACTS}
    return {**explanation, "facts": facts}


def _jsonable(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
