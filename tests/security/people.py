"""Factories for accounts the security tests need, separate from the demo accounts other tests rely on.

``create_person`` is idempotent (same email: same account, roles reset to those given), so a test
can be re-run against a kept database; ``remove_people`` takes them away again.
"""
from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher
from sqlalchemy import delete, select, update

from server.db.models import ApiToken, AppUser, AuditEvent, HealthSystem, LoginAttempt, Organisation, RoleAssignment
from server.db.session import AccessContext
from server.demo.users import DEMO_PASSWORD

# argon2 is deliberately slow, and its cost travels in the hash: these accounts get a cheap hash of
# the demo password so the probe's many logins exercise the real login path in milliseconds.
_CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_password_hash: list[str] = []


def _hash() -> str:
    if not _password_hash:
        _password_hash.append(_CHEAP_HASHER.hash(DEMO_PASSWORD))
    return _password_hash[0]


async def create_person(database, email: str, *, home: str | None = None, roles: Iterable[tuple[str, str]] = (), name: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """An active account, e.g. ``create_person(db, "a@x.example", home="RXW", roles=[("viewer", "org:RXW")])``."""
    async with database.session() as session:
        org_ids = dict((await session.exec(select(Organisation.code, Organisation.id))).all())
        system_ids = dict((await session.exec(select(HealthSystem.code, HealthSystem.id))).all())
        user = (await session.exec(select(AppUser).where(AppUser.email == email))).scalars().first()
        if user is None:
            user = AppUser(email=email, name=name or email.partition("@")[0].replace(".", " ").title(), password_hash=_hash())
            session.add(user)
        user.home_org_id = org_ids.get(home) if home else None
        user.is_active = True
        await session.flush()
        await session.exec(delete(RoleAssignment).where(RoleAssignment.user_id == user.id))
        await session.exec(delete(LoginAttempt).where(LoginAttempt.email == email))
        for role, domain in roles:
            kind, _, code = domain.partition(":")
            scope = {"org_id": org_ids[code]} if kind == "org" else {"system_id": system_ids[code]}
            session.add(RoleAssignment(user_id=user.id, role=role, **scope))
        return user.id


async def remove_people(database, emails: Iterable[str]) -> None:  # type: ignore[no-untyped-def]
    """Delete the accounts; one named in the audit trail (which never forgets) is switched off instead."""
    emails = list(emails)
    async with database.session() as session:
        ids = list((await session.exec(select(AppUser.id).where(AppUser.email.in_(emails)))).scalars())
        await session.exec(delete(RoleAssignment).where(RoleAssignment.user_id.in_(ids)))
        await session.exec(delete(LoginAttempt).where(LoginAttempt.email.in_(emails)))
        await session.exec(update(ApiToken).where(ApiToken.user_id.in_(ids)).values(revoked_at=ApiToken.created_at))
        org_ids = list((await session.exec(select(Organisation.id))).scalars())
    # Audit rows are visible only within an access context (forced row-level security, even for the owner).
    async with database.session(AccessContext.for_orgs(org_ids)) as session:
        audited = set((await session.exec(select(AuditEvent.actor_user_id).where(AuditEvent.actor_user_id.in_(ids)))).scalars())
    async with database.session() as session:
        removable = [user_id for user_id in ids if user_id not in audited]
        await session.exec(delete(AppUser).where(AppUser.id.in_(removable)))
        await session.exec(update(AppUser).where(AppUser.id.in_(list(audited))).values(is_active=False))
