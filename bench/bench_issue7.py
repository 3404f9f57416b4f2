"""Issue 7 claims (Slutzky 2025 SSM poisoning + Adam extension, Cao 2021, Wang 2023) in one profile.

Run: python bench/bench_issue7.py [--profile quick|full] [--seed 0]
Each claim's check runs in this one process (imports and symbolic derivations are counted in the
first claim that needs them, as in ``python -m verify all``). Printed per claim: status, wall and
process-CPU seconds and the process's peak resident set size so far (ru_maxrss: a claim that needs
more memory than the ones before it raises it); then the total, and the 1-minute load average
before and after, since other processes may share the 2 cores (CPU seconds are what the checks
cost; wall is what a user waits).
"""
from __future__ import annotations

import argparse
import os
import resource
import time

CLAIMS = ("slutzky2025-ssm-clean-label-poisoning", "slutzky2025-poisoning-beyond-gradient-flow",
          "cao2021-benign-overfitting-max-margin", "wang2023-tnn-adversarial-low-rank")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024     # Linux: kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", choices=("quick", "full"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    load0 = os.getloadavg()[0]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    from verify.context import Context
    from verify.registry import get

    print(f"profile {args.profile}, {os.cpu_count()} cores, load average (1 min) {load0:.2f}")
    print(f"{'claim':48s} {'status':12s} {'wall s':>8s} {'cpu s':>8s} {'peak MB':>8s}")
    for claim_id in CLAIMS:
        wall, cpu = time.perf_counter(), time.process_time()
        outcome = get(claim_id).check(Context(profile=args.profile, seed=args.seed))
        print(f"{claim_id:48s} {outcome.status:12s} {time.perf_counter() - wall:8.1f} "
              f"{time.process_time() - cpu:8.1f} {_peak_mb():8.0f}", flush=True)
    print(f"{'total (with imports)':48s} {'':12s} {time.perf_counter() - wall0:8.1f} "
          f"{time.process_time() - cpu0:8.1f}")
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
