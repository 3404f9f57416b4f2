"""The implied regularizer R(w) = min { M(θ) : f(θ) = w } of a sharpness measure on a parameterization.

Near the manifold of interpolators, label-noise SGD and Adam decrease a sharpness measure M(θ)
(Blanc et al. 2020; Li, Wang, Arora 2022; Li, Wen, Lyu 2025). Since the flow can move freely along
each fibre {θ : f(θ) = w} (all of it interpolates), it ends at a fibre minimizer, and the predicted
interpolator is argmin R(w) s.t. Zw = y with R the fibre minimum of M. For a coordinate-separable
model with the Gauss–Newton diagonal c_j (∂_k f)² (:mod:`theory.sharpness`),

    R(w) = Σ_j c_j^{1−e} r(w_j),     r(w) = min { Σ_k |∂_k f(θ)|^{2(1−e)} : f(θ) = w },

and ``r`` is what this module derives in closed form, by one of two routes, each stating the
argument that certifies global optimality:

1. structure (any number of parameters): f = Σ_i g_i, monomials g_i = C_i ∏ θ_k^{a_k} in disjoint
   parameters (products of N factors, u^N − v^N, sums and differences of products: the depth-N
   diagonal networks of Woodworth et al. 2020). Each term's fibre problem is a geometric program
   (x_k = log|θ_k|: linear constraint, convex objective), so its stationary point is the global
   minimum; the minimizer is unique, hence invariant under the permutations of parameters with equal
   exponents, and is solved in one variable per orbit: r_i(s) = K_i|s|^{κ_i}. The terms' values
   s_i with Σ s_i = w are then split optimally: all on one term when every κ_i ≤ 1 (a concave
   function is minimal at a vertex of the simplex), in closed form when the κ_i are equal and > 1
   (a convex problem, stationary point global).
2. face rays (at most two parameters, any homogeneous f): split R^m into sign faces, parameterize
   each face by rays, solve φ'(t) = 0 (sympy) and take the smallest candidate. sympy's ``solve`` has
   no time bound, so this route runs in a worker process under a time budget (``BUDGET_SECONDS``);
   past it the answer is "no closed form within the budget" with what was tried.

When neither route applies, ``closed_form`` is None with the reason, and callers fall back to a
numeric fibre minimization, labelled as such (:mod:`numerics.fibre`), which also cross-checks every
closed form (a closed form above a numeric upper bound is wrong).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache

import mpmath
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
    certificate: str = ""                            # the argument that certifies global optimality

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


MAX_DISPLAY_EXPONENT = 24
FINAL = "[final] "   # a structured-route reason after which the face route is not tried


# -- route 1: sums of monomials in disjoint parameters (geometric programs + infimal convolution) --
@dataclass(frozen=True)
class Monomial:
    """g(θ) = C ∏_k θ_k^{a_k} over its own parameters (a_k rational, non-zero)."""

    coeff: sp.Expr
    exponents: tuple[tuple[sp.Symbol, sp.Rational], ...]

    @property
    def degree(self) -> sp.Rational:
        return sp.Add(*[a for _, a in self.exponents])

    @property
    def polynomial(self) -> bool:
        return all(a.is_integer and a > 0 for _, a in self.exponents)

    def expr(self) -> sp.Expr:
        return self.coeff * sp.Mul(*[p**a for p, a in self.exponents])

    def signs(self, positive: bool = False) -> tuple[int, ...]:
        """Signs of g reachable with every parameter non-zero (a non-integer power needs θ_k > 0;
        ``positive``: every parameter > 0)."""
        s = 1 if self.coeff.is_positive else -1
        if positive:
            return (s,)
        odd = any(a.is_integer and a % 2 == 1 for _, a in self.exponents)
        return (1, -1) if odd else (s,)

    def orbits(self) -> list[tuple[sp.Rational, tuple[sp.Symbol, ...]]]:
        """Parameters with equal exponents: the permutations of them fix g and the measure Σ_k."""
        groups: dict = {}
        for p, a in self.exponents:
            groups.setdefault(a, []).append(p)
        return [(a, tuple(ps)) for a, ps in groups.items()]


def monomial_terms(expr: sp.Expr, params) -> list[Monomial] | str:
    """The terms of f as monomials in pairwise disjoint parameter sets, or the reason they are not.

    Structural only (no expansion, no simplification), so it costs time linear in the expression."""
    terms, seen = [], set()
    for term in sp.Add.make_args(expr):
        coeff, exps = sp.Integer(1), {}
        for factor in sp.Mul.make_args(term):
            if factor.is_number:
                coeff *= factor
                continue
            base, e = factor.as_base_exp()
            if not (isinstance(base, sp.Symbol) and base in params and e.is_Rational):
                return f"the factor {sp.sstr(factor)} is not a power of one parameter"
            exps[base] = exps.get(base, 0) + e
        exps = {p: a for p, a in exps.items() if a != 0}
        if not exps:
            return "f has a constant term"
        if not (coeff.is_real and coeff.is_nonzero):
            return f"the coefficient {sp.sstr(coeff)} is not a non-zero real number"
        if seen & set(exps):
            shared = ", ".join(sorted(str(p) for p in seen & set(exps)))
            return f"the parameter(s) {shared} appear in more than one term"
        seen |= set(exps)
        terms.append(Monomial(coeff, tuple((p, exps[p]) for p in params if p in exps)))
    return terms


@dataclass(frozen=True)
class TermMinimum:
    """r_g(s) = K |s|^κ for s ≠ 0 of a reachable sign; r_g(0) = ``at_zero`` (None: not derived)."""

    K: sp.Expr
    kappa: sp.Rational
    signs: tuple[int, ...]
    at_zero: sp.Expr | None


def monomial_fibre_minimum(g: Monomial, power: sp.Rational, d: Derivation | None = None,
                           label: str = "g", positive: bool = False) -> TermMinimum | str:
    """min Σ_k |∂_k g|^{2a} on {g = s}, s ≠ 0, for a monomial g (a = ``power``), as a geometric program.

    With x_k = log|θ_k|: ∂_k g = a_k g/θ_k, so on {g = s} the objective is
    Σ_k (|a_k||s|)^{2a} e^{−2a x_k} (a sum of exponentials of affine functions: convex, and strictly
    convex in x) and the constraint Σ_k a_k x_k = log|s/C| is linear. If all a_k have one sign the
    Lagrange conditions |∂_k g|^{2a} = λ|a_k| have the closed-form solution below, which is the unique
    global minimizer; by uniqueness it is fixed by every permutation of parameters with equal
    exponents (the symmetry group of g and of the measure), so it is computed in one variable per
    orbit. Mixed signs: the objective tends to 0 along the fibre (no minimizer), reported as a reason."""
    exps = [a for _, a in g.exponents]
    if any(a > 0 for a in exps) and any(a < 0 for a in exps):
        return (f"{label} = {sp.sstr(g.expr())} has exponents of both signs: the measure tends to 0 "
                f"along its fibres (scale the parameters up together) and has no minimizer")
    A = g.degree
    orbits = g.orbits()
    # Lagrange: T_k = |∂_k g|^{2a} = λ|a_k| with |θ_k| = |a_k||s| T_k^{−1/(2a)}; the constraint
    # |C| ∏ |θ_k|^{a_k} = |s| gives λ = |C|^{2a/A} |s|^{2a(A−1)/A} ∏_k |a_k|^{a_k(2a−1)/A}, and the
    # minimum is Σ_k T_k = |A| λ. (Written so that no power with exponent 1/(2a) is ever expanded:
    # a = 1 − e may be tiny, and 2^(1/(2a)) would be an enormous exact integer.)
    K = sp.Abs(A) * sp.Abs(g.coeff) ** (2 * power / A) * sp.Mul(
        *[sp.Abs(a) ** (len(ps) * a * (2 * power - 1) / A) for a, ps in orbits])
    kappa = 2 * power * (A - 1) / A
    # Check the closed form against its defining equations at two values of s (40 digits, mpmath,
    # whose exponent range takes the extreme |θ| of a tiny a).
    with mpmath.workdps(50):
        mp_a = mpmath.mpf(power.p) / power.q
        mp_K = mpmath.mpf(sp.N(K, 60))
        C = mpmath.mpf(sp.N(sp.Abs(g.coeff), 60))
        for s_val in (mpmath.mpf(3) / 2, mpmath.mpf(7)):
            lam = mp_K / abs(mpmath.mpf(A.p) / A.q) * s_val ** (mpmath.mpf(kappa.p) / kappa.q)
            f_val, obj, ratios = C, 0, []
            for a, ps in orbits:
                am = abs(mpmath.mpf(a.p) / a.q)
                T = lam * am
                th = am * s_val * T ** (-1 / (2 * mp_a))
                f_val *= th ** (len(ps) * mpmath.mpf(a.p) / a.q)
                term = (am * s_val / th) ** (2 * mp_a)
                obj += len(ps) * term
                ratios.append(term / am)
            errs = [abs(f_val / s_val - 1), abs(obj / (mp_K * s_val ** (mpmath.mpf(kappa.p) / kappa.q)) - 1)]
            errs += [abs(r / ratios[0] - 1) for r in ratios]
            if max(errs) > mpmath.mpf(10) ** -30:
                raise RuntimeError(f"the geometric-program solution for {sp.sstr(g.expr())} fails its "
                                   f"own equations (error {mpmath.nstr(max(errs), 3)})")
    s = sp.Symbol("ω", positive=True)
    lam_s = K / sp.Abs(A) * s**kappa
    # |θ| per orbit for display; only when 1/(2a) is a small number (sympy would expand c^(1/(2a))
    # exactly for a rational c, an enormous integer when a is tiny).
    small = abs(1 / (2 * power)) <= MAX_DISPLAY_EXPONENT and power.q <= MAX_DISPLAY_EXPONENT
    theta = {a: (sp.Abs(a) * s * (lam_s * sp.Abs(a)) ** (-1 / (2 * power)) if small else
                 sp.Abs(a) * s * sp.Symbol(f"(λ·{sp.Abs(a)})^(−1/(2(1−e)))")) for a, _ in orbits}
    at_zero = None
    if g.polynomial:
        # A ≥ 2: θ = 0 is on {g = 0} with every partial derivative 0; A = 1: g = Cθ, constant measure.
        at_zero = sp.Integer(0) if A >= 2 else K
    if d is not None:
        orbit_text = "; ".join(f"{{{', '.join(map(str, ps))}}} with exponent {a}" for a, ps in orbits)
        d.step(f"Term {label} = {sp.sstr(g.expr())}: on its face (every parameter ≠ 0) put "
               f"x_k = log|θ_k|; then ∂_k {label} = a_k {label}/θ_k, the constraint {label} = ω is "
               f"linear (Σ a_k x_k = log|ω/C|) and the objective Σ_k (|a_k||ω|)^(2(1−e)) e^(−2(1−e) x_k) "
               f"is convex (strictly, in x): a geometric program, so a stationary point is the unique "
               f"global minimum [certificate: convexity in log coordinates]. Symmetry: permutations "
               f"within the exponent orbits {orbit_text} fix {label} and the measure, hence fix the "
               f"unique minimizer, which has one value |θ| per orbit; the Lagrange conditions "
               f"|∂_k {label}|^(2(1−e)) = λ|a_k|, λ = {sp.sstr(lam_s)}, give, for the target value ω > 0, the "
               f"value |θ_k| per orbit:",
               sp.Matrix([theta[a] for a, _ in orbits]))
        d.step(f"Minimum of the measure on {{{label} = ω}} (checked against the constraint and the "
               f"Lagrange conditions to 40 digits), reachable for sign(ω) ∈ {list(g.signs(positive))}:",
               K * sp.Abs(sp.Symbol("ω", real=True)) ** kappa)
    return TermMinimum(K, kappa, g.signs(positive), at_zero)


def _infimal_convolution(mins: list[TermMinimum], sign: int, d: Derivation, labels: list[str]):
    """min { Σ_i r_i(s_i) : Σ_i s_i = sign·|w| } in closed form (an expression in |w|), or a reason."""
    W = sp.Symbol("|w|", positive=True)
    if any(m.at_zero is None for m in mins) and len(mins) > 1:
        return None, "a term with non-integer or negative exponents has no derived value at 0"
    eligible = [i for i, m in enumerate(mins) if sign in m.signs]
    if not eligible:
        return sp.oo, "empty"
    base = sp.Add(*[m.at_zero for m in mins]) if len(mins) > 1 else sp.Integer(0)
    kappas = [mins[i].kappa for i in eligible]
    if any(k < 0 for k in kappas):
        return None, (f"a term's minimum K|s|^κ decreases in |s| (κ = {min(kappas)} < 0): the split "
                      f"between terms is unbounded")
    if len(mins) == 1:
        i = eligible[0]
        return mins[i].K * W ** mins[i].kappa, "one term"
    pieces = [mins[i].K * W ** mins[i].kappa + base - mins[i].at_zero for i in eligible]
    if all(k <= 1 for k in kappas):
        value = sp.Min(*pieces) if len(pieces) > 1 else pieces[0]
        d.step(f"sign(w) = {sign}: each term's minimum r_i(s) is non-decreasing in |s| (so a term with "
               f"the opposite sign only adds cost) and concave on the half-line (κ_i = "
               f"{', '.join(str(k) for k in kappas)} ≤ 1); a concave function on the simplex "
               f"{{sign·s_i ≥ 0, Σ s_i = w}} is minimal at a vertex: all of w on one term "
               f"[certificate: concave minimization attains a vertex]. Candidates "
               f"({', '.join(labels[i] for i in eligible)}):",
               sp.Matrix(pieces))
        return value, "vertex"
    if len(set(kappas)) == 1:
        k = kappas[0]
        Ks = [mins[i].K for i in eligible]
        value = sp.Add(*[Kx ** (-1 / (k - 1)) for Kx in Ks]) ** (-(k - 1)) * W**k + base
        d.step(f"sign(w) = {sign}: each term's minimum K_i|s|^κ (κ = {k} > 1) is convex, so the split "
               f"of w among the terms {', '.join(labels[i] for i in eligible)} is a convex problem "
               f"whose stationary point (K_i κ |s_i|^(κ−1) equal, s_i ∝ K_i^(−1/(κ−1))) is the global "
               f"minimum [certificate: convex infimal convolution]:", value)
        return value, "split"
    steep = sorted({k for k in kappas if k > 1})
    if all(k >= 1 for k in kappas) and len(steep) == 1:
        # Linear terms (κ = 1, cost K_L|s|) and one group of equal κ > 1 (combined K_G|s|^κ): convex.
        # The group takes all of w while its marginal cost K_G κ |w|^(κ−1) is below K_L, then stays
        # at t* = (K_L/(κ K_G))^(1/(κ−1)) and the cheapest linear term takes the rest.
        k = steep[0]
        group = [mins[i].K for i in eligible if mins[i].kappa == k]
        KG = sp.Add(*[Kx ** (-1 / (k - 1)) for Kx in group]) ** (-(k - 1))
        KL = sp.Min(*[mins[i].K for i in eligible if mins[i].kappa == 1])
        tstar = (KL / (k * KG)) ** (1 / (k - 1))
        value = sp.Piecewise((KG * W**k, W <= tstar), (KL * (W - tstar) + KG * tstar**k, True)) + base
        d.step(f"sign(w) = {sign}: the terms' minima are convex (κ_i = "
               f"{', '.join(str(x) for x in kappas)} ≥ 1), so the split of w is a convex problem; its "
               f"KKT point (marginal costs equal, K_L for the κ = 1 terms) is the global minimum "
               f"[certificate: convex infimal convolution]; the κ = {k} terms carry w up to t* =",
               tstar)
        d.step("and the cheapest κ = 1 term the rest:", value)
        return value, "split"
    return None, (f"the terms' minima have unequal exponents κ = {', '.join(str(k) for k in kappas)} "
                  f"(above and below 1): the split of w among them has no closed form here")


def _structured_route(param, measure, terms, d, positive=False):
    """Closed form for f = Σ_i g_i with monomials g_i in disjoint parameters, or (None, reason)."""
    a = measure.power
    labels = [f"g{i + 1}" for i in range(len(terms))] if len(terms) > 1 else ["f"]
    if len(terms) > 1:
        d.step("f is a sum of monomials in disjoint sets of parameters, f = Σ_i g_i(θ_(i)): the "
               "measure splits the same way, so r(w) = min { Σ_i r_i(s_i) : Σ_i s_i = w } with r_i "
               "the fibre minimum of term i [exact: the fibre problem decouples once the values "
               "s_i = g_i are fixed]:", sp.Matrix([t.expr() for t in terms]))
    else:
        d.step("f is a single monomial C ∏_k θ_k^(a_k):", terms[0].expr())
    mins = []
    for g, label in zip(terms, labels):
        m = monomial_fibre_minimum(g, a, d, label, positive)
        if isinstance(m, str):
            return None, m
        mins.append(m)
    falling = [(i, j) for i, mi in enumerate(mins) for j, mj in enumerate(mins)
               if i != j and mi.kappa < 0 and mj.kappa < 0
               and any(-sg in mj.signs for sg in mi.signs)]
    if falling:
        falling = sorted({labels[k] for pair in falling for k in pair})
        # Not final for the face route, but the face route cannot do better than this statement.
        return None, FINAL + (f"the fibre minimum K|s|^κ of {', '.join(falling)} decreases as |s| "
                              f"grows (κ < 0), so splitting w into large opposite parts lowers the "
                              f"measure: the infimum over the fibre is not attained")
    W = sp.Symbol("|w|", positive=True)
    values, hows = {}, set()
    for sign in (1, -1):
        val, how = _infimal_convolution(mins, sign, d, labels)
        if val is None:
            return None, how
        values[sign] = val
        hows.add(how)
    zero = None
    if all(m.at_zero is not None for m in mins):
        reach_zero = len(mins) > 1 or terms[0].polynomial
        zero = sp.Add(*[m.at_zero for m in mins]) if reach_zero else sp.oo
    if len(mins) == 1 and not terms[0].polynomial:
        d.step("f has non-integer or negative exponents: r(0) is not derived (the closed form is for "
               "w ≠ 0)")
    absw = sp.Abs(w)
    if values[1] == values[-1] and zero is not None and \
            sp.simplify(values[1].subs(W, 0) - zero) == 0:
        R = values[1].subs(W, absw)
    else:
        pieces = []
        for sign, cond in ((1, w > 0), (-1, w < 0)):
            pieces.append((values[sign].subs(W, sign * w), cond))
        pieces.append((zero if zero is not None else sp.nan, True))
        R = sp.Piecewise(*pieces)
    if values[1] == sp.oo and values[-1] == sp.oo:
        return None, "no parameter value reaches f ≠ 0"
    cert = "convexity in log coordinates (geometric program)"
    if len(terms) > 1:
        cert += " per term; split of w: " + " and ".join(
            {"vertex": "concave minimization at a vertex", "split": "convex infimal convolution",
             "empty": "", "one term": ""}[h] for h in sorted(hows) if h in ("vertex", "split"))
    return R, cert


# -- route 2: rays through the sign faces (at most two free parameters), run under a time budget ---
BUDGET_SECONDS = 10.0


def _face_route(param: Parameterization, measure: SharpnessMeasure, d: Derivation, progress):
    """(R, minimizers) by homogeneity and face rays, or raise _NoClosedForm with the reason."""
    a = measure.power
    progress("homogeneity degree of f")
    D = homogeneity_degree(param.expr, param.params)
    if D is None or D == 0:
        raise _NoClosedForm("f is not positively homogeneous of a non-zero degree"
                            if D is None else "f is homogeneous of degree 0 (fibres are cones)")
    if param.m > 2:
        raise _NoClosedForm(f"face ({_face_label(param.params, (1,) * param.m)}) has {param.m} free "
                            f"parameters; the ray search handles at most 2 and f is not a sum of "
                            f"monomials in disjoint parameters")
    kappa = sp.nsimplify(2 * a * (D - 1) / D)
    d.step(f"f is positively homogeneous of degree D = {D}: f(λθ) = λ^D f(θ). The fibre f = w is "
           f"|w|^(1/D)·(fibre f = sign w), and the measure has degree 2(1−e)(D−1), so "
           f"r(w) = r(sign w)·|w|^κ with κ = 2(1−e)(D−1)/D =", kappa)
    values, minimizers = {}, {}
    for sign in (1, -1):
        cands = []
        for face in _faces(param.m):
            progress(f"face ({_face_label(param.params, face)}), sign {sign:+d}: solving φ'(t) = 0")
            cands.extend(_candidates_on_face(param.expr, param.gradient, param.params, face,
                                             sign, a, D))
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
        d.step(f"r({sign}) = smallest candidate, attained on ({where}) [certificate: every face is "
               f"searched and on a face the candidates include all interior critical points]:",
               values[sign])
    if values[1] is None and values[-1] is None:
        raise _NoClosedForm("no parameter value reaches f = ±1")
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
    return R, minimizers


def _face_route_child(conn, param, measure, budget):
    import math
    import resource

    # The budget is CPU time (the same answer on a loaded and an idle machine); the kernel ends the
    # worker with SIGXCPU when it is used up.
    seconds = max(1, math.ceil(budget))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    d = Derivation("face route")
    try:
        R, mins = _face_route(param, measure, d, lambda text: conn.send(("progress", text)))
        conn.send(("done", (R, mins, d.steps, "")))
    except _NoClosedForm as exc:
        conn.send(("done", (None, {}, d.steps, str(exc))))
    except Exception as exc:   # noqa: BLE001 - reported to the parent as a reason
        conn.send(("done", (None, {}, d.steps, f"the face search failed ({type(exc).__name__})")))
    finally:
        conn.close()


def _face_route_budgeted(param, measure, budget: float):
    """Run :func:`_face_route` in a forked worker; past ``budget`` seconds stop it and say so.

    Returns (R or None, minimizers, steps, reason). The worker is this process's own fork and its
    result comes back over a pipe; nothing a user typed is unpickled or evaluated."""
    import multiprocessing as mp
    import time

    try:
        ctx = mp.get_context("fork")
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_face_route_child, args=(child, param, measure, budget),
                           daemon=True)
        proc.start()
    except (AssertionError, ValueError, OSError):
        # No child processes here (e.g. inside a daemon worker): run in-process, unbounded.
        d = Derivation("face route")
        try:
            R, mins = _face_route(param, measure, d, lambda text: None)
            return R, mins, d.steps, ""
        except _NoClosedForm as exc:
            return None, {}, d.steps, str(exc)
    child.close()
    deadline = time.monotonic() + max(1.5 * budget, budget + 5)   # wall-clock backstop
    last = "starting"
    tried = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not parent.poll(left):
                break
            try:
                kind, payload = parent.recv()
            except EOFError:     # the worker was ended by its CPU limit (or died)
                break
            if kind == "progress":
                last = payload
                tried.append(payload)
                continue
            proc.join(timeout=5)
            return payload
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)
        parent.close()
    return None, {}, [], (f"no closed form within the {budget:g} s budget of CPU time (tried: "
                          f"homogeneity, {len(tried)} face step(s) of the ray search; stopped at: "
                          f"{last})")


def derive_implied_regularizer(param: Parameterization, measure: SharpnessMeasure,
                               budget: float = BUDGET_SECONDS, positive: bool = False
                               ) -> ImpliedRegularizer:
    """r(w) in closed form with the argument that certifies it, or None with the reason."""
    return _derive(param, measure, float(budget), bool(positive))


@lru_cache(maxsize=64)
def _derive(param: Parameterization, measure: SharpnessMeasure, budget: float,
            positive: bool = False) -> ImpliedRegularizer:
    a = measure.power
    d = Derivation(f"Implied regularizer of {measure.name} on w = {param.text()}"
                   + (" (every parameter > 0)" if positive else ""))
    d.step("Sharpness measure (Li, Wen, Lyu 2025 family, e = "
           f"{sp.sstr(measure.exponent)}): M(θ) = Σ_k H_kk^(1−e)", measure.definition())
    d.step("Gauss–Newton diagonal at interpolation, per coordinate: H = c (∂_k f)² "
           "(theory.sharpness); contribution of one coordinate:", measure.per_coordinate(param))
    d.step("It factorizes as c^(1−e) · Σ_k |∂_k f|^(2(1−e)); minimize the second factor over the "
           "fibre f(θ) = w:", sp.Add(*[sp.Abs(g) ** (2 * a) for g in param.gradient]))

    def done(R, certificate, minimizers=None):
        d.result("regularizer", R, "Per-coordinate implied regularizer r(w) (weight c^(1−e) per "
                                   "coordinate for features with second moment c):")
        d.result("total", c ** a * R, "Contribution of one coordinate with feature second moment c:")
        return ImpliedRegularizer(param, measure, R, d, minimizers=minimizers or {},
                                  certificate=certificate)

    terms = monomial_terms(param.expr, param.params)
    if isinstance(terms, str):
        tried = [f"monomial structure: {terms}"]
    else:
        R, why = _structured_route(param, measure, terms, d, positive)
        if R is not None:
            d.step(f"Global optimality certified by: {why}.")
            return done(R, why)
        final = why.startswith(FINAL)
        why = why.removeprefix(FINAL)
        tried = [f"geometric program: {why}"]
        d.step(f"The monomial route stops: {why}.")
        if final:
            d.step(f"No closed form: {why}. The value must be computed by a numeric fibre "
                   "minimization (labelled numeric).")
            return ImpliedRegularizer(param, measure, None, d, why)
    if positive:
        why = "restricted to positive parameters, only the monomial route applies"
        d.step(f"No closed form: {'; '.join(tried)}; {why}.")
        return ImpliedRegularizer(param, measure, None, d, f"{'; '.join(tried)}; {why}")
    R, mins, steps, why = _face_route_budgeted(param, measure, budget)
    d.steps.extend(steps)
    if R is not None:
        return done(R, "exhaustive search of the sign faces", mins)
    tried.append(f"face rays: {why}")
    reason = "; ".join(tried) if "budget" not in why else why + f"; before that, {tried[0]}"
    d.step(f"No closed form: {reason}. The value must be computed by a numeric fibre "
           "minimization (labelled numeric).")
    return ImpliedRegularizer(param, measure, None, d, reason)
