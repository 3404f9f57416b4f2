"""The margin fingerprint (verify.fingerprint), its identification rule (verify.identification) and
the user-file optimizers the command is tested with."""
import math

import numpy as np
import pytest
import torch

from theory.norms import parse_norm
from verify import fingerprint as fpm
from verify.identification import UNDETERMINED, identify, judge_prediction
from verify.optimizer_report import vector_restriction
from verify.spec import load_factory

USER = "tests/verify/user_optimizers"


# -- identification rule -------------------------------------------------------------------------
def test_identify_separation_threshold():
    clear = identify({"a": 0.001, "b": 0.05, "c": 0.3}, threshold=2.0)
    assert clear.identified == "a" and clear.runner_up == "b" and clear.separation == pytest.approx(50)
    close = identify({"a": 0.010, "b": 0.015, "c": 0.3}, threshold=2.0)
    assert close.best == "a" and close.identified == UNDETERMINED
    exact = identify({"a": -1e-9, "b": 0.01}, threshold=2.0)      # clipped at 0: infinitely separated
    assert exact.identified == "a" and math.isinf(exact.separation)



def test_identify_fit_tolerance_rejects_a_family_that_does_not_fit():
    gaps = {"a": 0.3, "b": 0.9, "c": 1.0}
    assert identify(gaps, 2.0, "residual").identified == "a"              # separation 3 alone
    ident = identify(gaps, 2.0, "residual", fit_tolerance=0.13)
    assert ident.identified == UNDETERMINED and "no norm of the family fits" in ident.describe()
    assert "residual 0.3" in ident.describe() and ident.record()["fit_tolerance"] == 0.13
    assert identify({"a": 0.1, "b": 0.9}, 2.0, "residual", fit_tolerance=0.13).identified == "a"

def test_judge_prediction_three_outcomes():
    gaps = {"a": 0.001, "b": 0.0015, "c": 0.3}
    ident = identify(gaps, 2.0)
    assert judge_prediction("c", ident, gaps).status == "failed"
    assert judge_prediction("b", ident, gaps).status == "inconclusive"
    assert judge_prediction("a", ident, gaps).status == "inconclusive"      # a not separated from b
    gaps = {"a": 0.001, "b": 0.01, "c": 0.3}
    assert judge_prediction("a", identify(gaps, 2.0), gaps).status == "verified"


@pytest.mark.parametrize("matrix, vector", [("entrywise:3", "lp:3"), ("max", "lp:inf"), ("fro", "lp:2"),
                                            ("spectral", "lp:2"), ("nuclear", "lp:2"),
                                            ("schatten:3", "lp:2")])
def test_vector_restriction(matrix, vector):
    assert vector_restriction(parse_norm(matrix)).name == vector


# -- user-file optimizers implement their norm's steepest direction ------------------------------
@pytest.mark.parametrize("spec, norm", [("nsd_entrywise3.py:make", "entrywise:3"),
                                        ("nsd_schatten3.py:make", "schatten:3")])
def test_user_files_step_along_the_project_lmo(spec, norm):
    """Two independent implementations of one LMO agree: the user file's step and
    ``theory.norms``' steepest_direction."""
    G = np.random.default_rng(1).standard_normal((4, 6))
    p = torch.zeros(4, 6, dtype=torch.float64, requires_grad=True)
    opt = load_factory(f"{USER}/{spec}")([p])
    opt.param_groups[0]["lr"] = 0.5
    p.grad = torch.from_numpy(G)
    opt.step()
    expected = -0.5 * parse_norm(norm).steepest_direction(G)
    np.testing.assert_allclose(p.detach().numpy(), expected, atol=1e-12)
    other = -0.5 * parse_norm("fro").steepest_direction(G)
    assert np.abs(p.detach().numpy() - other).max() > 1e-3           # not just any normalized step


# -- the probe of the step's degree ---------------------------------------------------------------
@pytest.mark.parametrize("spec, degree", [("torch.optim:SGD", 1.0), (f"{USER}/reference.py:signgd", 0.0),
                                          ("torch.optim:Adam", 0.0), (f"{USER}/nsd_schatten3.py:make", 0.0)])
def test_step_degree(spec, degree):
    problem = fpm.fingerprint_problem("multiclass", 0)
    assert fpm.step_degree(load_factory(spec), problem, problem.param_shape) == pytest.approx(degree, abs=1e-3)


@pytest.mark.parametrize("name, words", [("raises", "factory raised RuntimeError: no optimizer today"),
                                         ("not_an_optimizer", "returned a list, not a torch.optim"),
                                         ("nan_at_once", "NaN")])
def test_step_degree_failures(name, words):
    problem = fpm.fingerprint_problem("binary", 0)
    with pytest.raises(fpm.OptimizerFailure) as err:
        fpm.step_degree(load_factory(f"{USER}/broken.py:{name}"), problem, (1, problem.d))
    assert words in str(err.value) and "\n" not in str(err.value)


