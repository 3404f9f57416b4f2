"""The max-margin checks discriminate: the same checks applied to the wrong optimizer fail."""
import pytest

from numerics.datasets import gaussian_classes
from numerics.optim import nsd
from theory.norms import parse_norm
from verify.context import Context
from verify.linear_margins import Optimizer, margin_checks, run_population, transform_member
from verify.outcome import Outcome


@pytest.fixture(scope="module")
def run():
    problem = gaussian_classes(k=3, d=6, per_class=15, noise=0.3, seed=3)
    norms = [parse_norm(s) for s in ["max", "fro", "spectral", "sum"]]
    opts = [Optimizer(f"nsd-{n.name}", n.name, transform_member(lambda s, n=n: nsd(n, s), "nsd"), n.name, 8.0)
            for n in norms[:3]]
    return run_population(Context(), "test", problem, norms, opts, 4000)


def _status(run, key, norm, tol=2e-2):
    checks, details, figures = margin_checks(run, key, norm, tol, -0.5, "1/√t", 0.2, 0.2)
    return Outcome.from_checks(checks).status, {c.name: c for c in checks}


@pytest.mark.parametrize("key, norm", [("nsd-entrywise:inf", "entrywise:inf"), ("nsd-fro", "fro"),
                                       ("nsd-schatten:inf", "schatten:inf")])
def test_each_optimizer_verifies_in_its_own_norm(run, key, norm):
    status, checks = _status(run, key, norm)
    assert status == "verified", checks


@pytest.mark.parametrize("key, norm", [("nsd-entrywise:inf", "fro"), ("nsd-fro", "entrywise:inf"),
                                       ("nsd-schatten:inf", "entrywise:inf"), ("nsd-fro", "entrywise:1")])
def test_the_wrong_pairing_fails(run, key, norm):
    status, checks = _status(run, key, norm)
    assert status == "failed" and not checks["relative_margin_gap"].passed


def test_control_is_a_far_norm(run):
    _, checks = _status(run, "nsd-fro", "fro")
    assert "control" in checks["control_margin_gap"].role and checks["control_margin_gap"].value > 0.1
