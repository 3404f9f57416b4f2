"""Norm registry: grammar, duals, steepest directions, the ordering used by Fan et al. (2025)."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from theory.norms import BlockMax, NormError, parse_norm

MATRIX_NORMS = ["max", "sum", "fro", "spectral", "nuclear", "entrywise:3", "schatten:3",
                "entrywise:1.5", "schatten:4/3"]


@pytest.mark.parametrize("text, canonical", [
    ("max", "entrywise:inf"), ("sum", "entrywise:1"), ("fro", "fro"), ("entrywise:2", "fro"),
    ("schatten:2", "fro"), ("spectral", "schatten:inf"), ("nuclear", "schatten:1"),
    ("entrywise:3", "entrywise:3"), ("Schatten:3", "schatten:3"), ("entrywise:1.5", "entrywise:1.5"),
    ("schatten:4/3", "schatten:4/3")])
def test_canonical_names(text, canonical):
    assert parse_norm(text).name == canonical


def test_vector_names():
    assert [parse_norm(s, "binary").name for s in ["l1", "l2", "linf", "lp:3", "entrywise:3"]] == \
        ["lp:1", "lp:2", "lp:inf", "lp:3", "lp:3"]


@pytest.mark.parametrize("bad", ["schatten:0.5", "lp:0", "foo", "entrywise:", "entrywise:abc",
                                 "entrywise:1e3", "schatten:-2", "entrywise:__import__('os')"])
def test_grammar_rejects(bad):
    with pytest.raises(NormError):
        parse_norm(bad)


def test_schatten_needs_matrix_model():
    with pytest.raises(NormError, match="matrix"):
        parse_norm("spectral", "binary")


def _random(shape, kind, rng):
    G = rng.standard_normal(shape)
    if kind == "ties":
        G = np.round(G)              # many tied entries and zeros
    elif kind == "lowrank":
        G = np.outer(rng.standard_normal(shape[0]), rng.standard_normal(shape[1]))
    elif kind == "zero-rows":
        G[0] = 0.0
    return G


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(MATRIX_NORMS), kind=st.sampled_from(["gauss", "ties", "lowrank", "zero-rows"]),
       seed=st.integers(0, 10_000), shape=st.sampled_from([(3, 5), (5, 3), (4, 4)]))
def test_steepest_direction_attains_the_dual_norm(name, kind, seed, shape):
    norm = parse_norm(name)
    G = _random(shape, kind, np.random.default_rng(seed))
    D = norm.steepest_direction(G)
    dual = norm.dual.value(G)
    assert abs(norm.value(D) - 1.0) <= 1e-10
    assert abs(np.sum(G * D) - dual) <= 1e-10 * max(1.0, dual)


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(MATRIX_NORMS), seed=st.integers(0, 10_000))
def test_dual_norm_is_the_max_over_the_unit_ball(name, seed):
    """‖G‖_* ≥ ⟨G, Δ⟩ for random unit Δ (independent of the oracle)."""
    rng = np.random.default_rng(seed)
    norm = parse_norm(name)
    G = rng.standard_normal((3, 4))
    dual = norm.dual.value(G)
    for _ in range(50):
        D = rng.standard_normal((3, 4))
        assert np.sum(G * D) / norm.value(D) <= dual * (1 + 1e-12)


def test_named_special_cases_agree_with_numpy():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((4, 6))
    s = np.linalg.svd(A, compute_uv=False)
    assert np.isclose(parse_norm("fro").value(A), np.linalg.norm(A))
    assert np.isclose(parse_norm("spectral").value(A), s[0])
    assert np.isclose(parse_norm("nuclear").value(A), s.sum())
    assert np.isclose(parse_norm("max").value(A), np.abs(A).max())      # entrywise, not induced
    assert np.isclose(parse_norm("sum").value(A), np.abs(A).sum())
    assert np.isclose(parse_norm("schatten:3").value(A), np.sum(s**3) ** (1 / 3))
    assert not np.isclose(parse_norm("max").value(A), np.linalg.norm(A, np.inf))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), name=st.sampled_from(MATRIX_NORMS))
def test_ordering_max_le_p_le_sum(seed, name):
    """‖A‖_max ≤ |||A||| ≤ ‖A‖_sum (Fan et al. 2025), hence γ_max ≥ γ_p ≥ γ_sum."""
    A = np.random.default_rng(seed).standard_normal((3, 5))
    v = parse_norm(name).value(A)
    assert parse_norm("max").value(A) <= v * (1 + 1e-12)
    assert v <= parse_norm("sum").value(A) * (1 + 1e-12)


def test_block_norms_are_dual():
    rng = np.random.default_rng(2)
    norm = BlockMax((parse_norm("spectral"), parse_norm("linf", "binary")), (1.0, 0.5))
    g = (rng.standard_normal((3, 4)), rng.standard_normal(5))
    D = norm.steepest_direction(g)
    assert np.isclose(norm.value(D), 1.0)
    assert np.isclose(sum(np.sum(a * b) for a, b in zip(g, D)), norm.dual.value(g))
    Ds = norm.dual.steepest_direction(g)
    assert np.isclose(norm.dual.value(Ds), 1.0)
    assert np.isclose(sum(np.sum(a * b) for a, b in zip(g, Ds)), norm.value(g))


def test_strict_convexity_flags():
    assert [parse_norm(s).strictly_convex for s in ["max", "sum", "fro", "spectral", "nuclear", "schatten:3"]] \
        == [False, False, True, False, False, True]


def test_exponents_are_exact_rationals():
    assert parse_norm("entrywise:1.5").p == sp.Rational(3, 2)


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(MATRIX_NORMS + ["lp:1", "lp:3", "lp:inf"]),
       kind=st.sampled_from(["gauss", "ties", "zero-rows"]), seed=st.integers(0, 10_000))
def test_batched_values_equal_single_values(name, kind, seed):
    norm = parse_norm(name, "binary" if name.startswith("lp:") else "multiclass")
    rng = np.random.default_rng(seed)
    batch = np.stack([_random((3, 4), kind, rng) for _ in range(5)] + [np.zeros((3, 4))])
    if norm.name.startswith("lp:"):
        batch = batch.reshape(len(batch), -1)
    expected = [norm.value(w) for w in batch]
    np.testing.assert_allclose(norm.values(batch), expected, rtol=1e-12, atol=0)


def test_block_weight_distortion_matches_the_sampled_ratios():
    from theory.norms import block_weight_distortion
    spectral, linf = parse_norm("spectral"), parse_norm("linf", "binary")
    a = BlockMax((spectral, linf), (0.25, 1.0))
    b = BlockMax((spectral, linf), (1.0, 0.8))
    rng = np.random.default_rng(0)
    up = down = 0.0
    for _ in range(2000):          # random blocks, some with one block far larger than the other
        scale = 10.0 ** rng.uniform(-3, 3)
        theta = (scale * rng.standard_normal((3, 4)), rng.standard_normal((1, 3)))
        up, down = max(up, a.value(theta) / b.value(theta)), max(down, b.value(theta) / a.value(theta))
    assert np.isclose(block_weight_distortion(a, b), up * down, rtol=1e-6)   # r = (0.25, 1.25): 5
    assert block_weight_distortion(a, BlockMax((spectral, linf), (0.5, 2.0))) == 1.0  # a multiple
    assert block_weight_distortion(a, BlockMax((spectral, spectral), (1.0, 1.0))) is None
    assert block_weight_distortion(a, linf) is None


@pytest.mark.parametrize("bad, message", [
    ("entrywise:1000000", "outside the supported range"), ("schatten:1.0000000001", "1.01 ≤ p ≤ 6"),
    ("entrywise:1.0000000001", "1.01 ≤ p ≤ 6"), ("lp:1.0000000001", "1.01 ≤ p ≤ 6"),
    ("entrywise:1.009", "outside"), ("schatten:61/10", "outside"), ("schatten:3/0", "zero denominator"),
    ("lp:0/0", "zero denominator"), ("entrywise:" + "1" * 10_000, "not a number")])
def test_exponents_outside_the_supported_range(bad, message):
    """Exponents that parse but that the max-margin solvers cannot certify are refused, with the
    range in the message; the message stays one short line whatever the input's length."""
    with pytest.raises(NormError, match=message) as err:
        parse_norm(bad, "binary" if bad.startswith("lp") else "multiclass")
    assert "\n" not in str(err.value) and len(str(err.value)) < 200


