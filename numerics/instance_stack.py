"""Independent regression instances trained as one block-diagonal problem (exactly equivalent).

S instances (Z_s, y_s) of the same size n × d are stacked into one problem with the block-diagonal
feature matrix diag(Z_1, ..., Z_S) (S·n samples, S·d coordinates) and labels (y_1, ..., y_S). Its
loss is (1/(S·n)) Σ_i (…)² = (1/S) Σ_s L_s, so the gradient on block s is (1/S) ∇L_s, and fresh
per-sample label noise stays independent per sample. Hence, exactly, and step for step:

- GD / label-noise SGD with step η on each instance  =  GD on the stack with step S·η;
- Adam x −= η m/(v^e + ε) on each instance  =  the same update on the stack with ε·S^{−2e}
  (m scales by 1/S and v by 1/S², so m/(v^e + ε') = S^{2e−1} m_s/(v_s^e + ε) when ε' = ε S^{−2e};
  for e = ½ this is the identity, otherwise the step is rescaled by S^{1−2e}, returned here).

This only makes many small runs cost one vectorized pass (the per-step overhead of
:func:`numerics.diagonal_nets.train` dominates at these sizes); the coordinates of instance s are
``blocks(w)[s]``. ``tests/numerics/test_instance_stack.py`` checks the equivalence against
per-instance training.
"""
from __future__ import annotations

import numpy as np

from numerics.diagonal_nets import GD, AdamFamily, DiagonalNetProblem


def stack_instances(param, instances) -> DiagonalNetProblem:
    """One problem from instances [(Z_s, y_s), ...] of equal shape, block-diagonally."""
    shapes = {np.shape(Z) for Z, _ in instances}
    if len(shapes) != 1:
        raise ValueError(f"instances must share the shape of Z, got {sorted(shapes)}")
    (n, d), S = shapes.pop(), len(instances)
    Z = np.zeros((S * n, S * d))
    for s, (Zs, _) in enumerate(instances):
        Z[s * n:(s + 1) * n, s * d:(s + 1) * d] = Zs
    return DiagonalNetProblem(param, Z, np.concatenate([np.asarray(y, float) for _, y in instances]))


def stacked_optimizer(optimizer, eta: float, S: int):
    """(optimizer, η) on the stack of S instances that equals ``optimizer`` with step η on each."""
    if isinstance(optimizer, GD):
        return optimizer, S * eta
    if isinstance(optimizer, AdamFamily) and optimizer.block == 1:
        e = optimizer.exponent
        rescaled = AdamFamily(optimizer.beta1, optimizer.beta2, optimizer.eps * S ** (-2 * e), e,
                              optimizer.block, optimizer.name)
        return rescaled, eta * S ** (1 - 2 * e)
    raise ValueError(f"no exact stacking rule for {optimizer!r} (GD and per-coordinate Adam only)")


def blocks(w: np.ndarray, S: int) -> np.ndarray:
    """(..., S·d) stacked coordinates → (..., S, d), one row per instance."""
    w = np.asarray(w)
    return w.reshape(*w.shape[:-1], S, w.shape[-1] // S)


def instance_problem(problem: DiagonalNetProblem, s: int, S: int) -> DiagonalNetProblem:
    """Instance s of a stack of S (its diagonal block (Z_s, y_s)) as a problem of its own."""
    n, d = problem.n // S, problem.d // S
    return DiagonalNetProblem(problem.param, problem.Z[s * n:(s + 1) * n, s * d:(s + 1) * d],
                              problem.y[s * n:(s + 1) * n])


def instance_residuals(problem: DiagonalNetProblem, P: np.ndarray, S: int) -> np.ndarray:
    """‖Z_s w_s − y_s‖/‖y_s‖ per replica and instance, shape (..., S) (S = 1: the whole problem)."""
    r = blocks(problem.residual(P), S)
    return np.linalg.norm(r, axis=-1) / np.linalg.norm(blocks(problem.y, S), axis=-1)
