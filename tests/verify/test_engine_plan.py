"""The planner: a task is the claims that read one experiment × seed (learned from the tasks'
recorded reads), the experiment runs once per seed, the longest tasks start first, and a plan that
changes the grouping changes no number."""
import json
import math
import sys

import pytest

from verify import registry
from verify.cache import ResultCache
from verify.registry import all_claims, declared_seconds, group_of
from verify.runner import run_claims
from verify.tasks import Task, TaskContext, components, key_text, makespan, plan_tasks, run_task, schedule

SHARED_MODULE = '''
import numpy as np
from theory.derivation import Derivation
from verify.outcome import Check, Outcome
from verify.registry import Claim, register

CALLS = []


def population(ctx):
    def compute():
        CALLS.append(ctx.seed)
        return np.random.default_rng(ctx.seed).standard_normal(200)
    return ctx.shared(("plan-test-population", "paper"), compute)


def check_mean(ctx):
    return Outcome.from_checks([Check("mean", abs(float(population(ctx).mean())), "<=", 1.0)])


def check_sd(ctx):
    return Outcome.from_checks([Check("sd", float(population(ctx).std()), ">=", 0.5)])


def check_alone(ctx):
    value = float(np.random.default_rng(ctx.seed + 7).standard_normal(20).sum())
    return Outcome.from_checks([Check("alone", abs(value) / 100, "<=", 1.0)])


for cid, fn in (("plan-test-mean", check_mean), ("plan-test-sd", check_sd), ("plan-test-alone", check_alone)):
    register(Claim(cid, cid, "Test 2026", "9 Test", "s", fn, lambda: Derivation("d")))
'''