@pytest.mark.parametrize("edge, canonical", [("entrywise:1.01", "entrywise:1.01"),
                                             ("schatten:101/100", "schatten:1.01"),
                                             ("lp:6", "lp:6"), ("schatten:6", "schatten:6"),
                                             ("entrywise:1", "entrywise:1"), ("lp:inf", "lp:inf")])
def test_edges_of_the_supported_range_parse(edge, canonical):
    assert parse_norm(edge, "binary" if edge.startswith("lp") else "multiclass").name == canonical


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(MATRIX_NORMS), kind=st.sampled_from(["gauss", "ties", "lowrank", "zero-rows"]),
       seed=st.integers(0, 10_000), shape=st.sampled_from([(3, 5), (5, 3), (4, 4)]))
def test_batched_steepest_directions_equal_single_ones_bit_for_bit(name, kind, seed, shape):
    """The oracle over a leading batch axis (one stacked SVD for Schatten norms) is the single
    oracle's arithmetic: equal to the last bit, a zero matrix included."""
    norm = parse_norm(name)
    rng = np.random.default_rng(seed)
    batch = np.stack([_random(shape, kind, rng) * 10.0 ** rng.uniform(-30, 30) for _ in range(4)]
                     + [np.zeros(shape)])
    expected = np.stack([norm.steepest_direction(g) for g in batch])
    assert np.array_equal(norm.steepest_directions(batch), expected)
    assert not np.array_equal(norm.steepest_directions(batch[::-1]), expected)   # the rows are matched


