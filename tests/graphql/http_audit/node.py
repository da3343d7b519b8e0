"""Running the node tools in this directory (graphql-http's audit, Apollo composition) from tests.

Node and npm are required, not optional: a machine without them fails these tests with a message
saying so, rather than skipping the conformance checks silently.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed: the GraphQL conformance and federation tests need node 20+ and npm", pytrace=False)
    return path


def ensure_installed() -> str:
    """The node executable, after ``npm ci`` if node_modules is missing (package-lock.json pins it)."""
    node = _require("node")
    if not (HERE / "node_modules").is_dir():
        completed = subprocess.run([_require("npm"), "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True, timeout=600)
        if completed.returncode != 0:
            pytest.fail(f"npm ci failed in {HERE}:\n{completed.stderr[-4000:]}", pytrace=False)
    return node


async def run_script(script: str, *, stdin: str = "", env: dict[str, str] | None = None, timeout: float = 300) -> Any:
    """Run ``script`` from this directory without blocking the event loop; its stdout is JSON."""
    node = ensure_installed()
    process = await asyncio.create_subprocess_exec(
        node, str(HERE / script), cwd=HERE, env={**os.environ, **(env or {})},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, f"node {script} failed ({process.returncode}):\n{err.decode()[-4000:]}"
    return json.loads(out)
