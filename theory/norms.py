"""The registry of norms.

A :class:`Norm` declares its mathematics in a few short methods, in the manner of cvxpy's atoms:
its value, its dual norm, its steepest-ascent direction (the linear maximization oracle
``argmax_{‖Δ‖≤1} ⟨G, Δ⟩``) and its symbolic definition. Solver constructions for each norm kind live
in ``numerics.maxmargin``; nothing else in the tree needs to know which norm it is handed.

Norm kinds:
- :class:`Entrywise` ``entrywise:P`` on matrices (``lp:P`` on vectors): (Σ|w_ij|^p)^{1/p}.
  ``entrywise:inf`` = max norm, ``entrywise:1`` = sum norm, ``entrywise:2`` = Frobenius (``fro``).
- :class:`Schatten` ``schatten:P``: ‖σ(W)‖_p. ``schatten:inf`` = spectral, ``schatten:1`` = nuclear,
  ``schatten:2`` is the Frobenius norm and is canonicalized to :class:`Entrywise` (2).
- :class:`BlockMax` / :class:`BlockSum`: weighted max / sum of per-block norms over a tuple of
  parameter blocks (Gronich & Vardi 2026: Muon-Signum and Muon-Adam maximize a margin in
  ``max{c_1‖W_1‖_sp, ..., c_K ‖u‖_∞}``); they are each other's duals.

Ordering used by Fan, Schmidt, Thrampoulidis (2025): for every entrywise or Schatten norm,
‖A‖_max ≤ |||A||| ≤ ‖A‖_sum, hence γ_max ≥ γ_p ≥ γ_sum for the max margins.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np
import sympy as sp

from theory.derivation import Derivation
from theory.errors import UserInputError
from theory.steepest import (dual_exponent, holder_derivation, holder_direction, holder_directions,
                             von_neumann_derivation)


class NormError(UserInputError):
    """A norm string or parameter outside the grammar (user error: reported in one line)."""


def _p_float(p: sp.Expr) -> float:
    return np.inf if p == sp.oo else float(p)


def _p_text(p: sp.Expr) -> str:
    """Exponent as printed in canonical names: ``inf``, ``3``, ``1.5`` (terminating), else ``4/3``."""
    if p == sp.oo:
        return "inf"
    if p.is_Integer:
        return str(p)
    decimal = repr(float(p))
    return decimal if sp.Rational(decimal) == p else sp.sstr(p)


class Norm(ABC):
    """A norm on one parameter array (or, for block norms, on a tuple of arrays)."""

    name: str  # canonical, as printed in every report

    @abstractmethod
    def value(self, w) -> float: ...

    def values(self, batch) -> np.ndarray:
        """The norms of a batch (a sequence of parameters; an array's leading axis indexes it)."""
        return np.array([self.value(w) for w in batch], dtype=float)

    @property
    @abstractmethod
    def dual(self) -> "Norm": ...

    @abstractmethod
    def steepest_direction(self, g):
        """Δ with ‖Δ‖ = 1 and ⟨g, Δ⟩ = ‖g‖_* (a maximizer; any element of the face when not unique)."""

    def steepest_directions(self, batch) -> np.ndarray:
        """:meth:`steepest_direction` of every element of a batch (an array whose leading axis indexes
        it), as one array."""
        return np.stack([self.steepest_direction(g) for g in batch])

    @abstractmethod
    def definition(self) -> sp.Expr:
        """Symbolic definition of the norm."""

    @property
    @abstractmethod
    def strictly_convex(self) -> bool:
        """Whether the unit ball is strictly convex (max-margin *directions* are then unique)."""

    def derivation(self) -> Derivation:
        d = Derivation(f"Norm {self.name}")
        d.step("Definition:", self.definition())
        d.step(f"Dual norm: {self.dual.name}", self.dual.definition())
        return d

    def __repr__(self) -> str:
        return f"Norm({self.name})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Norm) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


@dataclass(frozen=True, eq=False)
class Entrywise(Norm):
    """(Σ_ij |w_ij|^p)^{1/p}; on a vector model this is the ℓp norm (canonical name ``lp:P``)."""

    p: sp.Expr
    vector: bool = False

    def __post_init__(self):
        object.__setattr__(self, "p_value", _p_float(self.p))  # numeric exponent, used in hot loops

    @property
    def name(self) -> str:  # type: ignore[override]
        if self.vector:
            return f"lp:{_p_text(self.p)}"
        return "fro" if self.p == 2 else f"entrywise:{_p_text(self.p)}"

    def value(self, w) -> float:
        a = np.abs(np.asarray(w, dtype=float)).ravel()
        pv = self.p_value
        top = a.max(initial=0.0)
        if top == 0.0 or pv == np.inf:
            return float(top)
        return float(top * np.sum((a / top) ** pv) ** (1.0 / pv))

    def values(self, batch) -> np.ndarray:
        a = np.abs(np.asarray(batch, dtype=float))
        a = a.reshape(len(a), -1)
        top = a.max(axis=1, initial=0.0)
        if self.p_value == np.inf:
            return top
        safe = np.where(top > 0, top, 1.0)
        return top * np.sum((a / safe[:, None]) ** self.p_value, axis=1) ** (1.0 / self.p_value)

    @cached_property
    def dual(self) -> "Entrywise":
        return Entrywise(dual_exponent(self.p), self.vector)

    def steepest_direction(self, g):
        g = np.asarray(g, dtype=float)
        return holder_direction(g.ravel(), self.p_value).reshape(g.shape)

    def steepest_directions(self, batch) -> np.ndarray:
        batch = np.asarray(batch, dtype=float)
        return holder_directions(batch.reshape(len(batch), -1), self.p_value).reshape(batch.shape)

    def definition(self) -> sp.Expr:
        w = sp.IndexedBase("w")
        i, j = sp.symbols("i j", integer=True)
        if self.vector:
            if self.p == sp.oo:
                return sp.Max(sp.Abs(w[i]))
            return sp.Sum(sp.Abs(w[i]) ** self.p, (i, 1, sp.Symbol("d"))) ** (1 / self.p)
        if self.p == sp.oo:
            return sp.Max(sp.Abs(w[i, j]))
        return sp.Sum(sp.Abs(w[i, j]) ** self.p, (i, 1, sp.Symbol("k")),
                      (j, 1, sp.Symbol("d"))) ** (1 / self.p)

    @property
    def strictly_convex(self) -> bool:
        return 1.0 < self.p_value < np.inf

    def derivation(self) -> Derivation:
        d = super().derivation()
        d.extend(holder_derivation())
        return d


@dataclass(frozen=True, eq=False)
class Schatten(Norm):
    """‖σ(W)‖_p on matrices (``schatten:inf`` spectral, ``schatten:1`` nuclear)."""

    p: sp.Expr

    def __post_init__(self):
        object.__setattr__(self, "p_value", _p_float(self.p))
        object.__setattr__(self, "_spectrum_norm", Entrywise(self.p, vector=True))

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"schatten:{_p_text(self.p)}"

    def value(self, w) -> float:
        w = np.asarray(w, dtype=float)
        if w.ndim != 2:
            raise NormError(f"{self.name} needs a matrix, got an array of shape {w.shape}")
        return self._spectrum_norm.value(np.linalg.svd(w, compute_uv=False))

    def values(self, batch) -> np.ndarray:
        batch = np.asarray(batch, dtype=float)
        if batch.ndim != 3:
            raise NormError(f"{self.name} needs a batch of matrices, got shape {batch.shape}")
        return self._spectrum_norm.values(np.linalg.svd(batch, compute_uv=False))

    @cached_property
    def dual(self) -> "Norm":
        return make_norm("schatten", dual_exponent(self.p))

    def steepest_direction(self, g):
        g = np.asarray(g, dtype=float)
        if g.ndim != 2:
            raise NormError(f"{self.name} needs a matrix, got an array of shape {g.shape}")
        return self.steepest_directions(g[None])[0]

    def steepest_directions(self, batch) -> np.ndarray:
        batch = np.asarray(batch, dtype=float)
        if batch.ndim != 3:
            raise NormError(f"{self.name} needs a batch of matrices, got shape {batch.shape}")
        return schatten_directions(batch, [self.p_value] * len(batch))

    def definition(self) -> sp.Expr:
        sigma, i = sp.IndexedBase("sigma"), sp.Symbol("i", integer=True)
        r = sp.Symbol("r")
        if self.p == sp.oo:
            return sp.Max(sigma[i])
        return sp.Sum(sigma[i] ** self.p, (i, 1, r)) ** (1 / self.p)

    @property
    def strictly_convex(self) -> bool:
        return 1.0 < self.p_value < np.inf

    def derivation(self) -> Derivation:
        d = super().derivation()
        d.extend(von_neumann_derivation())
        return d


_EPS = float(np.finfo(float).eps)
try:                                          # the gufunc numpy.linalg.svd(..., full_matrices=False) runs
    from numpy.linalg import _umath_linalg as _LINALG
    _SVD_REDUCED = _LINALG.svd_s
except (ImportError, AttributeError):          # another numpy: its public svd
    _SVD_REDUCED = None


def _svd(batch: np.ndarray):
    """``numpy.linalg.svd(batch, full_matrices=False)`` of a stacked float64 array, calling the
    LAPACK gufunc that function calls (same arguments: the same numbers, bitwise) without its
    per-call argument checks and type dispatch. A result that is not finite (LAPACK did not converge,
    e.g. on a NaN input) is recomputed by ``numpy.linalg.svd``, which raises ``LinAlgError`` as it
    always did. A non-finite input raises ``LinAlgError`` before LAPACK is called (an infinite entry
    made this machine's gesdd loop without end, through either call, seen 2026-12-07)."""
    if not np.isfinite(batch).all():      # LAPACK's gesdd can loop without end on an infinite entry
        raise np.linalg.LinAlgError("SVD of a matrix with a non-finite entry")
    if _SVD_REDUCED is not None and batch.dtype == np.float64 and batch.ndim >= 2:
        with np.errstate(all="ignore"):
            u, s, vt = _SVD_REDUCED(batch, signature="d->ddd")
        if np.isfinite(s).all():
            return u, s, vt
    return np.linalg.svd(batch, full_matrices=False)


def _schatten(batch: np.ndarray, by_p) -> np.ndarray:
    """:func:`schatten_directions` with the rows of each distinct exponent given: ``by_p`` is a list of
    (p, rows) (rows None: every matrix)."""
    if batch.shape[1] < batch.shape[2]:      # LAPACK is faster on the tall orientation (~1.5×)
        return _schatten(batch.transpose(0, 2, 1), by_p).transpose(0, 2, 1)
    u, s, vt = _svd(batch)
    # Singular values below round-off are zero for the oracle (rank-deficient G).
    top = s.max(axis=-1, keepdims=True, initial=0.0)
    s = np.where(s > top * max(batch.shape[1:]) * _EPS, s, 0.0)
    if len(by_p) == 1 and by_p[0][1] is None:
        weights = holder_directions(s, by_p[0][0])
    else:
        weights = np.empty_like(s)
        for pv, rows in by_p:
            weights[rows] = holder_directions(s[rows], pv)
    u *= weights[:, None, :]
    return u @ vt


def _rows_by_value(values: Sequence) -> list:
    """[(value, rows)] over the distinct values in order of appearance; rows None when one value
    covers every position, a slice when its positions are contiguous, else an index array."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) == 1:
        return [(distinct[0], None)]
    out = []
    for v in distinct:
        idx = [i for i, w in enumerate(values) if w == v]
        out.append((v, _selector(idx)))
    return out


def _selector(idx: list[int]):
    """A slice for contiguous increasing indices (a view, no copy), else an index array."""
    if idx == list(range(idx[0], idx[0] + len(idx))):
        return slice(idx[0], idx[0] + len(idx))
    return np.array(idx, dtype=np.intp)


def schatten_directions(batch: np.ndarray, p_values: Sequence[float]) -> np.ndarray:
    """U diag(δ_p(σ)) Vᵀ for every matrix of a (m, r, c) batch, matrix i in the Schatten p_values[i]
    norm: one stacked SVD (LAPACK's gesdd per matrix, as for a single one), then the Hölder map of
    each row of singular values, one call per distinct exponent."""
    return _schatten(batch, _rows_by_value([float(q) for q in p_values]))


class OraclePlan:
    """:func:`steepest_directions` for a fixed list of norms, the grouping into norm families done
    once: a caller that applies the same norms every step (``numerics.optim.TransformStack``) builds
    it once and calls it on each step's batch."""

    def __init__(self, norms: Sequence[Norm]):
        groups: dict = {}
        for i, n in enumerate(norms):
            key = "schatten" if isinstance(n, Schatten) else \
                (n.p_value, n.vector) if isinstance(n, Entrywise) else id(n)
            groups.setdefault(key, []).append(i)
        self.size = len(norms)
        self.groups = []
        for key, idx in groups.items():
            first = norms[idx[0]]
            if key == "schatten":
                action = ("schatten", _rows_by_value([norms[i].p_value for i in idx]))
            elif isinstance(first, Entrywise):
                action = ("holder", first.p_value)
            else:
                action = ("norm", first)
            self.groups.append((None if len(idx) == self.size else _selector(idx), action))

    @staticmethod
    def _apply(action, batch: np.ndarray) -> np.ndarray:
        kind, arg = action
        if kind == "schatten":
            return _schatten(batch, arg)
        if kind == "holder":
            return holder_directions(batch.reshape(len(batch), -1), arg).reshape(batch.shape)
        return arg.steepest_directions(batch)

    def __call__(self, batch) -> np.ndarray:
        batch = np.asarray(batch, dtype=float)
        if len(batch) != self.size:
            raise ValueError(f"a batch of {len(batch)} for {self.size} norms")
        if len(self.groups) == 1:
            return self._apply(self.groups[0][1], batch)
        out = np.empty_like(batch)
        for rows, action in self.groups:
            out[rows] = self._apply(action, batch[rows])
        return out


def steepest_directions(norms: Sequence[Norm], batch) -> np.ndarray:
    """The steepest direction of ``batch[i]`` in ``norms[i]`` for every i, with one oracle call per
    norm family: one stacked SVD for all the Schatten norms whatever their p, one Hölder map per
    entrywise exponent (and shape kind), the other norms one by one (:class:`OraclePlan`)."""
    return OraclePlan(norms)(batch)


@dataclass(frozen=True, eq=False)
class BlockMax(Norm):
    """max_b c_b ‖θ_b‖_b over parameter blocks θ = (θ_1, ..., θ_B) (Gronich & Vardi 2026)."""

    norms: tuple[Norm, ...]
    weights: tuple[float, ...]

    @property
    def name(self) -> str:  # type: ignore[override]
        return "blockmax[" + ",".join(f"{c:g}*{n.name}" for n, c in zip(self.norms, self.weights)) + "]"

    def value(self, w: Sequence) -> float:
        return max(c * n.value(b) for n, c, b in zip(self.norms, self.weights, w))

    @property
    def dual(self) -> "BlockSum":
        return BlockSum(tuple(n.dual for n in self.norms), tuple(1.0 / c for c in self.weights))

    def steepest_direction(self, g: Sequence):
        # ⟨g, Δ⟩ = Σ_b ⟨g_b, Δ_b⟩ with each block constrained separately by c_b‖Δ_b‖ ≤ 1.
        return tuple(n.steepest_direction(b) / c for n, c, b in zip(self.norms, self.weights, g))

    def definition(self) -> sp.Expr:
        return sp.Max(*[sp.Float(c) * sp.Symbol(f"‖θ_{i}‖_{{{n.name}}}")
                        for i, (n, c) in enumerate(zip(self.norms, self.weights), 1)])

    @property
    def strictly_convex(self) -> bool:
        return False


def block_weight_distortion(a: Norm, b: Norm) -> float | None:
    """(sup_θ ‖θ‖_a/‖θ‖_b)·(sup_θ ‖θ‖_b/‖θ‖_a) for two block maxima over the same block norms, with
    weights c and c': max_b r_b / min_b r_b, r_b = c_b/c'_b (put all of θ in one block). It is 1 iff
    one norm is a multiple of the other (the same margin problem up to scale), and within 1 + ε the
    two margin problems' KKT conditions differ by closing a relative gap of at most ε between blocks
    (the τ-tie of ``numerics.kkt_residual``). None for any other pair (not computed here)."""
    if not (isinstance(a, BlockMax) and isinstance(b, BlockMax)):
        return None
    if [n.name for n in a.norms] != [n.name for n in b.norms]:
        return None
    ratios = [x / y for x, y in zip(a.weights, b.weights)]
    return max(ratios) / min(ratios)


@dataclass(frozen=True, eq=False)
class BlockSum(Norm):
    """Σ_b c_b ‖θ_b‖_b over parameter blocks; the dual of :class:`BlockMax`."""

    norms: tuple[Norm, ...]
    weights: tuple[float, ...]

    @property
    def name(self) -> str:  # type: ignore[override]
        return "blocksum[" + ",".join(f"{c:g}*{n.name}" for n, c in zip(self.norms, self.weights)) + "]"

    def value(self, w: Sequence) -> float:
        return sum(c * n.value(b) for n, c, b in zip(self.norms, self.weights, w))

    @property
    def dual(self) -> BlockMax:
        return BlockMax(tuple(n.dual for n in self.norms), tuple(1.0 / c for c in self.weights))

    def steepest_direction(self, g: Sequence):
        # All mass on the block with the largest ‖g_b‖_* / c_b (ties split equally).
        scores = np.array([n.dual.value(b) / c for n, c, b in zip(self.norms, self.weights, g)])
        ties = scores >= scores.max() * (1 - 1e-12)
        share = 1.0 / ties.sum()
        return tuple(share * n.steepest_direction(b) / c if t else np.zeros_like(np.asarray(b, float))
                     for n, c, b, t in zip(self.norms, self.weights, g, ties))

    def definition(self) -> sp.Expr:
        return sp.Add(*[sp.Float(c) * sp.Symbol(f"‖θ_{i}‖_{{{n.name}}}")
                        for i, (n, c) in enumerate(zip(self.norms, self.weights), 1)])

    @property
    def strictly_convex(self) -> bool:
        return False


# ----------------------------------------------------------------------------------------------
# Grammar: entrywise:P | schatten:P | lp:P | max | sum | fro | spectral | nuclear | l1 | l2 | linf
# with P an integer, decimal or fraction in the supported range (SUPPORTED_EXPONENTS), or "inf".
# Parsed by regular expressions;
# user strings are never evaluated.
# ----------------------------------------------------------------------------------------------
_ALIASES = {
    "max": ("entrywise", "inf"), "sum": ("entrywise", "1"), "fro": ("entrywise", "2"),
    "frobenius": ("entrywise", "2"), "spectral": ("schatten", "inf"), "nuclear": ("schatten", "1"),
    "l1": ("lp", "1"), "l2": ("lp", "2"), "linf": ("lp", "inf"),
}
_NUMBER = re.compile(r"^(inf|\d+(\.\d+)?|\d+/\d+)$")
_KINDS = ("entrywise", "schatten", "lp")
_MAX_EXPONENT_TEXT = 24   # characters: longer numbers are not exponents anyone means
# The supported exponents: p = 1, p = inf, and P_MIN ≤ p ≤ P_MAX. Between 1 and P_MIN the norm is
# numerically the 1-norm but not exactly it, and beyond P_MAX it is nearly the ∞-norm: the dual
# exponent p/(p − 1) is then so close to 1 (or so large) that the max-margin solvers
# (numerics.maxmargin) cannot certify the problem; use p = 1 or inf there.
P_MIN, P_MAX = sp.Rational(101, 100), sp.Integer(6)
SUPPORTED_EXPONENTS = f"p = 1, p = inf, or {_p_text(P_MIN)} ≤ p ≤ {_p_text(P_MAX)}"


def parse_exponent(text: str) -> sp.Expr:
    """The exponent P of ``kind:P``: ``inf``, an integer, a decimal or a fraction, in the supported
    range :data:`SUPPORTED_EXPONENTS`."""
    text = text.strip().lower()
    if len(text) > _MAX_EXPONENT_TEXT or not _NUMBER.match(text):
        raise NormError(f"norm exponent {text[:_MAX_EXPONENT_TEXT]!r} is not a number ≥ 1 or 'inf' "
                        f"(supported: {SUPPORTED_EXPONENTS})")
    if "/" in text and int(text.partition("/")[2]) == 0:
        raise NormError(f"norm exponent {text!r} has a zero denominator")
    p = sp.oo if text == "inf" else sp.Rational(text)
    if p < 1:
        raise NormError(f"norm exponent p = {text} < 1 is not a norm (need p ≥ 1)")
    if p != 1 and p != sp.oo and not P_MIN <= p <= P_MAX:
        raise NormError(f"norm exponent p = {text} is outside the supported range "
                        f"({SUPPORTED_EXPONENTS}): the max-margin solvers cannot certify it")
    return p


def make_norm(kind: str, p: sp.Expr, vector: bool = False) -> Norm:
    """The canonical norm object of a kind and exponent (``schatten:2`` is the Frobenius norm)."""
    if kind == "lp" or (kind == "entrywise" and vector):
        return Entrywise(p, vector=True)
    if vector:
        raise NormError(f"{kind}:{_p_text(p)} needs a matrix model (use --multiclass)")
    if kind == "entrywise" or (kind == "schatten" and p == 2):
        return Entrywise(p)
    if kind == "schatten":
        return Schatten(p)
    raise NormError(f"unknown norm kind {kind!r}")


def parse_norm(text: str, model: str = "multiclass") -> Norm:
    """Parse a NORM string of the public grammar for a ``binary`` (vector) or ``multiclass`` model."""
    if model not in ("binary", "multiclass"):
        raise NormError(f"model must be 'binary' or 'multiclass', got {model!r}")
    raw = text.strip().lower()
    kind, _, exponent = raw.partition(":")
    if not exponent:
        if raw not in _ALIASES:
            raise NormError(f"unknown norm {text!r}; expected entrywise:P, schatten:P, lp:P "
                            f"({SUPPORTED_EXPONENTS}) or one of {', '.join(_ALIASES)}")
        kind, exponent = _ALIASES[raw]
    if kind not in _KINDS:
        raise NormError(f"unknown norm kind {kind!r} in {text!r}; expected one of {', '.join(_KINDS)}")
    vector = model == "binary"
    if kind == "lp" and not vector:
        kind = "entrywise"
    return make_norm(kind, parse_exponent(exponent), vector=vector)