# -- margin fingerprints on a small budget --------------------------------------------------------
@pytest.fixture
def short(monkeypatch):
    """1000 steps, one η₀ per decade, and only ℓ1, ℓ2, ℓ∞ (seconds instead of a minute)."""
    monkeypatch.setitem(fpm.SETTINGS["steps"], "quick", 1000)
    monkeypatch.setitem(fpm.SETTINGS["sweep_per_decade"], "quick", 1)
    monkeypatch.setitem(fpm.FAMILY, "binary", ("lp:1", "lp:2", "lp:inf"))


def test_binary_fingerprint_tells_signgd_from_gd(short):
    """A short run suffices on the binary problem for the two most different biases; each run is
    the other's negative control."""
    sign = fpm.margin_fingerprint(load_factory(f"{USER}/reference.py:signgd"), "binary")
    gd = fpm.margin_fingerprint(load_factory("torch.optim:SGD"), "binary")
    assert sign.identified == "lp:inf" and gd.identified == "lp:2"
    assert sign.step_degree == pytest.approx(0.0, abs=1e-6) and gd.step_degree == pytest.approx(1.0)
    assert "/ L(W_t)" in gd.member.describe() and "/ L(W_t)" not in sign.member.describe()
    assert sign.ratios["lp:inf"] > sign.ratios["lp:2"] and gd.ratios["lp:2"] > gd.ratios["lp:inf"]
    assert all(s["margin"] > 0 and s["relative_gap"] <= 1e-6 for s in gd.solutions.values())


@pytest.mark.parametrize("name, status, words", [
    ("diverges", "error", "NaN/Inf at step"),
    ("ascent", "not-separated", "no run of the step-size sweep separated the data"),
    ("raises", "error", "factory raised"),
])
def test_bad_optimizers_give_a_status(short, name, status, words):
    fp = fpm.margin_fingerprint(load_factory(f"{USER}/broken.py:{name}"), "binary")
    assert fp.status == status and words in fp.message and fp.identified == UNDETERMINED
    assert "\n" not in fp.message
    fp.record()                                                     # the report can still be written


def test_recorder_prunes_the_sweep(short):
    """At the pruning checkpoint only the best running members go on (and only within
    prune_factor of the best gap)."""
    from numerics.optim import PowerSchedule
    from numerics.train import Trajectory

    problem = fpm.fingerprint_problem("binary", 0)
    norms = fpm.family("binary")
    solutions = {n.name: fpm.certified_max_margin("binary", 0, n) for n in norms}
    best = solutions["lp:2"].direction
    noise = np.random.default_rng(0).standard_normal(problem.d)
    directions = {"good": best + 0.001 * noise, "close": best + 0.003 * noise,
                  "far": best + 0.5 * noise, "finished": best + 0.001 * noise}

    def recorder(keep=3):
        runs = {k: fpm.MemberRun(1.0, PowerSchedule(1.0)) for k in directions}
        return runs, fpm._Recorder(problem, solutions, {n.name: n for n in norms}, runs, 10.0,
                                   prune_step=50, prune_factor=10.0, prune_keep=keep)

    def trajectories():
        out = {}
        for k, w in directions.items():
            steps = [1, 10] if k == "finished" else [1, 10, 100]
            out[k] = Trajectory(k, steps=steps, params=[s * w for s in steps])
        return out

    runs, rec = recorder()
    stopped = rec(100, trajectories())
    assert stopped == ["far"] and runs["far"].pruned and not runs["close"].pruned   # > 10× the best
    assert recorder(keep=1)[1](100, trajectories()) == ["close", "far"]         # only the best
    assert not runs["finished"].pruned                    # stopped before: not the recorder's to stop
    assert rec(200, trajectories()) == []                 # pruning happens once


def test_the_budget_is_steps_not_cpu_time(short, monkeypatch):
    """The same fingerprint on a machine 10⁴× slower: every step count and number is the same (the
    budget is counted in steps; a CPU-time cap made the report depend on the machine's load). A
    clock that advances 100 s per reading stands for the slow machine; the negative control is a
    recorder that stops on CPU time, as the quick profile's 15 s cap did."""
    monkeypatch.setitem(fpm.SETTINGS["steps"], "quick", 300)
    factory = load_factory(f"{USER}/reference.py:signgd")
    fast = fpm.margin_fingerprint(factory, "binary").record()
    clock = iter(range(0, 10**9, 100))
    monkeypatch.setattr(fpm.time, "process_time", lambda: float(next(clock)))
    slow = fpm.margin_fingerprint(factory, "binary").record()
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}
    assert strip(slow) == strip(fast)
    assert [m["steps"] for m in slow["sweep"]] == [m["steps"] for m in fast["sweep"]]

    class CpuCapped(fpm._Recorder):                       # the old rule: stop every member after 15 s
        def __call__(self, t, trajectories):
            stop = super().__call__(t, trajectories)
            if fpm.time.process_time() > 15.0:
                return [k for k, run in self.members.items() if run.steps and run.steps[-1] == t]
            return stop

    monkeypatch.setattr(fpm, "_Recorder", CpuCapped)
    capped = fpm.margin_fingerprint(factory, "binary").record()
    assert [m["steps"] for m in capped["sweep"]] != [m["steps"] for m in fast["sweep"]]
