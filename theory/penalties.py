"""The dictionary of penalties for gradient matching (Rudoler, Tan, Hooker, Kording 2025).

Each penalty R(θ) is a sympy expression; its gradient is obtained by ``sympy.diff`` and compiled with
``lambdify`` (never written by hand). Coefficients follow the papers' convention λ·R(θ) with
R = ‖θ‖² for ℓ2 (so torch's ``weight_decay = wd`` is λ = wd/2).

Kinds:
- entrywise, Σ_i f(|θ_i|) over every parameter, f given by a profile f(u), u ≥ 0 (even penalty, so
  ∂R/∂θ_i = sign(θ_i) f'(|θ_i|)):  ``l2`` (u²), ``lp:P`` (u^P, P > 1), ``huber:DELTA`` (smoothed ℓ1:
  u²/(2δ) for u ≤ δ, u − δ/2 beyond; → |θ| as δ → 0). Variants: ``layer_l2`` (one coefficient per
  parameter tensor), ``diag_l2`` (one per coordinate: the closed form Λ̂_ii (docs/theory/gradient-matching.md)),
  ``dropout_l2`` (Σ_kj c_j W_kj² with c_j = (XᵀX)_jj/(2n), the data-dependent ridge that input
  dropout induces in linear regression, Wager et al. 2013).
- spectral, Σ_i f(σ_i(W)) over the weight matrices (2-D tensors): ``nuclear`` (σ), ``schatten:P``
  (σ^P). Gradient U diag(f'(σ)) Vᵀ (Lewis 1995, unitarily invariant functions).
- ``gradnorm``: ‖∇L(θ)‖², whose gradient 2 ∇²L ∇L is derived here and evaluated by the model's
  automatic differentiation (numerics), since it involves the loss.

Names are parsed with a regular grammar; user strings are never evaluated.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from theory.derivation import Derivation
from theory.errors import UserInputError

u = sp.Symbol("u", nonnegative=True)   # |θ_i| for entrywise penalties, σ_i for spectral ones
w = sp.Symbol("w", real=True)          # one parameter θ_i


class PenaltyError(UserInputError):
    """A penalty name outside the dictionary's grammar (user error: reported in one line)."""


