"""The seeds a verdict is taken over (``--seeds SPEC``).

SPEC is ``N`` (seeds 0..N−1), ``a:b`` (seeds a..b−1) or a comma list whose items are seeds or
``a:b`` ranges (``3,7,11``, ``0:3,100:103``). A seed draws everything random afresh: data,
instances, initialization, label noise, sampling.
"""
from __future__ import annotations

import re
from collections import Counter

from theory.errors import UserInputError

DEFAULT_COUNT = {"quick": 3, "full": 10}
MAX_SEEDS = 1000
MAX_SEED = 10**9            # seeds are offset inside claims (seed + k); stay far from 2**32


def default_seeds(profile: str) -> list[int]:
    return list(range(DEFAULT_COUNT[profile]))


def _int(text: str, spec: str) -> int:
    text = text.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise UserInputError(f"--seeds {spec!r}: {text!r} is not a non-negative integer")
    value = int(text)
    if value < 0:
        raise UserInputError(f"--seeds {spec!r}: seeds are non-negative, got {value}")
    if value > MAX_SEED:
        raise UserInputError(f"--seeds {spec!r}: a seed must be at most {MAX_SEED}, got {value}")
    return value


def _range(item: str, spec: str) -> range:
    lo, hi = item.split(":", 1)
    a, b = _int(lo, spec), _int(hi, spec)
    if b <= a:
        raise UserInputError(f"--seeds {spec!r}: range {item.strip()!r} is empty or reversed (a:b means a..b-1)")
    return range(a, b)


def parse_seeds(spec: str) -> list[int]:
    """The seeds SPEC names, in the order given; one-line :class:`UserInputError` otherwise."""
    if spec is None or not str(spec).strip():
        raise UserInputError("--seeds is empty: give N (seeds 0..N-1), a:b (a..b-1) or a comma list")
    spec = str(spec)
    items = spec.split(",")
    if len(items) == 1 and ":" not in spec:
        count = _int(spec, spec)
        if count == 0:
            raise UserInputError("--seeds 0 names no seed: N means seeds 0..N-1")
        if count > MAX_SEEDS:
            raise UserInputError(f"--seeds {spec!r}: at most {MAX_SEEDS} seeds")
        return list(range(count))
    seeds: list[int] = []
    for item in items:
        if not item.strip():
            raise UserInputError(f"--seeds {spec!r}: an item of the comma list is empty")
        if ":" in item:
            span = _range(item, spec)
            if len(seeds) + len(span) > MAX_SEEDS:
                raise UserInputError(f"--seeds {spec!r}: at most {MAX_SEEDS} seeds")
            seeds.extend(span)
        else:
            seeds.append(_int(item, spec))
    if len(seeds) > MAX_SEEDS:
        raise UserInputError(f"--seeds {spec!r}: at most {MAX_SEEDS} seeds")
    repeated = sorted(s for s, n in Counter(seeds).items() if n > 1)
    if repeated:
        raise UserInputError(f"--seeds {spec!r}: seed {repeated[0]} is named twice")
    return seeds


def resolve_seeds(spec: str | None, seed: int | None, profile: str) -> list[int]:
    """``--seeds SPEC``, else the hidden single-seed alias ``--seed N``, else the profile default."""
    if spec is not None and seed is not None:
        raise UserInputError("give --seeds or --seed, not both")
    if spec is not None:
        return parse_seeds(spec)
    if seed is not None:
        return [_int(str(seed), str(seed))]
    return default_seeds(profile)


def describe(seeds: list[int]) -> str:
    """Compact text: ``0-2``, ``100-102, 7``."""
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(str(seeds[i]) if i == j else f"{seeds[i]}-{seeds[j]}")
        i = j + 1
    return ", ".join(parts)
