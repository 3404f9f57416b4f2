"""The deep-diagonal experiment: derived exponents, the canonical rescaling of a draw, and its
invariance to the scale of the data."""
import numpy as np
import pytest

from verify.experiments import deep_diagonal as exp


def test_derived_exponents_are_the_trace_and_adam_laws():
    for measure, law in (("trace", lambda N: 2 * (N - 1) / N), ("adam", lambda N: (N - 1) / N)):
        for N, (K, kappa) in exp.forms(measure).items():
            assert kappa == pytest.approx(law(N), abs=1e-12) and K > 0


def test_each_derivation_names_its_certificate():
    for rows in exp.exponent_table().values():
        for _, reg in rows:
            assert reg.closed_form is not None and "convex" in reg.certificate


def test_nearest_rival_is_the_depth_with_the_nearest_exponent():
    assert exp.nearest_rival(2) == 3 and exp.nearest_rival(3) == 4 and exp.nearest_rival(4) == 3


@pytest.mark.parametrize("N", exp.DEPTHS)
def test_canonical_instance_has_unit_solution_and_the_target_sharpness(N):
    inst = exp.instance(10000, N)
    w = inst.predictions[N]
    assert np.max(np.abs(w)) == pytest.approx(1.0, rel=1e-9)
    lam = exp.sharpness_at(inst.problem, exp.fibre_minimum_point(w, N))
    assert lam == pytest.approx(exp.SETTINGS.sharpness, rel=1e-9)
    assert np.allclose(inst.problem.Z @ w, inst.problem.y, atol=1e-9)


def test_canonical_instance_does_not_depend_on_the_scale_of_the_draw(monkeypatch):
    """Rescaling Z and y of the raw draw leaves the canonical instance (and so the run) unchanged."""
    base = exp.instance(10001, 3)
    raw = exp.draw

    monkeypatch.setattr(exp, "draw", lambda seed, s=None: (lambda Z, y: (7.0 * Z, 0.01 * y))(*raw(seed, s)))
    scaled = exp.instance(10001, 3)
    assert np.allclose(scaled.problem.Z, base.problem.Z, rtol=1e-9, atol=0)
    assert np.allclose(scaled.problem.y, base.problem.y, rtol=1e-9, atol=0)
    assert scaled.a == pytest.approx(base.a / 7.0, rel=1e-9)


def test_fibre_minimum_point_is_on_the_fibre_with_one_factor_zero():
    w = np.array([0.7, -1.2, 0.0])
    P = exp.fibre_minimum_point(w, 3)
    assert np.allclose(P[0] ** 3 - P[1] ** 3, w) and np.all(np.min(P, axis=0) == 0)


def test_steps_cover_the_rescaled_time():
    s = exp.SETTINGS
    for N in exp.DEPTHS:
        eta = s.eta_for(N)
        for T in s.horizons_for(N):
            assert exp.steps_for(T, eta) * eta**2 * s.delta**2 == pytest.approx(T, rel=1e-3)
    assert exp.SETTINGS.horizons_for(2)[-1] == 3200 and exp.SETTINGS.horizons_for(3) == (200,)


def test_the_derived_horizon_is_the_first_at_which_the_slow_flow_arrives(monkeypatch):
    """slow_flow picks the smallest candidate horizon whose flow is within flow_margin × tolerance of
    the prediction, and the largest (with its distance, for the precondition) when none is; a flow
    stand-in puts the flow at chosen distances."""
    import numerics.manifold_flow as mf

    inst = exp.instance(10001, 2)
    s = exp.SETTINGS
    target = inst.predictions[2]
    far = inst.predictions[3]

    def fake_flow(distances):
        """The flow at distance distances[k] from the prediction at the k-th candidate horizon (the
        integration runs in stages: each call takes the next len(times) − 1 distances)."""
        queue = list(distances)

        def flow(problem, theta0, precond, delta, times, **kw):
            out = [np.array(theta0)]
            for _ in times[1:]:
                d = queue.pop(0)
                w = target + d * (far - target) * np.linalg.norm(target) / np.linalg.norm(far - target)
                out.append(exp.fibre_minimum_point(w, 2))
            return np.array(out)
        return flow

    assert s.horizons_for(2) == (200, 400, 800, 1600, 3200) and s.flow_stage == 800
    monkeypatch.setattr(mf, "integrate_flow", fake_flow([0.3, 0.011, 0.0]))
    got = exp.slow_flow(inst, s)                 # arrives in the first stage: the later one not run
    assert got["horizon"] == 400 and got["distance"] == pytest.approx(0.011, rel=1e-6)
    assert sorted(got["distances"]) == [200, 400, 800]
    monkeypatch.setattr(mf, "integrate_flow", fake_flow([0.5, 0.4, 0.2, 0.05, 0.011]))
    got = exp.slow_flow(inst, s)                 # arrives only in the second stage
    assert got["horizon"] == 3200 and got["distance"] == pytest.approx(0.011, rel=1e-6)
    monkeypatch.setattr(mf, "integrate_flow", fake_flow([0.5, 0.4, 0.2, 0.15, 0.1]))
    got = exp.slow_flow(inst, s)                 # never arrives: the largest, with its distance
    assert got["horizon"] == 3200 and got["distance"] == pytest.approx(0.1, rel=1e-6)
