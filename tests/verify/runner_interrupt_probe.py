"""A subprocess for tests/verify/test_interrupts.py: ``run_claims`` over two stand-in claims, the
first done at once, the second blocked in ``time.sleep`` (prints "ready" first), with the JSON
report at argv[1]; signals are routed as by ``python -m verify``. Exits with run_claims's status."""
import sys
import time

from verify.interrupts import route_sigint_to_main

route_sigint_to_main()

from verify.outcome import Outcome  # noqa: E402
from verify.registry import Claim  # noqa: E402
from verify.runner import run_claims  # noqa: E402


def blocked(ctx):
    print("ready", flush=True)
    time.sleep(3600)
    return Outcome.error("not reached")


claims = [Claim("probe-done", "done", "probe", "probe", "finishes at once",
                lambda ctx: Outcome.error("stand-in"), lambda: None),
          Claim("probe-blocked", "blocked", "probe", "probe", "sleeps", blocked, lambda: None)]
sys.exit(run_claims(claims, json_path=sys.argv[1]))