@pytest.fixture
def shared_module(tmp_path, monkeypatch):
    """A claim module registering three claims (two read one experiment), in a private registry."""
    all_claims()                     # the catalogue's own claims registered in the real registry first
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_MODULES", dict(registry._MODULES))
    (tmp_path / "plan_test_claims.py").write_text(SHARED_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("plan_test_claims", None)
    import plan_test_claims
    yield plan_test_claims
    sys.modules.pop("plan_test_claims", None)


def _values(path):
    report = json.loads(path.read_text())
    return {(c["id"], p["seed"], k["name"]): k["value"]
            for c in report["claims"] for p in c["per_seed"] for k in p["checks"]}


def test_the_task_context_records_what_each_claim_reads(shared_module):
    claims = [registry.get(c) for c in ("plan-test-mean", "plan-test-sd", "plan-test-alone")]
    (task,) = plan_tasks(claims, "quick", [5])
    result = run_task(task.spec())
    key = key_text(("plan-test-population", "paper"))
    assert result["reads"] == {"plan-test-mean": [key], "plan-test-sd": [key], "plan-test-alone": []}
    assert set(result["experiments"]) == {key} and result["experiments"][key] >= 0
    assert shared_module.CALLS == [5]                     # computed once for both readers


def test_learned_reads_split_a_module_into_experiment_tasks_with_the_same_numbers(shared_module, tmp_path):
    claims = [registry.get(c) for c in ("plan-test-mean", "plan-test-sd", "plan-test-alone")]
    cache = tmp_path / "cache"
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    assert run_claims(claims, seeds=[0, 1], cache_dir=str(cache), json_path=str(first)) == 0
    assert shared_module.CALLS == [0, 1]
    assert len(plan_tasks(claims, "quick", [0, 1])) == 2           # unknown reads: one module task per seed
    reads, costs = ResultCache(cache).plan("quick")
    tasks = plan_tasks(claims, "quick", [0, 1], reads=reads)
    assert sorted(t.claim_ids for t in tasks) == [("plan-test-alone",)] * 2 + [("plan-test-mean", "plan-test-sd")] * 2
    assert {t.group for t in tasks} == {"plan_test_claims[plan-test-population:paper]",
                                        "plan_test_claims[plan-test-alone]"}
    assert run_claims(claims, seeds=[0, 1], cache_dir=str(cache), refresh=True, json_path=str(second)) == 0
    assert shared_module.CALLS == [0, 1, 0, 1]                      # still once per seed
    assert _values(first) == _values(second)                        # the grouping changes no number
    tasks_of = {c["id"]: c["task"] for c in json.loads(second.read_text())["claims"]}
    assert tasks_of["plan-test-mean"] == tasks_of["plan-test-sd"] != tasks_of["plan-test-alone"]


def test_a_module_with_a_claim_of_unknown_reads_stays_one_task():
    claims = [c for c in all_claims() if group_of(c) == "verify.claims.li2025"]
    ids = [c.id for c in claims]
    reads = {cid: [] for cid in ids[1:]}                # the first claim never ran
    assert len(plan_tasks(claims, "quick", [0], reads=reads)) == 1
    reads[ids[0]] = []
    assert len(plan_tasks(claims, "quick", [0], reads=reads)) == len(ids)
    reads.update({ids[0]: ["k"], ids[1]: ["k", "j"], ids[2]: ["j"]})
    tasks = plan_tasks(claims, "quick", [0, 3], reads=reads)
    assert tasks[0].claim_ids == tuple(ids[:3]) and tasks[0].experiments == ("k", "j")
    assert len(tasks) == 2 * (len(ids) - 2) and [t.seed for t in tasks[:2]] == [0, 3]


def test_components_link_claims_through_any_shared_experiment():
    reads = {"a": ["x"], "b": ["y"], "c": ["x", "y"], "d": [], "e": ["z"]}
    assert components(list("abcde"), reads) == [["a", "b", "c"], ["d"], ["e"]]
    assert components(list("ab"), {}) == [["a"], ["b"]]


def test_key_text_is_the_same_in_every_process():
    class Norm:
        pass

    assert key_text(("pop", 3, 0.5, ("a", 2))) == '["pop", 3, 0.5, ["a", 2]]'
    assert "0x" not in key_text(("pop", Norm()))


def test_longest_first_on_several_workers_and_unknown_costs_first():
    tasks = [Task(f"g{i}", None, (f"c{i}",), "quick", 0, estimate=e)
             for i, e in enumerate([5.0, 50.0, math.nan, 20.0])]
    assert [t.group for t in schedule(tasks, 2)] == ["g2", "g1", "g3", "g0"]
    assert schedule(tasks, 1) == tasks                   # in process: catalogue order


def test_makespan_of_the_longest_first_schedule():
    assert makespan([5, 4, 3, 3, 1], 2) == 8             # {5, 3} {4, 3, 1}
    assert makespan([3, 3, 2, 2, 2], 2) == 7             # greedy {3, 2, 2} {3, 2}; the optimum is 6 (≤ 4/3)
    assert makespan([100, 1, 1], 64) == 100              # the longest task bounds any schedule
    assert makespan([3.0] * 10, 1) == 30


def test_the_planner_orders_by_recorded_costs(monkeypatch):
    """With recorded costs (here read from ``costs_dir``, as under ``--no-cache``) the cheap
    module's task goes last on two workers (catalogue order puts it first); without any, catalogue
    order."""
    from verify import executors, runner

    order = []

    class Recording:
        workers, description = 2, "recording"

        def run(self, tasks, on_record=None, on_start=None):
            for task in tasks:
                order.append(task.group)
                yield task, run_task(task.spec()), None

        def close(self):
            pass

    monkeypatch.setattr(executors, "make_executor", lambda *a, **k: Recording())
    claims = [c for c in all_claims() if c.id in ("wager2013-dropout-ridge", "cao2021-benign-overfitting-max-margin")]
    monkeypatch.setattr(runner, "plan_tasks", lambda *a, **k: [
        Task(group_of(c), None, (c.id,), "quick", 0, claims=(_stub(c),)) for c in claims])
    monkeypatch.setattr(ResultCache, "timings", lambda self, profile: {
        "cao2021-benign-overfitting-max-margin": 9.0, "wager2013-dropout-ridge": 1.0})
    monkeypatch.setattr(ResultCache, "plan", lambda self, profile: ({}, {}))
    run_claims(claims, seeds=[0], jobs=2, costs_dir="/nonexistent")
    assert order == ["verify.claims.cao2021", "verify.claims.wager2013"]
    order.clear()
    run_claims(claims, seeds=[0], jobs=2)                  # no costs: catalogue order
    assert order == ["verify.claims.wager2013", "verify.claims.cao2021"]


def _stub(claim):
    """The claim with a check that returns at once (ordering only)."""
    from dataclasses import replace

    from verify.outcome import Check, Outcome
    return replace(claim, check=lambda ctx: Outcome.from_checks([Check("x", 0.0, "<=", 1.0)]))


def test_declared_seconds_per_seed(monkeypatch):
    import types

    mod = types.ModuleType("verify.experiments.plan_declared")
    mod.SECONDS_PER_SEED = {"quick": 12.5, "full": 900}
    monkeypatch.setitem(sys.modules, "verify.experiments.plan_declared", mod)
    assert declared_seconds("verify.claims.plan_declared", "full") == 900.0
    assert declared_seconds("verify.claims.plan_declared", "quick") == 12.5
    assert math.isnan(declared_seconds("verify.claims.plan_undeclared", "quick"))


def test_recorded_plan_roundtrip_and_a_corrupt_plan_file_counts_as_empty(tmp_path):
    cache = ResultCache.open(tmp_path)
    cache.save_plan("quick", {"a": ["k"]}, {"k": 3.0, "j": math.nan})
    cache.save_plan("quick", {"b": []}, {})
    assert cache.plan("quick") == ({"a": ["k"], "b": []}, {"k": 3.0})
    assert cache.plan("full") == ({}, {})
    (tmp_path / "plan.json").write_text('{"quick": {"reads": [')
    assert cache.plan("quick") == ({}, {})
    cache.save_timings("quick", {"a": 2.0, "b": math.nan})
    assert cache.timings("quick") == {"a": 2.0}
