import json

from verify.catalogue_markdown import claim_page, gallery_page, index_page, load_report
from verify.registry import get


def test_index_and_claim_pages_come_from_the_registry_and_a_report(tmp_path):
    report = {"claims": [{"id": "soudry2018-gd-l2", "status": "verified",
                          "per_seed": [{"seed": 0, "status": "verified"}, {"seed": 1, "status": "failed"}],
                          "checks": [{"name": "residual_growth", "role": "prediction", "op": "<=",
                                      "tolerance": 0.07, "median": 0.0448}]}]}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    records = load_report(path)
    index = index_page(records, "results/r.json", [0, 1])
    row = next(line for line in index.splitlines() if "soudry2018-gd-l2" in line)
    assert "| verified | verified | **failed** |" in row          # aggregated, then one cell per seed
    page = claim_page(get("soudry2018-gd-l2"), records["soudry2018-gd-l2"], has_notes=True)
    assert "residual_growth" in page and "0.0448" in page and "../claims/soudry2018-gd-l2.md" in page
    assert "## Derivation" in page


def test_gallery_page_says_whether_the_literature_agrees():
    data = {"date": "2026-12-06", "profile": "quick", "command": "python bench/make_gallery.py", "optimizers": [
        {"name": "SGD", "identified": {"binary": "lp:2", "multiclass": "fro"},
         "separation": {"binary": 400.0, "multiclass": 20.0}, "status": "ok",
         "literature": {"binary": "lp:2", "multiclass": "fro", "network": "lp:2", "source": "Soudry et al. 2018"},
         "network": {"identified": "lp:inf", "separation": 3.0}, "sharpness": {"exponent": 0.04, "interval": None},
         "reason": {}}]}
    page = gallery_page(data, "results/g.json")
    assert "binary: agrees" in page and "network: **differs** (predicted lp:2)" in page
    assert "(no interval)" in page
    assert "No gallery results" in gallery_page(None, None)


def test_compact_report_keeps_what_the_pages_read():
    from verify.catalogue_markdown import compact_report

    full = {"seeds": [0], "claims": [{"id": "a", "status": "verified", "details": {"table": [1] * 100},
                                      "per_seed": [{"seed": 0, "status": "verified", "checks": [{"name": "x"}],
                                                    "details": {"big": [0] * 100}}]}]}
    small = compact_report(full)
    assert small["seeds"] == [0] and "details" not in small["claims"][0]
    assert small["claims"][0]["per_seed"] == [{"seed": 0, "status": "verified", "checks": [{"name": "x"}]}]
    assert "details" in full["claims"][0]["per_seed"][0]          # the input is not modified


def test_compact_report_keeps_each_seeds_values_once():
    """A seed's check keeps name, value, passed; a metric that repeats a check's value (NaN included)
    goes, a metric that is not a check's value stays."""
    from verify.catalogue_markdown import compact_report

    nan = float("nan")
    check = {"name": "x", "value": 0.5, "passed": True, "op": "<=", "tolerance": 1.0, "role": "prediction",
             "note": "n"}
    full = {"claims": [{"id": "a", "per_seed": [{"seed": 0, "checks": [check, {"name": "z", "value": nan}],
                                                 "metrics": {"x": 0.5, "z": nan, "y": 2.0, "w": 0.4}}]}]}
    seed = compact_report(full)["claims"][0]["per_seed"][0]
    assert seed["checks"][0] == {"name": "x", "value": 0.5, "passed": True}
    assert seed["metrics"] == {"y": 2.0, "w": 0.4}


def test_claim_page_lists_its_settings_per_profile():
    page = claim_page(get("wager2013-dropout-ridge"), None, has_notes=False)
    assert "## Settings" in page and "| `chains` | 64 | 256 |" in page and "| `rate` | 0.3 | 0.3 |" in page


def test_list_markdown_is_the_generated_catalogue(tmp_path, capsys):
    from verify.cli import main

    report = tmp_path / "r.json"
    report.write_text(json.dumps({"claims": [{"id": "soudry2018-gd-l2", "status": "verified",
                                              "per_seed": [{"seed": 0, "status": "verified"}]}]}))
    assert main(["list", "--markdown", "-k", "soudry2018", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# The catalogue")
    assert "[`soudry2018-gd-l2`](#soudry2018-gd-l2)" in out and "## `soudry2018-gd-l2`" in out
    assert "### Statement" in out and "### Settings" in out and "### Derivation" in out
    assert "fan2025" not in out                                  # -k selects, as in `verify all -k`
    assert main(["list", "-k", "nosuchclaim"]) == 2


def test_list_markdown_bad_report_is_one_line_exit_2(tmp_path, capsys):
    from verify.cli import main

    for text in ("not json", '{"claims": 3}', "[1, 2]"):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        assert main(["list", "--markdown", "-k", "soudry2018", "--report", str(bad)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: cannot read the report") and err.count("\n") == 1
    assert main(["list", "--markdown", "--report", str(tmp_path / "missing.json")]) == 2
    assert main(["list", "--report", "x.json"]) == 2


def test_the_gallery_command_names_one_seed_in_the_seeds_grammar():
    """bench/make_gallery.py ran every optimizer with ``--seeds 0`` (no seed at all: N means 0..N-1),
    and each row ended in error; its command must name exactly seed 0."""
    import importlib.util
    from pathlib import Path

    from verify.commands.optimizer import add_arguments
    from verify.cli import _Parser
    from verify.seeds import resolve_seeds

    path = Path(__file__).resolve().parents[2] / "bench" / "make_gallery.py"
    spec = importlib.util.spec_from_file_location("make_gallery", path)
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    argv = gallery.command("sgd", "quick", Path("r.json"))
    parser = _Parser(prog="optimizer")
    add_arguments(parser)
    args = parser.parse_args(argv[argv.index("optimizer") + 1:])
    assert resolve_seeds(args.seeds, getattr(args, "seed", None), args.profile) == [0]
