"""Benchmark of the assessment engine (run as a script, not collected by pytest):

    .venv/bin/python tests/benchmarks/bench_assessment.py [--organisations 200] [--series-per-organisation 250]

Builds ~50,000 monthly series of 60 points (200 organisations x 250 series) with noise, shifts,
drifts and gaps, then reports:

* full recompute: SPC for every series, plus RAG, consecutive periods under target and the
  forecast, all vectorised;
* incremental recompute: one organisation's series after one new month arrives;
* per-series throughput of the vectorised engine against the plain-Python reference loop
  (server/assessment/reference.py) on a sample, measured in the same run, and their ratio.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from server.assessment import (
    compute_spc,
    consecutive_periods_under_target,
    forecast_failure,
    rate_against_target,
)
from server.assessment.reference import spc_series


def build_series(n_series: int, n_periods: int, seed: int = 2026) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    level = rng.uniform(50, 100, size=(n_series, 1))
    noise = rng.normal(0, 1, size=(n_series, n_periods)) * rng.uniform(1, 5, size=(n_series, 1))
    drift = rng.normal(0, 0.05, size=(n_series, 1)) * np.arange(n_periods)
    shift_at = rng.integers(0, n_periods, size=(n_series, 1))
    shift = (np.arange(n_periods) >= shift_at) * rng.normal(0, 4, size=(n_series, 1)) * (rng.random((n_series, 1)) < 0.3)
    values = np.round(level + noise + drift + shift, 1)
    values[rng.random(values.shape) < 0.01] = np.nan  # late or missing submissions
    polarity = rng.choice(np.array([1, -1, 0], dtype=np.int8), size=n_series, p=[0.6, 0.3, 0.1])
    target = np.where(rng.random(n_series) < 0.8, level[:, 0] + rng.normal(0, 3, n_series), np.nan)
    rebase = np.zeros(values.shape, dtype=bool)
    rebase[rng.random(n_series) < 0.05, n_periods // 2] = True  # a few declared baseline changes
    return values, polarity, target, rebase


def assess(values: np.ndarray, polarity: np.ndarray, target: np.ndarray, rebase: np.ndarray) -> None:
    """Everything the nightly job stores per series for the latest period."""
    spc = compute_spc(values, polarity, target, rebase=rebase)
    rate_against_target(values[:, -1], target, polarity)
    consecutive_periods_under_target(values, target, polarity)
    forecast_failure(values, target, polarity, process_mean=spc.limits.mean[:, -1])


def best_of(repeats: int, action: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--series-per-organisation", type=int, default=250)
    parser.add_argument("--periods", type=int, default=60)
    parser.add_argument("--reference-sample", type=int, default=2000)
    arguments = parser.parse_args()

    n_series = arguments.organisations * arguments.series_per_organisation
    values, polarity, target, rebase = build_series(n_series, arguments.periods + 1)
    history, new_month = values[:, :-1], values
    history_rebase = rebase[:, :-1]

    spc_only = best_of(3, lambda: compute_spc(history, polarity, target, rebase=history_rebase))
    full = best_of(3, lambda: assess(history, polarity, target, history_rebase))

    one_organisation = slice(0, arguments.series_per_organisation)
    incremental = best_of(
        5, lambda: assess(new_month[one_organisation], polarity[one_organisation], target[one_organisation], rebase[one_organisation])
    )

    sample = min(arguments.reference_sample, n_series)
    vectorised_sample = best_of(3, lambda: compute_spc(history[:sample], polarity[:sample], target[:sample], rebase=history_rebase[:sample]))

    def reference_loop() -> None:
        for s in range(sample):
            spc_series(history[s].tolist(), int(polarity[s]), float(target[s]), tuple(np.flatnonzero(history_rebase[s]).tolist()))

    reference = best_of(1, reference_loop)

    print(f"series: {n_series:,} x {arguments.periods} periods ({arguments.organisations} organisations)")
    print(f"full recompute, SPC only:               {spc_only:8.3f} s  ({n_series / spc_only:12,.0f} series/s)")
    print(f"full recompute, SPC+RAG+runs+forecast:  {full:8.3f} s  ({n_series / full:12,.0f} series/s)")
    print(f"incremental, one organisation ({arguments.series_per_organisation} series, +1 month): {incremental * 1000:8.2f} ms")
    print(f"SPC on a sample of {sample:,} series:")
    print(f"  vectorised:            {vectorised_sample:8.3f} s  ({sample / vectorised_sample:12,.0f} series/s)")
    print(f"  plain-Python reference:{reference:8.3f} s  ({sample / reference:12,.0f} series/s)")
    print(f"  speed-up on the sample: {reference / vectorised_sample:,.0f}x;"
          f" full-batch vectorised vs reference per series: {(n_series / spc_only) / (sample / reference):,.0f}x")


if __name__ == "__main__":
    main()
