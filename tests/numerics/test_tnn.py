"""numerics.tnn / numerics.tnn_train: t-product against its block-circulant definition, rank measures,
the t-NN forward, attacks and the population trainer."""
import numpy as np
import pytest
import torch

from numerics.tnn import (TransformError, dct_matrix, effective_rank, rank_measures, stable_rank,
                          t_product, tnn_init, tnn_outputs, transform, transformed_slices)
from numerics.tnn_train import Attack, AttackError, margins, perturb, train_tnn
from theory.errors import UserInputError


def _bcirc_product(A, B):
    """Kilmer & Martin (2011): A ∗ B = fold(bcirc(A) unfold(B)) (the DFT t-product)."""
    m, d, c = A.shape
    p = B.shape[1]
    out = np.zeros((m, p, c))
    for k in range(c):
        for s in range(c):
            out[:, :, k] += A[:, :, s] @ B[:, :, (k - s) % c]
    return out


def test_dft_t_product_is_the_block_circulant_product():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((3, 4, 5)), rng.standard_normal((4, 2, 5))
    got = t_product(torch.tensor(A), torch.tensor(B), transform("dft", 5)).numpy()
    assert np.allclose(got, _bcirc_product(A, B), atol=1e-12)


def test_dct_t_product_from_its_definition():
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((3, 4, 6)), rng.standard_normal((4, 2, 6))
    C = dct_matrix(6)
    MA, MB = A @ C.T, B @ C.T
    expected = np.einsum("mdk,dpk->mpk", MA, MB) @ C
    got = t_product(torch.tensor(A), torch.tensor(B), transform("dct", 6)).numpy()
    assert np.allclose(got, expected, atol=1e-12)
    # the identity tensor of the DCT product: every transformed slice is I
    identity = np.repeat(np.eye(4)[:, :, None], 6, axis=2) @ C        # M⁻¹ of identity slices
    assert np.allclose(t_product(torch.tensor(identity), torch.tensor(B), transform("dct", 6)).numpy(), B)


def test_rank_measures():
    assert stable_rank(np.array([3.0, 0.0, 0.0])) == 1.0 == effective_rank(np.array([3.0, 0.0]))
    assert stable_rank(np.ones(4)) == pytest.approx(4.0) and effective_rank(np.ones(4)) == pytest.approx(4.0)
    s = np.array([2.0, 1.0])
    assert 1 < stable_rank(s) < 2 and 1 < effective_rank(s) < 2
    # tensors whose transformed slices are rank one: max stable and effective rank 1
    rng = np.random.default_rng(2)
    slices = np.einsum("ki,kj->ijk", rng.standard_normal((4, 5)), rng.standard_normal((4, 3)))
    W_dct = torch.tensor(slices @ dct_matrix(4))                   # M⁻¹ = Cᵀ acting on the tubes
    r = rank_measures(W_dct, transform("dct", 4))
    assert r.max_stable == pytest.approx(1.0) and r.max_effective == pytest.approx(1.0)
    W_dft = torch.tensor(np.repeat(slices[:, :, :1], 4, axis=2))    # constant tubes: only the k = 0 slice
    r = rank_measures(W_dft, transform("dft", 4))
    assert r.max_stable == pytest.approx(1.0) and np.allclose(r.stable[1:], 0.0)
    assert transformed_slices(W_dft, transform("dft", 4)).shape == (4, 5, 3)
    W = torch.tensor(rng.standard_normal((6, 6, 4)))
    assert rank_measures(W, transform("dct", 4)).max_stable > 1.5


def test_transform_and_attack_errors_are_user_errors():
    with pytest.raises(TransformError):
        transform("wavelet", 4)
    with pytest.raises(TransformError):
        transform("dct", 0)
    with pytest.raises(AttackError):
        Attack("l1", 1)
    with pytest.raises(AttackError):
        Attack("l2", 0)
    assert issubclass(TransformError, UserInputError) and issubclass(AttackError, UserInputError)


def test_the_attack_norm_comes_from_the_norm_registry():
    """An attack norm is a NORM string of ``theory.norms`` (any of its spellings), held as the registry's
    Norm; a string the registry does not parse, or a norm whose ball the attack cannot project on, is
    refused where the attack is built (one line, a user error)."""
    from theory.norms import parse_norm

    for text, name in (("l2", "lp:2"), ("lp:2", "lp:2"), ("fro", "lp:2"), ("linf", "lp:inf"),
                       ("lp:inf", "lp:inf"), ("max", "lp:inf"), ("entrywise:inf", "lp:inf")):
        attack = Attack(text, 1)
        assert attack.geometry == parse_norm(name, "binary") and attack.geometry.name == name, text
    assert Attack("l2", 1).describe() == "FGSM, ℓ2" and Attack("lp:inf", 5).describe() == "PGD-5, ℓ∞"
    for bad in ("l1", "lp:3", "nuclear", "spectral", "ℓ2", "L-two", "", "l 2"):
        with pytest.raises(AttackError) as err:
            Attack(bad, 1)
        assert "\n" not in str(err.value), bad


