"""The ``accord`` command: serve, migrate, load tenants, make demo data, run the demo."""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import contextlib
import logging
import sys
from collections.abc import AsyncIterator

from server.settings import Settings, get_settings

log = logging.getLogger("accord")


@contextlib.asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator["Database"]:  # type: ignore[name-defined]  # noqa: F821
    from server.db import migrate
    from server.db.server import resolve_database
    from server.db.session import Database

    urls, embedded = resolve_database(settings)
    database = Database(urls, pool_size=2)
    try:
        await migrate.upgrade(database.owner_engine)
        yield database
    finally:
        await database.dispose()
        if embedded is not None:
            embedded.stop()


async def _migrate(settings: Settings) -> None:
    async with open_database(settings):
        log.info("database schema is current")


async def _load_tenants(settings: Settings) -> None:
    from server.tenants.load import load_tenants

    async with open_database(settings) as database:
        summary = await load_tenants(database, settings.tenants_dir)
        rederived = await _rederive_rollup_changes(database, summary.rollup_changed)
    log.info("loaded %d tenants: %d units, %d indicators, %d forums", summary.organisations, summary.units, summary.indicators, summary.forums)
    if rederived:
        log.info("derived %d organisations again: their units' roll-up changed", rederived)


async def _rederive_rollup_changes(database: "Database", org_ids: frozenset[int]) -> int:  # type: ignore[name-defined]  # noqa: F821
    """A unit now in or out of its parent's figures (``rolls_up``): derive its organisation, and the systems it is a member of, again."""
    from sqlalchemy import text

    from server.assessment_store.recompute import recompute_one

    if not org_ids:
        return 0
    async with database.session() as session:
        systems = (await session.exec(text(
            "select distinct h.organisation_id from system_membership m join health_system h on h.id = m.system_id"
            " where m.organisation_id = any(:orgs) and h.organisation_id is not null"), params={"orgs": sorted(org_ids)})).scalars().all()
    for org_id in [*sorted(org_ids), *sorted(set(systems) - org_ids)]:
        await recompute_one(database, org_id)
    return len(org_ids) + len(set(systems) - org_ids)


async def _demo_data(settings: Settings, months: int) -> None:
    from server.assessment_store.recompute import recompute_all
    from server.db.session import AccessContext
    from server.auth.authz import Authorizer
    from server.demo.generate import create_demo_users, generate_demo_measurements, month_starts
    from server.demo.contracts import generate_demo_notices
    from server.demo.programmes import generate_demo_programmes
    from server.demo.stories import generate_demo_decisions, grant_demo_autonomy, record_demo_judgements, record_demo_maturity
    from server.tenants.load import load_tenants, organisation_ids, validate_tenants

    async with open_database(settings) as database:
        loaded = await load_tenants(database, settings.tenants_dir)
        tenants = validate_tenants(settings.tenants_dir)
        async with database.session() as session:
            ids = await organisation_ids(session)
        users = await create_demo_users(database, Authorizer(settings.policies_dir))
        async with database.session(AccessContext.for_orgs(ids.values(), write=True)) as session:
            measured = await generate_demo_measurements(session, tenants, months=months)
            rows = measured + await generate_demo_programmes(session, tenants, authorizer=Authorizer(settings.policies_dir))
            rows += await generate_demo_notices(session, tenants)
            if measured:  # the stories' plans and recalculations belong with the series drawn for them, not an older demo's
                rows += await generate_demo_decisions(session, tenants, latest=month_starts(1, dt.date.today())[-1])
        if rows:
            await recompute_all(database)
            await grant_demo_autonomy(database, Authorizer(settings.policies_dir))
            await record_demo_judgements(database, Authorizer(settings.policies_dir), tenants)
            await record_demo_maturity(database, Authorizer(settings.policies_dir), tenants)
        else:
            await _rederive_rollup_changes(database, loaded.rollup_changed)
    log.info("demo data: %d measurements added, %d demo users created", rows, users)


