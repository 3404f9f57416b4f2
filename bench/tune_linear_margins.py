"""Confirmation steps of section-1 optimizers at several step-size factors κ, for choosing κ and the
horizon on seeds that are never reported (≥ 10 000). Each member runs the catalogue's stopping rule
(``verify.linear_margins.run_population``: confirm, continue to 2·t_c) with κ replaced.

    python bench/tune_linear_margins.py fan2025 --dataset spread --seeds 10000:10010 --kappas 8,16 \
        --members nsd-fro,nmd-fro --budget 120000 --json out.json
    python bench/tune_linear_margins.py gunasekar2018 --seeds 10000:10004 --kappas 4,8 --budget 120000

``--own-norms-only`` solves only the members' own norms (their gap curves and t_c are the same; the
rival separations are then not reported). Prints, per seed, t_c of every member × κ, the latest
t_c with the step-size derivation's gap bound at η₀* there (fan2025's ``bound_level`` is the
smallest of these over the tuning seeds) and the CPU seconds; ``--json`` keeps the gap curves."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time


def _seeds(text: str) -> list[int]:
    from verify.seeds import parse_seeds

    return list(parse_seeds(text))


def _bound_at_latest(run, opts):
    """The latest confirmation step over the members (None if one never confirmed) and the largest
    over their norms of the step-size derivation's gap bound at η₀* there
    (``verify.linear_margins.gap_bound_at_best``): the quantity whose smallest value over the tuning
    seeds sets fan2025's ``bound_level`` (the spread data's per-draw budget)."""
    from verify.linear_margins import data_radius, gap_bound_at_best

    steps = [run.confirmed.get(o.key) for o in opts]
    if any(t is None for t in steps):
        return None, float("nan")
    latest = max(steps)
    N = run.problem.n * (run.problem.k - 1)
    level = max(gap_bound_at_best(data_radius(run.problem, run.norms[g]), N, latest, run.solutions[g].margin)
                for g in {o.geometry for o in opts})
    return latest, level


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("experiment", choices=["fan2025", "gunasekar2018"])
    ap.add_argument("--dataset", choices=["paper", "spread"], default="paper", help="fan2025 only")
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--kappas", default="8")
    ap.add_argument("--members", required=True, help="comma list of population keys, e.g. nsd-fro,nmd-fro")
    ap.add_argument("--horizon", type=int, default=40_000)
    ap.add_argument("--budget", type=int, default=120_000)
    ap.add_argument("--own-norms-only", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    try:
        seeds = _seeds(args.seeds)
        kappas = [float(k) for k in args.kappas.split(",")]
        if not kappas or min(kappas) <= 0 or args.horizon < 2 or args.budget < args.horizon:
            raise ValueError("κ > 0, horizon ≥ 2 and budget ≥ horizon are required")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from theory.norms import parse_norm
    from verify.context import Context
    from verify.linear_margins import run_population

    if args.experiment == "fan2025":
        import verify.experiments.fan2025 as exp
        all_norms = [parse_norm(v[0]) for v in exp.NORMS.values()]
        problem = lambda seed: exp.problem(seed, args.dataset)   # noqa: E731
        tolerance = lambda key: exp.SETTINGS["adam_gap_tolerance" if key == "adam" else "gap_tolerance"]["quick"]  # noqa: E731
    else:
        import verify.experiments.gunasekar2018 as exp
        all_norms = [parse_norm(v, "binary") for v in exp.NORMS.values()]
        problem = lambda seed: exp.problem(seed)                  # noqa: E731
        tolerance = lambda key: exp.SETTINGS.quick.gap_tolerance  # noqa: E731
    base = {o.key: o for o in exp.optimizers()}
    unknown = [m for m in args.members.split(",") if m not in base]
    if unknown:
        print(f"error: unknown member(s) {', '.join(unknown)}; known: {', '.join(base)}", file=sys.stderr)
        return 2
    members = [base[m] for m in args.members.split(",")]
    norms = [n for n in all_norms if n.name in {m.geometry for m in members}] if args.own_norms_only else all_norms
    out = {}
    for seed in seeds:
        opts = [dataclasses.replace(m, key=f"{m.key}@{k:g}", kappa=k) for m in members for k in kappas]
        t0 = time.process_time()
        run = run_population(Context(), f"tune-{seed}", problem(seed), norms, opts, args.budget,
                             targets={o.key: tolerance(o.key.split("@")[0]) for o in opts}, horizon=args.horizon)
        row = {o.key: {"t_c": run.confirmed.get(o.key), "steps": run.trajectories[o.key].steps,
                       "gaps": run.gap_curve(o.key, o.geometry).tolist(),
                       "schedule": run.schedules[o.key].describe()} for o in opts}
        cpu = time.process_time() - t0
        latest, level = _bound_at_latest(run, opts)
        out[seed] = {"cpu_seconds": cpu, "members": row, "latest_t_c": latest, "bound_at_latest_t_c": level}
        print(seed, f"cpu {cpu:.1f}s", {k: v["t_c"] for k, v in row.items()},
              f"latest t_c {latest}, gap bound at η₀* there {level:.4g}", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