@pytest.mark.parametrize("name", ["lp:2", "lp:inf"])
def test_the_attack_oracles_are_the_registrys_steepest_direction_and_ball(name):
    """The torch back end of each attack norm computes the registry's steepest-ascent direction
    (``Norm.steepest_directions``: ℓ∞ bit for bit; ℓ2 to round-off: the registry evaluates the Hölder
    closed form on |g|/max|g|, the attack g/‖g‖₂ as it always did, which differs in last bits) and
    projects onto the registry norm's ball; a swapped oracle (the other norm's) misses."""
    from numerics.tnn_train import ATTACK_ORACLES
    from theory.norms import parse_norm

    norm = parse_norm(name, "binary")
    steepest, project = ATTACK_ORACLES[name]
    g = np.random.default_rng(7).standard_normal((40, 3, 4))
    g[0] = 0.0                                                      # a zero gradient stays 0
    want = norm.steepest_directions(g)
    got = steepest(torch.from_numpy(g)).numpy()
    if name == "lp:inf":
        assert np.array_equal(got, want)
    else:
        assert np.allclose(got, want, rtol=0, atol=4e-16) and not np.array_equal(got, want)
    other = ATTACK_ORACLES["lp:inf" if name == "lp:2" else "lp:2"][0]
    assert not np.allclose(other(torch.from_numpy(g)).numpy(), want, rtol=0, atol=1e-6)      # sabotage
    assert np.allclose(norm.values(want[1:]), 1.0, rtol=1e-15)
    radius = torch.full((40, 1, 1), 0.3, dtype=torch.float64)
    delta = project(torch.from_numpy(3.0 * g), radius).numpy()
    assert np.all(norm.values(delta) <= 0.3 * (1 + 1e-15))
    assert np.allclose(norm.values(delta[1:]), 0.3, rtol=1e-15)         # outside points land on the sphere
    inside = 1e-3 * g
    assert np.array_equal(project(torch.from_numpy(inside), radius).numpy(), inside)


def _old_steepest(g, norm):
    """The attack's direction as written before it went through the registry (pinned reference)."""
    if norm == "linf":
        return torch.sign(g)
    flat = g.reshape(g.shape[0], -1).norm(dim=1).clamp_min(torch.finfo(g.dtype).tiny)
    return g / flat.reshape(-1, *([1] * (g.dim() - 1)))


def _old_project(delta, norm, radius):
    if norm == "linf":
        return torch.maximum(torch.minimum(delta, radius), -radius)
    flat = delta.reshape(delta.shape[0], -1).norm(dim=1)
    factor = torch.clamp(radius.reshape(-1) / flat.clamp_min(torch.finfo(delta.dtype).tiny), max=1.0)
    return delta * factor.reshape(-1, *([1] * (delta.dim() - 1)))


@pytest.mark.parametrize("norm,steps", [("l2", 1), ("linf", 1), ("l2", 5), ("linf", 5)])
def test_attacks_through_the_registry_are_bitwise_the_old_attacks(norm, steps):
    """The attacks equal, bit for bit, the loop with the old string-dispatched direction and projection
    (a Norm or its NORM string alike); the loop with the other norm's direction (sabotage) does not."""
    from numerics.tnn import unfolded
    from numerics.tnn_train import _backward, _forward
    from theory.norms import parse_norm

    layers, w, X, y = _setup()
    M = transform("dct", 4)
    radius = torch.tensor([0.03, 0.05], dtype=torch.float64)
    got = perturb(layers, w, X, y, M, norm, radius, steps)
    assert torch.equal(got, perturb(layers, w, X, y, M, parse_norm(norm, "binary"), radius, steps))

    def reference(direction):
        matrices, w_flat = [unfolded(W, M) for W in layers], w.flatten(-2)
        flat = X.reshape(-1, *X.shape[2:])
        r_flat = radius.reshape(-1, 1, 1, 1).expand(X.shape[0], X.shape[1], 1, 1).reshape(-1, 1, 1)
        delta, step = torch.zeros_like(X), (r_flat if steps == 1 else 2.5 * r_flat / steps)
        for _ in range(steps):
            _, hs = _forward(matrices, w_flat, X + delta)
            g = _backward(matrices, w_flat, hs, y, None)
            delta = _old_project(delta.reshape(flat.shape) - step * direction(g.reshape(flat.shape)), norm,
                                 r_flat).reshape(X.shape)
        return X + delta

    assert torch.equal(got, reference(lambda g: _old_steepest(g, norm)))
    assert not torch.equal(got, reference(lambda g: _old_steepest(g, "l2" if norm == "linf" else "linf")))


