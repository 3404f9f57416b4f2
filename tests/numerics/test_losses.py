"""The log-space loss against a naive float64 computation, and at scales where the naive one fails."""
import numpy as np
import pytest
import torch

from numerics.losses import log_loss, log_loss_and_margin_gradient, log_loss_and_score_gradient


def _naive(M, loss):
    Mr = M.clone().requires_grad_(True)
    e = torch.exp(-Mr).sum(-1)
    per = torch.log1p(e) if loss == "cross_entropy" else e
    val = torch.log(per.mean(-1))
    (g,) = torch.autograd.grad(val.sum(), Mr)
    return val.detach(), g


@pytest.mark.parametrize("loss", ["cross_entropy", "exponential"])
@pytest.mark.parametrize("scale", [0.1, 3.0])
def test_matches_naive_where_naive_is_accurate(loss, scale):
    M = torch.randn(3, 40, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * scale + 1
    ref_val, ref_grad = _naive(M, loss)
    val, grad = log_loss_and_margin_gradient(M, loss)
    assert torch.allclose(val, ref_val, atol=1e-14)
    assert torch.allclose(grad, ref_grad, atol=1e-15)
    Ma = M.clone().requires_grad_(True)
    (g_auto,) = torch.autograd.grad(log_loss(Ma, loss).sum(), Ma)
    assert torch.allclose(g_auto, ref_grad, atol=1e-15)


def test_layout_option_is_a_transpose():
    M = torch.randn(2, 30, 5, dtype=torch.float64)
    v1, g1 = log_loss_and_margin_gradient(M)
    v2, g2 = log_loss_and_margin_gradient(M.transpose(1, 2).contiguous(), class_dim=-2)
    assert torch.allclose(v1, v2) and torch.allclose(g1, g2.transpose(1, 2))


def test_exponential_loss_is_shift_equivariant_at_any_scale():
    """log L(M + s) = log L(M) − s and ∇ log L is unchanged: exact for the exponential loss, so the
    result at s = 5000 (where exp(−m) is exactly 0 in float64) is checked against s = 0."""
    M = torch.rand(2, 30, 3, dtype=torch.float64) * 5
    v0, g0 = log_loss_and_margin_gradient(M, "exponential")
    v1, g1 = log_loss_and_margin_gradient(M + 5000.0, "exponential")
    assert torch.allclose(v1, v0 - 5000.0, atol=1e-9, rtol=0)
    assert torch.allclose(g1, g0, atol=1e-15)
    _, naive = _naive(M + 5000.0, "exponential")
    assert not torch.isfinite(naive).all() or naive.abs().max() == 0   # what plain autograd gives


def test_cross_entropy_far_out_equals_exponential_direction():
    """For margins ≫ 1, log(1+u) = u(1 − u/2 + …): CE and exp gradients agree to ~e^{−m}."""
    M = torch.rand(1, 20, 3, dtype=torch.float64) * 5 + 800.0
    _, g_ce = log_loss_and_margin_gradient(M)
    _, g_exp = log_loss_and_margin_gradient(M, "exponential")
    assert torch.allclose(g_ce, g_exp, atol=1e-15)
    # log L(M + s) = log L(M) − s for the exponential loss, so its gradient sums to −1: not frozen.
    assert torch.isclose(g_ce.sum(), torch.tensor(-1.0, dtype=torch.float64))


def test_masked_and_misclassified_entries():
    M = torch.tensor([[[1.0, float("inf")], [-3000.0, 2.0]]], dtype=torch.float64)
    val, grad = log_loss_and_margin_gradient(M)
    assert torch.isfinite(val).all() and torch.isfinite(grad).all()
    assert grad[0, 0, 1] == 0 and np.isclose(float(val), np.log(3000.0 / 2), rtol=1e-3)


@pytest.mark.parametrize("loss", ["cross_entropy", "exponential"])
@pytest.mark.parametrize("scale", [1.0, 300.0, 1e5])
def test_score_form_equals_margin_form_at_any_scale(loss, scale):
    """log_loss_and_score_gradient (from class scores) against log_loss_and_margin_gradient on the
    explicit margins, including scales where most shifted exponents sit below the −708 floor."""
    rng = np.random.default_rng(4)
    k, n = 4, 30
    Z = scale * rng.standard_normal((2, k, n))
    y = rng.integers(0, k, n)
    val, grad = log_loss_and_score_gradient(Z, y, loss)
    others = np.arange(k)[None, :] != y[:, None]                          # (n, k)
    for b in range(2):
        M = (Z[b, y, np.arange(n)][:, None] - Z[b].T)[others].reshape(n, k - 1)
        ref_val, g_m = log_loss_and_margin_gradient(M, loss)
        expect = np.zeros((n, k))
        expect[others] = -g_m.ravel()                                      # ∂/∂Z_ci = −∂/∂m_ic
        expect[np.arange(n), y] = g_m.sum(axis=1)                          # ∂/∂Z_yi = Σ_c ∂/∂m_ic
        assert val[b] == pytest.approx(ref_val, rel=1e-13, abs=1e-13)
        assert np.allclose(grad[b].T, expect, rtol=1e-12, atol=1e-300)


def _extended_score_gradient(Z, y):
    """log L and ∂ log L/∂Z (cross-entropy) in 80-bit long double, the textbook formula with the
    log-sum-exp shift: the reference for the float64 pass (its exponent range, to e^{−11355},
    also holds the margins where float64's exp underflows)."""
    Z = Z.astype(np.longdouble)
    n = Z.shape[-1]
    cols = np.arange(n)
    M = Z[:, y, cols][:, None, :] - Z                           # margins; the own entry is masked
    M[:, y, cols] = np.inf
    mu = M.min(axis=1, keepdims=True)
    S = np.exp(mu - M).sum(axis=1, keepdims=True) * np.exp(-mu)  # Σ_c e^{−m_ic}
    per = np.log1p(S)
    total = per.sum(axis=2, keepdims=True)
    G = np.exp(-M) / ((1 + S) * total)                         # ∂ log L/∂Z_ci = −∂/∂m_ic, c ≠ y_i
    G[:, y, cols] = -G.sum(axis=1)
    return np.log(total[:, 0, 0] / n), G


@pytest.mark.parametrize("scale", [0.01, 1.0, 40.0])
def test_score_pass_matches_an_extended_precision_reference(scale):
    """The float64 pass (torch's vectorized exp/log) is as accurate as float64 allows: against the
    long-double reference, within 8 roundings of the inputs' scale (the margins' own rounding,
    eps·|Z|, moves e^{−m} by that much relatively; the old numpy pass measured the same, up to 4.1)
    of the largest gradient entry, and 8 eps of log L, also at a scale where e^{−m} underflows in
    float64. The comparison can fail: the naive float64 gradient (autograd of log of the mean of
    log1p Σ e^{−m}) misses it there (it is all zeros)."""
    rng = np.random.default_rng(7)
    k, n = 10, 60
    Z = scale * rng.standard_normal((3, k, n)) * 20
    y = rng.integers(0, k, n)
    ref_val, ref_grad = _extended_score_gradient(Z, y)
    val, grad = log_loss_and_score_gradient(Z, y)
    eps = np.finfo(float).eps
    top = np.abs(ref_grad).max(axis=(1, 2), keepdims=True)
    assert float(np.max(np.abs(grad - ref_grad) / top)) <= 8 * eps * (1 + np.abs(Z).max())
    assert float(np.max(np.abs(val - ref_val) / np.abs(ref_val))) <= 8 * eps
    _, wrong = log_loss_and_score_gradient(Z, y, "exponential")      # a different loss: must miss
    assert not float(np.max(np.abs(wrong - ref_grad) / top)) <= 8 * eps * (1 + np.abs(Z).max())
    if scale == 40.0:                                                  # float64's naive pass is lost
        cols = np.arange(n)
        others = np.arange(k)[:, None] != y[None, :]                   # (k, n)
        M = torch.tensor(Z[:, y, cols][:, None, :] - Z)
        _, naive = _naive(M.transpose(1, 2)[:, others.T].reshape(3, n, k - 1), "cross_entropy")
        assert not torch.isfinite(naive).all() or naive.abs().max() == 0


def test_half_product_is_exact_so_fused_and_unfused_agree():
    """``_softplus_terms`` writes z − e^z/2 as ``torch.add(z, a, alpha=−0.5)`` (one operation): a
    product by ½ is exact, so fused or not the result is rounded once, as z − 0.5·a is — bitwise,
    at every scale the loss produces. A coefficient whose product is inexact (0.3) does round
    differently, fused against unfused: the comparison can fail."""
    import torch

    from numerics.train import small_tensor_mode

    rng = np.random.default_rng(0)
    z = torch.from_numpy(-np.exp(rng.uniform(-5, 6.5, 200_000)))           # z from −1e-2 to −700
    z = torch.cat([z, torch.from_numpy(rng.uniform(-30, 30, 1000))])
    a = torch.exp(-z.abs())
    with small_tensor_mode():
        assert torch.equal(torch.add(z, a, alpha=-0.5), z - 0.5 * a)
        w = torch.from_numpy(rng.standard_normal(200_001))
        b = torch.from_numpy(rng.standard_normal(200_001))
        assert not torch.equal(torch.add(w, b, alpha=-0.3), w - 0.3 * b)
