"""A subprocess for tests/verify/test_interrupts_cluster.py: ``run_claims`` with ``jobs=2`` (a
LocalCluster) over two stand-in claims that block in ``time.sleep``; signals routed as by
``python -m verify``; the JSON report at argv[1], written (empty) just before the cluster starts.
Exits with run_claims's status."""
import sys
import time

from verify.interrupts import route_sigint_to_main

if __name__ == "__main__":
    route_sigint_to_main()

from verify.outcome import Outcome  # noqa: E402
from verify.registry import Claim  # noqa: E402
from verify.runner import run_claims  # noqa: E402


def blocked(ctx):
    time.sleep(3600)
    return Outcome.error("not reached")


if __name__ == "__main__":
    claims = [Claim(f"probe-blocked-{i}", "blocked", "probe", "probe", "sleeps", blocked, lambda: None)
              for i in range(2)]
    sys.exit(run_claims(claims, json_path=sys.argv[1], seeds=[0], jobs=2))
