"""Two exact equivalences between a training procedure and an explicit penalty, derived in sympy.

- Early stopping = generalized ridge (Ali, Kolter, Tibshirani 2019). Gradient descent from θ₀ = 0
  with step η on L(θ) = (1/(2n))‖y − Xθ‖², with (1/n)XᵀX = V diag(s) Vᵀ, has after t steps exactly
  the minimizer of L(θ) + ½ θᵀΛ_tθ, Λ_t = V diag(μ_t(s)) Vᵀ. Assumes 0 < η s < 1 for every
  eigenvalue s (then μ_t > 0; GD itself converges for η s < 2).
- Dropout = data-dependent ridge (Wager, Wang, Liang 2013). Linear regression with inverted input
  dropout of rate p (each feature kept with probability 1 − p and rescaled by 1/(1 − p)): the
  expected objective is L(w) + (p/(1−p)) Σ_j [(XᵀX)_jj/(2n)] w_j², the ``dropout_l2`` penalty of
  ``theory.penalties`` with coefficient p/(1−p).

Both derivations run from the definitions (the GD recursion is solved by ``rsolve``, the expectation
over Bernoulli masks by ``sympy.stats`` and by enumerating every mask); their results are what the
claims lambdify.
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import sympy as sp
from sympy.stats import Bernoulli, E, variance

from theory.derivation import Derivation

s, eta, c = sp.symbols("s eta c", positive=True)   # eigenvalue of XᵀX/n, step size, (VᵀXᵀy/n)_i
t = sp.Symbol("t", integer=True, nonnegative=True)   # number of GD steps
mu = sp.Symbol("mu", positive=True)                  # eigenvalue of Λ_t
tau = sp.Symbol("tau", positive=True)                # η t, the gradient-flow time
p = sp.Symbol("p", positive=True)                    # dropout rate (probability of dropping)


@lru_cache(maxsize=1)
def early_stopping_derivation() -> Derivation:
    """Λ_t of Ali, Kolter, Tibshirani (2019) from the GD recursion (results ``mu``, ``iterate``,
    ``lambda_hat``, ``gradient_flow``, ``small_time``)."""
    d = Derivation("Early-stopped gradient descent = generalized ridge (Ali, Kolter, Tibshirani 2019)")
    n, dim = sp.symbols("n d", positive=True, integer=True)
    X, y = sp.MatrixSymbol("X", n, dim), sp.MatrixSymbol("y", n, 1)
    theta = sp.MatrixSymbol("theta", dim, 1)
    loss = ((y - X * theta).T * (y - X * theta)) / (2 * n)
    d.step("Loss L(θ) = (1/(2n))‖y − Xθ‖²; its gradient ∇L (sympy matrix calculus):",
           sp.diff(loss, theta))
    d.step("So ∇L = Σθ − b with Σ = XᵀX/n = V diag(s) Vᵀ and b = Xᵀy/n. GD θ_{k+1} = θ_k − η∇L(θ_k), "
           "θ₀ = 0, decouples in the eigenbasis z = Vᵀθ, c = Vᵀb, one recursion per eigenvalue s:")
    z = sp.Function("z")
    k = sp.Symbol("k", integer=True, nonnegative=True)
    recursion = d.step("", sp.Eq(z(k + 1), z(k) - eta * (s * z(k) - c)))
    z_t = sp.rsolve(recursion.lhs - recursion.rhs, z(k), {z(0): 0}).subs(k, t)
    z_t = d.result("iterate", sp.simplify(z_t), "Solved (rsolve, z₀ = 0): z_t =")
    d.step("Generalized ridge: minimize L(θ) + ½θᵀΛθ with Λ = V diag(μ) Vᵀ. Stationarity in the "
           "eigenbasis, (s + μ) z − c = 0, gives")
    z_ridge = d.step("z_ridge =", c / (s + mu))
    (mu_t,) = sp.solve(sp.Eq(z_ridge, z_t), mu)
    mu_t = sp.simplify(mu_t)
    d.step("Equating z_ridge = z_t and solving for μ:", sp.Eq(mu, mu_t))
    compact = s / ((1 - eta * s) ** (-t) - 1)
    assert sp.simplify(mu_t - compact) == 0, "μ_t does not reduce to s/((1−ηs)^(−t) − 1)"
    assert sp.simplify(z_ridge.subs(mu, compact) - z_t) == 0, "ridge with μ_t is not the GD iterate"
    d.result("mu", compact, "Equivalently (checked: the difference simplifies to 0), for 0 < ηs < 1 "
             "so that μ_t > 0:  μ_t(s) =")
    d.step("Hence Λ_t = V diag(μ_t(s)) Vᵀ and θ_t = (Σ + Λ_t)⁻¹ b exactly, for every t ≥ 1.")
    mu_i, z_i = sp.IndexedBase("mu"), sp.IndexedBase("z")
    i, dd = sp.Symbol("i", integer=True), sp.Symbol("d", integer=True, positive=True)
    lam_hat = sp.Sum(mu_i[i] * z_i[i] ** 2, (i, 1, dd)) / (2 * sp.Sum(z_i[i] ** 2, (i, 1, dd)))
    d.result("lambda_hat", lam_hat,
             "Gradient matching with R = ‖θ‖² at θ_t: −∇L(θ_t) = Λ_tθ_t, so the scalar "
             "λ̂ = −⟨θ,∇L⟩/(2‖θ‖²) is the Rayleigh quotient (eigen-coordinates z_i of θ_t):")
    flow = sp.limit(compact.subs(t, tau / eta), eta, 0)
    d.result("gradient_flow", flow, "Decay with t: at fixed τ = ηt and η → 0 (gradient flow), μ =")
    x = sp.Symbol("x", positive=True)      # x = sτ
    assert sp.simplify(flow - x / (sp.exp(x) - 1) / tau) .subs(x, s * tau) == 0
    series = sp.series(x / sp.series(sp.exp(x) - 1, x, 0, 4).removeO(), x, 0, 3).removeO()
    small = sp.expand(series.subs(x, s * tau) / tau)
    d.result("small_time", small, "With x = sτ, μ = (1/τ)·x/(eˣ − 1); for sτ ≪ 1 (series in x) "
             "μ ≈ (so λ̂(t) ≈ 1/(2ηt) early on)")
    d.step("for sτ ≫ 1, μ ≈ s·exp(−sτ), an exponential decay in t:",
           sp.Eq(sp.Limit(x / (sp.exp(x) - 1) / (x * sp.exp(-x)), x, sp.oo),
                 sp.limit(x / (sp.exp(x) - 1) / (x * sp.exp(-x)), x, sp.oo)))
    return d


def mask_moments() -> tuple[sp.Expr, sp.Expr]:
    """E and Var of the inverted-dropout factor D = m/(1−p), m ~ Bernoulli(1 − p) (sympy.stats)."""
    m = Bernoulli("m", 1 - p)
    return sp.simplify(E(m / (1 - p))), sp.simplify(variance(m / (1 - p)))


@lru_cache(maxsize=1)
def dropout_derivation() -> Derivation:
    """Wager et al. (2013): the expected dropout objective of linear regression (results
    ``coefficient``, ``expected_objective``, ``minimizer``)."""
    d = Derivation("Dropout on the inputs of linear regression = data-dependent ridge (Wager et al. 2013)")
    d.step("Inverted dropout of rate p: feature j of a sample is multiplied by D_j = m_j/(1−p), "
           "m_j ~ Bernoulli(1−p) independent. Moments (sympy.stats):")
    mean, var = mask_moments()
    d.step("E[D_j] =", mean)
    d.step("Var[D_j] =", var)
    y_s = sp.Symbol("y", real=True)
    xs, ws = sp.symbols("x1:4", real=True), sp.symbols("w1:4", real=True)
    ms = sp.symbols("m1:4", integer=True)
    sq = (y_s - sum(x * m / (1 - p) * wv for x, m, wv in zip(xs, ms, ws))) ** 2
    expected = 0
    for bits in itertools.product((0, 1), repeat=3):
        prob = sp.Mul(*[(1 - p) if b else p for b in bits])
        expected += prob * sq.subs(dict(zip(ms, bits)))
    d.step("One sample, d = 3, expectation by enumerating the 8 masks with their probabilities:",
           sp.Eq(sp.Symbol("E(y − Σ_j x_j D_j w_j)²"), sp.Symbol("Σ_masks P(m)·(...)²")))
    excess = sp.factor(sp.simplify(expected - (y_s - sum(x * wv for x, wv in zip(xs, ws))) ** 2))
    d.step("minus the dropout-free loss (y − xᵀw)² leaves", excess)
    penalty_form = var * sum(x**2 * wv**2 for x, wv in zip(xs, ws))
    assert sp.simplify(excess - penalty_form) == 0, "the excess is not Var(D)·Σ x_j² w_j²"
    d.step("which equals Var[D]·Σ_j x_j² w_j² (checked). For any d this is the bias–variance identity "
           "E(y − Σ_j a_j D_j)² = (y − Σ_j a_j E D_j)² + Σ_j a_j² Var D_j for independent D_j "
           "(a_j = x_j w_j), of which the enumeration is an instance.")
    coef = d.result("coefficient", sp.simplify(var), "Penalty coefficient κ(p) = Var[D] =")
    n = sp.Symbol("n", positive=True, integer=True)
    Xm = sp.MatrixSymbol("X", n, sp.Symbol("d", positive=True, integer=True))
    kappa, cdiag = sp.Symbol("kappa", positive=True), sp.Symbol("C")
    d.result("expected_objective",
             sp.Eq(sp.Symbol("E L_drop(w)"),
                   sp.Symbol("(1/(2n))‖y − Xw‖²") + kappa * sp.Symbol("Σ_j [(XᵀX)_jj/(2n)] w_j²")),
             "Averaging over samples with L = (1/(2n))‖y − Xw‖², κ = p/(1−p):")
    d.step("Stationarity: (1/n)(XᵀXw − Xᵀy) + (κ/n) C w = 0 with C = diag(XᵀX):")
    d.result("minimizer", (Xm.T * Xm + kappa * sp.MatrixSymbol(cdiag.name, Xm.shape[1], Xm.shape[1])).I
             * Xm.T * sp.MatrixSymbol("y", n, 1), "w* = (XᵀX + κ C)⁻¹ Xᵀy, κ = p/(1−p):")
    d.step("κ(p) grows from 0 (p = 0) without bound as p → 1:", sp.limit(coef, p, 1, "-"))
    return d


@lru_cache(maxsize=1)
def sgd_spread_derivation() -> Derivation:
    """Stationary spread of constant-step SGD around the minimizer of a quadratic (result
    ``rms_exponent``: the root-mean-square distance scales as η^(1/2))."""
    d = Derivation("Constant-step SGD on a quadratic: stationary spread around the minimizer")
    a, va, sigma2 = sp.symbols("a v_a sigma2", positive=True)
    V = sp.Symbol("V", positive=True)
    d.step("Dropout-SGD on linear regression: the error e_k = w_k − w* obeys, per direction, "
           "e_{k+1} = (1 − η a_k) e_k + η ξ_k with fresh (a_k, ξ_k) each step (sample and mask), "
           "independent of e_k; E a_k = a > 0, Var a_k = v_a, E ξ_k = 0 (w* is stationary for the "
           "expected objective), E ξ_k² = σ². Then E e_k → 0 and the second moment V satisfies")
    balance = d.step("", sp.Eq(V, ((1 - eta * a) ** 2 + eta**2 * va) * V + eta**2 * sigma2))
    (v_sol,) = sp.solve(balance, V)
    v_sol = d.result("variance", sp.simplify(v_sol), "Stationary second moment V(η) =")
    d.step("Leading order as η → 0:", sp.limit(v_sol / eta, eta, 0) * eta)
    exponent = sp.limit(eta * sp.diff(v_sol, eta) / v_sol, eta, 0) / 2
    d.result("rms_exponent", exponent, "Elasticity of √V in η (lim η d log √V/dη): the RMS distance of "
             "the last iterate to w* scales as η^e with e =")
    d.step("In d dimensions the stationary covariance solves a Lyapunov equation whose right-hand side "
           "is O(η²) and whose operator is 2ηH + O(η²), so the same exponent holds.")
    return d