async def _issue_token(settings: Settings, args: argparse.Namespace) -> int:
    from server.admin.tokens import TokenRefused, issue_at_command_line
    from server.auth.authz import NATIONAL_DOMAIN, org_domain, region_domain, system_domain

    if args.national:
        domain = NATIONAL_DOMAIN
    else:
        domain = org_domain(args.org) if args.org else system_domain(args.system) if args.system else region_domain(args.region)
    roles = [role.strip() for role in args.roles.split(",") if role.strip()]
    async with open_database(settings) as database:
        outcome = await issue_at_command_line(database, email=args.email, domain=domain, roles=roles, days=args.days, name=args.name)
    if isinstance(outcome, TokenRefused):
        print(f"No token issued: {outcome.message}", file=sys.stderr)
        return 2
    print(f"Token {outcome.token_id} for {outcome.account_email} in {outcome.domain} ({', '.join(outcome.roles)}),"
          f" expires {outcome.expires_at:%Y-%m-%d}. It is shown only this once:", file=sys.stderr)
    print(outcome.secret)
    return 0


async def _change_scope_role(settings: Settings, args: argparse.Namespace, *, grant: bool) -> int:
    from server.admin.scopes import ScopeRoleRefused, change_scope_role_at_command_line
    from server.auth.authz import NATIONAL_DOMAIN, Authorizer, region_domain

    domain = NATIONAL_DOMAIN if args.national else region_domain(args.region)
    async with open_database(settings) as database:
        outcome = await change_scope_role_at_command_line(
            database, Authorizer(settings.policies_dir), email=args.email, role=args.role, domain=domain, grant=grant,
        )
    if isinstance(outcome, ScopeRoleRefused):
        print(f"Nothing changed: {outcome.message}", file=sys.stderr)
        return 2
    print(f"{outcome.email} {'now holds' if grant else 'no longer holds'} {outcome.role} for {outcome.domain}", file=sys.stderr)
    return 0


def invitation_link(settings: Settings, secret: str) -> str:
    origin = settings.public_origin.rstrip("/") or f"http://{settings.host}:{settings.port}"
    return f"{origin}/invitations/{secret}"


async def _create_account(settings: Settings, args: argparse.Namespace, *, admin: bool) -> int:
    """``accord create-admin`` (an organisation's first tenant_admin) and ``accord create-user`` (an account, with roles)."""
    from server.admin.accounts import AccountRefused, create_admin, invite
    from server.admin.authority import Actor
    from server.auth.authz import Authorizer, org_domain
    from server.db.models import Organisation
    from server.db.session import AccessContext
    from sqlalchemy import select

    authorizer = Authorizer(settings.policies_dir)
    async with open_database(settings) as database:
        async with database.session() as session:
            org_id = (await session.exec(select(Organisation.id).where(Organisation.code == args.org))).scalars().first()
        if org_id is None:
            print(f"Nothing created: there is no organisation with the code {args.org}; load its tenant file first", file=sys.stderr)
            return 2
        roles = ["tenant_admin"] if admin else [role.strip() for role in (args.roles or "").split(",") if role.strip()]
        async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
            outcome = None
            for role in roles or ["viewer"]:
                if admin:
                    outcome = await create_admin(session, authorizer, org_code=args.org, email=args.email, name=args.name)
                else:
                    outcome = await invite(session, authorizer, Actor.operator(), email=args.email, name=args.name, role=role,
                                           domain=org_domain(args.org), home_org_code=args.org)
                if isinstance(outcome, AccountRefused):
                    await session.rollback()
                    print(f"Nothing created: {outcome.message}", file=sys.stderr)
                    return 2
    assert outcome is not None
    held = ", ".join(roles or ["viewer"])
    print(f"{outcome.user.email} ({outcome.user.name}) {'created' if outcome.created else 'already had an account'}; holds {held} for {args.org}.",
          file=sys.stderr)
    if outcome.secret:
        print(f"Send them this link to choose a password (valid until {outcome.expires_at:%Y-%m-%d %H:%M} UTC, once):", file=sys.stderr)
        print(invitation_link(settings, outcome.secret))
    return 0


