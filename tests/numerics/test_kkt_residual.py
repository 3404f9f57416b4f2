"""KKT residuals at points whose KKT status is known in closed form.

One neuron, squared ReLU, one sample x = 1, y = 1: f = u·ReLU(w)², L = 3. Under ℓ∞ the margin problem
min ½max(|w|,|u|)² s.t. u w² ≥ 1 is solved at (1, 1) with λ = 1/3 (u ∈ ∂ = conv{(1,0),(0,1)}); under
ℓ2 the KKT point is u = 2^{-1/3}, w = √2·u (from (w, u) = λ(2uw, w²)). Each is KKT in its own norm
only, which is the negative control the claims rely on.
"""
import numpy as np
from hypothesis import assume, given, settings, strategies as st
import pytest

from numerics.kkt_residual import NotSeparatedError, UnsupportedNormError, kkt_residual, normalize
from numerics.networks import TwoLayerNetwork
from numerics.run_status import RunStatus
from theory.norms import BlockMax, parse_norm

NET = TwoLayerNetwork.build("squared_relu", 1, 1)
X, Y = np.array([[1.0]]), np.array([1.0])
L2, LINF, SP = parse_norm("l2", "binary"), parse_norm("linf", "binary"), parse_norm("spectral")
U2 = 2 ** (-1 / 3)
LINF_POINT = (np.array([[1.0]]), np.array([[1.0]]))
L2_POINT = (np.array([[np.sqrt(2) * U2]]), np.array([[U2]]))


@pytest.mark.parametrize("scale", [1.0, 7.5, 1e-3])
def test_own_norm_kkt_points_have_zero_residual(scale):
    scaled = lambda p: tuple(scale * a for a in p)
    assert kkt_residual(NET, scaled(L2_POINT), X, Y, L2).residual < 1e-8
    r = kkt_residual(NET, scaled(LINF_POINT), X, Y, LINF)
    assert r.residual < 1e-6 and r.tolerance == 0.0
    assert np.allclose(r.multipliers, [1 / 3], atol=1e-6)
    # the block max of the two 1×1 spectral norms is the same norm as ℓ∞ here
    assert kkt_residual(NET, scaled(LINF_POINT), X, Y, BlockMax((SP, SP), (1.0, 1.0))).residual < 1e-6


def test_other_norms_reject_them():
    assert kkt_residual(NET, LINF_POINT, X, Y, L2).residual > 0.1
    assert kkt_residual(NET, L2_POINT, X, Y, LINF).residual > 0.1


def test_near_ties_are_charged_their_gap():
    near = (np.array([[1.0]]), np.array([[0.99]]))      # ties broken by 1%
    r = kkt_residual(NET, near, X, Y, LINF)
    assert 0.0 < r.residual < 0.05 and r.tolerance == pytest.approx(0.01, rel=1e-6)


def test_normalization_and_errors():
    theta, q = normalize(NET, (np.array([[2.0]]), np.array([[2.0]])), X, Y)
    assert np.isclose(q.min(), 1.0) and np.isclose(NET.margins(theta, X, Y).min(), 1.0)
    with pytest.raises(NotSeparatedError):
        kkt_residual(NET, (np.array([[1.0]]), np.array([[-1.0]])), X, Y, L2)
    with pytest.raises(UnsupportedNormError):
        kkt_residual(TwoLayerNetwork.build("squared_relu", 2, 2), (np.eye(2), np.ones((1, 2))), np.eye(2),
                     np.ones(2), BlockMax((parse_norm("schatten:3"), SP), (1.0, 1.0)))  # a 2×2 Schatten-3 block
    with pytest.raises(UnsupportedNormError):
        kkt_residual(NET, LINF_POINT, X, Y, SP)


def test_l1_kkt_point():
    """Under ℓ1, min ½(|w| + |u|)² s.t. u w² ≥ 1: w + 1/w² is least at w = 2^(1/3), u = 2^(−2/3), where
    ‖θ‖₁·(1, 1) = λ(2uw, w²) with λ = 3·2^(−4/3). KKT in ℓ1 only."""
    point = (np.array([[2 ** (1 / 3)]]), np.array([[2 ** (-2 / 3)]]))
    r = kkt_residual(NET, point, X, Y, parse_norm("l1", "binary"))
    assert r.residual < 1e-6 and np.allclose(r.multipliers, [3 * 2 ** (-4 / 3)], atol=1e-5)
    assert kkt_residual(NET, point, X, Y, L2).residual > 0.1
    assert kkt_residual(NET, point, X, Y, LINF).residual > 0.1
    assert kkt_residual(NET, L2_POINT, X, Y, parse_norm("l1", "binary")).residual > 0.1


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
def test_lp_kkt_points_are_kkt_in_their_own_norm_only(p):
    """Under ℓp, min ½‖(w, u)‖_p² s.t. u w² ≥ 1: stationarity (w^(p−1), u^(p−1)) ∝ (2uw, w²) gives
    w = 2^(1/p)·u, and the constraint u = 2^(−2/(3p)) (p = 2: L2_POINT; p → ∞: LINF_POINT)."""
    u = 2 ** (-2 / (3 * p))
    point = (np.array([[2 ** (1 / p) * u]]), np.array([[u]]))
    others = [q for q in (1.0, 1.5, 2.0, 3.0) if q != p]
    assert kkt_residual(NET, point, X, Y, parse_norm(f"lp:{p:g}", "binary")).residual < 1e-6
    for q in others:
        assert kkt_residual(NET, point, X, Y, parse_norm(f"lp:{q:g}", "binary")).residual > 0.08
    assert kkt_residual(NET, point, X, Y, LINF).residual > 0.2


