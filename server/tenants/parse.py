"""Read and validate tenant files; errors name the file, the path inside it and what is wrong."""
from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from server.tenants.spec import TenantFile


@dataclass(frozen=True)
class TenantFileProblem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(top level)'}: {self.message}"


class TenantFileError(Exception):
    def __init__(self, problems: list[TenantFileProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _format_location(location: tuple[object, ...]) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif str(part) in ("Compare", "AllOf", "AnyOf", "Not") or "[" in str(part):
            continue  # pydantic's union-branch labels say nothing to a tenant author
        else:
            text += f".{part}" if text else str(part)
    return text


# libyaml's loader where PyYAML was built with it: the pure-Python one took a third of a second
# for a file of 250 indicators, most of the time of a national load.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_tenant_text(text: str, *, file: str) -> TenantFile:
    return _validate(_read_yaml(text, file=file), file=file)


def _read_yaml(text: str, *, file: str) -> dict:
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise TenantFileError([TenantFileProblem(file, where, f"not valid YAML: {getattr(error, 'problem', error)}")]) from None
    if not isinstance(data, dict):
        raise TenantFileError([TenantFileProblem(file, "", "expected a mapping at the top level")])
    return data


def _validate(data: dict, *, file: str) -> TenantFile:
    try:
        return TenantFile.model_validate(data)
    except ValidationError as error:
        problems: list[TenantFileProblem] = []
        seen: set[tuple[str, str]] = set()
        for item in error.errors():
            path = _format_location(item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            # Cross-reference errors carry their own paths, separated by "; ".
            for part in message.split("; "):
                sub_path, _, sub_message = part.partition(": ")
                if sub_message and not path and ("." in sub_path or "[" in sub_path or sub_path.isidentifier()):
                    key = (sub_path, sub_message)
                    if key not in seen:
                        seen.add(key)
                        problems.append(TenantFileProblem(file, sub_path, sub_message))
                else:
                    key = (path, part)
                    if key not in seen:
                        seen.add(key)
                        problems.append(TenantFileProblem(file, path, part))
        raise TenantFileError(problems) from None


def parse_tenant_file(path: Path) -> TenantFile:
    return parse_tenant_text(path.read_text(encoding="utf-8"), file=path.name)


def parse_tenant_directory(directory: Path) -> dict[str, TenantFile]:
    """Parse every ``*.yaml`` in the directory; all problems of all files are reported together."""
    return {code: tenant for code, (_, tenant) in parse_tenant_directory_with_files(directory).items()}


def parse_tenant_directory_with_files(directory: Path) -> dict[str, tuple[str, TenantFile]]:
    """Like parse_tenant_directory, keeping each tenant's file name for error messages."""
    with collector_paused():
        return _parse_files(sorted(directory.glob("*.yaml")))


def _parse_files(paths: list[Path]) -> dict[str, tuple[str, TenantFile]]:
    tenants: dict[str, tuple[str, TenantFile]] = {}
    problems: list[TenantFileProblem] = []
    for path, (data, yaml_problems) in zip(paths, _read_yaml_files(paths)):
        problems.extend(yaml_problems)
        if data is None:
            continue
        try:
            tenant = _validate(data, file=path.name)
        except TenantFileError as error:
            problems.extend(error.problems)
            continue
        code = tenant.organisation.code
        if code in tenants:
            problems.append(TenantFileProblem(path.name, "organisation.code", f"'{code}' is already declared by another file"))
        tenants[code] = (path.name, tenant)
    if problems:
        raise TenantFileError(problems)
    return tenants


# Building Python objects from YAML is pure Python even with libyaml (about 20-50 ms for a file of
# 250 indicators), so a large directory is read by worker processes. A handful of files is read
# here: starting workers would cost more than it saves, and the test suite never starts any.
PARALLEL_FROM_FILES = 32


def _read_yaml_files(paths: list[Path]) -> list[tuple[dict | None, list[TenantFileProblem]]]:
    workers = min(os.cpu_count() or 1, 8)
    if len(paths) < PARALLEL_FROM_FILES or workers < 2:
        return [_read_yaml_file(path) for path in paths]
    # fork: the workers need nothing but this module, and a forked child never re-runs the caller's
    # __main__ (as spawn and forkserver do); each exits without running the parent's exit handlers.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_read_yaml_file, paths, chunksize=max(1, len(paths) // (workers * 4))))


def _read_yaml_file(path: Path) -> tuple[dict | None, list[TenantFileProblem]]:
    with collector_paused():  # a worker process's own collector, as the caller's
        try:
            return _read_yaml(path.read_text(encoding="utf-8"), file=path.name), []
        except TenantFileError as error:
            return None, error.problems


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a directory of files becomes mappings and models.

    Building a file's ~60,000 small containers sets the collector off again and again, and each
    older-generation pass walks every object alive (in a forked worker, the parent's inherited heap
    too): half the CPU of reading 210 national files (6.5 -> 3.2 s serially). What is built here
    holds no reference cycles, so reference counting frees it as before; the collector runs again
    as usual afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
