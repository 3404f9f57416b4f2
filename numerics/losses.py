"""Margin losses computed in log space, so their gradient *direction* survives any weight scale.

For margins m_{ic} (binary: one margin per sample; multiclass: c ≠ y_i), the per-sample losses are

    cross-entropy / logistic:  ℓ_i = log(1 + Σ_c exp(−m_{ic}))
    exponential:               ℓ_i = Σ_c exp(−m_{ic})

and L = (1/n) Σ_i ℓ_i. Once the data are separated by a wide margin, ℓ_i underflows in float64
(exp(−m) = 0 for m > 745) and ∇L becomes exactly zero, which silently freezes sign-based methods
(docs/theory/numerics.md). The direction of ∇L equals that of ∇ log L = ∇L / L; both log L and ∂ log L/∂m are
computed here with a log-sum-exp shift by each sample's smallest margin μ_i = min_c m_{ic}:

    E_{ic} = exp(μ_i − m_{ic}) ∈ [0, 1],   z_i = log Σ_c E_{ic} − μ_i = log Σ_c e^{−m_{ic}}  (exact)
    log ℓ_i = log softplus(z_i)  (cross-entropy)  or  z_i  (exponential)
    log L = logsumexp_i(log ℓ_i) − log n
    ∂ log L/∂m_{ic} = −E_{ic} · exp(−μ_i − softplus(z_i) − logsumexp_j log ℓ_j)
                      (−E_{ic} · exp(−μ_i − logsumexp_j log ℓ_j) for the exponential loss)

The factor multiplying E_{ic} is at most 1 (it is e^{−μ_i}/((1 + e^{z_i}) Σ_j ℓ_j) ≤ x/((1+x) log(1+x))
with x = e^{z_i}), so nothing overflows at any scale, misclassified samples included; entries more
than 708 above the smallest margin get E = e^{−708} ≈ 3e−308 (their true weight is smaller; both are
0 next to the entry 1 to float64 precision). Margins may be +inf (a masked entry weighs exactly 0).
Callers that need ∇L itself multiply by exp(log L) — which may then underflow, honestly.

Margins are arrays of shape (..., n, C) by default; ``class_dim=-2`` accepts (..., C, n).

The margin form (:func:`log_loss_and_margin_gradient`, :func:`log_loss`: binary models, networks) is
evaluated in numpy (float64): on its small arrays numpy's per-call cost is a fraction of torch's
(~3× at n = 40). The score form (:func:`log_loss_and_score_gradient`: the multiclass population
trainer's hot path, ``bench/bench_linear_trainer.py``) is evaluated in torch: there the transcendental
functions dominate, which torch vectorizes (exp/log 3.1/5.2 ns per element here against numpy's scalar
12.8/16.0), ~1.7× for a pass over 18 members at the Fan et al. size. The two are tested against each
other and against a long-double reference (tests/numerics/test_losses.py). Torch tensors are accepted
and returned as torch tensors (zero-copy views), numpy arrays as numpy arrays, and :func:`log_loss` is
a differentiable torch function whose backward pass is the closed-form gradient.
"""
from __future__ import annotations

import math

import numpy as np
import torch

LOSSES = ("cross_entropy", "exponential")
# exp takes a ~5× slower path for results below float64's normal range (x < −708), where late in
# training most shifted exponents lie; they are evaluated at the floor instead (see _exp_shifted_).
_EXP_FLOOR = -708.0


def _log_softplus(z: np.ndarray) -> np.ndarray:
    """log(log(1 + e^z)) without underflow: for z ≪ 0, log(1 + e^z) = e^z (1 − e^z/2 + ...)."""
    small = z < -20.0
    out = np.log(np.logaddexp(0.0, np.where(small, 0.0, z)))
    return np.where(small, z - 0.5 * np.exp(np.minimum(z, -20.0)), out)


