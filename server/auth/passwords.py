"""Argon2id password hashing (argon2-cffi, the OWASP-recommended algorithm and a well-kept library)."""
from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet's first Argon2id configuration (19 MiB, 2 iterations, 1 lane)
# rather than argon2-cffi's default RFC 9106 low-memory profile (64 MiB, 3, 4): every login and
# every concurrent one holds that memory, and 64 MiB per login set the server's peak RSS. Hashes
# made with other parameters still verify (the parameters are in the hash).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when an account does not exist, so timing is the same either way (made on first use)."""
    return _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
