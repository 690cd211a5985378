"""Response-time percentiles: exact for one day, estimated from a fixed histogram for a period.

A percentile is the nearest rank: of n values sorted, the ceil(p * n)-th. A day's rows keep
their exact p50/p95/p99, but a percentile of several days is not any mix of theirs, so each row
also keeps how many replies fell in each bucket of `EDGES_MS` (bucket i holds
EDGES_MS[i] <= ms < EDGES_MS[i + 1], the last one everything from 60 s up). Summed over a
period's rows, the counts give the period's rank bucket, and within it the value is placed as if
the bucket's replies were spread evenly: the k-th of its c replies sits at
low + (high - low) * (k - 0.5) / c. The estimate is off by less than the bucket's width (at most
a quarter of the value from 1 s up); the open last bucket ends at the period's slowest reply.
The edges are part of the stored rows: change them only with a migration of the histograms.
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Iterable, Sequence

EDGES_MS: tuple[int, ...] = (
    0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1250, 1500, 1750, 2000, 2500,
    3000, 3500, 4000, 5000, 6000, 7000, 8000, 10000, 12500, 15000, 20000, 30000, 45000, 60000,
)  # fmt: skip
PERCENTILES = (50, 95, 99)


def histogram_of(values: Iterable[int]) -> list[int]:
    counts = [0] * len(EDGES_MS)
    for value in values:
        counts[bisect.bisect_right(EDGES_MS, value) - 1] += 1
    return counts


def histogram_add(total: list[int], counts: Sequence[int]) -> list[int]:
    if not total:
        return list(counts)
    return list(map(operator.add, total, counts)) if counts else total


def rank(percentile: int, count: int) -> int:
    return max(1, math.ceil(percentile * count / 100))


def percentiles_exact(values: Sequence[int]) -> dict[int, int | None]:
    ordered = sorted(values)
    return {p: (ordered[rank(p, len(ordered)) - 1] if ordered else None) for p in PERCENTILES}


def percentiles_estimated(counts: Sequence[int], *, max_ms: int) -> dict[int, int | None]:
    total = sum(counts)
    estimates: dict[int, int | None] = {}
    for p in PERCENTILES:
        if not total:
            estimates[p] = None
            continue
        wanted, before = rank(p, total), 0
        for index, count in enumerate(counts):
            if before + count >= wanted:
                low = EDGES_MS[index]
                high = EDGES_MS[index + 1] if index + 1 < len(EDGES_MS) else max(max_ms, low)
                high = min(high, max(max_ms, low))
                estimates[p] = round(low + (high - low) * (wanted - before - 0.5) / count)
                break
            before += count
    return estimates
