"""Wall and CPU time of `python -m verify optimizer SPEC` (quick profile), and what it identifies, for
the optimizers whose implicit bias is known from the literature, plus torch's Adam and Muon with
their defaults (no known answer: reported as found).

Each fingerprint runs in a fresh process, as a user would run it (imports, symbolic derivations,
certified max-margin solves, training, sharpness fit). The machine is shared: the load average
before and after each run is printed next to its time, and CPU time (user + system of the child)
is the load-independent figure. The last lines calibrate the identification rule
(``verify.identification``): the smallest separation of a correct identification and the largest
of a wrong one, per model.

    python bench/bench_fingerprint.py [--profile quick] [--only NAME ...] [--no-sharpness]
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

USER = "tests/verify/user_optimizers"
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


def run_one(spec: str, profile: str, sharpness: bool) -> tuple[dict, float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "verify", "optimizer", spec, "--profile", profile,
               "--json", str(out)] + ([] if sharpness else ["--no-sharpness"])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        result = json.loads(out.read_text())["result"] if out.exists() else {"status": "no JSON",
                                                                             "message": proc.stderr[-300:]}
        return result, wall, cpu, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--only", nargs="*", help="names (substrings) of the optimizers to run")
    ap.add_argument("--no-sharpness", action="store_true")
    args = ap.parse_args()
    names = [n for n in OPTIMIZERS if not args.only or any(o.lower() in n.lower() for o in args.only)]
    print(f"{os.cpu_count()} CPUs; profile {args.profile}; sharpness {'off' if args.no_sharpness else 'on'}")
    print(f"{'optimizer':<29}{'binary':<24}{'multiclass':<28}{'network (separation)':<27}"
          f"{'sharpness e [95% CI]':<26}"
          f"{'verdict':<14}{'wall':>7}{'cpu':>7}  load before→after")
    calibration = {"binary": {"right": [], "wrong": []}, "multiclass": {"right": [], "wrong": []}}
    for name in names:
        spec, exp_b, exp_m, _ = OPTIMIZERS[name]
        before = load()
        result, wall, cpu, code = run_one(spec, args.profile, not args.no_sharpness)
        cells = []
        for model, expected in (("binary", exp_b), ("multiclass", exp_m)):
            rec = (result.get("models") or {}).get(model) or {}
            ident = rec.get("identification") or {}
            sep = ident.get("separation")
            got = (result.get("identified") or {}).get(model, "-")
            mark = "" if expected is None else (" ok" if got == expected else f" ≠{expected}")
            cells.append(f"{got}{'' if sep is None else f' ({sep:.3g})'}{mark}")
            if expected is not None and ident.get("best") is not None and sep is not None:
                calibration[model]["right" if ident["best"] == expected else "wrong"].append((sep, name))
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
        print(f"{name:<29}{cells[0]:<24}{cells[1]:<28}{network:<27}{sharp:<26}{result.get('status', '?'):<14}"
              f"{wall:>6.1f}s{cpu:>6.1f}s  {before}→{load()}", flush=True)
        if result.get("status") not in ("ok", "verified"):
            print(f"    {result.get('message', '')}")
    print("* outside the family Σ H_kk^(1−e) (fit residual above tolerance)")
    for model, cal in calibration.items():
        right = min(cal["right"], default=None)
        wrong = max(cal["wrong"], default=None)
        print(f"calibration {model}: smallest separation of a correct best norm "
              f"{'-' if right is None else f'{right[0]:.3g} ({right[1]})'}; largest of a wrong one "
              f"{'-' if wrong is None else f'{wrong[0]:.3g} ({wrong[1]})'}")


if __name__ == "__main__":
    main()
