"""Benchmark of Casbin enforcement (run as a script, not collected by pytest):

    .venv/bin/python tests/benchmarks/bench_enforce.py [--assignments 20000] [--calls 20000]

Loads the real model and base policy (policies/), adds ~20,000 role assignments (grouping rules:
people x roles x organisations and systems, as ``Authorizer.sync_subject`` would hold them after
many requests), then times ``enforce`` for three kinds of question a request asks:

* allowed: the subject holds a role granting it in that domain;
* denied here: the subject has roles in that domain, none granting it (what ``resolve_access``
  asks most: the write permissions a reader does not have);
* denied elsewhere: a domain where the subject holds nothing (a cross-tenant probe);

and, measured in the same run, the same answers from plain Python dictionaries: a flat
``(subject, domain, object, action) -> bool`` lookup, and the equivalent two-level resolution
(assignments by subject and domain, permissions by role). Ratios are printed against both.
"""
from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import casbin

from server.auth.authz import Assignment, Authorizer, Principal

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def load_policy_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in (POLICIES / "policy.csv").read_text().splitlines():
        cells = [cell.strip() for cell in line.split(",")]
        if cells[0] == "p":
            rows.append((cells[1], cells[3], cells[4]))
    return rows


def build(assignments: int, seed: int = 2026):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    rows = load_policy_rows()
    system_roles = sorted({role for role, obj, act in rows if (obj, act) == ("system", "read")})
    org_roles = sorted({role for role, _, _ in rows} - set(system_roles))
    organisations = [f"org:O{n:03d}" for n in range(400)]
    systems = [f"system:S{n:02d}" for n in range(42)]  # England has 42 integrated care systems
    enforcer = casbin.Enforcer(str(POLICIES / "model.conf"), str(POLICIES / "policy.csv"))
    logging.getLogger("casbin.enforcer").setLevel(logging.ERROR)
    held: dict[tuple[str, str], set[str]] = {}
    grouping = set()
    while len(grouping) < assignments:
        subject = f"user:{rng.randrange(assignments // 3)}"
        if rng.random() < 0.15:
            rule = (subject, rng.choice(system_roles), rng.choice(systems))
        else:
            rule = (subject, rng.choice(org_roles), rng.choice(organisations))
        grouping.add(rule)
    enforcer.add_grouping_policies([list(rule) for rule in sorted(grouping)])
    for subject, role, domain in grouping:
        held.setdefault((subject, domain), set()).add(role)
    permissions: dict[str, set[tuple[str, str]]] = {}
    for role, obj, act in rows:
        permissions.setdefault(role, set()).add((obj, act))
    return enforcer, held, permissions, rows, organisations


def questions(held, permissions, rows, organisations, calls: int, seed: int = 7):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    pairs = sorted(held)
    objects_actions = sorted({(obj, act) for _, obj, act in rows})
    allowed, denied_here, denied_elsewhere = [], [], []
    while min(len(allowed), len(denied_here), len(denied_elsewhere)) < calls:
        subject, domain = rng.choice(pairs)
        granted = set().union(*(permissions[role] for role in held[(subject, domain)]))
        obj, act = rng.choice(objects_actions)
        (allowed if (obj, act) in granted else denied_here).append((subject, domain, obj, act))
        elsewhere = rng.choice(organisations)
        if (subject, elsewhere) not in held:
            denied_elsewhere.append((subject, elsewhere, obj, act))
    return {"allowed": allowed[:calls], "denied here": denied_here[:calls], "denied elsewhere": denied_elsewhere[:calls]}


def per_call_us(check: Callable[[tuple[str, str, str, str]], bool], batch: list[tuple[str, str, str, str]], repeats: int = 5) -> float:
    """Best of ``repeats`` runs over the batch, in microseconds per call."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for question in batch:
            check(question)
        runs.append((time.perf_counter_ns() - start) / len(batch) / 1000)
    return min(runs)


def sync_costs(enforcer, held) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """What ``Authorizer.sync_subject`` costs on each request, with this many assignments loaded."""
    authorizer = Authorizer.__new__(Authorizer)
    authorizer.enforcer = enforcer
    authorizer._synced = {}
    subjects = sorted({subject for subject, _ in held})[:50]
    principals = [
        Principal(subject=s, user_id=0, name="", email="", assignments=tuple(
            Assignment(role, domain) for (subject, domain), roles in held.items() if subject == s for role in roles))
        for s in subjects
    ]
    costs = {}
    for principal in principals:  # a running server has synced each subject before
        authorizer.sync_subject(principal)
    start = time.perf_counter()
    for principal in principals:
        authorizer.sync_subject(principal)
    costs["sync, roles unchanged (every request)"] = (time.perf_counter() - start) / len(principals)
    start = time.perf_counter()
    for principal in principals:
        changed = Principal(subject=principal.subject, user_id=0, name="", email="", assignments=(*principal.assignments, Assignment("viewer", "org:NEW")))
        authorizer.sync_subject(changed)
        authorizer.sync_subject(principal)
    costs["sync after a grant, then after its revocation (per change)"] = (time.perf_counter() - start) / len(principals) / 2
    start = time.perf_counter()
    for n, principal in enumerate(principals):
        authorizer.sync_subject(Principal(subject=f"user:newcomer{n}", user_id=0, name="", email="", assignments=principal.assignments))
    costs["sync of a subject seen for the first time"] = (time.perf_counter() - start) / len(principals)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignments", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=5_000)
    args = parser.parse_args()

    start = time.perf_counter()
    enforcer, held, permissions, rows, organisations = build(args.assignments)
    built = time.perf_counter() - start
    batches = questions(held, permissions, rows, organisations, args.calls)
    flat = {q: enforcer.enforce(*q) for batch in batches.values() for q in batch}  # also checks Casbin agrees below
    for name, batch in batches.items():
        expected = name == "allowed"
        assert all(flat[q] is expected for q in batch), f"Casbin disagrees with the model for '{name}'"

    def two_level(q: tuple[str, str, str, str]) -> bool:
        return any((q[2], q[3]) in permissions[role] for role in held.get((q[0], q[1]), ()))

    print(f"policy: {len(rows)} permission rows; {args.assignments:,} role assignments over "
          f"{len({s for s, _ in held}):,} people (built in {built:.1f} s); {args.calls:,} questions of each kind\n")
    print(f"{'question':<18}{'casbin µs':>11}{'dict µs':>10}{'2-level µs':>12}{'x dict':>9}{'x 2-level':>11}")
    medians = []
    for name, batch in batches.items():
        casbin_us = per_call_us(lambda q: enforcer.enforce(*q), batch, repeats=3)
        dict_us = per_call_us(flat.__getitem__, batch)
        two_level_us = per_call_us(two_level, batch)
        medians.append(casbin_us)
        print(f"{name:<18}{casbin_us:>11.1f}{dict_us:>10.3f}{two_level_us:>12.3f}{casbin_us / dict_us:>9.0f}{casbin_us / two_level_us:>11.0f}")
    print()
    for label, seconds in sync_costs(enforcer, held).items():
        print(f"{label:<58}{seconds * 1e6:>9.0f} µs")
    print(f"median enforce across kinds: {statistics.median(medians):.1f} µs")


if __name__ == "__main__":
    main()
