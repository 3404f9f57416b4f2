"""theory.tproduct: the symbolic t-product facts against numpy/scipy."""
import numpy as np
import pytest
import sympy as sp
from scipy.fft import dct

from theory.tproduct import dct_matrix, dft_matrix, tproduct_derivation


def test_dft_tube_product_is_numeric_circular_convolution():
    der = tproduct_derivation(4)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    syms = sorted(der.results["dft_tube_product"].free_symbols, key=lambda s: s.name)
    values = dict(zip(syms, list(a) + list(b)))
    product = np.array([complex(e.subs(values)) for e in der.results["dft_tube_product"]])
    expected = np.real(np.fft.ifft(np.fft.fft(a) * np.fft.fft(b)))
    assert np.allclose(product, expected, atol=1e-12)
    assert der.results["dct_gram"] == sp.eye(4)


@pytest.mark.parametrize("c", [2, 3, 5])
def test_dct_matrix_is_scipys_orthonormal_dct(c):
    C = np.array(dct_matrix(c).evalf(), dtype=float)
    assert np.allclose(C, dct(np.eye(c), norm="ortho", axis=0), atol=1e-14)
    assert np.allclose(C @ C.T, np.eye(c), atol=1e-14)


def test_dft_matrix_matches_numpy():
    F = np.array(dft_matrix(5).evalf(), dtype=complex)
    assert np.allclose(F, np.fft.fft(np.eye(5), axis=0), atol=1e-12)