def test_l1_entries_near_zero_are_freed_and_charged():
    """The ℓ1 KKT point with a second neuron of weights 1e-4: taken as zero at τ ≥ 1e-4 (their
    subgradient free in [−1, 1]) the residual is the charged share of the norm, 1.06e-4; with τ = 0
    their signs are forced and no multiplier fits (residual ≈ 1)."""
    net = TwoLayerNetwork.build("squared_relu", 2, 1)
    point = (np.array([[2 ** (1 / 3)], [1e-4]]), np.array([[2 ** (-2 / 3), 1e-4]]))
    l1 = parse_norm("l1", "binary")
    r = kkt_residual(net, point, X, Y, l1)
    assert r.residual < 2e-4 and r.tolerance == pytest.approx(r.residual, rel=1e-6)
    assert kkt_residual(net, point, X, Y, l1, taus=(0.0,)).residual > 0.9


def test_nuclear_block_max_kkt_point():
    """Two neurons, x_i = e_i, y_i = 1, W = a·I, u = (b, b): under max(‖W‖_*, c‖u‖₂) with the blocks
    tied (2a = c√2·b) the subgradient (t·I, (1 − t)·c(1, 1)/√2) meets λ(2ab·I, a²(1, 1)) at t = 2/3,
    so the point is KKT. At W = diag(a₁, a₂), a₁ ≠ a₂ (u keeping the margins equal) the W-block of
    Σλ_i∇q_i is ∝ diag(b₁²/a₁, b₂²/a₂), never ∝ I = ∂‖W‖_*: not KKT for any weight c."""
    net, Xe, ye = TwoLayerNetwork.build("squared_relu", 2, 2), np.eye(2), np.ones(2)
    nuclear = parse_norm("nuclear")
    a, b = 1.3, 0.8
    tied = BlockMax((nuclear, L2), (1.0, np.sqrt(2) * a / b))
    r = kkt_residual(net, (a * np.eye(2), np.array([[b, b]])), Xe, ye, tied)
    assert r.residual < 1e-6 and r.status is RunStatus.OK and r.accurate
    asymmetric = (np.diag([1.0, 0.7]), np.array([[1.0, (1.0 / 0.7) ** 2]]))
    for c in np.geomspace(0.1, 10.0, 9):
        assert kkt_residual(net, asymmetric, Xe, ye, BlockMax((nuclear, L2), (1.0, c))).residual > 0.3
    # a third, unused neuron and input coordinate: W = diag(a, a, 0) has rank 2 < 3, so ∂‖W‖_* has
    # the free part U_⊥ Z V_⊥ᵀ (‖Z‖_sp ≤ 1); Z = 0 fits
    net3 = TwoLayerNetwork.build("squared_relu", 3, 3)
    r = kkt_residual(net3, (np.diag([a, a, 0.0]), np.array([[b, b, 0.0]])), np.eye(3)[:2], ye, tied)
    assert r.residual < 1e-6


@pytest.mark.parametrize("cosine, muon_kkt", [(0.0, True), (-0.1, False), (-0.5, False)])
def test_two_equal_orthogonal_neurons_are_kkt_for_l2_and_muons_norm(cosine, muon_kkt):
    """Two unit inputs at angle arccos(c) ≤ 90°, labels ±1; w_j = a·x_j, u = (b, −b) with a = √2·b is an
    ℓ2 KKT point (each neuron sees only its own point; ‖w_j‖ = √2|u_j|). For c = 0 the rows of W are
    orthogonal of equal norm, so W/(2σ) ∈ ∂‖W‖_sp and ‖W‖_sp = ‖u‖₂: the ℓ2 conditions give those of
    max{‖W‖_sp, ‖u‖_sp} with weight 2/3 on W (the digits' case, README). For c < 0 the singular
    values differ and only ℓ2 holds (measured: 0.095 at c = −0.1, 0.50 at c = −0.5)."""
    net = TwoLayerNetwork.build("squared_relu", 2, 2)
    Xc, yc = np.array([[1.0, 0.0], [cosine, np.sqrt(1 - cosine ** 2)]]), np.array([1.0, -1.0])
    b = 0.7
    point = (np.sqrt(2) * b * Xc, np.array([[b, -b]]))
    assert kkt_residual(net, point, Xc, yc, L2).residual < 1e-8
    muon = kkt_residual(net, point, Xc, yc, BlockMax((SP, SP), (1.0, 1.0))).residual
    assert (muon < 1e-6) if muon_kkt else (muon > 0.05)
    assert kkt_residual(net, point, Xc, yc, LINF).residual > 0.2