def _setup(P=2, n=6, d=3, c=4, D=5, depth=2):
    rng = np.random.default_rng(3)
    layers, w = tnn_init((d,) + (D,) * depth, c, 1.0, seed=0)
    X = rng.standard_normal((n, d, c))
    y = rng.choice([-1.0, 1.0], size=n)
    stack = lambda a: torch.tensor(np.stack([a] * P))  # noqa: E731
    return [stack(W) for W in layers], stack(w), stack(X), stack(y)


def test_spectral_frobenius_ratio():
    rng = np.random.default_rng(5)
    u, v = rng.standard_normal(5), rng.standard_normal(3)
    one_slice = np.zeros((5, 3, 4))
    one_slice[:, :, 2] = np.outer(u, v)                           # transformed slices: only k = 2, rank one
    W = torch.tensor(one_slice @ dct_matrix(4))
    assert rank_measures(W, transform("dct", 4)).spectral_frobenius == pytest.approx(1.0)
    # the ratio does not depend on the scale of M: DFT of constant tubes = only the k = 0 slice
    const = torch.tensor(np.repeat(np.outer(u, v)[:, :, None], 4, axis=2))
    assert rank_measures(const, transform("dft", 4)).spectral_frobenius == pytest.approx(1.0)
    # equal singular values in every slice: 1/sqrt(sum of ranks)
    eye = np.repeat(np.eye(3)[:, :, None], 4, axis=2) @ dct_matrix(4)   # every transformed slice is I₃
    assert rank_measures(torch.tensor(eye), transform("dct", 4)).spectral_frobenius == pytest.approx(1 / np.sqrt(12))


@pytest.mark.parametrize("name", ["dct", "dft"])
def test_batched_forward_matches_single_and_is_homogeneous(name):
    layers, w, X, y = _setup()
    M = transform(name, 4)
    batched = tnn_outputs(layers, w, X, M)
    single = tnn_outputs([W[0] for W in layers], w[0], X[0], M)
    assert batched.shape == (2, 6) and torch.allclose(batched[1], single, atol=1e-12)
    scaled = tnn_outputs([2 * layers[0][0], 3 * layers[1][0]], 0.5 * w[0], X[0], M)
    assert torch.allclose(scaled, 3 * single, atol=1e-10)                 # degree J + 1 = 3


def test_one_layer_forward_by_hand():
    layers, w, X, _ = _setup(P=1, depth=1)
    M = transform("dft", 4)
    W1, w_, x = layers[0][0].numpy(), w[0].numpy(), X[0].numpy()
    expected = [np.sum(w_ * np.maximum(_bcirc_product(W1, xi[:, None, :])[:, 0, :], 0)) for xi in x]
    got = tnn_outputs([torch.tensor(W1)], torch.tensor(w_), torch.tensor(x), M).numpy()
    assert np.allclose(got, expected, atol=1e-12)


@pytest.mark.parametrize("norm,steps", [("l2", 1), ("linf", 1), ("l2", 5), ("linf", 5)])
def test_attacks_stay_in_the_ball_lower_the_margin_and_are_scale_invariant(norm, steps):
    layers, w, X, y = _setup()
    M = transform("dct", 4)
    radius = torch.tensor([0.0, 0.05], dtype=torch.float64)
    Xa = perturb(layers, w, X, y, M, norm, radius, steps)
    delta = (Xa - X).reshape(2, 6, -1)
    size = delta.norm(dim=-1) if norm == "l2" else delta.abs().amax(dim=-1)
    assert torch.all(size[0] == 0) and torch.all(size[1] <= 0.05 + 1e-12)
    assert torch.all(margins(layers, w, Xa, y, M)[1] <= margins(layers, w, X, y, M)[1] + 1e-12)
    assert perturb(layers, w, X, y, M, norm, torch.zeros(2), steps) is X
    scaled = perturb([3 * W for W in layers], 3 * w, X, y, M, norm, radius, steps)
    assert torch.allclose(scaled, Xa, atol=1e-12)


