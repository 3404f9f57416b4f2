"""``--seeds SPEC``: the grammar, its one-line errors, the defaults and the hidden ``--seed`` alias."""
import pytest
from hypothesis import given, strategies as st

from theory.errors import UserInputError
from verify.cli import main
from verify.seeds import MAX_SEEDS, describe, parse_seeds, resolve_seeds


def test_grammar():
    assert parse_seeds("3") == [0, 1, 2]
    assert parse_seeds("100:103") == [100, 101, 102]
    assert parse_seeds("3,7,11") == [3, 7, 11]
    assert parse_seeds("0:2, 1000") == [0, 1, 1000]
    assert parse_seeds(str(MAX_SEEDS)) == list(range(MAX_SEEDS))


@pytest.mark.parametrize("spec, words", [
    ("", "empty"), ("  ", "empty"), ("-1", "non-negative"), ("1.5", "not a non-negative integer"),
    ("abc", "not a non-negative integer"), ("5:3", "reversed"), ("3:3", "empty or reversed"),
    ("0", "names no seed"), (str(MAX_SEEDS + 1), "at most"), (f"0:{MAX_SEEDS + 1}", "at most"),
    ("1,1", "twice"), ("2,", "empty"), ("1:2:3", "not a non-negative integer"), ("3,-4", "non-negative"),
])
def test_bad_specs_are_one_line_errors(spec, words):
    with pytest.raises(UserInputError, match=words) as info:
        parse_seeds(spec)
    assert "\n" not in str(info.value)


@given(st.integers(0, 10**6), st.integers(1, MAX_SEEDS))
def test_range_is_half_open(a, n):
    assert parse_seeds(f"{a}:{a + n}") == list(range(a, a + n))
    assert describe(parse_seeds(f"{a}:{a + n}")) == (str(a) if n == 1 else f"{a}-{a + n - 1}")


@given(st.lists(st.integers(0, 10**9), min_size=2, max_size=30, unique=True))
def test_comma_list_keeps_order(seeds):
    assert parse_seeds(",".join(map(str, seeds))) == seeds


def test_defaults_and_alias():
    assert resolve_seeds(None, None, "quick") == [0, 1, 2]
    assert resolve_seeds(None, None, "full") == list(range(10))
    assert resolve_seeds(None, 7, "quick") == [7]
    assert resolve_seeds("2", None, "full") == [0, 1]
    with pytest.raises(UserInputError, match="not both"):
        resolve_seeds("2", 1, "quick")
    with pytest.raises(UserInputError, match="non-negative"):
        resolve_seeds(None, -3, "quick")


@pytest.mark.parametrize("argv", [
    ["all", "--seeds", "-1"], ["all", "--seeds", ""], ["all", "--seeds", "4:2"], ["all", "--seeds", "x"],
    ["all", "--seeds", "1001"], ["run", "wager2013-dropout-ridge", "--seeds", "2.5"],
    ["all", "--jobs", "0"], ["all", "--jobs", "-1"], ["all", "--seed", "-2"],
    ["all", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:9"], ["all", "--no-cache", "--refresh"],
    ["all", "--seeds", "2", "--seed", "1"],
])
def test_cli_rejects_bad_engine_options_in_one_line(argv, capsys):
    assert main(argv + ["-k", "no-such-claim"] if argv[0] == "all" else argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err
    assert "no claim id matches" not in err          # the option is named, not the -k pattern
