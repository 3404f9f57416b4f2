"""Diff two JSON reports of ``python -m verify all|run ... --json``: every number (check values,
metrics, tolerances, details) and every string (notes, which carry step counts) of every claim.

    python bench/diff_check_values.py BEFORE.json AFTER.json [--show 20]

Prints the number of values compared, the largest relative difference |a − b| / max(|a|, |b|) and
where it is, every integer that changed (confirmation steps, passed counts: these must not move),
every string that changed, and keys present in one report only. Timings (keys ``seconds``, and the
``environment`` block) are skipped. Exit 0 when every integer and string is equal, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import math
import sys

SKIP = {"seconds", "environment", "elapsed", "cpu_seconds", "wall_seconds"}


def leaves(node, path=()):
    """(path, value) of every leaf; lists of claims are keyed by their id, other lists by position."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k not in SKIP:
                yield from leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            key = v.get("id") or v.get("name") if isinstance(v, dict) else None
            yield from leaves(v, path + (key if key is not None else i,))
    else:
        yield path, node


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--show", type=int, default=20)
    args = ap.parse_args(argv)
    try:
        a = dict(leaves(json.load(open(args.before))))
        b = dict(leaves(json.load(open(args.after))))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    worst, where, numbers = 0.0, None, 0
    ints, strings = [], []
    for path in sorted(set(a) & set(b), key=str):
        x, y = a[path], b[path]
        if isinstance(x, bool) or isinstance(y, bool) or x is None or y is None:
            if x != y:
                strings.append((path, x, y))
        elif isinstance(x, int) and isinstance(y, int):
            numbers += 1
            if x != y:
                ints.append((path, x, y))
        elif isinstance(x, (int, float)) and isinstance(y, (int, float)):
            numbers += 1
            if math.isnan(x) or math.isnan(y):
                rel = 0.0 if math.isnan(x) and math.isnan(y) else math.inf
            else:
                rel = 0.0 if x == y else abs(x - y) / max(abs(x), abs(y))
            if rel > worst:
                worst, where = rel, (path, x, y)
        elif x != y:
            strings.append((path, x, y))
    only = sorted(set(a) ^ set(b), key=str)
    claims = {p[1] for p in a if len(p) > 1 and p[0] == "claims"}
    print(f"{numbers} numbers compared over {len(claims)} claims; max relative difference {worst:.3g}"
          + (f" at {'/'.join(map(str, where[0]))}: {where[1]!r} → {where[2]!r}" if where else ""))
    print(f"integers changed: {len(ints)}; strings changed: {len(strings)}; keys in one report only: {len(only)}")
    for kind, rows in (("integer", ints), ("string", strings)):
        for path, x, y in rows[:args.show]:
            print(f"  {kind} {'/'.join(map(str, path))}: {x!r} → {y!r}")
    for path in only[:args.show]:
        print(f"  only in {'before' if path in a else 'after'}: {'/'.join(map(str, path))}")
    return 0 if not ints and not strings else 1


if __name__ == "__main__":
    sys.exit(main())
