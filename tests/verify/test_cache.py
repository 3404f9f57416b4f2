"""The result cache: JSON entries keyed by claim, profile, seed and package source; NaN and inf kept;
corrupt entries recomputed; an unwritable directory is a warning; an interrupted run resumes; the
summary marks cached rows."""
import json
import math
import threading

from theory.derivation import Derivation
from verify.cache import ResultCache, source_hash
from verify.outcome import Check, Outcome
from verify.registry import Claim
from verify.runner import run_claims
from verify.tasks import outcome_data


def _claim(cid, check):
    return Claim(id=cid, title=cid, source="Test 2026", section="9 Test", statement="s",
                 check=check, derivation=lambda: Derivation("d"))


class Counting:
    def __init__(self, value=0.25):
        self.calls, self.value = [], value

    def __call__(self, ctx):
        self.calls.append(ctx.seed)
        return Outcome.from_checks([Check("gap", self.value + ctx.seed, "<=", 10.0)],
                                   metrics={"inf": float("inf"), "nan": float("nan")})


def test_roundtrip_keeps_every_number_and_is_keyed_by_source(tmp_path):
    cache = ResultCache.open(tmp_path, source="a" * 64)
    rec = outcome_data(3, Counting(0.1 + 0.2)(type("C", (), {"seed": 3})()), 1.5)
    cache.put("c-1", "quick", 3, rec)
    back = cache.get("c-1", "quick", 3)
    assert back["checks"] == rec["checks"] and back["checks"][0]["value"] == 0.1 + 0.2 + 3
    assert back["metrics"]["inf"] == math.inf and math.isnan(back["metrics"]["nan"])
    entry = json.loads(cache.path("c-1", "quick", 3).read_text())     # JSON text, nothing to unpickle
    assert entry["key"] == {"claim": "c-1", "profile": "quick", "seed": 3, "source": "a" * 64}
    assert cache.get("c-1", "full", 3) is None and cache.get("c-1", "quick", 4) is None
    assert ResultCache.open(tmp_path, source="b" * 64).get("c-1", "quick", 3) is None
    assert ResultCache.open(tmp_path, refresh=True, source="a" * 64).get("c-1", "quick", 3) is None
    assert [p.name for p in cache.path("c-1", "quick", 3).parent.iterdir()] == ["c-1.json"]  # no temp left
    assert len(source_hash()) == 64


def test_error_outcomes_are_not_cached(tmp_path):
    cache = ResultCache.open(tmp_path, source="a" * 64)
    cache.put("c", "quick", 0, outcome_data(0, Outcome.error("boom"), 0.1))
    assert cache.get("c", "quick", 0) is None


def test_second_run_replays_from_the_cache_and_marks_cached_rows(tmp_path, capsys):
    check = Counting()
    claims = [_claim("c-a", check)]
    first = tmp_path / "1.json"
    second = tmp_path / "2.json"
    assert run_claims(claims, seeds=[0, 1], cache_dir=str(tmp_path / "c"), json_path=str(first)) == 0
    assert check.calls == [0, 1]
    capsys.readouterr()
    assert run_claims(claims, seeds=[0, 1, 2], cache_dir=str(tmp_path / "c"), json_path=str(second)) == 0
    assert check.calls == [0, 1, 2]                          # only the new seed ran
    out = capsys.readouterr().out
    assert "2/3" in out.splitlines()[0]                       # the row says 2 of 3 seeds were cached
    a, b = (json.loads(p.read_text())["claims"][0] for p in (first, second))
    assert [p["checks"] for p in a["per_seed"]] == [p["checks"] for p in b["per_seed"][:2]]
    assert [p["cached"] for p in b["per_seed"]] == [True, True, False] and b["cached_seeds"] == 2
    # --refresh recomputes everything
    run_claims(claims, seeds=[0], cache_dir=str(tmp_path / "c"), refresh=True)
    assert check.calls == [0, 1, 2, 0]