def test_population_members_train_as_if_alone_along_the_normalized_flow():
    layers, w, X, y = _setup()
    M = transform("dft", 4)
    radii = np.array([0.0, 0.05])
    L0, w0 = [W.numpy() for W in layers], w.numpy()
    both = train_tnn(L0, w0, X.numpy(), y.numpy(), M, 30, 0.02, Attack("l2", 1), radii)
    alone = train_tnn([a[1:] for a in L0], w0[1:], X.numpy()[1:], y.numpy()[1:], M, 30, 0.02,
                      Attack("l2", 1), radii[1:])
    assert all(np.allclose(a[1], b[0], atol=1e-12) for a, b in zip(both.layers, alone.layers))
    first, last = both.history[0], both.history[-1]
    assert all(b < a for a, b in zip(first["log_loss"], last["log_loss"]))
    assert last["step"] == 30 and len(last["spectral_frobenius"][0]) == 2
    # each step moves 2% of ‖θ‖: after one step ‖Δθ‖ = 0.02 ‖θ₀‖ for every member
    one = train_tnn(L0, w0, X.numpy(), y.numpy(), M, 1, 0.02, Attack("l2", 1), radii)
    theta0 = np.sqrt(sum((a**2).reshape(2, -1).sum(1) for a in L0 + [w0]))
    moved = np.sqrt(sum(((a - b)**2).reshape(2, -1).sum(1) for a, b in zip(one.layers + [one.w], L0 + [w0])))
    assert np.allclose(moved, 0.02 * theta0, rtol=1e-10)
    with pytest.raises(ValueError, match="one radius per member"):
        train_tnn(L0, w0, X.numpy(), y.numpy(), M, 1, 0.1, Attack(), np.zeros(3))


@pytest.mark.parametrize("name", ["dct", "dft"])
def test_unfolded_layers_and_the_written_out_backward_match_the_definition_and_autograd(name):
    """The trainer runs the t-NN as the ReLU MLP of its unfolded layers with its backward pass
    written out: the outputs equal the t-product definition, the input gradient (the attack's) and
    the parameter gradients of log L (the step's) equal autograd's through ``tnn_outputs``."""
    from numerics.losses import log_loss
    from numerics.tnn import folded_gradient, product_tensor, unfolded
    from numerics.tnn_train import _backward, _forward

    layers, w, X, y = _setup(depth=3)
    M = transform(name, 4)
    if name == "dft":
        assert np.array_equal(product_tensor("dft", 4)[1, 3], np.eye(4)[0])       # s + t ≡ k (mod c)
    T = product_tensor(name, 4)
    A0 = torch.tensor(np.random.default_rng(8).standard_normal((5, 3, 4)))
    B0 = torch.tensor(np.random.default_rng(9).standard_normal((3, 1, 4)))
    assert torch.allclose((unfolded(A0, M) @ B0.flatten()).reshape(5, 1, 4), t_product(A0, B0, M), atol=1e-12)
    assert torch.allclose(folded_gradient(unfolded(A0, M), M, 3), torch.einsum("ikjt,stk->ijs", unfolded(A0, M)
                                                                                   .reshape(5, 4, 3, 4), torch.tensor(T)))
    params = [W.clone().requires_grad_(True) for W in layers] + [w.clone().requires_grad_(True)]
    Xg = X.clone().requires_grad_(True)
    m = y * tnn_outputs(params[:-1], params[-1], Xg, M)
    auto = torch.autograd.grad(log_loss(m[..., None]).sum(), params, retain_graph=True)
    (auto_x,) = torch.autograd.grad(m.sum(), Xg)
    matrices = [unfolded(W, M) for W in layers]
    f, hs = _forward(matrices, w.flatten(-2), X)
    assert torch.allclose(y * f, m.detach(), atol=1e-12)
    from numerics.losses import log_loss_and_margin_gradient
    _, dm = log_loss_and_margin_gradient((y * f)[..., None])
    mine = _backward(matrices, w.flatten(-2), hs, dm[..., 0] * y, M)
    for a, b in zip(auto, (*mine[:-1], mine[-1].reshape(w.shape))):
        assert a.shape == b.shape and torch.allclose(a, b, atol=1e-12, rtol=1e-10)
    assert torch.allclose(_backward(matrices, w.flatten(-2), hs, y, None).reshape(X.shape), auto_x, atol=1e-12)
    # sabotage: without the ReLU mask the input gradient is that of a linear net, not this one's
    wrong = y.unsqueeze(-1) * w.flatten(-2).unsqueeze(-2)
    for A in reversed(matrices):
        wrong = wrong @ A
    assert not torch.allclose(wrong.reshape(X.shape), auto_x, atol=1e-6)
