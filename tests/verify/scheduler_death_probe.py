"""A subprocess for tests/verify/test_interrupts_cluster.py: ``run_claims`` on the Dask cluster at
argv[1] over two stand-in claims, the first done at once, the second writing the file argv[3] from
its worker and then blocked in ``time.sleep``; signals routed as by ``python -m verify``; the JSON
report at argv[2]. Exits with run_claims's status."""
import sys
import time
from pathlib import Path

from verify.interrupts import route_sigint_to_main

if __name__ == "__main__":
    route_sigint_to_main()

from verify.outcome import Check, Outcome  # noqa: E402
from verify.registry import Claim  # noqa: E402
from verify.runner import run_claims  # noqa: E402


def done(ctx):
    return Outcome.from_checks([Check("value", 0.0, "<=", 1.0)])


def blocked(ctx, mark=None):
    Path(mark).write_text("started")
    time.sleep(3600)
    return Outcome.error("not reached")


if __name__ == "__main__":
    mark = sys.argv[3]
    claims = [Claim("probe-done", "done", "probe", "probe", "finishes at once", done, lambda: None),
              Claim("probe-blocked", "blocked", "probe", "probe", "sleeps",
                    lambda ctx, mark=mark: blocked(ctx, mark), lambda: None)]
    sys.exit(run_claims(claims, json_path=sys.argv[2], seeds=[0], scheduler=sys.argv[1]))