def test_relu_kkt_point_with_kinks():
    """The idealized KKT network of theory.robustness (orthogonal means: every neuron sits on the kink
    of the other class's points) has a zero residual; dropping the kink freedom keeps it zero because
    σ'(0) = 0 is a valid Clarke choice here."""
    from theory.robustness import K_NEG, K_POS, RHO, double_edged_sword_derivation
    k, rho = 4, 2.0
    means = rho * np.eye(k)
    labels = np.array([1.0, -1.0, 1.0, -1.0])
    values = {RHO: rho, K_POS: 2, K_NEG: 2}
    sol = {str(e.lhs): float(e.rhs.subs(values)) for e in double_edged_sword_derivation().results["kkt_solution"]}
    W = np.stack([sol["alpha_+"] * means[labels > 0].sum(0), sol["alpha_-"] * means[labels < 0].sum(0)])
    u = np.array([[sol["beta_+"], -sol["beta_-"]]])
    net = TwoLayerNetwork.build("relu", 2, k)
    assert np.allclose(net.margins((W, u), means, labels), 1.0)
    assert kkt_residual(net, (W, u), means, labels, L2).residual < 1e-6
    assert kkt_residual(net, (W, u), means, labels, LINF).residual > 0.1




@pytest.fixture(scope="module")
def muon_like_point():
    """W of 4×40 after 300 steps of normalized steepest descent in its spectral block max (the
    nuclear-norm cone has side 44 > LARGE_PSD_SIDE); residual ≈ 0.06 at τ = 0.03, not the trivial λ = 0
    value 1."""
    from numerics.network_data import gaussian_clusters
    from numerics.optim import PowerSchedule, TransformOptimizer, nsd
    from numerics.train import Member
    from numerics.train_network import train_network
    block = BlockMax((SP, SP), (1.0, 1.0))
    X, y = gaussian_clusters(2, 40, 6, 0.3, seed=0)
    net = TwoLayerNetwork.build("squared_relu", 4, 40)
    member = Member(lambda ps: TransformOptimizer(ps, nsd(block, PowerSchedule(0.5, 0.7)), "muon-like"))
    point = train_network(net, X, y, {"m": member}, 300, net.init(0, 0.1), record=[300])["m"].params[-1]
    return net, point, X, y, block


def test_large_spectral_blocks_go_to_scs_with_the_clarabel_residual(monkeypatch, muon_like_point):
    import numerics.kkt_residual as kr
    net, point, X, y, block = muon_like_point
    scs = kkt_residual(net, point, X, y, block, taus=(0.03,))
    assert scs.solver == "scs" and scs.accurate and 0.01 < scs.residual < 0.5
    monkeypatch.setattr(kr, "LARGE_PSD_SIDE", 10**6)
    clarabel = kkt_residual(net, point, X, y, block, taus=(0.03,))
    assert clarabel.solver == "clarabel" and clarabel.accurate
    assert scs.residual == pytest.approx(clarabel.residual, rel=1e-6)
    assert scs.lower_bound == pytest.approx(clarabel.lower_bound, rel=1e-6)


