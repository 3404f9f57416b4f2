import math

import numpy as np

from numerics.network_data import digits_parity, gaussian_clusters, orthogonal_clusters
from numerics.networks import TwoLayerNetwork
from numerics.optim import TransformOptimizer, nsd, PowerSchedule
from numerics.train import Member
from numerics.train_network import train_network
from numerics.trajectory_metrics import direction_cosines, log_expm1_exp, smoothed_margin
from theory.norms import parse_norm


def test_population_training_separates_and_records():
    X, y = gaussian_clusters(4, 5, 4, 0.1, seed=0)
    net = TwoLayerNetwork.build("relu", 16, 5)
    l2 = parse_norm("l2", "binary")
    members = {"ngd": Member(lambda ps: TransformOptimizer(ps, nsd(l2, PowerSchedule(1.0, 0.7)))),
               "broken": Member(lambda ps: 1 / 0)}
    traj = train_network(net, X, y, members, 100, net.init(0, 0.1), record=[1, 50, 100])
    assert traj["broken"].status == "error" and "factory failed" in traj["broken"].message
    t = traj["ngd"]
    assert t.status == "ok" and t.steps == [1, 50, 100] and t.margins[-1] > 0
    assert t.log_loss[-1] < t.log_loss[0] < 0
    assert np.isclose(net.margins(t.params[-1], X, y).min(), t.margins[-1])
    cos = direction_cosines(net, t.params)
    assert np.isclose(cos[-1], 1.0) and min(cos) > -1


def test_smoothed_margin_is_a_stable_lower_bound():
    for z in (-1000.0, -40.0, -5.0, 0.0):
        ref = np.log(np.expm1(np.exp(z))) if z > -700 else z
        assert np.isclose(log_expm1_exp(z), ref, rtol=1e-12, atol=1e-300)
    q = np.array([3.0, 5.0, 40.0])                          # margins; logistic loss in log space
    log_l = np.log(np.mean(np.log1p(np.exp(-q))))
    assert smoothed_margin(log_l, 3, 1.0, 2) <= q.min()
    assert np.isnan(smoothed_margin(0.0, 3, 1.0, 2))         # nL ≥ log 2: undefined


def test_data_sets():
    data = orthogonal_clusters(6, 50, 3, seed=1)
    assert data.X.shape == (18, 50) and set(np.unique(data.y)) == {-1.0, 1.0}
    fresh = orthogonal_clusters(6, 50, 2, seed=2, means=data.means)
    assert np.array_equal(fresh.means, data.means) and fresh.X.shape == (12, 50)
    X, y = digits_parity(40, seed=0)
    assert X.shape == (40, 64) and np.allclose(np.linalg.norm(X, axis=1), 1.0) and set(np.unique(y)) == {-1.0, 1.0}


def test_stable_inverse_loss_matches_the_derived_one():
    """numerics evaluates the derived ℓ^{-1}(e^z) = −log(exp(exp z) − 1) without cancellation; where the
    plain formula is still accurate the two agree, and below z = −30 the series is exact to rounding."""
    import sympy as sp
    from numerics.trajectory_metrics import inverse_logistic_of_log
    from theory.smoothed_margin import LOG_NL, smoothed_margin_derivation

    derived = sp.lambdify(LOG_NL, smoothed_margin_derivation().results["inverse_loss_of_log"], "mpmath")
    import mpmath
    mpmath.mp.dps = 50
    for z in (-60.0, -31.0, -29.0, -10.0, -1.0, -0.4):
        assert np.isclose(inverse_logistic_of_log(z), float(derived(mpmath.mpf(z))), rtol=1e-13)


def test_residual_decay_rate_recovers_the_power():
    from numerics.trajectory_metrics import residual_decay_rate
    ts = np.array([5.0, 9.0, 17.0, 40.0])
    for kappa in (-0.5, 0.0, 0.9):
        assert np.isclose(residual_decay_rate(ts, 0.2 * (ts / 5.0) ** -kappa), kappa)
    assert math.isnan(residual_decay_rate(ts, [0.1, math.inf, 0.1, 0.1]))


