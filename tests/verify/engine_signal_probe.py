"""A subprocess for tests/verify/test_interrupts.py: ``run_claims`` with ``jobs=2`` (a LocalCluster)
over two stand-in claims, the first done at once, the second printing ``ready <worker pid>`` and then
blocked in ``time.sleep`` inside its worker; signals routed as by ``python -m verify``; the JSON
report at argv[1]. Exits with run_claims's status."""
import os
import sys
import time

from verify.interrupts import route_sigint_to_main

if __name__ == "__main__":
    route_sigint_to_main()

from verify.outcome import Check, Outcome  # noqa: E402
from verify.registry import Claim  # noqa: E402
from verify.runner import run_claims  # noqa: E402


def done(ctx):
    return Outcome.from_checks([Check("value", 0.0, "<=", 1.0)])


def blocked(ctx):
    print(f"ready {os.getpid()}", flush=True)
    time.sleep(3600)
    return Outcome.error("not reached")


if __name__ == "__main__":
    claims = [Claim("probe-done", "done", "probe", "probe", "finishes at once", done, lambda: None),
              Claim("probe-blocked", "blocked", "probe", "probe", "sleeps", blocked, lambda: None)]
    sys.exit(run_claims(claims, json_path=sys.argv[1], seeds=[0], jobs=2))
