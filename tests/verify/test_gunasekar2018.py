"""gunasekar2018-sd-*: the control is the nearest ℓp of the family (issue 23 item 1): on the claims'
data the ℓ2 and ℓ4 predictions are the closest pair, and the old farthest-norm control (ℓ1 or ℓ∞ for
ℓ2) passed for a run that sits at the ℓ4 solution."""
import dataclasses

import pytest

import verify.experiments.gunasekar2018 as gunasekar
from numerics.optim import PowerSchedule
from numerics.train import Trajectory
from theory.norms import parse_norm
from verify.context import Context
from verify.linear_margins import margin_checks, run_population
from verify.outcome import Outcome

TOL = gunasekar.SETTINGS.quick.gap_tolerance


@pytest.fixture(scope="module")
def family():
    norms = [parse_norm(v, "binary") for v in gunasekar.NORMS.values()]
    return run_population(Context(), "test-gunasekar-family", gunasekar.problem(0), norms, [], 1)


def test_nearest_rival_of_l2_is_l4_and_separated_at_the_quick_tolerance(family):
    sep = {n: family.separation("lp:2", n) for n in ["lp:1", "lp:4", "lp:inf"]}
    assert min(sep, key=sep.get) == "lp:4"
    assert sep["lp:4"] >= 3 * TOL                               # the precondition holds on this draw
    assert sep["lp:1"] > 2 * sep["lp:4"] and sep["lp:inf"] > 2 * sep["lp:4"]


def test_the_family_is_evenly_spaced_on_the_1_over_p_scale():
    """p = 4 is derived (1/4 halfway between ℓ2's 1/2 and ℓ∞'s 0), not searched."""
    inv = [1 / float(v.split(":")[1]) for v in gunasekar.NORMS.values()]
    assert inv == [1.0, 0.5, 0.25, 0.0]


def test_a_run_at_the_l4_solution_passes_the_old_control_and_fails_the_new(family):
    """The ℓ2 claim read on a run that sits at the ℓ4 max-margin direction: its ℓ2 gap is
    the ℓ4 solution's ℓ2 gap, so the claim fails on its own prediction, and the control (ℓ4 gap 0)
    misses too; the old control, read in the farthest norm, passed."""
    W = family.solutions["lp:4"].direction
    steps = [1, 10, 100, 1000, 2000, 4000]
    run = dataclasses.replace(
        family, schedules={"at-l4": PowerSchedule(1.0)},
        trajectories={"at-l4": Trajectory("at-l4", steps, [W * s for s in steps], [0.0] * len(steps))})
    old_far = max(["lp:1", "lp:inf"], key=lambda n: run.relative_gap(W, n))
    assert run.relative_gap(W, old_far) >= 3 * TOL              # old control: passed
    checks, _, _ = margin_checks(run, "at-l4", "lp:2", TOL, -0.5, "1/√t", 0.2, 0.15)
    by_name = {c.name: c for c in checks}
    assert Outcome.from_checks(checks).status == "failed"
    assert not by_name["control_margin_gap"].passed and by_name["control_margin_gap"].value < 1e-6


def test_budget_is_twice_the_horizon_and_statements_render_the_settings():
    """A run confirmed as late as the horizon can still be read at 2·t_c; the statement's numbers
    come from the settings (one source)."""
    from verify.registry import all_claims

    for profile in ("quick", "full"):
        s = gunasekar.SETTINGS.resolve(profile)
        assert s.steps == 2 * s.horizon
    for claim in all_claims():
        if claim.id.startswith("gunasekar2018"):
            assert f"T = {gunasekar.SETTINGS.values('horizon')}" in claim.statement
            assert f"≤ {gunasekar.SETTINGS.values('gap_tolerance')}" in claim.statement
