"""The slow flow along the manifold Γ = {θ : Z f(θ) = y} that label-noise SGD and adaptive methods
follow in rescaled time t = η²·steps (Li, Wang, Arora 2022; Li, Wen, Lyu 2025), integrated numerically.

    dθ/dt = κ σ² (P − PJᵀ(JPJᵀ)⁻¹JP) ∇_θ tr(S H(θ))|_{S = P(θ)}   − γ PJᵀ(JPJᵀ)⁻¹ r(θ)

with κ and σ² = δ²/n taken from :func:`theory.slow_drift.slow_drift_derivation` (derived, not typed),
H the Gauss–Newton Hessian, and P(θ) the method's quasi-static preconditioner near Γ, evaluated from
its second-moment estimate v ≈ E[g²] = σ² Diag(H) (or E[g gᵀ] = σ² JᵀJ/n per parameter vector for
Shampoo): the flow back end (``flow_preconditioner``) of the method's declaration in
``numerics.optim`` (``GD``, ``AdamFamily``, ``Shampoo``; :func:`preconditioner_matrix`), the same
declaration the trainers run. The last term (γ > 0)
is a Baumgarte stabilization: it vanishes on Γ and pulls round-off drift back onto it (dr/dt = −γr).
:func:`integrate_flow_to_rest` continues the flow of a diagonal preconditioner through the finite-time
collapses of adaptive methods (a parameter reaching a floor is frozen) to the point where it stops.

Tracking (:func:`track`) compares the replica mean of trained runs with such flows and reports the
Monte-Carlo standard error of that mean. An adaptive run whose second moment v should already be
quasi-static at θ₀ starts (:func:`warm_start`: the optimizer's ``v0``) from :func:`second_moment_warmup`,
v estimated at θ₀ with θ frozen, instead of v = 0: without bias correction a zero v inflates the step
by (1 − β₂^k)^{−1/2} for ~1/(1−β₂) steps, which adds rescaled time η²/(1−β₂)·log(1/(1−β₂)) to the run.

The semi-gradient is exact for any coordinate-separable f: with a_kj = ∂_k f(θ_j) and
C = ZᵀZ/n, tr(S H) = aᵀ (S ∘ C̃) a where C̃_(kj),(k'j') = C_jj', so ∂/∂a = 2 (S ∘ C̃) a and
∂/∂θ_(k'',j) = Σ_k ∂/∂a_kj · ∂²f/∂p_k∂p_k''(θ_j).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.integrate import solve_ivp

from numerics.diagonal_nets import DiagonalNetProblem
from numerics.optim import GD, AdamFamily, Shampoo
from numerics.run_status import RunStatus, status_field


def Preconditioner(kind: str = "sgd", exponent: float = 0.5, block: int = 1):
    """The update rule whose flow preconditioner P(θ) is meant, by the older names: ``sgd`` (GD:
    identity), ``adam`` (AdamFamily, (σ²H_kk)^{−e}), ``block`` (AdamFamily with blocks, Adam-mini /
    Adalayer: (σ² mean_B H_kk)^{−e} on blocks of ``block`` coordinates per parameter vector, 0 = whole
    vector), ``shampoo`` (Shampoo: (σ² H_BB)^{−1/2} on each parameter vector B, pseudo-inverse on its
    range). The flow reads only the rule's statistic and exponent; pass a declaration of
    ``numerics.optim`` directly instead."""
    rules = {"sgd": lambda: GD(), "adam": lambda: AdamFamily(exponent=exponent),
             "block": lambda: AdamFamily(exponent=exponent, block=block), "shampoo": lambda: Shampoo()}
    if kind not in rules:
        raise ValueError(f"unknown preconditioner kind {kind!r}; known: {', '.join(rules)}")
    return rules[kind]()


def _expected_square(problem: DiagonalNetProblem, theta: np.ndarray, sigma2: float) -> np.ndarray:
    """E[g²] on Γ = σ² Diag(H) (Gauss–Newton), shape (m, d)."""
    return sigma2 * problem.gauss_newton_diagonal(theta)


def _expected_outer(problem: DiagonalNetProblem, theta: np.ndarray, sigma2: float) -> np.ndarray:
    """E[g gᵀ] on Γ per parameter vector = the diagonal blocks of σ² JᵀJ/n, shape (m, d, d)."""
    m, d = theta.shape
    J = problem.jacobian(theta)                                           # (n, m·d)
    H = sigma2 * J.T @ J / problem.n
    return np.stack([H[k * d:(k + 1) * d, k * d:(k + 1) * d] for k in range(m)])


#: The expected statistic the flow hands to ``rule.flow_preconditioner``, by ``rule.moment``.
EXPECTED_MOMENT = {None: lambda problem, theta, sigma2: theta, "square": _expected_square,
                   "outer": _expected_outer}


def preconditioner_matrix(rule, problem: DiagonalNetProblem, theta: np.ndarray, sigma2: float) -> np.ndarray:
    """P(θ) near Γ of the update rule ``rule`` (a declaration of ``numerics.optim``): its
    quasi-static preconditioner evaluated at the second moment it averages, v ≈ E[statistic(g)]."""
    return rule.flow_preconditioner(EXPECTED_MOMENT[rule.moment](problem, theta, sigma2))


def semi_gradient(problem: DiagonalNetProblem, theta: np.ndarray, S: np.ndarray) -> np.ndarray:
    """∇_θ tr(S H(θ)) with S held fixed (flattened (m·d,))."""
    m, d = theta.shape
    a = problem.jacobian_factor(theta).ravel()
    C = problem.Z.T @ problem.Z / problem.n
    grad_a = (2.0 * (S * np.tile(C, (m, m))) @ a).reshape(m, d)          # np.tile(C) = C̃
    hess = problem.param.numpy_hessian(theta)                             # (m, m, d)
    return np.einsum("kj,klj->lj", grad_a, hess).ravel()


def drift(problem: DiagonalNetProblem, theta_flat: np.ndarray, precond,
          sigma2: float, kappa: float, gamma: float = 1.0) -> np.ndarray:
    m = problem.param.m
    theta = theta_flat.reshape(m, problem.d)
    P = preconditioner_matrix(precond, problem, theta, sigma2)
    J = problem.jacobian(theta)
    PJt = P @ J.T
    K = np.linalg.solve(J @ PJt, np.eye(J.shape[0]))
    s = semi_gradient(problem, theta, P)
    tangent = P @ s - PJt @ (K @ (PJt.T @ s))
    r = problem.residual(theta)
    return kappa * sigma2 * tangent - gamma * PJt @ (K @ r)


def flow_constants(problem: DiagonalNetProblem, precond, delta: float,
                   kappa: float | None = None) -> tuple[float, float]:
    """(κ, σ²) of the flow: κ the derived drift constant of ``precond`` (unless given) and
    σ² = δ²/n the derived noise scale (``theory.slow_drift.slow_drift_derivation``)."""
    import sympy as sp

    from theory.slow_drift import slow_drift_derivation

    der = slow_drift_derivation()
    if kappa is None:
        kappa = float(der.results["drift_constant" if precond.moment is None
                                  else "preconditioned_drift_constant"])
    sigma2 = float(der.results["noise_scale"].subs({sp.Symbol("delta", positive=True): delta,
                                                   sp.Symbol("n", positive=True, integer=True):
                                                       problem.n}))
    return kappa, sigma2


def integrate_flow(problem: DiagonalNetProblem, theta0: np.ndarray, precond,
                   delta: float, times, kappa: float | None = None, rtol: float = 1e-7):
    """θ(t) at the requested rescaled times (array (len(times), m, d)); κ defaults to the derived
    drift constant and σ² = δ²/n to the derived noise scale."""
    kappa, sigma2 = flow_constants(problem, precond, delta, kappa)
    times = np.asarray(times, dtype=float)
    sol = solve_ivp(lambda t, x: drift(problem, x, precond, sigma2, kappa), (0.0, float(times[-1])),
                    np.asarray(theta0, float).ravel(), t_eval=times, rtol=rtol, atol=1e-12,
                    method="RK45")
    if not sol.success:
        raise RuntimeError(f"flow integration failed: {sol.message}")
    return sol.y.T.reshape(len(times), problem.param.m, problem.d)


class _Frozen:
    """``rule`` with the parameters outside ``active`` (flattened bool mask) frozen: its flow
    preconditioner with their rows and columns set to 0 (their statistic replaced by 1 first, so a
    vanishing E[g²] there gives no 0^(−e)). Only for diagonal preconditioners."""

    def __init__(self, rule, active: np.ndarray):
        self.rule, self.active, self.moment = rule, active, rule.moment

    def flow_preconditioner(self, expected: np.ndarray) -> np.ndarray:
        mask = self.active.reshape(expected.shape)
        P = self.rule.flow_preconditioner(np.where(mask, expected, 1.0))
        return P * np.outer(self.active, self.active)


@dataclass
class FlowRest:
    """Where :func:`integrate_flow_to_rest` stopped."""

    theta: np.ndarray                  # (m, d)
    time: float                        # rescaled time at the end
    active: np.ndarray                 # (m, d) bool: the parameters not frozen
    collapses: list                    # (time, flat index) of each freeze, in order
    # how it ended: OK at rest (no tangent direction left: the flow's end), NOT_CONVERGED at t_max
    # before rest, DEGENERATE when the active parameters no longer span the constraints; the message
    # says which (until 2026-12-07 (session 7) the words "rest", "horizon", "degenerate")
    status: RunStatus = status_field()
    residual: float                    # ‖Zf(θ) − y‖ / ‖y‖ at the end
    message: str = ""


def integrate_flow_to_rest(problem: DiagonalNetProblem, theta0: np.ndarray, precond, delta: float,
                           t_max: float, floor: float = 1e-3, kappa: float | None = None,
                           rtol: float = 1e-6) -> FlowRest:
    """The flow of :func:`integrate_flow` continued through finite-time collapses to where it stops.

    Under an adaptive preconditioner (e > 0) a parameter heading to 0 gets there in finite time
    (for Adam, e = ½, on u^N − v^N: d(u²)/dt → a negative constant), where P = (σ²H_kk)^(−e) blows
    up and the integration cannot pass. A parameter whose |θ_k| falls to ``floor`` is frozen there
    (its row and column of P set to 0: it neither moves nor takes part in the projection onto Γ),
    and the flow goes on with the others. It stops when the active parameters have no direction
    tangent to Γ left (their Jacobian has full column rank: on u^N − v^N, a vertex of Zw = y with one
    of u_j, v_j active per nonzero w_j: status ``ok``), at ``t_max`` (``not converged``), or when they
    no longer span the constraints (``degenerate``); the record's ``message`` says which and when.
    For update rules with a diagonal P (``GD``, ``AdamFamily`` with block = 1)."""
    if precond.moment not in (None, "square") or getattr(precond, "block", 1) != 1:
        raise ValueError("integrate_flow_to_rest needs a diagonal flow preconditioner "
                         "(GD or AdamFamily with block = 1)")
    kappa, sigma2 = flow_constants(problem, precond, delta, kappa)
    m, d = problem.param.m, problem.d
    x = np.asarray(theta0, dtype=float).ravel().copy()
    active = np.abs(x) > floor
    t, collapses = 0.0, []
    status, message = RunStatus.NOT_CONVERGED, f"horizon: t_max = {t_max:g} reached before rest"
    while t < t_max:
        idx = np.flatnonzero(active)
        J = problem.jacobian(x.reshape(m, d))[:, idx]
        rank = np.linalg.matrix_rank(J)
        if rank < problem.n:
            status = RunStatus.DEGENERATE
            message = (f"degenerate at t = {t:g}: the {idx.size} active parameters span rank {rank} < "
                       f"n = {problem.n} constraints")
            break
        if rank == idx.size:
            status = RunStatus.OK
            message = (f"rest at t = {t:g}: the {idx.size} active parameters have no direction tangent "
                       "to the constraints left (full column rank)")
            break
        rule = _Frozen(precond, active)

        def hits_floor(_, z, idx=idx):
            return float(np.min(np.abs(z[idx]))) - floor

        hits_floor.terminal, hits_floor.direction = True, -1
        sol = solve_ivp(lambda _, z: drift(problem, z, rule, sigma2, kappa), (t, float(t_max)), x,
                        rtol=rtol, atol=1e-12, method="RK45", events=hits_floor)
        if sol.status == -1:
            raise RuntimeError(f"flow integration failed: {sol.message}")
        x, t = sol.y[:, -1].copy(), float(sol.t[-1])
        if sol.status == 1:
            low = idx[np.abs(x[idx]) <= floor * (1 + 1e-9)]
            low = low if low.size else idx[[int(np.argmin(np.abs(x[idx])))]]
            active[low] = False
            collapses += [(t, int(k)) for k in low]
    theta = x.reshape(m, d)
    residual = float(np.linalg.norm(problem.residual(theta)) / max(np.linalg.norm(problem.y), 1e-300))
    return FlowRest(theta, t, active.reshape(m, d), collapses, status, residual, message)


def second_moment_warmup(problem: DiagonalNetProblem, theta0: np.ndarray, delta: float, replicas: int,
                         draws: int, seed: int = 0, chunk: int = 256, statistic=None) -> np.ndarray:
    """Per-replica mean of ``statistic(g)`` (default g², shape (replicas, m, d)) over ``draws`` fresh
    ±δ label-noise gradients g at θ₀ (θ frozen): a second moment after a warm-up at the start point.
    ``draws`` = (1+β₂)/(1−β₂) gives the estimate the variance of the stationary exponential average."""
    if statistic is None:
        statistic = np.square
    rng = np.random.default_rng(seed)
    theta0 = np.asarray(theta0, dtype=float)
    total = 0.0
    done = 0
    while done < draws:
        k = min(chunk, draws - done)
        noise = delta * (2.0 * rng.integers(0, 2, size=(k, replicas, problem.n)) - 1.0)
        total = total + np.sum(statistic(problem.gradient(
            np.broadcast_to(theta0, (k, replicas, *theta0.shape)), noise)), axis=0)
        done += k
    return total / draws


def warm_start(optimizer, problem: DiagonalNetProblem, theta0: np.ndarray, delta: float,
               replicas: int, seed: int = 0):
    """``optimizer`` (``AdamFamily`` or ``Shampoo``) with its second moment started at the warm-up
    estimate of the statistic it averages (``optimizer.second_moment``: g², its block means, or
    g gᵀ) at θ₀ over (1+β₂)/(1−β₂) draws, one estimate per replica, instead of at 0."""
    draws = int(round((1.0 + optimizer.beta2) / (1.0 - optimizer.beta2)))
    v0 = second_moment_warmup(problem, theta0, delta, replicas, draws, seed=seed,
                              statistic=optimizer.second_moment)
    return replace(optimizer, v0=v0)


@dataclass
class Tracking:
    """Replica-mean trajectory of a trained method against integrated flows, in rescaled time."""

    eta: float
    steps: int
    times: np.ndarray
    mean: np.ndarray                   # (len(times), m, d): mean over replicas of θ at η²k = t
    errors: dict                       # flow name → max_t ‖mean(t) − θ_flow(t)‖ / ‖θ(0)‖
    status: RunStatus = status_field(RunStatus.OK)
    message: str = ""
    seconds: float = 0.0
    standard_error: np.ndarray | None = None   # (len(times),): √(tr Cov(θ(t)) / R) / ‖θ(0)‖


def track(problem: DiagonalNetProblem, theta0: np.ndarray, optimizer, eta: float, horizon: float,
          delta: float, flows: dict, replicas: int = 64, seed: int = 0, points: int = 6) -> Tracking:
    """Train ``replicas`` copies from θ(0) = ``theta0`` ∈ Γ with label noise δ for horizon/η² steps and
    compare the replica mean at t = η²k with each flow in ``flows`` (name → array (points, m, d) at
    ``np.linspace(0, horizon, points)``)."""
    from numerics.diagonal_nets import train

    times = np.linspace(0.0, horizon, points)
    marks = [int(round(t / eta**2)) for t in times]
    run = train(problem, np.repeat(np.asarray(theta0, float)[None], replicas, axis=0), optimizer, eta,
                marks[-1], label_noise=delta, seed=seed, checkpoints=marks)
    if run.status != RunStatus.OK:
        return Tracking(eta, marks[-1], times, np.empty(0), {}, run.status, run.message, run.seconds)
    mean = np.array([p.mean(axis=0) for p in run.params])
    scale = np.linalg.norm(theta0)
    errors = {name: float(np.max(np.linalg.norm((mean - f).reshape(points, -1), axis=1)) / scale)
              for name, f in flows.items()}
    se = np.array([np.sqrt(np.sum(p.reshape(replicas, -1).var(axis=0, ddof=1)) / replicas)
                   for p in run.params]) / scale
    return Tracking(eta, marks[-1], times, mean, errors, seconds=run.seconds, standard_error=se)
