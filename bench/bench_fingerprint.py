"""Wall and CPU time of `python -m verify optimizer SPEC` (quick profile), and what it identifies, for
the optimizers whose implicit bias is known from the literature, plus torch's Adam and Muon with
their defaults (no known answer: reported as found).

Each fingerprint runs in a fresh process, as a user would run it (imports, symbolic derivations,
certified max-margin solves, training, sharpness fit). The machine is shared: the load average
before and after each run is printed next to its time, and CPU time (user + system of the child)
is the load-independent figure. The last lines calibrate the identification rule
(``verify.identification``): the smallest separation of a correct identification and the largest
of a wrong one, per model.

One seed per fingerprint (``--seed``, default 0: the command itself runs quick 3 seeds by default).
``--baseline DIR`` runs, for every optimizer, the same command in another source tree first (e.g.
the last commit: ``git archive HEAD | tar -x -C DIR``; its ``verify`` package is imported from DIR),
then in this one, and prints both rows, the CPU ratio and whether the two JSON reports agree: every
number to 1e-9 relative and every string equal, times and the executor's description left out; when
they differ, where (paths grouped) and whether a conclusion changed (verdict, identified norms and
separations, the network's selected η₀ and residual, the sharpness exponent).

    python bench/bench_fingerprint.py [--profile quick] [--seed N] [--only NAME ...] [--no-sharpness]
                                      [--baseline DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verify.network_fingerprint import label

ROOT = Path(__file__).resolve().parents[1]
USER = str(ROOT / "tests" / "verify" / "user_optimizers")      # absolute: a baseline tree runs the same files
# name → (SPEC, expected binary norm, expected multiclass norm, source of the expectation)
OPTIMIZERS = {
    "SGD (torch)": ("torch.optim:SGD", "lp:2", "fro", "Soudry et al. 2018"),
    "GD (project)": (f"{USER}/reference.py:gradient_descent", "lp:2", "fro", "Soudry et al. 2018"),
    "SignGD": (f"{USER}/reference.py:signgd", "lp:inf", "entrywise:inf", "Gunasekar et al. 2018"),
    "Signum": (f"{USER}/reference.py:signum", "lp:inf", "entrywise:inf", "Fan et al. 2025"),
    "Adam eps=0": (f"{USER}/reference.py:adam_eps0", "lp:inf", "entrywise:inf", "Fan et al. 2025"),
    "Spectral GD": (f"{USER}/reference.py:spectral", "lp:2", "schatten:inf", "Fan et al. 2025"),
    "Muon (exact SVD)": (f"{USER}/reference.py:muon_exact", "lp:2", "schatten:inf", "Fan et al. 2025"),
    "Nuclear GD": (f"{USER}/reference.py:nuclear", "lp:2", "schatten:1", "Fan et al. 2025"),
    "NSD entrywise-3 (user file)": (f"{USER}/nsd_entrywise3.py:make", "lp:3", "entrywise:3",
                                    "Gunasekar et al. 2018"),
    "NSD Schatten-3 (user file)": (f"{USER}/nsd_schatten3.py:make", "lp:2", "schatten:3",
                                   "Fan et al. 2025"),
    "torch Adam (defaults)": ("torch.optim:Adam", None, None, "eps = 1e-8: no theorem at this budget"),
    "torch Muon (defaults)": ("torch.optim:Muon", None, None, "Newton-Schulz, weight decay 0.1"),
}


def load() -> str:
    return "{:.1f}".format(os.getloadavg()[0])


def run_one(spec: str, profile: str, sharpness: bool, seed: int = 0,
            tree: Path | None = None) -> tuple[dict, float, float, int]:
    """``python -m verify optimizer SPEC --seed SEED`` in a fresh process, with the ``verify`` package
    of ``tree`` (default: this checkout); (JSON result, wall s, CPU s of the child, exit code)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "verify", "optimizer", spec, "--profile", profile, "--seed", str(seed),
               "--json", str(out)] + ([] if sharpness else ["--no-sharpness"])
        env = dict(os.environ, OMP_NUM_THREADS="1")
        if tree is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(tree)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tree or ROOT))
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        result = json.loads(out.read_text())["result"] if out.exists() else {"status": "no JSON",
                                                                             "message": proc.stderr[-300:]}
        return result, wall, cpu, proc.returncode


UNTIMED = {"seconds", "executor", "cpu", "wall"}


def differences(a, b, rtol: float = 1e-9, path: str = "") -> list[str]:
    """Where two JSON reports differ: numbers beyond ``rtol`` relative (NaN equals NaN), strings, keys,
    lengths; the keys in ``UNTIMED`` (times, the executor's description) are skipped."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}/{k}: only in one" for k in set(a) ^ set(b) if k not in UNTIMED]
        for k in a:
            if k in b and k not in UNTIMED:
                out += differences(a[k], b[k], rtol, f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, rtol, f"{path}[{i}]")]
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        x, y = float(a), float(b)
        if x == y or (x != x and y != y) or abs(x - y) <= rtol * max(abs(x), abs(y)):
            return []
        return [f"{path}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{path}: {str(a)[:60]!r} vs {str(b)[:60]!r}"]


def conclusions(result: dict) -> dict:
    """What a reader takes from a report: the verdict, each model's identified norm and separation, the
    network's identified norm, selected η₀ and separation, the sharpness exponent."""
    net = result.get("network") or {}
    ident = net.get("identification") or {}
    return {"status": result.get("status"), "identified": result.get("identified"),
            "separations": {m: ((rec or {}).get("identification") or {}).get("separation")
                            for m, rec in (result.get("models") or {}).items()},
            "network": (net.get("identified"), net.get("selected_eta0"), ident.get("separation"),
                        ident.get("best_gap")),
            "sharpness": (result.get("sharpness") or {}).get("exponent")}


