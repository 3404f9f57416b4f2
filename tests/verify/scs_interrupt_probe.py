"""A subprocess for tests/verify/test_interrupts.py: one SCS solve of a few seconds (it runs to its
iteration cap), with or without ``route_sigint_to_main``. Prints "ready" before the solve; exits 3
if the solve raised SolverError (SCS took the Ctrl-C), 130 on KeyboardInterrupt, 0 if neither."""
import sys

if sys.argv[1] == "routed":
    from verify.interrupts import route_sigint_to_main
    route_sigint_to_main()

import numpy as np  # noqa: E402
import cvxpy as cp  # noqa: E402

rng = np.random.default_rng(0)
A, b = rng.standard_normal((60, 40)), rng.standard_normal(60)
x = cp.Variable(40)
problem = cp.Problem(cp.Minimize(cp.norm(A @ x - b)), [x >= 0, cp.sum(x) <= 1])
print("ready", flush=True)
try:
    try:
        problem.solve(solver=cp.SCS, eps_abs=1e-16, eps_rel=1e-16, max_iters=int(sys.argv[2]),
                      acceleration_lookback=0)
    except cp.SolverError:
        sys.exit(3)
    import time
    time.sleep(0.5)                 # a KeyboardInterrupt still on its way arrives here
except KeyboardInterrupt:
    sys.exit(130)
