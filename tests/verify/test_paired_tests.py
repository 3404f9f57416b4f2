"""The sign-test power calculation: exact values, and a number of instances that reaches the power."""
import math

import numpy as np

import pytest

from verify.paired_tests import instances_for_power, sign_interval, sign_test_power


def test_power_of_a_certain_win_is_one_once_the_interval_can_clear_half():
    # all m instances won: the lower end is 0.025^(1/m) > ½ iff m ≥ 6
    assert sign_interval(5, 0)[1] < 0.5 < sign_interval(6, 0)[1]
    assert sign_test_power(1.0, 5) == 0.0 and sign_test_power(1.0, 6) == 1.0
    assert math.isclose(sign_test_power(0.9, 6), 0.9**6, rel_tol=1e-12)


@pytest.mark.parametrize("p, power", [(0.8, 0.8), (0.7, 0.9)])
def test_instances_for_power_reach_the_power_and_fewer_do_not(p, power):
    S = instances_for_power(p, power)
    assert S > 0 and sign_test_power(p, S) >= power
    assert sign_test_power(p, S - 1) < power or sign_test_power(p, S - 2) < power


def test_no_effect_needs_no_instances_and_ties_need_more():
    assert instances_for_power(0.5) == 0 and instances_for_power(0.3) == 0
    assert instances_for_power(0.8, 0.8, tie_fraction=0.5) >= 2 * instances_for_power(0.8, 0.8) - 1


def test_vectorized_power_equals_the_interval_one_instance_count_at_a_time():
    from scipy import stats

    for m in (7, 20):
        direct = sum(stats.binom.pmf(k, m, 0.7) for k in range(m + 1) if sign_interval(k, m - k)[1] > 0.5)
        assert math.isclose(sign_test_power(0.7, m), direct, rel_tol=1e-12)


def test_the_sparse_comparison_uses_the_derived_number_of_instances():
    from verify.experiments.li2025 import (ALL_SEEDS_POWER, QUICK_INSTANCES, QUICK_SEEDS,
                                           SPARSER, SPARSITY_EFFECT, TEST_ERROR_EFFECT,
                                           TIE_FRACTION)

    per_seed = ALL_SEEDS_POWER ** (1 / QUICK_SEEDS)
    need = [instances_for_power(p, per_seed, tie_fraction=TIE_FRACTION)
            for p in (TEST_ERROR_EFFECT, SPARSITY_EFFECT)]
    assert QUICK_INSTANCES == max(need) and 0 not in need
    assert SPARSER.quick.instances == QUICK_INSTANCES


def test_runs_at_the_same_interpolator_are_ties_not_losses():
    """Both methods recover w* on most instances but Adam's endpoint is 1e-3 off (the resolution of
    a label-noise run): the 1e-6 value rule counts each as an SGD win and the comparison cannot
    clear ½; with the same-interpolator rule they are ties, and real wins still decide. A genuine
    loss (a different interpolator) is still a loss, and a NaN endpoint is never "the same"."""
    from verify.paired_tests import paired_sign, same_solution

    rng = np.random.default_rng(0)
    S, d = 60, 8
    w_star = np.zeros((S, d)); w_star[:, 0], w_star[:, 1] = 1.0, -0.8
    sgd = w_star.copy()
    adam = w_star + 1e-3 * rng.standard_normal((S, d))        # same interpolator, slightly noisy
    sgd[:20, 2] = 0.5                                          # SGD elsewhere on 20 instances: Adam wins
    risk_a = np.sum((adam - w_star) ** 2, axis=1)
    risk_s = np.sum((sgd - w_star) ** 2, axis=1)
    old = paired_sign(risk_a, risk_s)
    assert old[2] < 0.5                                        # 20 wins, 40 "losses": contradicted
    same = same_solution(adam[None], sgd[None], 0.05)
    assert same.sum() == 40
    new = paired_sign(risk_a, risk_s, same=same)
    assert new[0] == 1.0 and new[1] > 0.5                      # 20 wins, 0 losses
    worse = adam.copy(); worse[20:25, 3] = 0.4                 # Adam at another interpolator: losses
    same = same_solution(worse[None], sgd[None], 0.05)
    risk_w = np.sum((worse - w_star) ** 2, axis=1)
    f, lo, hi = paired_sign(risk_w, risk_s, same=same)
    assert f == 20 / 25 and not same[20:25].any()
    bad = adam.copy(); bad[0] = np.nan
    assert not same_solution(bad[None], sgd[None], 0.05)[0]
