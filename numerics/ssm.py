"""Gradient flow of the diagonal SSM student, compiled from :mod:`theory.ssm` and integrated by a
stiff-capable solver (Slutzky, Alexander, Razin, Cohen 2025).

The loss, its gradient and Hessian, the time change ρ and its gradient are the derived sympy
expressions, lambdified. The flow is integrated in the time τ of ``theory.ssm`` (dτ = ρ(a) dt,
same trajectory as the gradient flow) by scipy's ``OdeSolver`` classes — LSODA by default (switches
to BDF when the problem turns stiff, as it does once the loss has converged), Radau or BDF on
request — with the analytic Jacobian −∇²L/ρ + ∇L∇ρᵀ/ρ². Integration continues in chunks (τ_end ×10)
until the loss reaches ``target_loss``; what a run reports is its status, never an exception.

The solver is stepped directly (the loop of ``scipy.integrate.solve_ivp`` without its record of
every accepted step, which it keeps even with ``dense_output`` off): memory is O(d) whatever the
number of steps, and a step budget bounds the work. Without both, a run whose loss plateaus above
its target while LSODA stays in its non-stiff (Adams) mode at a tight tolerance — steps ~1/λ_max(∇²L)
for τ up to 1e9 — grew by ~3 MB/s and never returned.

Accuracy is certified two ways by the callers: rerunning with a tighter tolerance must not move the
reported numbers, and on the baseline example alone the derived invariants a_i^{3−k} − a_l^{3−k}
must be preserved (:func:`baseline_invariant_drift`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
import sympy as sp

from numerics.run_status import RunStatus, status_field
from theory.ssm import SSMProblem, baseline_invariant_derivation, j, student, teacher, validate_setting
from theory.ssm import impulse_response as symbolic_impulse_response

METHODS = ("LSODA", "Radau", "BDF")


@dataclass(frozen=True)
class CompiledFlow:
    """Numeric callables of one :class:`SSMProblem` (arguments: a as a 1-D float array)."""

    problem: SSMProblem
    loss: Callable[[np.ndarray], float]
    gradient: Callable[[np.ndarray], np.ndarray]
    hessian: Callable[[np.ndarray], np.ndarray]
    rho: Callable[[np.ndarray], float]
    rho_gradient: Callable[[np.ndarray], np.ndarray]

    def tau_field(self, tau: float, a: np.ndarray) -> np.ndarray:
        return -self.gradient(a) / self.rho(a)

    def tau_jacobian(self, tau: float, a: np.ndarray) -> np.ndarray:
        r = self.rho(a)
        return -self.hessian(a) / r + np.outer(self.gradient(a), self.rho_gradient(a)) / r**2


@lru_cache(maxsize=None)
def compile_flow(problem: SSMProblem) -> CompiledFlow:
    der = problem.derivation()
    a = problem.parameters

    def compiled(expr):
        f = sp.lambdify(a, expr, "numpy", cse=True)
        return lambda x: np.asarray(f(*x), dtype=float)

    loss, grad, hess = compiled(der.results["loss"]), compiled(der.results["gradient"]), \
        compiled(der.results["hessian"])
    rho, rho_grad = compiled(der.results["time_change"]), compiled(der.results["time_change_gradient"])
    return CompiledFlow(problem, lambda x: float(loss(x)), grad, hess, lambda x: float(rho(x)), rho_grad)


# -- impulse responses and the extrapolation error -------------------------------------------
@lru_cache(maxsize=None)
def _impulse_function(d: int) -> Callable:
    a, A, B, C = student(d)
    return sp.lambdify((a, j), symbolic_impulse_response(A, B, C, j), "numpy")


@lru_cache(maxsize=None)
def _teacher_function(d: int) -> Callable:
    return sp.lambdify(j, symbolic_impulse_response(*teacher(d), j), "numpy")


def impulse_response(a: np.ndarray, length: int) -> np.ndarray:
    """h_1..h_length of the student diag(a), B = C = 1 (the derived h_j, evaluated)."""
    a = np.asarray(a, dtype=float)
    return np.asarray(_impulse_function(a.size)(a, np.arange(1, length + 1, dtype=float)), dtype=float)


def teacher_impulse_response(d: int, length: int) -> np.ndarray:
    return np.asarray(_teacher_function(d)(np.arange(1, length + 1, dtype=float)), dtype=float) \
        * np.ones(length)


def extrapolation_error(a: np.ndarray, length: int = 20) -> float:
    """max_{j ≤ length} |h_j − h*_j| / max_j |h*_j| (the paper's extrapolation error)."""
    h = impulse_response(a, length)
    h_star = teacher_impulse_response(np.asarray(a).size, length)
    return float(np.max(np.abs(h - h_star)) / np.max(np.abs(h_star)))


# -- initialization ------------------------------------------------------------------------
def near_tied_init(d: int, k: int, scale: float, gap: float, seed: int) -> np.ndarray:
    """a₀ = sorted (descending) scale·U[0, 1]^d with a₀[1] = a₀[0] − gap: the small initialization
    with its top two entries nearly tied that the theorem assumes (validated)."""
    validate_setting(d, k, scale, gap)
    a0 = np.sort(scale * np.random.default_rng(seed).random(d))[::-1].copy()
    a0[1] = a0[0] - gap
    return a0


# -- integration --------------------------------------------------------------------------
@dataclass(frozen=True)
class FlowRun:
    a: np.ndarray            # final state
    loss: float
    status: RunStatus = status_field()   # OK | NOT_CONVERGED | ERROR (what happened: ``message``)
    message: str
    tau: float               # τ reached
    nfev: int
    njev: int
    steps: int
    rtol: float
    method: str
    seconds: float


def _integrate_chunk(flow: CompiledFlow, a: np.ndarray, tau: float, tau_end: float, rtol: float,
                     solver_class, max_steps: int):
    """Step ``solver_class`` (a scipy ``OdeSolver``) from (τ, a) towards τ_end, keeping only the
    current state: the same accepted steps as ``solve_ivp(..., method, jac, rtol, atol=1e-6·rtol)``.
    Returns (a, τ, nfev, njev, steps, outcome), outcome "finished" | "failed: <message>" | "budget"."""
    solver = solver_class(flow.tau_field, float(tau), a, float(tau_end), jac=flow.tau_jacobian,
                          rtol=rtol, atol=1e-6 * rtol)
    steps, outcome = 0, "budget"
    while steps < max_steps:
        message = solver.step()
        if solver.status == "failed":
            outcome = f"failed: {message}"
            break
        steps += 1
        if solver.status == "finished":
            outcome = "finished"
            break
    return np.array(solver.y, dtype=float), float(solver.t), solver.nfev, solver.njev, steps, outcome


def integrate_gradient_flow(flow: CompiledFlow, a0: np.ndarray, rtol: float = 1e-10,
                            method: str = "LSODA", target_loss: float = 1e-28,
                            tau_first: float = 1e3, tau_max: float = 1e9,
                            max_steps: int = 100_000) -> FlowRun:
    """Integrate da/dτ = −∇L/ρ from a0 until L ≤ target_loss (checked at τ = τ_first·10^m), τ_max or
    ``max_steps`` accepted steps in all. atol = 1e-6·rtol: the state has entries ~1e-3 whose near-tie
    (~1e-8) must be resolved."""
    from scipy.integrate import BDF, LSODA, Radau

    if method not in METHODS:
        raise ValueError(f"unknown integrator {method!r}; expected one of {METHODS}")
    solver_class = {"LSODA": LSODA, "Radau": Radau, "BDF": BDF}[method]
    if int(max_steps) != max_steps or max_steps < 1:
        raise ValueError(f"the step budget must be a positive integer, got {max_steps}")
    start = time.perf_counter()
    a, tau, tau_end = np.asarray(a0, dtype=float).copy(), 0.0, tau_first
    nfev = njev = steps = 0
    status, message = RunStatus.NOT_CONVERGED, ""
    while True:
        a, tau, fev, jev, taken, outcome = _integrate_chunk(flow, a, tau, tau_end, rtol, solver_class,
                                                            max_steps - steps)
        nfev, njev, steps = nfev + fev, njev + jev, steps + taken
        if outcome.startswith("failed") or not np.all(np.isfinite(a)):
            status, message = RunStatus.ERROR, f"{method}: {outcome}"
            break
        if outcome == "budget":
            message = (f"step budget {max_steps} exhausted at τ = {tau:.3g}, loss {flow.loss(a):.3g} (the "
                       f"target {target_loss:g} is checked at τ = {tau_first:g}·10^m)")
            break
        if flow.loss(a) <= target_loss:
            status, message = RunStatus.OK, f"loss ≤ {target_loss:g} at τ = {tau:.3g}"
            break
        if tau_end >= tau_max:
            message = f"loss {flow.loss(a):.3g} > {target_loss:g} at τ_max = {tau_max:g}"
            break
        tau_end *= 10.0
    return FlowRun(a, flow.loss(a), status, message, tau, int(nfev), int(njev), int(steps), rtol,
                   method, time.perf_counter() - start)


def baseline_invariant_drift(a0: np.ndarray, a: np.ndarray, k: int) -> float:
    """max_i relative change of q(a_i) − q(a_1) between a0 and a (q from the derived invariant);
    only meaningful for a flow on the baseline example alone, with positive entries."""
    q = sp.lambdify(sp.Symbol("x"), baseline_invariant_derivation(k).results["q"](sp.Symbol("x")), "numpy")
    before = q(np.asarray(a0, dtype=float)[1:]) - q(float(a0[0]))
    after = q(np.asarray(a, dtype=float)[1:]) - q(float(a[0]))
    return float(np.max(np.abs(after - before) / np.abs(before)))


def baseline_limit(a0: np.ndarray, k: int) -> np.ndarray:
    """Where the gradient flow on the baseline example alone ends, from the derived invariants: the
    point with q(a_i) − q(a_1) = q(a0_i) − q(a0_1) for every i (q(x) = x^(3−k), log x for k = 3) that
    fits the baseline label, Σ_i a_i^(k−1) = h*_k. Assumes a0 > 0 with a0_1 its largest entry (the
    near-tied initialization); one root-find in a_1 (every a_i increases with a_1)."""
    from scipy.optimize import brentq

    a0 = np.asarray(a0, dtype=float)
    if not (np.all(a0 > 0) and a0[0] == a0.max()):
        raise ValueError("the baseline limit needs a positive initialization whose first entry is largest")
    x, y = sp.Symbol("x", positive=True), sp.Symbol("y", real=True)
    q_expr = baseline_invariant_derivation(k).results["q"](x)
    inverse = [r for r in sp.solve(sp.Eq(q_expr, y), x) if sp.simplify(r.subs(y, q_expr) - x) == 0]
    if len(inverse) != 1:
        raise RuntimeError(f"q(x) = y should have one inverse on x > 0, got {inverse}")
    q, q_inv = sp.lambdify(x, q_expr, "numpy"), sp.lambdify(y, inverse[0], "numpy")
    shift = q(a0) - q(a0[0])
    label = float(teacher_impulse_response(a0.size, k)[k - 1])

    def state(a1: float) -> np.ndarray:
        return np.asarray(q_inv(q(a1) + shift), dtype=float)

    a1 = brentq(lambda a1: float(np.sum(state(a1) ** (k - 1))) - label, a0[0], label ** (1 / (k - 1)),
                xtol=1e-15, rtol=4 * np.finfo(float).eps)
    return state(a1)

