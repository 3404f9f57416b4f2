"""One steepest-descent mechanism, parameterized by a norm, a momentum and a preconditioner.

Optimizers are small pure transformations composed with :func:`chain` (in the manner of optax):

    NSD  (normalized steepest descent)   = chain(steepest(norm), schedule(η))
    NMD  (normalized momentum SD)        = chain(momentum(β₁), steepest(norm), schedule(η))
    Adam (ε = 0 by default)              = chain(adam_preconditioner(β₁, β₂, ε), schedule(η))
    GD                                   = chain(schedule(η))

Special cases (Fan, Schmidt, Thrampoulidis 2025; Gronich & Vardi 2026): SignGD = NSD(max),
NGD = NSD(ℓ2/Frobenius), Spectral-GD = NSD(spectral), NucGD = NSD(nuclear), Muon with an exact SVD =
NMD(spectral), Signum = NMD(max). Learning rates follow η_t = η₀ t^{−a}.

Gradients travel as :class:`Scaled` values ``exp(log_scale) · mantissa``: the trainer passes the
mantissa ∇ log L and log_scale = log L (see ``numerics.losses``), so momentum and Adam's moments are
accumulated *exactly* as with raw gradients (their relative weights across steps are kept) while no
quantity underflows. :class:`TransformOptimizer` wraps a transformation as a ``torch.optim.Optimizer``
so the same objects run in any torch loop (``step()`` then reads the plain ``p.grad``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import numpy as np
import torch

from theory.norms import BlockMax, BlockSum, Entrywise, Norm, Schatten, steepest_directions


class Scaled(NamedTuple):
    """The value exp(log_scale) · mantissa of a tuple of tensors."""

    mantissa: tuple[torch.Tensor, ...]
    log_scale: float = 0.0

    def value(self) -> tuple[torch.Tensor, ...]:
        factor = math.exp(self.log_scale)
        return tuple(factor * m for m in self.mantissa)


@dataclass(frozen=True)
class PowerSchedule:
    """η_t = η₀ t^{−a}, t = 1, 2, ... (a = 1/2 is the rate assumed by Fan et al. 2025)."""

    eta0: float
    decay: float = 0.5

    def __call__(self, t: int) -> float:
        return self.eta0 * t ** (-self.decay)

    def describe(self) -> str:
        return f"eta_t = {self.eta0:g} * t^(-{self.decay:g})"


class Transformation(NamedTuple):
    init: Callable[[Sequence[torch.Tensor]], object]
    update: Callable[[Scaled, object, int], tuple[Scaled, object]]
    # what it computes, for :class:`TransformStack`: ("momentum", β₁), ("steepest", norm),
    # ("schedule", η), or ("chain", (spec, ...)); None for a transformation it cannot stack
    spec: tuple | None = None


def chain(*transforms: Transformation) -> Transformation:
    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(grads, state, step):
        new_state = []
        for t, s in zip(transforms, state):
            grads, s = t.update(grads, s, step)
            new_state.append(s)
        return grads, tuple(new_state)

    specs = tuple(t.spec for t in transforms)
    return Transformation(init, update, None if None in specs else ("chain", specs))


def partition(parts: Sequence[tuple[Sequence[int], Transformation]]) -> Transformation:
    """Apply each transformation to its own subset of the parameters (given by indices), like
    optax.multi_transform: e.g. Muon on the weight matrices and Adam or Signum on the rest
    (Gronich & Vardi 2026). Each part keeps its own state and schedule."""

    def init(params):
        return tuple(t.init([params[i] for i in idx]) for idx, t in parts)

    def update(grads, state, step):
        outs, new_state = [], []
        for (idx, t), s in zip(parts, state):
            out, s = t.update(Scaled(tuple(grads.mantissa[i] for i in idx), grads.log_scale), s, step)
            outs.append((idx, out))
            new_state.append(s)
        top = max(out.log_scale for _, out in outs)
        mantissa: list = [None] * len(grads.mantissa)
        for idx, out in outs:
            factor = math.exp(out.log_scale - top)
            for i, m in zip(idx, out.mantissa):
                mantissa[i] = factor * m
        return Scaled(tuple(mantissa), top), tuple(new_state)

    return Transformation(init, update)


def _ema(acc: Scaled | None, new: Scaled, beta: float) -> Scaled:
    """exp-scaled β·acc + (1−β)·new, computed on mantissas with a shared log-scale."""
    new_scale = new.log_scale + math.log1p(-beta)
    if acc is None or beta == 0.0:
        return Scaled(new.mantissa, new_scale)
    old_scale = acc.log_scale + math.log(beta)
    top = max(old_scale, new_scale)
    a, b = math.exp(old_scale - top), math.exp(new_scale - top)
    return Scaled(tuple(a * x + b * y for x, y in zip(acc.mantissa, new.mantissa)), top)


def _log_one_minus_power(beta: float, t: int) -> float:
    """log(1 − β^t), exact for β close to 1 and equal to 0 for β = 0."""
    return 0.0 if beta == 0.0 else math.log(-math.expm1(t * math.log(beta)))


def momentum(beta1: float) -> Transformation:
    """M_t = β₁ M_{t−1} + (1 − β₁) g_t with M_0 = 0 (the NMD momentum of Fan et al. 2025)."""
    if not 0.0 <= beta1 < 1.0:
        raise ValueError(f"momentum β₁ must lie in [0, 1), got {beta1}")

    def update(grads, state, step):
        state = _ema(state, grads, beta1)
        return state, state

    return Transformation(lambda params: None, update, ("momentum", beta1))


def steepest(norm: Norm) -> Transformation:
    """Δ_t = argmax_{‖Δ‖≤1} ⟨g_t, Δ⟩ (the norm's linear maximization oracle; scale-free).

    With several parameter tensors, a block norm applies blockwise; an entrywise norm applies to the
    concatenation of all entries."""

    if isinstance(norm, (BlockMax, BlockSum)):
        def oracle(arrays):
            return norm.steepest_direction(arrays)
    elif isinstance(norm, Entrywise):
        def oracle(arrays):
            if len(arrays) == 1:
                return (norm.steepest_direction(arrays[0]),)
            flat = norm.steepest_direction(np.concatenate([a.ravel() for a in arrays]))
            bounds = np.cumsum([0] + [a.size for a in arrays])
            return tuple(flat[i:j].reshape(a.shape) for i, j, a in zip(bounds[:-1], bounds[1:], arrays))
    else:
        def oracle(arrays):
            if len(arrays) != 1:
                raise ValueError(f"{norm.name} is defined on one matrix; use a block norm for "
                                 f"{len(arrays)} parameter tensors")
            return (norm.steepest_direction(arrays[0]),)

    def direction(mantissa):
        out = oracle([m.detach().numpy() for m in mantissa])
        return tuple(torch.from_numpy(np.ascontiguousarray(o)) for o in out)

    def update(grads, state, step):
        return Scaled(direction(grads.mantissa), 0.0), state

    return Transformation(lambda params: None, update, ("steepest", norm))


def _log_square_ema(log_v: tuple[torch.Tensor, ...] | None, grads: Scaled, beta: float) -> tuple[torch.Tensor, ...]:
    """log of the EMA β·v + (1−β)·g², kept per coordinate: g² of a coordinate whose gradient is
    1e−200 of the largest would underflow in any shared-scale mantissa (then |m/√v| is rounding
    noise, up to 1.4 measured, or 0), while its exact Adam step is of size ≤ 1."""
    new = tuple(math.log1p(-beta) + 2.0 * (torch.log(g.abs()) + grads.log_scale) for g in grads.mantissa)
    if log_v is None or beta == 0.0:
        return new
    return tuple(torch.logaddexp(lv + math.log(beta), n) for lv, n in zip(log_v, new))


def _elementwise(m: torch.Tensor, log_m: float, log_v: torch.Tensor, exponent: float, eps: float) -> torch.Tensor:
    """exp(log_m)·m / (v^e + ε) from log v; a coordinate whose gradient has always been 0 gets no
    update (0/0 with ε = 0)."""
    log_ratio = torch.log(m.abs()) + log_m - exponent * log_v
    ratio = torch.exp(log_ratio) if eps == 0 else torch.exp(log_ratio) / (1.0 + eps * torch.exp(-exponent * log_v))
    return torch.where(torch.isfinite(log_v), torch.sign(m) * ratio, torch.zeros_like(m))


def _divide(m: torch.Tensor, v: torch.Tensor, exponent: float, eps: float) -> torch.Tensor:
    """m / (v^e + ε) on shared-scale mantissas (0 where v = 0)."""
    return torch.where(v > 0, m / (v**exponent + eps), torch.zeros_like(m))


def adam_preconditioner(beta1: float = 0.9, beta2: float = 0.99, eps: float = 0.0,
                        bias_correction: bool = True, exponent: float = 0.5,
                        second_moment: Callable | None = None, apply: Callable | None = None) -> Transformation:
    """Adam's direction m_t / (v_t^e + ε) with e = ``exponent`` (Kingma & Ba 2015: e = ½; ε = 0 is the
    variant that maximizes the max-norm margin, Fan et al. 2025; Li, Wen, Lyu 2025 study the family
    of exponents e). m is kept in log-scaled form and, by default, v per coordinate in log form, so ε
    is compared with the *true* v_t^e and no coordinate's g² underflows.

    ``second_moment(g)`` replaces the elementwise g² by another statistic averaged into v (degree-2
    homogeneous: a block mean of g² for Adam-mini/Adalayer, g gᵀ for Shampoo), kept in a shared
    log-scale, and ``apply(m, v, e, ε)`` is then its preconditioning (elementwise m/(v^e + ε) unless
    given); see ``numerics.block_preconditioners``."""
    apply = apply or _divide

    def update(grads, state, step):
        m, v = state if state is not None else (None, None)
        m = _ema(m, grads, beta1)
        # Bias correction m/(1−β₁^t), v/(1−β₂^t).
        log_m = m.log_scale - (_log_one_minus_power(beta1, step) if bias_correction else 0.0)
        log_bias_v = _log_one_minus_power(beta2, step) if bias_correction else 0.0
        if second_moment is None:
            v = _log_square_ema(v, grads, beta2)
            return Scaled(tuple(_elementwise(mm, log_m, lv - log_bias_v, exponent, eps)
                                for mm, lv in zip(m.mantissa, v)), 0.0), (m, v)
        v = _ema(v, Scaled(tuple(second_moment(g) for g in grads.mantissa), 2 * grads.log_scale), beta2)
        scale_v = exponent * (v.log_scale - log_bias_v)
        eps_rel = eps * math.exp(-scale_v) if eps > 0 else 0.0
        out = tuple(apply(mm, vv, exponent, eps_rel) for mm, vv in zip(m.mantissa, v.mantissa))
        return Scaled(out, log_m - scale_v), (m, v)

    return Transformation(lambda params: None, update)


def schedule(eta: Callable[[int], float]) -> Transformation:
    """Multiply by η_t."""

    def update(grads, state, step):
        return Scaled(grads.mantissa, grads.log_scale + math.log(eta(step))), state

    return Transformation(lambda params: None, update, ("schedule", eta))


class TransformOptimizer(torch.optim.Optimizer):
    """A :class:`Transformation` as a ``torch.optim.Optimizer``: θ ← θ − update(∇)."""

    def __init__(self, params, transform: Transformation, name: str = "transform"):
        super().__init__(params, defaults={})
        self.transform = transform
        self.name = name
        self._params = [p for group in self.param_groups for p in group["params"]]
        self._state = transform.init(self._params)
        self._t = 0

    @torch.no_grad()
    def step(self, closure=None, log_scale: float = 0.0):
        """One step with gradient exp(log_scale)·p.grad (log_scale = 0: plain torch usage)."""
        loss = closure() if closure is not None else None
        self.apply(tuple(p.grad for p in self._params), log_scale)
        return loss

    @torch.no_grad()
    def apply(self, grads: tuple[torch.Tensor, ...], log_scale: float = 0.0) -> None:
        """θ ← θ − update(exp(log_scale)·grads): the step without torch's per-call hooks (the
        population trainer calls this directly)."""
        self._t += 1
        updates, self._state = self.transform.update(Scaled(grads, log_scale), self._state, self._t)
        factor = -math.exp(updates.log_scale)
        for p, u in zip(self._params, updates.mantissa):
            p.add_(u, alpha=factor)


class TransformStack:
    """Several :class:`TransformOptimizer` s, each on one parameter tensor of one shape, stepped
    together over a leading member axis: the momentum averages as one stacked array, one oracle
    call per norm family (``theory.norms.steepest_directions``: one stacked SVD for the members of
    every Schatten norm, one Hölder map per entrywise exponent), then each member's step
    θ ← θ − η_t Δ_t. It takes over the members of the form
    [momentum(β₁),] steepest(norm), schedule(η) — NSD and NMD under an entrywise or Schatten norm —
    and schedule(η) alone (GD) (:meth:`plan`); each member keeps its own step count, so members may
    join or leave any step. The arithmetic is ``TransformOptimizer.apply``'s, operation for
    operation, so the iterates are the same to the last bit (tests/numerics/test_optim.py)."""

    def __init__(self, optimizers: dict[str, "TransformOptimizer"]):
        self.plans = {nm: self.plan(opt) for nm, opt in optimizers.items()}
        if None in self.plans.values():
            raise ValueError("TransformStack.plan: not every optimizer can be stacked")
        self.params = {nm: opt._params[0] for nm, opt in optimizers.items()}
        shapes = {tuple(p.shape) for p in self.params.values()}
        if len(shapes) > 1:
            raise ValueError(f"stacked optimizers need one parameter shape, got {sorted(shapes)}")
        self.row = {nm: j for j, nm in enumerate(optimizers)}
        self.steps = dict.fromkeys(optimizers, 0)
        self.average = np.zeros((len(optimizers), *next(iter(shapes), ())))
        self.average_scale = [0.0] * len(optimizers)

    @staticmethod
    def plan(opt) -> tuple | None:
        """(β₁ or None, norm or None, η) of a stackable optimizer (one parameter tensor, a chain
        [momentum,] steepest, schedule or schedule alone; the norm entrywise or Schatten), else None."""
        spec = opt.transform.spec if isinstance(opt, TransformOptimizer) else None
        if spec is None or spec[0] != "chain" or len(opt._params) != 1:
            return None
        parts = list(spec[1])
        beta = parts.pop(0)[1] if parts and parts[0][0] == "momentum" else None
        norm = parts.pop(0)[1] if parts and parts[0][0] == "steepest" else None
        if len(parts) != 1 or parts[0][0] != "schedule" or (beta is not None and norm is None):
            return None
        if norm is not None and not isinstance(norm, (Entrywise, Schatten)):
            return None
        return beta, norm, parts[0][1]

    @classmethod
    def of(cls, optimizers: dict) -> "TransformStack | None":
        """The stack of the stackable ones among ``optimizers`` (None if there are none)."""
        able = {nm: opt for nm, opt in optimizers.items() if cls.plan(opt) is not None}
        return cls(able) if able else None

    def __contains__(self, name) -> bool:
        return name in self.row

    @torch.no_grad()
    def step(self, names: Sequence[str], grads: np.ndarray, log_scale: Sequence[float]) -> None:
        """One step of the members ``names``, given their gradients exp(log_scale)·grads (stacked in
        the order of ``names``: the trainer's ∇ log L and log L)."""
        plans = [self.plans[nm] for nm in names]
        for nm in names:
            self.steps[nm] += 1
        direction = grads                         # the oracle's input: g, or the momentum average M_t
        averaged = [i for i, (beta, _, _) in enumerate(plans) if beta is not None]
        if averaged:                              # M_t = β₁ M_{t−1} + (1 − β₁) g_t, exp-scaled as _ema
            direction = grads.copy()
            fresh, kept, a, b = [], [], [], []
            for i in averaged:
                beta, row = plans[i][0], self.row[names[i]]
                new_scale = log_scale[i] + math.log1p(-beta)
                if self.steps[names[i]] == 1 or beta == 0.0:
                    fresh.append(i)
                    self.average_scale[row] = new_scale
                    continue
                old_scale = self.average_scale[row] + math.log(beta)
                top = max(old_scale, new_scale)
                kept.append(i)
                a.append(math.exp(old_scale - top))
                b.append(math.exp(new_scale - top))
                self.average_scale[row] = top
            axes = (-1,) + (1,) * (grads.ndim - 1)
            if fresh:
                self.average[[self.row[names[i]] for i in fresh]] = grads[fresh]
            if kept:
                rows = [self.row[names[i]] for i in kept]
                self.average[rows] = (np.array(a).reshape(axes) * self.average[rows]
                                      + np.array(b).reshape(axes) * grads[kept])
            direction[averaged] = self.average[[self.row[names[i]] for i in averaged]]
        update, scale = grads.copy(), [0.0] * len(names)   # GD: the gradient itself, at its scale
        steep = []
        for i, (_, norm, eta) in enumerate(plans):
            if norm is None:
                scale[i] = log_scale[i]
            else:
                steep.append(i)
            scale[i] = scale[i] + math.log(eta(self.steps[names[i]]))
        if steep:                                 # one oracle call per norm family
            update[steep] = steepest_directions([plans[i][1] for i in steep], direction[steep])
        for i, nm in enumerate(names):
            self.params[nm].add_(torch.from_numpy(update[i]), alpha=-math.exp(scale[i]))


# -- the optimizer family ---------------------------------------------------------------------
def nsd(norm: Norm, eta: Callable[[int], float]) -> Transformation:
    """Normalized steepest descent W ← W − η_t Δ_t (Gunasekar et al. 2018; Fan et al. 2025)."""
    return chain(steepest(norm), schedule(eta))


def nmd(norm: Norm, eta: Callable[[int], float], beta1: float = 0.9) -> Transformation:
    """Normalized momentum steepest descent: Δ_t from the momentum M_t (Fan et al. 2025)."""
    return chain(momentum(beta1), steepest(norm), schedule(eta))


def adam(eta: Callable[[int], float], beta1: float = 0.9, beta2: float = 0.99, eps: float = 0.0,
         bias_correction: bool = True, exponent: float = 0.5) -> Transformation:
    """Adam (ε = 0 by default: Fan et al. 2025, Gronich & Vardi 2026 analyse Adam without ε)."""
    return chain(adam_preconditioner(beta1, beta2, eps, bias_correction, exponent), schedule(eta))


def gd(eta: Callable[[int], float]) -> Transformation:
    """Plain gradient descent W ← W − η_t ∇L (Soudry et al. 2018)."""
    return chain(schedule(eta))
