import dataclasses
import json
from dataclasses import dataclass

import pytest

from theory.errors import UserInputError
from verify.context import Context
from verify.experiments.settings import Profiled, Settings, experiment, fmt


@dataclass(frozen=True)
class Inner(Settings):
    chains: int = Profiled(quick=64, full=256)
    epochs: tuple = (1, 2)
    eta: float = 5e-3


@dataclass(frozen=True)
class Outer(Settings):
    n: int = Profiled(quick=1000, full=2000)
    etas: tuple = Profiled(quick=(5e-3, 5e-2), full=(5e-3, 2e-2, 5e-2))
    tolerance: float = 1e-9
    inner: Inner = Inner()


def test_resolve_gives_plain_values_per_profile():
    s = Outer()
    q, f = s.resolve("quick"), s.resolve("full")
    assert (q.n, q.etas, q.tolerance, q.inner.chains, q.inner.eta) == (1000, (5e-3, 5e-2), 1e-9, 64, 5e-3)
    assert (f.n, f.etas, f.inner.chains) == (2000, (5e-3, 2e-2, 5e-2), 256)
    assert type(q) is Outer and type(q.inner) is Inner
    for obj in (q, q.inner):
        assert not any(isinstance(getattr(obj, x.name), Profiled) for x in dataclasses.fields(obj))
    assert q.resolve("full") == q          # idempotent: resolved values stay
    assert s.quick == q and s.full == f


def test_settings_are_frozen_hashable_and_json_plain():
    q = Outer().quick
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.n = 3
    assert hash(q) == hash(Outer().quick)
    json.dumps(dataclasses.asdict(q))      # the cache keys experiments by these


def test_overrides_and_unknown_profile():
    s = Outer(n=Profiled(quick=10, full=20), tolerance=1e-6)
    assert s.resolve("quick").n == 10 and s.resolve("full").tolerance == 1e-6
    with pytest.raises(UserInputError):
        s.resolve("medium")


def test_describe_renders_both_profiles_from_one_source():
    s = Outer()
    assert s.describe("n") == "n = 1000 (full: 2000)"
    assert s.describe("tolerance") == "tolerance = 1e-09"
    assert s.describe("etas") == "etas = {0.005, 0.05} (full: {0.005, 0.02, 0.05})"
    assert s.text("n", "full") == "2000"
    assert s.values("n") == "1000 (full: 2000)" and s.values("tolerance") == "1e-09"
    assert s.profiled() == ("n", "etas", "inner")
    assert s.describe().endswith("inner.chains = 64 (full: 256), inner.epochs = {1, 2}, inner.eta = 0.005")
    assert fmt(((10, 250), (40, 1000))) == "{(10, 250), (40, 1000)}"
    assert fmt(True) == "True" and fmt(3) == "3" and fmt(2.5e-4) == "0.00025"


def test_context_and_experiment_resolve_by_profile():
    def run(settings, seed):
        return {"n": settings.n, "seed": seed}

    exp = experiment("toy", run, Outer())
    assert exp.quick == Outer().quick and exp.full == Outer().full
    assert exp.key("full", 3)["settings"]["n"] == 2000
    ctx = Context(profile="full", seed=3)
    assert ctx.settings(Outer()).n == 2000
    assert ctx.experiment(exp) == {"n": 2000, "seed": 3}


@pytest.mark.parametrize("module", ["ali2019", "cao2021", "frei2023", "label_noise", "lyu2020", "rudoler2025",
                                    "slutzky2025", "soudry2018", "wager2013", "wang2023", "woodworth2020"])
def test_every_experiments_settings_resolve_to_plain_json(module):
    """The settings objects of the moved experiments: frozen, both profiles resolve to plain values that
    a cache key can hold."""
    import importlib

    mod = importlib.import_module(f"verify.experiments.{module}")
    found = [v for v in vars(mod).values() if isinstance(v, Settings)]
    assert found
    for settings in found:
        for profile in ("quick", "full"):
            resolved = settings.resolve(profile)
            json.dumps(dataclasses.asdict(resolved))
            assert "Profiled" not in repr(resolved)
