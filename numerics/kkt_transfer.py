"""How much of a rival norm's KKT condition the own norm's KKT certificate already implies, at the
same parameters (the one-way coincidence of two margin problems' predictions).

Setting (``numerics.kkt_residual``): θ̂ the normalized parameters (min margin 1), q_i their margins,
J = [∇q_i] the margin Jacobian, L the degree. For a norm N with subgradient set ∂N(θ̂) (dual norm 1,
⟨g, θ̂⟩ = N(θ̂)), multipliers μ ≥ 0 have the residual

    r_N(μ) = √(stat² + cs²),  stat = gap_τ + ‖N(θ̂)·g − Jᵀμ‖_N* / N(θ̂),  cs = L Σ μ_i (q_i − 1) / N(θ̂)²,

minimized over g in the τ-face of ∂N(θ̂) (its charged gap gap_τ) and μ; ``kkt_residual`` reports that
minimum. Let A be the own norm, with multipliers λ from its residual solve and, for a smooth A, its
one subgradient g_A = ∇N_A(θ̂) and stationarity vector e_A = N_A g_A − Jᵀλ (so the own residual is
√((‖e_A‖_A*/N_A)² + cs_A²)). B is the rival norm. Scaling the own multipliers to μ = tλ with
t* = N_B²/N_A² (which matches the component along θ̂: ⟨N_B g_B, θ̂⟩ = N_B² = t*·⟨N_A g_A, θ̂⟩) gives,
for any g_B in the rival's τ-face,

    N_B g_B − t* Jᵀλ = (N_B g_B − t* N_A g_A) + t* e_A,

so, by the triangle inequality in ‖·‖_B* and cs_B(t*λ) = L Σ λ_i(q_i − 1)/N_A² = cs_A,

    r_B(θ̂) ≤ U := min over τ, g_B, t ≥ 0 of r_B(tλ; g_B)
              ≤ √((D + E)² + cs_A²) ≤ D + max(1, E/s_A)·r_A,                                       (*)

    D = min over τ, g_B of gap_τ + ‖g_B − (N_B/N_A)·g_A‖_B*   (the distance, in the rival's dual norm,
        from the own norm's gradient direction, rescaled to the same component along θ̂, to the
        rival's subdifferential: 0 when g_A's multiple is a subgradient of N_B),
    E = (N_B/N_A²)·‖e_A‖_B*   (the own stationarity vector measured in the rival's geometry),
    s_A = ‖e_A‖_A*/N_A        (the own stationarity).

D depends on θ̂ alone. When D = 0 (e.g. for ℓ2 and the layers' spectral max, every layer with equal
non-zero singular values and the layers balanced, so θ̂ itself is a multiple of a spectral-max
subgradient), every ℓ2 KKT point at θ̂ is a spectral-max KKT point: the rival's residual is at most
the transported own one, and a control that asks it to be 3× the own residual cannot separate the
two predictions there. :func:`transfer_bound` returns U (achieved by explicit multipliers and an
explicit subgradient, projected onto their constraints: an upper bound on r_B whatever the solver
status), D, E and s_A (D, E, s_A for a smooth own norm; NaN otherwise, U needs only λ).

Only smooth networks are handled (a ReLU network's kink generators are not among the own solve's
returned multipliers): for them the result has ``bound`` NaN and says why.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from numerics.kkt_residual import (_ROUND, TAU_GRID, _blocks, _Face, _kind, _smooth, _solve, block_dual_value,
                                   block_value, face_sets, homogeneity_functions, norm_value, normalize)
from numerics.run_status import RunStatus, status_field
from theory.norms import Norm


@dataclass(frozen=True)
class TransferBound:
    own: str
    rival: str
    bound: float            # U: the rival residual achieved with the own multipliers' direction (≥ r_B)
    distance: float         # D (smooth own norm; NaN otherwise)
    transported: float      # E (smooth own norm; NaN otherwise)
    own_stationarity: float  # s_A of the multipliers used (smooth own norm; NaN otherwise)
    own_slackness: float    # cs_A of the multipliers used
    tolerance: float        # τ of the rival face at which U is attained
    status: RunStatus = status_field()   # OK (an achieved U), INACCURATE, ERROR (no τ solved), NOT_COMPUTED
    message: str = ""       # the solver's own word when not OK, the candidate of (*), or why nothing was computed

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def inequality_rhs(self) -> float:
        """√((D + E)² + cs_A²), the right side of (*) (NaN when D or E is)."""
        return math.hypot(self.distance + self.transported, self.own_slackness)


def transfer_bound(net, params, X, y, own: Norm, rival: Norm, multipliers,
                   taus: tuple[float, ...] = TAU_GRID) -> TransferBound:
    """U, D, E, s_A and cs_A of the module docstring at ``params`` (normalized first), for the own
    norm's multipliers ``multipliers`` (λ of ``kkt_residual(net, params, X, y, own)``)."""
    nan = math.nan
    if not net.smooth:
        return TransferBound(own.name, rival.name, nan, nan, nan, nan, nan, nan, RunStatus.NOT_COMPUTED,
                             "ReLU kink generators are not among the own multipliers")
    if multipliers is None:
        return TransferBound(own.name, rival.name, nan, nan, nan, nan, nan, nan, RunStatus.NOT_COMPUTED,
                             "the own residual solve returned no multipliers")
    theta, q = normalize(net, params, X, y)
    lam = np.clip(np.asarray(multipliers, dtype=float), 0.0, None)
    J, _ = net.margin_jacobian(theta, X, y)
    combo = J.T @ lam
    slack = float(lam @ (q - 1.0))
    c_of = homogeneity_functions(net.degree)[1]          # L/N²
    n_own, n_rival = norm_value(own, theta), norm_value(rival, theta)
    cs_own = float(c_of(n_own)) * slack
    gradient = _smooth_gradient(own, theta)
    distance = transported = stationarity = nan
    if gradient is not None:
        e_own = n_own * gradient - combo
        stationarity = _dual_value(own, theta, e_own) / n_own
        transported = n_rival / n_own**2 * _dual_value(rival, theta, e_own)
        t_star = n_rival**2 / n_own**2
        distance, tau_d, _, u_d, gap_d = _rival_fit(rival, theta, n_own * gradient, 0.0, float(c_of(n_rival)), taus,
                                                    t_fixed=t_star)
    value, tau, status, _, _ = _rival_fit(rival, theta, combo, slack, float(c_of(n_rival)), taus)
    if gradient is not None and u_d is not None:
        # the candidate of (*): D's subgradient with the own multipliers scaled by t*, so that U ≤
        # √((D + E)² + cs_A²) holds for the reported U whatever the solver's accuracy
        at_d = math.hypot(gap_d + _dual_value(rival, theta, u_d - t_star * combo) / n_rival, cs_own)
        if not value <= at_d:
            value, tau, status = at_d, tau_d, "the candidate of (*)"
    if status == "the candidate of (*)":
        run_status, message = RunStatus.OK, status           # an achieved value, whatever the solver said
    elif status == "not solved":
        run_status, message = RunStatus.ERROR, "no face problem of the τ grid was solved"
    else:
        run_status, message = RunStatus.from_solver(status)
    return TransferBound(own.name, rival.name, value, distance, transported, stationarity, cs_own, tau,
                         run_status, message)