def test_log_loss_floor_stops_a_member_there_and_torch_optimizers_get_the_true_gradient():
    import torch

    X, y = gaussian_clusters(2, 10, 8, 0.1, seed=0, noise_in_mean_span=True)
    net = TwoLayerNetwork.build("squared_relu", 8, 10)
    l2 = parse_norm("l2", "binary")
    members = {"fast": Member(lambda ps: TransformOptimizer(ps, nsd(l2, PowerSchedule(1.0, 0.7)))),
               "sgd": Member(lambda ps: torch.optim.SGD(ps, lr=1.0), PowerSchedule(1.0, 0.7),
                             loss_normalized=True),
               "slow": Member(lambda ps: TransformOptimizer(ps, nsd(l2, PowerSchedule(1e-3, 0.7))))}
    traj = train_network(net, X, y, members, 3000, net.init(0, 0.1), record=[3000], log_loss_floor=-50.0)
    for name in ("fast", "sgd"):
        t = traj[name]
        assert t.status == "ok" and t.steps[-1] < 3000 and "floor -50" in t.message
        assert t.log_loss[-1] <= -50.0 and len(t.steps) == 1                 # recorded where it stopped
        W, u = (torch.from_numpy(a)[None] for a in t.params[-1])
        log_l = net.log_loss_gradients(W, u, torch.from_numpy(X), torch.from_numpy(y))[0]
        assert np.isclose(float(log_l[0]), t.log_loss[-1], rtol=1e-12)
    assert traj["slow"].steps == [3000] and traj["slow"].log_loss[-1] > -50.0 and not traj["slow"].message


def test_a_non_optimizer_factory_is_an_error():
    X, y = gaussian_clusters(2, 5, 4, 0.1, seed=0)
    net = TwoLayerNetwork.build("relu", 4, 5)
    traj = train_network(net, X, y, {"x": Member(lambda ps: object())}, 10, net.init(0, 0.1))
    assert traj["x"].status == "error" and "did not return a torch.optim.Optimizer" in traj["x"].message


def _population(net):
    """Members of every stepping path: the stacked steepest family (NSD, Muon with momentum), a
    ``numerics.optim`` member outside the stack (Adam) and a torch optimizer with a schedule."""
    import torch
    from numerics.optim import adam, nmd
    from theory.norms import BlockMax
    spectral = parse_norm("spectral")
    l2 = parse_norm("l2", "binary")
    return {"ngd": Member(lambda ps: TransformOptimizer(ps, nsd(l2, PowerSchedule(0.9, 0.7)))),
            "muon": Member(lambda ps: TransformOptimizer(ps, nmd(BlockMax((spectral, spectral), (1.0, 1.0)),
                                                                 PowerSchedule(0.5, 0.7), 0.2))),
            "adam": Member(lambda ps: TransformOptimizer(ps, adam(PowerSchedule(0.19, 0.7), 0.2, 0.2, eps=0.0))),
            "sgd": Member(lambda ps: torch.optim.SGD(ps, lr=1.0, momentum=0.5), PowerSchedule(0.5, 0.7),
                          loss_normalized=True)}


def test_a_continued_run_is_the_longer_run_bitwise():
    """NetworkTraining.advance in pieces — some members first, the others later — gives every member
    the iterates, log-losses and records of one straight run, to the last bit (schedules read at the
    members' own step counts, momenta and Adam's moments carried on); members not advanced keep
    their trajectories untouched."""
    from numerics.train_network import NetworkTraining
    X, y = gaussian_clusters(2, 10, 8, 0.1, seed=10003, noise_in_mean_span=True)
    net = TwoLayerNetwork.build("squared_relu", 8, 10)
    init = net.init(3, 0.1)
    straight = train_network(net, X, y, _population(net), 240, init, record=[60, 119, 120, 239, 240])
    run = NetworkTraining(net, X, y, _population(net), init)
    run.advance(120, record=[60, 119, 120])
    run.advance(240, record=[239, 240], names=["muon", "adam"])
    assert run.trajectories["ngd"].steps == [60, 119, 120] and run.step["ngd"] == 120
    run.advance(240, record=[239, 240], names=["ngd", "sgd"])
    for name, tr in straight.items():
        again = run.trajectories[name]
        assert again.status == tr.status == "ok" and again.steps == tr.steps
        assert again.log_loss == tr.log_loss and again.margins == tr.margins
        assert again.log_loss_step[1:] == tr.log_loss_step[1:]
        assert all(np.array_equal(a, b) for pa, pb in zip(again.params, tr.params) for a, b in zip(pa, pb))


def test_members_advanced_together_must_be_at_one_step():
    import pytest
    from numerics.train_network import NetworkTraining
    X, y = gaussian_clusters(2, 5, 4, 0.1, seed=0)
    net = TwoLayerNetwork.build("relu", 4, 5)
    l2 = parse_norm("l2", "binary")
    members = {k: Member(lambda ps: TransformOptimizer(ps, nsd(l2, PowerSchedule(0.5, 0.7)))) for k in "ab"}
    run = NetworkTraining(net, X, y, members, net.init(0, 0.1))
    run.advance(10, record=[10], names=["a"])
    with pytest.raises(ValueError, match="one step"):
        run.advance(20)
    with pytest.raises(ValueError, match="cannot advance to step 5"):
        run.advance(5, names=["a"])


def _stack_free_run(monkeypatch, members, steps, record, **kw):
    """The population with every member stepped alone (``step_member``: no NetworkStack)."""
    import numerics.train_network as tn
    with monkeypatch.context() as m:
        m.setattr(tn.NetworkStack, "of", classmethod(lambda cls, optimizers: None))
        return train_network(members=members, steps=steps, record=record, **kw)


