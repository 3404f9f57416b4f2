"""The sign-test power calculation: exact values, and a number of instances that reaches the power."""
import math

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
    from verify.experiments.li2025 import QUICK_INSTANCES, SPARSER, TEST_ERROR_EFFECT

    assert QUICK_INSTANCES == instances_for_power(TEST_ERROR_EFFECT, power=0.8)
    assert SPARSER.quick.instances == QUICK_INSTANCES
