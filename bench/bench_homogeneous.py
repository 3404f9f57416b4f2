"""Figures for the homogeneous-network claims (Lyu & Li 2020, Gronich & Vardi 2026, Tsilivis et al. 2024,
Frei et al. 2023).

Prints the machine load; the gronich2026 and tsilivis2024 populations in three loops side by side (CPU µs
per optimizer-step: the plain per-optimizer loop, the anchor; the population stepped one member at a
time; the population with the steepest-descent members stepped together by
``numerics.homogeneous_optim.NetworkStack``) and whether the last two end bitwise equal; the cost of
one training step (population and single optimizer), of one KKT residual per norm kind, of one attack
search, and the wall/CPU time of each claim's quick profile.
Run: python bench/bench_homogeneous.py [--populations-only] [--steps N] [--claims]
(--claims adds the quick-profile runs, minutes)
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from numerics.network_init import initialize


def _timed(fn, repeat: int = 1):
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        out = fn()
    return (time.perf_counter() - t0) / repeat, (time.process_time() - c0) / repeat, out


def bench_training():
    from numerics.homogeneous_optim import relative_step
    from numerics.network_data import gaussian_clusters
    from numerics.networks import TwoLayerNetwork
    from numerics.optim import TransformOptimizer
    from numerics.train import Member
    from numerics.train_network import train_network
    import verify.experiments.gronich2026 as gronich

    s = gronich.SETTINGS
    c = s["clusters"]
    X, y = gaussian_clusters(c["k"], c["d"], c["per_cluster"], c["noise"], seed=0)
    net = TwoLayerNetwork.build(s["activation"], s["width"], c["d"])
    opts = gronich.optimizers(net)
    members = {o.name: Member(lambda ps, o=o: TransformOptimizer(ps, o.build(o.values))) for o in opts}
    steps = 500
    init = initialize(net, 0, s["init_scale"], s["init"])
    train_network(net, X, y, members, 5, init)          # warm-up (imports)
    wall, cpu, _ = _timed(lambda: train_network(net, X, y, members, steps, init, record=[steps]))
    print(f"training, {len(members)}-optimizer population (n={len(y)}, width {s['width']}, P={net.num_params}): "
          f"{1e3 * wall / steps:.2f} ms/step wall, {1e3 * cpu / steps:.2f} ms/step CPU "
          f"({1e6 * cpu / steps / len(members):.0f} µs per optimizer-step)")
    for name in ("NGD", "Signum", "Adam", "Muon", "Muon+Adam"):
        one = {name: members[name]}
        wall, cpu, _ = _timed(lambda: train_network(net, X, y, one, steps, init, record=[steps]))
        print(f"  {name:10s} alone: {1e6 * cpu / steps:.0f} µs/step CPU")
    single = {"gd": Member(lambda ps: TransformOptimizer(ps, relative_step(3e-3)))}
    wall, cpu, _ = _timed(lambda: train_network(net, X, y, single, steps, net.init(0, 0.3), record=[steps]))
    print(f"training, one GD member (loss-based step): {1e3 * wall / steps:.2f} ms/step wall, "
          f"{1e3 * cpu / steps:.2f} ms/step CPU")


def _population_loops(net, X, y, opts, init, steps):
    """Three loops over the same optimizers, timed in one run (CPU s): the plain per-optimizer loop
    (the anchor: each optimizer alone, its own loss/gradient pass and step, nothing else), the
    population with each member stepped one by one after one shared loss pass, and the population
    with the steepest-descent family stepped together (``numerics.homogeneous_optim.NetworkStack``),
    the rest one by one. Returns {loop: (CPU s, final parameters by optimizer)}."""
    import torch
    from numerics.homogeneous_optim import NetworkStack
    from numerics.optim import TransformOptimizer
    from numerics.train import small_tensor_mode

    Xt, yt = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)

    def fresh():
        params = {o.name: [torch.tensor(np.asarray(p), dtype=torch.float64) for p in init] for o in opts}
        return params, {o.name: TransformOptimizer(params[o.name], o.build(o.values), o.name) for o in opts}

    def plain():
        params, optimizers = fresh()
        for name, opt in optimizers.items():
            W, u = params[name]
            for _ in range(steps):
                log_l, _, gW, gu = net.log_loss_gradients(W[None], u[None], Xt, yt)
                opt.apply((gW[0], gu[0]), float(log_l[0]))
        return params

    def population(stacked: bool):
        params, optimizers = fresh()
        names = list(optimizers)
        stack = NetworkStack.of(optimizers) if stacked else None
        alone = [i for i, nm in enumerate(names) if stack is None or nm not in stack]
        together = [i for i, nm in enumerate(names) if stack is not None and nm in stack]
        for _ in range(steps):
            W = torch.stack([params[nm][0] for nm in names])
            u = torch.stack([params[nm][1] for nm in names])
            log_l, _, gW, gu = net.log_loss_gradients(W, u, Xt, yt)
            log_l = log_l.tolist()
            if together:
                stack.step([names[i] for i in together], [gW.numpy()[together], gu.numpy()[together]],
                           [log_l[i] for i in together])
            for i in alone:
                optimizers[names[i]].apply((gW[i], gu[i]), log_l[i])
        return params

    out = {}
    with small_tensor_mode(), torch.no_grad():
        for key, loop in (("plain loop", plain), ("population, one by one", lambda: population(False)),
                          ("population, stacked", lambda: population(True))):
            _, cpu, params = _timed(loop)
            out[key] = (cpu, params)
    return out


def bench_populations(steps: int = 2000):
    """Per optimizer-step CPU of the gronich2026 and tsilivis2024 populations (quick settings, seed 0,
    clusters task) in the three loops of :func:`_population_loops`, side by side, and whether the
    stacked loop's iterates equal the one-by-one loop's bitwise."""
    import torch
    import verify.experiments.gronich2026 as gronich
    import verify.experiments.tsilivis2024 as tsilivis
    from numerics.homogeneous_optim import NetworkStack
    from numerics.network_data import gaussian_clusters
    from numerics.networks import TwoLayerNetwork
    from numerics.optim import TransformOptimizer

    s = gronich.SETTINGS
    c = s["clusters"]
    X, y = gaussian_clusters(c["k"], c["d"], c["per_cluster"], c["noise"], seed=0,
                             noise_in_mean_span=c["noise_in_mean_span"])
    net = TwoLayerNetwork.build(s["activation"], s["width"], c["d"])
    init = initialize(net, 0, s["init_scale"], s["init"])
    print(f"population loops, {steps} steps, clusters n={len(y)}, width {s['width']} (µs per optimizer-step, CPU):")
    print(f"  {'population':26s} {'plain loop':>11s} {'one by one':>11s} {'stacked':>11s} {'1-by-1/stk':>10s} "
          f"{'plain/stk':>10s}  stacked members  bitwise")
    for label, opts in (("gronich2026 (8 optimizers)", gronich.optimizers(net)),
                        ("tsilivis2024 (5 NSD)", tsilivis.optimizers())):
        _population_loops(net, X, y, opts, init, 20)                         # warm-up
        out = _population_loops(net, X, y, opts, init, steps)
        per = {k: 1e6 * cpu / steps / len(opts) for k, (cpu, _) in out.items()}
        one, stk = out["population, one by one"][1], out["population, stacked"][1]
        same = all(torch.equal(a, b) for nm in one for a, b in zip(one[nm], stk[nm]))
        probe = [torch.zeros(net.shapes[0], dtype=torch.float64), torch.zeros(net.shapes[1], dtype=torch.float64)]
        stacked = sum(NetworkStack.plan(TransformOptimizer(probe, o.build(o.values))) is not None for o in opts)
        print(f"  {label:26s} {per['plain loop']:11.0f} {per['population, one by one']:11.0f} "
              f"{per['population, stacked']:11.0f} {per['population, one by one'] / per['population, stacked']:9.2f}x "
              f"{per['plain loop'] / per['population, stacked']:9.2f}x  {stacked}/{len(opts)}"
              f"{'':14s}{'equal' if same else 'DIFFERENT'}")


def bench_kkt():
    from numerics.kkt_residual import kkt_residual
    from numerics.network_data import gaussian_clusters, orthogonal_clusters
    from numerics.networks import TwoLayerNetwork
    from numerics.optim import TransformOptimizer, nsd, PowerSchedule
    from numerics.train import Member
    from numerics.train_network import train_network
    from theory.norms import BlockMax, parse_norm
    from theory.optimizer_geometry import implied_norm

    l2, linf, spn = parse_norm("l2", "binary"), parse_norm("linf", "binary"), parse_norm("spectral")
    X, y = gaussian_clusters(4, 10, 8, 0.1, seed=0)
    for act in ("squared_relu", "relu"):
        net = TwoLayerNetwork.build(act, 16, 10)
        member = {"ngd": Member(lambda ps: TransformOptimizer(ps, nsd(l2, PowerSchedule(1.0, 0.7))))}
        params = train_network(net, X, y, member, 1000, net.init(0, 0.1), record=[1000])["ngd"].params[-1]
        nuc = parse_norm("nuclear")
        for norm in (l2, linf, BlockMax((spn, spn), (1.0, 1.0)), BlockMax((spn, linf), (0.25, 1.0)),
                     parse_norm("lp:3", "binary"), parse_norm("l1", "binary"), BlockMax((nuc, nuc), (1.0, 1.0))):
            wall, cpu, r = _timed(lambda: kkt_residual(net, params, X, y, norm))
            print(f"KKT residual {act:12s} {norm.name:44s} {r.solver:8s} {wall:6.2f} s wall {cpu:6.2f} s CPU "
                  f"(residual {r.residual:.3g}, τ {r.tolerance:.2g})")
    # the full profile's expensive case: Muon's block max on digits (W is 8×65, a nuclear norm per solve)
    from numerics.network_data import digits_parity
    from numerics.optim import nmd
    Xd, yd = digits_parity(60, seed=0)
    Xd = np.hstack([Xd, np.ones((len(Xd), 1))])
    net = TwoLayerNetwork.build("squared_relu", 8, Xd.shape[1])
    muon = BlockMax((spn, spn), (1.0, 1.0))
    member = {"muon": Member(lambda ps: TransformOptimizer(ps, nmd(muon, PowerSchedule(0.35, 0.7), 0.5)))}
    params = train_network(net, Xd, yd, member, 3000, net.init(0, 0.1), record=[3000])["muon"].params[-1]
    wall, cpu, r = _timed(lambda: kkt_residual(net, params, Xd, yd, muon))
    print(f"KKT residual digits (n=60, W 8×65), Muon's norm: {wall:.2f} s wall {cpu:.2f} s CPU "
          f"(residual {r.residual:.3g}, {r.status}, {r.solver})")
    import verify.experiments.gronich2026 as gronich
    opts = gronich.optimizers(net)
    controls = gronich.control_norms(opts, {o.name: implied_norm(o.rules, o.values) for o in opts})
    wall, cpu, rows = _timed(lambda: [kkt_residual(net, params, Xd, yd, n) for n in controls.values()])
    print(f"  the same point in all {len(controls)} norms of gronich2026 (one optimizer's row): {wall:.1f} s wall "
          f"{cpu:.1f} s CPU; solvers {sorted({r.solver for r in rows})}, "
          f"{sum(not r.accurate for r in rows)} inaccurate")
    data = orthogonal_clusters(16, 400, 5, seed=0)
    net = TwoLayerNetwork.build("relu", 32, 400)
    from numerics.homogeneous_optim import relative_step
    member = {"gd": Member(lambda ps: TransformOptimizer(ps, relative_step(3e-3)))}
    steps = 4000                                         # frei2023 quick and full
    params = train_network(net, data.X, data.y, member, steps, net.init(0, 1e-2), record=[steps])["gd"].params[-1]
    wall, cpu, r = _timed(lambda: kkt_residual(net, params, data.X, data.y, l2, taus=(0.0,)))
    print(f"KKT residual relu, P={net.num_params}, n={len(data.y)} (τ = 0: least squares, as frei2023): {wall:.2f} s wall "
          f"{cpu:.2f} s CPU (residual {r.residual:.3g})")
    return net, params, data


def bench_attack(net, params, data):
    from numerics.attacks import ReluNetwork, attack, candidate_directions

    rn = ReluNetwork.homogeneous(params, 1)
    x, yy = data.X[0], data.y[0]
    rho = float(np.linalg.norm(data.means[0]))
    wall, cpu, res = _timed(lambda: attack(rn, x, yy, candidate_directions(rn, x, yy, data.means, data.cluster_labels),
                                           2 * rho), repeat=20)
    print(f"attack search + certificate, d=400, width 32: {1e3 * wall:.1f} ms per point "
          f"(radius {res.radius:.3g}, certified ≥ {res.certified:.3g})")


def bench_claims():
    from verify.context import Context
    from verify.registry import get

    for claim_id in ("lyu2020-gd-homogeneous-kkt", "gronich2026-homogeneous-optimizer-kkt",
                     "tsilivis2024-steepest-descent-homogeneous-kkt", "frei2023-homogeneous-double-edged-sword"):
        claim = get(claim_id)
        wall, cpu, out = _timed(lambda: claim.check(Context()))
        print(f"{claim_id:40s} quick: {wall:6.1f} s wall {cpu:6.1f} s CPU  -> {out.status}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", action="store_true", help="also time each claim's quick profile")
    parser.add_argument("--populations-only", action="store_true", help="only the population loops")
    parser.add_argument("--steps", type=int, default=2000, help="steps of the population loops")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs")
    bench_populations(args.steps)
    if args.populations_only:
        return
    bench_training()
    net, params, data = bench_kkt()
    bench_attack(net, params, data)
    if args.claims:
        bench_claims()
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
