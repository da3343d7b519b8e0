"""Accord's GraphQL and pages against a raw asyncpg + orjson endpoint, at national scale, in one run.

    .venv/bin/python tests/benchmarks/bench_graphql.py [--orgs 210 --indicators 250 --months 60]
        [--duration 10] [--connections 10]

Builds (or reuses) the national data set (national.py), starts Accord (``accord serve``: uvloop and
httptools, one process) and the raw endpoint (raw_endpoint.py, same database, same access
setting, one statement per read) as separate uvicorn processes on 127.0.0.1, and loads each read
with wrk (Debian's ``wrk``; bounded duration and connections). Prints requests/s, p50 latency and
the ratio to the raw endpoint, and the Accord server's peak RSS (statement counts per request are
asserted in tests/graphql/test_tool_questions.py). Goal: ratio >= 0.5 on each read, verdicts (RAG, variation, assurance) in Accord's answer,
peak RSS <= 150 MiB. Not a test: run by hand.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.national import add_scale_arguments, open_national, stop_national, system_code, trust_code  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Read:
    name: str
    accord: tuple[str, str, dict[str, str], str | None]  # method, path, headers, body
    raw: str  # path on the raw endpoint


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    # The server's log goes to a file: a pipe nobody reads fills after ~1,000 request lines, and the
    # server then blocks on its next log line (earlier runs stalled so after a few thousand requests).
    log = Path(tempfile.mkstemp(prefix=f"accord-bench-{port}-", suffix=".log")[1])
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("wb"), start_new_session=True)
    process.log = log  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    raise RuntimeError(f"{command} did not listen on {port}")


def cpu_ms(pids: list[int]) -> float:
    """CPU time used so far by these processes and their children (user + system, milliseconds)."""
    total = 0
    for pid in pids:
        children = Path(f"/proc/{pid}/task/{pid}/children")
        family = [pid] + ([int(c) for c in children.read_text().split()] if children.exists() else [])
        for member in family:
            try:
                fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:  # a backend that ended between the two reads
                continue
            total += sum(int(value) for value in fields[11:15])
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])


def wrk(url: str, method: str, headers: dict[str, str], body: str | None, duration: int, connections: int) -> tuple[float, float, int]:
    """(requests/s, p50 ms, requests answered) measured by wrk, non-2xx answers counted as failures."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    lines = [f'wrk.method = "{method}"']
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    script.write_text("\n".join(lines) + "\n")
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, timeout=duration + 60,
    ).stdout
    script.unlink()
    if "Non-2xx" in output:
        raise RuntimeError(f"errors under load at {url}:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]  # type: ignore[union-attr]
    return rate, float(p50.group(1)) * scale, requests  # type: ignore[union-attr]


def peak_rss_mib(pid: int) -> float:
    """Peak resident set of a process and its children (uvicorn runs the app in the main process)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def reads(credentials: dict[str, str], scale_codes: dict[str, str], indicator_codes: list[str]) -> list[Read]:
    token = {"Authorization": f"Bearer {credentials['system']}", "Content-Type": "application/json"}
    national = {"Cookie": f"accord_session={credentials['national_session']}", "Content-Type": "application/json",
                "X-CSRF-Token": credentials["national_csrf"]}
    page = {"Cookie": f"accord_session={credentials['national_session']}"}
    system, trust = scale_codes["system"], scale_codes["trust"]
    position = ('query($s: String!) { system(code: $s) { organisations { code indicators(first: 250) { nodes { code name unit '
                'latest { period value target rag variation assurance periodsUnderTarget } } } } } }')
    matrix = ('query($s: String!) { system(code: $s) { members { code spectrum { level } } position { memberCodes rows { code name unit '
              'cells { organisationCode period value target rag variation assurance periodsUnderTarget } } } } }')
    series = ('query($o: String!) { organisation(code: $o) { indicators(first: 20) { nodes { code series { period value numerator '
              'denominator target rag mean lowerLimit upperLimit pointType } } } } }')
    comparison = ('query($c: [String!]!) { indicatorComparisons(codes: $c) { code entries { organisationCode period value target rag '
                  'variation assurance } } }')
    return [
        Read("system position (5 orgs x 250 indicators, latest)",
             ("POST", "/graphql", token, json.dumps({"query": position, "variables": {"s": system}})), f"/system-position?code={system}"),
        Read("one organisation, 20 indicators x all months",
             ("POST", "/graphql", token, json.dumps({"query": series, "variables": {"o": trust}})),
             f"/organisation-series?code={trust}&indicators=20"),
        Read("10 indicators' latest for every organisation",
             ("POST", "/graphql", national, json.dumps({"query": comparison, "variables": {"c": indicator_codes}})),
             f"/comparison?codes={','.join(indicator_codes)}"),
        Read("system position matrix with spectrum (GraphQL)",
             ("POST", "/graphql", token, json.dumps({"query": matrix, "variables": {"s": system}})), f"/system-position?code={system}"),
        Read("system position page (HTML)", ("GET", f"/systems/{system}", page, None), f"/system-position?code={system}"),
        Read("IPR page (HTML)", ("GET", f"/organisations/{trust}", page, None), f"/organisation-series?code={trust}&indicators=20"),
    ]


async def check_answer(base: str, read: Read) -> None:
    method, path, headers, body = read.accord
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        response = await client.request(method, path, headers=headers, content=body)
    if response.status_code != 200:
        raise RuntimeError(f"{read.name}: HTTP {response.status_code} {response.text[:500]}")
    if method == "POST":
        answer = response.json()
        if answer.get("errors"):
            raise RuntimeError(f"{read.name}: {answer['errors']}")
        text = response.text
        if '"rag"' not in text or ('"variation"' not in text and "series" not in read.accord[3]):  # type: ignore[operator]
            raise RuntimeError(f"{read.name}: the answer carries no verdicts")


async def main(arguments: argparse.Namespace) -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    database, credentials, settings = await open_national(
        orgs=arguments.orgs, indicators=arguments.indicators, months=arguments.months, data_dir=arguments.data_dir,
    )
    owner_url = settings.database_url.get_secret_value()  # type: ignore[union-attr]
    app_url = settings.app_database_url.get_secret_value()  # type: ignore[union-attr]
    # Today's ladder tick, before the server starts: a server finds it done, as on any day after its
    # first minutes. Otherwise the server's start-up catch-up (210 organisations' ladders, in the same
    # process) runs during the measurement and takes CPU and memory from the reads.
    from server.escalation_store.tick import daily_tick

    started = time.monotonic()
    tick = await daily_tick(database)
    print(f"ladder tick before serving: {tick.status} ({time.monotonic() - started:.0f} s)", flush=True)
    await database.dispose()
    from tests.benchmarks.national import Scale, national_indicators

    scale = Scale(arguments.orgs, arguments.indicators, arguments.months)
    codes = {"system": system_code(1), "trust": trust_code(1, 1)}
    indicator_codes = [i.code for i in national_indicators(arguments.indicators)[:10]]
    from sqlalchemy.engine import make_url

    from server.db.server import to_async_url

    plain_dsn = make_url(to_async_url(app_url)).set(drivername="postgresql").render_as_string(hide_password=False)
    import asyncpg

    owner_dsn = make_url(to_async_url(owner_url)).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(owner_dsn)
    org_ids = ",".join(str(r[0]) for r in await connection.fetch("select id from organisation order by id"))
    await connection.close()

    accord_port, raw_port = free_port(), free_port()
    env = {**os.environ, "ACCORD_DATABASE_URL": owner_url, "ACCORD_APP_DATABASE_URL": app_url, "ACCORD_DATA_DIR": str(arguments.data_dir),
           "ACCORD_TENANTS_DIR": str(arguments.data_dir / "tenants"), "ACCORD_PORT": str(accord_port),
           "ACCORD_GRAPHQL_RATE_BURST": "1000000", "ACCORD_GRAPHQL_RATE_PER_SECOND": "1000000",
           "ACCORD_RAW_DSN": plain_dsn, "ACCORD_RAW_ORG_IDS": org_ids}
    accord = start([str(BIN / "accord"), "serve"], env, accord_port)
    raw = start([str(BIN / "python"), "-m", "uvicorn", "tests.benchmarks.raw_endpoint:app", "--port", str(raw_port),
                 "--loop", "uvloop", "--http", "httptools", "--log-level", "warning"], env, raw_port)
    print(f"national data: {scale.organisations} organisations x {scale.indicators} indicators x {scale.months} months "
          f"({scale.measurements:,} measurements); wrk {arguments.connections} connections, {arguments.duration} s per read")
    # CPU per request (server process + PostgreSQL) as well as requests/s: on a shared machine the
    # rates move with other load, the CPU each answer costs much less.
    postgres = postmaster_pid(arguments.data_dir)
    print(f"{'read':<50} {'raw req/s':>10} {'Accord req/s':>13} {'ratio':>7} {'raw p50':>9} {'Accord p50':>11}"
          f" {'raw CPU ms/req (app+pg)':>24} {'Accord CPU ms/req (app+pg)':>27} {'CPU ratio':>9}")
    try:
        chosen = reads(credentials, codes, indicator_codes)
        if arguments.only:
            chosen = [chosen[int(index)] for index in arguments.only.split(",")]
        for read in chosen:
            await check_answer(f"http://127.0.0.1:{accord_port}", read)
            before = cpu_ms([raw.pid]), cpu_ms([postgres])
            raw_rate, raw_p50, answered = wrk(f"http://127.0.0.1:{raw_port}{read.raw}", "GET", {}, None, arguments.duration, arguments.connections)
            raw_app, raw_pg = (cpu_ms([raw.pid]) - before[0]) / answered, (cpu_ms([postgres]) - before[1]) / answered
            method, path, headers, body = read.accord
            before = cpu_ms([accord.pid]), cpu_ms([postgres])
            rate, p50, answered = wrk(f"http://127.0.0.1:{accord_port}{path}", method, headers, body, arguments.duration, arguments.connections)
            app, pg = (cpu_ms([accord.pid]) - before[0]) / answered, (cpu_ms([postgres]) - before[1]) / answered
            print(f"{read.name:<50} {raw_rate:>10.1f} {rate:>13.1f} {rate / raw_rate:>6.2f}x {raw_p50:>7.1f}ms {p50:>9.1f}ms"
                  f" {raw_app + raw_pg:>9.1f} ({raw_app:.1f}+{raw_pg:.1f}) {app + pg:>13.1f} ({app:.1f}+{pg:.1f})"
                  f" {(raw_app + raw_pg) / (app + pg):>8.2f}x", flush=True)
        print(f"Accord server peak RSS: {peak_rss_mib(accord.pid):.0f} MiB (goal <= 150 MiB); server logs: {accord.log}, {raw.log}")
    finally:
        for process in (accord, raw):
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a request still running (a page under load): do not leave it behind
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        stop_national(arguments.data_dir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_scale_arguments(parser)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--only", help="comma-separated indexes of the reads to run (0-5, in the order printed), e.g. 0,2,3")
    asyncio.run(main(parser.parse_args()))