def _same(a, b) -> bool:
    return (a.status == b.status and a.steps == b.steps and a.log_loss == b.log_loss and a.margins == b.margins
            and np.array_equal(a.log_loss_step, b.log_loss_step, equal_nan=True)
            and all(np.array_equal(x, z) for pa, pb in zip(a.params, b.params) for x, z in zip(pa, pb)))


def test_the_trainers_fast_paths_equal_every_member_stepped_alone_bitwise(monkeypatch):
    """Session 6 (issue 24): the trainer's per-step shortcuts — the stacked steepest members' rows
    taken without a copy when they are all the population, one finiteness/range test per step,
    log-loss changes computed only where recorded — leave every member's iterates, log-losses,
    margins and records those of the member stepped alone through ``step_member``, to the last bit,
    including after a member stops (the floor) and the stacked rows become a subset. The comparison
    can fail: one member's schedule 1e-12 larger (relative) moves its records and only its."""
    X, y = gaussian_clusters(2, 6, 6, 0.1, seed=10004, noise_in_mean_span=True)
    net = TwoLayerNetwork.build("squared_relu", 6, 6)
    kw = dict(net=net, X=X, y=y, init=net.init(5, 0.1))
    record = [0, 1, 7, 40, 79, 80]
    fast = train_network(members=_population(net), steps=80, record=record, **kw)
    alone = _stack_free_run(monkeypatch, _population(net), 80, record, **kw)
    assert all(tr.status == "ok" for tr in fast.values())
    assert all(_same(fast[nm], alone[nm]) for nm in fast)
    # only stacked members (their rows are the whole population: passed without a row selection)
    only = {nm: m for nm, m in _population(net).items() if nm in ("ngd", "muon")}
    fast = train_network(members=only, steps=80, record=record, **kw)
    alone = _stack_free_run(monkeypatch, {nm: m for nm, m in _population(net).items() if nm in only}, 80, record, **kw)
    assert all(_same(fast[nm], alone[nm]) for nm in only)
    # a floor reached by some members mid-run: the others continue, still equal
    floor = sorted(tr.log_loss[-1] for tr in fast.values())[1]
    fast = train_network(members=_population(net), steps=80, record=record, log_loss_floor=floor, **kw)
    alone = _stack_free_run(monkeypatch, _population(net), 80, record, log_loss_floor=floor, **kw)
    assert any("floor" in tr.message for tr in fast.values()) and all(_same(fast[nm], alone[nm]) for nm in fast)
    # sabotage: the stacked Muon's schedule 1e-12 larger
    wrong = _population(net)
    from numerics.optim import nmd
    from theory.norms import BlockMax
    spectral = parse_norm("spectral")
    wrong["muon"] = Member(lambda ps: TransformOptimizer(ps, nmd(BlockMax((spectral, spectral), (1.0, 1.0)),
                                                                 PowerSchedule(0.5 * (1 + 1e-12), 0.7), 0.2)))
    off = train_network(members=wrong, steps=80, record=record, **kw)
    alone = _stack_free_run(monkeypatch, _population(net), 80, record, **kw)
    assert not _same(off["muon"], alone["muon"]) and all(_same(off[nm], alone[nm]) for nm in off if nm != "muon")


def test_a_blow_up_is_caught_by_the_one_range_test_and_named():
    """NaN, Inf and beyond-the-overflow-bound parameters each stop their member with its message
    (the single range test lets none of them through; NaN fails it as well), the others run on."""
    import torch
    from numerics.train_network import NetworkTraining
    X, y = gaussian_clusters(2, 4, 4, 0.1, seed=10005)
    net = TwoLayerNetwork.build("relu", 4, 4)
    l2 = parse_norm("l2", "binary")
    members = {k: Member(lambda ps: TransformOptimizer(ps, nsd(l2, PowerSchedule(0.1, 0.7)))) for k in
               ("nan", "inf", "huge", "fine")}
    run = NetworkTraining(net, X, y, members, net.init(0, 0.1))
    run.advance(3, record=[3])
    run.params["nan"][0][0, 0] = math.nan
    run.params["inf"][1][0, 1] = -math.inf
    run.params["huge"][0][1, 1] = 2 * run.overflow_bound
    run.evaluated = {}                                   # re-evaluate at step 3 with the edited parameters
    out = run.advance(6, record=[6])
    assert out["nan"].status == out["inf"].status == out["huge"].status == "error"
    assert "NaN/Inf at step 3" in out["nan"].message and "NaN/Inf at step 3" in out["inf"].message
    assert "left float64's range at step 3" in out["huge"].message
    assert out["fine"].status == "ok" and out["fine"].steps == [3, 6] and run.running == ["fine"]
    assert torch.isfinite(run.params["fine"][0]).all()
