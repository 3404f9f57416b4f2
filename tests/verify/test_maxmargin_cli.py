"""`python -m verify maxmargin` on bad, edge and rescaled inputs (issue 20, items 1 and 4): exit 0 with
a certificate, or exit 2 with one line; never a traceback, never "not separable" for data that an
independent LP (scipy's HiGHS on the explicit constraint rows) separates."""
from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.optimize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.cli import main

_MARGIN = re.compile(r"margin    γ\* = (\S+)  \(certified: γ\* ∈ \[(\S+), (\S+)\]\)")


def _run(args, capsys):
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:   # argparse usage errors exit 2 with one line
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def _save(tmp_path, name="d.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def _separable_binary(seed=10_000, n=40, d=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.where(X @ rng.standard_normal(d) > 0, 1, 0)


def _margin(out: str) -> tuple[float, float, float]:
    match = _MARGIN.search(out)
    assert match, out
    return tuple(float(v) for v in match.groups())


@pytest.mark.parametrize("norm", ["l2", "linf", "l1"])
def test_rescaled_data_keep_their_margin(tmp_path, capsys, norm):
    """Issue 20 item 1 as reported: 40×5 binary separable data times 1e-300 … 1e300 keep
    γ*(cX) = c γ*(X) (the report had "not separable" outside 1e-8 … 1e15 and a linf traceback)."""
    X, y = _separable_binary()
    code, out, _ = _run(["maxmargin", _save(tmp_path, X=X, y=y), "--norm", norm], capsys)
    assert code == 0
    reference = _margin(out)[0]
    for c in (1e-300, 1e-150, 1e-9, 1e-8, 1e20, 1e150, 1e300):
        code, out, err = _run(["maxmargin", _save(tmp_path, "c.npz", X=c * X, y=y), "--norm", norm], capsys)
        assert code == 0, err
        assert _margin(out)[0] / c == pytest.approx(reference, rel=1e-8)


@pytest.mark.parametrize("arrays, norm, extra, message", [
    (lambda X, y: dict(X=np.zeros((40, 0)), y=y), "l2", [], "no features"),
    (lambda X, y: dict(X=X.astype(complex) + 1j, y=y), "l2", [], "X must be real"),
    (lambda X, y: dict(X=np.where(X > 1, np.inf, X), y=y), "l2", [], "NaN/Inf"),
    (lambda X, y: dict(X=np.where(X > 1, np.nan, X), y=y), "linf", [], "NaN/Inf"),
    (lambda X, y: dict(X=X, y=y), "entrywise:1000000", ["--multiclass"], "outside the supported range"),
    (lambda X, y: dict(X=X, y=y), "schatten:1.0000000001", ["--multiclass"], "outside the supported range"),
    (lambda X, y: dict(X=X, y=y), "entrywise:1.0000000001", ["--multiclass"], "1.01 ≤ p ≤ 6"),
    (lambda X, y: dict(X=X, y=y), "lp:1.0000000001", [], "1.01 ≤ p ≤ 6"),
    (lambda X, y: dict(X=X, y=y), "schatten:3/0", ["--multiclass"], "zero denominator"),
    (lambda X, y: dict(X=X, y=y), "l2", ["--tol", "nan"], "--tol"),
    (lambda X, y: dict(X=X, y=y), "l2", ["--tol", "-1"], "--tol"),
    (lambda X, y: dict(X=X, y=y), "l2", ["--tol", "abc"], "--tol"),
])
def test_bad_inputs_one_line(tmp_path, capsys, arrays, norm, extra, message):
    X, y = _separable_binary()
    path = _save(tmp_path, **arrays(X, y))
    code, out, err = _run(["maxmargin", path, "--norm", norm, *extra], capsys)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_one_sample_per_class_is_solved(tmp_path, capsys):
    """One sample per class (k = n = 30, d = 10; before issue 25 the 1000-class version was refused
    as too large): certified, and the bracket contains the margin of the normalized-sample
    classifier W_c = x_c/‖x_c‖ (which separates by Cauchy–Schwarz), so the check can miss."""
    rng = np.random.default_rng(10_000)
    X = rng.standard_normal((30, 10))
    code, out, err = _run(["maxmargin", _save(tmp_path, X=X, y=np.arange(30)), "--norm", "fro"], capsys)
    assert code == 0 and "(ok, solver" in out, out + err
    W = X / np.linalg.norm(X, axis=1, keepdims=True)
    scores = X @ W.T
    rival = np.min(np.where(np.eye(30, dtype=bool), np.inf, np.diag(scores)[:, None] - scores)) / np.linalg.norm(W)
    _, lower, upper = _margin(out)
    assert rival <= upper and lower > rival


@pytest.mark.parametrize("norm", ["entrywise:1.01", "entrywise:6", "schatten:1.01", "schatten:6"])
def test_edges_of_the_exponent_range_are_certified(tmp_path, capsys, norm):
    rng = np.random.default_rng(10_000)
    X = rng.standard_normal((30, 4))
    y = np.argmax(X @ rng.standard_normal((3, 4)).T, axis=1)
    code, out, err = _run(["maxmargin", _save(tmp_path, X=X, y=y), "--norm", norm], capsys)
    assert code == 0 and "(ok, solver" in out, out + err


# ---- fuzz ----------------------------------------------------------------------------------------

def _reference_separable(X: np.ndarray, labels: np.ndarray, multiclass: bool) -> bool:
    """Independent check: is there W with margins ≥ 1 on every sample? (HiGHS LP on rows built here,
    X first divided by its largest entry so that the LP's tolerances apply at unit scale)."""
    X = X / np.abs(X).max()
    classes, y = np.unique(labels, return_inverse=True)
    k, (n, d) = classes.size, X.shape
    if not multiclass:
        rows = np.where(y == 1, 1.0, -1.0)[:, None] * X
    else:
        rows = []
        for i in range(n):
            for c in range(k):
                if c != y[i]:
                    r = np.zeros((k, d))
                    r[y[i]], r[c] = X[i], -X[i]
                    rows.append(r.ravel())
        rows = np.array(rows)
    result = scipy.optimize.linprog(np.zeros(rows.shape[1]), A_ub=-rows, b_ub=-np.ones(len(rows)),
                                    bounds=(None, None), method="highs")
    assert result.status in (0, 2), result.message
    return result.status == 0


_DTYPES = ["float64", "float32", "float16", "int64", "int8", "uint8", "bool", "complex128"]
_LABELS = ["int01", "pm1", "float", "twoint", "multi", "single", "fractional", "string", "bool"]


def _labels(kind: str, n: int, rng) -> np.ndarray:
    if kind == "int01":
        return rng.integers(0, 2, n)
    if kind == "pm1":
        return rng.choice([-1, 1], n)
    if kind == "float":
        return rng.integers(0, 2, n).astype(float)
    if kind == "twoint":
        return rng.choice([3, 70000], n)
    if kind == "multi":
        return rng.integers(0, 4, n)
    if kind == "single":
        return np.full(n, 5)
    if kind == "fractional":
        return rng.integers(0, 2, n) + 0.5 * rng.integers(0, 2, n)
    if kind == "string":
        return rng.choice(["cat", "dog"], n)
    return rng.integers(0, 2, n).astype(bool)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 12), d=st.integers(0, 4),
       ndim=st.sampled_from([2, 2, 2, 2, 1, 3]), dtype=st.sampled_from(_DTYPES),
       labels=st.sampled_from(_LABELS), log_scale=st.floats(-300, 300),
       corrupt=st.sampled_from(["none", "none", "nan", "inf", "short-y", "teacher"]),
       norm=st.sampled_from(["l2", "linf", "l1", "lp:3", "fro", "max", "sum", "spectral", "nuclear",
                             "schatten:3", "entrywise:1.5"]),
       multiclass=st.booleans())
