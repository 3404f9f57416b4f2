"""How fast the digits' KKT residuals fall (``gronich2026-homogeneous-optimizer-kkt``, full-profile
digits task, seed 0): each optimizer's residual in its own norm and ‖θ‖ at T/64, T/32, …, T, and the
exponent κ of r ∝ ‖θ‖^(−κ) with the run length at which that law reaches 1e-2 (the README's
argument for why the digits stay `inconclusive` in full); with ``--controls``, the final parameters'
residuals in every other norm of the claim's control set (its negative control) and W's singular
values: an ℓ2 KKT point whose W has equal nonzero singular values and ‖W‖_sp = ‖u‖_2 satisfies the
KKT conditions of the layers' spectral max as well (the README's digits section).

    python bench/bench_digits_decay.py [--steps 480000] [--optimizers NGD MomentumGD Signum Adam] [--controls]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from numerics.network_init import initialize


def main() -> None:
    import verify.experiments.gronich2026 as gronich
    from numerics.kkt_residual import kkt_residual, norm_value
    from numerics.network_data import digits_parity
    from numerics.networks import TwoLayerNetwork
    from numerics.optim import TransformOptimizer
    from numerics.train import Member
    from numerics.train_network import train_network
    from theory.optimizer_geometry import implied_norm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=480_000)
    ap.add_argument("--optimizers", nargs="+", default=["NGD", "MomentumGD", "Signum", "Adam"])
    ap.add_argument("--controls", action="store_true", help="final residuals in the other norms")
    args = ap.parse_args()
    s, dg = gronich.SETTINGS, gronich.SETTINGS["digits"]
    X, y = digits_parity(dg["n"], seed=0)
    X = np.hstack([X, np.full((len(X), 1), dg["constant_coordinate"])])
    net = TwoLayerNetwork.build(s["activation"], dg["width"], X.shape[1])
    population = gronich.optimizers(net)
    controls = gronich.control_norms(population, {o.name: o.norm for o in population})
    opts = [o for o in population if o.name in args.optimizers]
    members = {o.name: Member(lambda ps, o=o: TransformOptimizer(ps, o.build(o.values), o.name)) for o in opts}
    record = sorted({args.steps // 2 ** k for k in range(7)})
    t0 = time.process_time()
    traj = train_network(net, X, y, members, args.steps, initialize(net, 0, s["init_scale"], s["init"]), record=record)
    print(f"training: {time.process_time() - t0:.0f} s CPU, {len(opts)} optimizers × {args.steps} steps")
    tol = s["kkt_tolerance"]["full"]
    for o in opts:
        own, tr = implied_norm(o.rules, o.values), traj[o.name]
        rows = [(t, norm_value(gronich.L2, p), kkt_residual(net, p, X, y, own).residual)
                for t, p, m in zip(tr.steps, tr.params, tr.margins) if m > 0]
        print(f"{o.name} ({own.name}): " + ", ".join(f"t={t} ‖θ‖={n:.4g} r={r:.4f}" for t, n, r in rows))
        if len(rows) >= 2:
            t, n, r = (np.array(c, dtype=float) for c in zip(*rows))
            kappa = -np.polyfit(np.log(n), np.log(r), 1)[0]
            growth = np.polyfit(np.log(t), np.log(n), 1)[0]
            need = t[-1] * (r[-1] / tol) ** (1 / (kappa * growth)) if kappa > 0 else float("inf")
            print(f"    κ = {kappa:.2f} (r ∝ ‖θ‖^−κ), ‖θ‖ ∝ t^{growth:.2f}: {tol:g} at about {need:.2g} steps")
        if args.controls and rows:
            others = {name: kkt_residual(net, tr.params[-1], X, y, norm).residual
                      for name, norm in controls.items() if name != own.name}
            print(f"    other norms at t={rows[-1][0]}: " + ", ".join(f"{k} {v:.4f}" for k, v in others.items())
                  + f"; smallest / own = {min(others.values()) / rows[-1][2]:.2f}")
            W, u = tr.params[-1]
            sv = np.linalg.svd(W, compute_uv=False)
            print(f"    W's singular values / largest: {np.round(sv / sv[0], 4)}; "
                  f"‖W‖_sp / ‖u‖_2 = {sv[0] / np.linalg.norm(u):.4f}")


if __name__ == "__main__":
    main()