def _smooth_gradient(norm: Norm, theta) -> np.ndarray | None:
    """∇N(θ̂) (dual norm 1) for a single smooth entrywise block (ℓ2, ℓp with 1 < p < ∞); None otherwise."""
    norms, _, arrays, _ = _blocks(norm, theta)
    if len(norms) != 1:
        return None
    kind = _kind(norms[0], arrays[0].shape)
    if not _smooth(kind):
        return None
    a = arrays[0].ravel()
    p = 2.0 if kind == "l2" else float(kind[3:])
    return np.sign(a) * (np.abs(a) / block_value(kind, a)) ** (p - 1)


def _dual_value(norm: Norm, theta, vector: np.ndarray) -> float:
    """‖vector‖ in the dual of ``norm`` (for a weighted block max, Σ_b ‖v_b‖_b* / c_b)."""
    norms, weights, arrays, slices = _blocks(norm, theta)
    return float(sum(block_dual_value(_kind(n, a.shape), vector[sl].reshape(a.shape)) / c
                     for n, c, a, sl in zip(norms, weights, arrays, slices)))


def _rival_fit(rival: Norm, theta, combo: np.ndarray, slack: float, c_cs: float, taus,
               t_fixed: float | None = None) -> tuple[float, float, str, np.ndarray | None, float]:
    """min over τ, g in the rival's τ-face and t ≥ 0 (or t = ``t_fixed``) of
    √((gap_τ + ‖N g − t·combo‖_* / N)² + (c_cs·t·slack)²), re-evaluated at the projected solution
    (an achieved value). Returns (value, τ, status, N·g, gap_τ) of the best τ (N·g None if none solved)."""
    import cvxpy as cp

    norms, weights, arrays, slices = _blocks(rival, theta)
    kinds = [_kind(n, a.shape) for n, a in zip(norms, arrays)]
    size = norm_value(rival, theta)
    best, seen = (math.inf, math.nan, "not solved", None, math.nan), set()
    for tau in taus:
        signature, gap = [], 0.0
        for kind, c, a in zip(kinds, weights, arrays):
            share = c * block_value(kind, a) / size
            if share < (1 - tau) * (1 - _ROUND):
                signature.append(-1)
                continue
            gap = max(gap, 1.0 - share)
            if not _smooth(kind):
                active, face_gap = face_sets(kind, a, tau)
                signature.append(int(active[0]) if kind in ("spectral", "nuclear") else active.size)
                gap = max(gap, face_gap)
            else:
                signature.append(0)
        if gap >= best[0]:
            break
        if tuple(signature) in seen:
            continue
        seen.add(tuple(signature))
        t = cp.Variable(nonneg=True) if t_fixed is None else cp.Constant(t_fixed)
        faces, masses, constraints, terms = {}, [], [], []
        for i, (kind, sl, c, a) in enumerate(zip(kinds, slices, weights, arrays)):
            if signature[i] >= 0:
                face = faces[i] = _Face(kind, a, tau, cp)
                masses.append(face.mass)
                constraints += face.constraints
                u_b = size * c * face.expr
            else:
                u_b = np.zeros(sl.stop - sl.start)
            R = u_b - t * combo[sl]
            if kind == "l2":
                terms.append(cp.norm2(R) / c)
            elif kind == "max":
                terms.append(cp.norm1(R) / c)
            elif kind == "sum":
                terms.append(cp.norm_inf(R) / c)
            elif kind.startswith("lp:"):
                p = float(kind[3:])
                terms.append(cp.pnorm(R, p / (p - 1)) / c)
            elif kind == "nuclear":
                terms.append(cp.sigma_max(cp.reshape(R, a.shape, order="C")) / c)
            else:
                terms.append(cp.normNuc(cp.reshape(R, a.shape, order="C")) / c)
        stat = cp.sum(cp.hstack(terms)) / size + gap
        cs = c_cs * slack * t
        problem = cp.Problem(cp.Minimize(cp.norm(cp.hstack([stat, cs]), 2)),
                             [cp.sum(cp.hstack(masses)) == 1] + constraints)
        psd_side = max((sum(a.shape) for k, a in zip(kinds, arrays) if k in ("nuclear", "spectral")), default=0)
        status, _ = _solve(problem, cp, psd_side)
        if any(face.mass.value is None for face in faces.values()):
            continue
        # re-evaluate at the projected solution: an achieved value
        parts = {i: face.value() for i, face in faces.items()}
        total = sum(m for m, _ in parts.values())
        if not total > 0:
            continue
        u = np.zeros_like(combo)
        for i, (_, g) in parts.items():
            u[slices[i]] = size * weights[i] * g / total
        t_v = float(t_fixed if t_fixed is not None else max(float(t.value), 0.0))
        residual = u - t_v * combo
        stat_v = gap + sum(block_dual_value(k, residual[sl].reshape(a.shape)) / c
                           for k, sl, c, a in zip(kinds, slices, weights, arrays)) / size
        value = math.hypot(stat_v, c_cs * slack * t_v)
        if value < best[0]:
            best = (value, tau, status, u, gap)
    return best