def test_fuzz_npz_contents(tmp_path_factory, capsys, seed, n, d, ndim, dtype, labels, log_scale,
                           corrupt, norm, multiclass):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * 10.0 ** log_scale
    y = _labels(labels, n, rng)
    if corrupt == "teacher" and n and d:    # separable data, so the solvers run to the end
        y = (X @ rng.standard_normal(d) > 0).astype(int) if labels != "multi" else \
            np.argmax(X @ rng.standard_normal((3, d)).T, axis=1)
    if corrupt in ("nan", "inf") and X.size:
        X.flat[rng.integers(X.size)] = np.nan if corrupt == "nan" else -np.inf
    if corrupt == "short-y":
        y = y[: max(n - 1, 0)]
    if ndim == 1:
        X = X.ravel()
    elif ndim == 3:
        X = X[..., None]
    with np.errstate(all="ignore"):
        X = X.astype(dtype)
    path = tmp_path_factory.mktemp("fuzz") / "f.npz"
    np.savez(path, X=X, y=y)
    args = ["maxmargin", path, "--norm", norm] + (["--multiclass"] if multiclass else [])
    code, out, err = _run(args, capsys)
    assert "Traceback" not in err
    if code == 0:
        lower, upper = _margin(out)[1:]
        assert 0 < lower <= upper and "gap" in out
        return
    assert code in (1, 2) and err.count("\n") <= 1, err
    if code == 1:   # only a certificate short of the target gap (out says so) or a failed solver
        assert "did not reach the target gap" in out or err.startswith("error: no max-margin solver")
    if "not linearly separable" in err:
        Xf = np.asarray(X, dtype=float)
        assert np.abs(Xf).max() == 0 or not _reference_separable(
            Xf, np.asarray(y), multiclass or np.unique(y).size > 2), "separable data called non-separable"


def test_unreachable_gap_says_what_is_certified(tmp_path, capsys):
    """A target below the solver's accuracy: exit 1 and the certified bracket and gap are stated."""
    rng = np.random.default_rng(10_000)
    X = rng.standard_normal((18, 4))
    y = np.argmax(X @ rng.standard_normal((3, 4)).T, axis=1)
    code, out, _ = _run(["maxmargin", _save(tmp_path, X=X, y=y), "--norm", "spectral", "--tol", "1e-15"],
                        capsys)
    assert code == 1 and "certified is only γ* ∈ [" in out and "relative gap" in out
    lower, upper = (float(v) for v in re.search(r"γ\* ∈ \[(\S+), (\S+)\] \(relative", out).groups())
    assert 0 < lower <= upper