@dataclass(frozen=True)
class Penalty:
    """One entry of the dictionary (see the module docstring for the kinds)."""

    name: str                  # canonical
    kind: str                  # "entrywise" | "spectral" | "gradient_norm"
    profile: sp.Expr | None    # f(u) for entrywise (u = |θ_i|) and spectral (u = σ_i) kinds
    split: str = "none"        # "none" | "tensor" (one coefficient per tensor) | "coordinate"
    weights: str | None = None  # None | "dropout" (c_j = (XᵀX)_jj/(2n) on the input weights)

    # -- symbolic ----------------------------------------------------------------------------
    def definition(self) -> sp.Expr:
        i, k, j = sp.symbols("i k j", integer=True)
        theta, W, sigma, c = (sp.IndexedBase(s) for s in ("theta", "W", "sigma", "c"))
        P, r = sp.symbols("P r", integer=True, positive=True)
        if self.kind == "gradient_norm":
            return sp.Sum(sp.Derivative(sp.Function("L")(theta), theta[i]) ** 2, (i, 1, P))
        if self.kind == "spectral":
            return sp.Sum(self.profile.subs(u, sigma[i]), (i, 1, r))
        if self.weights == "dropout":
            return sp.Sum(c[j] * W[k, j] ** 2, (k, 1, sp.Symbol("K")), (j, 1, sp.Symbol("D")))
        term = self.profile.subs(u, sp.Abs(theta[i]))
        if self.split == "coordinate":
            return sp.Sum(sp.Symbol("lambda_i") * term, (i, 1, P))
        return sp.Sum(term, (i, 1, P))

    @property
    def derivative(self) -> sp.Expr:
        """f'(u), derived."""
        return _derivative(self.profile)

    def derivation(self) -> Derivation:
        return penalty_derivation(self)

    # -- numeric (the compiled derivative) ---------------------------------------------------
    def value_and_gradient(self, array: np.ndarray,
                           weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """(R, ∇R) on one parameter tensor, ∇R from the derived f' (one SVD for spectral kinds,
        which are 0 on non-matrices)."""
        a = np.asarray(array, dtype=float)
        if self.kind == "spectral":
            if a.ndim != 2:
                return 0.0, np.zeros_like(a)
            U, s, Vt = np.linalg.svd(a, full_matrices=False)
            value = float(np.sum(_compiled(self.profile)(s) * np.ones_like(s)))
            return value, (U * (_compiled(self.derivative)(s) * np.ones_like(s))) @ Vt
        self._require_entrywise()
        mag = np.abs(a)
        vals = _compiled(self.profile)(mag) * np.ones_like(a)
        grad = np.sign(a) * _compiled(self.derivative)(mag) * np.ones_like(a)
        if weights is None:
            return float(np.sum(vals)), grad
        return float(np.sum(weights * vals)), weights * grad

    def value(self, array: np.ndarray, weights: np.ndarray | None = None) -> float:
        return self.value_and_gradient(array, weights)[0]

    def gradient(self, array: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return self.value_and_gradient(array, weights)[1]

    def _require_entrywise(self) -> None:
        if self.kind != "entrywise":
            raise ValueError(f"{self.name}: the gradient involves the loss; evaluate it with the model")

    def __repr__(self) -> str:
        return f"Penalty({self.name})"


@lru_cache(maxsize=None)
def _derivative(profile: sp.Expr) -> sp.Expr:
    return sp.diff(profile, u)


@lru_cache(maxsize=None)
def _compiled(expr: sp.Expr):
    return sp.lambdify(u, expr, modules="numpy")


def huber_profile(delta: sp.Expr) -> sp.Expr:
    """Smoothed ℓ1 (Huber): u²/(2δ) for u ≤ δ, u − δ/2 beyond (C¹, → u as δ → 0)."""
    return sp.Piecewise((u**2 / (2 * delta), u <= delta), (u - delta / 2, True))


# ----------------------------------------------------------------------------------------------
# Grammar: l2 | layer_l2 | diag_l2 | dropout_l2 | lp:P (P > 1) | huber:DELTA (δ > 0) | nuclear |
# schatten:P (P ≥ 1) | gradnorm.  P and DELTA are decimals or fractions, read by regular expressions.
# ----------------------------------------------------------------------------------------------
GRAMMAR = ("l2", "layer_l2", "diag_l2", "dropout_l2", "lp:P", "huber:DELTA", "nuclear", "schatten:P",
           "gradnorm")
_NUMBER = re.compile(r"^(\d+(\.\d*)?([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|\d+/\d+)$")


_FLOAT64_MIN, _FLOAT64_MAX = float(np.finfo(np.float64).tiny), float(np.finfo(np.float64).max)


def _number(text: str, what: str) -> sp.Rational:
    """The exact rational a decimal or fraction denotes (``1.0000000001`` stays above 1); a zero
    denominator, and a value outside float64's normal range (the penalties are evaluated in float64),
    are errors."""
    if not _NUMBER.match(text):
        raise PenaltyError(f"{what} is not a positive number")
    numerator, _, denominator = text.partition("/")
    if denominator and int(denominator) == 0:
        raise PenaltyError(f"{what} has a zero denominator")
    value = sp.Rational(text)
    if value != 0 and not _FLOAT64_MIN <= value <= _FLOAT64_MAX:
        raise PenaltyError(f"{what} is outside float64's range "
                           f"[{_FLOAT64_MIN:.3g}, {_FLOAT64_MAX:.3g}]")
    return value


def _p_text(value: sp.Rational) -> str:
    return str(value) if value.is_Integer and abs(value) < 10**15 else repr(float(value))


def parse_penalty(text: str) -> Penalty:
    """Parse one penalty name of the grammar above (case-insensitive)."""
    raw = text.strip().lower()
    name, _, arg = raw.partition(":")
    valid = ", ".join(GRAMMAR)
    if name in ("l2", "layer_l2", "diag_l2", "dropout_l2", "nuclear", "gradnorm") and arg:
        raise PenaltyError(f"penalty {name!r} takes no parameter (got {text!r}); valid: {valid}")
    if name == "l2":
        return Penalty("l2", "entrywise", u**2)
    if name == "layer_l2":
        return Penalty("layer_l2", "entrywise", u**2, split="tensor")
    if name == "diag_l2":
        return Penalty("diag_l2", "entrywise", u**2, split="coordinate")
    if name == "dropout_l2":
        return Penalty("dropout_l2", "entrywise", u**2, weights="dropout")
    if name == "nuclear":
        return Penalty("nuclear", "spectral", u)
    if name == "gradnorm":
        return Penalty("gradnorm", "gradient_norm", None)
    if name in ("lp", "huber", "schatten"):
        if not arg:
            raise PenaltyError(f"penalty {name!r} needs a parameter ({name}:"
                               f"{'DELTA' if name == 'huber' else 'P'}); valid: {valid}")
        value = _number(arg, f"{name}:{arg}: {'DELTA' if name == 'huber' else 'exponent P'}")
        if name == "huber":
            if value <= 0:
                raise PenaltyError(f"huber:DELTA needs δ > 0, got {arg}")
            return Penalty(f"huber:{_p_text(value)}", "entrywise", huber_profile(value))
        if name == "lp":
            if value == 2:
                return parse_penalty("l2")
            if value <= 1:
                raise PenaltyError(f"lp:{arg}: P must be > 1 (ℓ1 is not differentiable at 0; use "
                                   "huber:DELTA, the smoothed ℓ1)")
            return Penalty(f"lp:{_p_text(value)}", "entrywise", u**value)
        if value < 1:
            raise PenaltyError(f"schatten:{arg}: P must be ≥ 1")
        if value == 1:
            return parse_penalty("nuclear")
        return Penalty(f"schatten:{_p_text(value)}", "spectral", u**value)
    raise PenaltyError(f"unknown penalty {text!r}; valid: {valid}")


def parse_penalties(texts) -> tuple[Penalty, ...]:
    """Parse a list of names (each may itself be comma-separated); duplicates are an error."""
    names = [part for t in texts for part in t.split(",") if part.strip()]
    if not names:
        raise PenaltyError(f"no penalty given; valid: {', '.join(GRAMMAR)}")
    out = tuple(parse_penalty(nm) for nm in names)
    seen = [p.name for p in out]
    dup = sorted({nm for nm in seen if seen.count(nm) > 1})
    if dup:
        raise PenaltyError(f"penalty {dup[0]} given twice (its columns would be identical)")
    if any(p.split == "coordinate" for p in out) and len(out) > 1:
        raise PenaltyError("diag_l2 has one coefficient per parameter and cannot be combined with "
                           "other penalties (the system would be underdetermined)")
    return out


# ----------------------------------------------------------------------------------------------
# Derivations
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def penalty_derivation(penalty: Penalty) -> Derivation:
    d = Derivation(f"Penalty {penalty.name}")
    d.step("Definition:", penalty.definition())
    if penalty.kind == "gradient_norm":
        d.extend(gradient_norm_derivation())
        return d
    if penalty.kind == "spectral":
        d.step("Spectral function F(W) = Σ_i f(σ_i(W)) with profile", sp.Eq(sp.Function("f")(u),
                                                                            penalty.profile))
        d.step("f'(σ) =", penalty.derivative)
        d.step("Lewis (1995): a unitarily invariant F is differentiable where f is, with "
               "∇F(W) = U diag(f'(σ)) Vᵀ for W = U diag(σ) Vᵀ (nuclear: not differentiable at "
               "rank-deficient W; U Vᵀ is then one subgradient).")
        return d
    d.step("Even profile f(u), u = |θ_i|:", sp.Eq(sp.Function("f")(u), penalty.profile))
    d.result("derivative", penalty.derivative, "f'(u) (sympy.diff):")
    d.step("Since R is even in each θ_i, ∂R/∂θ_i = sign(θ_i) f'(|θ_i|):",
           sp.Eq(sp.Symbol("∂R/∂θ_i"), sp.sign(w) * penalty.derivative.subs(u, sp.Abs(w))))
    return d


@lru_cache(maxsize=1)
def gradient_norm_derivation() -> Derivation:
    """∇‖∇L‖² = 2 ∇²L ∇L, derived for a generic L of three parameters."""
    d = Derivation("Gradient of the gradient-norm penalty R(θ) = ‖∇L(θ)‖²")
    th = sp.symbols("theta1:4", real=True)
    L = sp.Function("L")(*th)
    R = sum(sp.diff(L, t) ** 2 for t in th)
    d.step("For a generic smooth L(θ₁, θ₂, θ₃):", sp.Eq(sp.Symbol("R"), R))
    grad_R = sp.Matrix([sp.diff(R, t) for t in th])
    hess = sp.hessian(L, th)
    grad_L = sp.Matrix([sp.diff(L, t) for t in th])
    assert sp.simplify(grad_R - 2 * hess * grad_L) == sp.zeros(3, 1), "∇R ≠ 2H∇L"
    d.step("∇R (sympy.diff) equals 2 ∇²L ∇L (checked: the difference simplifies to 0):", grad_R)
    d.result("gradient", sp.Symbol("2") * sp.Symbol("H") * sp.Symbol("∇L"),
             "Hence ∇R = 2 H ∇L: one Hessian-vector product of the loss (automatic "
             "differentiation of ‖∇L‖² in numerics).")
    return d


@lru_cache(maxsize=1)
def gradient_matching_derivation() -> Derivation:
    """Gradient matching (Rudoler et al. 2025): stationarity of L + Σ λ_k R_k and its least squares."""
    d = Derivation("Gradient matching: estimating the coefficients of a penalty dictionary")
    lam = sp.Symbol("lambda", real=True)
    a2, ab = sp.Symbol("‖∇R‖²", positive=True), sp.Symbol("⟨∇R,∇L⟩", real=True)
    d.step("If θ̂ is a stationary point of L(θ) + Σ_k λ_k R_k(θ), then Σ_k λ_k ∇R_k(θ̂) = −∇L(θ̂). "
           "Fit λ by least squares of −∇L on the columns G = [∇R_1, ..., ∇R_K] (λ ≥ 0 for "
           "penalties); the fit is unique iff G has full column rank.")
    obj = d.step("One column: minimize over λ", (lam * sp.Symbol("∇R") + sp.Symbol("∇L")) ** 2)
    expanded = lam**2 * a2 + 2 * lam * ab + sp.Symbol("‖∇L‖²")
    d.step("Expanded:", sp.Eq(obj, expanded))
    (lam_hat,) = sp.solve(sp.diff(expanded, lam), lam)
    d.result("one_column", lam_hat, "Normal equation gives λ̂ =")
    theta_sq, theta_gl = sp.Symbol("‖θ‖²", positive=True), sp.Symbol("⟨θ,∇L⟩", real=True)
    two = sp.simplify(parse_penalty("l2").derivative / u)   # derived f'(u) = 2u, so ∇‖θ‖² = 2θ
    assert two.is_number, "the ℓ2 derivative is not linear in u"
    ridge = sp.simplify(lam_hat.subs({a2: two**2 * theta_sq, ab: two * theta_gl}))
    d.result("scalar_ridge", ridge, f"ℓ2 (∇R = {two}θ, from the compiled profile derivative): λ̂ =")
    g_i, th_i = sp.symbols("∂_iL theta_i", real=True)
    diag = sp.simplify(lam_hat.subs({a2: (two * th_i) ** 2, ab: two * th_i * g_i}))
    d.result("diagonal_ridge", diag,
             "diag_l2 (one coefficient per coordinate, ∇R_i = 2θ_i e_i): λ̂_i =")
    d.step("Diagnostics: residual ratio ‖Gλ̂ + ∇L‖/‖∇L‖ (0 = θ̂ is exactly stationary for the fitted "
           "objective), cosine between Gλ̂ and −∇L, condition number of the column-normalized G "
           "(large = coefficients not identifiable).")
    return d