# -- the mixed-norm oracle (one call per norm family) and its SVD ------------------------------------
from theory.norms import OraclePlan, _svd, steepest_directions  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(names=st.lists(st.sampled_from(MATRIX_NORMS), min_size=1, max_size=8),
       kind=st.sampled_from(["gauss", "ties", "lowrank", "zero-rows"]),
       seed=st.integers(0, 10_000), shape=st.sampled_from([(3, 5), (5, 3), (4, 4)]))
def test_mixed_norm_oracle_equals_each_norm_alone_bit_for_bit(names, kind, seed, shape):
    """``steepest_directions`` over any mix of norms (members grouped by family, in any order,
    contiguous or interleaved; the plan reused across batches) returns each member's own oracle to
    the last bit."""
    norms = [parse_norm(n) for n in names]
    plan = OraclePlan(norms)
    rng = np.random.default_rng(seed)
    for _ in range(2):
        batch = np.stack([_random(shape, kind, rng) * 10.0 ** rng.uniform(-30, 30) for _ in norms])
        expected = np.stack([n.steepest_direction(g) for n, g in zip(norms, batch)])
        assert np.array_equal(plan(batch), expected)
        assert np.array_equal(steepest_directions(norms, batch), expected)


def test_mixed_norm_oracle_comparison_detects_a_swapped_norm():
    """The comparison above can fail: two members' norms exchanged give other directions."""
    norms = [parse_norm(n) for n in ["spectral", "max", "schatten:3", "fro"]]
    batch = np.random.default_rng(1).standard_normal((4, 3, 5))
    expected = np.stack([n.steepest_direction(g) for n, g in zip(norms, batch)])
    swapped = OraclePlan([norms[2], norms[1], norms[0], norms[3]])(batch)
    assert not np.array_equal(swapped[0], expected[0]) and np.array_equal(swapped[3], expected[3])
    with pytest.raises(ValueError, match="batch of 3"):
        OraclePlan(norms)(batch[:3])


def test_svd_is_numpys_svd_bit_for_bit_and_raises_like_it():
    rng = np.random.default_rng(2)
    for shape in [(4, 25, 10), (1, 10, 25), (3, 4, 4), (2, 5, 1)]:
        batch = rng.standard_normal(shape)
        for mine, ref in zip(_svd(batch), np.linalg.svd(batch, full_matrices=False)):
            assert np.array_equal(mine, ref)
    bad = rng.standard_normal((2, 5, 3))
    bad[1, 0, 0] = np.nan
    with pytest.raises(np.linalg.LinAlgError):
        _svd(bad)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.svd(bad, full_matrices=False)


def test_svd_of_an_infinite_entry_raises_instead_of_calling_lapack():
    """This machine's gesdd looped without end on an infinite entry (2026-12-07): the check comes first."""
    bad = np.ones((2, 3, 3))
    bad[1, 0, 2] = np.inf
    with pytest.raises(np.linalg.LinAlgError, match="non-finite"):
        _svd(bad)
