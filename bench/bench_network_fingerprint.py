"""The network KKT fingerprint (``verify.network_fingerprint``, quick profile) of the optimizers whose
limit Gronich & Vardi 2026 predict, and of methods whose norm is outside the family or unknown
(torch's Adam and Muon with their defaults): what is identified, how clearly, at which step size,
and the CPU time of each (in this process, after a warm-up). The last lines calibrate the
identification rule (``fit_tolerance`` and ``separation_threshold``): the separations and best
residuals of the correct calls, any wrong call within the family, and how close the methods outside
the family come.

    python bench/bench_network_fingerprint.py [--profile quick] [--only NAME ...] [--seeds S ...]
                                              [--json PATH]

Several initialization seeds give one table each and one calibration over all of them; --json writes
every fingerprint's record (all runs of the sweep with their residuals), by seed and optimizer.
"""
from __future__ import annotations

import argparse
import json
import time

from verify.network_fingerprint import SETTINGS, label, network_fingerprint
from verify.spec import load_factory, parse_spec

USER = "tests/verify/user_optimizers"
L2, L3, LINF = "lp:2", "lp:3", "lp:inf"
MUON, HYBRID, LAYER_FRO = ("blockmax[1*schatten:inf,1*schatten:inf]", "blockmax[1*schatten:inf,1*lp:inf]",
                           "blockmax[1*fro,1*fro]")
OUTSIDE = "outside"
# name → (SPEC, expected norm, source of the expectation); None: no prediction
OPTIMIZERS = {
    "SGD (torch)": ("torch.optim:SGD", L2, "Lyu & Li 2020 (loss-normalized step)"),
    "GD (project)": (f"{USER}/reference.py:gradient_descent", L2, "Lyu & Li 2020"),
    "NGD": (f"{USER}/reference.py:ngd", L2, "Gronich & Vardi 2026"),
    "SignGD": (f"{USER}/reference.py:signgd", LINF, "Gronich & Vardi 2026 (β₁ = 0)"),
    "Signum": (f"{USER}/reference.py:signum", LINF, "Gronich & Vardi 2026"),
    "Adam eps=0": (f"{USER}/reference.py:adam_eps0", LINF, "Gronich & Vardi 2026"),
    "Spectral GD (per layer)": (f"{USER}/reference.py:spectral", MUON, "Gronich & Vardi 2026 (β₁ = 0)"),
    "Muon (exact SVD, per layer)": (f"{USER}/reference.py:muon_exact", MUON, "Gronich & Vardi 2026"),
    "Muon + Signum": (f"{USER}/reference.py:muon_signum", HYBRID, "Gronich & Vardi 2026"),
    "NGD per layer": (f"{USER}/reference.py:ngd_layerwise", LAYER_FRO, "steepest descent of a block max"),
    "Nuclear GD (per layer)": (f"{USER}/reference.py:nuclear", OUTSIDE, "layerwise nuclear max"),
    "NSD entrywise-3 (user file)": (f"{USER}/nsd_entrywise3.py:make", L3, "Tsilivis et al. 2024 (ℓ3 of θ)"),
    "NSD Schatten-3 (user file)": (f"{USER}/nsd_schatten3.py:make", OUTSIDE, "layerwise Schatten-3 max"),
    "torch Adam (defaults)": ("torch.optim:Adam", None, "ε = 1e-8"),
    "torch Muon (defaults)": ("torch.optim:Muon", None, "Newton–Schulz, weight decay 0.1, lr by shape"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick", choices=("quick", "full"))
    ap.add_argument("--only", nargs="*", help="names (substrings) of the optimizers to run")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="initialization seeds")
    ap.add_argument("--json", metavar="PATH", help="write every fingerprint's record here")
    args = ap.parse_args()
    chosen = {k: v for k, v in OPTIMIZERS.items() if not args.only or any(o in k for o in args.only)}
    network_fingerprint(load_factory(parse_spec("torch.optim:SGD")), args.profile)      # warm-up
    correct, wrong, outside, records = [], [], [], {}
    for seed in args.seeds:
        print(f"initialization seed {seed}")
        print(f"{'optimizer':<30}{'expected':<20}{'identified':<20}{'best (residual)':<32}{'separation':>11}"
              f"{'η₀':>8}{'steps':>7}{'cpu':>8}")
        for name, (spec, expected, _) in chosen.items():
            t0 = time.process_time()
            fp = network_fingerprint(load_factory(parse_spec(spec)), args.profile, seed)
            cpu = time.process_time() - t0
            records.setdefault(seed, {})[name] = fp.record()
            ident = fp.identification
            if ident is None:
                print(f"{name:<30}{label(expected or '-'):<20}{fp.status + ': ' + fp.message}")
                continue
            best = f"{label(ident.best)} ({ident.best_gap:.3g})"
            print(f"{name:<30}{label(expected or '-'):<20}{label(fp.identified):<20}{best:<32}"
                  f"{ident.separation:>11.3g}{fp.run.eta0:>8.3g}{fp.run.steps:>7}{cpu:>7.1f}s")
            entry = (ident.best_gap, ident.separation, f"{name} (seed {seed})", fp.identified)
            if expected == OUTSIDE:
                outside.append(entry)
            elif expected is not None:
                (correct if ident.best == expected else wrong).append(entry)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=1, default=str)
    if correct:
        print(f"calibration, correct best norms: separation ≥ {min(c[1] for c in correct):.3g}, "
              f"best residual ≤ {max(c[0] for c in correct):.3g}; not identified: "
              + (", ".join(n for _, _, n, i in correct if i == 'undetermined') or "none"))
    print("calibration, wrong best norms in the family: "
          + (", ".join(f"{n} (separation {sep:.3g})" for _, sep, n, _ in wrong) if wrong else "none"))
    if outside:
        print(f"calibration, norms outside the family: best residual ≥ {min(o[0] for o in outside):.3g}, "
              f"separation up to {max(o[1] for o in outside):.3g}; identified: "
              + (", ".join(f"{n} as {i}" for _, _, n, i in outside if i != 'undetermined') or "none"))
    print(f"rule: residual ≤ {SETTINGS['fit_tolerance']:g} and separation ≥ "
          f"{SETTINGS['separation_threshold']:g}")


if __name__ == "__main__":
    main()
