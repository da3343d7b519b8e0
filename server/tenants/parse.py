"""Read and validate tenant files; errors name the file, the path inside it and what is wrong."""
from __future__ import annotations

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
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise TenantFileError([TenantFileProblem(file, where, f"not valid YAML: {getattr(error, 'problem', error)}")]) from None
    if not isinstance(data, dict):
        raise TenantFileError([TenantFileProblem(file, "", "expected a mapping at the top level")])
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
    tenants: dict[str, tuple[str, TenantFile]] = {}
    problems: list[TenantFileProblem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            tenant = parse_tenant_file(path)
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