def test_corrupt_or_truncated_entries_are_recomputed_and_said_so(tmp_path, capsys):
    check = Counting()
    claims = [_claim("c-a", check)]
    run_claims(claims, seeds=[0, 1], cache_dir=str(tmp_path))
    cache = ResultCache.open(tmp_path)
    p0, p1 = cache.path("c-a", "quick", 0), cache.path("c-a", "quick", 1)
    p0.write_text(p0.read_text()[: len(p0.read_text()) // 2])              # truncated
    entry = json.loads(p1.read_text())
    entry["record"]["seed"] = 7                                            # well-formed, wrong
    p1.write_text(json.dumps(entry))
    capsys.readouterr()
    assert run_claims(claims, seeds=[0, 1], cache_dir=str(tmp_path)) == 0
    err = capsys.readouterr().err
    assert check.calls == [0, 1, 0, 1]
    assert err.count("is corrupt") == 2 and "recomputing it" in err and "Traceback" not in err
    assert cache.get("c-a", "quick", 0) is not None                       # rewritten whole


def test_unwritable_cache_directory_is_a_warning(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    check = Counting()
    assert run_claims([_claim("c-a", check)], seeds=[0], cache_dir=str(blocker / "cache")) == 0
    err = capsys.readouterr().err
    assert "not writable" in err and "running without a cache" in err and len(err.strip().splitlines()) == 1


def test_an_interrupted_run_resumes(tmp_path):
    done = Counting()
    state = {"interrupt": True}

    def stops(ctx):
        if state["interrupt"] and ctx.seed == 1:
            raise KeyboardInterrupt
        return done(ctx)

    claims = [_claim("c-a", done), _claim("c-b", stops)]
    assert run_claims(claims, seeds=[0, 1], cache_dir=str(tmp_path)) == 130
    assert done.calls == [0, 1, 0]                         # c-a on both seeds, c-b on seed 0
    state["interrupt"] = False
    assert run_claims(claims, seeds=[0, 1], cache_dir=str(tmp_path)) == 0
    assert done.calls == [0, 1, 0, 1]                      # only c-b's seed 1 ran again


def test_concurrent_writers_never_tear_an_entry(tmp_path):
    cache = ResultCache.open(tmp_path, source="a" * 64)
    records = [outcome_data(0, Outcome.from_checks([Check("gap", float(i), "<=", 1e9,
                                                          note="x" * 20000)]), 0.1) for i in range(2)]
    errors = []

    def write(rec):
        for _ in range(40):
            cache.put("c", "quick", 0, rec)

    def read():
        for _ in range(200):
            try:
                rec = cache.get("c", "quick", 0)
            except Exception as exc:     # pragma: no cover - the failure this test looks for
                errors.append(exc)
            else:
                if rec is not None and rec not in records:
                    errors.append(rec)

    threads = [threading.Thread(target=write, args=(r,)) for r in records] + [threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [p.name for p in cache.path("c", "quick", 0).parent.iterdir()] == ["c.json"]


WRITER = """
import sys
from verify.cache import ResultCache
from verify.outcome import Check, Outcome
from verify.tasks import outcome_data

cache = ResultCache(sys.argv[1], source="b" * 64)
i = int(sys.argv[2])
record = outcome_data(0, Outcome.from_checks([Check("gap", float(i), "<=", 1e9, note="x" * 50000)]), 0.1)
for n in range(60):
    cache.put("c", "quick", 0, record)
    cache.save_timings("quick", {f"c{i}": float(n)})
    cache.save_plan("quick", {f"c{i}": [f"k{n}"]}, {f"k{n}": 1.0})
"""


def test_two_processes_sharing_a_cache_never_tear_an_entry(tmp_path):
    """Two runs writing one entry, the costs and the plan at once (separate processes): every read
    is a whole record of one of them, and the cost files stay JSON (an update may be lost)."""
    import subprocess
    import sys

    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "c"), str(i)]) for i in (1, 2)]
    import io

    warnings = io.StringIO()
    cache = ResultCache(tmp_path / "c", source="b" * 64, stream=warnings)
    seen = set()
    while any(p.poll() is None for p in procs):
        rec = cache.get("c", "quick", 0)
        if rec is not None:
            seen.add(rec["checks"][0]["value"])
        assert isinstance(cache.timings("quick"), dict) and isinstance(cache.plan("quick")[0], dict)
    assert [p.wait() for p in procs] == [0, 0]
    assert seen <= {1.0, 2.0} and warnings.getvalue() == ""     # never a torn (corrupt) entry
    assert cache.get("c", "quick", 0)["checks"][0]["value"] in (1.0, 2.0)
    assert json.loads((tmp_path / "c" / "timings.json").read_text())["quick"]
    assert not list((tmp_path / "c").rglob("*.tmp"))          # no temporary file left behind