def test_the_lower_bound_is_a_checked_dual_point_not_the_solvers_objective(monkeypatch, muon_like_point):
    """A solver stopped early that reports "optimal" (SCS after 5 iterations): its objective, the old
    `lower_bound`, exceeds the residual that accurate multipliers achieve, so it certified nothing. The
    bound from the dual point this module checks stays below it; on the accurate solve it is within
    1e-6 of the achieved residual (a closed duality gap)."""
    import warnings
    import numerics.kkt_residual as kr
    net, point, X, y, block = muon_like_point
    exact = kkt_residual(net, point, X, y, block, taus=(0.03,))
    assert exact.residual * (1 - 1e-6) <= exact.lower_bound <= exact.residual
    objectives = []

    def truncated(problem, cp, psd_side=0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            problem.solve(solver=cp.SCS, max_iters=5, eps=1e-9)
        objectives.append(problem.value)
        return "optimal", "scs"

    monkeypatch.setattr(kr, "_solve", truncated)
    sabotaged = kkt_residual(net, point, X, y, block, taus=(0.03,))
    assert max(objectives) > exact.residual * 1.05                  # the old rule's "certified" bound
    assert sabotaged.tolerance <= sabotaged.lower_bound <= exact.residual
    assert sabotaged.residual >= exact.residual * (1 - 1e-6)       # still an achieved value


def test_a_dual_point_that_is_not_feasible_certifies_nothing(muon_like_point):
    """The checker itself: a direction with a negative multiplier coefficient and no slack (W = θ̂,
    ⟨∇q_i, θ̂⟩ = L q_i > 0 for every i) gives −∞; the nnls path's certified bound matches its residual."""
    import numerics.kkt_residual as kr
    from numerics.kkt_residual import DualData
    flat = NET.flatten(L2_POINT)
    J, _ = NET.margin_jacobian(L2_POINT, X, Y)
    data = DualData(["l2"], [flat.shape], [slice(0, 2)], [1.0], [lambda W: float(flat @ W) / np.linalg.norm(flat)],
                    J, np.zeros(0, dtype=int), np.zeros((0, 2)), np.zeros(1), 0.0, float(np.linalg.norm(flat)), flat)
    assert data.bound(flat) == -np.inf
    assert data.bound(-flat) <= 0.0
    off = kkt_residual(NET, LINF_POINT, X, Y, L2)
    assert off.residual * (1 - 1e-9) <= off.lower_bound <= off.residual and off.lower_bound > 0.1


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(1e-2, 1e2), norm_text=st.sampled_from(["l1", "lp:3", "linf", "l2"]))
def test_residual_is_scale_and_permutation_invariant_and_at_most_one(seed, scale, norm_text):
    """Properties of the residual on random separating points (any norm of θ): it does not see the
    scale of θ (the parameters are normalized first) nor the order of the hidden neurons, and λ = 0
    bounds it by 1 (stationarity ‖u‖_*/‖θ̂‖ = 1, no slackness)."""
    rng = np.random.default_rng(seed)
    net = TwoLayerNetwork.build("squared_relu", 3, 2)
    X = rng.standard_normal((4, 2))
    W, u = rng.standard_normal((3, 2)), rng.standard_normal((1, 3))
    f = net.margins((W, u), X, np.ones(4))
    assume(np.all(np.abs(f) > 1e-6))                              # no point with every neuron off
    y = np.sign(f)                                                # labels the point separates
    norm = parse_norm(norm_text, "binary")
    r = kkt_residual(net, (W, u), X, y, norm).residual
    perm = rng.permutation(3)
    assert r <= 1.0 + 1e-6          # up to the conic solver's accuracy (r is re-evaluated from its λ)
    assert kkt_residual(net, (scale * W, scale * u), X, y, norm).residual == pytest.approx(r, abs=1e-6)
    assert kkt_residual(net, (W[perm], u[:, perm]), X, y, norm).residual == pytest.approx(r, abs=1e-6)


@pytest.mark.parametrize("text, status", [("optimal", RunStatus.OK), ("optimal_inaccurate", RunStatus.INACCURATE),
                                          ("user_limit", RunStatus.ERROR), ("solver error: boom", RunStatus.ERROR)])
def test_the_solvers_status_becomes_a_run_status_and_its_text_the_message(monkeypatch, text, status):
    """The conic solve's own words (cvxpy's) are read once, by ``RunStatus.from_solver``: optimal is
    OK (accurate, no message), anything else keeps the solver's text as the message; the residual is
    still the one the returned multipliers achieve (the point is ℓ∞-KKT)."""
    import numerics.kkt_residual as kr
    solve = kr._solve

    def reported(problem, cp, psd_side=0):
        solve(problem, cp, psd_side)             # the real solve: the multipliers are there
        return text, "clarabel"

    monkeypatch.setattr(kr, "_solve", reported)
    r = kkt_residual(NET, LINF_POINT, X, Y, LINF)
    assert r.status is status and r.accurate == (status is RunStatus.OK)
    assert r.message == ("" if status is RunStatus.OK else text) and r.residual < 1e-6
    assert r.as_dict()["status"] == status.value and r.as_dict()["message"] == r.message


def test_a_status_outside_the_enumeration_is_rejected_where_the_record_is_written():
    from numerics.kkt_residual import KKTResidual
    made = KKTResidual("l2", 0.0, 0.0, 0.0, 0.0, 1, "nnls", "inaccurate")
    assert made.status is RunStatus.INACCURATE
    for bad in ("optimal", "optimal_inaccurate", ""):        # the solver's words, not run statuses
        with pytest.raises(ValueError, match="unknown run status"):
            KKTResidual("l2", 0.0, 0.0, 0.0, 0.0, 1, "nnls", bad)