async def _revoke_token(settings: Settings, token_id: int) -> int:
    from server.admin.tokens import TokenRefused, revoke_at_command_line

    async with open_database(settings) as database:
        outcome = await revoke_at_command_line(database, token_id)
    if isinstance(outcome, TokenRefused):
        print(f"Nothing revoked: {outcome.message}", file=sys.stderr)
        return 2
    print(f"Token {outcome.token_id} ({outcome.name}, {outcome.prefix}…) revoked", file=sys.stderr)
    return 0


async def _import_file(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from server.imports.report import print_outcome
    from server.imports.service import import_file
    from server.db.session import AccessContext
    from server.tenants.load import organisation_ids

    path = Path(args.file)
    async with open_database(settings) as database:
        async with database.session() as session:
            org_id = (await organisation_ids(session)).get(args.org)
        if org_id is None:
            print(f"No organisation has the code '{args.org}'", file=sys.stderr)
            return 2
        async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
            outcome = await import_file(session, org_id=org_id, user_id=None, content=path.read_bytes(), filename=path.name,
                                        format=args.format, dry_run=args.dry_run, reason=f"accord import {path.name}")
    return print_outcome(outcome, path.name)


async def _tick(settings: Settings, *, force: bool) -> int:
    from server.escalation_store.tick import daily_tick

    async with open_database(settings) as database:
        outcome = await daily_tick(database, force=force)
    words = {"ran": f"ran: {outcome.organisations} organisations, {outcome.changed} escalations changed",
             "done_already": "already ran today (use --force to run again)", "busy": "another process is running it now"}
    print(f"Ladder tick for {outcome.day:%d %B %Y}: {words[outcome.status]}", file=sys.stderr)
    return 0


def _print_demo_logins(settings: Settings) -> None:
    from server.demo.users import DEMO_PASSWORD, DEMO_USERS

    print(f"\nAccord demo at http://{settings.host}:{settings.port}/  (data in {settings.data_dir})")
    print(f"Every demo account's password is: {DEMO_PASSWORD}")
    for user in DEMO_USERS:
        print(f"  {user.email:<40} {user.purpose}")
    print("Stop with Ctrl+C.\n", flush=True)


def _serve(settings: Settings) -> None:
    import uvicorn

    from server.app import create_app
    from server.assets import fetch_assets

    fetch_assets(settings.static_dir)
    # Logging as main() set it up (log_config=None); server.observability writes each request's line.
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False,
        proxy_headers=bool(settings.forwarded_allow_ips), forwarded_allow_ips=settings.forwarded_allow_ips or None,
        loop="uvloop" if sys.platform != "win32" else "auto", http="httptools",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="accord", description="Accord: performance management for NHS health systems")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web service (applies pending migrations first)")
    demo = commands.add_parser("demo", help="load tenants, make demo data if there is none, and serve")
    for command in (serve, demo):
        command.add_argument("--host")
        command.add_argument("--port", type=int)
    commands.add_parser("migrate", help="apply pending database migrations")
    commands.add_parser("load-tenants", help="validate and load every file in tenants/")
    demo_data = commands.add_parser("demo-data", help="load tenants and generate demo measurements and accounts")
    for command in (demo, demo_data):
        command.add_argument("--months", type=int, default=60)
    commands.add_parser("fetch-assets", help="download the NHS.UK frontend and htmx files (checked by hash)")
    commands.add_parser("export-schema", help="write the GraphQL schema to schema/schema.graphql")
    issue = commands.add_parser("issue-token", help="issue an API token for an account (printed once) and audit it")
    issue.add_argument("--email", required=True, help="the account the token acts as")
    scope = issue.add_mutually_exclusive_group(required=True)
    scope.add_argument("--org", help="organisation code the token is scoped to")
    scope.add_argument("--system", help="system code the token is scoped to")
    scope.add_argument("--region", help="region code (e.g. Y60): reads every member of the region's systems")
    scope.add_argument("--national", action="store_true", help="national: reads every organisation")
    issue.add_argument("--roles", required=True, help="comma-separated roles, a subset of the account's roles there")
    issue.add_argument("--days", type=int, default=90, help="lifetime in days (at most 365)")
    issue.add_argument("--name", default="issued at the command line", help="which tool uses it")
    for name, verb in (("grant-role", "grant"), ("revoke-role", "remove")):
        change = commands.add_parser(name, help=f"{verb} a regional or national reader's role (organisation roles: the admin page)")
        change.add_argument("--email", required=True)
        change.add_argument("--role", required=True, help="regional_analyst for --region, national_analyst for --national")
        where = change.add_mutually_exclusive_group(required=True)
        where.add_argument("--region", help="region code, e.g. Y60")
        where.add_argument("--national", action="store_true")
    create_admin = commands.add_parser("create-admin", help="the first administrator of an organisation: an account and tenant_admin, with an invitation link")
    create_user = commands.add_parser("create-user", help="an account in an organisation with roles there, with an invitation link to choose a password")
    for command in (create_admin, create_user):
        command.add_argument("--org", required=True, help="organisation code (its tenant file must be loaded)")
        command.add_argument("--email", required=True)
        command.add_argument("--name", required=True, help="the person's full name")
    create_user.add_argument("--roles", default="viewer", help="comma-separated organisation roles (default viewer)")
    revoke = commands.add_parser("revoke-token", help="revoke an API token by id, at once, and audit it")
    revoke.add_argument("token_id", type=int, metavar="ID")
    tick = commands.add_parser("tick", help="re-run every ladder for time passing: once a day, whichever process or cron gets there first")
    tick.add_argument("--force", action="store_true", help="run again even if today's tick has already run")
    importing = commands.add_parser("import", help="import a CSV or XLSX file for one organisation: all rows or none")
    importing.add_argument("file", metavar="FILE")
    importing.add_argument("--org", required=True, help="organisation code")
    importing.add_argument("--format", help="template, nhse-ae, nhse-rtt, nhse-cancer or nhse-dm01 (detected when left out)")
    importing.add_argument("--dry-run", action="store_true", help="report what would change, store nothing")
    args = parser.parse_args(argv)

    from server.observability.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_format)
    overrides = {key: value for key, value in (("host", getattr(args, "host", None)), ("port", getattr(args, "port", None))) if value}
    if overrides:
        settings = settings.model_copy(update=overrides)
    try:
        if args.command == "migrate":
            asyncio.run(_migrate(settings))
        elif args.command == "load-tenants":
            asyncio.run(_load_tenants(settings))
        elif args.command == "demo-data":
            asyncio.run(_demo_data(settings, args.months))
        elif args.command == "issue-token":
            return asyncio.run(_issue_token(settings, args))
        elif args.command in ("grant-role", "revoke-role"):
            return asyncio.run(_change_scope_role(settings, args, grant=args.command == "grant-role"))
        elif args.command in ("create-admin", "create-user"):
            return asyncio.run(_create_account(settings, args, admin=args.command == "create-admin"))
        elif args.command == "revoke-token":
            return asyncio.run(_revoke_token(settings, args.token_id))
        elif args.command == "tick":
            return asyncio.run(_tick(settings, force=args.force))
        elif args.command == "import":
            return asyncio.run(_import_file(settings, args))
        elif args.command == "export-schema":
            from schema.app import schema
            from server.settings import PROJECT_ROOT

            (PROJECT_ROOT / "schema" / "schema.graphql").write_text(schema.as_str() + "\n", encoding="utf-8")
        elif args.command == "fetch-assets":
            from server.assets import fetch_assets

            fetch_assets(settings.static_dir)
        elif args.command == "serve":
            _serve(settings)
        elif args.command == "demo":
            asyncio.run(_demo_data(settings, args.months))
            _print_demo_logins(settings)
            _serve(settings)
    except Exception as error:  # noqa: BLE001 (a command-line boundary: say what went wrong, plainly)
        from server.tenants.parse import TenantFileError

        if isinstance(error, TenantFileError):
            print("Tenant files are not valid; nothing was loaded:", file=sys.stderr)
            for problem in error.problems:
                print(f"  {problem}", file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
