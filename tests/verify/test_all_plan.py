"""``python -m verify all --plan``: the task plan, its estimated CPU and the wall on N workers from a
cache's recorded task costs, without running anything (``verify.engine_plan``)."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from verify.cli import main
from verify.engine_plan import Plan, PlannedTask, format_plan, plan_from_report, work_ratio
from verify.outcome import Check, Outcome
from verify.tasks import makespan, outcome_data

CLAIMS = "soudry2018 or wager2013 or cao2021"
COSTS = {"soudry2018-gd-l2": 10.0, "wager2013-dropout-ridge": 4.0,
         "cao2021-benign-overfitting-max-margin": 6.0}


def _cache(path: Path, quick=COSTS, full=None) -> str:
    path.mkdir(parents=True, exist_ok=True)
    table = {"quick": dict(quick)}
    if full:
        table["full"] = dict(full)
    (path / "timings.json").write_text(json.dumps(table))
    return str(path)


@pytest.fixture
def nothing_runs(monkeypatch):
    """Any attempt to run a claim, a task or an executor fails the test."""
    import verify.commands.all as all_command
    import verify.executors as executors
    import verify.tasks as tasks

    def refuse(*args, **kwargs):
        raise AssertionError("--plan ran something")
    monkeypatch.setattr(all_command, "run_claims", refuse)
    monkeypatch.setattr(tasks, "run_task", refuse)
    monkeypatch.setattr(executors, "make_executor", refuse)


def test_plan_prints_tasks_cpu_critical_path_and_wall(tmp_path, capsys, nothing_runs):
    cache = _cache(tmp_path / "c")
    code = main(["all", "--plan", "-k", CLAIMS, "--seeds", "0:3", "--jobs", "2", "--cache", cache])
    out = capsys.readouterr().out
    assert code == 0, out
    costs = [10.0] * 3 + [6.0] * 3 + [4.0] * 3               # one task per module and seed
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["soudry2018"], ["wager2013"], ["cao2021"])]
    assert sorted((r[0], int(r[1]), float(r[2])) for r in rows) == sorted(
        (name, seed, cost) for name, cost in (("soudry2018", 10.0), ("wager2013", 4.0), ("cao2021", 6.0))
        for seed in range(3))
    assert "9 tasks" in out and "estimated CPU: 60 s" in out
    assert "critical path (the longest task): soudry2018 seed 0, 10 s" in out
    assert makespan(costs, 2) == 30.0
    assert "estimated wall on 2 workers: 30 s" in out
    main(["all", "--plan", "-k", CLAIMS, "--seeds", "0:3", "--jobs", "4", "--cache", cache])
    out4 = capsys.readouterr().out
    assert f"estimated wall on 4 workers: {makespan(costs, 4):.0f} s" in out4 and makespan(costs, 4) < 30
    assert not list(Path(cache).rglob("seed-*"))              # nothing computed, nothing cached


def test_cached_results_are_replayed_not_planned_unless_refreshed(tmp_path, capsys, nothing_runs):
    from verify.cache import ResultCache

    cache = _cache(tmp_path / "c")
    record = outcome_data(1, Outcome.from_checks([Check("x", 0.0, "<=", 1.0)]), 10.0)
    ResultCache(cache).put("soudry2018-gd-l2", "quick", 1, record)
    assert main(["all", "--plan", "-k", CLAIMS, "--seeds", "0:3", "--cache", cache]) == 0
    out = capsys.readouterr().out
    assert "1 claim-seed results are in the cache" in out and "8 tasks" in out
    assert "estimated CPU: 50 s" in out and "estimated wall on 1 worker: 50 s" in out
    assert main(["all", "--plan", "-k", CLAIMS, "--seeds", "0:3", "--refresh", "--cache", cache]) == 0
    out = capsys.readouterr().out
    assert "in the cache" not in out and "9 tasks" in out and "estimated CPU: 60 s" in out


def test_no_cache_plans_every_task_with_the_default_directory_costs(tmp_path, capsys, monkeypatch, nothing_runs):
    from verify.cache import default_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _cache(default_dir())
    assert main(["all", "--plan", "-k", CLAIMS, "--seeds", "0:2", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert str(default_dir()) in out and "6 tasks" in out and "estimated CPU: 40 s" in out


def test_a_claim_without_a_cost_is_listed_and_left_out_of_the_totals(tmp_path, capsys, monkeypatch, nothing_runs):
    import verify.registry

    monkeypatch.setattr(verify.registry, "declared_seconds", lambda group, profile: math.nan)   # no declaration
    cache = _cache(tmp_path / "c", {k: v for k, v in COSTS.items() if not k.startswith("cao2021")})
    assert main(["all", "--plan", "-k", CLAIMS, "--seeds", "0:2", "--cache", cache]) == 0
    out = capsys.readouterr().out
    assert "6 tasks, 2 without a recorded cost (not in the totals): cao2021 seed 0, cao2021 seed 1" in out
    assert "estimated CPU: 28 s" in out


def test_full_profile_costs_are_recorded_or_extrapolated_from_quick(tmp_path, capsys, nothing_runs):
    factor, how = work_ratio("verify.claims.wager2013", "full")
    assert math.isfinite(factor) and factor >= 1 and how
    cache = _cache(tmp_path / "c", full={"soudry2018-gd-l2": 700.0})
    assert main(["all", "--plan", "-k", "soudry2018 or wager2013", "--profile", "full", "--seeds", "0:1",
                 "--cache", cache]) == 0
    out = capsys.readouterr().out
    soudry = next(line for line in out.splitlines() if line.startswith("soudry2018 "))
    wager = next(line for line in out.splitlines() if line.startswith("wager2013 "))
    assert "700.0" in soudry and "extrapolated" not in soudry           # the recorded full cost
    assert f"{4.0 * factor:.1f}" in wager and "(extrapolated)" in wager  # quick cost × work ratio
    assert "work ratio full/quick" in out and how.split(";")[0] in out


@pytest.mark.parametrize("setup, args, message", [
    ("empty", [], "no recorded task costs in"),
    ("other", [], "has no cost of these claims for the quick profile"),
    ("costs", ["--jobs", "0"], "--jobs must be at least 1"),
    ("costs", ["--json", "x.json"], "--plan runs nothing"),
    ("costs", ["--scheduler", "tcp://127.0.0.1:1"], "--plan runs nothing"),
    ("costs", ["-k", "no-such-claim"], "no claim id matches"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, nothing_runs, setup, args, message):
    root = tmp_path / "c"
    root.mkdir()
    if setup == "other":
        _cache(root, {"fan2025-nsd-max": 100.0})
    elif setup == "costs":
        _cache(root)
    code = main(["all", "--plan", "-k", CLAIMS, "--cache", str(root)] + args)
    captured = capsys.readouterr()
    assert code == 2 and message in captured.err and len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err and not captured.out


def test_the_plan_from_a_report_scales_by_the_work_ratio_and_the_bench_prints_it(tmp_path):
    report = {"environment": {"profile": "quick"}, "seeds": [0, 1],
              "claims": [{"id": "wager2013-dropout-ridge", "task": "verify.claims.wager2013",
                          "per_seed": [{"seed": 0, "seconds": 3.0}, {"seed": 1, "seconds": 5.0},
                                       {"seed": 2, "seconds": 99.0, "cached": True}]}]}
    quick = plan_from_report(report, "quick", [0, 1, 2])
    assert [t.seconds for t in quick.tasks] == [4.0, 4.0, 4.0] and quick.cpu == 12.0
    full = plan_from_report(report, "full", [0])
    assert full.tasks[0].seconds == pytest.approx(4.0 * work_ratio("verify.claims.wager2013", "full")[0])
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    bench = Path(__file__).resolve().parents[2] / "bench" / "bench_engine.py"
    done = subprocess.run([sys.executable, str(bench), "--plan", "--report", str(path), "--seeds", "0:3",
                           "--workers", "1,2"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "estimated CPU: 12 s" in done.stdout and "estimated wall on 2 workers: 8 s" in done.stdout


def test_format_plan_flags_long_tasks_and_says_when_nothing_is_left():
    plan = Plan("full", [0, 1], [PlannedTask("verify.claims.x", 0, 9000.0), PlannedTask("verify.claims.x", 1, 10.0),
                                 PlannedTask("verify.claims.y[e]", 0, math.nan)], "test")
    text = format_plan(plan, [2, 64])
    assert "> 2 h alone" in text and "tasks over 2 h alone: x" in text and "y[e] seed 0" in text
    assert "estimated wall on 2 workers: 9000 s" in text and "estimated CPU: 9010 s" in text
    assert "nothing to run" in format_plan(Plan("quick", [0], [], "test", cached=3), [1])


def test_the_plan_groups_tasks_by_the_recorded_experiment_map_as_the_run_does(tmp_path, capsys, nothing_runs):
    ids = ("rudoler2025-explicit-penalty-recovery", "rudoler2025-dropout-implicit-l2",
           "rudoler2025-dropout-implicit-l2-digits")
    cache = _cache(tmp_path / "c", dict(zip(ids, (2.0, 10.0, 6.0))))
    reads = {ids[0]: ['["penalties"]'], ids[1]: ['["dropout"]'], ids[2]: ['["dropout"]']}
    (Path(cache) / "plan.json").write_text(json.dumps({"quick": {"reads": reads, "experiments": {}}}))
    assert main(["all", "--plan", "-k", "rudoler2025", "--seeds", "0:1", "--jobs", "2", "--cache", cache]) == 0
    out = capsys.readouterr().out
    rows = {tuple(line.split()[:3]) for line in out.splitlines() if line.startswith("rudoler2025[")}
    assert rows == {("rudoler2025[penalties]", "0", "2.0"), ("rudoler2025[dropout]", "0", "16.0")}
    assert "estimated wall on 2 workers: 16 s" in out
