"""The network KKT fingerprint (Gronich & Vardi 2026 turned around): the family, the schedule, and the
identification of optimizers whose bias the theorem predicts — two different predictions in the
default run (the check discriminates), the layerwise and hybrid methods in the slow one."""
import importlib.util
import math
from pathlib import Path

import pytest

from theory.schedules import is_admissible
from numerics.kkt_residual import unsupported
from theory.norms import parse_norm
from verify.network_fingerprint import (SETTINGS, NetworkFingerprint, NetworkRun, _finish, eta0_grid, label,
                                        network_fingerprint, network_norm, network_norms, network_task,
                                        scored_norms)

USER = Path(__file__).parent / "user_optimizers"


def _factory(file: str, name: str):
    spec = importlib.util.spec_from_file_location(f"user_{file}", USER / f"{file}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def test_family_schedule_and_grid():
    names = [n.name for n in network_norms().values()]
    assert len(set(names)) == len(names) == 6 and label("lp:inf") == "linf" and label("other") == "other"
    net, X, y, init = network_task(0)
    assert net.degree == 3 and is_admissible(SETTINGS["decay"], net.degree)[0]
    assert [p.shape for p in init] == [(8, 10), (1, 8)] and X.shape == (16, 10)
    grid = eta0_grid("quick")
    assert math.isclose(grid[0], 1e-3) and math.isclose(grid[-1], 10.0) and len(grid) == 13


@pytest.mark.parametrize("name, expected", [("signum", "lp:inf"), ("gradient_descent", "lp:2")])
def test_identifies_the_predicted_norm(name, expected):
    fp = network_fingerprint(_factory("reference", name), "quick", 0)
    assert fp.status == "identified" and fp.identified == expected, fp.summary()
    residuals = fp.run.residuals
    others = min(v for k, v in residuals.items() if k != expected)
    assert residuals[expected] <= 0.05 and others >= SETTINGS["separation_threshold"] * residuals[expected]
    record = fp.record()
    assert record["identified"] == expected and record["identification"]["quantity"] == "residual"
    # GD's step is proportional to the gradient: its lr is divided by the loss
    gd = name == "gradient_descent"
    assert (fp.step_degree > 0.5) == gd and ("/ L(theta_t)" in fp.schedule) == gd


@pytest.mark.parametrize("name, words", [("raises", "the factory raised RuntimeError"),
                                         ("nan_at_once", "NaN/Inf")])
def test_a_broken_optimizer_is_an_error(name, words):
    fp = network_fingerprint(_factory("broken", name), "quick", 0)
    assert fp.status == "error" and words in fp.message and fp.identified == "undetermined"


def test_a_blow_up_is_not_a_limit_direction():
    """Parameters that overflow float64 are reported per run, never scored and never a crash (the
    KKT residual divided by the normalized parameters' norm, 0 after the overflow)."""
    fp = network_fingerprint(_factory("broken", "blowup"), "quick", 0)
    assert fp.identification is None and fp.status != "identified"
    assert any("float64" in r.message and "blow-up" in r.message for r in fp.runs), fp.summary()


def test_an_optimizer_that_never_separates_is_reported():
    fp = network_fingerprint(_factory("broken", "ascent"), "quick", 0)
    assert fp.status == "not-separated" and fp.run is None


def test_only_runs_deep_in_the_separable_phase_are_scored():
    """A run that has only just fit the data is not scored (it still carries its pre-fit direction);
    when no run gets deep — a loss that levels off, as under weight decay — nothing is identified and
    the message gives the deepest run."""
    l2, linf = network_norms()["l2"].name, network_norms()["linf"].name
    deep = NetworkRun(1.0, 500, -300.0, phase="deep", residuals={l2: 0.02, linf: 0.5})
    shallow = NetworkRun(0.1, 10_000, -18.7, log_loss_step=-2e-3, phase="shallow")
    fp = NetworkFingerprint(runs=[shallow, deep])
    _finish(fp)
    assert fp.status == "identified" and fp.identified == l2 and fp.run is deep
    levelled = NetworkRun(10.0, 10_000, -25.3, log_loss_step=1e-6, phase="shallow")
    fp = NetworkFingerprint(runs=[shallow, levelled])
    _finish(fp)
    assert fp.status == "undetermined" and fp.identification is None
    assert "deep" in fp.message and "-25.3" in fp.message and "1e-06" in fp.message
    fp = NetworkFingerprint(runs=[NetworkRun(0.1, 10_000, -1.0, phase="not fit")])
    _finish(fp)
    assert fp.status == "not-separated"
    # a run that jumped through the loss floor (torch's Adamax at η₀ = 10: log L = −1.39e4 in one step)
    # is not scored, and when it is all there is, the report says so
    jumped = NetworkRun(10.0, 1, -1.39e4, phase="jumped", message="the loss jumped through the floor")
    fp = NetworkFingerprint(runs=[jumped, NetworkRun(0.1, 10_000, -1.0, phase="not fit")])
    _finish(fp)
    assert fp.status == "undetermined" and fp.identification is None and "blew up" in fp.message


def test_a_prediction_joins_the_family_in_its_network_form():
    """--predict: entrywise norms of all of θ, Schatten norms as the max over layers; the report says
    whether the network identifies it, or why it cannot be checked."""
    family = network_norms()
    assert network_norm(parse_norm("fro", "multiclass")).name == family["l2"].name
    assert network_norm(parse_norm("spectral", "multiclass")).name == family["layer-spectral-max"].name
    assert network_norm(parse_norm("entrywise:3", "multiclass")).name == family["l3"].name
    _, _, _, init = network_task(0)
    assert unsupported(network_norm(parse_norm("nuclear", "multiclass")), init) is None
    assert "schatten:3" in unsupported(network_norm(parse_norm("schatten:3", "multiclass")), init)
    names = [n.name for n in family.values()]
    norms, predicted, note = scored_norms(parse_norm("nuclear", "multiclass"), init)
    assert predicted == "blockmax[1*schatten:1,1*schatten:1]" and note == ""
    assert [n.name for n in norms] == names + [predicted]                      # joins the family
    norms, predicted, note = scored_norms(parse_norm("entrywise:3", "multiclass"), init)
    assert predicted == "lp:3" and [n.name for n in norms] == names            # already in it
    norms, predicted, note = scored_norms(parse_norm("schatten:3", "multiclass"), init)
    assert predicted == "" and "schatten:3" in note and [n.name for n in norms] == names
    l2 = family["l2"].name
    fp = NetworkFingerprint(runs=[NetworkRun(1.0, 500, -300.0, phase="deep",
                                             residuals={l2: 0.02, "lp:3": 0.3})], predicted="lp:3")
    _finish(fp)
    assert fp.prediction() == "l3: not identified (residual 0.3; best l2)"
    fp.predicted = l2
    assert fp.prediction() == "l2: identified"
    # the closest norm, but the rule does not name it: why is said
    fp = NetworkFingerprint(runs=[NetworkRun(1.0, 500, -300.0, phase="deep",
                                             residuals={l2: 0.3, "lp:3": 0.135})], predicted="lp:3")
    _finish(fp)
    assert fp.prediction() == "l3: the closest norm but not identified (residual 0.135, above the fit tolerance 0.13)"
    fp = NetworkFingerprint(runs=[NetworkRun(1.0, 500, -300.0, phase="deep",
                                             residuals={l2: 0.03, "lp:3": 0.02})], predicted="lp:3")
    _finish(fp)
    assert fp.prediction() == "l3: the closest norm but not identified (residual 0.02, separation 1.5 below 2)"
    assert NetworkFingerprint(prediction_note="no face").prediction() == "not checked on the network: no face"


@pytest.mark.slow
@pytest.mark.parametrize("file, name, identified", [("nsd_entrywise3", "make", True),
                                                    ("reference", "gradient_descent", False)])
def test_a_prediction_is_reported(file, name, identified):
    """--predict entrywise:3: ℓ3 steepest descent is identified as ℓ3 (measured: residual 0.011,
    separation 31); gradient descent is not (its ℓ3 residual 0.34: negative control)."""
    fp = network_fingerprint(_factory(file, name), "quick", 0, predicted=parse_norm("entrywise:3", "multiclass"))
    assert fp.predicted == "lp:3" and "lp:3" in fp.norms
    assert (fp.identified == "lp:3") == identified, fp.summary()
    assert fp.prediction().startswith("l3: identified" if identified else "l3: not identified")


@pytest.mark.slow
@pytest.mark.parametrize("file, name, expected", [
    ("reference", "muon_exact", "blockmax[1*schatten:inf,1*schatten:inf]"),
    ("reference", "muon_signum", "blockmax[1*schatten:inf,1*lp:inf]"),
    ("reference", "ngd_layerwise", "blockmax[1*fro,1*fro]"),
    ("reference", "ngd", "lp:2"),
    ("reference", "adam_eps0", "lp:inf"),
    ("nsd_entrywise3", "make", "lp:3"),
])
def test_identifies_layerwise_hybrid_and_steepest_descent_methods(file, name, expected):
    fp = network_fingerprint(_factory(file, name), "quick", 0)
    assert fp.identified == expected, fp.summary()


@pytest.mark.slow
@pytest.mark.parametrize("file, name, seed", [("nsd_schatten3", "make", 0), ("reference", "nuclear", 5)])
def test_a_norm_outside_the_family_is_not_identified(file, name, seed):
    # negative controls. Steepest descent under the layers' Schatten-3 norms: its KKT residual is
    # smallest in the layers' Frobenius max (0.19), but no norm of the family fits. Per-layer nuclear
    # GD from init seed 5: its run stopped by the step budget just after the fit (log L = −18.7) read
    # 0.128 in the layers' Frobenius max and was named so until only deep runs were scored.
    fp = network_fingerprint(_factory(file, name), "quick", seed)
    assert fp.status == "undetermined" and fp.identification.best_gap > SETTINGS["fit_tolerance"]


def test_a_run_that_stops_before_its_step_size_decays_is_not_scored(monkeypatch):
    """Item 4 of issue 26: a run that reaches the loss floor within a few steps (torch's Adamax,
    sign-momentum at large η₀: 1–22 steps) is not the vanishing-step limit; it needs
    min_steps() = ⌈10^(1/0.7)⌉ = 27 steps (η_T ≤ η₁/10) to be scored, and is reported as `short`."""
    from verify.network_fingerprint import classify, min_steps

    assert min_steps() == 27 and 27 ** -SETTINGS["decay"] <= 0.1 < 26 ** -SETTINGS["decay"]
    params = [[[1.0, -2.0]], [[0.5]]]
    short = NetworkRun(10.0, 22, -350.0, min_margin=3.0)
    assert classify(short, 16, params, -300.0) == "short"
    assert "22 steps" in short.message and "at least 27 steps" in short.message
    assert classify(NetworkRun(1.0, 27, -350.0, min_margin=3.0), 16, params, -300.0) == "deep"
    # a blow-up through the floor is still `jumped`, whatever its length
    assert classify(NetworkRun(10.0, 1, -1.39e4, min_margin=3.0), 16, params, -300.0) == "jumped"
    # sabotaged: without the decade rule the 22-step run would be scored
    monkeypatch.setitem(SETTINGS, "min_decay", 1.0)
    assert classify(NetworkRun(10.0, 22, -350.0, min_margin=3.0), 16, params, -300.0) == "deep"


def test_short_runs_alone_leave_the_fingerprint_undetermined():
    fp = NetworkFingerprint(runs=[NetworkRun(10.0, 3, -350.0, phase="short", message="short run")])
    _finish(fp)
    assert fp.status == "undetermined" and fp.run is None and "fell tenfold" in fp.message
    assert fp.record()["min_steps"] == 27


# -- early stop of runs that cannot fit by the budget --------------------------------------------
def test_out_of_reach_extrapolates_the_most_favourable_fall():
    """A run on the saddle (log L within 1e-6 of log log 2) cannot fall the ~2.8 to the fit level in
    two doublings even at 100× growth per doubling; a run that fell 0.3 over its last doubling can;
    a rising or NaN loss is not judged; growth = inf turns the rule off."""
    from verify.network_fingerprint import fit_level, out_of_reach, reach_checks

    level = fit_level(16)
    assert level == pytest.approx(math.log(math.log(2) / 16))
    assert reach_checks(10_000) == [313, 625, 1250, 2500, 5000]
    plateau = math.log(math.log(2))
    why = out_of_reach(plateau - 1e-6, plateau - 2e-6, 2, level)
    assert "short of the fit level" in why and "100× the one before" in why
    assert out_of_reach(-1.0, -1.3, 2, level) == ""               # 0.3·(100 + 100²) ≫ 1.8
    assert out_of_reach(-1.0, -1.3, 1, level, growth=2.0) != ""  # 0.3·2 < 1.8
    assert out_of_reach(-1.3, -1.0, 4, level) == ""               # rising: not extrapolated
    assert out_of_reach(math.nan, -1.0, 4, level) == ""
    assert out_of_reach(-4.0, -5.0, 1, level) == ""               # already fit
    assert out_of_reach(plateau - 1e-6, plateau - 2e-6, 2, level, growth=math.inf) == ""


def test_early_stop_changes_neither_the_selection_nor_the_fitted_runs(monkeypatch):
    """GD's sweep (1500 steps, one η₀ per decade, init seed 0) with and without the early stop: the
    runs that cannot fit stop early and end "not fit" either way, the selected η₀, its
    identification and every record of a run that fit are the same (bitwise). Sabotaged: growth 1
    (the fall extrapolated without acceleration) stops the η₀ = 1 run on its plateau, before it
    fits: the same comparison catches it."""
    monkeypatch.setitem(SETTINGS["steps"], "quick", 1500)
    monkeypatch.setitem(SETTINGS["eta0"], "quick", (1e-3, 10.0, 1))
    factory = _factory("reference", "gradient_descent")

    def sweep(growth):
        monkeypatch.setitem(SETTINGS["reach"], "growth", growth)
        return network_fingerprint(factory, "quick", 0).record()

    def same(a, b):
        fitted = lambda r: [run for run in r["runs"] if run["phase"] != "not fit"]
        return (a["selected_eta0"], a["identification"], a["status"], fitted(a)) == \
            (b["selected_eta0"], b["identification"], b["status"], fitted(b))

    default = SETTINGS["reach"]["growth"]
    full, early = sweep(math.inf), sweep(default)
    stopped = [r for r in early["runs"] if "out of reach" in r["message"]]
    assert len(stopped) >= 2 and all(r["phase"] == "not fit" and r["steps"] < 1500 for r in stopped)
    assert all(r["phase"] == "not fit" and r["steps"] == 1500
               for r in full["runs"] if r["eta0"] in [s["eta0"] for s in stopped])
    assert early["selected_eta0"] == 1.0 and same(full, early)
    sabotaged = sweep(1.0)
    assert not same(full, sabotaged)
    assert any(r["eta0"] == 1.0 and "out of reach" in r["message"] for r in sabotaged["runs"])