def _exp_shifted_(x: np.ndarray) -> np.ndarray:
    """exp(x) in place for shifted exponents x ≤ 0, with x clamped at −708: entries below that get
    e^{−708} ≈ 3e−308 instead of their true value in [0, 3e−308), an absolute error far below the
    rounding of each sample's largest entry, 1 (and flushed to 0 by the first product that would
    make it subnormal)."""
    np.maximum(x, _EXP_FLOOR, out=x)
    return np.exp(x, out=x)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """log Σ exp(a) along ``axis`` (keepdims), shifted by the maximum."""
    top = a.max(axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))


def _check(loss: str, class_dim: int) -> int:
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")
    if class_dim not in (-1, -2):
        raise ValueError("class_dim must be -1 or -2")
    return -1 if class_dim == -2 else -2


def _weights(E: np.ndarray, mu: np.ndarray, loss: str, class_dim: int):
    """From the shifted exponentials E_ic = exp(μ_i − m_ic) and the shifts μ_i (keepdims): the
    per-sample factors w_i with ∂ log L/∂m_ic = −w_i E_ic, and log L."""
    sample_dim = _check(loss, class_dim)
    z = np.log(E.sum(axis=class_dim, keepdims=True)) - mu        # log Σ_c e^{−m_ic}, exact
    if loss == "exponential":
        log_l_i, log_weight = z, -mu
    else:
        log_l_i = _log_softplus(z)
        log_weight = -mu - np.logaddexp(0.0, z)                  # log[e^{−μ_i}/(1 + Σ_c e^{−m_ic})]
    total = _logsumexp(log_l_i, sample_dim)                      # log Σ_i ℓ_i
    log_l = total.squeeze((-2, -1)) - math.log(E.shape[sample_dim])
    return np.exp(log_weight - total), log_l


def _margin_terms(margins: np.ndarray, loss: str, class_dim: int):
    """(log L, ∂ log L/∂m) for numpy margins."""
    _check(loss, class_dim)
    mu = margins.min(axis=class_dim, keepdims=True)              # a shift: values do not depend on it
    E = _exp_shifted_(mu - margins)                              # in [0, 1], 1 at the smallest margin
    np.copyto(E, 0.0, where=np.isposinf(margins))               # masked entries weigh exactly 0
    weight, log_l = _weights(E, mu, loss, class_dim)
    E *= -weight
    return log_l, E


def _numpy(a) -> np.ndarray:
    return a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=float)


def _like(a, *outs):
    """The outputs as torch tensors when the input was one (zero-copy)."""
    if isinstance(a, torch.Tensor):
        return tuple(torch.from_numpy(np.ascontiguousarray(o)) for o in outs)
    return outs


class _LogLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, margins, loss, class_dim):
        log_l, grad = _margin_terms(_numpy(margins), loss, class_dim)
        ctx.save_for_backward(torch.from_numpy(grad))
        return torch.from_numpy(np.ascontiguousarray(log_l))

    @staticmethod
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        return grad_output.reshape(*grad_output.shape, 1, 1) * grad, None, None


def log_loss(margins: torch.Tensor, loss: str = "cross_entropy", class_dim: int = -1) -> torch.Tensor:
    """log L = log((1/n) Σ_i ℓ_i), one value per leading index; differentiable at any scale (its
    backward pass is the closed-form gradient)."""
    return _LogLoss.apply(margins, loss, class_dim)


def log_loss_and_margin_gradient(margins, loss: str = "cross_entropy", class_dim: int = -1):
    """(log L, ∂ log L/∂m) in closed form (no autograd); see the module docstring."""
    return _like(margins, *_margin_terms(_numpy(margins), loss, class_dim))


