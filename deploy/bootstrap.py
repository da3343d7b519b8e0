#!/usr/bin/env python3
"""One command each for the demo and the tests, on a machine with only Python 3.11+ and pip.

    python3 deploy/bootstrap.py demo      # seeded demo at http://127.0.0.1:8000
    python3 deploy/bootstrap.py test      # the whole test suite

Creates ``.venv`` beside the project (once), installs the project and its test extras into it
whenever pyproject.toml changes, fetches the front-end files (hash-checked), then runs the command.
Extra arguments are passed on (to ``accord demo`` or to pytest).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit("Accord needs Python 3.11 or newer")
    if not (BIN / "python").exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".accord-installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        print("Installing Accord and its dependencies into .venv …", flush=True)
        pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
        stamp.write_text(wanted)
    subprocess.run([str(BIN / "accord"), "fetch-assets"], check=True, cwd=ROOT)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("demo", "test"):
        print(__doc__)
        return 2
    command, extra = sys.argv[1], sys.argv[2:]
    ensure_environment()
    if command == "demo":
        return subprocess.call([str(BIN / "accord"), "demo", *extra], cwd=ROOT)
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *extra], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
