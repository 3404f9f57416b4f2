"""The exponent fit of the sharpness fingerprint: vectorized interpolation and recovery."""
import numpy as np
import pytest

from verify import sharpness_fingerprint as sf
from verify.sharpness_fingerprint import _interpolated, fit_exponent

GRID = np.array([0.0, 0.25, 0.5, 0.75])


@pytest.mark.parametrize("e", [0.0, 0.1, 0.3, 0.5, 0.6875, 0.75])
def test_fit_recovers_the_exponent_that_generated_the_mean(e):
    stack = np.random.default_rng(1).standard_normal((len(GRID), 6, 2, 3))
    fine = np.linspace(GRID[0], GRID[-1], 241)
    fitted, obj = fit_exponent(_interpolated(stack, GRID, e), stack, GRID, fine)
    assert fitted == pytest.approx(e, abs=fine[1] - fine[0])
    assert obj.shape == fine.shape and obj.min() == pytest.approx(0.0, abs=1e-20)


def test_array_interpolation_equals_one_at_a_time():
    stack = np.random.default_rng(2).standard_normal((len(GRID), 5, 2, 4))
    es = np.array([0.0, 0.2, 0.25, 0.6, 0.75])
    batch = _interpolated(stack, GRID, es)
    for i, e in enumerate(es):
        j = min(max(int(np.searchsorted(GRID, e)) - 1, 0), len(GRID) - 2)
        w = (e - GRID[j]) / (GRID[j + 1] - GRID[j])
        assert np.allclose(batch[i], (1 - w) * stack[j] + w * stack[j + 1], rtol=0, atol=1e-15)


def test_no_interval_is_printed_as_a_point():
    """A fit pinned at the end of the searched exponents, or a degenerate bootstrap, has no interval:
    the old report printed `e = -0.250 [95% CI -0.250, -0.250]`."""
    from verify.sharpness_fingerprint import SharpnessFingerprint, bootstrap_interval

    interval, note = bootstrap_interval([-0.25] * 50, {0.04: -0.25, 0.02: -0.25}, -0.25, 1.0)
    assert interval is None and "end of the searched exponents" in note
    interval, note = bootstrap_interval([0.3] * 50, {0.04: 0.3, 0.02: 0.3}, -0.25, 1.0)
    assert interval is None and "same exponent" in note
    interval, note = bootstrap_interval([0.2, 0.3, 0.4, 0.5], {0.04: 0.3, 0.02: 0.35}, -0.25, 1.0)
    assert interval is not None and interval[0] < interval[1] and note == ""
    fp = SharpnessFingerprint("outside-family", eta=0.02, replicas=16, exponent=-0.25,
                              per_eta={0.04: -0.25, 0.02: -0.25}, interval=None, interval_note=note or "no interval: x")
    assert "95% CI" not in fp.summary() and "no interval" in fp.summary()
    assert fp.record()["interval"] is None


def _train_reference(factory, problem, theta0, eta, marks, replicas, seed, sabotage=False):
    """The replica loop as it was before numerics.optimizer_step (opt.step(), a copied gradient per
    replica); ``sabotage`` flips the sign of one entry of replica 0's gradient."""
    import torch

    rng = np.random.default_rng(seed)
    P = np.repeat(np.asarray(theta0, float)[None], replicas, axis=0)
    thetas = [torch.tensor(P[r], dtype=torch.float64, requires_grad=True) for r in range(replicas)]
    opts = [factory([th]) for th in thetas]
    for opt in opts:
        for group in opt.param_groups:
            group["lr"] = eta
    out = np.empty((replicas, len(marks)) + P.shape[1:])
    mi = 0
    if marks[0] == 0:
        out[:, 0], mi = P, 1
    with torch.no_grad():
        for k in range(1, marks[-1] + 1):
            noise = sf.SETTINGS["delta"] * (2.0 * rng.integers(0, 2, size=(replicas, problem.n)) - 1.0)
            G = problem.gradient(P, noise)
            for r, (th, opt) in enumerate(zip(thetas, opts)):
                g = G[r].copy()
                if sabotage and r == 0:
                    g.flat[0] = -g.flat[0]
                th.grad = torch.from_numpy(g)
                opt.step()
                P[r] = th.detach().numpy()
            if mi < len(marks) and k == marks[mi]:
                out[:, mi] = P
                mi += 1
    return out


@pytest.mark.parametrize("spec", ["torch.optim:SGD", "torch.optim:Adam",
                                  "tests/verify/user_optimizers/reference.py:signum"])
def test_replica_loop_equals_the_per_replica_reference(spec):
    """Pinned small case (3 replicas, 40 steps): the replica trajectories are bitwise those of the loop
    before the change; the sabotaged reference (one gradient entry's sign flipped) is not."""
    from verify.spec import load_factory

    factory = load_factory(spec)
    problem, theta0 = sf._setting(0)
    marks = [0, 10, 40]
    got = sf._train(factory, problem, theta0, 0.04, marks, 3, 11)
    assert np.array_equal(got, _train_reference(factory, problem, theta0, 0.04, marks, 3, 11))
    assert not np.array_equal(got, _train_reference(factory, problem, theta0, 0.04, marks, 3, 11, sabotage=True))
