"""Accounts: create a person, invite them to choose a password, and check passwords as NCSC advises.

Onboarding a new organisation needs no code: the operator runs ``accord create-admin --org CODE``
for its first administrator (an organisation outside any system has no system administrator who
could), and that administrator invites the rest from the organisation's admin page. The demo's
accounts are made through the same functions.

Passwords follow the NCSC's password guidance: a minimum length, no composition rules, no expiry,
and a deny-list of the most common passwords. The deny-list is zxcvbn's (Dropbox's estimator, kept
on PyPI): its 30,000 most common passwords plus dictionaries of words and names, and the patterns
people use to dress them up ("Summer2026!"), with the person's own name and email as extra entries.
A password zxcvbn scores below 4 (at least 10^10 guesses, the level it calls "very unguessable":
dressed-up common words such as "Summer2026!!" score 3) is refused with its reason.

An invitation is a random secret shown once (only its SHA-256 is stored), valid for
``INVITATION_DAYS`` and once. Services never commit; the caller's transaction does.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from server.admin.authority import Actor, resolve_domain
from server.admin.roles import RoleChangeRefused, grant_role, user_by_email
from server.audit.trail import record_event
from server.auth.authz import Authorizer
from server.auth.passwords import hash_password
from server.db.models import AppUser, Invitation, Organisation

MIN_LENGTH = 12
MAX_LENGTH = 256  # long passphrases are welcome; a cap keeps hashing bounded
MIN_SCORE = 4  # zxcvbn: "very unguessable", 10^10 guesses or more; "Summer2026!!" scores 3
INVITATION_DAYS = 7
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class AccountRefused:
    field: str  # the form field the message is about, or "" for the request as a whole
    message: str


@dataclass(frozen=True)
class AccountCreated:
    user: AppUser


@dataclass(frozen=True)
class Invited:
    user: AppUser
    created: bool  # a new account (False: an existing one was given the role)
    secret: str | None  # the invitation's secret, shown once; None when the person already has a password
    expires_at: dt.datetime | None


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why this password may not be used, in words, or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"Enter a password of at least {MIN_LENGTH} characters; three random words make a good one"
    if len(password) > MAX_LENGTH:
        return f"Enter a password of {MAX_LENGTH} characters or fewer"
    # Imported here: its frequency lists hold ~12 MB, wanted only by the few requests that set a password.
    from zxcvbn import zxcvbn

    personal = [part for part in re.split(r"[^a-z0-9]+", f"{email} {name}".lower()) if len(part) > 2]
    result = zxcvbn(password, user_inputs=personal)
    if result["score"] < MIN_SCORE:
        warning = result["feedback"].get("warning") or "It looks like a common word or pattern with a few changes"
        return f"Choose a password that is harder to guess. {warning.rstrip('.')}."
    return None


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def create_user(
    session: AsyncSession, actor: Actor, *, email: str, name: str, home_org_code: str, password: str | None = None,
) -> AccountCreated | AccountRefused:
    """A new account of an organisation (its home, whose audit trail records it), with a password
    (checked) or none yet (the person is invited to choose one)."""
    email, name = normalise_email(email), " ".join(name.split())
    if not _EMAIL.match(email):
        return AccountRefused("email", "Enter an email address in the correct format, like name@nhs.net")
    if not name:
        return AccountRefused("name", "Enter the person's full name")
    if len(name) > 200:
        return AccountRefused("name", "The name must be 200 characters or fewer")
    if await user_by_email(session, email) is not None:
        return AccountRefused("email", "There is already an Accord account with that email address")
    home_org_id = (await session.exec(select(Organisation.id).where(Organisation.code == home_org_code))).scalars().first()
    if home_org_id is None:
        return AccountRefused("org", f"There is no organisation with the code {home_org_code}")
    if password is not None:
        problem = password_problem(password, email=email, name=name)
        if problem:
            return AccountRefused("password", problem)
    user = AppUser(email=email, name=name, password_hash=hash_password(password) if password is not None else None, home_org_id=home_org_id)
    session.add(user)
    await session.flush()
    await record_event(
        session, action="user.created", object_type="app_user", object_id=str(user.id), org_id=home_org_id,
        actor_user_id=actor.user_id, actor_role=actor.role, after={"email": email, "name": name, "has_password": password is not None},
        ip=actor.ip,
    )
    return AccountCreated(user)


async def invite(
    session: AsyncSession, authorizer: Authorizer, actor: Actor, *, email: str, name: str, role: str, domain: str, home_org_code: str,
) -> Invited | AccountRefused:
    """Give a person a role here, creating their account if there is none, and an invitation if they have no password."""
    user = await user_by_email(session, email)
    created = False
    if user is None:
        made = await create_user(session, actor, email=email, name=name, home_org_code=home_org_code)
        if isinstance(made, AccountRefused):
            return made
        user, created = made.user, True
    granted = await grant_role(session, authorizer, actor, email=user.email, role=role, domain=domain)
    if isinstance(granted, RoleChangeRefused):
        return AccountRefused(granted.field, granted.message)
    if user.password_hash is not None:
        return Invited(user, created, None, None)
    secret, expires_at = await create_invitation(session, actor, user)
    return Invited(user, created, secret, expires_at)


async def create_invitation(session: AsyncSession, actor: Actor, user: AppUser) -> tuple[str, dt.datetime]:
    """A new invitation for the account (earlier unused ones stop working): the secret, shown once, and its expiry."""
    now = dt.datetime.now(dt.UTC)
    await session.exec(update(Invitation).where(Invitation.user_id == user.id, Invitation.accepted_at.is_(None)).values(expires_at=now))
    secret = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(days=INVITATION_DAYS)
    session.add(Invitation(user_id=user.id, secret_hash=_hash(secret), invited_by=actor.user_id, created_at=now, expires_at=expires_at))
    await session.flush()
    return secret, expires_at


async def live_invitation(session: AsyncSession, secret: str) -> tuple[Invitation, AppUser] | None:
    """The invitation this secret opens, if it is unused and unexpired and its account is active."""
    row = (await session.exec(
        select(Invitation, AppUser).join(AppUser, AppUser.id == Invitation.user_id)
        .where(Invitation.secret_hash == _hash(secret), Invitation.accepted_at.is_(None),
               Invitation.expires_at > dt.datetime.now(dt.UTC), AppUser.is_active)
        .with_for_update(of=Invitation)
    )).first()
    return (row[0], row[1]) if row else None


async def accept_invitation(session: AsyncSession, secret: str, password: str, confirmation: str) -> AppUser | AccountRefused:
    """Set the invited person's password (checked); the invitation cannot be used again."""
    found = await live_invitation(session, secret)
    if found is None:
        return AccountRefused("", "This invitation link has expired or has already been used. Ask your administrator for a new one.")
    invitation, user = found
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        return AccountRefused("password", problem)
    if password != confirmation:
        return AccountRefused("confirmation", "The passwords do not match")
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    invitation.accepted_at = dt.datetime.now(dt.UTC)
    session.add_all([user, invitation])
    await session.flush()
    await record_event(
        session, action="user.invitation_accepted", object_type="app_user", object_id=str(user.id), org_id=user.home_org_id,
        actor_user_id=user.id, after={"email": user.email},
    )
    return user


async def create_admin(session: AsyncSession, authorizer: Authorizer, *, org_code: str, email: str, name: str) -> Invited | AccountRefused:
    """The first administrator of an organisation (``accord create-admin``): tenant_admin there, invited if new."""
    if await resolve_domain(session, f"org:{org_code}") is None:
        return AccountRefused("org", f"There is no organisation with the code {org_code}; load its tenant file first")
    return await invite(session, authorizer, Actor.operator(), email=email, name=name, role="tenant_admin", domain=f"org:{org_code}",
                        home_org_code=org_code)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
