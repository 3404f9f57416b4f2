"""The gallery of real optimizers' implicit biases: ``verify optimizer`` on every ``torch.optim``
optimizer that applies, with its defaults and with ε = 0 where it has one, each in a fresh process.
Writes a dated JSON (``docs/results/gallery-DATE.json``, rewritten after every optimizer so an
interrupted run keeps what finished); the documentation build renders it as the gallery page.

    python bench/make_gallery.py [--out docs/results/gallery-YYYY-MM-DD.json] [--only NAME ...]

The literature column states a published prediction only where one exists for this form of the
method (linear models, separable data, exponentially-tailed loss); elsewhere it says none.
"""
from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

G = "bench/gallery_optimizers.py"
L2 = ("lp:2", "fro", "lp:2", "Soudry et al. 2018 (GD); Wang et al. 2023 (heavy-ball and Nesterov momentum)")
LINF_ADAM = ("lp:inf", "entrywise:inf", "lp:inf",
             "Zhang, Zou, Cao 2024; Fan, Schmidt, Thrampoulidis 2025 (Adam with ε = 0); Gronich & Vardi 2026 (networks)")
NONE = (None, None, None, "no published prediction for this form known to us")
# name → (factory, literature prediction: binary, multiclass, network, source)
GALLERY = {
    "SGD": ("sgd", *L2),
    "SGD, momentum 0.9": ("sgd_momentum", *L2),
    "SGD, Nesterov 0.9": ("sgd_nesterov", *L2),
    "Adam": ("adam", *NONE),
    "Adam, ε = 0": ("adam_eps0", *LINF_ADAM),
    "AdamW, weight_decay = 0": ("adamw_wd0", *NONE),
    "AdamW, weight_decay = 0, ε = 0": ("adamw_wd0_eps0", *LINF_ADAM),
    "Adamax": ("adamax", *NONE),
    "Adamax, ε = 0": ("adamax_eps0", *NONE),
    "NAdam": ("nadam", *NONE),
    "NAdam, ε = 0": ("nadam_eps0", *NONE),
    "RAdam": ("radam", *NONE),
    "RAdam, ε = 0": ("radam_eps0", *NONE),
    "Adagrad": ("adagrad", *NONE),
    "Adagrad, ε = 0": ("adagrad_eps0", *NONE),
    "Adadelta": ("adadelta", *NONE),
    "RMSprop": ("rmsprop", *NONE),
    "RMSprop, ε = 0": ("rmsprop_eps0", *NONE),
    "Rprop": ("rprop", *NONE),
    "ASGD": ("asgd", *L2[:3], "ASGD is SGD with iterate averaging; the averaged iterate is not what is fingerprinted"),
    "Adafactor": ("adafactor", *NONE),
    "Muon": ("muon", None, "schatten:inf", None,
             "Fan et al. 2025 (Muon without weight decay; torch's default has weight decay 0.1)"),
}


def command(factory: str, profile: str, out: Path) -> list[str]:
    """The gallery's command for one optimizer: ``verify optimizer`` on seed 0 only."""
    return [sys.executable, "-m", "verify", "optimizer", f"{G}:{factory}", "--profile", profile,
            "--seeds", "0:1", "--json", str(out)]


def run_one(factory: str, profile: str) -> tuple[dict, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = command(factory, profile, out)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if out.exists():
            result = json.loads(out.read_text()).get("result", {})
        else:
            result = {"status": "error", "message": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
        return result, wall, proc.returncode


def summarize(name: str, result: dict, wall: float) -> dict:
    factory, lit_b, lit_m, lit_n, source = GALLERY[name]
    ident = result.get("identified") or {}
    models = result.get("models") or {}
    net = result.get("network") or {}
    net_ident = net.get("identification") or {}
    sharp = result.get("sharpness") or {}
    row = {"name": name, "spec": f"{G}:{factory}", "wall_seconds": round(wall, 1),
           "status": result.get("status"), "message": result.get("message"),
           "literature": {"binary": lit_b, "multiclass": lit_m, "network": lit_n, "source": source},
           "identified": {m: ident.get(m) for m in ("binary", "multiclass")},
           "separation": {m: ((models.get(m) or {}).get("identification") or {}).get("separation")
                          for m in ("binary", "multiclass")},
           "best": {m: ((models.get(m) or {}).get("identification") or {}).get("best")
                    for m in ("binary", "multiclass")},
           "reason": {m: (models.get(m) or {}).get("message") for m in ("binary", "multiclass")},
           "network": {"identified": net_ident.get("identified"), "separation": net_ident.get("separation"),
                       "status": net.get("status"), "best": net_ident.get("best"), "reason": net.get("message")},
           "sharpness": {"exponent": sharp.get("exponent"), "interval": sharp.get("interval"),
                         "status": sharp.get("status")}}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=f"docs/results/gallery-{datetime.date.today().isoformat()}.json")
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    names = [n for n in GALLERY if not args.only or any(o.lower() in n.lower() for o in args.only)]
    out = Path(args.out)
    rows = json.loads(out.read_text())["optimizers"] if out.exists() else []
    done = {r["name"] for r in rows}
    failed = []               # (name, exit code, message): the verdict `error` of a run that ran is a result
    for name in names:
        if name in done:
            continue
        result, wall, code = run_one(GALLERY[name][0], args.profile)
        if code not in (0, 1):        # not kept: a later run of the script retries it
            failed.append((name, code, result.get("message")))
            print(f"{name:<34} did not run (exit {code}): {result.get('message')}", flush=True)
            continue
        row = summarize(name, result, wall)
        rows.append(row)
        print(f"{name:<34} {row['identified']} network {row['network']['identified']} "
              f"e {row['sharpness']['exponent']} {row['status']} ({wall:.0f}s)", flush=True)
        payload = {"date": datetime.date.today().isoformat(), "profile": args.profile,
                   "command": "python bench/make_gallery.py", "optimizers": rows}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(payload, indent=1))
    if failed:                # a command that did not run (exit 2: usage; 130: interrupted) is not a result
        name, code, message = failed[0]
        print(f"error: {len(failed)} of {len(names)} commands did not run ({name}: exit {code}: {message})",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
