"""CPU time of S separate label-noise runs against the same runs as one block-diagonal stack.

The setting of ``li2025-adam-sparser-than-sgd`` (w = u²−v², Gaussian features n = 5, d = 16, 2-sparse
w*, ±2 label noise, Adam without bias correction, 1−β₂ = η = 0.02): S instances trained one after
the other with :func:`numerics.diagonal_nets.train` vs once through
:mod:`numerics.instance_stack` (exactly the same maths). CPU seconds from time.process_time.

    python bench/bench_instance_stack.py [--instances 8] [--steps 2000] [--replicas 2]
"""
from __future__ import annotations

import argparse
import time

from numerics.diagonal_nets import AdamFamily, DiagonalNetProblem, balanced_init, train
from numerics.instance_stack import stack_instances, stacked_optimizer
from numerics.sparse_regression import sparse_instance
from theory.parameterizations import quadratic_difference


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=8)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--replicas", type=int, default=2)
    args = ap.parse_args()
    q, eta, S, R = quadratic_difference(), 0.02, args.instances, args.replicas
    adam = AdamFamily(0.9, 1 - eta, 1e-8, 0.5)
    instances = [sparse_instance(5, 16, (1.0, -0.8), "gaussian", seed=s)[:2] for s in range(S)]

    t0 = time.process_time()
    for Z, y in instances:
        problem = DiagonalNetProblem(q, Z, y)
        train(problem, balanced_init(problem, [0.5] * R), adam, eta, args.steps, label_noise=2.0)
    separate = time.process_time() - t0

    t0 = time.process_time()
    stack = stack_instances(q, instances)
    opt, eta_stack = stacked_optimizer(adam, eta, S)
    train(stack, balanced_init(stack, [0.5] * R), opt, eta_stack, args.steps, label_noise=2.0)
    stacked = time.process_time() - t0
    print(f"{S} instances × {R} replicas × {args.steps} Adam steps (CPU s): separate {separate:.2f}, "
          f"stacked {stacked:.2f}, speed-up {separate / stacked:.1f}×")


if __name__ == "__main__":
    main()