# -- the score form, in torch ----------------------------------------------------------------------
def _softplus_terms(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(log(1 + e^z), log log(1 + e^z)) without underflow, from one exp: log(1 + e^z) =
    max(z, 0) + log1p(e^{−|z|}), and for z < −20, where log(1 + e^z) = e^z (1 − e^z/2 + ...),
    its log is z − e^z/2 (the next term, e^{2z}/24, is below 1e−18 of it)."""
    a = z.abs().neg_().exp_()
    softplus = torch.log1p(a).add_(z.clamp(min=0.0))
    # z − e^z/2 as z + (−½)·a: the product is exact, so fused or not it is rounded once, as z − 0.5·a
    return softplus, torch.where(z < -20.0, torch.add(z, a, alpha=-0.5), torch.log(softplus))


def _exp_shifted_torch_(x: torch.Tensor) -> torch.Tensor:
    """:func:`_exp_shifted_` on a torch tensor (the same clamp)."""
    return x.clamp_(min=_EXP_FLOOR).exp_()


def _weights_torch(E: torch.Tensor, mu: torch.Tensor, loss: str, class_dim: int):
    """:func:`_weights` in torch (for the score form): the same formulas, log(1 + e^z) and its log
    from one exp (:func:`_softplus_terms`)."""
    sample_dim = _check(loss, class_dim)
    z = E.sum(class_dim, keepdim=True).log_().sub_(mu)            # log Σ_c e^{−m_ic}, exact
    if loss == "exponential":
        log_l_i, log_weight = z, -mu
    else:
        softplus, log_l_i = _softplus_terms(z)
        log_weight = softplus.add_(mu).neg_()                     # log[e^{−μ_i}/(1 + Σ_c e^{−m_ic})]
    total = torch.logsumexp(log_l_i, sample_dim, keepdim=True)   # log Σ_i ℓ_i
    log_l = total.view(total.shape[:-2]) - math.log(E.shape[sample_dim])
    return log_weight.sub_(total).exp_(), log_l


def score_labels(labels, k: int):
    """The labels' index (1, n) and the additive mask (k, n) (−inf at each sample's own class) that
    :func:`log_loss_and_score_gradient` uses; a caller that evaluates the same labels many times
    computes them once."""
    y = torch.as_tensor(np.asarray(labels.detach() if isinstance(labels, torch.Tensor) else labels),
                        dtype=torch.long)
    return y[None], torch.zeros(k, len(y), dtype=torch.float64).scatter_(0, y[None], -math.inf)


def log_loss_and_score_gradient(scores, labels, loss: str = "cross_entropy", *, own=None):
    """(log L, ∂ log L/∂Z) of the multiclass loss from class scores Z of shape (..., k, n), classes
    before samples, and integer labels y of shape (n,) (margins m_ic = Z_{y_i,i} − Z_ci, c ≠ y_i);
    ``own``: :func:`score_labels` of the labels, if the caller has them.

    The same formula as :func:`log_loss_and_margin_gradient`, computed without forming the margins:
    the shift μ_i = Z_{y_i,i} − max_{c≠y_i} Z_ci gives E_ic = exp(Z_ci − max_{c'≠y_i} Z_c'i) (0 at
    c = y_i), and by the chain rule ∂/∂Z_ci = −∂/∂m_ic for c ≠ y_i, ∂/∂Z_{y_i,i} = Σ_c ∂/∂m_ic
    = −w_i Σ_{c≠y_i} E_ic. Fewer passes over the (..., k, n) array is all it changes (the population
    trainer's hot path: every pass over that array after the first is in place)."""
    _check(loss, -2)
    Z = scores.detach() if isinstance(scores, torch.Tensor) else \
        torch.as_tensor(np.asarray(scores, dtype=float))
    index, mask = own if own is not None else score_labels(labels, Z.shape[-2])
    index = index.expand(*Z.shape[:-2], *index.shape)              # (..., 1, n)
    E = Z + mask                                                   # the own class masked out (−inf)
    top = E.amax(-2, keepdim=True)
    mu = Z.gather(-2, index).sub_(top)                             # μ_i = Z_{y_i,i} − max_{c≠y_i} Z_ci
    _exp_shifted_torch_(E.sub_(top))     # E_{y_i,i} = e^{−708}: below the rounding of Σ_c E_ic ≥ 1,
    weight, log_l = _weights_torch(E, mu, loss, -2)                # and overwritten below
    E.mul_(weight)                                                 # ∂/∂Z_ci = w_i E_ic, c ≠ y_i
    E.scatter_(-2, index, E.sum(-2, keepdim=True).neg_())          # ∂/∂Z_{y_i,i} = −w_i Σ_c E_ic
    if isinstance(scores, torch.Tensor):
        return log_l, E
    return log_l.numpy(), E.numpy()
