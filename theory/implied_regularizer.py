"""The implied regularizer R(w) = min { M(θ) : f(θ) = w } of a sharpness measure on a parameterization.

Near the manifold of interpolators, label-noise SGD and Adam decrease a sharpness measure M(θ)
(Blanc et al. 2020; Li, Wang, Arora 2022; Li, Wen, Lyu 2025). Since the flow can move freely along
each fibre {θ : f(θ) = w} (all of it interpolates), it ends at a fibre minimizer, and the predicted
interpolator is argmin R(w) s.t. Zw = y with R the fibre minimum of M. For a coordinate-separable
model with the Gauss–Newton diagonal c_j (∂_k f)² (:mod:`theory.sharpness`),

    R(w) = Σ_j c_j^{1−e} r(w_j),     r(w) = min { Σ_k |∂_k f(θ)|^{2(1−e)} : f(θ) = w },

and ``r`` is what this module derives in closed form. Method (all symbolic, exact):

1. homogeneity: if f(λθ) = λ^D f(θ) for λ > 0 (D ≠ 0), the fibre {f = w} is the image of
   {f = sign(w)} under θ ↦ |w|^{1/D} θ, so r(w) = r(sign w) |w|^{2(1−e)(D−1)/D};
2. faces: split R^m into the 3^m sign faces (each parameter > 0, < 0 or = 0); on a face the
   absolute values resolve and, along the rays θ = ρ (1, t) of a face with one or two free
   parameters, the constraint fixes ρ, leaving a function φ(t) of one variable;
3. candidates: φ on one-parameter faces, and φ at the roots of φ'(t) on two-parameter faces
   (the infimum over a face's closure is attained either inside or on a lower face);
4. r(±1) = the smallest candidate (compared exactly after evaluation to 30 digits).

When a step cannot be carried out symbolically (f not homogeneous, a face with three or more free
parameters, an absolute value whose sign changes inside a face, a root that sympy cannot solve for),
the result says so (``closed_form = None`` with the reason) and callers fall back to a numeric fibre
minimization, labelled as such (:mod:`numerics.fibre`).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation
from theory.parameterizations import Parameterization
from theory.sharpness import SharpnessMeasure, c

w = sp.Symbol("w", real=True)
_lam = sp.Symbol("lambda", positive=True)
_t = sp.Symbol("t", positive=True)
_rho = sp.Symbol("rho", positive=True)


@dataclass
class ImpliedRegularizer:
    """r(w) per coordinate (``closed_form``), or None with ``reason``; R = Σ_j c_j^{1−e} r(w_j)."""

    parameterization: Parameterization
    measure: SharpnessMeasure
    closed_form: sp.Expr | None
    derivation: Derivation
    reason: str = ""
    minimizers: dict = field(default_factory=dict)   # sign → (face, t*) attaining r(±1)

    @property
    def weight(self) -> sp.Expr:
        """The factor c_j^{1−e} multiplying r(w_j) for features with second moment c_j."""
        return c ** self.measure.power


def homogeneity_degree(expr: sp.Expr, params: tuple[sp.Symbol, ...]) -> sp.Expr | None:
    """D with f(λθ) = λ^D f(θ) for λ > 0, or None when f is not positively homogeneous."""
    scaled = expr.subs({p: _lam * p for p in params}, simultaneous=True)
    ratio = sp.simplify(sp.powsimp(sp.expand_power_base(scaled / expr, force=True), force=True))
    if ratio.free_symbols - {_lam}:
        return None
    if ratio == 1:
        return sp.Integer(0)
    base, exponent = ratio.as_base_exp()
    if base != _lam or exponent.free_symbols:
        return None
    return sp.nsimplify(exponent)


def _faces(m: int):
    """Sign patterns (+1, −1, 0) with one or more non-zero parameters, fewest free parameters first."""
    faces = [s for s in itertools.product((1, -1, 0), repeat=m) if any(s)]
    return sorted(faces, key=lambda s: sum(1 for x in s if x))


def _face_label(params, face) -> str:
    sym = {1: "> 0", -1: "< 0", 0: "= 0"}
    return ", ".join(f"{p} {sym[s]}" for p, s in zip(params, face))


class _NoClosedForm(Exception):
    pass


def _candidates_on_face(f, grads, params, face, sign, power, D):
    """Candidate values of min Σ_k |∂_k f|^{2a} on {f = sign} ∩ face (a = power), with argmins."""
    free = [i for i, s in enumerate(face) if s]
    if len(free) > 2:
        raise _NoClosedForm(f"face ({_face_label(params, face)}) has {len(free)} free parameters; "
                            f"the closed-form search handles at most 2")
    # Ray parameterization: θ_i = s_i ρ for the first free parameter, s_j ρ t for the second.
    ray = {p: 0 for p in params}
    ray[params[free[0]]] = face[free[0]] * _rho
    if len(free) == 2:
        ray[params[free[1]]] = face[free[1]] * _rho * _t
    f_ray = sp.simplify(f.subs(ray, simultaneous=True) / _rho**D)       # f(ray) = ρ^D f_ray(t)
    if f_ray.has(_rho):
        raise _NoClosedForm("the model is not homogeneous along a face ray")
    g_terms = []
    for g in grads:
        gi = g.subs(ray, simultaneous=True)
        if gi.has(sp.zoo, sp.nan, sp.oo):
            return []                                   # the measure is infinite on this face
        g_terms.append(sp.Abs(sp.simplify(gi)) ** (2 * power))
    g_ray = sp.simplify(sp.powsimp(sp.Add(*g_terms).subs(_rho, 1), force=True))
    if g_ray.has(sp.Abs):
        raise _NoClosedForm(f"the sign of a partial derivative changes inside the face "
                            f"({_face_label(params, face)})")
    # On the constraint, ρ^D f_ray(t) = sign ⇒ ρ = (sign·f_ray)^{−1/D}; the measure is homogeneous
    # of degree 2a(D−1), so the value along the ray is φ(t) = g_ray(t) (sign·f_ray(t))^{−2a(D−1)/D}.
    kappa = 2 * power * (D - 1) / D
    signed = sign * f_ray
    phi = sp.simplify(g_ray * signed ** (-kappa))
    if len(free) == 1:
        if not signed.is_positive:
            return []
        return [(sp.nsimplify(phi) if phi.is_number else phi, face, None)]
    dphi = sp.together(sp.diff(phi, _t))
    numer = sp.numer(dphi)
    try:
        roots = [sol[_t] for sol in sp.solve(numer, _t, dict=True) if _t in sol]
    except NotImplementedError as exc:
        raise _NoClosedForm(f"sympy cannot solve φ'(t) = 0 on face ({_face_label(params, face)})") \
            from exc
    out = []
    for r in roots:
        if not (r.is_real and r.is_positive):
            continue
        sv = sp.simplify(signed.subs(_t, r))
        if sv.is_positive:
            out.append((sp.simplify(phi.subs(_t, r)), face, r))
    return out


def derive_implied_regularizer(param: Parameterization, measure: SharpnessMeasure) -> ImpliedRegularizer:
    return _derive(param, measure)


@lru_cache(maxsize=64)
def _derive(param: Parameterization, measure: SharpnessMeasure) -> ImpliedRegularizer:
    a = measure.power
    d = Derivation(f"Implied regularizer of {measure.name} on w = {param.text()}")
    d.step("Sharpness measure (Li, Wen, Lyu 2025 family, e = "
           f"{sp.sstr(measure.exponent)}): M(θ) = Σ_k H_kk^(1−e)", measure.definition())
    d.step("Gauss–Newton diagonal at interpolation, per coordinate: H = c (∂_k f)² "
           "(theory.sharpness); contribution of one coordinate:", measure.per_coordinate(param))
    d.step("It factorizes as c^(1−e) · Σ_k |∂_k f|^(2(1−e)); minimize the second factor over the "
           "fibre f(θ) = w:", sp.Add(*[sp.Abs(g) ** (2 * a) for g in param.gradient]))

    def fail(reason: str) -> ImpliedRegularizer:
        d.step(f"No closed form: {reason}. The value must be computed by a numeric fibre "
               "minimization (labelled numeric).")
        return ImpliedRegularizer(param, measure, None, d, reason)

    D = homogeneity_degree(param.expr, param.params)
    if D is None or D == 0:
        return fail("f is not positively homogeneous of a non-zero degree"
                    if D is None else "f is homogeneous of degree 0 (fibres are cones)")
    kappa = sp.nsimplify(2 * a * (D - 1) / D)
    d.step(f"f is positively homogeneous of degree D = {D}: f(λθ) = λ^D f(θ). The fibre f = w is "
           f"|w|^(1/D)·(fibre f = sign w), and the measure has degree 2(1−e)(D−1), so "
           f"r(w) = r(sign w)·|w|^κ with κ = 2(1−e)(D−1)/D =", kappa)
    values, minimizers = {}, {}
    for sign in (1, -1):
        cands = []
        try:
            for face in _faces(param.m):
                cands.extend(_candidates_on_face(param.expr, param.gradient, param.params, face,
                                                 sign, a, D))
        except _NoClosedForm as exc:
            return fail(str(exc))
        if not cands:
            values[sign] = None
            d.step(f"No point of any face reaches f = {sign}: the fibre is empty for sign(w) = {sign}.")
            continue
        best = min(cands, key=lambda cand: sp.N(cand[0], 30))
        values[sign] = sp.nsimplify(sp.simplify(best[0]))
        minimizers[sign] = (best[1], best[2])
        listed = sp.Matrix([sp.simplify(x[0]) for x in cands])
        d.step(f"Candidates for r({sign}) on the faces (minimum on each face ray):", listed)
        where = _face_label(param.params, best[1]) + ("" if best[2] is None else f", t = {best[2]}")
        d.step(f"r({sign}) = smallest candidate, attained on ({where}):", values[sign])
    if values[1] is None and values[-1] is None:
        return fail("no parameter value reaches f = ±1")
    symmetric = values[1] is not None and values[-1] is not None and \
        sp.simplify(values[1] - values[-1]) == 0
    if symmetric and D > 1:   # θ = 0 lies on the fibre f = 0 with measure 0, the limit of K|w|^κ
        R = values[1] * sp.Abs(w) ** kappa
    else:
        pieces = []
        if values[1] is not None:
            pieces.append((values[1] * w**kappa, w > 0))
        if values[-1] is not None:
            pieces.append((values[-1] * (-w) ** kappa, w < 0))
        if D > 1:
            pieces.append((sp.Integer(0), sp.Eq(w, 0)))
        pieces.append((sp.oo, True))   # outside the range of f: the fibre is empty
        R = sp.Piecewise(*pieces)
    d.result("regularizer", R, "Per-coordinate implied regularizer r(w) (weight c^(1−e) per "
                               "coordinate for features with second moment c):")
    d.result("total", c ** a * R, "Contribution of one coordinate with feature second moment c:")
    return ImpliedRegularizer(param, measure, R, d, minimizers=minimizers)
