"""Pieces the optimizer family (``numerics.optim``) needs for homogeneous networks.

- :func:`scale_by_block`: fixed per-parameter learning-rate multipliers (per-layer multipliers and
  shape factors of practical Muon variants, e.g. √max(1, rows/cols)); Gronich & Vardi (2026): they
  turn the max of the layers' norms into a weighted max (see ``theory.optimizer_geometry``).
- :func:`relative_step`: gradient descent with the loss-based learning rate of Lyu & Li (2020)'s
  experiments, η_t = α_t / L(θ_t), with α_t chosen so that every step moves θ by the fraction δ of
  its ℓ2 norm: a time reparametrization of gradient flow that keeps its trajectory (as δ → 0) while
  the norm grows geometrically, so the direction gets time to converge; optionally capped at the
  order of step Lyu & Li's GD analysis allows (δ_t ≤ c/|log L|).
- :func:`muon_shape_factor`: the per-matrix learning-rate factors of practical Muon variants.
- :class:`NetworkStack`: the members of a population stepped together over a leading member axis
  (NSD, NMD, Muon and shape-factor Muon on (W, u)), bitwise equal to stepping each alone.

Schedules are ``numerics.optim.PowerSchedule`` (η₀ t^{−a}, the schedules of Gronich & Vardi 2026,
whose admissibility ``theory.schedules`` decides) or :class:`HeldPowerSchedule`, the same tail after a
derived prefix held at η₀ t_w^{−a} (:func:`hold_steps`: no step of the prefix moves a neuron by more
than a fraction ρ of its initial size; :func:`unit_step_reach` is how far one unit oracle step can move
a neuron's weights).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from numerics.optim import Scaled, Transformation
from theory.norms import BlockMax, Entrywise, OraclePlan, Schatten


def scale_by_block(factors: Sequence[float]) -> Transformation:
    """Multiply the update of parameter i by ``factors[i]`` (> 0)."""
    factors = tuple(float(f) for f in factors)
    if any(not f > 0 for f in factors):
        raise ValueError(f"block learning-rate factors must be positive, got {factors}")

    def update(grads, state, step):
        if len(grads.mantissa) != len(factors):
            raise ValueError(f"{len(factors)} factors for {len(grads.mantissa)} parameters")
        return Scaled(tuple(f * m for f, m in zip(factors, grads.mantissa)), grads.log_scale), state

    return Transformation(lambda params: None, update, ("scale_blocks", factors))


def relative_step(delta: float, loss_cap: float | None = None) -> Transformation:
    """Update δ_t‖θ‖₂ · g/‖g‖₂ (θ all parameters, g the incoming direction ∇ log L): GD with the
    learning rate α_t/L(θ_t) of Lyu & Li (2020), α_t = δ_t‖θ_t‖/‖∇ log L(θ_t)‖.

    Without ``loss_cap``, δ_t = δ: the loss-based rate of Lyu & Li's experiments, under which ‖θ‖
    grows geometrically. With it, δ_t = min(δ, c/|log L(θ_t)|), the order of the step their GD
    analysis allows: along the margin direction q = log 1/L grows like ‖θ‖^L, the loss's curvature
    along the gradient is about L(θ)·(L q/‖θ‖)², so the descent lemma's second-order term matches
    the first once the relative step reaches order 1/q. Beyond it the constant step zigzags with
    period 2 (measured on the Lyu & Li clusters once δ·|log L| exceeds 0.5–0.9) and the smoothed
    margin can drop; under the cap ‖θ‖^L grows only linearly in t."""
    if not 0 < delta < 1:
        raise ValueError(f"relative step δ must lie in (0, 1), got {delta}")
    if loss_cap is not None and not loss_cap > 0:
        raise ValueError(f"loss cap c must be positive, got {loss_cap}")

    def init(params):
        return tuple(params)  # references: TransformOptimizer updates them in place

    def update(grads, params, step):
        # x·x is x**2 to the bit (torch's pow special-cases 2); the sums and their order are unchanged
        theta = math.sqrt(sum(float((p * p).sum()) for p in params))
        g = math.sqrt(sum(float((m * m).sum()) for m in grads.mantissa))
        if g == 0.0 or theta == 0.0:
            return Scaled(tuple(torch.zeros_like(m) for m in grads.mantissa), 0.0), params
        d = delta if loss_cap is None else min(delta, loss_cap / max(abs(grads.log_scale), 1e-300))
        return Scaled(tuple((d * theta / g) * m for m in grads.mantissa), 0.0), params

    return Transformation(init, update)


@dataclass(frozen=True)
class HeldPowerSchedule:
    """η_t = η₀ max(t, t_w)^{−a}: held at η₀ t_w^{−a} for the first t_w steps (the prefix), then
    ``numerics.optim.PowerSchedule``'s η₀ t^{−a}, to the bit (the same expression for t ≥ t_w). Only
    the tail enters Gronich & Vardi's conditions (∫η = ∞, η = o(t^{1/L−1}): ``theory.schedules``), so
    it is admissible iff η₀ t^{−a} is. ``hold`` = 1 is the power schedule itself."""

    eta0: float
    decay: float
    hold: int = 1

    def __post_init__(self):
        if not (isinstance(self.hold, int) and self.hold >= 1):
            raise ValueError(f"the prefix length t_w must be an integer ≥ 1, got {self.hold!r}")

    def __call__(self, t: int) -> float:
        return self.eta0 * max(t, self.hold) ** (-self.decay)

    def describe(self) -> str:
        if self.hold == 1:
            return f"eta_t = {self.eta0:g} * t^(-{self.decay:g})"
        return f"eta_t = {self.eta0:g} * max(t, {self.hold})^(-{self.decay:g})"


def unit_step_reach(norm, fan_in: int) -> tuple[float, float]:
    """How far one unit step of the steepest-descent oracle in ``norm`` can move one neuron of a
    two-layer network: (the ℓ2 length of its row of W, |its entry of u|), the largest over every
    direction Δ of unit ``norm``. ``norm``: an entrywise ℓp of the block or of all of θ (a row is
    ``fan_in`` entries of a vector with ‖Δ‖_p ≤ 1: at most fan_in^{max(0, 1/2 − 1/p)}, √fan_in for
    ℓ∞; one entry at most 1), or a Schatten norm of W (a row of a matrix has ℓ2 length ≤ its spectral
    norm ≤ any Schatten norm: 1) or of u (1 × m: its ℓ2 norm; an entry at most 1). Adam's first step,
    m̂₁/√v̂₁ = sign(g₁), is the ℓ∞ one."""
    if isinstance(norm, Schatten):
        return 1.0, 1.0
    if isinstance(norm, Entrywise):
        p = float(norm.p)
        exponent = 0.5 if math.isinf(p) else max(0.0, 0.5 - 1.0 / p)
        return float(fan_in) ** exponent, 1.0
    raise ValueError(f"unit_step_reach: an entrywise or Schatten norm, got {norm}")


def hold_steps(eta0: float, decay: float, reach: float, size: float, rho: float) -> int:
    """The prefix length t_w of :class:`HeldPowerSchedule`: the smallest t_w ≥ 1 with
    η₀ t_w^{−a}·``reach`` ≤ ρ·``size``, so that every step of η₀ max(t, t_w)^{−a} (at most its first)
    moves a neuron whose oracle step reaches ``reach`` (:func:`unit_step_reach`) by at most ρ × its
    initial ``size``: t_w = ⌈(η₀·reach/(ρ·size))^{1/a}⌉, 1 when the first step already does."""
    if not (eta0 > 0 and decay > 0 and reach > 0 and size > 0 and rho > 0):
        raise ValueError(f"hold_steps needs positive arguments, got η₀ {eta0}, a {decay}, reach {reach}, "
                         f"size {size}, ρ {rho}")
    ratio = eta0 * reach / (rho * size)
    if ratio <= 1.0:
        return 1
    t = max(1, math.ceil(ratio ** (1.0 / decay)))
    while t > 1 and eta0 * (t - 1) ** (-decay) * reach <= rho * size:   # the float rounding of the root
        t -= 1
    while eta0 * t ** (-decay) * reach > rho * size:
        t += 1
    return t


SHAPE_CONVENTIONS = ("max1", "ratio")


def muon_shape_factor(shape: Sequence[int], convention: str = "max1") -> float:
    """Per-matrix learning-rate factor of practical Muon variants for a (rows × cols) = (fan_out ×
    fan_in) matrix: ``max1`` √max(1, rows/cols) (Keller Jordan's Muon), ``ratio`` √(rows/cols) (the
    spectral scaling condition of Bernstein and coauthors)."""
    rows, cols = shape
    if convention == "max1":
        return math.sqrt(max(1.0, rows / cols))
    if convention == "ratio":
        return math.sqrt(rows / cols)
    raise ValueError(f"unknown shape-factor convention {convention!r}; expected one of {SHAPE_CONVENTIONS}")


class NetworkStack:
    """Several ``TransformOptimizer`` s on parameter tuples of one shape (e.g. a network's (W, u)),
    stepped together over a leading member axis: the multi-tensor counterpart of
    ``numerics.optim.TransformStack`` (which takes one tensor per member). It takes over the members
    of the form [momentum(β₁),] steepest(norm), [scale_by_block(factors),] schedule(η) with the norm
    entrywise (on the concatenation of all tensors, as ``steepest`` treats it) or a block max of
    entrywise and Schatten norms (one block per tensor): NSD, NMD, Muon and its shape-factor variant
    (:meth:`plan`). Each step: the momentum averages as one stacked array, then one oracle call per
    norm family and block (``theory.norms.OraclePlan``, built once per set of members: one stacked
    SVD for the Schatten blocks of every member, one Hölder map per entrywise exponent), then each member's
    θ_b ← θ_b − η_t f_b Δ_b. Each member keeps its own step count, so members may join or leave any
    step. The arithmetic is ``TransformOptimizer.apply``'s, operation for operation, so the iterates
    are the same to the last bit (tests/numerics/test_homogeneous_optim.py)."""

    def __init__(self, optimizers: dict):
        self.plans = {nm: self.plan(opt) for nm, opt in optimizers.items()}
        if None in self.plans.values():
            raise ValueError("NetworkStack.plan: not every optimizer can be stacked")
        self.params = {nm: list(opt._params) for nm, opt in optimizers.items()}
        shapes = {tuple(tuple(p.shape) for p in ps) for ps in self.params.values()}
        if len(shapes) > 1:
            raise ValueError(f"stacked optimizers need one parameter shape, got {sorted(shapes)}")
        self.shapes = next(iter(shapes), ())
        sizes = [math.prod(s) for s in self.shapes]
        self.bounds = [(int(a), int(a + n)) for a, n in zip(np.cumsum([0] + sizes[:-1]), sizes)]
        self.row = {nm: j for j, nm in enumerate(optimizers)}
        self.steps = dict.fromkeys(optimizers, 0)
        self.average = np.zeros((len(optimizers), sum(sizes)))
        self.average_scale = [0.0] * len(optimizers)
        self._layouts: dict = {}     # _oracle's row layout per list of norms (keyed by their ids, kept alive)

    @staticmethod
    def plan(opt) -> tuple | None:
        """(β₁ or None, norm, block factors or None, η) of a stackable optimizer, else None."""
        from numerics.optim import TransformOptimizer

        spec = opt.transform.spec if isinstance(opt, TransformOptimizer) else None
        if spec is None or spec[0] != "chain":
            return None
        parts = list(spec[1])
        beta = parts.pop(0)[1] if parts and parts[0][0] == "momentum" else None
        if not parts or parts[0][0] != "steepest":
            return None
        norm = parts.pop(0)[1]
        factors = parts.pop(0)[1] if parts and parts[0][0] == "scale_blocks" else None
        if len(parts) != 1 or parts[0][0] != "schedule":
            return None
        count = len(opt._params)
        if factors is not None and len(factors) != count:
            return None
        if isinstance(norm, BlockMax):
            if len(norm.norms) != count or not all(isinstance(n, (Entrywise, Schatten)) for n in norm.norms):
                return None
            if any(isinstance(n, Schatten) and p.dim() != 2 for n, p in zip(norm.norms, opt._params)):
                return None
        elif not isinstance(norm, Entrywise):
            return None
        return beta, norm, factors, parts[0][1]

    @classmethod
    def of(cls, optimizers: dict) -> "NetworkStack | None":
        """The stack of the stackable ones among ``optimizers`` (None if there are none)."""
        able = {nm: opt for nm, opt in optimizers.items() if cls.plan(opt) is not None}
        return cls(able) if able else None

    def __contains__(self, name) -> bool:
        return name in self.row

    def _momentum(self, names, plans, flat, log_scale):
        """The oracle's input: g, or M_t = β₁ M_{t−1} + (1 − β₁) g_t exp-scaled as ``optim._ema``."""
        averaged = [i for i, plan in enumerate(plans) if plan[0] is not None]
        if not averaged:
            return flat
        direction = flat.copy()
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
        if fresh:
            self.average[[self.row[names[i]] for i in fresh]] = flat[fresh]
        if kept:
            rows = [self.row[names[i]] for i in kept]
            self.average[rows] = np.array(a)[:, None] * self.average[rows] + np.array(b)[:, None] * flat[kept]
        direction[averaged] = self.average[[self.row[names[i]] for i in averaged]]
        return direction

    def _oracle(self, norms, direction) -> list[np.ndarray]:
        """The steepest direction of each row of ``direction`` (k, P) in ``norms[i]``, per tensor
        (a list of (k, *shape_b) arrays), as ``numerics.optim.steepest`` computes it."""
        k = len(norms)
        key = tuple(map(id, norms))
        lay = self._layouts.get(key)
        if lay is None:           # the rows of each kind, their norms and weights: once per set of norms
            flat_rows = [i for i, n in enumerate(norms) if not isinstance(n, BlockMax)]
            block_rows = [i for i, n in enumerate(norms) if isinstance(n, BlockMax)]
            blocks = [(OraclePlan([norms[i].norms[b] for i in block_rows]) if block_rows else None,
                       np.array([norms[i].weights[b] for i in block_rows], dtype=float).reshape(
                           (-1,) + (1,) * len(self.shapes[b]))) for b in range(len(self.bounds))]
            flat = OraclePlan([norms[i] for i in flat_rows]) if flat_rows else None
            lay = self._layouts[key] = (list(norms), flat_rows, flat, block_rows, blocks)
        _, flat_rows, flat_oracle, block_rows, blocks = lay
        out = [np.empty((k, *shape)) for shape in self.shapes]
        if flat_rows:                                   # entrywise: the concatenation is one vector
            d = flat_oracle(direction[flat_rows])
            for b, (lo, hi) in enumerate(self.bounds):
                out[b][flat_rows] = d[:, lo:hi].reshape(len(flat_rows), *self.shapes[b])
        if block_rows:                                  # block max: each block's own LMO / c_b
            for b, (lo, hi) in enumerate(self.bounds):
                block = direction[block_rows, lo:hi].reshape(len(block_rows), *self.shapes[b])
                d = blocks[b][0](block)
                out[b][block_rows] = d / blocks[b][1]
        return out

    @torch.no_grad()
    def step(self, names: Sequence[str], grads: Sequence[np.ndarray], log_scale: Sequence[float]) -> dict:
        """One step of the members ``names``, given their gradients exp(log_scale)·grads (one stacked
        array per parameter tensor, members in the order of ``names``: the trainer's ∇ log L and
        log L). Returns {name: exception} for the members whose oracle raised (a non-finite input to
        an SVD; each is tried alone, as its own optimizer would be, and not updated); the others step."""
        names = list(names)
        if not names:
            return {}
        plans = [self.plans[nm] for nm in names]
        for nm in names:
            self.steps[nm] += 1
        k = len(names)
        flat = np.concatenate([np.asarray(g, dtype=float).reshape(k, -1) for g in grads], axis=1)
        direction = self._momentum(names, plans, flat, log_scale)
        norms = [plan[1] for plan in plans]
        failed, good = {}, list(range(k))
        try:
            update = self._oracle(norms, direction)
        except Exception:  # noqa: BLE001  rare (a non-finite input to an SVD): find the members that raise
            for i in range(k):
                try:
                    self._oracle([norms[i]], direction[[i]])
                except Exception as exc:  # noqa: BLE001 (reported per member, as step_member does)
                    failed[names[i]] = exc
            good = [i for i in good if names[i] not in failed]
            if not good:
                return failed
            update = self._oracle([norms[i] for i in good], direction[good])
        # f_b·Δ_b for every member at once (elementwise, so each row is the member's own product;
        # a member without factors is multiplied by 1.0, which is exact), one tensor view per row
        scaled = any(plans[i][2] is not None for i in good)
        rows = []
        for b, shape in enumerate(self.shapes):
            u = update[b]
            if scaled:
                f = np.array([1.0 if plans[i][2] is None else float(plans[i][2][b]) for i in good])
                u = f.reshape((-1,) + (1,) * len(shape)) * u
            rows.append(torch.from_numpy(u).unbind(0))
        for j, i in enumerate(good):
            scale = 0.0 + math.log(plans[i][3](self.steps[names[i]]))
            alpha = -math.exp(scale)
            for b, p in enumerate(self.params[names[i]]):
                p.add_(rows[b][j], alpha=alpha)
        return failed


def step_network_stack(stack: NetworkStack, names: list[str], grads: Sequence[np.ndarray], log_l: list[float],
                       t: int, trajectories: dict) -> None:
    """Step t of the stacked members ``names`` (:meth:`NetworkStack.step`); a member whose oracle
    raised is marked ``error`` with the message ``numerics.train.step_member`` gives (all of them if
    the stack itself raises)."""
    try:
        failed = stack.step(names, grads, log_l)
    except Exception as exc:  # noqa: BLE001
        failed = dict.fromkeys(names, exc)
    for nm, exc in failed.items():
        trajectories[nm].status = "error"
        trajectories[nm].message = f"optimizer step {t} raised {type(exc).__name__}: {exc}"
