"""KKT residuals at points whose KKT status is known in closed form.

One neuron, squared ReLU, one sample x = 1, y = 1: f = u·ReLU(w)², L = 3. Under ℓ∞ the margin problem
min ½max(|w|,|u|)² s.t. u w² ≥ 1 is solved at (1, 1) with λ = 1/3 (u ∈ ∂ = conv{(1,0),(0,1)}); under
ℓ2 the KKT point is u = 2^{-1/3}, w = √2·u (from (w, u) = λ(2uw, w²)). Each is KKT in its own norm
only, which is the negative control the claims rely on.
"""
import numpy as np
import pytest

from numerics.kkt_residual import NotSeparatedError, UnsupportedNormError, kkt_residual, normalize
from numerics.networks import TwoLayerNetwork
from theory.norms import BlockMax, parse_norm

NET = TwoLayerNetwork.build("squared_relu", 1, 1)
X, Y = np.array([[1.0]]), np.array([1.0])
L2, LINF, SP = parse_norm("l2", "binary"), parse_norm("linf", "binary"), parse_norm("spectral")
U2 = 2 ** (-1 / 3)
LINF_POINT = (np.array([[1.0]]), np.array([[1.0]]))
L2_POINT = (np.array([[np.sqrt(2) * U2]]), np.array([[U2]]))


@pytest.mark.parametrize("scale", [1.0, 7.5, 1e-3])
def test_own_norm_kkt_points_have_zero_residual(scale):
    scaled = lambda p: tuple(scale * a for a in p)
    assert kkt_residual(NET, scaled(L2_POINT), X, Y, L2).residual < 1e-8
    r = kkt_residual(NET, scaled(LINF_POINT), X, Y, LINF)
    assert r.residual < 1e-6 and r.tolerance == 0.0
    assert np.allclose(r.multipliers, [1 / 3], atol=1e-6)
    # the block max of the two 1×1 spectral norms is the same norm as ℓ∞ here
    assert kkt_residual(NET, scaled(LINF_POINT), X, Y, BlockMax((SP, SP), (1.0, 1.0))).residual < 1e-6


def test_other_norms_reject_them():
    assert kkt_residual(NET, LINF_POINT, X, Y, L2).residual > 0.1
    assert kkt_residual(NET, L2_POINT, X, Y, LINF).residual > 0.1


def test_near_ties_are_charged_their_gap():
    near = (np.array([[1.0]]), np.array([[0.99]]))      # ties broken by 1%
    r = kkt_residual(NET, near, X, Y, LINF)
    assert 0.0 < r.residual < 0.05 and r.tolerance == pytest.approx(0.01, rel=1e-6)


def test_normalization_and_errors():
    theta, q = normalize(NET, (np.array([[2.0]]), np.array([[2.0]])), X, Y)
    assert np.isclose(q.min(), 1.0) and np.isclose(NET.margins(theta, X, Y).min(), 1.0)
    with pytest.raises(NotSeparatedError):
        kkt_residual(NET, (np.array([[1.0]]), np.array([[-1.0]])), X, Y, L2)
    with pytest.raises(UnsupportedNormError):
        kkt_residual(NET, LINF_POINT, X, Y, parse_norm("l1", "binary"))
    with pytest.raises(UnsupportedNormError):
        kkt_residual(NET, LINF_POINT, X, Y, SP)


def test_relu_kkt_point_with_kinks():
    """The idealized KKT network of theory.robustness (orthogonal means: every neuron sits on the kink
    of the other class's points) has a zero residual; dropping the kink freedom keeps it zero because
    σ'(0) = 0 is a valid Clarke choice here."""
    from theory.robustness import K_NEG, K_POS, RHO, double_edged_sword_derivation
    k, rho = 4, 2.0
    means = rho * np.eye(k)
    labels = np.array([1.0, -1.0, 1.0, -1.0])
    values = {RHO: rho, K_POS: 2, K_NEG: 2}
    sol = {str(e.lhs): float(e.rhs.subs(values)) for e in double_edged_sword_derivation().results["kkt_solution"]}
    W = np.stack([sol["alpha_+"] * means[labels > 0].sum(0), sol["alpha_-"] * means[labels < 0].sum(0)])
    u = np.array([[sol["beta_+"], -sol["beta_-"]]])
    net = TwoLayerNetwork.build("relu", 2, k)
    assert np.allclose(net.margins((W, u), means, labels), 1.0)
    assert kkt_residual(net, (W, u), means, labels, L2).residual < 1e-6
    assert kkt_residual(net, (W, u), means, labels, LINF).residual > 0.1