def where(diff: list[str]) -> str:
    """The differing paths, grouped without their list indices (e.g. ``/network/runs[]/steps × 9``)."""
    import re
    from collections import Counter

    groups = Counter(re.sub(r"\[\d+\]", "[]", d.split(":")[0]) for d in diff)
    return ", ".join(f"{g} ×{c}" for g, c in groups.most_common(6))


def row(name: str, result: dict, wall: float, cpu: float, load_before: str, expected: tuple,
        calibration: dict | None) -> str:
    """One table row; adds the identifications of known bias to ``calibration`` when given."""
    cells = []
    for model, exp in zip(("binary", "multiclass"), expected):
        rec = (result.get("models") or {}).get(model) or {}
        ident = rec.get("identification") or {}
        sep = ident.get("separation")
        got = (result.get("identified") or {}).get(model, "-")
        mark = "" if exp is None else (" ok" if got == exp else f" ≠{exp}")
        cells.append(f"{got}{'' if sep is None else f' ({sep:.3g})'}{mark}")
        if calibration is not None and exp is not None and ident.get("best") is not None and sep is not None:
            calibration[model]["right" if ident["best"] == exp else "wrong"].append((sep, name))
    net = result.get("network") or {}
    ident = net.get("identification") or {}
    if ident:
        called = label(ident["identified"]) if ident["identified"] != "undetermined" else "undet."
        network = f"{called} ({ident['separation']:.3g})"
    else:
        network = net.get("status", "-")
    sh = result.get("sharpness") or {}
    if sh.get("status") in ("ok", "outside-family"):
        ci = "(no CI)" if sh.get("interval") is None else "[{:.3f}, {:.3f}]".format(*sh["interval"])
        sharp = f"{sh['exponent']:.3f} {ci}" + ("*" if sh["status"] != "ok" else "")
    else:
        sharp = sh.get("status", "-")
    text = (f"{name:<29}{cells[0]:<24}{cells[1]:<28}{network:<27}{sharp:<26}{result.get('status', '?'):<14}"
            f"{wall:>6.1f}s{cpu:>6.1f}s  {load_before}→{load()}")
    if result.get("status") not in ("ok", "verified"):
        text += f"\n    {result.get('message', '')}"
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*", help="names (substrings) of the optimizers to run")
    ap.add_argument("--no-sharpness", action="store_true")
    ap.add_argument("--baseline", metavar="DIR", help="another source tree, run first for every optimizer")
    args = ap.parse_args()
    baseline = Path(args.baseline).resolve() if args.baseline else None
    if baseline is not None and not (baseline / "verify" / "__main__.py").is_file():
        sys.exit(f"error: {baseline} has no verify/__main__.py (a source tree of this project)")
    names = [n for n in OPTIMIZERS if not args.only or any(o.lower() in n.lower() for o in args.only)]
    print(f"{os.cpu_count()} CPUs; profile {args.profile}; seed {args.seed}; "
          f"sharpness {'off' if args.no_sharpness else 'on'}"
          + (f"; baseline {baseline} (rows 'before')" if baseline else ""))
    print(f"{'optimizer':<29}{'binary':<24}{'multiclass':<28}{'network (separation)':<27}"
          f"{'sharpness e [95% CI]':<26}"
          f"{'verdict':<14}{'wall':>7}{'cpu':>7}  load before→after")
    calibration = {"binary": {"right": [], "wrong": []}, "multiclass": {"right": [], "wrong": []}}
    totals = [0.0, 0.0]
    for name in names:
        spec, exp_b, exp_m, _ = OPTIMIZERS[name]
        old = None
        if baseline is not None:
            before = load()
            old, wall, cpu_old, _ = run_one(spec, args.profile, not args.no_sharpness, args.seed, baseline)
            print(row(f"  before", old, wall, cpu_old, before, (exp_b, exp_m), None), flush=True)
        before = load()
        result, wall, cpu, code = run_one(spec, args.profile, not args.no_sharpness, args.seed)
        print(row(name, result, wall, cpu, before, (exp_b, exp_m), calibration), flush=True)
        if old is not None:
            diff = differences(old, result)
            totals[0] += cpu_old
            totals[1] += cpu
            same = not differences(conclusions(old), conclusions(result))
            print(f"    CPU {cpu_old:.1f} → {cpu:.1f} s ({cpu / cpu_old:.2f}×); reports "
                  + ("identical (numbers to 1e-9 relative)" if not diff else
                     f"differ in {len(diff)} places ({where(diff)}); conclusions "
                     + ("the same" if same else "CHANGED: " + "; ".join(differences(conclusions(old),
                                                                                    conclusions(result))[:4]))),
                  flush=True)
    print("* outside the family Σ H_kk^(1−e) (fit residual above tolerance)")
    if baseline is not None and totals[0] > 0:
        print(f"total CPU before {totals[0]:.1f} s, now {totals[1]:.1f} s ({totals[1] / totals[0]:.2f}×)")
    for model, cal in calibration.items():
        right = min(cal["right"], default=None)
        wrong = max(cal["wrong"], default=None)
        print(f"calibration {model}: smallest separation of a correct best norm "
              f"{'-' if right is None else f'{right[0]:.3g} ({right[1]})'}; largest of a wrong one "
              f"{'-' if wrong is None else f'{wrong[0]:.3g} ({wrong[1]})'}")


if __name__ == "__main__":
    main()
