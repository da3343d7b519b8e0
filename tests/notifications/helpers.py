"""Plain factories for the notification tests: people with roles, an escalation moved by the engine, reads as a person."""
from __future__ import annotations

import itertools
import uuid

from sqlalchemy import text

from server.db.session import AccessContext

_serial = itertools.count()


async def create_person(database, *, name: str, roles: list[tuple[str, str, int]]) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """An active person holding ``roles`` as (role, 'org' | 'system', id); returns (user id, email)."""
    email = f"notify-{uuid.uuid4().hex[:10]}@accord.example"
    async with database.session() as session:
        user_id = (await session.exec(text("insert into app_user (email, name, is_active, failed_logins) values (:e, :n, true, 0) returning id"),
                                      params={"e": email, "n": name})).scalar_one()
        for role, scope, scope_id in roles:
            column = "org_id" if scope == "org" else "system_id"
            await session.exec(text(f"insert into role_assignment (user_id, role, {column}, national) values (:u, :r, :s, false)"),
                               params={"u": user_id, "r": role, "s": scope_id})
    return user_id, email


async def system_id(database, code: str) -> int:  # type: ignore[no-untyped-def]
    async with database.session() as session:
        return (await session.exec(text("select id from health_system where code = :c"), params={"c": code})).scalar_one()


async def user_id_of(database, email: str) -> int:  # type: ignore[no-untyped-def]
    async with database.session() as session:
        return (await session.exec(text("select id from app_user where email = :e"), params={"e": email})).scalar_one()


async def notifications_of(database, user_id: int, dedupe_prefix: str = "") -> list:  # type: ignore[no-untyped-def]
    """What the person reads (row-level security: only their own), as (kind, subject, link, dedupe_key, emailed_at)."""
    async with database.session(AccessContext(user_id=user_id)) as session:
        return (await session.exec(text(
            "select kind, subject, link, dedupe_key, emailed_at, email_channel, email_attempts from notification"
            " where dedupe_key like :p order by id"), params={"p": f"{dedupe_prefix}%"})).all()


async def open_escalation(session, org_id: int, *, forum: str, level: int = 3, event: str = "escalated") -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """An escalation of the organisation's at ``forum`` with the event a ladder run writes, in the
    caller's transaction (as the run does); (escalation id, event id)."""
    subject = f"NOTIFY-{next(_serial)}-{uuid.uuid4().hex[:6]}"
    escalation_id = (await session.exec(text(
        "insert into escalation (org_id, ladder_code, subject_type, subject_key, subject_name, level, level_code, level_name, forum_code,"
        " requires, status, explanation, manual_override, version) values (:o, 'NOTIFY', 'organisation', :k, :n, :l, 'L', 'Test level',"
        " :f, '[]', 'open', '{}', false, 1) returning id"), params={"o": org_id, "k": subject, "n": f"Subject {subject}", "l": level, "f": forum},
    )).scalar_one()
    event_id = (await session.exec(text(
        "insert into escalation_event (org_id, escalation_id, event, from_level, to_level, facts) values (:o, :x, :e, :fl, :l, '{}') returning id"
    ), params={"o": org_id, "x": escalation_id, "e": event, "fl": None if event == "opened" else level - 1, "l": level})).scalar_one()
    return escalation_id, event_id
